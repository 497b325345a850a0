"""Feet that stay planted through a join: two-bone leg IK (`motion.leg_ik`) on SMPL poses, in place.

A blend between two segments moves a foot that both had on the floor (their bodies differ a
little around it). `pin_ankles` holds that ankle where it was when the join began, bending hip
and knee in the leg's own plane (the thigh's twist and the foot's orientation in the world are
kept), until the new segment lifts the foot, and then lets it go over `RELEASE_FRAMES` while it
is in the air.
"""

from __future__ import annotations

import numpy as np

from a2a_cli.motion.fk import forward_kinematics
from a2a_cli.motion.leg_ik import LEGS, reach_axis_angle

__all__ = ["MAX_HOLD_FRAMES", "RELEASE_FRAMES", "pin_ankles"]

RELEASE_FRAMES = 6  # frames over which a held ankle returns to its own path once lifted
MAX_HOLD_FRAMES = 45  # a foot is held at most this long after a join (1.5 s)


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
        hip, knee, ankle = LEGS[side]
        anchor = joints[0, ankle].astype(np.float64)
        weight = np.ones(frames.size)
        tail = frames > end
        weight[tail] = 1.0 - (frames[tail] - end) / (RELEASE_FRAMES + 1)
        weight = weight * weight * (3 - 2 * weight)
        target = joints[:, ankle] + (anchor - joints[:, ankle]) * weight[:, None]
        # the knee keeps bending the way it bent: toward where it was, across the hip
        reach_axis_angle(poses, frames, joints, LEGS[side], target, (joints[:, knee] - joints[:, hip]).astype(np.float64))
        out.append((int(side), int(first), int(release)))
    return out
