"""Timing of a speaker's hands to a voice: do the strokes land on the stressed syllables? (the
gesture judge's `timing` term; JUDGE.md, "Gesture judge 1.1"; constants in gesture_constants.py).

People do not beat on every pitch accent, and not every velocity minimum of an arm is a stroke:
between two beats a hand also turns at the top of its rebound, holds, retracts. What the gesture
literature times to the stressed syllable is the stroke's end, the moment the gesturing hand's
strong motion stops (McNeill 1992; Loehr 2004; Leonard and Cummins 2011: the apex of a beat, its
hardest stop, is the part most consistently aligned with the pitch accent). So timing is read off
the wrists alone (the joints that gesture; the trunk's breathing and the head's nods have minima of
their own that would dilute it) and asks two things:

- **precision**: of the hands' stroke ends, how many land within TIMING_TOLERANCE_S of a stress;
- **recall** (coverage): of the stresses, how many have a hand stop within TIMING_TOLERANCE_S,

combined as their harmonic mean F, and judged against a null model: the same hands against
NULL_DRAWS unrelated voices of the same rhythm (`null_stresses`), whose F has mean c and standard
deviation s. The timing credit is the lesser of two ramps (gesture_constants): of the significance
z = (F - c) / s, which is length-aware because s comes from this voice's own stresses (few stresses,
a wide null), and of the effect (F - c) / (1 - c), the share of what chance leaves that the motion
takes. A motion with stops everywhere (jitter, fidgeting) has high recall but chance precision; a few
strokes on stresses have precision but no coverage; a motion made for another voice has both at chance.

A hand **stop**: a local minimum of the wrist's speed (relative to the pelvis, lightly smoothed)
that the speed around it rises above by STOP_PROMINENCE_M_S (scipy's peak prominence, within
STOP_WINDOW_S). A **stroke end**: a stop the hand arrives at at least as fast as it leaves it (the
highest speed since the hand's previous stop at least the highest until its next one): a stroke is
the fast phase and ends in a hold, a slower rebound or a retraction, whereas the top of a rebound
or the end of a hold is left faster than it was reached.
"""

from __future__ import annotations

import numpy as np

from a2a_cli.motion.skeleton import L_WRIST, PELVIS, R_WRIST
from a2a_cli.scoring.composite import ramp
from a2a_cli.scoring.gesture_constants import (
    NULL_DRAWS, NULL_SD_FLOOR, NULL_SEED, STOP_PROMINENCE_M_S, STOP_SMOOTHING_S, STOP_WINDOW_S, TIMING_EFFECT_FULL,
    TIMING_EFFECT_NONE, TIMING_TOLERANCE_S, TIMING_Z_FULL, TIMING_Z_NONE,
)
from a2a_cli.scoring.gesture_metrics import beat_consistency, gesture_beats, joint_speeds
from a2a_cli.scoring.smoothing import gaussian_filter1d

__all__ = [
    "HANDS", "distance_to_nearest", "hand_speeds", "hand_stops", "hand_stops_each", "null_stresses", "stroke_f",
    "timing_to_speech",
]

HANDS = (L_WRIST, R_WRIST)


def null_stresses(stress_times_s: np.ndarray, duration_s: float, draws: int = NULL_DRAWS, seed: int = NULL_SEED) -> np.ndarray:
    """The null model's voices: (draws, m) stress times (s), each sorted, made from the m stresses
    of this voice by shuffling the intervals between them (the one from the last stress round to the
    first included) and starting at a uniformly random time, wrapped around [0, duration_s)."""
    stresses = np.sort(np.asarray(stress_times_s, dtype=np.float64))
    if stresses.size == 0:
        return np.zeros((draws, 0))
    rng = np.random.default_rng(seed)
    gaps = np.diff(np.append(stresses, stresses[0] + duration_s))
    order = np.argsort(rng.random((draws, gaps.size)), axis=1)  # one permutation per draw
    shuffled = gaps[order]
    offsets = np.cumsum(shuffled, axis=1) - shuffled  # 0, g1, g1 + g2, ...
    return np.sort((rng.uniform(0.0, duration_s, (draws, 1)) + offsets) % duration_s, axis=1)


def hand_speeds(joints: np.ndarray, fps: float) -> np.ndarray:
    """Speed (m/s) of each wrist relative to the pelvis, (T, 2): central differences (as EMAGE's BC)
    smoothed by a Gaussian of STOP_SMOOTHING_S (one frame at 30 fps: a sampled corner of the path is
    no stop). joints: (T, 24, 3) metres at `fps`, T >= 2."""
    joints = np.asarray(joints, dtype=np.float64)
    speed = joint_speeds(joints - joints[:, PELVIS : PELVIS + 1], fps, HANDS)
    return gaussian_filter1d(speed, STOP_SMOOTHING_S * fps, axis=0)


