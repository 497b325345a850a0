"""Benchmark: the `library` generator (real motion joined to the song) against `choreo`.

For 21 synthetic songs of 70-180 BPM (`examples.synth_song` every 10 BPM, the genre songs of
`examples.GENRES` at their own and other tempi), 20 s each, seeds 0-2 (`SEEDS`): the judge's validator
score and its realism term (the realism model's credit) for both generators, with the held-back real salsa
clips (salsa takes 11, 12) for reference; then the time to dance a 3-minute song with each (one core:
run with OMP_NUM_THREADS=1) and to index the shared CMU salsa folder (takes 1-10).

Then a 5-hour library (issue 17), synthesized from the shared CMU salsa captures (all 22 takes) by
re-timing each at LARGE_SPEEDS (0.75x-1.33x: slower and faster dancing of the same moves) until
LARGE_HOURS of source motion are written as a2a .npz files (with the captures' README, so the
credits stay): the time to index it (reading the files included; mirrored, as `load_library` does
by default, so the index holds twice the hours) and to dance a 3-minute song from it.

Run: OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_library.py [--large-only] [FOLDER]
(FOLDER: where the large library is written, and reused from on later runs; default a temporary folder)
"""

from __future__ import annotations

import shutil
import sys
import tempfile
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
LARGE_HOURS = 5.0
LARGE_SPEEDS = (0.75, 1.33)  # the re-timing factors' range: a take danced this much slower .. faster
SEEDS = (0, 1, 2)


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
    seeds = ", ".join(map(str, SEEDS))
    print(f"== {len(songs())} songs, {SECONDS:.0f} s each, seeds {seeds}: validator score / realism credit ==")
    print(f"{'song':<14} " + " ".join(f"{f'{name}, seed {seed}':>15}" for name in generators for seed in SEEDS))
    rows = {name: {seed: [] for seed in SEEDS} for name in generators}
    for label, samples in songs():
        audio = analyze(samples, SR)
        cells = []
        for name, generator in generators.items():
            for seed in SEEDS:
                motion = generator.generate(audio, audio.duration_s, seed)
                score, credit = score_motion(motion, audio).validator_score, realism.judge(motion.joints).credit
                rows[name][seed].append((score, credit))
                cells.append(f"{score:6.3f} / {credit:5.3f}")
        print(f"{label:<14} " + " ".join(f"{cell:>15}" for cell in cells))
    for name, by_seed in rows.items():
        scores, credits = np.array([v for seed in SEEDS for v in by_seed[seed]]).T
        per_seed = ", ".join(f"{int((np.array(by_seed[seed])[:, 0] >= 0.8).sum())}" for seed in SEEDS)
        print(f"{name:<8} median score {np.median(scores):.3f} (min {scores.min():.3f}, >= 0.8 on {int((scores >= 0.8).sum())}"
              f"/{scores.size}; per seed {per_seed} of {len(by_seed[SEEDS[0]])}), median realism {np.median(credits):.3f} "
              f"(min {credits.min():.3f})")
    for path in HELD_BACK:
        print(f"held-back real {path.stem}: realism {realism.judge(at_judge_rate(load_motion(path)).joints).credit:.3f}")

    audio = analyze(synth_song(120, 180.0, SR, seed=7), SR)
    for name, generator in generators.items():
        wall, cpu = time.perf_counter(), time.process_time()
        motion = generator.generate(audio, 180.0, 0)
        draws = f", draw {motion.meta['draw']} kept" if "draw" in motion.meta else ""
        print(f"3-minute song, {name}: {time.perf_counter() - wall:.2f} s wall, {time.process_time() - cpu:.2f} s CPU{draws}")
    started = time.perf_counter()
    library = build_library(library_files(SALSA, ("60_11_*", "61_11_*", "60_12_*", "61_12_*")))
    print(f"index of the CMU salsa folder ({library.duration_s / 60:.1f} min with mirrors): {time.perf_counter() - started:.1f} s")


