"""EDGE's diffusion schedule and DDIM sampler (the scheduler of the diffusers split).

The schedule buffers are not in a checkpoint; they are recomputed exactly as EDGE's
`GaussianDiffusion` does (cosine schedule, 1000 steps, float64 betas cast to float32). Sampling is
EDGE's `ddim_sample` / `long_ddim_sample`: the network predicts x0 (clamped to [-1, 1]), eta = 1,
the time grid `linspace(-1, 999, steps + 1)` truncated to integers, and for a batch of consecutive
windows (long form) the guidance weight ramped from 0 up to its value over the first half of the
steps and the first half of every window overwritten by the second half of the previous one after
each update, so that neighbouring windows agree on the frames they share.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "COSINE_S", "DDIMSampler", "DEFAULT_GUIDANCE", "DEFAULT_STEPS", "ETA", "N_TIMESTEPS", "Schedule",
    "cosine_betas", "guidance_weights", "time_pairs",
]

N_TIMESTEPS = 1000
COSINE_S = 0.008
DEFAULT_STEPS = 50
DEFAULT_GUIDANCE = 2.0  # EDGE.py's guidance_weight
ETA = 1.0  # EDGE's DDIM is fully stochastic


def cosine_betas(n_timesteps: int = N_TIMESTEPS, s: float = COSINE_S) -> np.ndarray:
    """The cosine schedule's betas (n_timesteps,) float64, clipped to [0, 0.999] (EDGE's make_beta_schedule)."""
    ts = np.arange(n_timesteps + 1, dtype=np.float64) / n_timesteps + s
    f = np.cos(ts / (1 + s) * np.pi / 2) ** 2
    f = f / f[0]
    return np.clip(1 - f[1:] / f[:-1], 0, 0.999)


@dataclass(frozen=True)
class Schedule:
    """The float32 buffers sampling needs, indexed by timestep 0..999."""

    alphas_cumprod: Tensor
    sqrt_recip_alphas_cumprod: Tensor
    sqrt_recipm1_alphas_cumprod: Tensor

    @classmethod
    def cosine(cls) -> "Schedule":
        """EDGE's cosine schedule (1,000 steps), recomputed: checkpoints do not store it."""
        betas = torch.tensor(cosine_betas(), dtype=torch.float32)
        alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)
        return cls(alphas_cumprod, torch.sqrt(1.0 / alphas_cumprod), torch.sqrt(1.0 / alphas_cumprod - 1))


def time_pairs(steps: int) -> list[tuple[int, int]]:
    """(t, t_next) for each of `steps` DDIM steps: 50 gives (999, 979), (979, 959), ..., (19, -1)."""
    if not 1 <= steps <= N_TIMESTEPS:
        raise ValueError(f"steps must be 1..{N_TIMESTEPS}, got {steps}")
    times = list(reversed(torch.linspace(-1, N_TIMESTEPS - 1, steps + 1).int().tolist()))
    return list(zip(times[:-1], times[1:]))


def guidance_weights(steps: int, weight: float, long_form: bool) -> list[float]:
    """Per-step guidance: constant `weight`, or for long form clip(linspace(0, 2 w, steps), max=w)."""
    if not long_form:
        return [float(weight)] * steps
    return [float(w) for w in np.clip(np.linspace(0, weight * 2, steps), None, weight)]


class DDIMSampler:
    """EDGE's DDIM sampler over windows of `frames` frames (the overlap is half a window)."""

    def __init__(self, steps: int = DEFAULT_STEPS, guidance_weight: float = DEFAULT_GUIDANCE, schedule: Schedule | None = None):
        self.pairs = time_pairs(steps)
        self.guidance_weight = float(guidance_weight)
        self.schedule = schedule or Schedule.cosine()

    @property
    def steps(self) -> int:
        return len(self.pairs)

    @torch.no_grad()
    def sample(self, network, cond, shape: tuple[int, int, int], generator: torch.Generator | None = None,
               device: str | torch.device = "cpu", progress: Callable[[int, int], None] | None = None) -> Tensor:
        """Denoise `shape` = (B, frames, features) from Gaussian noise.

        `network.guided_forward(x, cond, t, w)` predicts x0; `cond` is passed through untouched (the
        music of the B windows, or its precomputed memory). B > 1 means consecutive windows at a hop
        of frames / 2 (long form), sampled as one batch. `generator` makes the noise reproducible;
        `progress(done, total)` is called after every step.
        """
        batch, frames, _ = shape
        long_form = batch > 1
        if long_form and frames % 2:
            raise ValueError(f"long-form windows need an even frame count, got {frames}")
        half = frames // 2
        s = self.schedule
        x = torch.randn(shape, generator=generator, device=device)
        weights = guidance_weights(self.steps, self.guidance_weight, long_form)
        for i, ((t, t_next), weight) in enumerate(zip(self.pairs, weights)):
            times = torch.full((batch,), t, dtype=torch.long, device=device)
            x0 = network.guided_forward(x, cond, times, weight).float().clamp(-1.0, 1.0)  # float: bf16 under autocast
            if t_next < 0:
                x = x0
            else:
                eps = (s.sqrt_recip_alphas_cumprod[t] * x - x0) / s.sqrt_recipm1_alphas_cumprod[t]
                alpha, alpha_next = s.alphas_cumprod[t], s.alphas_cumprod[t_next]
                sigma = ETA * ((1 - alpha / alpha_next) * (1 - alpha_next) / (1 - alpha)).sqrt()
                # >= 0 in exact arithmetic; float32 rounding makes it -6e-8 for a first step from t = 999
                # to a much smaller t (few steps), where EDGE's code turns the whole sample into NaN
                c = (1 - alpha_next - sigma**2).clamp(min=0).sqrt()
                noise = torch.randn(x.shape, generator=generator, device=device)
                x = x0 * alpha_next.sqrt() + c * eps + sigma * noise
                if long_form and t > 0:
                    x[1:, :half] = x[:-1, half:]
            if progress is not None:
                progress(i + 1, self.steps)
        return x
