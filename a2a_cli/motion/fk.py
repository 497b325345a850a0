"""Forward kinematics on the SMPL skeleton, vectorised over frames (and clips)."""

from __future__ import annotations

import numpy as np

from a2a_cli.motion.rotations import axis_angle_to_matrix
from a2a_cli.motion.skeleton import N_JOINTS, Skeleton, smpl_skeleton


def forward_kinematics(poses: np.ndarray, trans: np.ndarray, skeleton: Skeleton | None = None) -> np.ndarray:
    """Joint positions in metres from axis-angle poses (..., 24, 3) and root translation (..., 3).

    The root joint sits at `trans`; each child is its parent's position plus the parent's global
    rotation applied to the child's rest offset. Returns (..., 24, 3) in the dtype of `poses`
    (float32 for motion files), so batches of clips stay light.
    """
    skeleton = skeleton or smpl_skeleton()
    poses = np.asarray(poses)
    dtype = np.float32 if poses.dtype != np.float64 else np.float64
    lead = poses.shape[:-2]
    if poses.shape[-2:] != (N_JOINTS, 3):
        raise ValueError(f"poses must be (..., {N_JOINTS}, 3), got {poses.shape}")
    local = axis_angle_to_matrix(poses.astype(dtype, copy=False).reshape(-1, N_JOINTS, 3))
    n = local.shape[0]
    offsets = skeleton.offsets.astype(dtype)
    glob = np.empty_like(local)
    pos = np.empty((n, N_JOINTS, 3), dtype=dtype)
    glob[:, 0] = local[:, 0]
    pos[:, 0] = np.asarray(trans, dtype=dtype).reshape(n, 3)
    for j in range(1, N_JOINTS):
        p = skeleton.parents[j]
        np.matmul(glob[:, p], local[:, j], out=glob[:, j])
        pos[:, j] = pos[:, p] + glob[:, p] @ offsets[j]
    return pos.reshape(lead + (N_JOINTS, 3))
