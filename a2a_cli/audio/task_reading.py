"""Speech or music? The task an audio clip asks for: `gesture` for a voice, `dance` for music (`--task auto`).

Music, of every kind a2a bundles or synthesises, has a steady beat: its onsets repeat with one
period, so the autocorrelation of its onset envelope has a strong peak at a lag of 0.3-1.5 s
(measured on the bundled examples: 0.7-0.98). Speech has no such period (syllable lengths vary by
tens of percent, phrases are broken by pauses of uneven length: 0.06-0.15 on synthetic voices and
espeak-ng). A voice is also strongly periodic within its frames (YIN's aperiodicity about 0.0-0.25
on the voiced frames), while a mix of drums, bass and chords is not (0.25-0.5). The verdict is a
logistic of those two; the other evidence (pauses, voicing, syllable-rate modulation) is reported
for whoever reads the metadata, not voted with.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from a2a_cli.audio.decoding import audio_seconds, read_file, resample, to_mono
from a2a_cli.audio.pitch import VOICING_THRESHOLD
from a2a_cli.audio.speech import INNER_FPS, SpeechFrames, pause_runs, speech_frames
from a2a_cli.errors import InputError
from a2a_cli.tasks import DANCE, GESTURE

__all__ = ["READ_SECONDS", "TaskReading", "read_task", "read_task_file"]

READ_SECONDS = 30.0  # a file's task is read from at most its first this many seconds (of the cut)
_BEAT_LAGS_S = (0.3, 1.5)  # beat periods looked for: 200 down to 40 BPM
_SYLLABLE_BAND_HZ = (2.5, 8.0)  # the syllable rate's band of envelope modulation
_MODULATION_BAND_HZ = (0.5, 20.0)
# logit(speech) = _BEAT_WEIGHT * (_BEAT_SPLIT - beat steadiness) + _PERIODIC_WEIGHT * (_PERIODIC_SPLIT - aperiodicity)
_BEAT_SPLIT, _BEAT_WEIGHT = 0.45, 10.0
_PERIODIC_SPLIT, _PERIODIC_WEIGHT = 0.3, 4.0
# A clip shorter than this holds too few beat periods to tell: its logit shrinks toward a coin toss.
_SURE_SECONDS = 6.0


@dataclass(frozen=True)
class TaskReading:
    """What an audio clip asks for. task: a2a_cli.tasks' DANCE (music) or GESTURE (speech).
    confidence: 0.5 (a coin toss) to 1, the logistic's probability of that task.
    evidence: name -> value of each measure read (see `read_task`), for metadata and `--json`."""

    task: str
    confidence: float
    evidence: dict[str, float] = field(default_factory=dict)


def _beat_steadiness(flux: np.ndarray) -> float:
    """The highest normalised autocorrelation of the onset envelope at a beat period (0 .. 1)."""
    lo, hi = (int(s * INNER_FPS) for s in _BEAT_LAGS_S)
    x = flux.astype(np.float64) - flux.mean()
    if x.size <= lo + 1 or not np.any(x):
        return 0.0
    n_fft = 1 << int(np.ceil(np.log2(2 * x.size)))
    ac = np.fft.irfft(np.square(np.abs(np.fft.rfft(x, n_fft))), n_fft)[: min(hi, x.size - 1) + 1]
    return float(np.clip(ac[lo:].max() / ac[0], 0.0, 1.0))


def _syllable_modulation(frames: SpeechFrames) -> float:
    """The share of the vowel-band envelope's modulation (0.5-20 Hz) at syllable rates (2.5-8 Hz)."""
    env = np.where(frames.active, frames.band_db, frames.band_db[frames.active].min())
    power = np.square(np.abs(np.fft.rfft(env - env.mean())))
    hz = np.fft.rfftfreq(env.size, 1.0 / INNER_FPS)
    total = power[(hz >= _MODULATION_BAND_HZ[0]) & (hz < _MODULATION_BAND_HZ[1])].sum()
    syllabic = power[(hz >= _SYLLABLE_BAND_HZ[0]) & (hz < _SYLLABLE_BAND_HZ[1])].sum()
    return float(syllabic / total) if total > 0 else 0.0


def read_task(samples: np.ndarray, sr: int) -> TaskReading:
    """Speech (GESTURE) or music (DANCE) in `samples` ((n,) or (n, channels) float at `sr` Hz).

    evidence: beat_steadiness (0-1, see the module's docstring), aperiodicity (median YIN
    aperiodicity of the frames with sound, 0 periodic .. 1 noise), voicing (share of those frames
    with a pitch), pause_fraction (share of the clip in pauses between sounds), syllable_modulation
    (share of the envelope's modulation at 2.5-8 Hz), active_fraction (share of the clip with sound).
    A clip with no sound reads as DANCE with confidence 0.5; one shorter than 6 s is read with a
    confidence shrunk toward 0.5 in proportion (a 1.5-s clip holds one or two beats at most).
    """
    if sr is None or sr <= 0:
        raise InputError("read_task needs the sample rate `sr` of the samples")
    mono = to_mono(samples)
    if mono.size == 0:
        raise InputError("the sample array has no audio samples")
    if not np.all(np.isfinite(mono)):
        raise InputError("audio contains NaN or infinite samples")
    frames = speech_frames(resample(mono, sr))
    active = frames.active
    if not active.any():
        return TaskReading(DANCE, 0.5, {"active_fraction": 0.0})
    pauses = pause_runs(active)
    interior = pauses[(pauses[:, 0] > 0) & (pauses[:, 1] < active.size)] if pauses.size else pauses
    aperiodicity = float(np.nanmedian(frames.aperiodicity[active]))
    evidence = {
        "beat_steadiness": _beat_steadiness(frames.flux),
        "aperiodicity": aperiodicity,
        "voicing": float(np.mean(frames.aperiodicity[active] < VOICING_THRESHOLD)),
        "pause_fraction": float((interior[:, 1] - interior[:, 0]).sum() / active.size) if interior.size else 0.0,
        "syllable_modulation": _syllable_modulation(frames),
        "active_fraction": float(active.mean()),
    }
    logit = (_BEAT_WEIGHT * (_BEAT_SPLIT - evidence["beat_steadiness"])
             + _PERIODIC_WEIGHT * (_PERIODIC_SPLIT - aperiodicity))
    logit *= min(1.0, active.size / INNER_FPS / _SURE_SECONDS)
    speech = 1.0 / (1.0 + np.exp(-logit))
    evidence = {name: round(value, 4) for name, value in evidence.items()}
    if speech >= 0.5:
        return TaskReading(GESTURE, float(speech), evidence)
    return TaskReading(DANCE, float(1.0 - speech), evidence)


def read_task_file(path: str | os.PathLike, start_s: float | None = None, duration_s: float | None = None) -> TaskReading:
    """`read_task` of an audio file's cut (`start_s`, `duration_s` in seconds, as `analyze` takes
    them), reading at most its first READ_SECONDS: what `--task auto` decides on, cheaply."""
    left_s = audio_seconds(path) - float(start_s or 0.0)
    length = READ_SECONDS if duration_s is None else min(float(duration_s), READ_SECONDS)
    if left_s > 0:
        length = min(length, left_s)
    samples, sr = read_file(Path(path), start_s=start_s, duration_s=length)
    return read_task(samples, sr)

