"""Motion data: the Motion type, rotations, the SMPL skeleton and forward kinematics, file formats."""

from a2a_cli.motion.motion import DEFAULT_FPS, Motion, change_up_axis

__all__ = ["DEFAULT_FPS", "Motion", "change_up_axis"]
