"""Atomic writes: the new content replaces the old in one rename, and the rename itself is synced."""

from __future__ import annotations

import os
import stat

import pytest

from a2a_cli import fileio
from a2a_cli.errors import WorkError


def _record_syncs(monkeypatch) -> list[tuple]:
    """Events ("replace",) and ("fsync", is_folder, inode) in the order they happen."""
    events: list[tuple] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        info = os.fstat(fd)
        events.append(("fsync", stat.S_ISDIR(info.st_mode), info.st_ino))
        real_fsync(fd)

    def replace(src, dst):
        events.append(("replace",))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    return events


def test_the_folder_is_synced_after_the_rename(tmp_path, monkeypatch):
    target = tmp_path / "state" / "validator.json"
    events = _record_syncs(monkeypatch)
    fileio.atomic_write(target, "new")
    assert target.read_text() == "new"
    folder_inode = target.parent.stat().st_ino
    file_sync = ("fsync", False, target.stat().st_ino)  # the rename keeps the temporary file's inode
    assert events == [file_sync, ("replace",), ("fsync", True, folder_inode)]
    assert sorted(p.name for p in target.parent.iterdir()) == ["validator.json"]


def test_a_folder_that_cannot_be_synced_does_not_fail_the_write(tmp_path, monkeypatch):
    real_fsync = os.fsync

    def fsync(fd):
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(22, "Invalid argument")  # what some file systems answer for folders
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    assert fileio.atomic_write(tmp_path / "a.txt", b"data").read_bytes() == b"data"


def test_a_failing_file_sync_is_a_work_error_and_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "a.txt"
    target.write_text("old")

    def fsync(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(WorkError, match="cannot write .*a.txt: Input/output error"):
        fileio.atomic_write(target, "new")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_a_lock_that_removes_its_file_still_admits_one_holder_at_a_time(tmp_path):
    """exclusive_lock(remove=True) leaves no .lock file behind (a download's litter, issue 19, 4); a
    process waiting on the file its holder deletes locks the new one, so holders never overlap."""
    import threading
    import time

    target = tmp_path / "weights.pt"
    inside, most, errors = [0], [0], []
    guard = threading.Lock()

    def worker() -> None:
        try:
            for _ in range(20):
                with fileio.exclusive_lock(target, what="test", remove=True):
                    with guard:
                        inside[0] += 1
                        most[0] = max(most[0], inside[0])
                    time.sleep(0.001)
                    with guard:
                        inside[0] -= 1
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and most[0] == 1
    assert list(tmp_path.iterdir()) == []
