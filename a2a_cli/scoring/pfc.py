"""How feet meet the floor: the Physical Foot Contact score (PFC, EDGE, Tseng et al. 2023; lower is
more physical), and the fraction of frames in which both feet slide (`both_feet_sliding`).

EDGE's `eval/eval_pfc.py`, with y up instead of its z up:
- root acceleration by finite differences; its upward component is clamped at 0 (falling needs no
  support, pushing up does); its norm is divided by its maximum over the clip;
- horizontal foot displacement per frame (not divided by the frame time, as in EDGE) of the
  left ankle, left toe, right ankle, right toe (SMPL joints 7, 10, 8, 11), between frames
  k + 1 and k + 2 to line up with the acceleration at frame k + 1;
- per frame: min(left ankle, left toe) * min(right ankle, right toe) * normalised acceleration,
  averaged over the T - 2 frames and multiplied by 10,000.
EDGE ran at 30 fps; at another rate the displacements are rescaled to per 1/30 s so the numbers
stay comparable. A root that never accelerates (EDGE divides 0 by 0 there) scores 0.

Known weaknesses, kept because they are the metric's definition: a static pose scores a perfect
0, and PFC never looks at height, so a dancer floating 1 m above the floor scores the same.
"""

from __future__ import annotations

import numpy as np

from a2a_cli.motion.skeleton import L_ANKLE, L_FOOT, PELVIS, R_ANKLE, R_FOOT
from a2a_cli.scoring.clip_batch import ClipBatch, as_clip_batch
from a2a_cli.scoring.constants import CONTACT_HEIGHT_M, DOUBLE_SLIDE_SPEED_M_S

__all__ = ["EDGE_FPS", "UP_AXIS", "both_feet_sliding", "physical_foot_contact"]

EDGE_FPS = 30.0
UP_AXIS = 1  # y up
_FEET = [L_ANKLE, L_FOOT, R_ANKLE, R_FOOT]


def physical_foot_contact(joints: np.ndarray | ClipBatch, fps: float = EDGE_FPS) -> float | np.ndarray:
    """PFC of one clip (T, 24, 3) -> float, or of a batch (..., T, 24, 3) -> array (...)."""
    batch = as_clip_batch(joints, min_frames=3)
    root_step = batch.step[PELVIS].astype(np.float64)  # (3, T-1, B)
    accel = (root_step[:, 1:] - root_step[:, :-1]) * (fps * fps)
    accel[UP_AXIS] = np.maximum(accel[UP_AXIS], 0.0)
    accel_norm = np.sqrt(np.einsum("ctb,ctb->tb", accel, accel))
    peak = accel_norm.max(axis=0)
    accel_norm = np.divide(accel_norm, peak, out=np.zeros_like(accel_norm), where=peak > 0)

    feet = batch.step[_FEET][:, [0, 2], 1:].astype(np.float64)  # horizontal steps k+1 -> k+2
    foot_speed = np.sqrt(np.einsum("fctb,fctb->ftb", feet, feet)) * (fps / EDGE_FPS)
    left = np.minimum(foot_speed[0], foot_speed[1])
    right = np.minimum(foot_speed[2], foot_speed[3])
    score = batch.per_clip((left * right * accel_norm).mean(axis=0) * 10_000.0)
    return float(score) if batch.lead == () else score


def both_feet_sliding(joints: np.ndarray | ClipBatch, fps: float) -> float | np.ndarray:
    """The fraction of frames in which both feet are on the floor and both slide.

    joints: (T, 24, 3) positions in metres, y up, or a batch (..., T, 24, 3) or a ClipBatch (computed
    in its precision: the judge's float32); fps: frames per second. One clip gives a float, a batch an array. A foot
    is on the floor when its lower joint (ankle or toe) is within CONTACT_HEIGHT_M of the floor level
    (grounding.floor_height), and slides when both its ankle and toe move horizontally faster than
    DOUBLE_SLIDE_SPEED_M_S. People move one foot while the other holds the floor: on the shared AIST++
    slices both feet slide together in 0-1.3% of the frames; a body gliding over the floor on planted
    feet (a learned model's foot sliding, or a robot's) in 35-60%. PFC misses much of this, because it
    weighs sliding by the root's acceleration relative to its peak.
    """
    batch = joints if isinstance(joints, ClipBatch) else ClipBatch.from_joints(np.asarray(joints, dtype=np.float64))
    if batch.n_frames < 2:
        return 0.0 if batch.lead == () else np.zeros(batch.lead)
    sliding = (batch.foot_height[:, 1:] - batch.floor < CONTACT_HEIGHT_M) & (batch.foot_glide * fps > DOUBLE_SLIDE_SPEED_M_S)
    fraction = batch.per_clip((sliding[0] & sliding[1]).mean(axis=0))  # (2, T-1, B): each foot on the floor and sliding
    return float(fraction) if batch.lead == () else fraction

