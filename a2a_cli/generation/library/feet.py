"""Feet that stay planted through a join: analytic two-bone leg IK on SMPL poses, in place.

A blend between two segments moves a foot that both had on the floor (their bodies differ a
little around it). `pin_ankles` holds that ankle where it was when the join began, bending hip
and knee in the leg's own plane (the thigh's twist and the foot's orientation in the world are
kept), until the new segment lifts the foot, and then lets it go over `RELEASE_FRAMES` while it
is in the air.
"""

from __future__ import annotations

import numpy as np

from a2a_cli.motion import skeleton as sk
from a2a_cli.motion.fk import forward_kinematics
from a2a_cli.motion.rotations import axis_angle_to_matrix, matrix_to_axis_angle

__all__ = ["MAX_HOLD_FRAMES", "RELEASE_FRAMES", "pin_ankles"]

RELEASE_FRAMES = 6  # frames over which a held ankle returns to its own path once lifted
MAX_HOLD_FRAMES = 45  # a foot is held at most this long after a join (1.5 s)
_LEGS = ((sk.L_HIP, sk.L_KNEE, sk.L_ANKLE), (sk.R_HIP, sk.R_KNEE, sk.R_ANKLE))


def _rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest rotations (F, 3, 3) turning directions a (F, 3) onto b (F, 3)."""
    a = a / np.linalg.norm(a, axis=-1, keepdims=True)
    b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    axis = np.cross(a, b)
    sin = np.linalg.norm(axis, axis=-1, keepdims=True)
    angle = np.arctan2(sin, np.sum(a * b, axis=-1, keepdims=True))
    return axis_angle_to_matrix(axis / np.maximum(sin, 1e-12) * angle)


def _reach(poses: np.ndarray, frames: np.ndarray, joints: np.ndarray, leg: tuple[int, int, int], target: np.ndarray) -> None:
    """Put the ankle of `leg` at `target` (F, 3) on `frames`, editing `poses` (T, 24, 3) in place;
    `joints` (F, 24, 3) the joint positions of those frames."""
    hip_j, knee_j, ankle_j = leg
    hip, knee, ankle = (joints[:, j].astype(np.float64) for j in leg)
    l1 = np.linalg.norm(knee - hip, axis=-1, keepdims=True)
    l2 = np.linalg.norm(ankle - knee, axis=-1, keepdims=True)
    to = target - hip
    d = np.linalg.norm(to, axis=-1, keepdims=True)
    n = to / np.maximum(d, 1e-9)
    d = np.clip(d, np.abs(l1 - l2) + 1e-3, (l1 + l2) * 0.9995)
    along = (l1 * l1 - l2 * l2 + d * d) / (2 * d)
    across = np.sqrt(np.maximum(l1 * l1 - along * along, 0.0))
    bend = (knee - hip) - np.sum((knee - hip) * n, axis=-1, keepdims=True) * n
    bend = bend / np.maximum(np.linalg.norm(bend, axis=-1, keepdims=True), 1e-9)
    new_knee = hip + along * n + across * bend
    new_ankle = hip + d * n

    rot = axis_angle_to_matrix(poses[frames].astype(np.float64))  # (F, 24, 3, 3) local
    pelvis = rot[:, sk.PELVIS]  # the hips hang from the pelvis: its local rotation is its global one
    thigh = pelvis @ rot[:, hip_j]
    shin = thigh @ rot[:, knee_j]
    foot = shin @ rot[:, ankle_j]
    turn_thigh = _rotation_between(knee - hip, new_knee - hip)
    new_thigh = turn_thigh @ thigh
    moved_shin = np.einsum("fij,fj->fi", turn_thigh, ankle - knee)
    new_shin = _rotation_between(moved_shin, new_ankle - new_knee) @ turn_thigh @ shin
    poses[frames, hip_j] = matrix_to_axis_angle(np.swapaxes(pelvis, -1, -2) @ new_thigh)
    poses[frames, knee_j] = matrix_to_axis_angle(np.swapaxes(new_thigh, -1, -2) @ new_shin)
    poses[frames, ankle_j] = matrix_to_axis_angle(np.swapaxes(new_shin, -1, -2) @ foot)


def pin_ankles(poses: np.ndarray, trans: np.ndarray, planted: np.ndarray, window: tuple[int, int],
               hold: np.ndarray) -> list[tuple[int, int, int]]:
    """Hold each ankle with `hold[side]` (left, right) where it is at frame window[0], from there
    through the end of its planted run after the window (`planted` (T, 2) bool, at most
    MAX_HOLD_FRAMES past the window), then ease it back to its own path over RELEASE_FRAMES.
    `poses` (T, 24, 3) axis-angle and `trans` (T, 3) of the whole dance; poses edited in place.
    Returns (side, first frame, last frame) of each hold."""
    first, last = window
    n = poses.shape[0]
    out = []
    for side in np.flatnonzero(hold):
        end = last
        while end + 1 < min(n, last + MAX_HOLD_FRAMES) and planted[end + 1, side]:
            end += 1
        release = min(end + RELEASE_FRAMES, n - 1)
        frames = np.arange(first, release + 1)
        joints = forward_kinematics(poses[frames], trans[frames])
        ankle = _LEGS[side][2]
        anchor = joints[0, ankle].astype(np.float64)
        weight = np.ones(frames.size)
        tail = frames > end
        weight[tail] = 1.0 - (frames[tail] - end) / (RELEASE_FRAMES + 1)
        weight = weight * weight * (3 - 2 * weight)
        target = joints[:, ankle] + (anchor - joints[:, ankle]) * weight[:, None]
        _reach(poses, frames, joints, _LEGS[side], target)
        out.append((int(side), int(first), int(release)))
    return out
