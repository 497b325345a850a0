"""A voice's fundamental frequency (F0): a YIN pitch tracker in numpy (de Cheveigné & Kawahara 2002).

librosa's pyin is the well-kept reference, but it takes seconds per minute of speech (an HMM over
every frame, numba compiling on first use); YIN on the frames that carry sound takes tens of
milliseconds. tests/test_speech.py checks this tracker against librosa.pyin on a synthetic voice.
"""

from __future__ import annotations

import numpy as np

from a2a_cli.audio.spectral import frame_signal

__all__ = ["F0_MAX_HZ", "F0_MIN_HZ", "VOICING_THRESHOLD", "yin"]

F0_MIN_HZ = 60.0  # a deep male voice's lowest
F0_MAX_HZ = 500.0  # a child's or a raised voice's highest
VOICING_THRESHOLD = 0.3  # YIN's aperiodicity (its normalised difference at the period) below this: voiced
_WINDOW_S = 0.025  # the integration window: a few periods of the lowest voice


def yin(y: np.ndarray, sr: int, hop: int, frames: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """F0 (Hz) and aperiodicity of `y` ((n,) float mono at `sr` Hz) in centred frames every `hop` samples.

    `frames`: indices of the frames to track (the ones with sound; default all of the
    1 + n // hop frames); the others get NaN. Returns (f0_hz, aperiodicity), each (1 + n // hop,)
    float32: f0 is NaN where the frame is unvoiced (aperiodicity >= VOICING_THRESHOLD) or untracked;
    aperiodicity (0 a pure periodic tone, about 1 noise) is the cumulative-mean-normalised
    difference at the chosen period, NaN where untracked.
    """
    window = int(round(_WINDOW_S * sr))
    min_lag, max_lag = int(np.floor(sr / F0_MAX_HZ)), int(np.ceil(sr / F0_MIN_HZ))
    length = window + max_lag
    all_frames = frame_signal(np.asarray(y, dtype=np.float32), length, hop)
    n_frames = all_frames.shape[0]
    f0 = np.full(n_frames, np.nan, dtype=np.float32)
    aperiodicity = np.full(n_frames, np.nan, dtype=np.float32)
    index = np.arange(n_frames) if frames is None else np.asarray(frames, dtype=np.int64)
    if index.size == 0:
        return f0, aperiodicity
    x = all_frames[index]
    n_fft = 1 << int(np.ceil(np.log2(length + window)))
    # d(tau) = sum_j (x_j - x_{j+tau})^2 over the window = e(0) + e(tau) - 2 r(tau)
    r = np.fft.irfft(np.conj(np.fft.rfft(x[:, :window], n_fft)) * np.fft.rfft(x, n_fft), n_fft)[:, : max_lag + 1]
    energy = np.concatenate([np.zeros((x.shape[0], 1)), np.cumsum(x * x, axis=1)], axis=1)
    e_tau = energy[:, window : window + max_lag + 1] - energy[:, : max_lag + 1]
    d = np.maximum(e_tau[:, :1] + e_tau - 2.0 * r, 0.0)
    # cumulative mean normalised difference: d'(tau) = d(tau) * tau / sum_{1..tau} d
    lags = np.arange(max_lag + 1)
    running = np.cumsum(d, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        cmnd = np.where(running > 0, d * lags / running, 1.0)
    cmnd[:, 0] = 1.0
    search = cmnd[:, min_lag:max_lag]
    # the first dip below the threshold, followed down to its local minimum; else the global minimum
    below = search < VOICING_THRESHOLD
    first = np.where(below.any(axis=1), below.argmax(axis=1), search.argmin(axis=1))
    rows = np.arange(search.shape[0])
    tau = first.copy()
    for _ in range(max_lag):  # walk down the dip; bounded by the search width
        step = (tau + 1 < search.shape[1]) & (search[rows, np.minimum(tau + 1, search.shape[1] - 1)] < search[rows, tau])
        if not step.any():
            break
        tau = tau + step
    best = search[rows, tau]
    # parabolic interpolation of the period between the neighbouring lags
    left = search[rows, np.maximum(tau - 1, 0)]
    right = search[rows, np.minimum(tau + 1, search.shape[1] - 1)]
    curve = left + right - 2.0 * best
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where((curve > 0) & (tau > 0) & (tau < search.shape[1] - 1), 0.5 * (left - right) / curve, 0.0)
    period = min_lag + tau + np.clip(shift, -0.5, 0.5)
    aperiodicity[index] = best
    voiced = best < VOICING_THRESHOLD
    f0[index[voiced]] = sr / period[voiced]
    return f0, aperiodicity
