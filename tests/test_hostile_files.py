"""Hostile motion files (issue 18, break 6): each is refused by `a2a score` with exit 2 and a one-line
reason, in a process of its own whose peak memory is measured (and capped, so that a regression
fails here instead of taking the machine). A file's readers size every allocation from its data,
and check it against their caps, before they allocate.
"""

from __future__ import annotations

import gzip
import io
import os
import pickle
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from a2a_cli.motion import Motion
from a2a_cli.motion.bvh import write_bvh

PEAK_LIMIT_MB = 500
ADDRESS_SPACE_CAP = 4 * 2**30  # the child's hard ceiling: a reader that allocates gigabytes fails here, not the machine


# The child limits its address space, notes its own peak memory when it exits (the kernel's VmHWM:
# a child's rusage would count this test process too, whose memory it shares until exec), then runs
# `-m module args...` or `-c code`.
LAUNCHER = """
import atexit, pathlib, resource, runpy, sys
cap, report = int(sys.argv[1]), pathlib.Path(sys.argv[2])
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
status = pathlib.Path("/proc/self/status")
atexit.register(lambda: report.write_text(next(l for l in status.read_text().splitlines() if l.startswith("VmHWM")).split()[1]))
if sys.argv[3] == "-m":
    sys.argv = [sys.argv[4], *sys.argv[5:]]
    runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
else:
    exec(sys.argv[4])
"""


def run_capped(*args: str) -> tuple[int, str, float]:
    """(exit code, stderr, peak resident MB) of `python *args` (`-m module ...` or `-c code`) in a
    child limited to ADDRESS_SPACE_CAP."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("A2A_")} | {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "peak_kb"
        child = subprocess.run([sys.executable, "-c", LAUNCHER, str(ADDRESS_SPACE_CAP), str(report), *args],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        peak_kb = int(report.read_text()) if report.exists() else float("inf")
    return child.returncode, child.stderr.decode(errors="replace"), peak_kb / 1024


class Reduce:
    """Pickles as `function(*args)` (and `state` given to the result's __setstate__): how a hostile file is built."""

    def __init__(self, function, args, state=None):
        self.function, self.args, self.state = function, args, state

    def __reduce__(self):
        return (self.function, self.args) if self.state is None else (self.function, self.args, self.state)


def aist(poses, trans=None) -> bytes:
    """An AIST++ motion pickle around `poses` (anything that pickles: an array, or a Reduce)."""
    trans = np.zeros((2, 3), np.float32) if trans is None else trans
    return pickle.dumps({"smpl_poses": poses, "smpl_trans": trans, "smpl_scaling": np.ones(1, np.float32)}, protocol=2)


def array_state(shape, dtype, raw) -> Reduce:
    """An array as numpy pickles it: an empty one from _reconstruct, then its state (shape, dtype, bytes)."""
    from numpy._core.multiarray import _reconstruct

    return Reduce(_reconstruct, (np.ndarray, (0,), b"b"), (1, shape, np.dtype(dtype), False, raw))


def bvh_head() -> str:
    """A valid BVH's hierarchy and MOTION line (from a 1-frame dance)."""
    motion = Motion(poses=np.zeros((1, 24, 3), np.float32), trans=np.array([[0.0, 0.9, 0.0]], np.float32), fps=30.0)
    return write_bvh(motion).split("Frames:")[0]


def npz_bomb() -> bytes:
    """An npz whose 'poses' declares 64 MiB (2^17 frames of zeros, in 64 kB of zip) and a 'trans' to match."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, shape in (("poses", (2**17, 64)), ("trans", (2**17, 3))):
            member = io.BytesIO()
            np.save(member, np.zeros(shape, np.float64))
            archive.writestr(f"{name}.npy", member.getvalue())
    return buffer.getvalue()


def hostile_files(folder: Path) -> dict[str, tuple[Path, str]]:
    """name -> (file, what its refusal must say)."""
    from numpy._core.multiarray import _reconstruct

    raw = bytes(2**20)
    shared = pickle.dumps({f"a{i}": array_state((2**20,), "u1", raw) for i in range(300)}, protocol=2)  # one 1 MiB bytes, memoized
    files = {
        # the 359-byte file: _reconstruct(ndarray, (10**7, 72), f4) asks numpy for 2.9 GB
        "reconstruct.pkl": (aist(Reduce(_reconstruct, (np.ndarray, (10**7, 72), np.dtype("f4")))), "asks for an array of shape"),
        "ndarray_called.pkl": (aist(Reduce(np.ndarray, ((10**7, 72), np.dtype("f4")))), "calls numpy.ndarray"),
        "object_array.pkl": (aist(array_state((10**8,), "O", [1])), "array of Python objects"),  # numpy itself crashed on it
        "short_state.pkl": (aist(array_state((10**7, 72), "f4", b"abc")), "asks for an array of shape"),
        "memoized_bytes.pkl": (shared, "asks for an array of shape"),  # 300 arrays of 1 MiB from 1 MiB of file
        "too_many_frames.pkl": (aist(np.zeros((80_000, 72), np.float32), np.zeros((80_000, 3), np.float32)), "80000 frames, over the cap"),
        "gzip.pkl": (gzip.compress(bytes(2**24)), "not a readable pickle"),
        "billion_frames.bvh": ((bvh_head() + "Frames: 1000000000\nFrame Time: 0.0333333\n0\n").encode(), "1000000000 frames, over the cap"),
        "long_line.bvh": ((bvh_head() + "Frames: 2\nFrame Time: 0.0333333\n").encode() + b"1 " * 25_000_000, "too long for a frame"),
        "bomb.npz": (npz_bomb(), "declares 131072 frames, over the cap of 72000"),
    }
    out = {}
    for name, (data, reason) in files.items():
        (folder / name).write_bytes(data)
        out[name] = (folder / name, reason)
    return out


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    return hostile_files(tmp_path_factory.mktemp("hostile"))


@pytest.mark.parametrize("name", ["reconstruct.pkl", "ndarray_called.pkl", "object_array.pkl", "short_state.pkl", "memoized_bytes.pkl",
                                  "too_many_frames.pkl", "gzip.pkl", "billion_frames.bvh", "long_line.bvh", "bomb.npz"])
def test_a_hostile_file_is_refused_in_one_line_with_exit_2_and_little_memory(hostile, name):
    path, reason = hostile[name]
    code, stderr, peak_mb = run_capped("-m", "a2a_cli", "score", str(path))
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and reason in lines[0] and "Traceback" not in stderr, (code, stderr[-2000:])
    assert peak_mb < PEAK_LIMIT_MB, peak_mb


def test_a_bvh_of_the_most_frames_allowed_reads_in_a_fraction_of_what_it_took(tmp_path):
    """72,000 frames at 120 fps, 54 MB of text: 828 MB and 13.5 s before; now under 300 MB."""
    rng = np.random.default_rng(0)
    frame = " ".join(f"{v:.6f}" for v in np.r_[0.0, 90.0, 0.0, rng.uniform(-90, 90, 72)])
    path = tmp_path / "long.bvh"
    path.write_text(bvh_head() + f"Frames: 72000\nFrame Time: {1 / 120:.7f}\n" + "\n".join([frame] * 72_000) + "\n")
    assert path.stat().st_size > 50e6
    code, stderr, peak_mb = run_capped("-c", f"from a2a_cli.motion.formats import load_motion; assert load_motion({str(path)!r}).n_frames == 72000")
    assert code == 0, stderr[-2000:]
    assert peak_mb < 300, peak_mb
