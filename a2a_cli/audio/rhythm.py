"""Onset peaks, tempo and beats from an onset envelope, as librosa 0.11 computes them.

- Peaks: librosa.onset.onset_detect's peak picking with its defaults at 30 fps (which round the
  max-filter widths to zero: a frame is a peak when it exceeds the mean of frames -3..+3 by 0.07
  of the normalised envelope).
- Tempo: the mean 8-second autocorrelation tempogram, weighted by a log-normal prior around
  `start_bpm` (one octave wide), as librosa.feature.tempo. The beat tracker uses the integer lag
  like librosa; the reported tempo refines that lag by parabolic interpolation, since at 30 fps
  one lag step is 3-8% of the tempo. As librosa's, the estimate can land on another metrical
  level: slow grooves with eighth-note hats (80 BPM) read at double time (160 BPM).
- Beats: Ellis' (2007) dynamic programme with librosa's local score, backlinks, last-beat choice
  and trimming. The DP runs in blocks of half a beat period, each block one vectorised step.
"""

from __future__ import annotations

import numpy as np

from a2a_cli.audio.decoding import FPS
from a2a_cli.audio.spectral import hann

__all__ = ["BEAT_LATENCY_FRAMES", "STEADY_RESIDUAL_FRAMES", "estimate_tempo", "onset_peaks", "steady_beat_grid", "track_beats"]

_TEMPOGRAM_SECONDS = 8.0
# Tracked beats whose RMS distance from one straight line (a steady tempo) stays under this many
# frames are a steady beat: `steady_beat_grid` replaces them by the line. The tracker places beats on
# whole frames (33 ms at 30 fps), so a steady song's beats scatter by about 0.3 frames RMS around it.
STEADY_RESIDUAL_FRAMES = 1.0
# The tracker's beats come this many frames after the sounds that make them (the onset envelope's
# spectral flux peaks a frame late): measured on synthetic songs with known beats, 0.8 frames for a
# click, 1.0-1.1 for a kick drum, drums, or a band (examples.beat_sound_track, 80-140 BPM).
BEAT_LATENCY_FRAMES = 1.0
# The tempogram's period is used for the grid when it is within this fraction of the beats' spacing.
_TEMPO_AGREEMENT = 0.05
_MAX_BPM = 320.0
_TINY = np.finfo(np.float32).tiny


def onset_peaks(envelope: np.ndarray, delta: float = 0.07, pre_avg: int = 3, post_avg: int = 4) -> np.ndarray:
    """Frame indices of onset peaks (librosa.onset.onset_detect defaults at sr 15360, hop 512)."""
    if envelope.size == 0:
        return np.zeros(0, dtype=np.int64)
    x = envelope.astype(np.float64) - envelope.min()
    if not x.any():
        return np.zeros(0, dtype=np.int64)
    x = x / (x.max() + _TINY)
    csum = np.concatenate([[0.0], np.cumsum(x)])
    idx = np.arange(x.size)
    lo, hi = np.maximum(0, idx - pre_avg), np.minimum(x.size, idx + post_avg)
    local_mean = (csum[hi] - csum[lo]) / (hi - lo)
    return np.flatnonzero(x >= local_mean + delta).astype(np.int64)


