"""What every command shares: the consoles, global options and settings lookup.

Keep this module light: it is imported on every start-up, including `a2a --help`.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from a2a_cli.motion.format_names import FORMATS as MOTION_FORMATS

__all__ = [
    "AUDIO_SUFFIXES", "GlobalOptions", "MOTION_FORMAT_WORDS", "MOTION_SUFFIXES", "ProgressBar",
    "UNWRAPPED_WIDTH", "files_in", "number", "print_json", "settings", "show_progress",
]

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")
MOTION_SUFFIXES = tuple(f".{fmt}" for fmt in MOTION_FORMATS)  # what a folder of motions is searched for
MOTION_FORMAT_WORDS = ", ".join(MOTION_FORMATS[:-1]) + " or " + MOTION_FORMATS[-1]  # "npy, npz or bvh", for help texts

# Rich fits output to a terminal's width; in a pipe or a file it would wrap at 80 columns, cutting
# file names and commands in two. There, lines are as long as their content (tables do not stretch),
# unless $COLUMNS asks for a width.
UNWRAPPED_WIDTH = 10_000


def _console(stream: Any, **options: Any) -> Console:
    """A console for `stream` (sys.stdout or sys.stderr): the terminal's width, or in a pipe the
    width $COLUMNS gives, else none."""
    import os

    try:
        terminal = stream.isatty()
    except (AttributeError, ValueError):  # a replaced or closed stream
        terminal = False
    columns = os.environ.get("COLUMNS", "").strip()
    asked = int(columns) if columns.isdigit() and int(columns) > 0 else None
    return Console(highlight=False, width=None if terminal else asked or UNWRAPPED_WIDTH, **options)


# Results go to stdout; progress, warnings and errors go to stderr so pipes stay clean.
out = _console(sys.stdout)
err = _console(sys.stderr, stderr=True)


@dataclass
class GlobalOptions:
    debug: bool = False
    profile: str | None = None
    config: Path | None = None


options = GlobalOptions()


def settings(flag_names: dict[str, str] | None = None, *, warn: bool = True, **flags: Any):
    """The effective settings: defaults < [default] < [profiles.NAME] < A2A_* env < these flags.

    `flags` are dotted keys ("generate.model") set on the command line; None means "not given".
    `flag_names`: the command's flag for a key whose flag is not --<key name>, for error messages.
    `warn`: say on stderr what is wrong in the config file's profiles not in use (they do not stop
    the command; `a2a config show` refuses them).
    """
    from rich.markup import escape

    from a2a_cli.config import load_settings

    loaded = load_settings(config_path=options.config, profile=options.profile, flags=flags, flag_names=flag_names)
    for problem in loaded.other_profile_problems if warn else ():
        err.print(f"[yellow]warning:[/yellow] {escape(problem)} (a profile not in use: this run goes on; "
                  "a2a config show checks the whole file)", soft_wrap=True)
    return loaded


def print_json(data: Any) -> None:
    """Machine-readable output on stdout, one document."""
    sys.stdout.write(json.dumps(data, indent=2, default=_json_default) + "\n")
    sys.stdout.flush()


def _json_default(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def show_progress() -> bool:
    """Progress bars only on a terminal; pipes and CI stay quiet."""
    return err.is_terminal


class ProgressBar:
    """A transient Rich bar on stderr while it is a terminal, and a silent no-op otherwise, so the
    commands never branch on it; `quiet` keeps it off for work too short to need one. With
    `in_bytes`, the counts are bytes, shown with their rate (downloads)."""

    def __init__(self, label: str = "", total: float | None = None, *, quiet: bool = False, in_bytes: bool = False):
        self.label, self.total, self.quiet, self.in_bytes = label, total, quiet, in_bytes
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> ProgressBar:
        if not self.quiet and show_progress():
            from rich.progress import (BarColumn, DownloadColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn,
                                       TransferSpeedColumn)

            counts = (DownloadColumn(), TransferSpeedColumn()) if self.in_bytes else (MofNCompleteColumn(),)
            self._bar = Progress(TextColumn("{task.description}"), BarColumn(), *counts, TimeRemainingColumn(),
                                 console=err, transient=True)
            self._bar.start()
            self._task = self._bar.add_task(self.label, total=self.total)
        return self

    def update(self, *, completed: float | None = None, total: float | None = None, description: str | None = None) -> None:
        """Set what is given (None leaves it as it is)."""
        if self._bar is not None:
            self._bar.update(self._task, completed=completed, total=total, description=description)

    def advance(self) -> None:
        """One more item done."""
        if self._bar is not None:
            self._bar.advance(self._task)

    def __exit__(self, *exc: Any) -> bool:
        if self._bar is not None:
            self._bar.stop()
        return False


def files_in(paths: list[Path], suffixes: tuple[str, ...], kind: str) -> list[Path]:
    """Files named, plus the `kind` files (by suffix) directly inside the folders named, sorted per
    folder; a missing file or a folder without any is an InputError, found before any work starts."""
    from a2a_cli.errors import InputError

    files: list[Path] = []
    for path in paths:
        try:
            if path.is_dir():
                found = sorted(p for p in path.iterdir() if p.suffix.lower() in suffixes and p.is_file())
                if not found:
                    raise InputError(f"no {kind} files ({', '.join(suffixes)}) in {path}")
                files.extend(found)
            elif not path.exists():
                raise InputError(f"{kind} file not found: {path}")
            else:
                files.append(path)
        except OSError as e:  # a folder we may not list, or a path inside one we may not enter
            raise InputError(f"cannot read {path}: {e.strerror or e}") from None
    return files


def number(value) -> str:
    """A measured number for a table: None as "-", whole numbers bare, tiny or huge ones in 3
    significant digits (a PFC of 0.0004 is not 0.00), the rest with 3 decimals."""
    if value is None:
        return "-"
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1:
        return str(int(value))
    if isinstance(value, float) and (abs(value) >= 1e4 or (value != 0 and abs(value) < 1e-3)):
        return f"{value:.3g}"
    return f"{value:.3f}" if isinstance(value, float) else str(value)
