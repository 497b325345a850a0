"""Traits of how a body moves, measured on short windows of a dance: the realism model's features.

A window is `WINDOW_S` seconds of joint positions at the judge's 30 fps (y up, metres), windows
start every `HOP_S` seconds. Each trait is something people do that a procedural dancer tends not
to (issue 16's measurements): they straighten their legs, keep their hands moving, vary their pace,
stand wide, twist and lean the torso, turn, lift their feet. Every trait is measured in the body's
own frame or vertically, so it does not depend on where the dancer stands or which way it faces.

`TRAITS` names them in order, with the words a report uses for a dance that is low or high on one.
`window_traits` computes all of them for a batch of clips at once, vectorised over windows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from a2a_cli.motion.skeleton import (
    L_ANKLE, L_ELBOW, L_FOOT, L_HIP, L_KNEE, L_SHOULDER, L_WRIST, NECK, PELVIS, R_ANKLE, R_ELBOW, R_FOOT,
    R_HIP, R_KNEE, R_SHOULDER, R_WRIST,
)
from a2a_cli.scoring.constants import JUDGE_FPS

__all__ = ["HOP_S", "TRAITS", "Trait", "WINDOW_S", "trait_names", "window_size", "window_starts", "window_traits"]

WINDOW_S = 2.0  # long enough for a step, a turn or a phrase of the arms; short enough to see variety
HOP_S = 1.0
_STILL_M_S = 0.1  # a wrist slower than this is still
_LAG_RANGE_S = (0.25, 1.0)  # the periodicity of body speed is sought over these lags (beats of 60-240 BPM)


@dataclass(frozen=True)
class Trait:
    """One measured trait: its name, unit, what a dance far below or above people's range is doing
    (in words, for a report's reasons), and `log_floor`: for a trait that cannot be negative, the
    realism model reads it as log(value + log_floor) (None: as it is). On a log scale a hand that
    is never slower than 1 mm/s is as far from people's 40 mm/s as 1.6 m/s is, which is how it looks."""

    name: str
    unit: str
    low: str
    high: str
    log_floor: float | None = None


TRAITS: tuple[Trait, ...] = (
    Trait("least_knee_bend", "deg", "knees locked straight", "knees never straighten", 1.0),
    Trait("mean_knee_bend", "deg", "legs held straight", "knees bent all the time", 1.0),
    Trait("slow_hand_speed", "m/s", "hands stop dead between moves", "hands never slow down", 0.01),
    Trait("hand_still_fraction", "", "hands never rest", "hands held still much of the time", 0.02),
    Trait("hand_bursts", "", "hands move at one even speed", "hands move in bursts from stillness", 0.0),
    Trait("speed_periodicity", "", "no regular pulse in the body's speed", "metronomic, machine-like timing"),
    Trait("speed_variation", "", "the body moves at one constant pace", "the body's pace jumps between stop and go", 0.01),
    Trait("stance_width", "m", "feet kept together", "feet spread unusually wide", 0.01),
    Trait("arm_leg_coupling", "", "arms and legs move against each other", "arms tied to the opposite legs"),
    Trait("torso_twist", "deg", "the torso never twists against the hips", "the torso stays twisted", 1.0),
    Trait("twist_range", "deg", "no twist of the torso", "the torso twists wildly", 1.0),
    Trait("side_lean", "deg", "the torso never leans", "the torso leans wildly", 0.2),
    Trait("turning_rate", "rad/s", "the body never turns", "the body spins without pause", 0.02),
    Trait("foot_lift", "m", "feet never leave the floor", "feet lifted very high", 0.01),
    Trait("mean_elbow_bend", "deg", "arms held straight", "arms folded all the time", 1.0),
    Trait("hand_height", "m", "hands hang low", "hands held high all the time"),
    Trait("pelvis_bounce", "m", "no bounce in the body", "the body bobs up and down hard", 0.002),
    Trait("left_right_hands", "", "the hands move unlike each other", "the hands mirror each other exactly"),
    Trait("pose_change", "m", "the pose hardly changes", "the pose changes wildly", 0.005),
    Trait("travel_speed", "m/s", "rooted to one spot", "running across the floor", 0.01),
)


def trait_names() -> list[str]:
    """The trait names in the order of `window_traits`' columns."""
    return [t.name for t in TRAITS]


def window_size(n_frames: int, fps: float = JUDGE_FPS) -> int:
    """Frames in each window of a clip of `n_frames`: `WINDOW_S`, or the whole clip when it is shorter."""
    return min(int(round(WINDOW_S * fps)), n_frames)


def window_starts(n_frames: int, fps: float = JUDGE_FPS) -> np.ndarray:
    """First frame of each window of a clip of `n_frames` frames: every `HOP_S` from its start while
    a whole window fits (a clip shorter than a window is one window); none under 3 frames."""
    if n_frames < 3:
        return np.zeros(0, dtype=np.int64)
    size, hop = window_size(n_frames, fps), int(round(HOP_S * fps))
    return np.arange(0, n_frames - size + 1, hop, dtype=np.int64)


def _angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle in degrees between vectors a and b (..., 3)."""
    cos = np.sum(a * b, axis=-1) / np.maximum(np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1), 1e-9)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def _bend(joints: np.ndarray, upper: int, middle: int, lower: int) -> np.ndarray:
    """Flexion in degrees at joint `middle`: 0 for a straight limb. joints (..., 24, 3)."""
    return _angle(joints[..., middle, :] - joints[..., upper, :], joints[..., lower, :] - joints[..., middle, :])


def _heading(vector: np.ndarray) -> np.ndarray:
    """Horizontal direction (radians about y) of left-to-right vectors (..., 3)."""
    return np.arctan2(vector[..., 2], vector[..., 0])


def _wrap(angle: np.ndarray) -> np.ndarray:
    return (angle + np.pi) % (2 * np.pi) - np.pi


def _corr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation along the last axis; 0 where either series is constant."""
    a = a - a.mean(axis=-1, keepdims=True)
    b = b - b.mean(axis=-1, keepdims=True)
    denominator = np.sqrt(np.sum(a * a, axis=-1) * np.sum(b * b, axis=-1))
    return np.where(denominator > 1e-12, np.sum(a * b, axis=-1) / np.maximum(denominator, 1e-12), 0.0)


def _periodicity(speed: np.ndarray, fps: float) -> np.ndarray:
    """Highest normalised autocorrelation of each window's speed (..., n) over `_LAG_RANGE_S` lags."""
    x = speed - speed.mean(axis=-1, keepdims=True)
    n = x.shape[-1]
    energy = np.sum(x * x, axis=-1)
    lo, hi = int(round(_LAG_RANGE_S[0] * fps)), min(int(round(_LAG_RANGE_S[1] * fps)), n - 2)
    best = np.full(x.shape[:-1], -1.0)
    for lag in range(lo, hi + 1):
        r = np.sum(x[..., lag:] * x[..., :-lag], axis=-1) * n / (n - lag)
        best = np.maximum(best, r)
    return np.where(energy > 1e-12, best / np.maximum(energy, 1e-12), 0.0)


def window_traits(joints: np.ndarray, fps: float = JUDGE_FPS, floor: np.ndarray | float | None = None) -> np.ndarray:
    """Every trait of `TRAITS` for every window of every clip: (B, W, len(TRAITS)) float64.

    joints: (B, T, 24, 3) or (T, 24, 3) world joint positions in metres, y up, at `fps` (the judge's
    30 fps: the windows and lags are counted in frames of it); floor: the floor height per clip (m;
    default the lowest foot joint's 5th percentile over the clip, grounding.floor_height's rule).
    A (T, 24, 3) input gives (W, len(TRAITS)). A clip shorter than a window is one window.
    """
    joints = np.asarray(joints, dtype=np.float64)
    single = joints.ndim == 3
    if single:
        joints = joints[None]
    b, t = joints.shape[:2]
    starts = window_starts(t, fps)
    size = window_size(t, fps)
    if starts.size == 0:
        out = np.zeros((b, 0, len(TRAITS)))
        return out[0] if single else out
    if floor is None:
        lowest = joints[:, :, [L_ANKLE, R_ANKLE, L_FOOT, R_FOOT], 1].min(axis=2)
        floor = np.percentile(lowest, 5.0, axis=1)
    floor = np.broadcast_to(np.asarray(floor, dtype=np.float64), (b,))
    w = joints[:, starts[:, None] + np.arange(size)]  # (B, W, n, 24, 3)
    speed = np.linalg.norm(np.diff(w, axis=2), axis=-1) * fps  # (B, W, n-1, 24)

    knees = np.stack([_bend(w, L_HIP, L_KNEE, L_ANKLE), _bend(w, R_HIP, R_KNEE, R_ANKLE)], axis=-1)  # (B, W, n, 2)
    elbows = np.stack([_bend(w, L_SHOULDER, L_ELBOW, L_WRIST), _bend(w, R_SHOULDER, R_ELBOW, R_WRIST)], axis=-1)
    hands = speed[..., [L_WRIST, R_WRIST]]  # (B, W, n-1, 2)
    hand_all = hands.reshape(*hands.shape[:2], -1)
    body = speed.mean(axis=-1)  # (B, W, n-1): the kinetic velocity

    hips = w[..., R_HIP, :] - w[..., L_HIP, :]
    shoulders = w[..., R_SHOULDER, :] - w[..., L_SHOULDER, :]
    twist = np.degrees(_wrap(_heading(shoulders) - _heading(hips)))  # (B, W, n)
    heading = np.unwrap(_heading(hips), axis=-1)
    # Side lean: the spine's tilt towards the hips' left-right axis, in degrees.
    spine = w[..., NECK, :] - w[..., PELVIS, :]
    across = hips / np.maximum(np.linalg.norm(hips, axis=-1, keepdims=True), 1e-9)
    lean = np.degrees(np.arcsin(np.clip(np.sum(spine * across, axis=-1) / np.maximum(np.linalg.norm(spine, axis=-1), 1e-9), -1, 1)))

    feet_height = np.minimum(w[..., [L_ANKLE, R_ANKLE], 1], w[..., [L_FOOT, R_FOOT], 1]) - floor[:, None, None, None]
    ankles = w[..., L_ANKLE, :] - w[..., R_ANKLE, :]
    root_relative = w - w[..., PELVIS : PELVIS + 1, :]
    mean_pose = root_relative.mean(axis=2, keepdims=True)
    pelvis_path = w[..., PELVIS, :][..., [0, 2]]
    travel = np.linalg.norm(pelvis_path[:, :, -1] - pelvis_path[:, :, 0], axis=-1) / ((size - 1) / fps)

    hand_mean = hand_all.mean(axis=-1)
    columns = [
        knees.min(axis=2).min(axis=-1),
        knees.mean(axis=(2, 3)),
        np.percentile(hand_all, 10.0, axis=-1),
        (hands < _STILL_M_S).all(axis=-1).mean(axis=-1),
        hand_all.max(axis=-1) / np.maximum(hand_mean, 1e-6),
        _periodicity(body, fps),
        body.std(axis=-1) / np.maximum(body.mean(axis=-1), 1e-6),
        np.linalg.norm(ankles[..., [0, 2]], axis=-1).mean(axis=-1),
        0.5 * (_corr(speed[..., L_WRIST], speed[..., R_ANKLE]) + _corr(speed[..., R_WRIST], speed[..., L_ANKLE])),
        np.abs(twist).mean(axis=-1),
        twist.max(axis=-1) - twist.min(axis=-1),
        lean.std(axis=-1),
        np.abs(np.diff(heading, axis=-1)).mean(axis=-1) * fps,
        feet_height.max(axis=(2, 3)),
        elbows.mean(axis=(2, 3)),
        (w[..., [L_WRIST, R_WRIST], 1] - w[..., [PELVIS], 1]).mean(axis=(2, 3)),
        w[..., PELVIS, 1].std(axis=-1),
        _corr(speed[..., L_WRIST], speed[..., R_WRIST]),
        np.linalg.norm(root_relative - mean_pose, axis=-1).mean(axis=(2, 3)),
        travel,
    ]
    out = np.stack(columns, axis=-1)
    return out[0] if single else out
