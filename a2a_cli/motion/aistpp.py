"""AIST++ motion files: the pickles of the AIST++ release (and of EDGE's training bundle), read safely.

An AIST++ motion is a pickled dict: `smpl_poses` (T, 72) axis-angle, `smpl_trans` (T, 3) in
centimetres-ish units that `smpl_scaling` (1,) divides back to metres, `smpl_loss` (a float), at
60 fps, y up. The pickle is read by an unpickler that can build only dicts, lists, tuples, numbers,
strings and numpy arrays of numbers: any other global (a function a hostile file would call) is
refused before it runs, and object arrays are refused too.
"""

from __future__ import annotations

import io
import os
import pickle
from pathlib import Path

import numpy as np

from a2a_cli.errors import InputError
from a2a_cli.motion.motion import Motion
from a2a_cli.motion.skeleton import N_JOINTS

AISTPP_FPS = 60.0
MAX_PICKLE_BYTES = 256 * 1024 * 1024  # a 10-minute AIST++ motion is about 2 MB

# The globals a numpy array (or scalar) pickle names, under numpy 1's and numpy 2's module paths:
# protocols 2-4 rebuild arrays with _reconstruct, protocol 5 with _frombuffer, and protocol 2
# spells bytes as _codecs.encode(text, "latin1"). None of them can do more than build data.
_ALLOWED_GLOBALS = {
    (f"numpy.{core}.{module}", name)
    for core in ("core", "_core")
    for module, name in (("multiarray", "_reconstruct"), ("multiarray", "scalar"), ("numeric", "_frombuffer"))
} | {("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}


class _RefusedGlobal(Exception):
    """The pickle names a global outside the allow-list (its dotted name is the message)."""


class _ArraysOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) not in _ALLOWED_GLOBALS:
            raise _RefusedGlobal(f"{module}.{name}")
        return super().find_class(module, name)


def read_aistpp(path: str | os.PathLike) -> dict:
    """The dict an AIST++ motion pickle holds, its arrays as numeric numpy arrays.

    Raises InputError (one line) for a missing, oversized or malformed file, a pickle naming
    anything but numpy arrays, or one lacking `smpl_poses` (T, 72) and `smpl_trans` (T, 3).
    """
    path = Path(path)
    try:
        if path.stat().st_size > MAX_PICKLE_BYTES:
            raise InputError(f"{path} is larger than any AIST++ motion ({MAX_PICKLE_BYTES // 2**20} MB at most)")
        data = path.read_bytes()
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror or e}") from None
    try:
        doc = _ArraysOnlyUnpickler(io.BytesIO(data)).load()
    except _RefusedGlobal as e:
        raise InputError(f"{path} refused: its pickle names {e}, which is not a numpy array (a motion file may carry data, never code)") from None
    except Exception as e:  # a truncated or garbled pickle
        raise InputError(f"{path} is not an AIST++ motion pickle: {type(e).__name__}: {e}") from None
    if not isinstance(doc, dict):
        raise InputError(f"{path} is not an AIST++ motion: expected a dict, got {type(doc).__name__}")
    for key, value in doc.items():
        if isinstance(value, np.ndarray) and value.dtype.kind not in "biuf":
            raise InputError(f"{path}: {key!r} is a {value.dtype} array, not numbers")
    poses, trans = doc.get("smpl_poses"), doc.get("smpl_trans")
    if not isinstance(poses, np.ndarray) or poses.ndim != 2 or poses.shape[1] != N_JOINTS * 3:
        raise InputError(f"{path} is not an AIST++ motion: smpl_poses must be a (T, {N_JOINTS * 3}) array")
    if not isinstance(trans, np.ndarray) or trans.shape != (poses.shape[0], 3):
        raise InputError(f"{path} is not an AIST++ motion: smpl_trans must be a ({poses.shape[0]}, 3) array")
    return doc


def motion_from_aistpp(doc: dict, meta: dict | None = None) -> Motion:
    """An AIST++ dict (from `read_aistpp`) as a Motion at 60 fps, translation divided by `smpl_scaling`
    (metres, as EDGE's data preparation does), y up."""
    poses = np.asarray(doc["smpl_poses"], dtype=np.float32).reshape(-1, N_JOINTS, 3)
    scaling = np.asarray(doc.get("smpl_scaling", [1.0]), dtype=np.float64).reshape(-1)
    scale = float(scaling[0]) if scaling.size else 1.0
    if not np.isfinite(scale) or scale <= 0:
        raise InputError(f"smpl_scaling must be a positive number, got {scale}")
    trans = np.asarray(doc["smpl_trans"], dtype=np.float64) / scale
    if not (np.isfinite(poses).all() and np.isfinite(trans).all()):
        raise InputError("an AIST++ motion with non-finite values")
    return Motion(poses=poses, trans=trans.astype(np.float32), fps=AISTPP_FPS, meta=dict(meta or {}))
