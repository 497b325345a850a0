"""Benchmark: does `choreo` move like a person? Four statistics against real dancers.

For dances to synthetic songs of several genres and tempi (`examples.synth_genre_song`: hip-hop,
house, ambient, electro, ballad; `examples.synth_song` at 90, 120, 140 BPM), in the style the music
suggests and in every style forced on one song, prints the four body statistics of
the judge's realism term, `a2a_cli.scoring.body_stats` (root travel, leg/arm speed ratio, steps per
second, share of frames with a lifted foot moving), the chosen style, the validator score, next to the same statistics of the
shared AIST++ slices, and marks whether each median lies inside the real dancers' 10th-90th
percentile range.

Run: .venv/bin/python benchmarks/bench_choreo_realism.py [path/to/real-dance]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from a2a_cli.audio import analyze
from a2a_cli.examples import GENRES, synth_genre_song, synth_song
from a2a_cli.generation.choreo import STYLES, ChoreoGenerator
from a2a_cli.scoring.body_stats import STATISTICS, body_statistics, reference_ranges
from a2a_cli.scoring import score_motion

SR = 22050
SECONDS = 30.0
REAL_DANCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "real-dance"
SHORT = {"travel_m_s": "travel m/s", "legs_to_arms": "legs/arms", "steps_per_s": "steps/s", "foot_moving": "foot moving"}


def songs() -> list[tuple[str, np.ndarray]]:
    out = [(f"{name} {GENRES[name].bpm:.0f}", synth_genre_song(name, SECONDS, SR, seed=5)) for name in GENRES]
    out += [("hiphop 100", synth_genre_song("hiphop", SECONDS, SR, seed=6, bpm=100)),
            ("house 128", synth_genre_song("house", SECONDS, SR, seed=6, bpm=128))]
    out += [(f"classic {bpm}", synth_song(bpm, SECONDS, SR, seed=5)) for bpm in (90, 120, 140)]
    return out


def row(label: str, style: str, stats: dict, score: float | None) -> str:
    cells = " ".join(f"{stats[k]:>11.2f}" for k in STATISTICS)
    return f"{label:<22} {style:<8} {cells} {'' if score is None else f'{score:6.3f}'}"


def main(real_dir: Path) -> None:
    header = f"{'dance':<22} {'style':<8} " + " ".join(f"{SHORT[k]:>11}" for k in STATISTICS) + " score"
    print("== choreo against real dancers (30-s dances, seed 0) ==")
    print(header)
    ours = []
    analysed = [(label, analyze(y, SR)) for label, y in songs()]
    for label, audio in analysed:
        motion = ChoreoGenerator().generate(audio, audio.duration_s, 0)
        stats = body_statistics(motion.joints)
        ours.append(stats)
        print(row(label, motion.meta["style"], stats, score_motion(motion, audio).validator_score))
    label, audio = analysed[-2]
    for name in STYLES:  # every style forced on one song
        motion = ChoreoGenerator(name).generate(audio, audio.duration_s, 1)
        stats = body_statistics(motion.joints)
        ours.append(stats)
        print(row(f"{label} (forced)", name, stats, score_motion(motion, audio).validator_score))

    real = [(p.stem[:3], body_statistics(np.load(p))) for p in sorted(real_dir.glob("*.npy"))]
    print("\nreal dancers, the shared AIST++ slices (5 s each):")
    for name, stats in real:
        print(row(name, "AIST++", stats, None))

    print(f"\n{'statistic':<22} {'choreo median':>14} {'AIST++ slices':>14} {'real range':>14}  inside")
    for key, real_range in reference_ranges().items():
        lo, hi = real_range.low, real_range.high
        median = float(np.median([s[key] for s in ours]))
        slices = float(np.median([s[key] for _, s in real])) if real else float("nan")
        mark = "yes" if lo <= median <= hi else "NO"
        print(f"{SHORT[key]:<22} {median:>14.2f} {slices:>14.2f} {f'{lo:.2f}-{hi:.2f}':>14}  {mark}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else REAL_DANCE)
