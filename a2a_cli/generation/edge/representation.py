"""EDGE's 151-d motion vector, one per 30 fps frame (dataset/dance_dataset.py's layout), both ways.

Channels: 0-3 foot contacts of (left ankle, right ankle, left toe, right toe), 1 where the joint
moves less than 1 cm in the next frame; 4-6 the root position; 7-150 the 24 SMPL joints' local
rotations as 6D (the first two rows of each matrix, pytorch3d's convention). The frame is z up:
AIST++'s y-up motion turned +90 degrees about x.
"""

from __future__ import annotations

import numpy as np

from a2a_cli.motion.fk import forward_kinematics
from a2a_cli.motion.motion import change_up_axis
from a2a_cli.motion.rotations import axis_angle_to_matrix, matrix_to_6d, matrix_to_quaternion, quaternion_to_axis_angle
from a2a_cli.motion.skeleton import FOOT_JOINTS

N_CHANNELS = 151
CONTACTS = slice(0, 4)  # in FOOT_JOINTS order
ROOT = slice(4, 7)
ROTATIONS = slice(7, N_CHANNELS)
CONTACT_STEP_M = 0.01  # EDGE's label: a foot joint moving less than this per frame touches the floor


def motion_to_vectors(poses: np.ndarray, trans: np.ndarray) -> np.ndarray:
    """a2a's y-up SMPL poses (T, 24, 3) axis-angle and trans (T, 3) -> EDGE vectors (T, 151) float32."""
    z_poses, z_trans = change_up_axis(poses, trans, to="z")
    feet = forward_kinematics(poses, trans)[:, FOOT_JOINTS]
    step = np.zeros(feet.shape[:2])
    step[:-1] = np.linalg.norm(feet[1:] - feet[:-1], axis=-1)
    sixd = matrix_to_6d(axis_angle_to_matrix(z_poses.astype(np.float64))).reshape(len(poses), -1)
    return np.concatenate([(step < CONTACT_STEP_M).astype(np.float64), z_trans, sixd], axis=1).astype(np.float32)


def to_motion_frame(root_z_up: np.ndarray, rotations: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """EDGE's z-up root path (T, 3) and joint rotations (T, 24, 3, 3) -> a2a's y-up poses (T, 24, 3), trans (T, 3)."""
    poses = quaternion_to_axis_angle(matrix_to_quaternion(rotations)).astype(np.float32)
    return change_up_axis(poses, root_z_up.astype(np.float32), to="y")
