"""The SMPL 24-joint kinematic tree (order, parents, rest offsets), shipped with the package.

The constants come from `shared/reference/smpl_skeleton.json`; no SMPL model files are needed.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

import numpy as np

__all__ = ["BVH_JOINT_NAMES", "FEET", "FOOT_JOINTS", "N_JOINTS", "Skeleton", "smpl_skeleton"]

N_JOINTS = 24

# Joint names used by the BVH wire format (DESIGN §3), in SMPL order.
BVH_JOINT_NAMES = (
    "Pelvis", "Left_hip", "Right_hip", "Spine1", "Left_knee", "Right_knee", "Spine2",
    "Left_ankle", "Right_ankle", "Spine3", "Left_foot", "Right_foot", "Neck", "Left_collar",
    "Right_collar", "Head", "Left_shoulder", "Right_shoulder", "Left_elbow", "Right_elbow",
    "Left_wrist", "Right_wrist", "Left_palm", "Right_palm",
)


class Skeleton:
    """Joint names, parents and rest offsets (metres, y up) of the SMPL body."""

    def __init__(self, names: list[str], parents: np.ndarray, offsets: np.ndarray):
        self.names = tuple(names)
        self.parents = parents
        self.offsets = offsets
        self.children = [tuple(int(c) for c in np.flatnonzero(parents == j)) for j in range(len(names))]

    def rest_positions(self) -> np.ndarray:
        """Joint positions of the rest pose with the root at the origin: cumulative offsets, (24, 3)."""
        pos = np.zeros_like(self.offsets)
        for j in range(1, len(self.names)):
            pos[j] = pos[self.parents[j]] + self.offsets[j]
        return pos


@cache
def smpl_skeleton() -> Skeleton:
    """The SMPL 24-joint skeleton shipped with the package: joint names, parents and rest offsets (metres)."""
    data = json.loads(resources.files("a2a_cli.motion").joinpath("data/smpl_skeleton.json").read_text())
    parents = np.asarray(data["parents"], dtype=np.int64)
    offsets = np.asarray(data["offsets_m"], dtype=np.float64)
    if len(data["joints"]) != N_JOINTS or parents.shape != (N_JOINTS,) or offsets.shape != (N_JOINTS, 3):
        raise RuntimeError("the packaged SMPL skeleton is malformed")
    return Skeleton(data["joints"], parents, offsets)


# Indices used by metrics and the generator.
PELVIS, L_HIP, R_HIP, SPINE1, L_KNEE, R_KNEE, SPINE2, L_ANKLE, R_ANKLE, SPINE3, L_FOOT, R_FOOT = range(12)
NECK, L_COLLAR, R_COLLAR, HEAD, L_SHOULDER, R_SHOULDER, L_ELBOW, R_ELBOW, L_WRIST, R_WRIST, L_HAND, R_HAND = range(12, 24)
FOOT_JOINTS = (L_ANKLE, R_ANKLE, L_FOOT, R_FOOT)
FEET = ((L_ANKLE, L_FOOT), (R_ANKLE, R_FOOT))  # each foot's (ankle, toe), left then right
