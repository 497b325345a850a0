"""`a2a train DATA -o CHECKPOINT`: train EDGE on dances with their music."""

from __future__ import annotations

from pathlib import Path

import typer

from a2a_cli.cli import common

__all__ = ["train"]


def train(
    data: Path = typer.Argument(..., help="AIST++ folder (motions/*.pkl + wavs/) or a folder of a2a motions with audio of the same stem."),
    out: Path = typer.Option(..., "-o", "--out", help="The checkpoint to write (EDGE's layout, resumable, e.g. edge-baseline.pt); the weights to share go beside it (edge-baseline.safetensors)."),
    resume: bool = typer.Option(False, "--resume", help="Continue training the checkpoint -o names, up to --steps."),
    steps: int = typer.Option(100_000, "--steps", help="Optimizer steps in all (a resumed run counts those already done)."),
    batch_size: int = typer.Option(64, "--batch-size", help="5-s windows per step, per GPU."),
    lr: float = typer.Option(2e-4, "--lr", help="Learning rate (EDGE: 2e-4)."),
    optimizer: str = typer.Option("adan", "--optimizer", help="adan (EDGE's) or adamw."),
    ema_decay: float = typer.Option(0.9999, "--ema-decay", help="Decay of the weights' moving average, the weights sampling uses."),
    save_every: int = typer.Option(1000, "--save-every", help="Steps between checkpoints (one is always written at the end)."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    cpu: bool = typer.Option(False, "--cpu", help="Train on the CPU even where a GPU is present."),
    mixed_precision: str = typer.Option("no", "--mixed-precision", help="no, fp16 or bf16."),
    workers: int = typer.Option(0, "--workers", help="Data-loading processes."),
    json_output: bool = typer.Option(False, "--json", help="Print the outcome as JSON."),
) -> None:
    """Train EDGE's diffusion model on a2a's 35 baseline audio features; the checkpoint has EDGE's layout.

    Two files: -o, resumable (the weights, their moving average and the optimizer's state, as EDGE
    writes them), and beside it the weights to share, a sixth of the size (.safetensors: the
    moving average and the normaliser; what a2a generate --model edge --weights needs).

    Dances are cut into 5-s windows every 0.5 s; AIST++ names follow the official train/test split.
    Several GPUs or machines: start it with accelerate (the last example).

    Examples:

      [bold]a2a train aistpp/ -o edge-baseline.pt --steps 200000[/bold]

      [bold]a2a train aistpp/ -o edge-baseline.pt --steps 300000 --resume[/bold]

      [bold]a2a generate song.mp3 --model edge --weights edge-baseline.pt[/bold]

      [bold]accelerate launch --multi_gpu -m a2a_cli train aistpp/ -o edge-baseline.pt[/bold]
    """
    from rich.markup import escape

    from a2a_cli.training.trainer import TrainConfig, train as run

    config = TrainConfig(steps=steps, batch_size=batch_size, learning_rate=lr, optimizer=optimizer, ema_decay=ema_decay,
                         save_every=save_every, seed=seed, cpu=cpu, mixed_precision=mixed_precision, workers=workers)
    settings = common.settings()
    with common.ProgressBar("loading data") as bar:
        def progress(phase: str, done: int, total: int, loss: float | None) -> None:
            label = "loading data" if phase == "data" else f"training, loss {loss:.4f}"
            bar.update(description=label, completed=done, total=total)

        result = run(data, out, config, resume=resume, audio_cache_dir=settings.audio_cache_dir, progress=progress)
    if not result.main_process:
        return
    if json_output:
        common.print_json(result.__dict__)
        return
    split = "the official AIST++ split" if result.official_split else "every sequence"
    test = f", held-out loss {result.test_loss:.4f} on {result.test_sequences} sequences" if result.test_loss is not None else ""
    common.out.print(f"wrote {escape(str(result.checkpoint))}: step {result.steps} (from {result.start_step}), loss {result.loss:.4f}{test}; "
                     f"{result.windows} windows of {result.train_sequences} sequences ({split}), {result.seconds:.0f} s")
    common.out.print(f"weights to share: {escape(str(result.weights))} ({_size(result.weights)}; "
                     f"{escape(str(result.checkpoint))}, {_size(result.checkpoint)}, resumes training)")


def _size(path: Path) -> str:
    from rich.filesize import decimal

    return decimal(path.stat().st_size)
