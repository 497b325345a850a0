"""Reading and writing EDGE checkpoints safely: the official `torch.save` layout and safetensors.

The official file (EDGE.py's train loop) is a pickle of four entries: `ema_state_dict` (what
sampling uses), `model_state_dict`, `optimizer_state_dict` and `normalizer`, a pickled
`dataset.preprocess.Normalizer` wrapping a `dataset.scaler.MinMaxScaler`. It is read with
`torch.load(weights_only=True)` and exactly those two class names allow-listed, mapped to a2a's
own classes: any other global in the pickle is refused before anything runs, so a checkpoint
can carry weights, never code. The weights load strictly: every key and shape must be EDGE's.

A `.safetensors` file holds the network's state dict (the shared rotary buffer may appear once
or not at all) plus the normaliser's statistics as the tensors `normalizer.data_min` and
`normalizer.data_max` (151,).
"""

from __future__ import annotations

import os
import pickle
import types
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from a2a_cli.errors import InputError
from a2a_cli.fileio import atomic_path
from a2a_cli.generation.edge.network import MOTION_FEATURES, DanceDecoder
from a2a_cli.generation.edge.normalizer import MinMaxScaler, Normalizer
from a2a_cli.generation.strict_weights import first_line, load_strict, torch_load_safely

__all__ = [
    "EdgeCheckpoint", "FEATURE_TYPES", "NORMALIZER_KEYS", "OFFICIAL_CLASSES", "RAW_WEIGHTS_ENTRY",
    "ROTARY_SUFFIX", "WEIGHTS_ENTRY", "load_checkpoint", "save_checkpoint", "save_safetensors",
]

# The pickle names of EDGE's normaliser classes (their module paths in the official code) -> ours.
OFFICIAL_CLASSES: dict[str, type] = {
    "dataset.preprocess.Normalizer": Normalizer,
    "dataset.scaler.MinMaxScaler": MinMaxScaler,
}
WEIGHTS_ENTRY = "ema_state_dict"  # EDGE samples with the EMA weights (EDGE.py, EMA=True)
RAW_WEIGHTS_ENTRY = "model_state_dict"
NORMALIZER_KEYS = ("normalizer.data_min", "normalizer.data_max")
FEATURE_TYPES = {35: "baseline", 4800: "jukebox"}  # cond_projection.weight.shape[1] -> EDGE's --feature_type
ROTARY_SUFFIX = "rotary.freqs"


@dataclass
class EdgeCheckpoint:
    """A loaded model: the network (eval mode, float32) and the normaliser of its motion space."""

    network: DanceDecoder
    normalizer: Normalizer
    path: Path

    @property
    def cond_features(self) -> int:
        return self.network.cond_features

    @property
    def feature_type(self) -> str:
        """"baseline" (35 audio features), "jukebox" (4800) or "custom"."""
        return FEATURE_TYPES.get(self.cond_features, "custom")


