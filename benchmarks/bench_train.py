"""Benchmark `a2a train`: seconds per optimizer step of EDGE (47 M parameters) on this machine.

a2a's whole training loop (data loader, accelerate, Adan, EMA, the loss gathered for the progress
bar) against the bare step measured in the same run: the objective's forward and backward and
Adan's update on batches already in memory. Their ratio is what the loop costs on top of the
network's own work. Batches of 8 windows of 5 s (35 features) from synthetic dances to synthetic
songs; the data phase (audio analysis of every song) and peak memory are reported too.

Run: .venv/bin/python benchmarks/bench_train.py [--steps 8] [--batch 8] [--songs 4]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import soundfile as sf
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo root: a2a_cli, and support/ (shared with the tests)

from a2a_cli.examples import synth_song  # noqa: E402
from a2a_cli.generation.edge import DanceDecoder  # noqa: E402
from a2a_cli.generation.edge.sampler import Schedule  # noqa: E402
from a2a_cli.motion.formats import save_motion  # noqa: E402
from a2a_cli.training.objective import EdgeObjective  # noqa: E402
from a2a_cli.training.trainer import ADAN_BETAS, TrainConfig, train  # noqa: E402
from support.dances import beat_frames_of, plausible_dance  # noqa: E402

BPM = 120
SR = 22050
SONG_S = 12.0  # 15 windows of 5 s at a 0.5-s stride per song
WARM_UP = 2  # steps left out of the timings (first-call allocations)


def write_dataset(folder: Path, songs: int) -> None:
    """`songs` dances (.npy) with a wav of the same stem, the layout `a2a train` reads."""
    n = int(round(SONG_S * 30))
    for i in range(songs):
        save_motion(plausible_dance(beat_frames_of(BPM, SONG_S), n, seed=i), folder / f"dance{i}.npy")
        sf.write(folder / f"dance{i}.wav", synth_song(BPM, SONG_S, SR, seed=i), SR)


def loop_step_times(data: Path, checkpoint: Path, steps: int, batch: int) -> tuple[list[float], float]:
    """(seconds of each optimizer step of `a2a train`, seconds of its data phase)."""
    stamps: dict[str, list[float]] = {"data": [], "train": []}
    began = time.perf_counter()

    def progress(phase: str, done: int, total: int, loss: float | None) -> None:
        stamps[phase].append(time.perf_counter())

    train(data, checkpoint, TrainConfig(steps=steps, batch_size=batch, cpu=True, save_every=10**9, learning_rate=3e-5),
          progress=progress)
    data_s = (stamps["data"][-1] if stamps["data"] else began) - began
    train_stamps = stamps["train"]
    return [b - a for a, b in zip(train_stamps, train_stamps[1:])], data_s


def bare_step_times(steps: int, batch: int) -> list[float]:
    """Seconds of each bare step: forward, backward and Adan on batches already in memory."""
    from adan_pytorch import Adan

    torch.manual_seed(0)
    network = DanceDecoder(35).train()
    objective = EdgeObjective(Schedule.cosine().alphas_cumprod)
    optimizer = Adan(network.parameters(), lr=3e-5, betas=ADAN_BETAS, weight_decay=0.02)
    x, cond = torch.rand(batch, 150, 151) * 2 - 1, torch.randn(batch, 150, 35)
    times = []
    for _ in range(steps):
        began = time.perf_counter()
        loss = objective(network, x, cond)
        loss.total.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        times.append(time.perf_counter() - began)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=8, help="optimizer steps timed in each of the two runs")
    parser.add_argument("--batch", type=int, default=8, help="windows per step")
    parser.add_argument("--songs", type=int, default=4, help="synthetic dances in the data set")
    args = parser.parse_args()
    print(f"== a2a train, EDGE (47 M parameters), batch {args.batch}, CPU, {torch.get_num_threads()} threads ==")
    bare = bare_step_times(args.steps + WARM_UP, args.batch)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        write_dataset(data, args.songs)
        loop, data_s = loop_step_times(data, Path(tmp) / "edge.pt", args.steps + WARM_UP, args.batch)
    loop_s, bare_s = statistics.median(loop[WARM_UP - 1:]), statistics.median(bare[WARM_UP:])
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"data phase ({args.songs} songs of {SONG_S:.0f} s analysed):  {data_s:6.1f} s")
    print(f"a2a train, one step (median of {len(loop[WARM_UP - 1:])}):        {loop_s:6.2f} s = {args.batch / loop_s:5.1f} windows/s")
    print(f"bare step: forward, backward, Adan (median):   {bare_s:6.2f} s = {args.batch / bare_s:5.1f} windows/s")
    print(f"the loop's cost over the bare step:            {loop_s / bare_s:6.2f}x")
    print(f"peak RSS: {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
