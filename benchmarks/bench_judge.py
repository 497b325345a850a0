"""The full judge's throughput (issue 16), realism model included, on one CPU thread.

Measures, in one run, for 10-s clips at 30 fps (a2a's `choreo` dances on one synthetic song, many
answers to one prompt: the validator's case):
1. the full judge (`score_motions`: gates, sync, quality, variety, energy, realism, reports) in
   clips/s, every answer a different `choreo` dance; the answers are of equal length, so they are
   judged as one batch; also for a batch of the validator's default sample (`validator.sample_size`
   answers per prompt), where the song's grids and each call's overhead are shared by fewer clips;
2. where its time goes: each part of the batch (composite._measure's steps, on the same batch, and
   the reports) in microseconds per clip; the parts add up to about the whole;
3. the rebuild of the shipped realism model from shared/reference/real-dance by
   scripts/build_realism_model.py (its real dances' traits, its 332 procedural dances, the fit),
   unless --no-rebuild.
Times are process CPU time (what the load of other processes cannot inflate, though on a busy
machine shared caches still slow it), the least of --passes passes. The load average is printed.
Target: 2,000 clips/s for the full judge on one thread.

Run: OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_judge.py [--clips N] [--passes N] [--no-rebuild]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from a2a_cli.audio import analyze  # noqa: E402
from a2a_cli.audio.rhythm import steady_beat_grid  # noqa: E402
from a2a_cli.config import section_defaults  # noqa: E402
from a2a_cli.examples import synth_song  # noqa: E402
from a2a_cli.frame_rate import FPS as AUDIO_FPS  # noqa: E402
from a2a_cli.generation import get_generator  # noqa: E402
from a2a_cli.scoring import composite, score_motions  # noqa: E402
from a2a_cli.scoring.body_stats import body_statistics  # noqa: E402
from a2a_cli.scoring.clip_batch import ClipBatch  # noqa: E402
from a2a_cli.scoring.constants import JUDGE_FPS  # noqa: E402
from a2a_cli.scoring.motion_traits import window_traits  # noqa: E402
from a2a_cli.scoring.pfc import both_feet_sliding, physical_foot_contact  # noqa: E402
from a2a_cli.scoring.realism import shipped_model  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TARGET_CLIPS_S = 2000
SECONDS = 10.0


def cpu_seconds(work, passes: int) -> float:
    """The least process CPU time of `passes` runs of work()."""
    times = []
    for _ in range(passes):
        start = time.process_time()
        work()
        times.append(time.process_time() - start)
    return float(min(times))


def parts(motions, song, passes: int) -> dict[str, float]:
    """CPU seconds of each step of the judge's batch (composite._measure, in its order), and of the reports."""
    fps = JUDGE_FPS
    clips = [m.joints for m in motions]
    laid_out = ClipBatch.from_clips(clips)  # as composite._measure makes it

    def fresh() -> ClipBatch:  # the layout made, nothing computed from it yet
        batch = ClipBatch(laid_out.positions, laid_out.lead)
        batch.channels = laid_out.channels
        return batch

    batch = fresh()
    batch.joint_speed, batch.floor, batch.pose_deviation  # noqa: B018 - the shared intermediates, timed on their own line
    grid = steady_beat_grid(song.beat_frames, song.tempo_bpm) * fps / AUDIO_FPS
    traits = window_traits(batch, fps)
    measured = composite._measure(motions, song, None, None, [None] * len(motions), None)

    def reports():
        for m in measured:
            composite._report(list(m.gates), composite._Measured(m.gates, dict(m.components), dict(m.metrics), m.verdict), None)

    def shared():
        b = fresh()
        b.joint_speed, b.floor, b.pose_deviation  # noqa: B018

    steps = {
        "layout (float32), frame steps, joint speeds, floor, root-relative poses": lambda: (ClipBatch.from_clips(clips), shared()),
        "validity gates": lambda: composite._validity(motions, batch, fps),
        "PFC + both feet sliding": lambda: (physical_foot_contact(batch, fps), both_feet_sliding(batch, fps)),
        "repeat residual (variety)": lambda: composite.repeat_residual(batch, fps),
        "sync (motion beats, every level's grids)": lambda: composite.beat_sync(batch, grid, fps),
        "energy": lambda: composite.energy_following(batch, song.rms, fps),
        "realism: window traits": lambda: window_traits(batch, fps),
        "realism: model verdicts": lambda: shipped_model().judge_batch(traits),
        "body statistics": lambda: body_statistics(batch, fps),
        "reports (terms, factors, reasons)": reports,
    }
    return {name: cpu_seconds(work, passes) for name, work in steps.items()}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clips", type=int, default=64)
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--no-rebuild", action="store_true", help="skip timing the realism model's rebuild")
    args = parser.parse_args(argv)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    song = analyze(synth_song(120.0, SECONDS, seed=3), 22050)
    choreo = get_generator("choreo")
    # every answer a different dance, as a validator's are (8 dances repeated run 7% faster: their
    # arrays stay in cache)
    motions = [choreo.generate(song, SECONDS, seed) for seed in range(args.clips)]
    score_motions(motions[:2], song)  # warm: the model and caches loaded

    full = cpu_seconds(lambda: score_motions(motions, song), args.passes)
    full_rate = args.clips / full
    print(f"full judge: {args.clips} clips of {SECONDS:g} s in {full:.3f} CPU s = {full_rate:,.0f} clips/s on one thread "
          f"({1e6 * full / args.clips:,.0f} us per clip; target {TARGET_CLIPS_S:,}: "
          f"{'met' if full_rate >= TARGET_CLIPS_S else 'NOT met'})")
    sample = section_defaults("validator")["sample_size"]
    few = cpu_seconds(lambda: score_motions(motions[:sample], song), args.passes)
    print(f"  a batch of {sample} (the validator's default sample per prompt): {sample / few:,.0f} clips/s ({1e6 * few / sample:,.0f} us per clip)")
    split = parts(motions, song, args.passes)
    for name, seconds in split.items():
        print(f"  {1e6 * seconds / args.clips:7.1f} us/clip  {seconds / full:6.1%}  {name}")
    print(f"  {1e6 * sum(split.values()) / args.clips:7.1f} us/clip  the parts together")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    real = ROOT.parent / "shared" / "reference" / "real-dance"
    if real.is_dir() and not args.no_rebuild:
        sys.path.insert(0, str(ROOT / "scripts"))
        import build_realism_model

        with tempfile.TemporaryDirectory() as folder:  # the script's whole job: real traits, procedural dances, the fit
            start = time.perf_counter()
            build_realism_model.main([str(real), "-o", str(Path(folder) / "realism_model.json")])
            print(f"rebuild of the shipped realism model by scripts/build_realism_model.py: {time.perf_counter() - start:.1f} s wall")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
