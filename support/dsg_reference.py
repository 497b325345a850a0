"""What the DiffuseStyleGesture tests share: the deterministic weights and inputs that the official
reference numbers (tests/data/dsg-official-reference.npz, tests/data/README-dsg.md) were made with;
the tests and benchmarks/bench_dsg.py share them."""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path

import numpy as np

__all__ = ["DATA", "REFERENCE", "fill", "filled_network", "hashed", "official_statistics", "reference", "stand_in_wavlm", "wave"]

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
REFERENCE = DATA / "dsg-official-reference.npz"


def reference() -> dict[str, np.ndarray]:
    with np.load(REFERENCE) as npz:
        return {k: npz[k] for k in npz.files}


def hashed(n: int, i: int):
    """n float64 values in [-1, 1) from an integer hash of (k, i), k < n: exact on any machine, and
    full rank (sinusoid fills give rank-2 matrices, under which the network barely hears its inputs)."""
    import torch

    k = torch.arange(n, dtype=torch.int64)
    h = ((k + 1) * 2654435761 + (i + 1) * 97531) % 4294967296
    h = ((h ^ (h >> 15)) * 739982445) % 4294967296
    h = h ^ (h >> 13)
    return h.double() / 2147483648.0 - 1.0


def fill(model) -> None:
    """The i-th of named_parameters() from hashed(numel, i): LayerNorm gains 1 + 0.1 v, matrices
    v * sqrt(3 / fan in), biases 0.1 v; buffers as the model made them."""
    import torch

    with torch.no_grad():
        for i, (name, p) in enumerate(model.named_parameters()):
            v = hashed(p.numel(), i).view(p.shape)
            if p.dim() == 1 and name.endswith("weight"):
                v = 1 + 0.1 * v
            elif p.dim() == 2:
                v = v * math.sqrt(3.0 / p.shape[1])
            else:
                v = 0.1 * v
            p.copy_(v.float())


@cache
def _filled_state() -> dict:
    from a2a_cli.generation.dsg.network import GestureDenoiser

    net = GestureDenoiser()
    fill(net)
    return net.state_dict()


def filled_network():
    """A fresh GestureDenoiser (eval mode) with `fill`'s weights (filled once per test process)."""
    from a2a_cli.generation.dsg.network import GestureDenoiser

    net = GestureDenoiser().eval()
    net.load_state_dict(_filled_state())
    return net


def wave(n: int, a: float, b: float):
    """sin(a k + b), k < n, float32 torch (the reference inputs)."""
    import torch

    return torch.sin(a * torch.arange(n, dtype=torch.float64) + b).float()


def official_statistics():
    """The reference run's stand-in ZEGGS mean and std (1141,) float64, some std under 0.01."""
    mean = wave(1141, 0.37, 0.2).double().numpy() * 3
    std = np.abs(wave(1141, 0.53, 0.9).double().numpy()) * 2
    return mean, std


def stand_in_wavlm():
    """A module that stands in for WavLM in the reference run: for a window of samples, each 320-sample
    hop's mean times a ramp over the 1024 channels, plus 0.1 cos(0.1 frame)."""
    import torch
    from types import SimpleNamespace

    class StandIn(torch.nn.Module):
        dtype = torch.float32  # as a transformers model says

        def __init__(self):
            super().__init__()
            self.anchor = torch.nn.Parameter(torch.zeros(1))  # for next(parameters()).device

        def forward(self, wav):
            hops = wav[:, : wav.shape[1] // 320 * 320].reshape(wav.shape[0], -1, 320).mean(-1)
            ramp = torch.linspace(-1, 1, 1024)
            return SimpleNamespace(last_hidden_state=hops[..., None] * ramp
                                   + torch.cos(0.1 * torch.arange(hops.shape[1]))[None, :, None] * 0.1)

    return StandIn().eval()
