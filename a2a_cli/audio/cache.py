"""On-disk cache of analyses, keyed by the audio file's sha256, the cut, the kind and the feature version.

Two kinds share the folder: music (`a2a_cli.audio.analysis`, the default) and speech
(`a2a_cli.audio.speech`), each with its own fields and version.

Entries are plain .npz files (no pickles), written atomically; an unreadable or malformed entry
is treated as a miss and overwritten. The folder is the caller's choice (the CLI takes it from the
settings, `Settings.audio_cache_dir`), so the library never looks at the environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from a2a_cli.errors import ARCHIVE_ERRORS

__all__ = ["FEATURE_VERSION", "MUSIC", "SPEECH", "Kind", "entry_path", "load", "store"]


@dataclass(frozen=True)
class Kind:
    """One kind of analysis: its entries' name tag (music has none, as before kinds), its array and
    scalar fields, and its version: bump it when the fields' meaning changes, so stale entries are never served."""

    tag: str
    arrays: tuple[str, ...]
    scalars: tuple[str, ...]
    version: int


FEATURE_VERSION = 1  # music's
MUSIC = Kind("", ("features", "onset_env", "rms", "beat_frames"), ("duration_s", "tempo_bpm"), FEATURE_VERSION)
SPEECH = Kind("speech-", ("voiced", "loudness_db", "f0_hz", "syllable_times_s", "stress_times_s", "stress_strength",
                          "pauses_s"), ("duration_s", "speaking_rate_hz", "pitch_range_st", "animation"), 1)


def entry_path(folder: Path, sha256: str, start_s: float | None, duration_s: float | None, kind: Kind = MUSIC) -> Path:
    """The cache file of one analysis: the audio's sha256 (hex), the cut (`start_s` seconds, `duration_s`
    seconds or None for the rest), the kind and its version, in `folder`."""
    start = f"{float(start_s or 0.0):.6f}"
    length = "all" if duration_s is None else f"{float(duration_s):.6f}"
    return folder / f"{kind.tag}{sha256}-{start}-{length}-v{kind.version}.npz"


def load(path: Path, kind: Kind = MUSIC) -> dict | None:
    """The stored fields, or None when the entry is missing, unreadable or of another version."""
    try:
        with np.load(path, allow_pickle=False) as data:
            fields = {name: np.array(data[name]) for name in kind.arrays}
            fields.update({name: float(data[name]) for name in kind.scalars})
            version = int(data["version"])
    except (KeyError, TypeError, *ARCHIVE_ERRORS):
        return None
    return fields if version == kind.version else None


def store(path: Path, fields: dict, kind: Kind = MUSIC) -> None:
    """Write an entry atomically; a cache that cannot be written is skipped, never an error."""
    from a2a_cli.errors import WorkError
    from a2a_cli.fileio import atomic_write

    arrays = {name: fields[name] for name in kind.arrays + kind.scalars}
    try:
        atomic_write(path, lambda f: np.savez(f, version=kind.version, **arrays))
    except (WorkError, OSError):
        pass
