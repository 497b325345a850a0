"""Benchmark: how often the weight-free dancers miss the beat on short prompts, with and without
drawing again (generation.on_beat).

For 40 prompts of each kind (4 s at 90 BPM, 4 s at 150 BPM, 10 s at 150 BPM: `examples.synth_song`
with seed k, danced with seed k): how many get a sync credit under 0.2 from the judge
(`ScoreReport.components["sync"]`, which also scales the whole score), their median validator
score, the mean number of draws made, and the CPU time per prompt; for `choreo` and `library`, with
one draw (the dance each seed gave before drawing again) and with `on_beat.DRAWS`.

Run: OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_on_beat.py [PROMPTS]
"""

from __future__ import annotations

import sys
import time

import numpy as np

from a2a_cli.audio import analyze
from a2a_cli.examples import synth_song
from a2a_cli.generation import get_generator, on_beat
from a2a_cli.scoring import score_motion

SR = 22050
KINDS = ((90, 4.0), (150, 4.0), (150, 10.0))  # (BPM, seconds)
LOW_SYNC = 0.2


def main(n_prompts: int = 40) -> None:
    draws_setting = on_beat.DRAWS
    print(f"== {n_prompts} prompts each: prompts with sync credit < {LOW_SYNC} / median score / mean draws / CPU per prompt ==")
    for bpm, seconds in KINDS:
        prompts = [analyze(synth_song(bpm, seconds, SR, seed=k), SR) for k in range(n_prompts)]
        for name in ("choreo", "library"):
            generator = get_generator(name)
            cells = []
            for draws in (1, draws_setting):
                on_beat.DRAWS = draws
                low, scores, made = 0, [], []
                cpu = time.process_time()
                motions = [generator.generate(audio, seconds, k) for k, audio in enumerate(prompts)]
                cpu = (time.process_time() - cpu) / n_prompts
                for motion, audio in zip(motions, prompts):
                    report = score_motion(motion, audio)
                    low += report.components.get("sync", 1.0) < LOW_SYNC
                    scores.append(report.validator_score)
                    made.append(motion.meta.get("draw", 0) + 1)
                cells.append(f"{draws} draw{'s' if draws > 1 else ''}: {low:2d} / {np.median(scores):.2f} / "
                             f"{np.mean(made):.1f} / {cpu:.2f} s")
            print(f"{seconds:4.0f} s at {bpm} BPM, {name:<7}  " + "   ".join(cells))
    on_beat.DRAWS = draws_setting


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 40)
