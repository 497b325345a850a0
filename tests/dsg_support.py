"""What the DiffuseStyleGesture tests share: the deterministic weights and inputs that the official
reference numbers (tests/data/dsg-official-reference.npz, tests/data/README-dsg.md) were made with."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

__all__ = ["DATA", "REFERENCE", "fill", "official_statistics", "reference", "stand_in_wavlm", "wave"]

DATA = Path(__file__).parent / "data"
REFERENCE = DATA / "dsg-official-reference.npz"


def reference() -> dict[str, np.ndarray]:
    with np.load(REFERENCE) as npz:
        return {k: npz[k] for k in npz.files}


def fill(model) -> None:
    """The i-th of named_parameters() from sin(0.7 k + 1.3 i): LayerNorm gains 1 + 0.1 v, matrices
    v / sqrt(fan in), biases 0.1 v; buffers as the model made them."""
    import torch

    with torch.no_grad():
        for i, (name, p) in enumerate(model.named_parameters()):
            v = torch.sin(0.7 * torch.arange(p.numel(), dtype=torch.float64) + 1.3 * i).float().view(p.shape)
            if p.dim() == 1 and name.endswith("weight"):
                v = 1 + 0.1 * v
            elif p.dim() == 2:
                v = v / math.sqrt(p.shape[1])
            else:
                v = 0.1 * v
            p.copy_(v)


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
        def __init__(self):
            super().__init__()
            self.anchor = torch.nn.Parameter(torch.zeros(1))  # for next(parameters()).device

        def forward(self, wav):
            hops = wav[:, : wav.shape[1] // 320 * 320].reshape(wav.shape[0], -1, 320).mean(-1)
            ramp = torch.linspace(-1, 1, 1024)
            return SimpleNamespace(last_hidden_state=hops[..., None] * ramp
                                   + torch.cos(0.1 * torch.arange(hops.shape[1]))[None, :, None] * 0.1)

    return StandIn().eval()
