"""The plan of a talk: which stressed syllables get a stroke, with which hand and shape, and where
the phrases, nods, glances and weight shifts fall.

Speakers gesture in units: the hands rise from rest, make a gesture (an open palm, a point, a cup)
and beat on the following stresses at about the same place, then hold or go back to rest at a pause
(McNeill; Kendon). So the planner reads the voice's phrases (speech between pauses of at least
PHRASE_PAUSE_S), picks the stresses that get a stroke (the strongest first, no two closer than the
style allows), groups them into units (a new one at each phrase, after a long gap, or after a few
strokes), and gives each unit its hands (left, right or both), an opening shape (the least used
first, never the last unit's hands and shape together), a place and a size that follow the voice's
loudness. Head nods go on the strongest stresses, gestured or not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from a2a_cli.audio.speech import SpeechAnalysis
from a2a_cli.frame_rate import FPS
from a2a_cli.generation.gesture.shapes import BEAT, GESTURE_SPACE, READY, SHAPES, Shape, mirror_x
from a2a_cli.generation.gesture.styles import GestureStyle

__all__ = [
    "GLANCE_DEG", "MAX_UNIT_STROKES", "NOD_GAP_S", "PHRASE_PAUSE_S", "SHIFT_EVERY_S", "Stroke", "TalkPlan",
    "UNIT_GAP_S", "plan_talk",
]

PHRASE_PAUSE_S = 0.5  # a silence at least this long ends a phrase
UNIT_GAP_S = 2.0  # strokes further apart than this start a new gesture unit
MAX_UNIT_STROKES = (2, 6)  # a unit beats this many strokes at most (drawn per unit)
NOD_GAP_S = 0.6  # nods at least this far apart
GLANCE_DEG = 14.0  # the head turns toward different listeners, up to this far from the front
SHIFT_EVERY_S = (5.0, 12.0)  # a standing speaker shifts the weight to the other foot this often (s)


@dataclass(frozen=True)
class Stroke:
    """One stroke: its end lands at `time_s` (the stressed syllable). `left`, `right`: the wrists'
    end places (3,) in the chest frame, None for a hand that does not take part; `via`: the
    preparation's offset for the left hand (the right mirrors it); `shape`: its name."""

    time_s: float
    shape: str
    left: np.ndarray | None
    right: np.ndarray | None
    via: np.ndarray


@dataclass(frozen=True)
class TalkPlan:
    """What the speaker does, in seconds. `phrases` (q, 2): [start, end) of speech between long pauses;
    `strokes`: in time order; `nods` (n, 2): time and depth (degrees) of each nod; `glances` (g, 2):
    time from which the head looks where (yaw degrees); `shifts` (s, 2): time from which the weight
    is on which foot (+1 left, -1 right); `liveliness`: the style's 0..1."""

    duration_s: float
    phrases: np.ndarray
    strokes: list[Stroke]
    nods: np.ndarray
    glances: np.ndarray
    shifts: np.ndarray
    liveliness: float


def plan_talk(speech: SpeechAnalysis, duration_s: float, style: GestureStyle, rng: np.random.Generator) -> TalkPlan:
    """The plan for the first `duration_s` seconds of `speech`, in `style`, drawn from `rng`."""
    lively = float(style.liveliness)
    phrases = _phrases(speech, duration_s)
    times = np.asarray(speech.stress_times_s, dtype=np.float64)
    strength = np.clip(np.nan_to_num(np.asarray(speech.stress_strength, dtype=np.float64), nan=0.5), 0.0, 1.0)
    inside = (times > 0.0) & (times < duration_s - 1.0 / FPS)
    times, strength = times[inside], strength[inside]
    chosen = _stroke_times(times, strength, lively)
    strokes = _strokes(times[chosen], strength[chosen], phrases, speech, lively, rng)
    nod_at = _spaced(times, strength, np.quantile(strength, 0.75 - 0.35 * lively) if strength.size else 1.0, NOD_GAP_S)
    nods = np.column_stack([times[nod_at], (2.5 + 6.0 * lively) * (0.5 + 0.5 * strength[nod_at])])
    starts = np.concatenate([[0.0], phrases[:, 0]]) if phrases.size else np.zeros(1)
    side = np.where(np.arange(starts.size) % 2 == 0, 1.0, -1.0) * rng.choice([-1.0, 1.0])
    glances = np.column_stack([starts - 0.3, side * rng.uniform(0.2, 1.0, starts.size) * GLANCE_DEG])
    glances[rng.random(starts.size) < 0.3, 1] *= 0.2  # now and then straight to the front
    return TalkPlan(duration_s, phrases, strokes, nods, glances, _shifts(phrases, duration_s, rng), lively)


