"""The Motion type: what generators return, files hold and metrics judge (DESIGN §3)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from a2a_cli.errors import InputError
from a2a_cli.frame_rate import FPS
from a2a_cli.motion.fk import forward_kinematics
from a2a_cli.motion.rotations import Y_UP_TO_Z_UP, Z_UP_TO_Y_UP, axis_angle_to_matrix, matrix_to_axis_angle
from a2a_cli.motion.skeleton import N_JOINTS

__all__ = ["DEFAULT_FPS", "MAX_FILE_FPS", "MAX_FILE_FRAMES", "MIN_FILE_FPS", "Motion", "change_up_axis", "require_finite"]

DEFAULT_FPS = float(FPS)  # a Motion's rate when its maker or file names none
# Frame rates a motion file may declare: anything a capture or an animation tool writes. (The judge
# accepts 24-240 fps, scoring.constants; files outside that range still read, and fail its fps gate.)
MIN_FILE_FPS = 1.0
MAX_FILE_FPS = 1000.0
# The longest motion a file may hold: 10 minutes at 120 fps (every reader checks it before reading the frames).
MAX_FILE_FRAMES = 72_000


def require_finite(values: np.ndarray, what: str) -> None:
    """InputError naming the first frame (axis 0) holding NaN or inf."""
    finite = np.isfinite(values).reshape(values.shape[0], -1).all(axis=1)
    if not finite.all():
        frame = int(np.argmin(finite))
        raise InputError(f"{what} holds NaN or inf values, first at frame {frame} (counting from 0)")


@dataclass(eq=False)
class Motion:
    """A dance: SMPL axis-angle `poses` (T, 24, 3), root `trans` (T, 3) in metres, y up.

    `poses` is None for motions known only as joint positions (a (T, 24, 3) `.npy`); such a motion
    can be scored but not written as BVH. `joints` is computed by forward kinematics on first use.
    """

    poses: np.ndarray | None
    trans: np.ndarray
    fps: float = DEFAULT_FPS
    meta: dict = field(default_factory=dict)
    _joints: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.trans = np.asarray(self.trans, dtype=np.float32)
        if self.poses is not None:
            self.poses = np.asarray(self.poses, dtype=np.float32)
            if self.poses.ndim != 3 or self.poses.shape[1:] != (N_JOINTS, 3):
                raise ValueError(f"poses must be (T, {N_JOINTS}, 3), got {self.poses.shape}")
            if self.trans.shape != (self.poses.shape[0], 3):
                raise ValueError(f"trans must be ({self.poses.shape[0]}, 3), got {self.trans.shape}")
        elif self._joints is None:
            raise ValueError("a Motion needs poses or joint positions")
        if not self.fps > 0:
            raise ValueError(f"fps must be positive, got {self.fps}")

    @classmethod
    def from_joints(cls, joints: np.ndarray, fps: float = DEFAULT_FPS, meta: dict | None = None) -> "Motion":
        """A motion known only as joint positions `joints` (T, 24, 3) in metres, at `fps` frames per second."""
        joints = np.asarray(joints, dtype=np.float32)
        if joints.ndim != 3 or joints.shape[1:] != (N_JOINTS, 3):
            raise ValueError(f"joint positions must be (T, {N_JOINTS}, 3), got {joints.shape}")
        return cls(poses=None, trans=joints[:, 0].copy(), fps=fps, meta=dict(meta or {}), _joints=joints)

    @property
    def n_frames(self) -> int:
        return int(self.trans.shape[0])

    @property
    def duration_s(self) -> float:
        return self.n_frames / self.fps

    @property
    def joints(self) -> np.ndarray:
        """Joint positions (T, 24, 3) in metres."""
        if self._joints is None:
            self._joints = forward_kinematics(self.poses, self.trans)
        return self._joints

    @property
    def has_rotations(self) -> bool:
        return self.poses is not None


def change_up_axis(poses: np.ndarray, trans: np.ndarray, to: str) -> tuple[np.ndarray, np.ndarray]:
    """Re-express a motion in a z-up frame (EDGE) or back to y-up (a2a), rotating root and path.

    Only the root orientation and the translation change; joint-local rotations are frame-free.
    """
    if to == "z":
        c = Y_UP_TO_Z_UP
    elif to == "y":
        c = Z_UP_TO_Y_UP
    else:
        raise ValueError(f"up axis must be 'y' or 'z', got {to!r}")
    poses = np.array(poses, dtype=np.float32, copy=True)
    root = axis_angle_to_matrix(poses[:, 0].astype(np.float64))
    poses[:, 0] = matrix_to_axis_angle(c @ root).astype(np.float32)
    trans = (np.asarray(trans, dtype=np.float64) @ c.T).astype(np.float32)
    return poses, trans
