"""How a body moves when it dances: four statistics of joint positions, reported with every score
beside real dancers' ranges (the realism term itself is the realism model's, realism.py; JUDGE.md).

The statistics (`body_statistics`), each from world joint positions at 30 fps (y up, metres):

- `travel_m_s`: mean horizontal speed of the pelvis, its path averaged over 0.2 s first so that the
  sway of each step does not count as travel. Dancers travel; a dancer rooted to one spot is rare.
- `legs_to_arms`: mean speed of the legs (knees, ankles, toes) over the mean speed of the arms
  (elbows, wrists). Real dancers move their legs about as much as their arms; arm poses over still
  legs read as a puppet.
- `steps_per_s`: steps per second, a step being a foot that rests (both its ankle and toe slower
  than 0.3 m/s for at least 0.1 s) and then moves off: lifted from the floor and moving.
- `foot_moving`: the fraction of frames in which at least one foot moves: its ankle and toe both
  faster than 0.3 m/s, and its lower joint lifted from the floor.

A foot that glides over the floor is not stepping: a body gliding on a circle with planted feet
travels, and without the lift its feet would count as stepping all the time (that is sliding, which
PFC and the foot-skating gate judge).

The real ranges ship with the package in `data/real_dance.json` (`reference_ranges`): the 10th-90th
percentiles of real dancers, measured with these definitions on the shared AIST++ slices and other
real captures (DESIGN §9), documented there with their sources.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

from a2a_cli.motion.grounding import floor_height
from a2a_cli.motion.skeleton import L_ANKLE, L_ELBOW, L_FOOT, L_KNEE, L_WRIST, PELVIS, R_ANKLE, R_ELBOW, R_FOOT, R_KNEE, R_WRIST
from a2a_cli.scoring.constants import FOOT_LIFT_M, FOOT_MOVING_M_S, JUDGE_FPS, MIN_REST_S, TRAVEL_SMOOTHING_S

__all__ = ["STATISTICS", "BodyRange", "body_statistics", "reference_ranges"]

STATISTICS = ("travel_m_s", "legs_to_arms", "steps_per_s", "foot_moving")
_LEGS = [L_KNEE, R_KNEE, L_ANKLE, R_ANKLE, L_FOOT, R_FOOT]
_ARMS = [L_ELBOW, R_ELBOW, L_WRIST, R_WRIST]
_FEET = ((L_ANKLE, L_FOOT), (R_ANKLE, R_FOOT))


@dataclass(frozen=True)
class BodyRange:
    """The range real dancers reach for one statistic (10th-90th percentile) and where it comes from."""

    low: float
    high: float
    source: str


def body_statistics(joints: np.ndarray, fps: float = JUDGE_FPS) -> dict[str, float]:
    """The four statistics of the module doc for one dance.

    joints: (T, 24, 3) world joint positions in metres, y up, T >= 2; fps: frames per second.
    """
    joints = np.asarray(joints, dtype=np.float64)
    if joints.ndim != 3 or joints.shape[0] < 2:
        raise ValueError(f"joints must be (T >= 2, 24, 3), got {joints.shape}")
    speed = np.linalg.norm(np.diff(joints, axis=0), axis=-1) * fps  # (T-1, 24) m/s
    path = _moving_average(joints[:, PELVIS, 0::2], max(int(round(TRAVEL_SMOOTHING_S * fps)), 1))  # horizontal
    travel = float(np.linalg.norm(np.diff(path, axis=0), axis=-1).mean() * fps)
    arms = float(speed[:, _ARMS].mean())
    legs_to_arms = float(speed[:, _LEGS].mean() / arms) if arms > 1e-9 else float("inf")
    foot_speed = np.stack([np.minimum(speed[:, ankle], speed[:, toe]) for ankle, toe in _FEET])  # (2, T-1)
    height = np.stack([np.minimum(joints[1:, ankle, 1], joints[1:, toe, 1]) for ankle, toe in _FEET])
    resting = foot_speed <= FOOT_MOVING_M_S
    moving = ~resting & (height - floor_height(joints) > FOOT_LIFT_M)
    min_rest = int(np.ceil(MIN_REST_S * fps - 1e-9))
    steps = sum(_steps(rest, move, min_rest) for rest, move in zip(resting, moving))
    return {
        "travel_m_s": travel,
        "legs_to_arms": legs_to_arms,
        "steps_per_s": steps / (joints.shape[0] / fps),
        "foot_moving": float(moving.any(axis=0).mean()),
    }


def _moving_average(values: np.ndarray, size: int) -> np.ndarray:
    """Centred moving average over `size` rows of (T, ...) values, the edge rows repeated beyond the ends."""
    before, after = (size - 1) // 2, size // 2
    padded = np.concatenate([np.repeat(values[:1], before, axis=0), values, np.repeat(values[-1:], after, axis=0)])
    total = np.cumsum(np.concatenate([np.zeros_like(values[:1]), padded]), axis=0)
    return (total[size:] - total[:-size]) / size


def _steps(resting: np.ndarray, moving: np.ndarray, min_rest: int) -> int:
    """Steps of one foot: runs of frames that are not at rest, following a rest of at least `min_rest`
    frames, in which the foot moves (lifted) at least once. resting, moving: (T,) flags."""
    change = np.flatnonzero(np.diff(resting.astype(np.int8))) + 1  # indices where a run starts
    starts = np.concatenate([[0], change])
    lengths = np.diff(np.concatenate([starts, [resting.size]]))
    run_of = np.repeat(np.arange(starts.size), lengths)  # the run index of every frame
    lifted = np.bincount(run_of, weights=moving, minlength=starts.size) > 0
    rest_run = resting[starts]
    return int(np.sum(~rest_run[1:] & lifted[1:] & rest_run[:-1] & (lengths[:-1] >= min_rest)))


@cache
def _reference() -> dict:
    text = resources.files("a2a_cli.scoring").joinpath("data/real_dance.json").read_text(encoding="utf-8")
    return json.loads(text)


def reference_ranges() -> dict[str, BodyRange]:
    """The real ranges shipped with the package (data/real_dance.json), one per statistic."""
    ranges = _reference()["reference_ranges"]
    return {name: BodyRange(float(ranges[name]["low"]), float(ranges[name]["high"]), ranges[name]["source"])
            for name in STATISTICS}
