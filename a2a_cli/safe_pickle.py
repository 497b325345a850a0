"""Reading pickles that users and networks hand us, without running them and without letting them
ask for memory their bytes do not hold.

A pickle can call any function while it loads. Datasets and model files still come as pickles (AIST++
motions, SMPL models), so they are read through an unpickler whose only globals are the ones a file
of that kind needs (numpy's array and scalar constructors, at most a sparse matrix): any other global
is refused with a one-line error before anything is constructed. `weights_only` checkpoints are torch's
business (generation/edge), not this module's.

Arrays are sized before they are made. A pickled array is `_reconstruct(ndarray, (0,), dtype)`, an
empty array, then `__setstate__` with its shape, dtype and raw bytes; a hostile file can instead ask
`_reconstruct` (or `ndarray` itself) for a shape of gigabytes in a few hundred bytes, or give a state
whose shape its bytes do not back (numpy then crashes on object arrays). Here `ndarray` cannot be
called, `_reconstruct` and every state are checked first (no Python objects; the shape's bytes
within `max_array_bytes`; a state's bytes exactly those its shape needs), and all arrays together
may not hold more bytes than the pickle itself, since every value must come from it.
"""

from __future__ import annotations

import io
import math
import pickle
from collections.abc import Callable

import numpy as np

from a2a_cli.errors import InputError

__all__ = ["NUMPY_GLOBALS", "restricted_loads"]

# The globals numpy arrays and scalars pickle through (numpy 1.x and 2.x module paths), and the codec
# that protocol 2 uses for bytes.
NUMPY_GLOBALS = frozenset({
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("_codecs", "encode"),
})
_RECONSTRUCT = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct")}
_MAX_DIMENSIONS = 32  # numpy's own limit


def restricted_loads(data: bytes, allowed: frozenset[tuple[str, str]], *, what: str, expected: str,
                     resolve: Callable[[str, str], object] | None = None, encoding: str = "ASCII",
                     max_array_bytes: int | None = None) -> object:
    """Unpickle `data` (bytes) using only the globals in `allowed` ((module, name) pairs).

    what: the file, for messages ("AIST++ motion"); expected: what such a file holds, for the refusal
    ("only numpy arrays"); resolve: builds an allowed global itself (a moved module, say) instead of
    importing it by name; encoding: for Python 2 pickles (SMPL's are "latin1"); max_array_bytes: the
    most bytes one array may hold (None: the pickle's length).
    Raises InputError: "refused: <what> names <module>.<name>; <expected>" for any other global,
    "<what> ..." for an array refused by size or kind, or "<what> is not a readable pickle (...)"
    for damaged data. Arrays come back as plain numpy arrays.
    """
    per_array = len(data) if max_array_bytes is None else int(max_array_bytes)
    budget = [len(data)]  # bytes all arrays may still hold between them

    def take(shape: object, dtype: object) -> int:
        """The bytes an array of `shape` and `dtype` holds, counted against the limits (InputError past them)."""
        if not isinstance(dtype, np.dtype):
            raise InputError(f"{what}: an array's dtype is not a numpy dtype")
        if dtype.hasobject:
            raise InputError(f"{what} holds an array of Python objects; {expected}")
        dims = tuple(shape) if isinstance(shape, (tuple, list)) else None
        if dims is None or len(dims) > _MAX_DIMENSIONS or not all(type(n) is int and n >= 0 for n in dims):
            raise InputError(f"{what}: an array's shape is not a tuple of sizes")
        nbytes = math.prod(dims) * dtype.itemsize
        if nbytes > per_array or nbytes > budget[0]:
            raise InputError(f"{what} asks for an array of shape {dims[:8]} of {dtype} ({nbytes} bytes), more than the "
                             f"file's {len(data)} bytes can hold; refused before making it")
        budget[0] -= nbytes
        return nbytes

    class CheckedArray(np.ndarray):
        """The arrays this pickle builds: their state is checked before numpy takes it."""

        def __setstate__(self, state):
            fields = state[1:] if isinstance(state, tuple) and len(state) == 5 else state
            if not isinstance(fields, tuple) or len(fields) != 4:
                raise InputError(f"{what}: an array's state is not numpy's")
            shape, dtype, _fortran, raw = fields
            nbytes = take(shape, dtype)
            if not isinstance(raw, (bytes, bytearray, str)) or len(raw) != nbytes:
                raise InputError(f"{what}: an array of {nbytes} bytes comes with {len(raw) if hasattr(raw, '__len__') else 'no'} "
                                 "bytes of data")
            super().__setstate__(state)

    class ArrayType:
        """What the name `numpy.ndarray` means inside this pickle: the type `_reconstruct` is asked
        for, which cannot itself be called to make an array."""

        def __new__(cls, *args, **kwargs):
            raise InputError(f"{what} calls numpy.ndarray to make an array directly; {expected}")

    def reconstruct(subtype: object, shape: object, dtype: object) -> np.ndarray:
        if subtype is not ArrayType:
            raise InputError(f"{what}: an array of another type than numpy's; {expected}")
        take(shape, np.dtype(dtype) if isinstance(dtype, (bytes, str)) else dtype)
        return np.ndarray.__new__(CheckedArray, shape, dtype)

    class Restricted(pickle.Unpickler):
        def find_class(self, module: str, name: str):
            if (module, name) not in allowed:
                raise InputError(f"refused: {what} names {module}.{name}; {expected}")
            if (module, name) in _RECONSTRUCT:
                return reconstruct
            if (module, name) == ("numpy", "ndarray"):
                return ArrayType
            return resolve(module, name) if resolve is not None else super().find_class(module, name)

    try:
        loaded = Restricted(io.BytesIO(data), encoding=encoding).load()
    except InputError:
        raise
    except RecursionError:
        raise InputError(f"{what} is not a readable pickle (nested too deeply)") from None
    except Exception as e:  # a damaged or foreign pickle: any error of the pickle machinery
        detail = str(e).splitlines()[0] if str(e) else ""
        raise InputError(f"{what} is not a readable pickle ({type(e).__name__}: {detail})") from None
    return _plain(loaded)


def _plain(value: object) -> object:
    """`value` with the arrays it holds (itself, or a dict's values) as plain numpy arrays."""
    if isinstance(value, np.ndarray):
        return value.view(np.ndarray)
    if isinstance(value, dict):
        return {key: _plain(item) if isinstance(item, np.ndarray) else item for key, item in value.items()}
    return value
