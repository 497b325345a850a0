"""AIST++ motion files (`motions/*.pkl`): read without running anything, as a grounded y-up Motion.

AIST++ (Li et al., ICCV 2021) ships each dance as a Python pickle of a dict: `smpl_poses` (T, 72)
axis-angle, `smpl_trans` (T, 3) and `smpl_scaling` (1,), at 60 fps, y up. The root translation in
metres is `smpl_trans / smpl_scaling` (the AIST++ API does the same before SMPL), and the floor of the
dataset sits about 0.9 m above y = 0, so the motion is grounded (`motion.grounding.grounded`).

A pickle can run any code while it loads, and a user or a network hands us these files: the
unpickler here builds only dicts, numpy arrays, numpy scalars and plain numbers, and refuses any
other global with a one-line error before anything is constructed.
"""

from __future__ import annotations

import re

import numpy as np

from a2a_cli.errors import InputError
from a2a_cli.motion.grounding import grounded
from a2a_cli.motion.motion import MAX_FILE_FRAMES, Motion
from a2a_cli.safe_pickle import NUMPY_GLOBALS, restricted_loads

__all__ = ["AISTPP_FPS", "MAX_ARRAY_BYTES", "MAX_FILE_BYTES", "aistpp_motion", "music_tempo_bpm", "read_aistpp"]

AISTPP_FPS = 60.0
# AIST Dance DB music ids `m<genre><n>`: 80 + 10 n BPM, House (`mHO<n>`) 110 + 5 n (AIST Dance DB).
_MUSIC_ID = re.compile(r"_m([A-Z]{2})(\d)(?:_|$)")
_KEYS = ("smpl_poses", "smpl_trans", "smpl_scaling")
# The largest array an AIST++ file needs: smpl_poses of MAX_FILE_FRAMES frames in float64; the file
# holds its arrays and little else.
MAX_ARRAY_BYTES = MAX_FILE_FRAMES * 72 * 8
MAX_FILE_BYTES = 64 * 2**20

def read_aistpp(data: bytes, what: str = "AIST++ motion") -> dict[str, np.ndarray]:
    """The arrays of an AIST++ motion pickle (bytes), each a numeric numpy array.

    Raises InputError for anything else: a global outside numpy's arrays, an array larger than
    MAX_ARRAY_BYTES or than the file's bytes can hold (refused before it is made), a value that is
    not a number or array, a missing `smpl_poses`/`smpl_trans`/`smpl_scaling`, or bytes that are not a pickle.
    """
    loaded = restricted_loads(data, NUMPY_GLOBALS, what=what, expected="an AIST++ motion file holds only numpy arrays",
                              max_array_bytes=MAX_ARRAY_BYTES)
    if not isinstance(loaded, dict):
        raise InputError(f"{what} holds a {type(loaded).__name__}; expected a dict of arrays")
    arrays = {}
    for key, value in loaded.items():
        array = np.asarray(value) if isinstance(value, (np.ndarray, np.generic, int, float)) else None
        if not isinstance(key, str) or array is None or array.dtype.kind not in "fiu":
            raise InputError(f"{what}: entry {key!r} is not a numeric array")
        arrays[key] = array
    missing = [k for k in _KEYS if k not in arrays]
    if missing:
        raise InputError(f"{what} has no {', '.join(missing)}; expected {', '.join(_KEYS)}")
    return arrays


def aistpp_motion(arrays: dict[str, np.ndarray], fps: float = AISTPP_FPS) -> Motion:
    """A grounded y-up Motion from AIST++ arrays (`read_aistpp`): trans / scaling, feet on the floor.

    arrays: `smpl_poses` (T, 72) axis-angle radians, `smpl_trans` (T, 3), `smpl_scaling` (1,) or a
    scalar; fps: the capture rate (AIST++: 60).
    """
    poses, trans = arrays["smpl_poses"], arrays["smpl_trans"]
    scaling = np.asarray(arrays["smpl_scaling"], dtype=np.float64).reshape(-1)
    if poses.ndim != 2 or poses.shape[1] != 72 or trans.shape != (poses.shape[0], 3) or poses.shape[0] == 0:
        raise InputError(f"AIST++ smpl_poses {poses.shape} and smpl_trans {trans.shape}; expected (T, 72) and (T, 3)")
    if poses.shape[0] > MAX_FILE_FRAMES:
        raise InputError(f"AIST++ motion has {poses.shape[0]} frames, over the cap of {MAX_FILE_FRAMES}")
    if scaling.size != 1 or not np.isfinite(scaling[0]) or scaling[0] <= 0:
        raise InputError(f"AIST++ smpl_scaling must be one positive number, got {scaling[:3].tolist()}")
    if not (np.isfinite(poses).all() and np.isfinite(trans).all()):
        raise InputError("AIST++ motion holds NaN or inf values")
    motion = Motion(poses.reshape(-1, 24, 3).astype(np.float32), (trans / scaling[0]).astype(np.float32), fps=fps,
                    meta={"source": "AIST++"})
    return grounded(motion)


def music_tempo_bpm(name: str) -> float:
    """The tempo of the music an AIST++ dance was danced to, from its name (e.g.
    `gLH_sBM_cAll_d18_mLH4_ch02`: music mLH4, 120 BPM). Raises ValueError for a name without a music id."""
    found = _MUSIC_ID.search(name)
    if found is None:
        raise ValueError(f"{name!r} has no AIST++ music id (_m<genre><n>_)")
    genre, n = found.group(1), int(found.group(2))
    return 110.0 + 5.0 * n if genre == "HO" else 80.0 + 10.0 * n
