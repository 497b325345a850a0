"""Audio core: decode any wav/flac/ogg/mp3, then EDGE's 35 "baseline" features, tempo, beats, RMS.

`analyze` reproduces EDGE's `baseline_features.py` (librosa 0.11 at sr 15360, hop 512, so one
row per 30 fps motion frame) in numpy, with no librosa or numba at run time: a fresh process
analyses 3 minutes of audio in well under 2 s instead of 5-36 s (DESIGN §9). Where we differ:

- EDGE seeds the beat tracker's tempo prior with `librosa.beat.tempo` of the file reloaded at
  22050 Hz; we use our own 30 fps tempogram estimate with librosa's default prior (120 BPM).
- `tempo_bpm` is refined to a fractional autocorrelation lag (librosa reports the integer lag,
  which at 30 fps is off by up to 4%); the beat tracker itself uses the integer lag, as librosa.
- Float32 arithmetic and our own FFT/filter code: values agree with librosa to rounding, except
  where a threshold (onset peak, CENS quantisation step, beat DP tie) flips on a borderline value.
- The tuning estimate (librosa.estimate_tuning, used to shift the CQT) is reproduced from the
  same 2048-point STFT, so it matches librosa's except for float rounding in its histogram.
"""

from a2a_cli.audio.analysis import N_FEATURES, AudioAnalysis, analyze, file_sha256
from a2a_cli.audio.decoding import FEATURE_SR, FPS, HOP, MAX_FILE_BYTES, MAX_SECONDS, decode

__all__ = [
    "FPS",
    "FEATURE_SR",
    "HOP",
    "N_FEATURES",
    "MAX_FILE_BYTES",
    "MAX_SECONDS",
    "AudioAnalysis",
    "analyze",
    "decode",
    "file_sha256",
]
