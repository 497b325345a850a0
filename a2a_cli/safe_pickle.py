"""Reading pickles that users and networks hand us, without running them.

A pickle can call any function while it loads. Datasets and model files still come as pickles (AIST++
motions, SMPL models), so they are read through an unpickler whose only globals are the ones a file
of that kind needs (numpy's array and scalar constructors, at most a sparse matrix): any other global
is refused with a one-line error before anything is constructed. `weights_only` checkpoints are torch's
business (generation/edge), not this module's.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Callable

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


def restricted_loads(data: bytes, allowed: frozenset[tuple[str, str]], *, what: str, expected: str,
                     resolve: Callable[[str, str], object] | None = None, encoding: str = "ASCII") -> object:
    """Unpickle `data` (bytes) using only the globals in `allowed` ((module, name) pairs).

    what: the file, for messages ("AIST++ motion"); expected: what such a file holds, for the refusal
    ("only numpy arrays"); resolve: builds an allowed global itself (a moved module, say) instead of
    importing it by name; encoding: for Python 2 pickles (SMPL's are "latin1").
    Raises InputError: "refused: <what> names <module>.<name>; <expected>" for any other global, or
    "<what> is not a readable pickle (...)" for damaged data.
    """

    class Restricted(pickle.Unpickler):
        def find_class(self, module: str, name: str):
            if (module, name) not in allowed:
                raise InputError(f"refused: {what} names {module}.{name}; {expected}")
            return resolve(module, name) if resolve is not None else super().find_class(module, name)

    try:
        return Restricted(io.BytesIO(data), encoding=encoding).load()
    except InputError:
        raise
    except Exception as e:  # a damaged or foreign pickle: any error of the pickle machinery
        detail = str(e).splitlines()[0] if str(e) else ""
        raise InputError(f"{what} is not a readable pickle ({type(e).__name__}: {detail})") from None
