"""AMASS-style motion archives (`.npz` with `poses`, `trans`, `mocap_framerate`) as grounded y-up Motions.

AMASS (Mahmood et al., ICCV 2019) stores SMPL-family parameters in a z-up world: `poses` (T, 156)
for SMPL-H (22 body joints, then 30 finger joints), (T, 165) for SMPL-X or (T, 72) for SMPL;
`trans` (T, 3) in metres; `mocap_framerate` (AMASS's SMPL-X releases spell it `mocap_frame_rate`).

The SMPL model rotates the body about its rest pelvis J0 and then adds `trans`, so the pelvis sits at
`trans + J0` (J0 unrotated, in world coordinates), while a2a's forward kinematics puts the pelvis at
the root translation. J0 of the SMPL template is about (0.00, -0.22, 0.03) m; after grounding only
its horizontal part is left, a constant shift of the whole dance that no metric sees. The 22 body
joints are SMPL's first 22; SMPL's two hand joints (22, 23) are left at rest.
"""

from __future__ import annotations

import numpy as np

from a2a_cli.errors import InputError
from a2a_cli.motion.grounding import grounded
from a2a_cli.motion.motion import MAX_FILE_FPS, MIN_FILE_FPS, Motion, change_up_axis
from a2a_cli.motion.skeleton import N_JOINTS

__all__ = ["FRAMERATE_KEYS", "amass_motion"]

FRAMERATE_KEYS = ("mocap_framerate", "mocap_frame_rate")
REST_PELVIS_M = np.array([0.0, -0.22, 0.03])  # SMPL template's pelvis joint (approximate: see the module doc)
_BODY_JOINTS = 22
_POSE_WIDTHS = {72: "SMPL", 156: "SMPL-H", 165: "SMPL-X"}


def amass_motion(arrays: dict[str, np.ndarray]) -> Motion:
    """A grounded y-up Motion from the arrays of an AMASS archive: `poses` (T, 72 | 156 | 165),
    `trans` (T, 3), and one of FRAMERATE_KEYS (a rate a motion file may declare)."""
    rate = next(arrays[k] for k in FRAMERATE_KEYS if k in arrays)
    if rate.size != 1 or not np.isfinite(rate).all() or not MIN_FILE_FPS <= float(rate.reshape(())) <= MAX_FILE_FPS:
        raise InputError(f"AMASS frame rate must be one number in [{MIN_FILE_FPS:g}, {MAX_FILE_FPS:g}], "
                         f"got {rate.reshape(-1)[:3].tolist()}")
    poses, trans = arrays.get("poses"), arrays.get("trans")
    if poses is None or trans is None:
        raise InputError("AMASS archive needs 'poses' and 'trans'")
    if poses.ndim != 2 or poses.shape[1] not in _POSE_WIDTHS or poses.shape[0] == 0:
        raise InputError(f"AMASS 'poses' has shape {tuple(poses.shape)}; expected (T, 72), (T, 156) or (T, 165)")
    if trans.shape != (poses.shape[0], 3):
        raise InputError(f"AMASS 'trans' has shape {tuple(trans.shape)}; expected ({poses.shape[0]}, 3)")
    if not (np.isfinite(poses).all() and np.isfinite(trans).all()):
        raise InputError("AMASS motion holds NaN or inf values")
    body = np.zeros((poses.shape[0], N_JOINTS, 3))
    body[:, :_BODY_JOINTS] = poses[:, : 3 * _BODY_JOINTS].reshape(-1, _BODY_JOINTS, 3)
    pelvis = trans.astype(np.float64) + REST_PELVIS_M
    poses_y, trans_y = change_up_axis(body, pelvis, to="y")
    meta = {"source": "AMASS", "body_model": _POSE_WIDTHS[poses.shape[1]]}
    return grounded(Motion(poses_y, trans_y, fps=float(rate.reshape(())), meta=meta))
