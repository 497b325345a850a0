"""DiffuseStyleGesture's diffusion (the official `main/diffusion`, guided-diffusion's GaussianDiffusion as
`utils/model_util.create_gaussian_diffusion` sets it up): 1,000 steps, cosine schedule, the network
predicts x0 (not clipped: sample.py passes clip_denoised=False), fixed small posterior variance.

`Sampler(1000, "ddpm")` is the released sampler, `p_sample_loop` over all 1,000 steps. Fewer steps
respace the schedule as the official `space_timesteps(1000, [steps])` does (evenly spread steps,
betas recomputed from the kept cumulative alphas); on it `"ddpm"` is the official ancestral
`p_sample_loop` and `"ddim"` the official `ddim_sample_loop` with eta = 0 (deterministic after the
first draw). Noise is drawn as the official code draws it, one normal tensor to start and one at
every step, the last and DDIM's too though they are multiplied by zero, and the way the official
tensors make torch draw it (`randn_like` follows its input's strides, and torch fills a contiguous
tensor and a strided one by different algorithms): the starting noise and the first step's fill a
contiguous (B, 1141, 88) tensor; every later step's fills, element by element, a (B, 1141, 88) view
of frame-major memory, since the network's output, and so every sample after the first step, is
laid out frame by frame. So the same seed gives the official numbers on a CPU, window after window.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from a2a_cli.generation.edge.sampler import cosine_betas  # the same cosine schedule (Nichol & Dhariwal)

__all__ = ["DEFAULT_STEPS", "METHODS", "N_TIMESTEPS", "Sampler", "Schedule", "spaced_timesteps"]

N_TIMESTEPS = 1000
DEFAULT_STEPS = N_TIMESTEPS  # the released sampler runs every step
METHODS = ("ddpm", "ddim")


def spaced_timesteps(steps: int, n_timesteps: int = N_TIMESTEPS) -> list[int]:
    """The kept timesteps, ascending: the official space_timesteps(n_timesteps, [steps]), about
    round(i * (n - 1) / (steps - 1)) for i < steps, summed up stride by stride as the official does."""
    if not 1 <= steps <= n_timesteps:
        raise ValueError(f"steps must be 1..{n_timesteps}, got {steps}")
    stride = (n_timesteps - 1) / (steps - 1) if steps > 1 else 1
    kept, position = set(), 0.0
    for _ in range(steps):
        kept.add(round(position))
        position += stride
    return sorted(kept)


@dataclass(frozen=True)
class Schedule:
    """The float64 tables of a (respaced) schedule, indexed by step 0 .. steps-1; `timesteps` maps a
    step to the network's diffusion time (0..999)."""

    timesteps: np.ndarray
    alphas_cumprod: np.ndarray
    alphas_cumprod_prev: np.ndarray
    posterior_log_variance: np.ndarray
    posterior_mean_x0: np.ndarray
    posterior_mean_xt: np.ndarray

    @property
    def sqrt_recip_alphas_cumprod(self) -> np.ndarray:
        return np.sqrt(1.0 / self.alphas_cumprod)

    @property
    def sqrt_recipm1_alphas_cumprod(self) -> np.ndarray:
        return np.sqrt(1.0 / self.alphas_cumprod - 1)

    @classmethod
    def respaced(cls, steps: int) -> "Schedule":
        """The cosine schedule kept at `spaced_timesteps(steps)` (steps = 1000: the schedule itself)."""
        full = np.cumprod(1.0 - cosine_betas(N_TIMESTEPS))
        kept = np.array(spaced_timesteps(steps))
        cumprod = full[kept]
        betas = 1.0 - cumprod / np.append(1.0, cumprod[:-1])
        prev = np.append(1.0, cumprod[:-1])
        variance = betas * (1.0 - prev) / (1.0 - cumprod)
        log_variance = np.log(np.append(variance[1], variance[1:])) if steps > 1 else np.log(np.maximum(variance, 1e-20))
        return cls(kept, cumprod, prev, log_variance, betas * np.sqrt(prev) / (1.0 - cumprod),
                   (1.0 - prev) * np.sqrt(1.0 - betas) / (1.0 - cumprod))


class Sampler:
    """Denoises B windows from Gaussian noise in `steps` steps by `method` ("ddpm" or "ddim")."""

    def __init__(self, steps: int = DEFAULT_STEPS, method: str = "ddpm"):
        if method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
        self.schedule = Schedule.respaced(steps)
        self.method = method

    @property
    def steps(self) -> int:
        return len(self.schedule.timesteps)

    @torch.no_grad()
    def sample(self, denoise: Callable[[Tensor, Tensor], Tensor], shape: tuple[int, ...], generator: torch.Generator | None = None,
               device: str | torch.device = "cpu", progress: Callable[[int, int], None] | None = None) -> Tensor:
        """x0 of `shape` (B, frames, features): `denoise(x, times)` predicts x0 for x at diffusion times
        (B,) long; `generator` draws the noise (seeded: reproducible); `progress(done, total)` after every step."""
        s = self.schedule
        batch, frames, features = shape
        # the official code takes each table value to float32 before using it; here every table is
        # moved to the device once, not a value at every step
        f32 = lambda table: torch.tensor(table, dtype=torch.float32, device=device)  # noqa: E731
        mean_x0, mean_xt, log_variance = f32(s.posterior_mean_x0), f32(s.posterior_mean_xt), f32(s.posterior_log_variance)
        alpha_prev, recip, recipm1 = f32(s.alphas_cumprod_prev), f32(s.sqrt_recip_alphas_cumprod), f32(s.sqrt_recipm1_alphas_cumprod)

        def draw(contiguous: bool) -> Tensor:
            if contiguous:
                return torch.randn((batch, features, frames), generator=generator, device=device).transpose(1, 2)
            return torch.empty(shape, device=device).transpose(1, 2).normal_(generator=generator).transpose(1, 2)

        on_cpu = torch.device(device).type == "cpu"
        with ThreadPoolExecutor(1) if on_cpu else nullcontext() as pool:
            # on a CPU each step's noise (drawn element by element: slow) is drawn on another thread
            # while the network runs; the draws keep their order, so the numbers do not change
            ahead = (lambda contiguous: pool.submit(draw, contiguous)) if on_cpu else (lambda contiguous: _Ready(draw(contiguous)))
            x = draw(True)
            upcoming = ahead(True)
            for done, i in enumerate(reversed(range(self.steps)), start=1):
                times = torch.full((batch,), int(s.timesteps[i]), dtype=torch.long, device=device)
                x0 = denoise(x, times).float()
                noise = upcoming.result()
                if done < self.steps:
                    upcoming = ahead(False)
                if self.method == "ddpm":
                    x = mean_x0[i] * x0 + mean_xt[i] * x
                    if i > 0:
                        x = x + torch.exp(0.5 * log_variance[i]) * noise
                else:
                    eps = (recip[i] * x - x0) / recipm1[i]
                    x = x0 * torch.sqrt(alpha_prev[i]) + torch.sqrt(1 - alpha_prev[i]) * eps
                if progress is not None:
                    progress(done, self.steps)
        return x


class _Ready:
    """A value already there, with a Future's `result()`."""

    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value
