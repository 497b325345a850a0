"""Kinetic features (72 per clip), the input of FID_k and Dist_k (AIST++ / Bailando `kinetic.py`).

Per joint, in SMPL order, three numbers (so column 3*j + i):
  0 horizontal kinetic energy: mean over frames of |v_xz|^2,
  1 vertical kinetic energy:   mean over frames of v_y^2,
  2 energy expenditure:        mean over frames of |a|,
where v at frame i (1..T-1) averages the displacements p[k] - p[k-1] for k in i-2..i+2 that exist,
divided by the frame time, and a averages the second differences at k in i-2..i+2 that exist
(1 <= k <= T-2), divided by the frame time squared; every mean divides by T - 1.

The frame time is the code's constant 1/60 s, whatever the clip's real rate: the published
numbers were computed that way, and FID normalises each column by the reference's spread, so a
constant scale cancels as long as reference and candidates share the frame rate.
"""

from __future__ import annotations

import numpy as np

from a2a_cli.scoring._clips import as_clip_batch

KINETIC_FRAME_TIME = 1.0 / 60.0
_HALF_WINDOW = 2  # Bailando's sliding_window: a centred window of 5 samples


def kinetic_features(joints: np.ndarray, frame_time: float = KINETIC_FRAME_TIME) -> np.ndarray:
    """(T, 24, 3) -> (72,), or a batch (..., T, 24, 3) -> (..., 72), float32."""
    batch, lead = as_clip_batch(joints, min_frames=3)
    b, t = batch.shape[:2]
    flat = batch.reshape(b, t, -1)
    step = flat[:, 1:] - flat[:, :-1]  # (B, T-1, 72): p[k] - p[k-1] for k = 1..T-1
    velocity = _window_mean(step, t - 1)
    accel = _window_mean(step[:, 1:] - step[:, :-1], t - 1)  # second differences at k = 1..T-2
    velocity = velocity.reshape(b, t - 1, -1, 3)
    accel = accel.reshape(b, t - 1, -1, 3)
    features = np.empty((b, velocity.shape[2], 3), dtype=np.float32)
    vx, vy, vz = velocity[..., 0], velocity[..., 1], velocity[..., 2]
    features[..., 0] = (vx * vx + vz * vz).mean(axis=1) / frame_time**2
    features[..., 1] = (vy * vy).mean(axis=1) / frame_time**2
    features[..., 2] = np.sqrt(np.einsum("btjc,btjc->btj", accel, accel)).mean(axis=1) / frame_time**2
    return features.reshape(lead + (-1,))


def _window_mean(x: np.ndarray, n_out: int) -> np.ndarray:
    """Mean of x[:, m] over the m in [i-2, i+2] that exist, for i = 0..n_out-1. x: (B, L, C).

    Output i is the window around Bailando's frame i + 1: the first difference it lists as k
    is x[k-1] here, which shifts the window by the same one for velocities and accelerations.
    """
    b, length, c = x.shape
    padded = np.zeros((b, n_out + 2 * _HALF_WINDOW, c), dtype=x.dtype)
    padded[:, _HALF_WINDOW : _HALF_WINDOW + length] = x
    total = padded[:, :n_out].copy()
    for shift in range(1, 2 * _HALF_WINDOW + 1):
        total += padded[:, shift : shift + n_out]
    i = np.arange(n_out)
    count = np.minimum(i + _HALF_WINDOW, length - 1) - np.maximum(i - _HALF_WINDOW, 0) + 1
    return total / count[:, None].astype(x.dtype)
