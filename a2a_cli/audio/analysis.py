"""`analyze`: audio in, the EDGE baseline features, tempo, beats and energy out, cached by sha256."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from a2a_cli.audio import cache as feature_cache
from a2a_cli.audio.chroma import BINS_PER_OCTAVE, chroma_cens, cqt_magnitude
from a2a_cli.audio.decoding import FEATURE_SR, FPS, HOP, check_audio_file, cut_bounds, pad_to, read_file, resample, to_mono
from a2a_cli.audio.rhythm import estimate_tempo, onset_peaks, track_beats
from a2a_cli.audio.spectral import SpectralPass, estimate_tuning, mfcc, onset_strength, power_to_db, rms
from a2a_cli.errors import InputError

__all__ = ["AudioAnalysis", "AudioSource", "N_FEATURES", "analysis_of", "analyze", "compute", "file_sha256", "fit_frames",
           "read_only_fields"]

N_FEATURES = 35  # onset envelope 1, MFCC 20, chroma CENS 12, onset-peak one-hot 1, beat one-hot 1


@dataclass(frozen=True, eq=False)
class AudioSource:
    """Where an analysis's samples came from, so that a model which hears the audio itself (EDGE's
    Jukebox conditioning) can read them again: a cut of a file, or the caller's mono samples."""

    path: Path | None = None
    start_s: float | None = None
    duration_s: float | None = None
    samples: np.ndarray | None = None  # (n,) float32 mono, already cut
    sr: int | None = None

    def read(self) -> tuple[np.ndarray, int]:
        """(mono float32 samples of the analysed cut, their rate in Hz)."""
        if self.samples is not None:
            return self.samples, int(self.sr)
        return read_file(self.path, start_s=self.start_s, duration_s=self.duration_s)


@dataclass(frozen=True, eq=False)
class AudioAnalysis:
    """Everything motion code needs from a song, one row per 30 fps frame. Arrays are read-only."""

    sha256: str
    duration_s: float
    features: np.ndarray  # (n_frames, 35) float32, EDGE baseline columns
    onset_env: np.ndarray  # (n_frames,) float32, the spectral-flux onset strength (column 0)
    rms: np.ndarray  # (n_frames,) float32
    tempo_bpm: float
    beat_frames: np.ndarray  # int64 frame indices at 30 fps
    source: AudioSource | None = None  # how to read the samples again; None where they are not at hand

    @property
    def n_frames(self) -> int:
        return int(round(self.duration_s * FPS))

    @property
    def beat_times(self) -> np.ndarray:
        return self.beat_frames / float(FPS)


