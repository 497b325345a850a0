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

from a2a_cli.motion.skeleton import FEET, L_ANKLE, L_ELBOW, L_FOOT, L_KNEE, L_WRIST, PELVIS, R_ANKLE, R_ELBOW, R_FOOT, R_KNEE, R_WRIST
from a2a_cli.scoring.clip_batch import ClipBatch
from a2a_cli.scoring.constants import FOOT_LIFT_M, FOOT_MOVING_M_S, JUDGE_FPS, MIN_REST_S, TRAVEL_SMOOTHING_S

__all__ = ["STATISTICS", "BodyRange", "body_statistics", "reference_ranges"]

STATISTICS = ("travel_m_s", "legs_to_arms", "steps_per_s", "foot_moving")
_LEGS = [L_KNEE, R_KNEE, L_ANKLE, R_ANKLE, L_FOOT, R_FOOT]
_ARMS = [L_ELBOW, R_ELBOW, L_WRIST, R_WRIST]


@dataclass(frozen=True)
class BodyRange:
    """The range real dancers reach for one statistic (10th-90th percentile) and where it comes from."""

    low: float
    high: float
    source: str


def body_statistics(joints: np.ndarray | ClipBatch, fps: float = JUDGE_FPS) -> dict[str, float] | dict[str, np.ndarray]:
    """The four statistics of the module doc.

    joints: (T, 24, 3) world joint positions in metres, y up, T >= 2, or a batch of clips (..., T,
    24, 3) or a ClipBatch (computed in its precision: the judge's float32); fps: frames per second. One clip gives
    floats, a batch arrays of the batch's shape.
    """
    batch = joints if isinstance(joints, ClipBatch) else ClipBatch.from_joints(np.asarray(joints, dtype=np.float64))
    if batch.n_frames < 2:
        raise ValueError(f"joints must be (T >= 2, 24, 3), got {batch.n_frames} frames")
    p, b, n = batch.positions, batch.n_clips, batch.n_frames
    speed = batch.joint_speed  # (24, T-1, B), metres per frame
    stride = _smoothed_steps(p[PELVIS][[0, 2]], max(int(round(TRAVEL_SMOOTHING_S * fps)), 1))  # (2, T-1, B)
    travel = np.sqrt(stride[0] * stride[0] + stride[1] * stride[1]).T.mean(axis=-1) * fps
    # (B,): clips first, as one clip's mean runs, summed in float64 (the same number in a batch of any size)
    arms = (speed[_ARMS] * fps).transpose(2, 1, 0).mean(axis=(1, 2), dtype=np.float64)
    legs = (speed[_LEGS] * fps).transpose(2, 1, 0).mean(axis=(1, 2), dtype=np.float64)
    legs_to_arms = np.where(arms > 1e-9, legs / np.where(arms > 1e-9, arms, 1.0), np.inf)
    foot_speed = np.stack([np.minimum(speed[ankle], speed[toe]) for ankle, toe in FEET]) * fps  # (2, T-1, B)
    height = batch.foot_height[:, 1:]
    resting = foot_speed <= FOOT_MOVING_M_S
    moving = ~resting & (height - batch.floor > FOOT_LIFT_M)
    min_rest = int(np.ceil(MIN_REST_S * fps - 1e-9))
    rows = (2 * b, n - 1)  # one row per foot and clip
    steps = _steps(resting.transpose(0, 2, 1).reshape(rows), moving.transpose(0, 2, 1).reshape(rows), min_rest)
    values = {
        "travel_m_s": travel,
        "legs_to_arms": legs_to_arms,
        "steps_per_s": steps.reshape(2, b).sum(axis=0) / (n / fps),
        "foot_moving": moving.any(axis=0).mean(axis=0),
    }
    if batch.lead == ():
        return {name: float(v[0]) for name, v in values.items()}
    return {name: batch.per_clip(v) for name, v in values.items()}


def _smoothed_steps(path: np.ndarray, size: int) -> np.ndarray:
    """The frame-to-frame steps (..., T-1, B) of a path (..., T, B) averaged over a centred window
    of `size` frames, its end frames repeated beyond the ends, in float64. The average moves on by
    one frame as the frame `size` ahead comes in and the first one leaves, so each step is that
    difference over `size`: no running sums (whose rounding would swamp a float32 path's small steps)."""
    before, after = (size - 1) // 2, size // 2
    padded = np.concatenate([np.repeat(path[..., :1, :], before, axis=-2), path, np.repeat(path[..., -1:, :], after, axis=-2)],
                            axis=-2).astype(np.float64)
    return (padded[..., size:, :] - padded[..., :-size, :]) / size


def _steps(resting: np.ndarray, moving: np.ndarray, min_rest: int) -> np.ndarray:
    """Steps of each row (one foot of one clip): runs of frames that are not at rest, following a
    rest of at least `min_rest` frames, in which the foot moves (lifted) at least once.
    resting, moving: (R, T) flags -> (R,) counts. The rows are laid end to end, a run starting at
    every row's first frame, so that a run never spans two rows."""
    n_rows, n = resting.shape
    starts_run = np.ones(resting.shape, dtype=bool)
    starts_run[:, 1:] = resting[:, 1:] != resting[:, :-1]
    starts_run = starts_run.ravel()
    starts = np.flatnonzero(starts_run)
    lengths = np.diff(np.append(starts, resting.size))
    run_of = np.cumsum(starts_run) - 1  # the run index of every frame
    lifted = np.bincount(run_of, weights=moving.ravel(), minlength=starts.size) > 0
    rest_run = resting.ravel()[starts]
    row = starts // n
    step = ~rest_run[1:] & lifted[1:] & rest_run[:-1] & (lengths[:-1] >= min_rest) & (row[1:] == row[:-1])
    return np.bincount(row[1:], weights=step, minlength=n_rows).astype(np.int64)


@cache
def _reference() -> dict:
    text = resources.files("a2a_cli.scoring").joinpath("data/real_dance.json").read_text(encoding="utf-8")
    return json.loads(text)


def reference_ranges() -> dict[str, BodyRange]:
    """The real ranges shipped with the package (data/real_dance.json), one per statistic."""
    ranges = _reference()["reference_ranges"]
    return {name: BodyRange(float(ranges[name]["low"]), float(ranges[name]["high"]), ranges[name]["source"])
            for name in STATISTICS}
