"""Strict, checked loading of a learned model's state dict, shared by EDGE and DiffuseStyleGesture:
every key and shape must be the network's own, every value a finite floating-point tensor, and any
mismatch is one line naming the file, the model and the first offending key."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import torch
from torch import Tensor, nn

from a2a_cli.errors import InputError

__all__ = ["first_line", "load_strict"]


def load_strict(network: nn.Module, state: dict[str, Tensor], path: Path, model: str,
                derived: Iterable[str] = ()) -> None:
    """Copy `state` into `network` (as float32), or raise an InputError. path: the file it came from
    and model: the model's name ("EDGE"), both for the message; derived: keys of buffers computed from
    no data (rotary tables) that a file may leave out, as safetensors does with shared tensors."""
    expected = network.state_dict()
    state = {**{key: expected[key] for key in derived if key not in state}, **state}
    unexpected = [str(key) for key in state if key not in expected]
    missing = [key for key in expected if key not in state]
    prefix = f"{path} does not fit {model}'s network"
    if unexpected or missing:
        def first(keys: list[str], what: str) -> list[str]:
            return [f"{what} key {keys[0]!r}" + (f" (+{len(keys) - 1} more)" if len(keys) > 1 else "")] if keys else []
        raise InputError(f"{prefix}: {'; '.join(first(unexpected, 'unexpected') + first(missing, 'missing'))}")
    for key, value in state.items():
        if not isinstance(value, Tensor):
            raise InputError(f"{prefix}: key {key!r} is not a tensor")
        if value.shape != expected[key].shape:
            raise InputError(f"{prefix}: key {key!r} has shape {list(value.shape)}, expected {list(expected[key].shape)}")
        if not value.is_floating_point() or not bool(torch.isfinite(value).all()):
            raise InputError(f"{prefix}: key {key!r} is not finite floating point")
    network.load_state_dict({key: value.float() for key, value in state.items()}, strict=True)


def first_line(error: BaseException) -> str:
    """The first line of `error`'s message (its type's name when it has none), for one-line errors."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
