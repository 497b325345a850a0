"""Benchmark `orator`, the weight-free gesture generator: speed on one core, and how its hands keep
time with the voice.

1. Generation of 60 s of speech (speech analysis excluded; target < 1 s on one core), against
   `choreo` dancing 60 s of a synthetic 120-BPM song in the same run (its analysis excluded too).
2. For three kinds of synthetic voice (calm, conversational, animated; 60 s, seeds 1-3), the hands
   read as the gesture judge reads them (scoring/gesture_timing.py: stops and stroke ends of each
   wrist relative to the pelvis): strokes per stress, the share of planned strokes whose hand stops
   within 0.1 s of their stressed syllable, the share of the hands' stroke ends within 0.1 s of one
   of their planned strokes, EMAGE's beat consistency of the stroke ends (sigma 0.1 s and 0.3 s)
   against the voice's own stresses and against another voice's, the validity gates, root travel
   over the minute, the hands' speed in long pauses against speech, and the gesture judge's timing
   significance z (JUDGE.md: full credit from 3.4) and score.

Run: OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_gesture.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_name, "1")  # one core, before numpy loads

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # support/ (test equipment)

from a2a_cli.audio import analyze  # noqa: E402
from a2a_cli.examples import synth_song  # noqa: E402
from a2a_cli.generation import get_generator  # noqa: E402
from a2a_cli.motion.skeleton import PELVIS  # noqa: E402
from a2a_cli.scoring import check_validity  # noqa: E402
from a2a_cli.scoring.gesture import score_gesture  # noqa: E402
from a2a_cli.scoring.gesture_metrics import beat_consistency  # noqa: E402
from a2a_cli.scoring.gesture_timing import distance_to_nearest, hand_speeds, hand_stops_each  # noqa: E402
from benchmarks.bench_generate import best_of  # noqa: E402  (the same timing as choreo's benchmark)
from support.speech import synthetic_speech  # noqa: E402

SR = 22050
SECONDS = 60.0
VOICES = {
    "calm": dict(syllable_rate_hz=3.2, stress_every=4.0, pause_s=(0.6, 2.0), animation=0.12),
    "conversational": dict(animation=0.5),
    "animated": dict(syllable_rate_hz=5.5, stress_every=2.2, pause_s=(0.2, 0.8), phrase_s=(2.5, 6.0), animation=0.92),
}


def bench_speed() -> None:
    print(f"== generation of {SECONDS:g} s, one core (analysis excluded) ==")
    speech = synthetic_speech(SECONDS, seed=1, **VOICES["conversational"])
    song = analyze(synth_song(120, SECONDS, SR, seed=0), SR)
    orator, choreo = get_generator("orator"), get_generator("choreo")
    orator.generate(speech, SECONDS, 0)  # imports and caches warm for both
    choreo.generate(song, SECONDS, 0)
    gesture = best_of(5, lambda: orator.generate(speech, SECONDS, 0))
    dance = best_of(3, lambda: choreo.generate(song, SECONDS, 0))
    print(f"baseline, choreo on {SECONDS:g} s of music: {dance:.3f} s")
    print(f"orator on {SECONDS:g} s of speech: {gesture:.3f} s = {gesture / dance:.2f}x choreo, "
          f"{SECONDS / gesture:.0f}x real time (target < 1 s)")


def bench_timing() -> None:
    print(f"\n== timing with the voice ({SECONDS:g} s voices, seeds 1-3) ==")
    print(f"{'voice':>15} {'seed':>4} {'strokes':>9} {'stop on':>7} {'end on':>6} {'BC.1 own':>8} {'other':>6} "
          f"{'BC.3 own':>8} {'other':>6} {'gates':>5} {'travel':>6} {'pause/speech':>12} {'z':>6} {'score':>5}")
    for kind, shape in VOICES.items():
        for seed in (1, 2, 3):
            speech = synthetic_speech(SECONDS, seed=seed, **shape)
            other = synthetic_speech(SECONDS, seed=seed + 100, **shape).stress_times_s
            generator = get_generator("orator")
            motion, plan = generator.generate(speech, SECONDS, seed), generator.plan(speech, SECONDS, seed)
            each = hand_stops_each(motion.joints, motion.fps)
            planned = [np.array(sorted(s.time_s for s in plan.strokes if (s.left, s.right)[h] is not None)) for h in range(2)]
            stop_on = np.concatenate([distance_to_nearest(planned[h], each[h][0]) <= 0.1 for h in range(2)]).mean()
            end_on = np.concatenate([distance_to_nearest(each[h][1], planned[h]) <= 0.1 for h in range(2)]).mean()
            beats = [strokes for _, strokes in each]
            bc = [float(beat_consistency(beats, times, sigma)) for sigma in (0.1, 0.3) for times in (speech.stress_times_s, other)]
            gates = all(g.passed for g in check_validity(motion, round(SECONDS * 30)))
            root = motion.joints[:, PELVIS, [0, 2]]
            speed = hand_speeds(motion.joints, motion.fps)
            silent = np.zeros(len(speed), bool)
            for start, end in speech.pauses_s:
                if end - start >= 1.2:
                    silent[int((start + 0.65) * 30):int((end - 0.5) * 30)] = True
            ratio = speed[silent].mean() / speed[~silent].mean() if silent.any() else float("nan")
            judged = score_gesture(motion, speech)
            print(f"{kind:>15} {seed:>4} {len(plan.strokes):>4}/{speech.stress_times_s.size:<4} {stop_on:7.2f} {end_on:6.2f} "
                  f"{bc[0]:8.3f} {bc[1]:6.3f} {bc[2]:8.3f} {bc[3]:6.3f} {'pass' if gates else 'FAIL':>5} "
                  f"{np.abs(root - root[0]).max():5.3f}m {ratio:12.3f} {judged.metrics['timing_z']:6.2f} {judged.validator_score:5.2f}")


if __name__ == "__main__":
    bench_speed()
    bench_timing()
