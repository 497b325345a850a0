"""On-disk cache of analyses, keyed by the audio file's sha256, the cut and the feature version.

Entries are plain .npz files (no pickles), written atomically; an unreadable or malformed entry
is treated as a miss and overwritten. The folder is the caller's choice (the CLI takes it from the
settings, `Settings.audio_cache_dir`), so the library never looks at the environment.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

__all__ = ["FEATURE_VERSION", "entry_path", "load", "store"]

# Bump when the features change, so stale entries are never served.
FEATURE_VERSION = 1

_ARRAYS = ("features", "onset_env", "rms", "beat_frames")
_SCALARS = ("duration_s", "tempo_bpm")


def entry_path(folder: Path, sha256: str, start_s: float | None, duration_s: float | None) -> Path:
    """The cache file of one analysis: the audio's sha256 (hex), the cut (`start_s` seconds, `duration_s`
    seconds or None for the rest) and the feature version, in `folder`."""
    start = f"{float(start_s or 0.0):.6f}"
    length = "all" if duration_s is None else f"{float(duration_s):.6f}"
    return folder / f"{sha256}-{start}-{length}-v{FEATURE_VERSION}.npz"


def load(path: Path) -> dict | None:
    """The stored fields, or None when the entry is missing, unreadable or of another version."""
    try:
        with np.load(path, allow_pickle=False) as data:
            fields = {name: np.array(data[name]) for name in _ARRAYS}
            fields.update({name: float(data[name]) for name in _SCALARS})
            version = int(data["version"])
    except (OSError, KeyError, ValueError, TypeError, EOFError, zipfile.BadZipFile):
        return None
    return fields if version == FEATURE_VERSION else None


def store(path: Path, fields: dict) -> None:
    """Write an entry atomically; a cache that cannot be written is skipped, never an error."""
    from a2a_cli.errors import WorkError
    from a2a_cli.fileio import atomic_write

    arrays = {name: fields[name] for name in _ARRAYS + _SCALARS}
    try:
        atomic_write(path, lambda f: np.savez(f, version=FEATURE_VERSION, **arrays))
    except (WorkError, OSError):
        pass