def _phrases(speech: SpeechAnalysis, duration_s: float) -> np.ndarray:
    """[start, end) of each stretch of speech between pauses of PHRASE_PAUSE_S or more, within the clip."""
    voiced = np.asarray(speech.voiced, dtype=bool)
    n = min(voiced.size, int(round(duration_s * FPS)))
    voiced = voiced[:n].copy()
    pauses = np.asarray(speech.pauses_s, dtype=np.float64).reshape(-1, 2)
    for start, end in pauses[np.isfinite(pauses).all(axis=1)]:
        if end - start >= PHRASE_PAUSE_S:
            voiced[int(round(start * FPS)):int(round(end * FPS))] = False
    edges = np.flatnonzero(np.diff(np.concatenate([[0], voiced.astype(np.int8), [0]])))
    spans = edges.reshape(-1, 2) / FPS
    # short gaps of unvoiced frames that no pause names (consonants, breaths) stay inside a phrase
    merged: list[list[float]] = []
    for start, end in spans:
        if merged and start - merged[-1][1] < PHRASE_PAUSE_S:
            merged[-1][1] = end
        else:
            merged.append([start, end])
    return np.asarray(merged, dtype=np.float64).reshape(-1, 2)


def _spaced(times: np.ndarray, strength: np.ndarray, threshold: float, gap_s: float) -> np.ndarray:
    """Indices (ascending) of the stresses at or above `threshold`, strongest first, none closer
    than `gap_s` to one already taken."""
    from bisect import bisect_left, insort

    taken: list[float] = []
    chosen: list[int] = []
    for i in np.argsort(-strength, kind="stable"):
        if strength[i] < threshold:
            break
        t = float(times[i])
        at = bisect_left(taken, t)
        if (at == 0 or t - taken[at - 1] >= gap_s) and (at == len(taken) or taken[at] - t >= gap_s):
            insort(taken, t)
            chosen.append(int(i))
    return np.sort(np.asarray(chosen, dtype=np.int64))


def _stroke_times(times: np.ndarray, strength: np.ndarray, lively: float) -> np.ndarray:
    """The stresses that get a stroke: calm speakers leave out their weakest stresses (up to a
    quarter) and those within 0.4 s of a stronger one, animated ones stroke nearly every stress (but
    a hand needs about 0.3 s to prepare and strike); calm strokes are smaller. Speakers beat on a
    subset of their pitch accents; the gesture judge asks for enough of them to show the timing
    (scoring/gesture_timing.py: on synthetic voices, 45 % of the stresses or more in 12 s)."""
    if not times.size:
        return np.zeros(0, dtype=np.int64)
    threshold = np.quantile(strength, 0.3 - 0.3 * lively)
    return _spaced(times, strength, threshold, 0.45 - 0.15 * lively)


