"""Putting a motion's feet on the floor (y = 0), for data whose floor is elsewhere.

Captures and model outputs put the floor where their own conventions do: AIST++ about 0.9 m up,
AMASS at z = 0 of a z-up world, a (T, 72) pose file without translation with the pelvis at the
origin and the feet 0.9 m under the floor. The judge's gates read heights against y = 0 (DESIGN §3),
so such data is grounded when it is read.
"""

from __future__ import annotations

import numpy as np

from a2a_cli.motion.motion import Motion
from a2a_cli.motion.skeleton import FOOT_JOINTS

__all__ = ["FLOOR_PERCENTILE", "floor_height", "grounded"]

# The floor is the height the lowest foot joint (ankle or toe) reaches in all but 5% of the frames:
# a jump lifts the feet, a glitch frame may drop one, neither moves the floor. The foot-skating gate
# reads contacts against the same level.
FLOOR_PERCENTILE = 5.0


def floor_height(joints: np.ndarray) -> float:
    """The floor level (m) under joint positions (T, 24, 3), y up: see FLOOR_PERCENTILE."""
    lowest = np.asarray(joints)[:, list(FOOT_JOINTS), 1].min(axis=1)
    return float(np.percentile(lowest, FLOOR_PERCENTILE))


def grounded(motion: Motion) -> Motion:
    """The same motion moved vertically so that its floor (`floor_height`) is at y = 0."""
    shift = floor_height(motion.joints)
    if motion.poses is None:
        joints = motion.joints.copy()
        joints[..., 1] -= shift
        return Motion.from_joints(joints, fps=motion.fps, meta=motion.meta)
    trans = motion.trans.copy()
    trans[:, 1] -= shift
    return Motion(motion.poses, trans, fps=motion.fps, meta=motion.meta)
