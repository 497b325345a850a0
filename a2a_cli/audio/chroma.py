"""Chroma CENS from a constant-Q transform, as librosa.feature.chroma_cens computes it.

The CQT follows librosa's recursive algorithm: 7 octaves of 36 bins from C1 (shifted by the
estimated tuning); the top octave is filtered at the full rate, then the signal is halved with
soxr (and the hop with it) for each lower octave, so one 36-filter bank serves every octave.
Each filter's spectrum keeps only the bins that carry 99% of its L1 mass (librosa's
sparsity=0.01), which makes the filtering a small dense product over a band of FFT bins.
Chroma then folds the 252 bins onto 12 pitch classes, and CENS quantises, smooths (41-frame Hann)
and L2-normalises it.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from a2a_cli.audio.spectral import frame_signal, hann, read_only

__all__ = ["BINS_PER_OCTAVE", "C1_HZ", "N_CHROMA", "N_OCTAVES", "chroma_cens", "cqt_magnitude"]

BINS_PER_OCTAVE = 36
N_OCTAVES = 7
N_CHROMA = 12
C1_HZ = 32.70319566257483
_SPARSITY = 0.01
_CENS_STEPS = (0.4, 0.2, 0.1, 0.05)
_CENS_SMOOTH = 41
_TINY32 = np.finfo(np.float32).tiny


def _filter_lengths(freqs: np.ndarray, sr: float) -> np.ndarray:
    """Constant-Q filter lengths in samples (Q = 1 / relative bandwidth, filter_scale 1)."""
    ratio = 2.0 ** (2.0 / BINS_PER_OCTAVE)
    alpha = (ratio - 1) / (ratio + 1)
    return sr / (alpha * freqs)


@cache
def _octave_basis(sr: float, fmin_top: float) -> tuple[np.ndarray, int, int, int]:
    """(filter spectra (36, hi - lo) complex128, lo, hi, n_fft) for the top octave at `sr`.

    Every lower octave reuses it: halving the rate and the frequencies leaves the filters unchanged.
    """
    freqs = fmin_top * 2.0 ** (np.arange(BINS_PER_OCTAVE) / BINS_PER_OCTAVE)
    lengths = _filter_lengths(freqs, sr)
    n_fft = int(2.0 ** np.ceil(np.log2(lengths.max())))
    basis = np.zeros((BINS_PER_OCTAVE, n_fft), dtype=np.complex128)
    for row, (length, freq) in enumerate(zip(lengths, freqs)):
        n = np.arange(np.floor(-length / 2), np.floor(length / 2))
        wavelet = np.exp(2j * np.pi * freq / sr * n) * hann(n.size)
        wavelet /= np.abs(wavelet).sum()
        left = (n_fft - n.size) // 2
        basis[row, left : left + n.size] = wavelet * (length / n_fft)
    spectra = np.fft.fft(basis, axis=1)[:, : n_fft // 2 + 1]
    mags = np.abs(spectra)
    sorted_mags = np.sort(mags, axis=1)
    cumulative = np.cumsum(sorted_mags / mags.sum(axis=1, keepdims=True), axis=1)
    cut = sorted_mags[np.arange(BINS_PER_OCTAVE), np.argmin(cumulative < _SPARSITY, axis=1)]
    spectra[mags < cut[:, None]] = 0
    used = np.flatnonzero(np.any(spectra != 0, axis=0))
    lo, hi = int(used[0]), int(used[-1]) + 1
    return read_only(np.ascontiguousarray(spectra[:, lo:hi])), lo, hi, n_fft


def cqt_magnitude(y: np.ndarray, sr: float, hop: int, tuning: float) -> np.ndarray:
    """(frames, 252) |CQT| from C1, scaled as librosa's (scale=True: divided by sqrt(filter length))."""
    import soxr

    fmin = C1_HZ * 2.0 ** (tuning / BINS_PER_OCTAVE)
    n_bins = N_OCTAVES * BINS_PER_OCTAVE
    freqs = fmin * 2.0 ** (np.arange(n_bins) / BINS_PER_OCTAVE)
    spectra, lo, hi, n_fft = _octave_basis(float(sr), float(freqs[-BINS_PER_OCTAVE]))
    octaves = []
    # float64 throughout: numpy's float64 FFT is over twice as fast as its float32 one here.
    signal, rate, step = np.asarray(y, dtype=np.float64), float(sr), hop
    for octave in range(N_OCTAVES):
        frames = frame_signal(signal, n_fft, step)
        band = np.fft.rfft(frames, axis=1)[:, lo:hi]
        octaves.append((np.abs(band @ spectra.T) * np.sqrt(sr / rate)).astype(np.float32))
        if step % 2 == 0 and octave < N_OCTAVES - 1:
            step //= 2
            rate /= 2.0
            n_half = int(np.ceil(signal.size / 2))
            half = soxr.resample(signal, 2, 1, quality="HQ")[:n_half]
            signal = np.pad(half, (0, n_half - half.size)) * np.sqrt(2.0)
    n_frames = min(o.shape[0] for o in octaves)
    magnitude = np.concatenate([o[:n_frames] for o in reversed(octaves)], axis=1)
    return magnitude / np.sqrt(_filter_lengths(freqs, sr)).astype(np.float32)


@cache
def _cq_to_chroma() -> np.ndarray:
    """(252, 12) 0/1 map: each pitch class gathers its centre bin and the bins either side."""
    position = np.arange(N_OCTAVES * BINS_PER_OCTAVE) % BINS_PER_OCTAVE
    merge = BINS_PER_OCTAVE // N_CHROMA
    pitch_class = ((position + merge // 2) // merge) % N_CHROMA
    return read_only(np.eye(N_CHROMA, dtype=np.float32)[pitch_class])


def _normalize_rows(x: np.ndarray, order: int) -> np.ndarray:
    """Each frame divided by its L1 or L2 norm; frames with a negligible norm are left alone."""
    norm = np.abs(x).sum(axis=1, keepdims=True) if order == 1 else np.sqrt(np.square(x).sum(axis=1, keepdims=True))
    norm[norm < _TINY32] = 1.0
    return x / norm


def chroma_cens(cqt_mag: np.ndarray) -> np.ndarray:
    """(frames, 12) CENS: L1 chroma, quantised in 4 steps, Hann-smoothed over time, L2-normalised."""
    chroma = _normalize_rows(cqt_mag @ _cq_to_chroma(), 1)
    quantised = sum(0.25 * (chroma > step) for step in _CENS_STEPS).astype(np.float32)
    window = hann(_CENS_SMOOTH + 2, periodic=False)
    window = (window / window.sum()).astype(np.float32)
    half = window.size // 2
    smoothed = np.empty_like(quantised)
    for k in range(N_CHROMA):
        smoothed[:, k] = np.convolve(quantised[:, k], window)[half : half + quantised.shape[0]]
    return _normalize_rows(smoothed, 2)
