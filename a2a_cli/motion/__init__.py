"""Motion data: the Motion type, rotations, the SMPL skeleton and forward kinematics, file formats.

The package's names are loaded on first use (PEP 562), so that importing a light leaf such as
`motion.format_names` does not load numpy and the Motion code with it.
"""

__all__ = ["DEFAULT_FPS", "Motion", "change_up_axis"]


def __getattr__(name: str):
    if name in __all__:
        from a2a_cli.motion import motion

        return getattr(motion, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
