"""`a2a train`: EDGE's training loop on Hugging Face accelerate, writing EDGE's official checkpoint layout.

One process trains on CPU or one GPU; `accelerate launch -m a2a_cli train ...` runs the same code
on several GPUs or machines (accelerate shards the batches and averages the gradients). The
network is EDGE's DanceDecoder conditioned on a2a's 35 baseline audio features; the optimizer
Adan (EDGE's, from adan-pytorch) or AdamW; an exponential moving average of the weights (torch's
AveragedModel) is what the checkpoint offers for sampling.

Checkpoints are EDGE's `train-N.pt` layout, written atomically by the main process every
`save_every` steps and at the end: `ema_state_dict`, `model_state_dict`, `optimizer_state_dict`,
`normalizer` (fitted on the training windows). EDGE's own `EDGE(feature_type="baseline",
checkpoint_path=...)` loads them, and so does `a2a_cli.generation.edge.load_checkpoint`. Training
resumes from such a file: the step count is the optimizer's own (its per-parameter `step`).
Beside it, at each save, the weights to share: the EMA weights and the normaliser as one
`.safetensors` file (`weights_path`), a sixth of the resumable file's size (no raw weights, no
optimizer state), which `a2a generate --model edge --weights` reads without any pickle.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from a2a_cli.errors import InputError, WorkError
from a2a_cli.training.dataset import WindowIndex, find_sequences, load_tracks, split_sequences

__all__ = [
    "ADAN_BETAS", "LOSS_SMOOTHING", "OPTIMIZERS", "TEST_WINDOWS", "TrainConfig", "TrainResult", "evaluate",
    "train", "weights_path",
]

OPTIMIZERS = ("adan", "adamw")
ADAN_BETAS = (0.02, 0.08, 0.01)  # EDGE's model/adan.py defaults
LOSS_SMOOTHING = 0.98  # the progress bar's loss is this exponential average of the step losses
TEST_WINDOWS = 256  # held-out windows the test loss is measured on (fixed noise and steps)


@dataclass(frozen=True)
class TrainConfig:
    """What `a2a train` is asked to do; defaults are EDGE's (README: batch 128 on 4 GPUs, lr 2e-4)."""

    steps: int = 100_000  # optimizer steps in all (a resumed run counts those already done)
    batch_size: int = 64  # windows per step on each process
    learning_rate: float = 2e-4
    weight_decay: float = 0.02
    optimizer: str = "adan"
    ema_decay: float = 0.9999
    save_every: int = 1000  # steps between checkpoints (one is always written at the end)
    seed: int = 0
    cpu: bool = False  # train on the CPU even where a GPU is present
    mixed_precision: str = "no"  # "no", "fp16" or "bf16" (accelerate's autocast)
    workers: int = 0  # data-loader processes

    def check(self) -> None:
        """InputError for settings no run can use."""
        if self.optimizer not in OPTIMIZERS:
            raise InputError(f"--optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        if self.steps < 1 or self.batch_size < 1 or self.save_every < 1 or self.workers < 0:
            raise InputError("--steps, --batch-size and --save-every must be at least 1, --workers at least 0")
        if not (self.learning_rate > 0 and math.isfinite(self.learning_rate)):
            raise InputError(f"--lr must be a positive number, got {self.learning_rate}")
        if not 0 <= self.ema_decay < 1:
            raise InputError(f"--ema-decay must be in [0, 1), got {self.ema_decay}")
        if self.mixed_precision not in ("no", "fp16", "bf16"):
            raise InputError(f"--mixed-precision must be no, fp16 or bf16, got {self.mixed_precision!r}")


def weights_path(checkpoint: Path) -> Path:
    """Where the weights-only export of `checkpoint` goes: beside it, as .safetensors."""
    return checkpoint.with_suffix(".safetensors")


@dataclass(frozen=True)
class TrainResult:
    checkpoint: Path
    weights: Path  # the weights-only export (EMA weights and normaliser, safetensors)
    start_step: int  # steps done before this run (0 unless resumed)
    steps: int  # steps done in all
    train_sequences: int
    test_sequences: int
    ignored_sequences: int  # left out by the official AIST++ split
    official_split: bool
    windows: int  # training windows
    loss: float  # the smoothed training loss at the end
    test_loss: float | None  # on held-out windows, when the split has any
    seconds: float
    main_process: bool  # false in the other processes of a multi-GPU run, which should stay quiet


# progress(phase, done, total, loss): phase "data" (sequences loaded) or "train" (steps, smoothed loss).
Progress = Callable[[str, int, int, "float | None"], None]


def train(data: Path, checkpoint: Path, config: TrainConfig, *, resume: bool = False, audio_cache_dir: Path | None = None,
          progress: Progress | None = None) -> TrainResult:
    """Train EDGE on the dances under `data` and write `checkpoint` (EDGE's layout).

    `resume` continues from `checkpoint` (its weights, EMA, optimizer state, normaliser and step
    count); without it an existing `checkpoint` is an InputError, so nothing is overwritten unasked.
    `audio_cache_dir` caches the music features. `progress` is called by the main process only.
    """
    from accelerate import Accelerator
    from accelerate.utils import set_seed
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    from a2a_cli.generation.edge import DanceDecoder, save_checkpoint, save_safetensors
    from a2a_cli.generation.edge.sampler import Schedule
    from a2a_cli.training.objective import EdgeObjective

    config.check()
    export = weights_path(checkpoint)
    if checkpoint.suffix.lower() == ".safetensors":
        raise InputError(f"-o {checkpoint}: -o names the resumable checkpoint (e.g. edge-baseline.pt); "
                         "the weights-only .safetensors is written beside it")
    if checkpoint.exists() and not resume:
        raise InputError(f"{checkpoint} exists: add --resume to continue training it, or choose another -o")
    if export.exists() and not resume:
        raise InputError(f"{export} exists (the weights-only export of -o {checkpoint.name}): move it, or choose another -o")
    if resume and not checkpoint.is_file():
        raise InputError(f"--resume: {checkpoint} does not exist")
    if resume:  # known before any data is read
        _check_steps_left(_entries(checkpoint), checkpoint, config)
    started = time.perf_counter()
    try:
        accelerator = Accelerator(cpu=config.cpu, mixed_precision=config.mixed_precision)
    except ValueError as e:  # fp16 without a GPU, a distributed setup accelerate cannot start
        raise InputError(f"cannot start training: {str(e).splitlines()[0]}") from None
    report = progress if (progress is not None and accelerator.is_main_process) else None

    split = split_sequences(find_sequences(data))
    if not split.train:
        raise InputError(f"no training sequences in {data} (the official AIST++ split leaves none)")
    with accelerator.main_process_first():  # the first process fills the feature cache for the others
        train_windows = WindowIndex(load_tracks(split.train, audio_cache_dir, _phase(report, "data", len(split.train))))
        test_windows = WindowIndex(load_tracks(split.test, audio_cache_dir)) if split.test else None
    if len(train_windows) == 0:
        raise InputError(f"no dance in {data} is 5 s long with its music: nothing to train on")

    set_seed(config.seed)
    network = DanceDecoder(cond_features=int(train_windows.tracks[0].features.shape[1]))
    state = _read_training_state(checkpoint, network, config) if resume else None
    normalizer = state.normalizer if state else _fit_normalizer(train_windows)
    start_step = state.step if state else 0
    set_seed(config.seed + start_step)  # a resumed run draws new noise, not the first run's again
    optimizer = _optimizer(network, config)
    if state:
        optimizer.load_state_dict(state.optimizer)
    ema = AveragedModel(network, multi_avg_fn=get_ema_multi_avg_fn(config.ema_decay), use_buffers=True)
    if state:
        ema.module.load_state_dict(state.ema)
        ema.n_averaged.fill_(max(start_step, 1))
    objective = EdgeObjective(Schedule.cosine().alphas_cumprod)

    batch = min(config.batch_size, len(train_windows))
    loader = torch.utils.data.DataLoader(_Windows(train_windows, normalizer), batch_size=batch, shuffle=True, drop_last=True,
                                         num_workers=config.workers, generator=torch.Generator().manual_seed(config.seed + start_step))
    network, optimizer, loader = accelerator.prepare(network, optimizer, loader)
    ema.to(accelerator.device)
    objective.to(accelerator.device)

    def save() -> None:
        accelerator.wait_for_everyone()
        if accelerator.is_main_process:
            save_checkpoint(checkpoint, ema.module, normalizer, raw_network=accelerator.unwrap_model(network),
                            optimizer_state=optimizer.state_dict())
            save_safetensors(export, ema.module, normalizer)

    step, smoothed = start_step, None
    network.train()
    while step < config.steps:
        for x, cond in loader:
            loss = objective(network, x, cond)
            accelerator.backward(loss.total)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            ema.update_parameters(accelerator.unwrap_model(network))
            step += 1
            value = float(accelerator.gather(loss.total.detach()[None]).mean())
            smoothed = value if smoothed is None else LOSS_SMOOTHING * smoothed + (1 - LOSS_SMOOTHING) * value
            if not math.isfinite(value):
                raise WorkError(f"the loss became {value} at step {step}: lower --lr or use --mixed-precision no")
            if report:
                report("train", step, config.steps, smoothed)
            if step % config.save_every == 0 or step == config.steps:
                save()
            if step >= config.steps:
                break
    test_loss = None
    if test_windows is not None and len(test_windows) and accelerator.is_main_process:
        test_loss = evaluate(objective, ema.module, test_windows, normalizer, batch, seed=config.seed)
    return TrainResult(checkpoint=checkpoint, weights=export, start_step=start_step, steps=step, train_sequences=len(split.train),
                       test_sequences=len(split.test), ignored_sequences=len(split.ignored), official_split=split.official,
                       windows=len(train_windows), loss=float(smoothed if smoothed is not None else float("nan")),
                       test_loss=test_loss, seconds=time.perf_counter() - started, main_process=accelerator.is_main_process)


def evaluate(objective, network, windows: WindowIndex, normalizer, batch_size: int, *, seed: int = 0,
             limit: int = TEST_WINDOWS) -> float:
    """The mean loss of `network` on the first `limit` windows, at steps and noise drawn from `seed`
    (the same for every call, so two networks, or one before and after training, compare fairly)."""
    generator = torch.Generator().manual_seed(seed)
    device = next(network.parameters()).device
    was_training = network.training
    network.eval()
    total, count = 0.0, 0
    data = _Windows(windows, normalizer)
    with torch.no_grad():
        for first in range(0, min(limit, len(data)), batch_size):
            items = [data[i] for i in range(first, min(first + batch_size, limit, len(data)))]
            x = torch.stack([x for x, _ in items]).to(device)
            cond = torch.stack([c for _, c in items]).to(device)
            t = torch.randint(0, objective.n_timesteps, (len(items),), generator=generator).to(device)
            noise = torch.randn(x.shape, generator=generator).to(device)
            total += float(objective(network, x, cond, t=t, noise=noise).total) * len(items)
            count += len(items)
    network.train(was_training)
    return total / count


class _Windows(torch.utils.data.Dataset):
    """The windows of a WindowIndex as (normalised motion (150, 151), features (150, C)) tensors."""

    def __init__(self, windows: WindowIndex, normalizer):
        self.windows, self.normalizer = windows, normalizer

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, index: int):
        motion, features = self.windows.window(index)
        return self.normalizer.normalize(torch.from_numpy(np.array(motion))), torch.from_numpy(np.array(features))