def synthesize_large_library(folder: Path, hours: float = LARGE_HOURS) -> float:
    """Write `hours` of re-timed CMU salsa into `folder` (a2a .npz files and the captures' README);
    returns the seconds of motion written. Every take is danced at evenly spaced speeds across
    LARGE_SPEEDS, as many as the hours need."""
    from a2a_cli.motion.formats import save_motion
    from a2a_cli.motion.motion import Motion
    from a2a_cli.motion.resample import resample

    takes = [(p.stem, resample(load_motion(p), 30.0)) for p in sorted(SALSA.glob("*.bvh"))]
    seconds = sum(m.n_frames / 30.0 for _, m in takes)
    n_speeds = int(np.ceil(hours * 3600.0 / seconds / np.mean(1.0 / np.linspace(*LARGE_SPEEDS, 9))))
    shutil.copy(SALSA / "README.md", folder / "README.md")
    written = 0.0
    for speed in np.linspace(*LARGE_SPEEDS, n_speeds):
        for name, m in takes:
            faster = resample(Motion(m.poses, m.trans, fps=30.0 * speed), 30.0)
            save_motion(faster, folder / f"{name}_x{speed:.3f}.npz")
            written += faster.n_frames / 30.0
    return written


def large_library(folder: Path | None = None) -> None:
    """Synthesize the large library (into `folder` when given, kept and reused when it already
    holds it; else a temporary folder), index it and dance a 3-minute song from it; wall-clock and
    CPU seconds (the CPU time is what one core needs when the machine is shared)."""
    from a2a_cli.generation.library import LibraryGenerator
    from a2a_cli.generation.library.index import build_library, library_files

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) if folder is None else folder
        folder.mkdir(parents=True, exist_ok=True)
        if not library_files(folder):
            started = time.perf_counter()
            synthesize_large_library(folder)
            print(f"(synthesized in {time.perf_counter() - started:.0f} s)")
        files = library_files(folder)
        hours = sum(resampled_hours(p) for p in files)
        print(f"\n== a {hours:.2f}-hour library: {len(files)} re-timed salsa files ==")
        wall, cpu = time.perf_counter(), time.process_time()
        library = build_library(files)
        print(f"index build (read the .npz files, FK, beats, join features; mirrored: {library.duration_s / 3600:.1f} h, "
              f"{library.beats.size} beats): {time.perf_counter() - wall:.1f} s wall, {time.process_time() - cpu:.1f} s CPU")
        generator = LibraryGenerator(library)
        audio = analyze(synth_song(120, 180.0, SR, seed=7), SR)
        for seed in (0, 1):
            wall, cpu = time.perf_counter(), time.process_time()
            motion = generator.generate(audio, 180.0, seed)
            print(f"3-minute song from it, seed {seed}: {time.perf_counter() - wall:.2f} s wall, "
                  f"{time.process_time() - cpu:.2f} s CPU ({motion.meta['segments']} segments, "
                  f"{motion.meta['reused_segments']} reused, draw {motion.meta['draw']})")
        shipped = LibraryGenerator()
        wall, cpu = time.perf_counter(), time.process_time()
        shipped.generate(audio, 180.0, 0)
        print(f"the same song from the shipped library: {time.perf_counter() - wall:.2f} s wall, "
              f"{time.process_time() - cpu:.2f} s CPU")


def resampled_hours(path: Path) -> float:
    """Hours of motion in an a2a .npz file (`save_motion`'s), read without its rotations."""
    with np.load(path, allow_pickle=False) as z:
        return len(z["trans"]) / float(z["fps"]) / 3600.0


if __name__ == "__main__":
    args = sys.argv[1:]
    if "--large-only" not in args:
        main()
    folders = [a for a in args if not a.startswith("--")]
    large_library(Path(folders[0]) if folders else None)
