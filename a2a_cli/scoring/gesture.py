"""The gesture judge: one number in [0, 1] for how close a motion comes to a person gesturing while
speaking this voice (issue 20; JUDGE.md, "Gesture judge 1.1"). Constants and their sources:
gesture_constants.py; the literature's metrics: gesture_metrics.py; timing to the voice: gesture_timing.py.

How it is made, as the dance judge (composite.py), whose pieces it reuses:

1. **Time base**: judged at 30 fps (`JUDGE_FPS`), resampled when the file has another rate.
2. **Gates** (any failure scores 0): the dance judge's header and physical gates (validity.py: frame
   rate, frame count against the speech, length, finite numbers, joint speed, root speed, teleports,
   joint rotation speed or bone stretch, jerk, floor penetration, floating, foot skating), its `moves`
   gate replaced by three for a standing speaker: `travel` (the pelvis stays within MAX_TRAVEL_M of
   where it stands), `foot_slide` (the feet hold the floor) and `gesturing` (the hands move at all).
3. **Terms**, each in [0, 1], blended by GESTURE_WEIGHTS (renormalised over those measured):
   - `timing`: whether the hands' strokes land on this voice's stressed syllables (gesture_timing.py):
     the F-measure of the wrists' stroke ends on the stresses (precision) and the stresses met by a
     hand stop (recall), judged against a null model: the same motion against `NULL_DRAWS`
     unrelated voices of the same rhythm (the stresses' intervals shuffled, started at a random
     time), whose F has mean c and standard deviation s. The credit is the lesser of a ramp of the
     significance (F - c) / s (length-aware: few stresses, a wide null) and one of the effect
     (F - c) / (1 - c): timing to this voice earns credit, a generic motion that would fit any voice
     does not. EMAGE's BC is reported beside it. Not judged with fewer than MIN_TIMING_STRESSES
     stresses in the clip: the score is then capped at UNTIMED_SCORE_CAP, and the reasons say so.
   - `rest`: the hands' speed in the pauses over their speed while speaking.
   - `variety`: liveliness (EMAGE's L1 diversity) and not a loop (the dance judge's repeat residual),
     the lesser of the two credits.
   - `quality`: GENEA's mean jerk of the upper body, and feet that hold the floor.
4. **Anti-gaming factors**: the blend is multiplied by the timing credit (when judged) and the loop
   credit: motion that does not follow this voice, or repeats itself exactly, collects nothing else.
5. **Latency**: as the dance judge's, times 0.9 + 0.1 / (1 + latency / 10 s).

Without speech the motion is judged without timing and rest (and without the frame-count gate).
Every report carries `judge_version` (GESTURE_JUDGE_VERSION) and `reasons` in words.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from a2a_cli.frame_rate import FPS as SPEECH_FPS  # the rate of SpeechAnalysis's per-frame arrays
from a2a_cli.motion.grounding import floor_height
from a2a_cli.motion.skeleton import L_ANKLE, L_FOOT, PELVIS, R_ANKLE, R_FOOT
from a2a_cli.scoring.composite import ScoreReport, latency_score, ramp, repeat_residual
from a2a_cli.scoring.constants import (
    CONTACT_HEIGHT_M, JUDGE_FPS, LATENCY_WEIGHT, LOW_CREDIT, REPEAT_RESIDUAL_EXACT, REPEAT_RESIDUAL_HUMAN,
    TRAVEL_SMOOTHING_S,
)
from a2a_cli.scoring.gesture_constants import (
    FOOT_SLIDE_HUMAN_M_S, GESTURE_JERK_HUMAN_M_S3, GESTURE_JERK_NONE_M_S3, GESTURE_JUDGE_VERSION, GESTURE_WEIGHTS,
    L1DIV_HUMAN_M, L1DIV_NONE_M, MAX_FOOT_SLIDE_M_S, MAX_TRAVEL_M, MIN_HAND_MOTION_M, MIN_PAUSE_FRAMES_S, MIN_PAUSE_S,
    MIN_TIMING_STRESSES, REST_RATIO_HUMAN, REST_RATIO_NONE, REST_SETTLE_S, UNTIMED_SCORE_CAP,
)
from a2a_cli.scoring.gesture_metrics import UPPER_BODY, joint_speeds, l1_diversity, mean_acceleration, mean_jerk
from a2a_cli.scoring.gesture_timing import HANDS, timing_to_speech
from a2a_cli.scoring.smoothing import gaussian_filter1d
from a2a_cli.scoring.validity import (
    Gate, at_judge_rate, batch_validity_values, gate_reasons, header_gates, measurable, motion_gates, validity_values,
)

if TYPE_CHECKING:
    from a2a_cli.audio.speech import SpeechAnalysis
    from a2a_cli.motion.motion import Motion

__all__ = [
    "GESTURE_JUDGE_VERSION", "GESTURE_WEIGHTS", "rest_ratio", "score_gesture", "score_gestures", "standing_values",
]

_FEET = ((L_ANKLE, L_FOOT), (R_ANKLE, R_FOOT))
# name -> (limit, True when the value must stay at or below it, what failing means)
_STANDING_LIMITS = {
    "travel": (MAX_TRAVEL_M, True, "the speaker walks off: the body leaves the spot it stands on (m)"),
    "foot_slide": (MAX_FOOT_SLIDE_M_S, True, "the feet slide over the floor instead of standing (m/s)"),
    "gesturing": (MIN_HAND_MOTION_M, False, "the hands hardly move for the whole clip (m RMS)"),
}


def _hand_speed(joints: np.ndarray, fps: float) -> np.ndarray:
    """Mean speed (m/s) of the two wrists relative to the pelvis, per frame (T,)."""
    relative = joints - joints[:, PELVIS : PELVIS + 1]
    return joint_speeds(relative, fps, HANDS).mean(axis=1)


def rest_ratio(joints: np.ndarray, speech: SpeechAnalysis, fps: float) -> float | None:
    """The hands' mean speed in the pauses over their mean speed while voiced (gesture_constants),
    or None when the clip has too little pause or no voiced frame to compare.

    joints: (T, 24, 3) metres at `fps`; speech: the voice (pauses in seconds, `voiced` per 30 fps frame).
    """
    speed = _hand_speed(joints, fps)
    times = np.arange(len(speed)) / fps
    resting = np.zeros(len(speed), dtype=bool)
    for start, end in np.asarray(speech.pauses_s, dtype=np.float64).reshape(-1, 2):
        if end - start >= MIN_PAUSE_S:
            resting |= (times >= start + REST_SETTLE_S) & (times < end - REST_SETTLE_S)
    voiced = np.asarray(speech.voiced, dtype=bool)
    if voiced.size == 0:
        return None
    speaking = voiced[np.minimum(np.rint(times * SPEECH_FPS).astype(np.int64), voiced.size - 1)] & ~resting
    if resting.sum() < MIN_PAUSE_FRAMES_S * fps or not speaking.any():
        return None
    talking = float(speed[speaking].mean())
    return float(speed[resting].mean() / talking) if talking > 1e-9 else None


def standing_values(joints: np.ndarray, fps: float) -> dict[str, float]:
    """The standing speaker's gate values of one clip (T, 24, 3), metres, y up (gesture_constants):
    travel (m), foot_slide (m/s), gesturing (m RMS)."""
    joints = np.asarray(joints, dtype=np.float64)
    path = gaussian_filter1d(joints[:, PELVIS, [0, 2]], TRAVEL_SMOOTHING_S * fps, axis=0)
    travel = float(np.linalg.norm(path - np.median(path, axis=0), axis=1).max())
    floor = floor_height(joints)
    slide, contact = 0.0, 0
    for ankle, toe in _FEET:
        on_floor = np.minimum(joints[1:, ankle, 1], joints[1:, toe, 1]) - floor < CONTACT_HEIGHT_M
        middle = (joints[:, ankle, [0, 2]] + joints[:, toe, [0, 2]]) / 2
        speed = np.linalg.norm(np.diff(middle, axis=0), axis=1) * fps
        slide += float(speed[on_floor].sum())
        contact += int(on_floor.sum())
    hands = (joints - joints[:, PELVIS : PELVIS + 1])[:, list(HANDS)]
    motion = float(np.sqrt(((hands - hands.mean(axis=0)) ** 2).sum(axis=-1).mean(axis=0)).mean())
    return {"travel": travel, "foot_slide": slide / max(contact, 1), "gesturing": motion}


def _standing_gates(values: dict[str, float]) -> list[Gate]:
    gates = []
    for name, value in values.items():
        limit, upper, meaning = _STANDING_LIMITS[name]
        passed = bool(value <= limit) if upper else bool(value >= limit)
        gates.append(Gate(name, passed, float(value), limit, "ok" if passed else meaning))
    return gates


def score_gesture(motion: Motion, speech: SpeechAnalysis | None = None, *, latency_s: float | None = None,
                  validity: dict[str, float] | None = None) -> ScoreReport:
    """Judge one gesture motion (module doc). Never raises on motion content: bad numbers fail a gate.

    motion: the Motion (any frame rate; judged at JUDGE_FPS); speech: the voice it answers, or None
    to judge without timing, rest and the frame-count gate; latency_s: the miner's answer time in
    seconds, or None; validity: this motion's `validity_values` at the judge's rate, when a caller
    computed them for a batch (score_gestures).
    """
    expected = None if speech is None else int(round(speech.duration_s * float(motion.fps)))
    gates = header_gates(motion, expected)
    metrics: dict[str, float] = {}
    components: dict[str, float] = {}
    factors: dict[str, float] = {}
    if measurable(gates):
        judged = at_judge_rate(motion)
        fps = JUDGE_FPS
        if validity is None:
            validity = validity_values(judged.joints, fps, judged.poses)
        joints = np.asarray(judged.joints, dtype=np.float64)
        standing = standing_values(joints, fps)
        gates += motion_gates({k: v for k, v in validity.items() if k != "moves"}) + _standing_gates(standing)
        _variety(joints, fps, metrics, components)
        _quality(joints, fps, standing, metrics, components)
        if speech is not None:
            _speech_terms(joints, speech, fps, metrics, components)
    metrics.update({g.name: g.value for g in gates})
    if not all(g.passed for g in gates) or not components:
        return _report(0.0, gates, components, metrics, factors)
    total = sum(GESTURE_WEIGHTS[k] for k in components)
    blend = sum(GESTURE_WEIGHTS[k] * v for k, v in components.items()) / total
    if "timing" in components:
        factors["timing"] = components["timing"]
    factors["loop"] = metrics["loop_credit"]
    if latency_s is not None:
        factors["latency"] = 1.0 - LATENCY_WEIGHT + LATENCY_WEIGHT * latency_score(latency_s)
    metrics["blend"] = blend
    score = float(np.clip(blend * float(np.prod(list(factors.values()))), 0.0, 1.0))
    if "stresses" in metrics and "timing" not in components:  # a voice too short to show timing
        score = min(score, UNTIMED_SCORE_CAP)
    return _report(score, gates, components, metrics, factors)


def _variety(joints: np.ndarray, fps: float, metrics: dict, components: dict) -> None:
    """variety: the lesser of the liveliness (L1div) and loop (repeat residual) credits."""
    l1 = l1_diversity(joints)
    residual = repeat_residual(joints, fps)
    metrics.update(l1_diversity=l1, repeat_residual=residual, liveliness_credit=ramp(l1, L1DIV_NONE_M, L1DIV_HUMAN_M),
                   loop_credit=ramp(residual, REPEAT_RESIDUAL_EXACT, REPEAT_RESIDUAL_HUMAN))
    components["variety"] = min(metrics["liveliness_credit"], metrics["loop_credit"])


def _quality(joints: np.ndarray, fps: float, standing: dict, metrics: dict, components: dict) -> None:
    """quality: the mean of the smoothness (GENEA mean jerk, upper body) and planted-feet credits."""
    jerk = mean_jerk(joints, fps, UPPER_BODY)
    metrics.update(mean_jerk=jerk, mean_acceleration=mean_acceleration(joints, fps, UPPER_BODY),
                   smoothness_credit=ramp(jerk, GESTURE_JERK_NONE_M_S3, GESTURE_JERK_HUMAN_M_S3),
                   feet_credit=ramp(standing["foot_slide"], MAX_FOOT_SLIDE_M_S, FOOT_SLIDE_HUMAN_M_S))
    components["quality"] = (metrics["smoothness_credit"] + metrics["feet_credit"]) / 2


def _speech_terms(joints: np.ndarray, speech: SpeechAnalysis, fps: float, metrics: dict, components: dict) -> None:
    """timing (with its F, the null and EMAGE's BC) and rest against the voice; each left out when unjudgeable."""
    timing = timing_to_speech(joints, speech.stress_times_s, fps)
    metrics.update(timing)
    if timing["stresses"] >= MIN_TIMING_STRESSES:
        components["timing"] = timing["timing"]
    ratio = rest_ratio(joints, speech, fps)
    if ratio is not None:
        metrics["rest_ratio"] = ratio
        components["rest"] = ramp(ratio, REST_RATIO_NONE, REST_RATIO_HUMAN)


# What a low credit means, for the reasons of a report (term or factor name -> explanation).
_LOW_MEANING = {
    "timing": "the gestures do not follow this voice's stressed syllables",
    "loop": "the motion repeats itself exactly (a loop)",
    "rest": "the hands do not rest when the speaker pauses",
    "variety": "the hands hardly gesture, or the motion loops",
    "quality": "the motion is jerky or the feet slide",
}


def _report(score: float, gates: list[Gate], components: dict, metrics: dict, factors: dict) -> ScoreReport:
    return ScoreReport(score, gates, components, metrics, factors, _reasons(gates, components, factors, metrics),
                       judge_version=GESTURE_JUDGE_VERSION)


def _reasons(gates: list[Gate], components: dict, factors: dict, metrics: dict) -> list[str]:
    """One line per gate, factor or term that holds the score down, and a note when timing or rest
    could not be judged."""
    failed = [g for g in gates if not g.passed]
    if failed:
        return gate_reasons(failed, minimums=("gesturing",))
    reasons = [f"{name} factor {value:.2f}: {_detail(name, metrics)}" for name, value in factors.items()
               if value < 1.0 and name != "latency"]
    reasons += [f"{name} {value:.2f}: {_detail(name, metrics)}"
                for value, name in sorted((v, k) for k, v in components.items() if v < LOW_CREDIT and k not in factors)]
    if "stresses" in metrics and "timing" not in components:
        reasons.append(f"timing not judged: {metrics['stresses']:.0f} stressed syllables in the clip, too few to show timing "
                       f"(at least {MIN_TIMING_STRESSES}); the score is capped at {UNTIMED_SCORE_CAP:g}")
    return reasons


def _detail(name: str, metrics: dict) -> str:
    """A term's or factor's explanation with the measurement behind it."""
    if name == "timing":
        return (f"{_LOW_MEANING[name]} ({metrics['stroke_precision']:.0%} of the hands' strokes end on a stress, "
                f"{metrics['stress_recall']:.0%} of the stresses meet a hand stop; F {metrics['timing_f']:.2f}, "
                f"{metrics['timing_f_null']:.2f} +- {metrics['timing_f_null_sd']:.2f} against unrelated voices)")
    if name == "rest":
        return f"{_LOW_MEANING[name]} (hand speed in pauses {metrics['rest_ratio']:.0%} of that while speaking)"
    if name == "variety":
        return f"{_LOW_MEANING[name]} (L1 diversity {metrics['l1_diversity']:.2f} m; repeat residual {metrics['repeat_residual']:.3f})"
    if name == "quality":
        return f"{_LOW_MEANING[name]} (mean jerk {metrics['mean_jerk']:.0f} m/s^3; feet sliding {metrics['foot_slide']:.2f} m/s)"
    return _LOW_MEANING[name]


def score_gestures(motions: Sequence[Motion], speech: SpeechAnalysis | None = None, *,
                   latency_s: float | Sequence[float | None] | None = None) -> list[ScoreReport]:
    """Score many answers to one voice: one report per motion, as `score_gesture` gives each;
    `latency_s` one latency for all or one (or None) per motion. The validity metrics of
    equal-length clips at the judge's rate run as one batch."""
    latencies = list(latency_s) if isinstance(latency_s, (Sequence, np.ndarray)) else [latency_s] * len(motions)
    if len(latencies) != len(motions):
        raise ValueError(f"{len(latencies)} latencies for {len(motions)} motions")
    return [score_gesture(m, speech, latency_s=latency, validity=v)
            for m, latency, v in zip(motions, latencies, batch_validity_values(motions))]
