"""Shape checks shared by the metric modules: one clip (T, 24, 3) or a batch (..., T, 24, 3)."""

from __future__ import annotations

import numpy as np

from a2a_cli.errors import InputError
from a2a_cli.motion.skeleton import N_JOINTS


def as_clip_batch(joints: np.ndarray, min_frames: int) -> tuple[np.ndarray, tuple[int, ...]]:
    """Joint positions as a batch (B, T, 24, 3), plus the leading shape to restore.

    float64 stays float64 (exact checks); anything else becomes float32, the fast common case.

    Every metric is computed on the batch form, so a single clip and a batch share one code path;
    the caller reshapes its (B, ...) result to `lead + (...)`, `lead` being () for a single clip.
    """
    joints = np.asarray(joints)
    if joints.ndim < 3 or joints.shape[-2:] != (N_JOINTS, 3):
        raise InputError(f"joint positions must be (T, {N_JOINTS}, 3) or (..., T, {N_JOINTS}, 3), got {joints.shape}")
    n_frames = joints.shape[-3]
    if n_frames < min_frames:
        raise InputError(f"this metric needs at least {min_frames} frames, got {n_frames}")
    lead = joints.shape[:-3]
    dtype = np.float64 if joints.dtype == np.float64 else np.float32
    return joints.reshape((-1,) + joints.shape[-3:]).astype(dtype, copy=False), lead
