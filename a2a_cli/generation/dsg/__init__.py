"""DiffuseStyleGesture (Yang et al., IJCAI 2023), the co-speech gesture diffusion model of the ZEGGS
data, re-implemented for a2a: `network` (the denoiser), `sampler` (the official 1,000-step sampler and
DDIM), `windows` (88-frame windows handing 8 seed frames on), `checkpoint` (safe loading) and
`pipeline` (the `dsg` generator). Torch is imported on first use of a name, so that naming the
model on a machine without torch can say so in one line.
"""

from importlib import import_module

_HOMES = {
    "GestureDenoiser": "network",
    "Sampler": "sampler",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)
