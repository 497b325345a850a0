"""STFT-based features in plain numpy: mel spectrogram (dB), onset strength, MFCC, RMS, tuning.

Each function reproduces what librosa 0.11 computes with the defaults EDGE used (n_fft 2048,
hop 512, Hann window, centred frames zero-padded, 128 Slaney mel bands up to Nyquist, power_to_db
with ref 1, amin 1e-10, top_db 80, orthonormal DCT-II), without librosa's import and numba JIT
cost. Arrays are time-major: (frames, bins). The STFT is taken in chunks of frames so a 20-minute
song never holds a full complex spectrogram in memory.
"""

from __future__ import annotations

from functools import cache

import numpy as np

__all__ = [
    "N_FFT", "N_MELS", "N_MFCC", "SpectralPass", "dct_matrix", "estimate_tuning", "frame_signal", "hann",
    "mel_filterbank", "mfcc", "onset_strength", "power_to_db", "read_only", "rms",
]

N_FFT = 2048
N_MELS = 128
N_MFCC = 20
_CHUNK_FRAMES = 2048


def read_only(array: np.ndarray) -> np.ndarray:
    """`array`, made read-only: a functools.cache'd array is shared by every caller, so one caller
    writing into it would silently change every later analysis."""
    array.flags.writeable = False
    return array


@cache
def hann(n: int, periodic: bool = True) -> np.ndarray:
    """Hann window (periodic, as scipy get_window(fftbins=True), or symmetric); read-only."""
    if n == 1:
        return read_only(np.ones(1))
    m = n if periodic else n - 1
    return read_only(0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / m))


def frame_signal(y: np.ndarray, frame_length: int, hop: int) -> np.ndarray:
    """Centred frames (1 + len(y) // hop, frame_length), zero-padded at both ends; a strided view."""
    pad = frame_length // 2
    padded = np.pad(y, (pad, pad))
    n_frames = 1 + (padded.size - frame_length) // hop
    return np.lib.stride_tricks.as_strided(
        padded, shape=(n_frames, frame_length), strides=(padded.strides[0] * hop, padded.strides[0]), writeable=False
    )


def _hz_to_mel(f: np.ndarray) -> np.ndarray:
    """Slaney's mel scale: linear below 1 kHz, logarithmic above."""
    f = np.asarray(f, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    logstep = np.log(6.4) / 27.0
    mels = f / f_sp
    high = f >= min_log_hz
    mels[high] = min_log_hz / f_sp + np.log(f[high] / min_log_hz) / logstep
    return mels


def _mel_to_hz(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    freqs = f_sp * m
    high = m >= min_log_mel
    freqs[high] = min_log_hz * np.exp(logstep * (m[high] - min_log_mel))
    return freqs


@cache
def mel_filterbank(sr: float, n_fft: int = N_FFT, n_mels: int = N_MELS) -> np.ndarray:
    """(n_fft // 2 + 1, n_mels) float32, read-only: triangular Slaney-normalised filters (librosa.filters.mel)."""
    fft_freqs = np.linspace(0, sr / 2, n_fft // 2 + 1)
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(np.array([0.0]))[0], _hz_to_mel(np.array([sr / 2]))[0], n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2:] - mel_f[:-2]))[:, None]
    return read_only(np.ascontiguousarray(weights.T, dtype=np.float32))


@cache
def dct_matrix(n_in: int = N_MELS, n_out: int = N_MFCC) -> np.ndarray:
    """(n_in, n_out) float32, read-only: orthonormal DCT-II (scipy.fft.dct(type=2, norm='ortho')) as a matrix."""
    k = np.arange(n_out)[None, :]
    n = np.arange(n_in)[:, None]
    basis = np.cos(np.pi * k * (2 * n + 1) / (2 * n_in)) * np.sqrt(2.0 / n_in)
    basis[:, 0] /= np.sqrt(2.0)
    return read_only(basis.astype(np.float32))


def power_to_db(power: np.ndarray, top_db: float = 80.0) -> np.ndarray:
    """10 log10(max(1e-10, S)), floored at top_db below the global maximum (librosa defaults)."""
    db = 10.0 * np.log10(np.maximum(power, 1e-10, dtype=np.float32))
    return np.maximum(db, db.max() - top_db)