def _mean_tempogram(envelope: np.ndarray, fps: float) -> np.ndarray:
    """Mean over frames of the inf-normalised, Hann-windowed local autocorrelation (8 s windows)."""
    win = int(np.floor(_TEMPOGRAM_SECONDS * fps))
    n = envelope.size
    padded = np.pad(envelope.astype(np.float64), win // 2, mode="linear_ramp", end_values=0)
    frames = np.lib.stride_tricks.sliding_window_view(padded, win)[:n] * hann(win)
    n_pad = 2 * win  # >= 2 * win - 1: no circular wrap
    acf = np.fft.irfft(np.abs(np.fft.rfft(frames, n=n_pad, axis=1)) ** 2, n=n_pad, axis=1)[:, :win]
    peak = np.abs(acf).max(axis=1, keepdims=True)
    peak[peak < _TINY] = 1.0
    return (acf / peak).mean(axis=0)


def estimate_tempo(envelope: np.ndarray, fps: float = FPS, start_bpm: float = 120.0) -> tuple[float, float]:
    """(tempo at the best integer lag as librosa, the same refined to a fractional lag), in BPM."""
    if envelope.size < 2 or not np.any(envelope):
        return 0.0, 0.0
    tg = _mean_tempogram(envelope, fps)
    lags = np.arange(tg.size, dtype=np.float64)
    with np.errstate(divide="ignore"):
        bpms = 60.0 * fps / lags
        logprior = -0.5 * ((np.log2(bpms) - np.log2(start_bpm))) ** 2
    logprior[bpms >= _MAX_BPM] = -np.inf
    with np.errstate(invalid="ignore"):
        best = int(np.argmax(np.log1p(1e6 * tg) + logprior))
    refined = float(best)
    if 0 < best < tg.size - 1:
        left, centre, right = tg[best - 1], tg[best], tg[best + 1]
        curvature = left - 2 * centre + right
        if curvature < 0:
            refined = best + 0.5 * (left - right) / curvature
    return float(bpms[best]), 60.0 * fps / refined


def track_beats(envelope: np.ndarray, bpm: float, fps: float = FPS, tightness: float = 100.0) -> np.ndarray:
    """Beat frame indices (librosa.beat.beat_track with a given tempo, trim=True)."""
    n = envelope.size
    if n == 0 or bpm <= 0 or not np.any(envelope):
        return np.zeros(0, dtype=np.int64)
    period = float(np.round(fps * 60.0 / bpm))
    onsets = envelope.astype(np.float64) / (envelope.std(ddof=1) + _TINY)
    kernel = np.exp(-0.5 * (np.arange(-period, period + 1) * 32.0 / period) ** 2)
    half_k = kernel.size // 2
    local = np.convolve(onsets, kernel)[half_k : half_k + n]

    # Predecessors of frame i lie `gap` frames back, gap in [round(period/2), 2*period].
    near = max(1, int(np.round(period / 2)))
    gaps = np.arange(near, int(2 * period) + 1)
    penalty = tightness * (np.log(gaps) - np.log(period)) ** 2
    cum = np.empty(n)
    back = np.full(n, -1, dtype=np.int64)
    for start in range(0, n, near):
        frames = np.arange(start, min(start + near, n))
        locs = frames[:, None] - gaps[None, :]
        valid = locs >= 0
        scores = np.where(valid, cum[np.maximum(locs, 0)] - penalty, -np.inf)
        best = np.argmax(scores, axis=1)  # first maximum = nearest predecessor, as librosa
        has_pred = valid[:, 0]
        cum[frames] = local[frames] + np.where(has_pred, scores[np.arange(frames.size), best], 0.0)
        back[frames] = np.where(has_pred, locs[np.arange(frames.size), best], -1)
    strong = np.flatnonzero(local >= 0.01 * local.max())
    back[: strong[0] if strong.size else n] = -1  # no backlink before the first real onset

    beats = np.zeros(n, dtype=bool)
    frame = _last_beat(cum)
    while frame >= 0:
        beats[frame] = True
        frame = back[frame]
    return np.flatnonzero(_trim(local, beats)).astype(np.int64)


def _last_beat(cum: np.ndarray) -> int:
    """The last local maximum of the cumulative score that reaches half the median of the maxima."""
    is_max = np.zeros(cum.size, dtype=bool)
    if cum.size > 2:
        is_max[1:-1] = (cum[1:-1] > cum[:-2]) & (cum[1:-1] >= cum[2:])
    if cum.size > 1:
        is_max[-1] = cum[-1] > cum[-2]
    if not is_max.any():
        return cum.size - 1
    threshold = 0.5 * np.median(cum[is_max])
    ok = np.flatnonzero(is_max & (cum >= threshold))
    return int(ok[-1]) if ok.size else cum.size - 1


def _trim(local: np.ndarray, beats: np.ndarray) -> np.ndarray:
    """Drop beats in the weak lead-in and tail, where the local score stays under half its RMS at beats."""
    smooth = np.convolve(local[beats], hann(5, periodic=False))[2 : local.size + 2]
    threshold = 0.5 * np.sqrt(np.mean(smooth**2)) if smooth.size else 0.0
    above = np.flatnonzero(local > threshold)
    beats = beats.copy()
    if above.size == 0:
        beats[:] = False
        return beats
    beats[: above[0]] = False
    beats[above[-1] + 1 :] = False
    return beats


def steady_beat_grid(beat_frames: np.ndarray, tempo_bpm: float | None = None, fps: float = FPS) -> np.ndarray:
    """The tracked beats as a steady grid with sub-frame positions, when they keep a steady tempo.

    beat_frames: tracked beat positions (frames at `fps`, sorted); tempo_bpm: the song's estimated
    tempo (`AudioAnalysis.tempo_bpm`, refined below one frame of lag), or None. The beats are
    numbered by their distance from the first in median beat periods (a dropped beat leaves a number
    out). The grid's period is the tempo's when it is within `_TEMPO_AGREEMENT` of the beats' own
    spacing (the tempogram measures it over the whole song, more finely than a line through a few
    whole-frame beats), else the least-squares slope; its phase is the mean of the beats' offsets.
    When the beats' RMS distance from that grid is under `STEADY_RESIDUAL_FRAMES`, the grid's value
    at every number from the first to the last beat is returned (float64 frames; a dropped beat
    comes back): the tracker's whole-frame rounding, up to half a frame per beat, is gone.
    The grid is also moved `BEAT_LATENCY_FRAMES` earlier, onto the sounds themselves. Otherwise (a
    tempo change, rubato, fewer than 4 beats) the beats come back unchanged, as float64.
    """
    beats = np.sort(np.asarray(beat_frames, dtype=np.float64).ravel())
    if beats.size < 4:
        return beats
    spacing = float(np.median(np.diff(beats)))
    if spacing <= 0:
        return beats
    number = np.round((beats - beats[0]) / spacing)
    if np.any(np.diff(number) == 0):  # two beats within half a period: not one steady grid
        return beats
    period = 60.0 * fps / tempo_bpm if tempo_bpm else 0.0
    if abs(period - spacing) > _TEMPO_AGREEMENT * spacing:
        period = float(np.polyfit(number, beats, 1)[0])
    phase = float(np.mean(beats - period * number))
    if np.sqrt(np.mean((phase + period * number - beats) ** 2)) >= STEADY_RESIDUAL_FRAMES:
        return beats
    return phase - BEAT_LATENCY_FRAMES * fps / FPS + period * np.arange(number[-1] + 1)
