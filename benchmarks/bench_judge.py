"""The full judge's throughput (issue 16), realism model included, on one CPU thread.

Measures, in one run, for 10-s clips at 30 fps (a2a's `choreo` dances on one synthetic song):
1. the full judge (`score_motions`: gates, sync, quality, variety, energy, realism) in clips/s;
2. the realism model alone, batched (`window_traits` for a batch of clips + `credits`), in clips/s,
   and its share of the full judge's time;
3. the rebuild of the shipped realism model from shared/reference/real-dance (scripts/build_realism_model.py).
Times are process CPU time (what the load of other processes cannot inflate), median of 3 passes.
Target: 2,000 clips/s for the full judge on one thread.

Run: OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_judge.py [--clips N]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from a2a_cli.audio import analyze  # noqa: E402
from a2a_cli.examples import synth_song  # noqa: E402
from a2a_cli.generation import get_generator  # noqa: E402
from a2a_cli.scoring import score_motions  # noqa: E402
from a2a_cli.scoring.motion_traits import window_traits  # noqa: E402
from a2a_cli.scoring.realism import shipped_model  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TARGET_CLIPS_S = 2000
SECONDS = 10.0


def cpu_seconds(work, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.process_time()
        work()
        times.append(time.process_time() - start)
    return float(np.median(times))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clips", type=int, default=64)
    args = parser.parse_args(argv)
    song = analyze(synth_song(120.0, SECONDS, seed=3), 22050)
    choreo = get_generator("choreo")
    dances = [choreo.generate(song, SECONDS, seed) for seed in range(8)]
    motions = [dances[i % len(dances)] for i in range(args.clips)]
    model = shipped_model()
    joints = np.stack([m.joints for m in motions]).astype(np.float64)

    full = cpu_seconds(lambda: score_motions(motions, song))
    realism = cpu_seconds(lambda: model.credits(window_traits(joints)))
    full_rate, realism_rate = args.clips / full, args.clips / realism
    print(f"full judge: {args.clips} clips of {SECONDS:g} s in {full:.2f} CPU s = {full_rate:,.0f} clips/s on one thread "
          f"(target {TARGET_CLIPS_S:,}: {'met' if full_rate >= TARGET_CLIPS_S else 'NOT met'})")
    print(f"realism model alone, batched: {realism_rate:,.0f} clips/s = {realism / full:.1%} of the full judge's time")

    real = ROOT.parent / "shared" / "reference" / "real-dance"
    if real.is_dir():
        sys.path.insert(0, str(ROOT / "scripts"))
        from build_realism_model import HELD_OUT, real_files
        from a2a_cli.scoring.realism import dance_traits, fit_realism_model

        start = time.perf_counter()
        train, _ = real_files([real], HELD_OUT)
        fit_realism_model(dance_traits(train))
        print(f"rebuild of the shipped realism model ({len(train)} files): {time.perf_counter() - start:.1f} s wall")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
