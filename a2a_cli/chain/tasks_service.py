"""What the subnet does differently per task (a2a_cli.tasks), in one table: how a prompt's audio is
read, which judge scores an answer, what synthetic audio a validator prompts with, whether an
answer's style counts towards the miner's variety, whether answers are checked for copies and
replays, and the shortest prompt.

Miner and validator never name a task's analysis or judge themselves: they look the task up here,
so wiring a task in (or checking its wiring) is this one table. Every entry imports its library
only when called: naming the tasks costs no numpy, no model and no judge.

  task     prompt audio   analysis                              judge                             variety  copies  replays  prompt
  dance    music          audio.analyze -> AudioAnalysis        scoring.score_motions             yes      yes     yes      5-15 s
  gesture  speech         audio.speech.analyze_speech ->        scoring.gesture.score_gestures    no       yes     no       8-15 s
                          SpeechAnalysis

Variety (state.py) reads an answer's style with the shipped dance realism model; gesture answers
carry no style it can read, so a gesture average is not scaled by variety.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from a2a_cli.scoring.constants import MIN_DURATION_S
from a2a_cli.tasks import DANCE, GESTURE, check_task

if TYPE_CHECKING:
    import numpy as np

    from a2a_cli.motion import Motion
    from a2a_cli.scoring.composite import ScoreReport

__all__ = ["SYNTHETIC_SR", "TASK_KINDS", "TaskKind", "analyse_prompt", "judge_answers", "synthetic_audio", "task_kind"]

SYNTHETIC_SR = 22050  # the sample rate of a validator's synthetic prompts, in Hz


@dataclass(frozen=True)
class TaskKind:
    """How the subnet handles one task.

    analyse: (mono float32 samples (n,), sample rate in Hz) -> the audio's reading for that task's
        generators and judge (AudioAnalysis for dance, SpeechAnalysis for gesture).
    judge: (answer Motions to one prompt, the prompt's reading, reference Motion or None, each
        answer's latency in s or None) -> a ScoreReport per answer (validator_score in [0, 1], reasons,
        style), judged as one batch.
    synthesise: (seconds, seed) -> (mono float32 samples, sample rate in Hz): prompt audio made up
        on the spot (a validator on this machine's chains without a library).
    styles_vary: the judge's ScoreReport.style is a dance style the variety factor can read.
    detects_copies: answers are checked for copies of another answer to the prompt before they are
        judged (scoring.similarity, with the task's COPY_PROFILES entry: for gesture only the arms
        in the windows where a hand moves, since standing speakers at rest look alike).
    detects_replays: answers are also checked for repeats of an answer to an earlier prompt (the
        64-instant whole-body fingerprint). Not for gesture: that fingerprint is mostly legs and
        resting arms, alike for every standing speaker; an answer replayed for another voice is
        worth nothing by the judge's timing (orator against another 8-s voice: at most 0.09).
    min_prompt_s: the shortest prompt a validator sends for the task, in seconds. Gesture: 8 s (12 s
        before gesture judge 1.1): every one of 40 synthetic 8-s voices has the 4 stresses the judge
        needs to time gesture (4-11), honest `orator` answers score 0.84-1.00 there (median 1.00) and
        the same answers against another voice at most 0.09. Not the dance minimum: 12 of 40 6-s
        voices have fewer than 4 stresses, and the judge caps an untimed answer at 0.5 whoever made it.
    """

    analyse: Callable[[np.ndarray, int], Any]
    judge: Callable[[list[Motion], Any, Motion | None, list[float | None]], list[ScoreReport]]
    synthesise: Callable[[float, int], tuple[np.ndarray, int]]
    styles_vary: bool
    detects_copies: bool
    detects_replays: bool
    min_prompt_s: float


def _analyse_music(samples: np.ndarray, sr: int) -> Any:
    from a2a_cli.audio import analyze

    return analyze(samples, sr)


def _analyse_speech(samples: np.ndarray, sr: int) -> Any:
    from a2a_cli.audio.speech import analyze_speech

    return analyze_speech(samples, sr)


def _judge_dance(motions: list[Motion], analysis: Any, reference: Motion | None, latencies: list[float | None]) -> list[ScoreReport]:
    from a2a_cli.scoring import score_motions

    return score_motions(motions, analysis, reference=reference, latency_s=latencies)


def _judge_gesture(motions: list[Motion], analysis: Any, reference: Motion | None, latencies: list[float | None]) -> list[ScoreReport]:
    from a2a_cli.scoring.gesture import score_gestures

    return score_gestures(motions, analysis, latency_s=latencies)  # it compares no reference


def _synthetic_music(seconds: float, seed: int) -> tuple[np.ndarray, int]:
    from a2a_cli.examples import GENRES, synth_genre_song

    genre = sorted(GENRES)[seed % len(GENRES)]
    return synth_genre_song(genre, seconds, sr=SYNTHETIC_SR, seed=seed), SYNTHETIC_SR


def _synthetic_speech(seconds: float, seed: int) -> tuple[np.ndarray, int]:
    from a2a_cli.examples import synth_speech

    speech = synth_speech(seconds, seed)
    return speech.samples, int(speech.sr)


TASK_KINDS: dict[str, TaskKind] = {
    DANCE: TaskKind(_analyse_music, _judge_dance, _synthetic_music, styles_vary=True, detects_copies=True,
                    detects_replays=True, min_prompt_s=MIN_DURATION_S),
    GESTURE: TaskKind(_analyse_speech, _judge_gesture, _synthetic_speech, styles_vary=False, detects_copies=True,
                      detects_replays=False, min_prompt_s=8.0),
}


def analyse_prompt(task: str, samples: np.ndarray, sr: int) -> Any:
    """The reading of prompt audio for `task`: `samples` mono float32 (n,) at `sr` Hz."""
    return TASK_KINDS[check_task(task)].analyse(samples, sr)


def judge_answers(task: str, motions: list[Motion], analysis: Any, *, reference: Motion | None = None,
                  latencies: list[float | None] | None = None) -> list[ScoreReport]:
    """The `task` judge's report on each of `motions`, answers to one prompt whose reading is
    `analysis` (`analyse_prompt`), judged as one batch; `reference`: the prompt's reference motion or
    None; `latencies`: each answer's round trip in seconds (or None), None for none at all."""
    return TASK_KINDS[check_task(task)].judge(list(motions), analysis, reference, latencies or [None] * len(motions))


def synthetic_audio(task: str, seconds: float, seed: int) -> tuple[np.ndarray, int]:
    """(mono float32 samples, sample rate in Hz): `seconds` of synthetic prompt audio for `task`
    (a song of a genre drawn by `seed` for dance, a synthetic voice for gesture)."""
    return TASK_KINDS[check_task(task)].synthesise(seconds, seed)


def task_kind(task: str) -> TaskKind:
    """How the subnet handles `task` (its TaskKind: reading, judge, copy checks, shortest prompt, styles)."""
    return TASK_KINDS[check_task(task)]