def file_sha256(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fit_frames(a: np.ndarray, n: int) -> np.ndarray:
    """A per-frame array (frames first: (F,) or (F, ...)) trimmed to n frames, or its last frame repeated up
    to n (zeros if it has none). Analysis and cut can differ by a frame: librosa's framing gives 1 + len // hop."""
    if a.shape[0] >= n:
        return a[:n]
    if a.shape[0] == 0:
        return np.zeros((n,) + a.shape[1:], dtype=a.dtype)
    return np.concatenate([a, np.repeat(a[-1:], n - a.shape[0], axis=0)])


def compute(samples: np.ndarray, n_frames: int) -> dict:
    """All features of mono float32 samples at FEATURE_SR, as `n_frames` rows."""
    spectral = SpectralPass(samples, FEATURE_SR)
    mel_db = power_to_db(spectral.mel_power)
    envelope = onset_strength(mel_db)
    if not np.isfinite(envelope).all():  # finite samples far beyond +-1 overflow the float32 power spectrum
        raise InputError("audio is too loud to analyse: sample values far beyond the usual -1..1")
    tuning = estimate_tuning(spectral.peak_hz, spectral.peak_mag, BINS_PER_OCTAVE)
    chroma = chroma_cens(cqt_magnitude(samples, FEATURE_SR, HOP, tuning))
    lag_bpm, tempo_bpm = estimate_tempo(envelope)
    beats = track_beats(envelope, lag_bpm)
    peaks = onset_peaks(envelope)

    continuous = np.concatenate([envelope[:, None], mfcc(mel_db), fit_frames(chroma, envelope.size)], axis=1)
    onehots = np.zeros((n_frames, 2), dtype=np.float32)
    onehots[peaks[peaks < n_frames], 0] = 1.0
    onehots[beats[beats < n_frames], 1] = 1.0
    features = np.concatenate([fit_frames(continuous, n_frames), onehots], axis=1).astype(np.float32)
    return {
        "features": features,
        "onset_env": features[:, 0].copy(),
        "rms": fit_frames(rms(samples), n_frames),
        "tempo_bpm": float(tempo_bpm),
        "beat_frames": beats[beats < n_frames].astype(np.int64),
    }


def _frames_for(duration_s: float) -> int:
    n_frames = int(round(duration_s * FPS))
    if n_frames < 1:
        raise InputError(f"audio too short: {duration_s * 1000:.0f} ms is less than one motion frame (1/{FPS} s)")
    return n_frames


def _well_formed(fields: dict) -> bool:
    """Whether cached fields have the shapes and types a fresh analysis would have."""
    n = int(round(fields["duration_s"] * FPS))
    return (
        fields["features"].shape == (n, N_FEATURES)
        and fields["features"].dtype == np.float32
        and fields["onset_env"].shape == fields["rms"].shape == (n,)
        and fields["beat_frames"].ndim == 1
        and fields["beat_frames"].dtype == np.int64
    )


def _finish(sha256: str, fields: dict, source: AudioSource) -> AudioAnalysis:
    return AudioAnalysis(sha256=sha256, source=source, **read_only_fields(fields, feature_cache.MUSIC))


def read_only_fields(fields: dict, kind: feature_cache.Kind) -> dict:
    """`fields` with the arrays of `kind` made contiguous and read-only (an analysis's arrays are shared)."""
    for name in kind.arrays:
        fields[name] = np.ascontiguousarray(fields[name])
        fields[name].setflags(write=False)
    return fields


def analysis_of(source, sr: int | None, start_s: float | None, duration_s: float | None, cache_dir,
                kind: feature_cache.Kind, analyse: Callable[[np.ndarray, float], dict],
                well_formed: Callable[[dict], bool], finish: Callable[[str, dict, AudioSource], object], what: str):
    """The one way an analysis (music's `analyze`, speech's `analyze_speech`) reads its audio: a file
    (cached in `cache_dir` under `kind`, by sha256 + cut) or raw samples at `sr` Hz (never cached;
    their sha256 that of their float32 bytes and rate), cut to `start_s`, `duration_s` (seconds).
    `analyse(mono, sr) -> fields`, `well_formed(fields)` (is a cached entry usable), `finish(sha256,
    fields, AudioSource) -> the analysis`; `what`: the caller's name for errors."""
    if isinstance(source, np.ndarray):
        if sr is None or sr <= 0:
            raise InputError(f"{what} needs the sample rate `sr` of raw samples")
        mono = to_mono(source)
        start, count = cut_bounds(mono.size, sr, start_s, duration_s, "the sample array")
        mono = pad_to(mono[start : start + count], count)
        sha256 = hashlib.sha256(np.ascontiguousarray(mono).tobytes() + str(int(sr)).encode()).hexdigest()
        return finish(sha256, analyse(mono, sr), AudioSource(samples=mono, sr=int(sr)))

    path = check_audio_file(Path(source))
    sha256 = file_sha256(path)
    cut = AudioSource(path=path, start_s=start_s, duration_s=duration_s)
    entry = None if cache_dir is None else feature_cache.entry_path(Path(cache_dir), sha256, start_s, duration_s, kind)
    if entry is not None:
        fields = feature_cache.load(entry, kind)
        if fields is not None and well_formed(fields):
            return finish(sha256, fields, cut)
    samples, file_sr = read_file(path, start_s=start_s, duration_s=duration_s)
    fields = analyse(samples, file_sr)
    if entry is not None:
        feature_cache.store(entry, fields, kind)
    return finish(sha256, fields, cut)


def analyze(
    source: str | os.PathLike | np.ndarray,
    sr: int | None = None,
    *,
    start_s: float | None = None,
    duration_s: float | None = None,
    cache_dir: str | os.PathLike | None = None,
) -> AudioAnalysis:
    """Analyse an audio file (or samples at rate `sr`), optionally a cut of it.

    With a `cache_dir` (the CLI passes `Settings.audio_cache_dir`), files are cached there by
    sha256 + cut + feature version (see `a2a_cli.audio.cache`); None caches nothing. Raw sample
    arrays are never cached, and their `sha256` is that of their float32 bytes and rate.
    """
    return analysis_of(source, sr, start_s, duration_s, cache_dir, feature_cache.MUSIC, _analyze_samples, _well_formed,
                       _finish, "analyze")


def _analyze_samples(mono: np.ndarray, sr: float) -> dict:
    if not np.all(np.isfinite(mono)):
        raise InputError("audio contains NaN or infinite samples")
    n_frames = _frames_for(mono.size / sr)
    fields = compute(resample(mono, sr), n_frames)
    fields["duration_s"] = mono.size / sr
    return fields
