"""Safe, strict loading of a learned model's weights, shared by EDGE and DiffuseStyleGesture: a
`torch.save` file is read with `weights_only=True` and only the globals a model allow-lists (a pickle
naming anything else is refused before it runs); every key and shape must be the network's own, every
value a finite floating-point tensor; any failure is one line naming the file and what is wrong."""

from __future__ import annotations

import pickle
import re
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import torch
from torch import Tensor, nn

from a2a_cli.errors import InputError

__all__ = ["first_line", "load_strict", "torch_load_safely"]


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


def torch_load_safely(path: Path, what: str, *, allowed: Sequence[tuple[type, str]] = (), allowed_words: str = "a tensor"):
    """What `torch.save` wrote to `path`, unpickled with `weights_only=True` and only the `allowed`
    (class, pickled name) globals; zip files are memory-mapped (entries never read cost nothing).
    what: the file's kind for messages ("EDGE checkpoint"); allowed_words: what a pickle may name,
    in words ("a tensor"). Raises InputError (one line): a refused global, bytes that are no pickle of
    tensors, or an unreadable file."""
    try:
        with torch.serialization.safe_globals(list(allowed)):
            return torch.load(path, map_location="cpu", weights_only=True, mmap=zipfile.is_zipfile(path))
    except pickle.UnpicklingError as e:
        found = re.search(r"GLOBAL (\S+)", str(e))
        if found:
            raise InputError(f"{path} refused: its pickle names {found.group(1)}, which is not {allowed_words} "
                             "(a checkpoint may carry weights, never code)") from None
        # torch's own text advises weights_only=False, the wrong advice for a file that is no checkpoint
        detail = re.search(r"WeightsUnpickler error:\s*(\S[^\n]*)", str(e))
        raise InputError(f"{path} is not {_a(what)} (a file torch.save wrote, or .safetensors): "
                         f"{detail.group(1).strip().lower() if detail else 'not a pickle of tensors'}") from None
    except (KeyError, IndexError, TypeError, AttributeError, EOFError) as e:  # the legacy unpickler on bytes of another kind
        raise InputError(f"{path} is not {_a(what)} (a file torch.save wrote, or .safetensors): "
                         f"unreadable as a pickle ({type(e).__name__})") from None
    except (OSError, RuntimeError, ValueError) as e:
        raise InputError(f"cannot read {what} {path}: {first_line(e)}") from None


def _a(noun: str) -> str:
    """`noun` with its indefinite article ("an EDGE checkpoint")."""
    return f"{'an' if noun[:1].upper() in 'AEIOU' else 'a'} {noun}"
