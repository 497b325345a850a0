"""The Generator interface and the registry that finds implementations by name (DESIGN §5).

Generators register a factory, not an instance, so that naming a model costs nothing until it is
used: a diffusion model can import torch and load weights in its factory without slowing the CLI.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from a2a_cli.errors import InputError
from a2a_cli.frame_rate import FPS
from a2a_cli.scoring.constants import MIN_DURATION_S  # one home: the judge refuses shorter answers too

from a2a_cli.tasks import DANCE, check_task

if TYPE_CHECKING:
    from a2a_cli.audio.analysis import AudioAnalysis
    from a2a_cli.audio.speech import SpeechAnalysis
    from a2a_cli.motion.motion import Motion

__all__ = [
    "GestureGenerator", "Generator", "MAX_DURATION_S", "available_generators", "check_device_and_precision",
    "check_duration", "expected_frames", "generator_task", "get_generator", "register",
]


@runtime_checkable
class Generator(Protocol):
    """Audio features + duration + seed in, a Motion of exactly round(duration_s * 30) frames out.

    Same audio, same seed, same generator: the same motion, bit for bit on one machine.
    """

    name: str

    def generate(self, audio: AudioAnalysis, duration_s: float, seed: int) -> Motion:
        """A dance for `audio` (the song's analysis, features at 30 fps) of `duration_s` seconds from its
        start (exactly round(duration_s * 30) frames), drawn with `seed` (an int >= 0)."""
        ...


@runtime_checkable
class GestureGenerator(Protocol):
    """Speech + duration + seed in, a Motion of exactly round(duration_s * 30) frames out: a speaker's
    co-speech gesture (task `gesture`). Same speech, same seed, same generator: the same motion."""

    name: str

    def generate(self, speech: SpeechAnalysis, duration_s: float, seed: int) -> Motion:
        """Gestures for `speech` (the voice's analysis) of `duration_s` seconds from its start (exactly
        round(duration_s * 30) frames), drawn with `seed` (an int >= 0)."""
        ...


_FACTORIES: dict[str, tuple[Callable[..., Generator | GestureGenerator], bool, str]] = {}


def register(name: str, factory: Callable[..., Generator | GestureGenerator], *, takes_settings: bool = False,
             task: str = DANCE) -> None:
    """Make `factory()` available as model `name` (a later registration under the same name wins).

    `takes_settings`: the factory is called as `factory(settings)` with the effective
    `a2a_cli.config.Settings` (or None), for models with options (weights, steps, device).
    `task`: what the model does (a2a_cli.tasks): `dance` models are `Generator`s (music in),
    `gesture` models `GestureGenerator`s (speech in)."""
    _FACTORIES[name] = (factory, takes_settings, check_task(task))


def available_generators(task: str | None = None) -> list[str]:
    """The registered model names, sorted (what `--model` accepts); only those of `task` when given."""
    return sorted(name for name, (_, _, t) in _FACTORIES.items() if task is None or t == task)


def generator_task(name: str) -> str:
    """The task (a2a_cli.tasks) of the model registered as `name`; an InputError for unknown names."""
    try:
        return _FACTORIES[name][2]
    except KeyError:
        raise InputError(f"unknown model {name!r}; available: {', '.join(available_generators())}") from None


def get_generator(name: str, settings=None) -> Generator | GestureGenerator:
    """The generator registered as `name`; `settings` (a2a_cli.config.Settings, None: the defaults)
    carry the options of models that take them."""
    try:
        factory, takes_settings, _ = _FACTORIES[name]
    except KeyError:
        raise InputError(f"unknown model {name!r}; available: {', '.join(available_generators())}") from None
    return factory(settings) if takes_settings else factory()


# DESIGN §5: a generator dances any duration from 1 s to 10 min. Shorter clips cannot be judged for
# rhythm (the validator refuses them too); `a2a generate` still dances whole songs beyond 10 min.
MAX_DURATION_S = 600.0


def expected_frames(duration_s: float, fps: float = FPS) -> int:
    """The frames a dance of `duration_s` seconds must have: exactly round(duration_s * fps) (DESIGN §5)."""
    return int(round(duration_s * fps))


def check_duration(duration_s: float) -> int:
    """Frames for a request of `duration_s` seconds at 30 fps; a clear error for nonsense durations."""
    import math

    if not isinstance(duration_s, (int, float)) or not math.isfinite(duration_s) or duration_s <= 0:
        raise InputError(f"duration must be a positive number of seconds, got {duration_s!r}")
    if duration_s < MIN_DURATION_S:
        raise InputError(f"duration {duration_s:g} s is too short: a dance needs at least {MIN_DURATION_S:g} s of music")
    return expected_frames(duration_s)


def check_device_and_precision(device: str, precision: str) -> None:
    """One-line InputErrors for a learned model's `device` ("cpu", "cuda" or "cuda:N", a CUDA device this
    torch can see) and `precision` (one of config.PRECISIONS; "bf16" on a GPU only where it has bfloat16)."""
    import torch

    from a2a_cli.config import PRECISIONS

    if device.startswith("cuda") and not torch.cuda.is_available():
        raise InputError(f"--device {device}: this torch has no CUDA device (use --device cpu)")
    if device != "cpu" and not device.startswith("cuda"):
        raise InputError(f"--device must be cpu or cuda[:N], got {device!r}")
    if precision not in PRECISIONS:
        raise InputError(f"--precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision == "bf16" and device.startswith("cuda") and not torch.cuda.is_bf16_supported():
        raise InputError("--precision bf16: this GPU has no bfloat16 (use --precision fp32)")
