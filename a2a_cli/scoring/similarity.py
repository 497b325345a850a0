"""Similarity between dances: error to a reference dance, the original subnet's reward, copy detection.

Two dances to the same song can both be good and still differ by 20 cm per joint, so similarity to
one reference is only a small term of the validator score (composite.py), and a near-exact match
is treated as a replayed reference, not as a perfect answer (see `REPLAY_TOLERANCE_M` and
`replay_distance`, which a moved, lifted, turned, delayed or lightly noised copy cannot dodge).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from a2a_cli.motion.skeleton import L_COLLAR, L_HIP, N_JOINTS, PELVIS, R_COLLAR, R_HIP
from a2a_cli.scoring.smoothing import gaussian_filter1d

from a2a_cli.scoring.constants import JUDGE_FPS, REPLAY_MAX_SHIFT_S, REPLAY_TOLERANCE_M  # the replay policy lives there

__all__ = [
    "DUPLICATE_TOLERANCE_M", "FINGERPRINT_SAMPLES", "ORIGINAL_JOINTS", "ORIGINAL_RMSE_LIMIT_CM",
    "ORIGINAL_TIMEOUT_S", "ORIGINAL_UNKNOWN_TIME_S", "OriginalSubnetScore", "REPLAY_SMOOTHING_S", "align",
    "aligned_joint_error", "fingerprint_distance", "motion_fingerprint", "near_duplicate",
    "original_subnet_score", "replay_distance",
]
# Jitter added to a copy is smoothed away before comparing (a dance hardly changes in 1/15 s).
REPLAY_SMOOTHING_S = 1.0 / 15.0
# Two miners' answers closer than this (after alignment and resampling) are the same dance.
DUPLICATE_TOLERANCE_M = 0.03
FINGERPRINT_SAMPLES = 64


def _heading(joints: np.ndarray) -> float:
    """Yaw (radians about y) of the hip line (left hip minus right hip) at the first frame."""
    hips = joints[0, L_HIP] - joints[0, R_HIP]
    return float(np.arctan2(-hips[2], hips[0]))


def align(joints: np.ndarray) -> np.ndarray:
    """Joints (T, 24, 3) with the root's frame-0 floor position at the origin and the hips facing +x.

    Height is kept: the floor is common to every motion, so floating stays visible in the error.
    """
    j = np.asarray(joints, dtype=np.float64)
    if j.shape[0] == 0:
        return j
    shifted = j - np.array([j[0, PELVIS, 0], 0.0, j[0, PELVIS, 2]])
    yaw = _heading(shifted)
    c, s = np.cos(-yaw), np.sin(-yaw)
    rot_y = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
    return shifted @ rot_y.T


def aligned_joint_error(joints: np.ndarray, reference: np.ndarray) -> float:
    """Mean per-joint position error (m) after aligning both dances' root and heading at frame 0,
    over the frames both have (the frame-count gate judges length separately)."""
    n = min(len(joints), len(reference))
    if n == 0:
        return float("inf")
    diff = align(joints[:n]) - align(reference[:n])
    return float(np.linalg.norm(diff, axis=-1).mean())


def replay_distance(joints: np.ndarray, reference: np.ndarray, fps: float = JUDGE_FPS) -> float:
    """How far (m) an answer is from being a copy of the reference: the least, over time shifts of
    up to `REPLAY_MAX_SHIFT_S`, of the mean joint distance between the two dances' root-relative
    poses, smoothed over `REPLAY_SMOOTHING_S`, after the one turn about the vertical that fits best.

    Root-relative poses ignore where the root is at every frame (a lift, a slide, a new path);
    the fitted turn ignores a turned copy; the smoothing averages away added jitter (1 cm of noise
    on every joint adds under 1 cm here, while two different dances stay 10 cm or more apart).
    """
    a, b = (np.asarray(x, dtype=np.float64) for x in (joints, reference))
    if len(a) == 0 or len(b) == 0:
        return float("inf")
    sigma = REPLAY_SMOOTHING_S * fps
    a, b = (gaussian_filter1d(x - x[:, PELVIS : PELVIS + 1], sigma, axis=0) for x in (a, b))
    max_shift = min(int(round(REPLAY_MAX_SHIFT_S * fps)), min(len(a), len(b)) - 1)
    return min(_turned_distance(a[max(s, 0) :], b[max(-s, 0) :]) for s in range(-max_shift, max_shift + 1))


def _turned_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean joint distance between the overlapping frames of a and b after the yaw that best maps a
    onto b (least squares on the horizontal coordinates: the angle of sum(b_xz conj(a_xz)))."""
    n = min(len(a), len(b))
    a, b = a[:n], b[:n]
    ax, az, bx, bz = a[..., 0], a[..., 2], b[..., 0], b[..., 2]
    yaw = np.arctan2(np.sum(az * bx - ax * bz), np.sum(ax * bx + az * bz))
    c, s = np.cos(yaw), np.sin(yaw)
    turned = np.stack([c * ax + s * az, a[..., 1], -s * ax + c * az], axis=-1)
    return float(np.linalg.norm(turned - b, axis=-1).mean())


