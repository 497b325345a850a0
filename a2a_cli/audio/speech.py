"""Speech for gesture: what a gesture generator and the gesture judge need to know about a voice.

`SpeechAnalysis` is the speech counterpart of `AudioAnalysis` (music): per-frame arrays at the
motion's 30 fps, event times in seconds. `analyze_speech` (voice activity, syllable onsets, pitch
accents, loudness, speaking rate) fills it from samples or a file.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from a2a_cli.audio.analysis import AudioSource
from a2a_cli.audio.decoding import FPS

__all__ = ["SpeechAnalysis"]


@dataclass(frozen=True, eq=False)
class SpeechAnalysis:
    """A voice, read for gesture. Per-frame arrays have one row per 30 fps frame; arrays are read-only.

    sha256: of the audio (as AudioAnalysis); duration_s: seconds analysed.
    voiced: (n_frames,) bool, someone is speaking (voice activity; False in pauses and silence).
    loudness_db: (n_frames,) float32, RMS level in dB relative to full scale (-100 for digital silence).
    f0_hz: (n_frames,) float32, the voice's fundamental frequency; NaN where unvoiced.
    syllable_times_s: (k,) float64, syllable onsets in seconds, ascending.
    stress_times_s: (m,) float64, stressed syllables (pitch accents: where a beat gesture's stroke
        belongs), ascending.
    stress_strength: (m,) float64 in (0, 1], how prominent each stress is (pitch excursion and loudness).
    pauses_s: (p, 2) float64, [start, end) of each silent pause (no voice for at least a short breath),
        ascending; leading and trailing silence included.
    speaking_rate_hz: syllables per second of voiced time (people: about 3-6).
    pitch_range_st: the voice's pitch range in semitones (10th to 90th percentile of F0; 0 when no F0).
    animation: 0 (calm) to 1 (animated), read from loudness variation, pitch range and rate: the
        gesture counterpart of a song's style.
    source: how to read the samples again (a model that hears the audio itself), or None.
    """

    sha256: str
    duration_s: float
    voiced: np.ndarray
    loudness_db: np.ndarray
    f0_hz: np.ndarray
    syllable_times_s: np.ndarray
    stress_times_s: np.ndarray
    stress_strength: np.ndarray
    pauses_s: np.ndarray
    speaking_rate_hz: float
    pitch_range_st: float
    animation: float
    source: AudioSource | None = None

    @property
    def n_frames(self) -> int:
        return int(round(self.duration_s * FPS))
