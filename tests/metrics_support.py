"""Shared by the tests/test_metrics_*.py files: the benchmark's per-frame baseline, and joints
built in code."""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

import numpy as np

from a2a_cli.motion.skeleton import smpl_skeleton


@cache
def baseline():
    """benchmarks/bench_metrics.py: its per-frame functions state the metrics independently."""
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_metrics.py"
    spec = importlib.util.spec_from_file_location("bench_metrics", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rest_joints(n_frames: int) -> np.ndarray:
    """The SMPL rest pose with its lowest joint on the floor, held for n_frames: (T, 24, 3)."""
    rest = smpl_skeleton().rest_positions()
    rest = rest - [0.0, rest[:, 1].min(), 0.0]
    return np.repeat(rest[None], n_frames, axis=0)


def carried_along(path: np.ndarray) -> np.ndarray:
    """The rest pose carried rigidly along a root path (T, 3): every joint moves like the root."""
    return rest_joints(len(path)) + np.asarray(path, dtype=np.float64)[:, None, :]


def random_clips(n_clips: int, n_frames: int, seed: int) -> np.ndarray:
    """Smooth random dances through the benchmark's generator and the library's FK: (B, T, 24, 3)."""
    from a2a_cli.motion.fk import forward_kinematics

    poses, trans = baseline().smooth_random_clips(n_clips, n_frames, seed)
    return forward_kinematics(poses.astype(np.float64), trans.astype(np.float64))
