"""Decode any wav/flac/ogg/mp3 file to mono float32 at the feature rate, with clear errors.

libsndfile (through `soundfile`) reads all four formats, mp3 included, so no ffmpeg is needed.
Cuts seek instead of decoding the whole file. mp3 seeking lands mid bit-reservoir, so the first
few hundred samples after a seek are garbage: we seek `_MP3_PREROLL` samples early and drop them
(measured: exact to 1e-7 with a 2304-sample preroll; we keep a margin).
libmpg123 (libsndfile's mp3 decoder) prints warnings about odd or truncated mp3 files straight to
file descriptor 2; `_mpg123_muted` moves them to the debug log so that a bad file gives one line.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from a2a_cli.errors import InputError
from a2a_cli.frame_rate import FPS

__all__ = [
    "FEATURE_SR", "HOP", "MAX_FILE_BYTES", "MAX_SECONDS", "audio_seconds", "check_audio_file", "cut_bounds", "decode",
    "pad_to", "read_file", "resample", "to_mono",
]

HOP = 512
FEATURE_SR = FPS * HOP  # 15360 Hz: one hop per motion frame

MAX_FILE_BYTES = 1 << 30  # 1 GiB
MAX_SECONDS = 20 * 60.0
_MP3_PREROLL = 8192
# An mp3 without a length header only has an estimated length, so a little missing audio is
# tolerated; more than this (or the slack) missing means a truncated or corrupt file.
_TRUNCATION_SLACK_S = 0.1
_TRUNCATION_FRACTION = 0.1
_MUTED_TEXT_MAX_BYTES = 4096

log = logging.getLogger("a2a.audio")


def check_audio_file(path: str | os.PathLike) -> Path:
    """The path, if it names a non-empty regular file under the size cap; else an InputError."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"audio file not found: {path}")
    if path.is_dir():
        raise InputError(f"{path} is a directory, not an audio file")
    size = path.stat().st_size
    if size == 0:
        raise InputError(f"audio file is empty (0 bytes): {path}")
    if size > MAX_FILE_BYTES:
        raise InputError(f"audio file is too large ({size / 2**30:.1f} GiB, limit {MAX_FILE_BYTES / 2**30:.0f} GiB): {path}")
    return path


def _is_mpeg(path: Path) -> bool:
    """Whether libsndfile would hand `path` to libmpg123: an .mp3 name, an ID3 tag or an MPEG frame sync."""
    if path.suffix.lower() == ".mp3":
        return True
    try:
        with open(path, "rb") as f:
            head = f.read(3)
    except OSError:  # unreadable: libsndfile reports it
        return False
    return head == b"ID3" or (len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)


@contextlib.contextmanager
def _mpg123_muted(path: Path) -> Iterator[None]:
    """While decoding an mp3, send what libmpg123 prints on fd 2 to the debug log instead.

    The C library writes to the process's fd 2, so only swapping the descriptor silences it. Risk:
    whatever another thread writes to stderr meanwhile goes to the debug log too (in `a2a validate`,
    whose prompt library may hold mp3s, a Rich Live refresh could be lost for one frame); miners
    decode WAV only, never muted, and the other commands decode before they print. A temp file,
    not a pipe: a full pipe would block the decoder.
    """
    if not _is_mpeg(path):
        yield
        return
    sys.stderr.flush()
    saved_fd = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved_fd, 2)
            os.close(saved_fd)
            sink.seek(0)
            text = sink.read(_MUTED_TEXT_MAX_BYTES).decode(errors="replace").strip()
            if text:
                log.debug("libmpg123 on %s: %s", path, " | ".join(text.splitlines()))


def cut_bounds(total: int, sr: float, start_s: float | None, duration_s: float | None, what: str) -> tuple[int, int]:
    """(first sample, sample count) of a cut of `total` samples at `sr`; InputError when it is impossible.

    A cut may overrun the end by up to `_TRUNCATION_SLACK_S` (a 10 s request of a 9.99 s file):
    the count stays the one asked for, and `pad_to` fills the overrun with silence, so the caller
    gets exactly round(duration_s * 30) frames.
    """
    if total <= 0:
        raise InputError(f"{what} has no audio samples")
    start_s = 0.0 if start_s is None else float(start_s)
    if not np.isfinite(start_s) or start_s < 0:
        raise InputError(f"cut start must be a time >= 0 s, got {start_s}")
    length_s = total / sr
    start = int(round(start_s * sr))
    if start >= total:
        raise InputError(f"cut starts at {start_s:.2f} s, beyond the end of {what} ({length_s:.2f} s long)")
    if duration_s is None:
        count = total - start
    else:
        duration_s = float(duration_s)
        if not np.isfinite(duration_s) or duration_s <= 0:
            raise InputError(f"cut duration must be a time > 0 s, got {duration_s}")
        count = int(round(duration_s * sr))
        overrun = start + count - total
        if overrun > _TRUNCATION_SLACK_S * sr:
            raise InputError(
                f"cut {start_s:.2f}-{start_s + duration_s:.2f} s ends beyond the end of {what} ({length_s:.2f} s long)"
            )
    if count <= 0:
        raise InputError(f"cut of {what} is empty")
    if count / sr > MAX_SECONDS:
        raise InputError(f"audio too long: {count / sr / 60:.1f} min (limit {MAX_SECONDS / 60:.0f} min); cut it with a duration")
    return start, count


