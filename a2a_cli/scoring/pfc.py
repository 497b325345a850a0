"""Physical Foot Contact score (PFC, EDGE, Tseng et al. 2023): lower is more physical.

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
