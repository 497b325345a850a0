"""Atomic file writes: a reader sees the old file or the new one, never half of one; and the
checked read-back of the versioned JSON state files written so.

A path that is (or passes through) a symlink is followed to the real file, for writes and for
locks alike: a write replaces the file the link points to and keeps the link, and two processes
holding the same file under two names take the same lock.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator

from a2a_cli.errors import WorkError

__all__ = [
    "atomic_path", "atomic_write", "exclusive_lock", "move_into_place", "parse_versioned_json", "real_path",
    "remove_leftover_parts",
]

# Read once at import: os.umask can only be read by setting it, which is not thread-safe later.
_UMASK = os.umask(0o022)
os.umask(_UMASK)


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success it replaces `path` in one rename.

    For writers that want a file name (ffmpeg, np.savez). On any exception the temporary file is
    removed and `path` is untouched, so an interrupted run leaves no half-written output. A symlink
    is followed: the file it points to is replaced, the link kept.
    """
    path = real_path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part" + path.suffix, dir=path.parent)
    except OSError as e:
        raise WorkError(f"cannot write {path}: {e.strerror or e}") from None
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs get the usual permissions
    try:
        yield tmp_path
        move_into_place(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def move_into_place(source: str | os.PathLike, path: str | os.PathLike) -> Path:
    """Replace `path` with the finished file `source` in one rename, durably; returns `path`.

    `source` must be on the same file system (beside `path`, or in a folder next to it): a reader
    of `path` then sees the old file or the new one, never half of one. The data is synced before
    the rename and the folder entry after it, so a power loss cannot bring back a truncated file.
    """
    path = Path(path)
    try:
        with open(source, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(source, path)
    except OSError as e:  # `path` is a folder, or the disk failed
        raise WorkError(f"cannot write {path}: {e.strerror or e}") from None
    _fsync_folder(path.parent)
    return path


def _fsync_folder(folder: Path) -> None:
    """Make the rename durable: until the folder's entry is on disk, a power loss can bring back
    the old file (or none). Skipped where a folder cannot be opened or synced (Windows, some
    network file systems): the data itself was already synced."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def real_path(path: str | os.PathLike) -> Path:
    """`path` with `~` expanded and every symlink followed (the file need not exist yet)."""
    return Path(os.path.realpath(Path(path).expanduser()))


def remove_leftover_parts(path: str | os.PathLike) -> None:
    """Remove the temporary files of atomic writes to `path` killed before their rename.

    Call it only while holding the lock every writer of `path` holds: otherwise one of them could be
    another process's write in flight.
    """
    path = Path(path)
    for leftover in path.parent.glob(f".{path.name}.*.part{path.suffix}"):
        leftover.unlink(missing_ok=True)


@contextmanager
def exclusive_lock(path: str | os.PathLike, *, what: str, busy: str | None = None, remove: bool = False) -> Iterator[None]:
    """Hold an exclusive flock on `path`'s sibling `.lock` file, for every process writing `path`.

    The OS drops the lock when its process dies, even by kill -9. Once it is held, the leftovers of
    atomic writes to `path` killed before their rename are removed. `what` names the file in errors;
    with `busy`, a lock held elsewhere is that error at once instead of a wait. The lock is the real
    file's (symlinks followed), whatever name `path` gives it. With `remove`, the `.lock` file is
    deleted on release (for work done rarely, such as a download, where an empty file left beside the
    result is litter): a process that was waiting on the deleted file sees it gone once it holds it,
    and locks the file now at that name instead.
    """
    path = real_path(path)
    lock_path = path.with_name(path.name + ".lock")
    while True:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            lock = open(lock_path, "a+")
        except OSError as e:
            raise WorkError(f"cannot open the {what} lock {lock_path}: {e.strerror or e}") from None
        with lock:
            try:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX | (fcntl.LOCK_NB if busy else 0))
            except BlockingIOError:
                raise WorkError(busy) from None
            if remove and not _names(lock_path, lock):
                continue  # its holder deleted it while this process waited: lock the file there now
            remove_leftover_parts(path)
            try:
                yield
            finally:
                if remove:
                    lock_path.unlink(missing_ok=True)  # still held: nobody can be inside with it
            return


def _names(path: Path, opened: IO) -> bool:
    """Whether `path` still names the file `opened` is (not deleted, nor replaced by another)."""
    try:
        return os.stat(path).st_ino == os.fstat(opened.fileno()).st_ino
    except FileNotFoundError:
        return False


def atomic_write(path: str | os.PathLike, data: bytes | str | Callable[[IO[bytes]], None]) -> Path:
    """Write bytes, text (UTF-8) or whatever `data(file)` writes, atomically; returns the path."""
    path = Path(path)
    with atomic_path(path) as tmp:
        try:
            with open(tmp, "wb") as f:
                if callable(data):
                    data(f)
                else:
                    f.write(data.encode() if isinstance(data, str) else data)
        except OSError as e:
            raise WorkError(f"cannot write {path}: {e.strerror or e}") from None
    return path


def parse_versioned_json(text: str, version: int | tuple[int, ...], where: str) -> dict:
    """A JSON object whose "version" is `version` (or one of them: the versions a reader migrates);
    anything else is a WorkError naming `where` (a state file damaged by hand or written by another
    release) that says how to start afresh."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise WorkError(f"{where} is corrupt ({e.msg} at line {e.lineno}); delete it to start afresh") from None
    except RecursionError:
        raise WorkError(f"{where} is corrupt (nested too deeply); delete it to start afresh") from None
    versions = version if isinstance(version, tuple) else (version,)
    if not isinstance(doc, dict) or type(doc.get("version")) is not int or doc["version"] not in versions:
        raise WorkError(f"{where} has an unknown format; delete it to start afresh")
    return doc