def hand_stops_each(joints: np.ndarray, fps: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each hand's (HANDS: left, then right wrist) stops and stroke ends (module doc): a list of two
    (stops, strokes) pairs of sorted times (s). joints: (T, 24, 3) metres at `fps`.

    The one definition of a hand beat in a2a: the judge's timing reads it, and so do the tests and
    the benchmark of the gesture generators."""
    import warnings

    from scipy.signal import find_peaks  # here: scipy.signal costs start-up time

    each = []
    window = max(3, int(round(STOP_WINDOW_S * fps)) | 1)
    reach = int(round(STOP_WINDOW_S * fps))
    for speed in hand_speeds(joints, fps).T:
        with warnings.catch_warnings():  # a still hand's flat minima have prominence 0: not stops, no news
            warnings.filterwarnings("ignore", "some peaks have a prominence of 0", RuntimeWarning)
            at, _ = find_peaks(-speed, prominence=STOP_PROMINENCE_M_S, wlen=window)
        edges = np.concatenate([[0], at, [speed.size - 1]])
        arrive = np.array([speed[max(edges[i], a - reach) : a + 1].max() for i, a in enumerate(at)])
        leave = np.array([speed[a : min(edges[i + 2], a + reach) + 1].max() for i, a in enumerate(at)])
        each.append((at / fps, at[arrive >= leave] / fps if at.size else at / fps))
    return each


def hand_stops(joints: np.ndarray, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """The hands' stops and stroke ends (module doc), each the sorted times (s) of both wrists
    together. joints: (T, 24, 3) metres at `fps`."""
    each = hand_stops_each(joints, fps)
    return np.sort(np.concatenate([stops for stops, _ in each])), np.sort(np.concatenate([strokes for _, strokes in each]))


def distance_to_nearest(times: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """The distance (s) from each of `times` (any shape) to the nearest of the sorted `targets`
    (k,): inf where there is no target."""
    times = np.asarray(times, dtype=np.float64)
    if targets.size == 0:
        return np.full(times.shape, np.inf)
    right = np.searchsorted(targets, times).clip(max=targets.size - 1)
    left = (right - 1).clip(min=0)
    return np.minimum(np.abs(times - targets[left]), np.abs(times - targets[right]))


def _near(times: np.ndarray, targets: np.ndarray, tolerance_s: float) -> np.ndarray:
    """Mask (..., n): whether each of `times` (..., n) lies within `tolerance_s` of one of the sorted
    `targets` (k,)."""
    return distance_to_nearest(times, targets) <= tolerance_s


def stroke_f(stops: np.ndarray, strokes: np.ndarray, stress_times_s: np.ndarray,
             tolerance_s: float = TIMING_TOLERANCE_S) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision (stroke ends within `tolerance_s` of a stress), recall (stresses within it of a
    stop) and their harmonic mean F, each of shape () for stresses (m,) or (k,) for k sets (k, m)
    at once (the null model's). stops, strokes: sorted times (s), `hand_stops`."""
    stresses = np.asarray(stress_times_s, dtype=np.float64)
    sets = stresses.reshape(-1, stresses.shape[-1])
    if strokes.size and sets.shape[1]:
        # every set at once: set i shifted by i * span, so that the nearest stress is always its own
        span = 2.0 * (max(float(np.abs(sets).max()), float(np.abs(strokes).max())) + tolerance_s + 1.0)
        offsets = span * np.arange(len(sets))[:, None]
        targets = (np.sort(sets, axis=1) + offsets).ravel()
        precision = _near(strokes[None, :] + offsets, targets, tolerance_s).mean(axis=1)
    else:
        precision = np.zeros(len(sets))
    recall = _near(sets, stops, tolerance_s).mean(axis=1) if sets.shape[1] else np.zeros(len(sets))
    f = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0.0)
    shape = stresses.shape[:-1]
    return precision.reshape(shape), recall.reshape(shape), f.reshape(shape)


def timing_to_speech(joints: np.ndarray, stress_times_s: np.ndarray, fps: float) -> dict[str, float]:
    """The hands' timing to the voice's stresses (module doc) and EMAGE's BC, for a report.

    joints: (T, 24, 3) metres at `fps`; stress_times_s: the voice's stressed syllables (s); those
    outside the clip are dropped. Returns bc_emage (EMAGE's BC, reported, not judged),
    stroke_precision, stress_recall, timing_f (F), timing_f_null (c), timing_f_null_sd (s),
    timing_z = (F - c) / max(s, NULL_SD_FLOOR), timing_effect = (F - c) / (1 - c), timing (the
    credit in [0, 1]: the lesser of their ramps), stresses and strokes (counts).
    """
    duration = len(joints) / fps
    stresses = np.asarray(stress_times_s, dtype=np.float64)
    stresses = np.sort(stresses[(stresses >= 0) & (stresses < duration)])
    stops, strokes = hand_stops(joints, fps)
    precision, recall, f = (float(x) for x in stroke_f(stops, strokes, stresses))
    null = stroke_f(stops, strokes, null_stresses(stresses, duration))[2] if stresses.size else np.ones(1)
    chance, spread = float(null.mean()), float(null.std())
    z = (f - chance) / max(spread, NULL_SD_FLOOR)
    effect = (f - chance) / (1.0 - chance) if chance < 1.0 else 0.0
    timing = min(ramp(z, TIMING_Z_NONE, TIMING_Z_FULL), ramp(effect, TIMING_EFFECT_NONE, TIMING_EFFECT_FULL))
    return {"bc_emage": float(beat_consistency(gesture_beats(joints, fps), stresses)), "stroke_precision": precision,
            "stress_recall": recall, "timing_f": f, "timing_f_null": chance, "timing_f_null_sd": spread,
            "timing_z": float(z), "timing_effect": float(effect), "timing": float(timing),
            "stresses": float(stresses.size), "strokes": float(strokes.size)}
