"""Benchmark: does `choreo` move like a person? The judge's realism model against real dancers.

For every style of `choreo` (hip-hop, house, flow, popping) and 6 songs of 70-180 BPM
(`examples.synth_song`, 30 s, seed 0, a beat offset per song): the validator score
(`scoring.score_motion`), its sync credit and the realism model's credit (`realism.shipped_model`),
median per style; then the median of every window trait (`motion_traits.TRAITS`) of those dances
against real dancers: the CMU salsa captures and the AIST++ slices of the shared real-dance folder,
with people's 10-90 % range.

Run: OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_choreo_realism.py [path/to/real-dance]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from a2a_cli.audio import analyze
from a2a_cli.examples import synth_song
from a2a_cli.generation.choreo import STYLES, ChoreoGenerator
from a2a_cli.motion.formats import load_motion
from a2a_cli.scoring import score_motion
from a2a_cli.scoring.motion_traits import TRAITS, window_traits
from a2a_cli.scoring.realism import shipped_model
from a2a_cli.scoring.validity import at_judge_rate

SR = 22050
SECONDS = 30.0
TEMPI = (70, 92, 115, 138, 160, 180)
REAL_DANCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "real-dance"


def songs() -> list[tuple[int, object]]:
    """(BPM, AudioAnalysis) of the songs, each with its own beat offset."""
    return [(bpm, analyze(synth_song(bpm, SECONDS, SR, seed=k, offset_s=0.07 * k), SR)) for k, bpm in enumerate(TEMPI)]


def real_traits(real_dir: Path) -> dict[str, np.ndarray]:
    """Window traits (W, F) of the real dances, pooled per source."""
    sources = {
        "salsa": sorted((real_dir / "cmu-salsa").glob("*.bvh")),
        "AIST++": sorted(real_dir.glob("*.npy")),
    }
    return {name: np.concatenate([window_traits(at_judge_rate(load_motion(p)).joints) for p in paths])
            for name, paths in sources.items() if paths}


def main(real_dir: Path) -> None:
    model = shipped_model()
    analysed = songs()
    print(f"== choreo, {len(STYLES)} styles x {len(TEMPI)} songs ({', '.join(map(str, TEMPI))} BPM), {SECONDS:.0f} s, seed 0 ==")
    print(f"{'style':<8} {'score':>6} {'min':>6} {'sync':>6} {'realism':>8} {'min':>6} {'pfc':>6}  all gates")
    windows, everything = [], []
    for name in STYLES:
        rows = []
        for bpm, audio in analysed:
            motion = ChoreoGenerator(name).generate(audio, audio.duration_s, 0)
            report = score_motion(motion, audio)
            verdict = model.judge(motion.joints)
            rows.append((report.validator_score, report.components.get("sync", np.nan), verdict.credit,
                         report.metrics["pfc"], report.passed))
            windows.append(window_traits(motion.joints))
        score, sync, credit, pfc, passed = np.array(rows).T
        everything.append(rows)
        print(f"{name:<8} {np.median(score):6.3f} {score.min():6.3f} {np.median(sync):6.3f} {np.median(credit):8.3f} "
              f"{credit.min():6.3f} {np.median(pfc):6.3f}  {int(passed.sum())}/{passed.size}")
    score, sync, credit = np.array([r[:3] for rows in everything for r in rows]).T
    print(f"{'all':<8} {np.median(score):6.3f} {score.min():6.3f} {np.median(sync):6.3f} {np.median(credit):8.3f} {credit.min():6.3f}")

    ours = np.concatenate(windows)
    real = real_traits(real_dir)
    pooled = np.concatenate(list(real.values()))
    print(f"\n{'trait (window medians)':<22} {'choreo':>8} " + " ".join(f"{k:>8}" for k in real)
          + f" {'real 10-90 %':>15}")
    for i, trait in enumerate(TRAITS):
        lo, hi = np.percentile(pooled[:, i], [10, 90])
        cells = " ".join(f"{np.median(v[:, i]):8.2f}" for v in real.values())
        print(f"{trait.name:<22} {np.median(ours[:, i]):8.2f} {cells} {f'{lo:.2f}-{hi:.2f}':>15}")

    audio = analyze(synth_song(120, 180.0, SR, seed=7), SR)
    ChoreoGenerator().generate(audio, 10.0, 0)  # imports and caches warmed
    wall, cpu = [], []
    for _ in range(3):
        started, used = time.perf_counter(), time.process_time()
        ChoreoGenerator().generate(audio, 180.0, 0)
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - used)
    print(f"\n3-minute song: {min(wall):.2f} s wall, {min(cpu):.2f} s CPU (best of 3; OMP_NUM_THREADS=1 for one core)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else REAL_DANCE)
