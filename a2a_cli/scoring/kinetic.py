"""Kinetic features (72 per clip), the input of FID_k and Dist_k (AIST++ / Bailando `kinetic.py`).

Per joint, in SMPL order, three numbers (so column 3*j + i):
  0 horizontal kinetic energy: mean over frames of |v_xz|^2,
  1 vertical kinetic energy:   mean over frames of v_y^2,
  2 energy expenditure:        mean over frames of |a|,
where v at frame i (1..T-1) averages the displacements p[k] - p[k-1] for k in i-2..i+2 that exist,
divided by the frame time, and a averages, over the k in i-2..i+2 that exist (1 <= k <= T-2),
(v2 - v1) / ft with v2 = (p[k+1] - p[k]) / ft and, as the code has it, v1 = p[k] - p[k-1] / ft;
every mean divides by T - 1. p are the joints relative to the root's position at frame 0, as
Bailando's `metrics_new.calc_and_save_feats` prepares them.

The v1 above is a precedence slip in the AIST++ API's `calc_average_acceleration`, copied into
Bailando's `utils/features/utils.py` (reported in Bailando issue #46; fixes proposed in PRs
aistplusplus_api#33 and Bailando#28 were not in the code the papers ran). Every published FID_k
(FACT, Bailando, EDGE and later papers evaluating with Bailando's code) was computed with it, so
it is reproduced: (v2 - v1) / ft = (p[k+1] - 2 p[k] + p[k-1] + (1 - ft) p[k]) / ft^2, a second
difference plus a term proportional to the joint's position, which dominates (energy expenditure
is mostly how far the joint is from the starting root). The constant offset to frame 0 matters
for it, which is why p is taken relative to the frame-0 root (the features stay translation-free).

The frame time is the code's constant 1/60 s, whatever the clip's real rate: the published
numbers were computed that way, and FID normalises each column by the reference's spread, so a
constant scale cancels as long as reference and candidates share the frame rate.
"""

from __future__ import annotations

import numpy as np

from a2a_cli.motion.skeleton import N_JOINTS, PELVIS
from a2a_cli.scoring.clip_batch import ClipBatch, as_clip_batch, joint_groups

__all__ = ["KINETIC_FRAME_TIME", "kinetic_features"]

KINETIC_FRAME_TIME = 1.0 / 60.0
_HALF_WINDOW = 2  # Bailando's sliding_window: a centred window of 5 samples


def kinetic_features(joints: np.ndarray | ClipBatch, frame_time: float = KINETIC_FRAME_TIME) -> np.ndarray:
    """(T, 24, 3) -> (72,), or a batch (..., T, 24, 3) -> (..., 72), float32."""
    batch = as_clip_batch(joints, min_frames=3)
    features = np.empty((N_JOINTS, batch.n_clips, 3), dtype=np.float32)
    for group in joint_groups():
        features[group] = _joint_features(batch.positions[group], batch.step[group], batch.positions[PELVIS, :, :1], frame_time)
    return batch.per_clip(features.transpose(1, 0, 2).reshape(batch.n_clips, -1))


def _joint_features(positions: np.ndarray, step: np.ndarray, root_start: np.ndarray, frame_time: float) -> np.ndarray:
    """The three features of a group of joints: positions (J, 3, T, B), their steps, and the
    root's position at frame 0 (3, 1, B) -> (J, B, 3). Two arrays of window sums are made, one
    for velocity and one for acceleration, and the acceleration's terms are added into its array
    in place: live temporaries, more than passes, are what cost most here."""
    n = positions.shape[2] - 1  # one window per frame 1..T-1
    velocity, v_count = _window_sums(positions, n)  # (J, 3, n, B): summed steps, metres
    accel = _window_positions(positions, root_start, n)  # the code's quirk (module doc) ...
    accel *= 1.0 - frame_time
    _, a_count = _window_sums(step, n, into=accel)  # ... plus the summed second differences
    # Means over frames of (sum / count)^2 and |sum| / count, as weighted sums over time.
    v_weight = (1.0 / (v_count**2 * n * frame_time**2)).astype(positions.dtype)
    a_weight = (1.0 / (a_count * n * frame_time**2)).astype(positions.dtype)
    velocity *= velocity
    energy = v_weight @ velocity  # (J, 3, B), one number per axis
    magnitude = np.einsum("jctb,jctb->jtb", accel, accel)
    expenditure = a_weight @ np.sqrt(magnitude, out=magnitude)  # (J, B)
    return np.stack([energy[:, 0] + energy[:, 2], energy[:, 1], expenditure], axis=-1)


