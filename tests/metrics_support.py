"""Shared by the tests/test_metrics_*.py files: joints built in code (the per-frame baseline the
metrics are checked against is support/metrics_baseline.py, shared with the benchmark)."""

from __future__ import annotations

import numpy as np

from a2a_cli.motion.skeleton import smpl_skeleton
from support.metrics_baseline import smooth_random_clips


def rest_joints(n_frames: int) -> np.ndarray:
    """The SMPL rest pose with its lowest joint on the floor, held for n_frames: (T, 24, 3)."""
    rest = smpl_skeleton().rest_positions()
    rest = rest - [0.0, rest[:, 1].min(), 0.0]
    return np.repeat(rest[None], n_frames, axis=0)


def carried_along(path: np.ndarray) -> np.ndarray:
    """The rest pose carried rigidly along a root path (T, 3): every joint moves like the root."""
    return rest_joints(len(path)) + np.asarray(path, dtype=np.float64)[:, None, :]


def random_clips(n_clips: int, n_frames: int, seed: int) -> np.ndarray:
    """Smooth random dances (support.metrics_baseline's generator) and the library's FK: (B, T, 24, 3)."""
    from a2a_cli.motion.fk import forward_kinematics

    poses, trans = smooth_random_clips(n_clips, n_frames, seed)
    return forward_kinematics(poses.astype(np.float64), trans.astype(np.float64))
