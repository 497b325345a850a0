"""Benchmark: the `library` generator (real motion joined to the song) against `choreo`.

For 21 synthetic songs of 70-180 BPM (`examples.synth_song` every 10 BPM, the genre songs of
`examples.GENRES` at their own and other tempi), 20 s each, seed 0: the judge's validator score and
its realism term (the realism model's credit) for both generators, with the held-back real salsa
clips (salsa takes 11, 12) for reference; then the time to dance a 3-minute song with each (one core:
run with OMP_NUM_THREADS=1) and to index the shared CMU salsa folder (takes 1-10).

Run: OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_library.py
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from a2a_cli.audio import analyze
from a2a_cli.examples import GENRES, synth_genre_song, synth_song
from a2a_cli.generation import get_generator
from a2a_cli.motion.formats import load_motion
from a2a_cli.scoring import score_motion
from a2a_cli.scoring.realism import shipped_model
from a2a_cli.scoring.validity import at_judge_rate

SR = 22050
SECONDS = 20.0
REPO = Path(__file__).resolve().parents[1]
SALSA = REPO.parent / "shared" / "reference" / "real-dance" / "cmu-salsa"
HELD_BACK = [SALSA / f"{name}_scaled.bvh" for name in ("60_11", "61_12")]  # held back from library and realism model


def songs() -> list[tuple[str, np.ndarray]]:
    out = [(f"click {bpm}", synth_song(bpm, SECONDS, SR, seed=5)) for bpm in range(70, 181, 10)]
    out += [(f"{name} {GENRES[name].bpm:.0f}", synth_genre_song(name, SECONDS, SR, seed=5)) for name in GENRES]
    out += [(f"{name} {bpm}", synth_genre_song(name, SECONDS, SR, seed=6, bpm=bpm))
            for name, bpm in (("hiphop", 100), ("house", 128), ("electro", 150), ("house", 174))]
    return out


def main() -> None:
    from a2a_cli.generation.library.index import build_library, library_files

    realism = shipped_model()
    generators = {name: get_generator(name) for name in ("library", "choreo")}
    print(f"== {len(songs())} songs, {SECONDS:.0f} s each, seed 0: validator score / realism credit ==")
    print(f"{'song':<14} {'library':>15} {'choreo':>15}")
    rows = {name: [] for name in generators}
    for label, samples in songs():
        audio = analyze(samples, SR)
        cells = []
        for name, generator in generators.items():
            motion = generator.generate(audio, audio.duration_s, 0)
            score, credit = score_motion(motion, audio).validator_score, realism.judge(motion.joints).credit
            rows[name].append((score, credit))
            cells.append(f"{score:6.3f} / {credit:5.3f}")
        print(f"{label:<14} {cells[0]:>15} {cells[1]:>15}")
    for name, values in rows.items():
        scores, credits = np.array(values).T
        print(f"{name:<8} median score {np.median(scores):.3f} (min {scores.min():.3f}, >= 0.8 on {int((scores >= 0.8).sum())}"
              f"/{scores.size}), median realism {np.median(credits):.3f} (min {credits.min():.3f})")
    for path in HELD_BACK:
        print(f"held-back real {path.stem}: realism {realism.judge(at_judge_rate(load_motion(path)).joints).credit:.3f}")

    audio = analyze(synth_song(120, 180.0, SR, seed=7), SR)
    for name, generator in generators.items():
        started = time.perf_counter()
        generator.generate(audio, 180.0, 0)
        print(f"3-minute song, {name}: {time.perf_counter() - started:.2f} s")
    started = time.perf_counter()
    library = build_library(library_files(SALSA, ("60_11_*", "61_11_*", "60_12_*", "61_12_*")))
    print(f"index of the CMU salsa folder ({library.duration_s / 60:.1f} min with mirrors): {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