def _phase(report: Progress | None, phase: str, total: int) -> Callable[[int], None] | None:
    return None if report is None else (lambda done: report(phase, done, total, None))


def _fit_normalizer(windows: WindowIndex):
    """EDGE's min-max normaliser fitted on every frame of the training windows."""
    from a2a_cli.generation.edge.normalizer import MinMaxScaler, Normalizer

    low, high = windows.motion_extremes()
    frames = int(sum(len(t.window_starts) for t in windows.tracks)) * 150
    return Normalizer(MinMaxScaler(torch.from_numpy(low), torch.from_numpy(high), frames))


def _optimizer(network: torch.nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    if config.optimizer == "adan":
        try:
            from adan_pytorch import Adan
        except ModuleNotFoundError:
            raise InputError("--optimizer adan needs the adan-pytorch package: pip install 'a2a[models]' (or use --optimizer adamw)") from None
        return Adan(network.parameters(), lr=config.learning_rate, betas=ADAN_BETAS, weight_decay=config.weight_decay)
    return torch.optim.AdamW(network.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)


@dataclass(frozen=True)
class _TrainingState:
    ema: dict
    optimizer: dict
    normalizer: object
    step: int


def _entries(path: Path) -> dict:
    """The entries of a checkpoint in EDGE's layout, memory-mapped (nothing is read until used),
    loaded as safely as the edge loader loads them (tensors and EDGE's normaliser only)."""
    import pickle
    import zipfile

    from a2a_cli.generation.edge import load_checkpoint
    from a2a_cli.generation.edge.checkpoint import OFFICIAL_CLASSES

    try:
        with torch.serialization.safe_globals([(cls, name) for name, cls in OFFICIAL_CLASSES.items()]):
            entries = torch.load(path, map_location="cpu", weights_only=True, mmap=zipfile.is_zipfile(path))
    except (pickle.UnpicklingError, RuntimeError, OSError, EOFError, ValueError, KeyError, IndexError, TypeError, AttributeError):
        load_checkpoint(path)  # raises the edge loader's one-line error for a file that is no checkpoint
        raise InputError(f"--resume: cannot read {path} as a checkpoint") from None
    if not isinstance(entries, dict):
        raise InputError(f"--resume: {path} is not a checkpoint in EDGE's layout")
    return entries


def _steps_done(entries: dict, path: Path) -> int:
    """The optimizer steps a checkpoint's entries record (its per-parameter `step`)."""
    optimizer_state = entries.get("optimizer_state_dict") or {}
    if not isinstance(optimizer_state, dict) or not optimizer_state.get("state"):
        raise InputError(f"--resume: {path} has no optimizer state to continue from")
    return max(int(s.get("step", 0)) for s in optimizer_state["state"].values())


def _check_steps_left(entries: dict, path: Path, config: TrainConfig) -> None:
    done = _steps_done(entries, path)
    if done >= config.steps:
        raise InputError(f"{path} is at step {done} already: give --steps above that to continue")


def _read_training_state(path: Path, network: torch.nn.Module, config: TrainConfig) -> _TrainingState:
    """Everything a checkpoint in EDGE's layout holds, loaded safely: the EMA weights through the
    edge loader (strict keys and shapes, only EDGE's normaliser classes allowed in the pickle), the
    raw weights into `network`, the optimizer state and the step count it implies."""
    from a2a_cli.generation.edge import load_checkpoint

    loaded = load_checkpoint(path)
    entries = _entries(path)
    try:
        network.load_state_dict(entries["model_state_dict"], strict=True)
    except (KeyError, RuntimeError) as e:
        raise InputError(f"--resume: {path}'s model_state_dict does not fit the network: {str(e).splitlines()[0]}") from None
    optimizer_state = entries["optimizer_state_dict"]
    step = _steps_done(entries, path)
    group = (optimizer_state.get("param_groups") or [{}])[0]
    kind = "adan" if "restart_cond" in group else "adamw"
    if kind != config.optimizer:
        raise InputError(f"--resume: {path} was trained with {kind}; give --optimizer {kind}")
    return _TrainingState(ema=loaded.network.state_dict(), optimizer=optimizer_state,
                          normalizer=loaded.normalizer, step=step)