class SpectralPass:
    """One chunked pass over the STFT: the mel power spectrogram and the spectral peaks for tuning."""

    def __init__(self, y: np.ndarray, sr: float):
        frames = frame_signal(np.asarray(y, dtype=np.float32), N_FFT, N_FFT // 4)
        window = hann(N_FFT).astype(np.float32)
        basis = mel_filterbank(sr)
        fft_freqs = np.linspace(0, sr / 2, N_FFT // 2 + 1)
        # piptrack's search band (150 Hz - 4 kHz) plus a neighbour each side for the local-max test.
        band = np.flatnonzero((fft_freqs >= 150.0) & (fft_freqs < 4000.0))
        lo, hi = band[0] - 1, band[-1] + 2
        mel = np.empty((frames.shape[0], basis.shape[1]), dtype=np.float32)
        pitches, mags = [], []
        for start in range(0, frames.shape[0], _CHUNK_FRAMES):
            spec = np.abs(np.fft.rfft(frames[start : start + _CHUNK_FRAMES] * window, axis=1)).astype(np.float32)
            mel[start : start + spec.shape[0]] = np.square(spec) @ basis
            p, m = _spectral_peaks(spec, lo, hi, sr)
            pitches.append(p)
            mags.append(m)
        self.mel_power = mel
        self.peak_hz = np.concatenate(pitches)
        self.peak_mag = np.concatenate(mags)


def _spectral_peaks(mag: np.ndarray, lo: int, hi: int, sr: float) -> tuple[np.ndarray, np.ndarray]:
    """librosa.piptrack's peaks (threshold 0.1 of the frame maximum) in bins lo+1 .. hi-2.

    Returns the parabolically interpolated frequency and magnitude of each peak, all frames together.
    """
    ref = 0.1 * mag.max(axis=1, keepdims=True)
    x = mag[:, lo:hi]
    xt = x * (x > ref)
    centre, left, right = xt[:, 1:-1], xt[:, :-2], xt[:, 2:]
    is_peak = (centre > left) & (centre >= right)
    f_idx, b_idx = np.nonzero(is_peak)
    b = b_idx + 1  # index into x
    s0, sm, sp = x[f_idx, b], x[f_idx, b - 1], x[f_idx, b + 1]
    a = sp + sm - 2 * s0
    half_diff = (sp - sm) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(np.abs(half_diff) >= np.abs(a), 0.0, -half_diff / a)
    hz = (b + lo + shift) * sr / N_FFT
    return hz.astype(np.float32), (s0 + 0.5 * half_diff * shift).astype(np.float32)


def estimate_tuning(peak_hz: np.ndarray, peak_mag: np.ndarray, bins_per_octave: int) -> float:
    """Deviation from A440 in fractions of a bin (librosa.estimate_tuning at resolution 0.01)."""
    if peak_hz.size == 0:
        return 0.0
    strong = peak_hz[(peak_mag >= np.median(peak_mag)) & (peak_hz > 0)]
    if strong.size == 0:
        return 0.0
    residual = np.mod(bins_per_octave * np.log2(strong / (440.0 / 16)), 1.0)
    residual[residual >= 0.5] -= 1.0
    edges = np.linspace(-0.5, 0.5, 101)
    counts, _ = np.histogram(residual, edges)
    return float(edges[np.argmax(counts)])


def onset_strength(mel_db: np.ndarray) -> np.ndarray:
    """Spectral flux of the dB mel spectrogram, mean over bands, aligned as librosa (lag 1, centred)."""
    flux = np.maximum(0.0, np.diff(mel_db, axis=0)).mean(axis=1, dtype=np.float32)
    pad = 1 + N_FFT // (2 * (N_FFT // 4))
    return np.concatenate([np.zeros(pad, dtype=np.float32), flux])[: mel_db.shape[0]]


def mfcc(mel_db: np.ndarray) -> np.ndarray:
    """(frames, 20) MFCC: orthonormal DCT-II of the dB mel spectrogram."""
    return mel_db @ dct_matrix()


def rms(y: np.ndarray, frame_length: int = N_FFT, hop: int = N_FFT // 4) -> np.ndarray:
    """Root mean square of centred, zero-padded frames (librosa.feature.rms).

    A frame is `frame_length // hop` whole hops, so we sum squares per hop once and add neighbours.
    """
    per_frame = frame_length // hop
    pad = frame_length // 2
    n_frames = 1 + y.size // hop
    n_blocks = n_frames + per_frame - 1
    padded = np.zeros(n_blocks * hop, dtype=np.float64)
    body = y[: n_blocks * hop - pad]
    padded[pad : pad + body.size] = body
    blocks = np.square(padded).reshape(n_blocks, hop).sum(axis=1)
    energy = sum(blocks[k : k + n_frames] for k in range(per_frame))
    return np.sqrt(energy / frame_length).astype(np.float32)
