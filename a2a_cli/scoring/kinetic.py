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

from a2a_cli.scoring.clip_batch import ClipBatch, as_clip_batch

KINETIC_FRAME_TIME = 1.0 / 60.0
_HALF_WINDOW = 2  # Bailando's sliding_window: a centred window of 5 samples


def kinetic_features(joints: np.ndarray | ClipBatch, frame_time: float = KINETIC_FRAME_TIME) -> np.ndarray:
    """(T, 24, 3) -> (72,), or a batch (..., T, 24, 3) -> (..., 72), float32."""
    batch = as_clip_batch(joints, min_frames=3)
    n = batch.n_frames - 1  # one window per frame 1..T-1
    velocity, v_count = _window_sums(batch.positions, n)  # (24, 3, B, n): summed steps, metres
    accel, a_count = _window_sums(batch.step, n)  # summed second differences
    # Means over frames of (sum / count)^2 and |sum| / count, as weighted sums (one BLAS pass).
    v_weight = (1.0 / (v_count**2 * n * frame_time**2)).astype(batch.positions.dtype)
    a_weight = (1.0 / (a_count * n * frame_time**2)).astype(batch.positions.dtype)
    vx, vy, vz = velocity[:, 0], velocity[:, 1], velocity[:, 2]
    ax, ay, az = accel[:, 0], accel[:, 1], accel[:, 2]
    features = np.stack(
        [(vx * vx + vz * vz) @ v_weight, (vy * vy) @ v_weight, np.sqrt(ax * ax + ay * ay + az * az) @ a_weight],
        axis=-1,
    )  # (24, B, 3)
    return batch.per_clip(features.transpose(1, 0, 2).reshape(batch.n_clips, -1).astype(np.float32))


def _window_sums(x: np.ndarray, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """Sums of the differences x[m+1] - x[m] over the m in [i-2, i+2] that exist, i = 0..n_out-1,
    and how many there were. x: (..., L + 1).

    A sum of consecutive differences telescopes to x[hi] - x[lo], so the windows cost one
    subtraction of shifted slices (plus a gather for the clipped windows at the ends). Output i
    is the window around Bailando's frame i + 1 (its difference k is our m = k - 1).
    """
    n_differences = x.shape[-1] - 1
    i = np.arange(n_out)
    hi = np.minimum(i + _HALF_WINDOW, n_differences - 1) + 1
    lo = np.maximum(i - _HALF_WINDOW, 0)
    sums = np.empty(x.shape[:-1] + (n_out,), dtype=x.dtype)
    whole = np.flatnonzero((hi - lo) == 2 * _HALF_WINDOW + 1)  # a contiguous run of full windows
    if whole.size:
        a, b = whole[0], whole[-1] + 1
        np.subtract(x[..., hi[a] : hi[a] + b - a], x[..., lo[a] : lo[a] + b - a], out=sums[..., a:b])
    clipped = np.flatnonzero((hi - lo) != 2 * _HALF_WINDOW + 1)
    sums[..., clipped] = x[..., hi[clipped]] - x[..., lo[clipped]]
    return sums, hi - lo
