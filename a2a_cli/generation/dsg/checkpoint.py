"""Reading and writing DiffuseStyleGesture's files safely: the checkpoint and the ZEGGS statistics.

The official checkpoint (`model000450000.pt`, written by main/train/training_loop.py's `save`) is
`torch.save(model.state_dict())`: an OrderedDict of tensors and nothing else. It is read with
`torch.load(weights_only=True)` and no class allow-listed beyond torch's own tensor rebuilders, so a
pickle naming anything else (os.system, ...) is refused before anything runs. The weights load
strictly: every key and shape must be the network's. The three buffers derived from no data (the
timestep sinusoid under two names, the rotary frequencies) may be left out, as `.safetensors` files
leave them (safetensors stores no shared tensors); a2a recomputes them.

The motion statistics are ZEGGS's `mean.npz` (key `mean`) and `std.npz` (key `std`), 1141 values
each (any leading axes of size 1 are dropped), read without pickle; the std is clipped at 0.01 as the
official sample.py does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from a2a_cli.errors import ARCHIVE_ERRORS, InputError
from a2a_cli.fileio import atomic_path
from a2a_cli.generation.dsg.network import MOTION_FEATURES, GestureDenoiser
from a2a_cli.generation.strict_weights import first_line, load_strict, torch_load_safely

__all__ = [
    "DERIVED_BUFFERS", "MIN_STD", "MotionStatistics", "load_network", "load_statistics", "save_checkpoint",
    "save_safetensors",
]

DERIVED_BUFFERS = ("sequence_pos_encoder.pe", "embed_timestep.sequence_pos_encoder.pe", "rel_pos.inv_freq")
MIN_STD = 0.01  # sample.py: np.clip(data_std, a_min=0.01)
_WHAT = "DiffuseStyleGesture checkpoint"


def load_network(path: str | os.PathLike, device: str | torch.device = "cpu") -> GestureDenoiser:
    """The network (eval mode, float32, on `device`) of an official-layout `.pt` or a `.safetensors` file.

    Raises InputError (one line) for a missing or unreadable file, a pickle that names anything but
    tensors, or weights whose keys or shapes are not the network's.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{_WHAT} {path} does not exist")
    state = _read_safetensors(path) if path.suffix.lower() == ".safetensors" else _read_pickle(path)
    network = GestureDenoiser()
    load_strict(network, state, path, "DiffuseStyleGesture", derived=DERIVED_BUFFERS)
    return network.to(device).eval()


def _read_pickle(path: Path) -> dict[str, Tensor]:
    data = torch_load_safely(path, _WHAT)
    if not isinstance(data, dict):
        raise InputError(f"{path} is not a {_WHAT}: expected the network's state dict, got a {type(data).__name__}")
    return data


def _read_safetensors(path: Path) -> dict[str, Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(path, device="cpu")
    except (SafetensorError, OSError, ValueError) as e:
        raise InputError(f"cannot read {_WHAT} {path}: {first_line(e)}") from None


def save_checkpoint(path: str | os.PathLike, network: GestureDenoiser) -> Path:
    """Write `path` atomically in the official layout (the state dict, as training_loop.py saves it)."""
    with atomic_path(path) as tmp:
        torch.save(network.state_dict(), tmp)
    return Path(path)


def save_safetensors(path: str | os.PathLike, network: GestureDenoiser) -> Path:
    """Write the network's weights as one `.safetensors` file, atomically (DERIVED_BUFFERS left out)."""
    from safetensors.torch import save_file

    tensors = {k: v.contiguous() for k, v in network.state_dict().items() if k not in DERIVED_BUFFERS}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={"model": "diffusestylegesture"})
    return Path(path)


@dataclass(frozen=True)
class MotionStatistics:
    """ZEGGS's per-feature mean and std (1141,) float64 (std clipped at MIN_STD): the model's
    normalised motion times std plus mean is the pose vector."""

    mean: np.ndarray
    std: np.ndarray

    def unnormalize(self, motion: np.ndarray) -> np.ndarray:
        """(..., 1141) normalised -> (..., 1141) float64 pose vectors."""
        return np.asarray(motion, dtype=np.float64) * self.std + self.mean


def load_statistics(mean_path: str | os.PathLike, std_path: str | os.PathLike) -> MotionStatistics:
    """ZEGGS's mean.npz and std.npz (no pickle); an InputError for missing, unreadable or misshapen files."""
    arrays = {}
    for key, path in (("mean", Path(mean_path)), ("std", Path(std_path))):
        try:
            with np.load(path, allow_pickle=False) as npz:
                if key not in npz.files:
                    raise InputError(f"{path} has no array {key!r} (arrays: {', '.join(npz.files) or 'none'})")
                values = np.asarray(npz[key], dtype=np.float64).squeeze()
        except InputError:
            raise
        except ARCHIVE_ERRORS as e:
            raise InputError(f"cannot read ZEGGS statistics {path}: {first_line(e)}") from None
        if values.shape != (MOTION_FEATURES,) or not np.isfinite(values).all():
            raise InputError(f"{path}: {key} must be {MOTION_FEATURES} finite values, got shape {values.shape}")
        arrays[key] = values
    return MotionStatistics(arrays["mean"], np.clip(arrays["std"], MIN_STD, None))