def load_checkpoint(path: str | os.PathLike, device: str | torch.device = "cpu") -> EdgeCheckpoint:
    """Load an official-layout `.pt` (or `.ckpt`) or a `.safetensors` EDGE checkpoint.

    Raises InputError (one line) for a missing or unreadable file, a pickle that names anything but
    tensors and EDGE's normaliser, or weights whose keys or shapes are not EDGE's network's.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"EDGE checkpoint {path} does not exist")
    if path.suffix.lower() == ".safetensors":
        state, normalizer = _read_safetensors(path)
    else:
        state, normalizer = _read_pickle(path)
    try:
        normalizer.check(MOTION_FEATURES, str(path))
    except ValueError as e:
        raise InputError(str(e)) from None
    cond = state.get("cond_projection.weight")
    if not isinstance(cond, Tensor) or cond.dim() != 2:
        raise InputError(f"{path} does not fit EDGE's network: missing key 'cond_projection.weight'")
    network = DanceDecoder(cond_features=int(cond.shape[1]))
    load_strict(network, state, path, "EDGE", derived=[k for k in network.state_dict() if k.endswith(ROTARY_SUFFIX)])
    return EdgeCheckpoint(network.to(device).eval(), normalizer, path)


def _read_pickle(path: Path) -> tuple[dict[str, Tensor], Normalizer]:
    data = torch_load_safely(path, "EDGE checkpoint", allowed=[(cls, name) for name, cls in OFFICIAL_CLASSES.items()],
                             allowed_words="a tensor or EDGE's normaliser")
    if not isinstance(data, dict):
        raise InputError(f"{path} is not an EDGE checkpoint: expected a dict with {WEIGHTS_ENTRY!r} and 'normalizer'")
    state = data.get(WEIGHTS_ENTRY, data.get(RAW_WEIGHTS_ENTRY))
    if not isinstance(state, dict):
        raise InputError(f"{path} is not an EDGE checkpoint: it has no {WEIGHTS_ENTRY!r} (keys: {', '.join(map(str, data))})")
    normalizer = data.get("normalizer")
    if not isinstance(normalizer, Normalizer) or not isinstance(getattr(normalizer, "scaler", None), MinMaxScaler):
        raise InputError(f"{path} is not an EDGE checkpoint: its 'normalizer' is not EDGE's Normalizer(MinMaxScaler)")
    return state, normalizer


def _read_safetensors(path: Path) -> tuple[dict[str, Tensor], Normalizer]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        tensors = load_file(path, device="cpu")
    except (SafetensorError, OSError, ValueError) as e:
        raise InputError(f"cannot read EDGE safetensors {path}: {first_line(e)}") from None
    missing = [k for k in NORMALIZER_KEYS if k not in tensors]
    if missing:
        raise InputError(f"{path} has no normaliser statistics: tensor {missing[0]!r} is missing")
    normalizer = Normalizer.from_statistics(*(tensors.pop(k) for k in NORMALIZER_KEYS))
    return tensors, normalizer


class _OfficialNamesPickler(pickle._Pickler):
    """Pickles a2a's normaliser classes under EDGE's module paths, so EDGE's own code (and ours)
    can load the file; everything else pickles as usual."""

    _NAMES = {cls: name for name, cls in OFFICIAL_CLASSES.items()}

    def save_global(self, obj, name=None):
        official = self._NAMES.get(obj)
        if official is None:
            return super().save_global(obj, name)
        module, qualname = official.rsplit(".", 1)
        self.write(pickle.GLOBAL + f"{module}\n{qualname}\n".encode())
        self.memoize(obj)


_OFFICIAL_PICKLE = types.SimpleNamespace(Pickler=_OfficialNamesPickler, __name__="a2a_edge_pickle")


def save_checkpoint(path: str | os.PathLike, network: DanceDecoder | dict[str, Tensor], normalizer: Normalizer, *,
                    raw_network: DanceDecoder | dict[str, Tensor] | None = None, optimizer_state: dict | None = None) -> Path:
    """Write `path` atomically in EDGE's official layout (EDGE's `EDGE.__init__` loads it).

    `network`: the EMA weights (what sampling uses), a DanceDecoder or its state dict; `raw_network`:
    the trained (non-EMA) weights, default the same; `optimizer_state`: an optimizer's `state_dict()`
    (default empty).
    """
    weights = lambda n: n if isinstance(n, dict) else n.state_dict()  # noqa: E731
    ckpt = {
        WEIGHTS_ENTRY: weights(network),
        RAW_WEIGHTS_ENTRY: weights(raw_network if raw_network is not None else network),
        "optimizer_state_dict": optimizer_state if optimizer_state is not None else {"state": {}, "param_groups": []},
        "normalizer": normalizer,
    }
    with atomic_path(path) as tmp:
        torch.save(ckpt, tmp, pickle_module=_OFFICIAL_PICKLE)
    return Path(path)


def save_safetensors(path: str | os.PathLike, network: DanceDecoder, normalizer: Normalizer) -> Path:
    """Write the weights and the normaliser's statistics as one `.safetensors` file, atomically."""
    from safetensors.torch import save_file

    tensors = {k: v.contiguous() for k, v in network.state_dict().items()
               if not k.endswith(ROTARY_SUFFIX)}
    tensors.update(zip(NORMALIZER_KEYS, (normalizer.scaler.data_min_.contiguous(), normalizer.scaler.data_max_.contiguous())))
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={"model": "edge", "cond_features": str(network.cond_features)})
    return Path(path)
