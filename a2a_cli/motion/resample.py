"""A motion at another frame rate: smooth interpolation in time (rotations on SO(3), positions cubic).

The judge measures every motion at one time base (scoring.constants.JUDGE_FPS), because finite
differences depend on the frame step; `a2a score` reads captures at 60, 120 or 240 fps, and the
same dance must get the same verdict at any of them.

Rotations are interpolated per joint with scipy's `RotationSpline` (cubic in the rotation vector
increments, continuous angular velocity and acceleration), translations and joint positions with
a natural cubic spline. Frame times fall on the source's knots wherever the rates allow it (240 fps
to 30 fps keeps every 8th frame exactly), so downsampling a capture keeps its original samples; when
every new frame is a source frame they are taken as they are, with no spline at all.
"""

from __future__ import annotations

import numpy as np

from a2a_cli.motion.motion import Motion

__all__ = ["resample", "resampled_frames", "sample_at"]


def resampled_frames(n_frames: int, fps: float, new_fps: float) -> int:
    """Frames of a motion of `n_frames` at `fps` resampled to `new_fps`: every new frame time k / new_fps
    that lies within the source's span [0, (n_frames - 1) / fps]."""
    last = (n_frames - 1) / fps
    return int(np.floor(last * new_fps + 1e-6)) + 1


def resample(motion: Motion, new_fps: float) -> Motion:
    """`motion` at `new_fps` frames per second (the same motion when the rate already matches).

    motion: at least 2 frames, finite values; new_fps: positive. Joint-position motions stay
    joint-position motions. The meta is kept, with the source rate under "source_fps".
    """
    from scipy.interpolate import CubicSpline

    fps = float(motion.fps)
    if abs(fps - new_fps) < 1e-9 * new_fps:
        return motion
    n = motion.n_frames
    if n < 2:
        raise ValueError("a motion needs at least 2 frames to be resampled")
    times = np.arange(n) / fps
    new_times = np.arange(resampled_frames(n, fps, new_fps)) / new_fps
    new_times = np.minimum(new_times, times[-1])  # the 1e-6 slack of resampled_frames
    meta = {**motion.meta, "source_fps": fps}
    knots = new_times * fps
    if np.allclose(knots, np.round(knots), rtol=0.0, atol=1e-6):  # every new frame is a source frame (240 -> 30 fps)
        keep = np.round(knots).astype(np.int64)
        if motion.poses is None:
            return Motion.from_joints(np.asarray(motion.joints)[keep], fps=new_fps, meta=meta)
        return Motion(motion.poses[keep], motion.trans[keep], fps=new_fps, meta=meta)
    if motion.poses is None:
        joints = CubicSpline(times, np.asarray(motion.joints, np.float64), axis=0, bc_type="natural")(new_times)
        return Motion.from_joints(joints.astype(np.float32), fps=new_fps, meta=meta)
    trans = CubicSpline(times, motion.trans.astype(np.float64), axis=0, bc_type="natural")(new_times)
    poses = _rotation_splines(motion.poses.astype(np.float64), times, new_times)
    return Motion(poses.astype(np.float32), trans.astype(np.float32), fps=new_fps, meta=meta)


def sample_at(motion: Motion, times_s: np.ndarray, fps: float | None = None) -> Motion:
    """`motion` sampled at the given times (seconds from its first frame, any order, clipped to its
    span), as a motion at `fps` (default its own rate): re-timing, slow motion, time warps.

    Rotations are interpolated on SO(3) and positions by cubic splines, as `resample` does.
    """
    from scipy.interpolate import CubicSpline

    n = motion.n_frames
    if n < 2:
        raise ValueError("a motion needs at least 2 frames to be sampled between them")
    times = np.arange(n) / float(motion.fps)
    at = np.clip(np.asarray(times_s, dtype=np.float64).ravel(), 0.0, times[-1])
    rate = float(motion.fps if fps is None else fps)
    if motion.poses is None:
        joints = CubicSpline(times, np.asarray(motion.joints, np.float64), axis=0, bc_type="natural")(at)
        return Motion.from_joints(joints.astype(np.float32), fps=rate, meta=dict(motion.meta))
    trans = CubicSpline(times, motion.trans.astype(np.float64), axis=0, bc_type="natural")(at)
    poses = _rotation_splines(motion.poses.astype(np.float64), times, at)
    return Motion(poses.astype(np.float32), trans.astype(np.float32), fps=rate, meta=dict(motion.meta))


def _rotation_splines(poses: np.ndarray, times: np.ndarray, new_times: np.ndarray) -> np.ndarray:
    """Axis-angle poses (T, J, 3) at `times`, interpolated per joint at `new_times` -> (T', J, 3)."""
    from scipy.spatial.transform import Rotation, RotationSpline

    out = np.empty((new_times.size, poses.shape[1], 3))
    for joint in range(poses.shape[1]):
        spline = RotationSpline(times, Rotation.from_rotvec(poses[:, joint]))
        out[:, joint] = spline(new_times).as_rotvec()
    return out