# --- the original subnet's score, for comparison only -----------------------------------------

ORIGINAL_JOINTS = tuple(j for j in range(N_JOINTS) if j not in (L_COLLAR, R_COLLAR))
ORIGINAL_RMSE_LIMIT_CM = 4000.0
ORIGINAL_TIMEOUT_S = 180.0
ORIGINAL_UNKNOWN_TIME_S = 120.0


@dataclass(frozen=True)
class OriginalSubnetScore:
    rmse_cm: float
    correctness: float
    speed: float
    reward: float
    frames_compared: int

    def to_dict(self) -> dict:
        return asdict(self)


def original_subnet_score(joints: np.ndarray, reference: np.ndarray, response_time_s: float | None = None) -> OriginalSubnetScore:
    """The first A2A subnet's reward (shared/reference/original-subnet.md), reproduced to compare.

    22 joints (no collars), absolute positions in cm over the first min(frames) frames with no
    alignment; per joint the mean over frames of |d| / sqrt(3), summed over joints; correctness =
    1 - rmse * 0.9 / 4000 (0.1 beyond 4000); speed = sigmoid(0.5 - t / 180); reward = 0.7
    correctness + 0.3 speed; an empty answer scores 0. Its flaws are why a2a does not use it.
    """
    t = ORIGINAL_UNKNOWN_TIME_S if response_time_s is None else float(response_time_s)
    speed = float(1.0 / (1.0 + np.exp(-((1.0 - t / ORIGINAL_TIMEOUT_S) - 0.5))))
    n = min(len(joints), len(reference))
    if n == 0:
        return OriginalSubnetScore(float("inf"), 0.0, speed, 0.0, 0)
    keep = list(ORIGINAL_JOINTS)
    d_cm = (np.asarray(joints[:n, keep], np.float64) - np.asarray(reference[:n, keep], np.float64)) * 100.0
    rmse = float((np.linalg.norm(d_cm, axis=-1) / np.sqrt(3.0)).mean(axis=0).sum())
    correctness = 0.1 if rmse > ORIGINAL_RMSE_LIMIT_CM else 1.0 - rmse * 0.9 / ORIGINAL_RMSE_LIMIT_CM
    return OriginalSubnetScore(rmse, correctness, speed, 0.7 * correctness + 0.3 * speed, n)


# --- copy detection (the validator compares miners' answers to the same prompt) ---------------

def motion_fingerprint(joints: np.ndarray) -> np.ndarray:
    """A compact signature of a dance: aligned, root-relative joints at 64 evenly spaced instants.

    (64, 24, 3) float32, about 18 KB. Insensitive to where the dancer stands and faces, so a
    copy that was moved or turned is still recognised; float32 keeps copies with tiny added noise
    within tolerance.
    """
    j = align(joints)
    if j.shape[0] == 0:
        return np.zeros((FINGERPRINT_SAMPLES, N_JOINTS, 3), dtype=np.float32)
    j = j - j[:, PELVIS : PELVIS + 1] * np.array([1.0, 0.0, 1.0])
    t = np.linspace(0.0, j.shape[0] - 1, FINGERPRINT_SAMPLES)
    i = np.floor(t).astype(np.int64)
    i1 = np.minimum(i + 1, j.shape[0] - 1)
    w = (t - i)[:, None, None]
    return (j[i] * (1 - w) + j[i1] * w).astype(np.float32)


def fingerprint_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean joint distance (m) between two fingerprints: near 0 for a copy, ~0.1-0.3 m for two dances."""
    return float(np.linalg.norm(a.astype(np.float64) - b, axis=-1).mean())


def near_duplicate(a: np.ndarray, b: np.ndarray, tolerance_m: float = DUPLICATE_TOLERANCE_M) -> bool:
    """True when two dances (joints (T, 24, 3)) are the same dance, moved, turned or lightly noised.

    A validator scoring many answers keeps `motion_fingerprint`s and compares them with
    `fingerprint_distance` instead.
    """
    return fingerprint_distance(motion_fingerprint(a), motion_fingerprint(b)) < tolerance_m