def _window_positions(positions: np.ndarray, root_start: np.ndarray, n_out: int) -> np.ndarray:
    """Sums of p[k] over the acceleration windows (the k of `_window_sums` of the steps: 1 <= k <=
    T-2 within i-2..i+2 of Bailando's frame i = output + 1), p relative to the root at frame 0.

    Full windows add five shifted frames into one array; the few windows clipped by the clip's
    ends are summed one by one.
    """
    inner = positions[:, :, 1:-1]  # k = 1..T-2: output o sums inner[o-2 .. o+2] that exist
    length = inner.shape[2]
    o = np.arange(n_out)
    lo, hi = np.maximum(o - _HALF_WINDOW, 0), np.minimum(o + _HALF_WINDOW, length - 1)
    sums = np.empty(inner.shape[:2] + (n_out,) + inner.shape[3:], dtype=inner.dtype)
    full = slice(_HALF_WINDOW, max(length - _HALF_WINDOW, _HALF_WINDOW))  # outputs whose window is whole
    if full.stop > full.start:
        whole = sums[:, :, full]
        count = full.stop - full.start
        np.add(inner[:, :, :count], inner[:, :, 1 : 1 + count], out=whole)
        for d in range(2, 2 * _HALF_WINDOW + 1):
            whole += inner[:, :, d : d + count]
    for k in np.flatnonzero((o < full.start) | (o >= full.stop)):
        np.sum(inner[:, :, lo[k] : hi[k] + 1], axis=2, out=sums[:, :, k])
    sums -= root_start * (hi - lo + 1).astype(inner.dtype)[:, None]
    return sums


def _window_sums(x: np.ndarray, n_out: int, into: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Sums of the differences x[m+1] - x[m] (along axis 2, time) over the m in [i-2, i+2] that
    exist, i = 0..n_out-1, and how many there were. x: (J, 3, L + 1, B). With `into`, the sums
    are added to that array (in place) instead of returned as a new one.

    A sum of consecutive differences telescopes to x[hi] - x[lo], so the windows cost one
    subtraction of shifted frames (plus a few for the windows clipped at the ends). Output i
    is the window around Bailando's frame i + 1 (its difference k is our m = k - 1).
    """
    n_differences = x.shape[2] - 1
    i = np.arange(n_out)
    hi = np.minimum(i + _HALF_WINDOW, n_differences - 1) + 1
    lo = np.maximum(i - _HALF_WINDOW, 0)
    sums = np.empty(x.shape[:2] + (n_out,) + x.shape[3:], dtype=x.dtype) if into is None else into
    whole = np.flatnonzero((hi - lo) == 2 * _HALF_WINDOW + 1)  # a contiguous run of full windows
    if whole.size:
        a, b = whole[0], whole[-1] + 1
        upper, lower = x[:, :, hi[a] : hi[a] + b - a], x[:, :, lo[a] : lo[a] + b - a]
        if into is None:
            np.subtract(upper, lower, out=sums[:, :, a:b])
        else:
            sums[:, :, a:b] += upper
            sums[:, :, a:b] -= lower
    for k in np.flatnonzero((hi - lo) != 2 * _HALF_WINDOW + 1):
        if into is None:
            np.subtract(x[:, :, hi[k]], x[:, :, lo[k]], out=sums[:, :, k])
        else:
            sums[:, :, k] += x[:, :, hi[k]] - x[:, :, lo[k]]
    return sums, hi - lo