def pad_to(samples: np.ndarray, count: int) -> np.ndarray:
    """`samples` followed by silence up to `count` samples."""
    return samples if samples.size >= count else np.pad(samples, (0, count - samples.size))


def to_mono(samples: np.ndarray) -> np.ndarray:
    """(n,) or (n, channels) -> (n,) float32, channels averaged (as librosa.to_mono)."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim == 2:  # a column loop: ten times faster than mean(axis=1) on interleaved frames
        mono = samples[:, 0].copy()
        for channel in range(1, samples.shape[1]):
            mono += samples[:, channel]
        samples = mono / np.float32(samples.shape[1]) if samples.shape[1] > 1 else mono
    elif samples.ndim != 1:
        raise InputError(f"audio samples must be (n,) or (n, channels), got shape {samples.shape}")
    return samples


def resample(samples: np.ndarray, sr: float, target: int = FEATURE_SR) -> np.ndarray:
    """Mono float32 at `sr` -> `target` Hz (a2a's FEATURE_SR unless asked) with soxr HQ, length
    ceil(n * ratio) (as librosa.load)."""
    if sr == target:
        return np.ascontiguousarray(samples, dtype=np.float32)
    import soxr

    out = soxr.resample(samples, sr, target, quality="HQ").astype(np.float32, copy=False)
    n = int(np.ceil(samples.size * target / sr))
    if out.size >= n:
        return out[:n]
    return np.pad(out, (0, n - out.size))


def decode(path: str | os.PathLike, *, start_s: float | None = None, duration_s: float | None = None) -> tuple[np.ndarray, int]:
    """(mono float32 samples at FEATURE_SR, FEATURE_SR) of a file, or of a cut of it."""
    samples, sr = read_file(path, start_s=start_s, duration_s=duration_s)
    return resample(samples, sr), FEATURE_SR


@contextlib.contextmanager
def _opened(path: Path) -> Iterator[Any]:
    """The checked file open as a `soundfile.SoundFile` (libmpg123 muted), or an InputError."""
    import soundfile as sf

    with _mpg123_muted(path):
        try:
            f = sf.SoundFile(path)
        except (sf.LibsndfileError, RuntimeError, TypeError, ValueError):
            raise InputError(f"not a readable audio file (wav, flac, ogg or mp3 expected): {path}") from None
        with f:
            if int(f.samplerate) <= 0:
                raise InputError(f"audio file declares no sample rate: {path}")
            yield f


def audio_seconds(path: str | os.PathLike) -> float:
    """The length of an audio file in seconds, read from its header without decoding it (for an mp3
    without a length header, libsndfile's estimate); an InputError when it is no readable audio."""
    path = check_audio_file(path)
    with _opened(path) as f:
        return int(f.frames) / int(f.samplerate)


def read_file(path: str | os.PathLike, *, start_s: float | None = None, duration_s: float | None = None) -> tuple[np.ndarray, int]:
    """(mono float32 samples at the file's own rate, that rate): the decode before resampling."""
    import soundfile as sf

    path = check_audio_file(path)
    with _opened(path) as f:
        sr = int(f.samplerate)
        start, count = cut_bounds(int(f.frames), sr, start_s, duration_s, str(path))
        preroll = min(start, _MP3_PREROLL) if f.format == "MP3" else 0
        try:
            if start - preroll:
                f.seek(start - preroll)
            data = f.read(count + preroll, dtype="float32", always_2d=True)[preroll:]
        except (sf.LibsndfileError, RuntimeError, ValueError) as e:
            raise InputError(f"corrupt audio data in {path}: {' '.join(str(e).split())}") from None
    if count - data.shape[0] > max(_TRUNCATION_SLACK_S * sr, _TRUNCATION_FRACTION * count):
        raise InputError(
            f"audio file is truncated or corrupt: decoded {data.shape[0] / sr:.2f} s of the {count / sr:.2f} s it declares: {path}"
        )
    if data.shape[0] == 0:
        raise InputError(f"{path} has no audio samples")
    mono = to_mono(data)
    return (mono if duration_s is None else pad_to(mono, count)), sr
