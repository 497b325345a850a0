"""Benchmark: a miner tuning `choreo`'s knobs against the judge's realism model (judge 3.1).

A random search of --random settings of choreo's performer knobs (scripts/build_realism_model.py
`KNOBS`, drawn from --seed, so not the build script's own `KNOB_SEED` draws), each danced in every
style to one of four 10-s synthetic songs (80-165 BPM) and scored by the realism model's median
credit over the styles; then --climb steps of hill-climbing from the best (each knob moved by a
factor exp(N(0, 0.25)), integers by up to 3, new dance seeds each step: a miner's noisy search). The
winning setting is then danced anew, every style on 3 fresh songs (90-165 BPM) and seeds, and judged
in full with its music (`score_motion`): the realism credit and the validator score a miner tuning
this way would get, against the density of real dancers alone (the model without its discriminant).

Run: OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_realism_tuning.py [--seed N] [--random N] [--climb N]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from a2a_cli.audio import analyze
from a2a_cli.examples import synth_song
from a2a_cli.generation.choreo import STYLES, ChoreoGenerator
from a2a_cli.scoring import score_motion
from a2a_cli.scoring.motion_traits import window_traits
from a2a_cli.scoring.realism import shipped_model

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from build_realism_model import KNOBS, choreo_knobs, knob_variants  # noqa: E402

SR = 22050
SECONDS = 10.0


def credit_of(knobs: dict, songs: list, seed: int) -> tuple[float, float]:
    """(median credit over the styles, the same by the density alone) of `knobs`, one dance a style."""
    model = shipped_model()
    density = replace(model, discriminant=None)
    credits, alone = [], []
    with choreo_knobs(knobs):
        for i, style in enumerate(STYLES):
            traits = window_traits(ChoreoGenerator(style).generate(songs[(i + seed) % len(songs)], SECONDS, seed).joints)
            credits.append(model.credits(traits).mean())
            alone.append(density.credits(traits).mean())
    return float(np.median(credits)), float(np.median(alone))


def nudged(knobs: dict, rng: np.random.Generator) -> dict:
    return {name: (max(1, value + int(rng.integers(-3, 4))) if isinstance(value, int) else value * float(np.exp(rng.normal(0.0, 0.25))))
            for name, value in knobs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--random", type=int, default=40)
    parser.add_argument("--climb", type=int, default=40)
    args = parser.parse_args()
    started = time.perf_counter()
    songs = [analyze(synth_song(bpm, SECONDS, SR, seed=200 + k, offset_s=0.04 * k), SR) for k, bpm in enumerate((80, 105, 130, 165))]
    tried = [(credit_of(knobs, songs, k), knobs) for k, knobs in enumerate(knob_variants(args.random, seed=args.seed))]
    credits = np.array([c for (c, _), _ in tried])
    print(f"random search, {args.random} settings of {len(KNOBS)} knobs: median credit {np.median(credits):.3f}, best "
          f"{credits.max():.3f} (density alone: median {np.median([a for (_, a), _ in tried]):.3f})")
    (best, _), knobs = max(tried, key=lambda t: t[0][0])
    rng = np.random.default_rng(args.seed)
    for step in range(args.climb):
        candidate = nudged(knobs, rng)
        credit, _ = credit_of(candidate, songs, 100 + step)
        if credit > best:
            best, knobs = credit, candidate
    print(f"after {args.climb} steps of hill-climbing: credit {best:.3f} on the search's own dances, with "
          + ", ".join(f"{k} {v:.2f}" for k, v in knobs.items()))
    fresh = [analyze(synth_song(bpm, SECONDS, SR, seed=300 + k, offset_s=0.02 * k), SR) for k, bpm in enumerate((90, 128, 165))]
    reports = []
    with choreo_knobs(knobs):
        for style in STYLES:
            for i, song in enumerate(fresh):
                reports.append(score_motion(ChoreoGenerator(style).generate(song, SECONDS, 500 + i), song))
    credit = np.array([r.metrics["realism_model"] for r in reports])
    score = np.array([r.validator_score for r in reports])
    print(f"the winner danced anew ({len(reports)} dances with their music): realism credit median {np.median(credit):.3f} "
          f"(max {credit.max():.3f}), validator score median {np.median(score):.3f} (max {score.max():.3f}) "
          f"[{time.perf_counter() - started:.0f} s]")


if __name__ == "__main__":
    main()