def _strokes(times: np.ndarray, strength: np.ndarray, phrases: np.ndarray, speech: SpeechAnalysis,
             lively: float, rng: np.random.Generator) -> list[Stroke]:
    phrase_of = np.searchsorted(phrases[:, 0], times, side="right") if phrases.size else np.zeros(times.size, int)
    loud = _loudness_factor(speech, times)
    uses = {s.name: 0 for s in SHAPES}
    strokes: list[Stroke] = []
    last = ("", "")
    unit_left = 0
    for k, t in enumerate(times):
        new_unit = (unit_left == 0 or k == 0 or phrase_of[k] != phrase_of[k - 1] or t - times[k - 1] > UNIT_GAP_S)
        if new_unit:
            hands, shape = _unit_choice(uses, last, lively, rng)
            uses[shape.name] += 1
            last = (hands, shape.name)
            unit_left = int(rng.integers(MAX_UNIT_STROKES[0], MAX_UNIT_STROKES[1] + 1))
            size = (0.45 + 0.75 * lively) * rng.uniform(0.85, 1.15)
            shift = rng.uniform([-0.05, -0.04, -0.03], [0.04, 0.04, 0.03])
            stroke_shape = shape
        else:
            stroke_shape = BEAT if rng.random() < 0.6 else shape
        unit_left -= 1
        amp = size * loud[k] * (0.8 + 0.4 * strength[k])
        end = np.clip(READY + shift + amp * (stroke_shape.end - READY) + rng.normal(0.0, 0.012, 3), *GESTURE_SPACE)
        via = stroke_shape.via * amp * rng.uniform(0.8, 1.2)
        if hands == "l":
            left, right = end, None
        elif hands == "r":
            left, right = None, mirror_x(end, True)
        else:  # two hands rarely move as exact mirrors: the second is a little smaller and elsewhere
            other = np.clip(READY + shift + 0.9 * amp * (stroke_shape.end - READY) + rng.normal(0.0, 0.015, 3), *GESTURE_SPACE)
            left, right = (end, mirror_x(other, True)) if rng.random() < 0.5 else (other, mirror_x(end, True))
        strokes.append(Stroke(float(t), stroke_shape.name, left, right, via))
    return strokes


def _unit_choice(uses: dict, last: tuple[str, str], lively: float, rng: np.random.Generator) -> tuple[str, Shape]:
    """Hands ("l", "r", "both") and opening shape of a new unit: both hands more often when lively,
    the right a little more often than the left, the least used shapes first."""
    p_both = 0.15 + 0.35 * lively
    hands = "both" if rng.random() < p_both else ("r" if rng.random() < 0.6 else "l")
    options = [s for s in SHAPES if s.both == (hands == "both") or s is BEAT or s.name == "chop"]
    options = [s for s in options if (hands, s.name) != last] or options
    weights = np.array([s.weight / (1.0 + uses[s.name]) ** 2 for s in options])
    return hands, options[int(rng.choice(len(options), p=weights / weights.sum()))]


def _loudness_factor(speech: SpeechAnalysis, times: np.ndarray) -> np.ndarray:
    """Per stroke, how much bigger it is drawn for a louder voice around it (0.8 to 1.2): its level
    over the half second before it against the talk's median voiced level, 20 dB making a factor of 2."""
    level = np.nan_to_num(np.asarray(speech.loudness_db, dtype=np.float64), nan=-100.0)
    voiced = np.asarray(speech.voiced, dtype=bool)[: level.size]
    if not level.size or not voiced.any() or not times.size:
        return np.ones(times.size)
    median = float(np.median(level[voiced]))
    frame = np.clip(np.round(times * FPS).astype(np.int64), 0, level.size - 1)
    window = np.clip(frame[:, None] - np.arange(15)[None, :], 0, level.size - 1)
    local = level[window].max(axis=1)
    return np.clip(1.0 + (local - median) / 20.0, 0.8, 1.2)


def _shifts(phrases: np.ndarray, duration_s: float, rng: np.random.Generator) -> np.ndarray:
    """Weight shifts: at phrase starts (or in long silences) every SHIFT_EVERY_S or so, to the other foot."""
    candidates = phrases[:, 0] - 0.4 if phrases.size else np.zeros(0)
    candidates = np.concatenate([candidates, np.arange(8.0, duration_s, 9.0)])  # also in a long silence
    candidates = np.unique(np.round(candidates, 2))
    side = rng.choice([-1.0, 1.0])
    out = [(-1.0, side)]
    wait = rng.uniform(*SHIFT_EVERY_S)
    for t in candidates:
        if t - out[-1][0] >= wait:
            side = -side
            out.append((float(t), side))
            wait = rng.uniform(*SHIFT_EVERY_S)
    return np.asarray(out, dtype=np.float64)
