"""EDGE (Stanford-TML, CVPR 2023), the diffusion dance model, re-implemented for a2a in diffusers'
split: `network` (the DanceDecoder), `sampler` (schedule, DDIM), `pipeline` (the `edge` generator),
plus `windows` (long-form slicing and stitching), `checkpoint` (safe loading) and `normalizer`.
The only a2a package importing torch; its names load on first use, so that `a2a generate --model
edge` on a machine without torch can say so in one line.
"""

from importlib import import_module

_HOMES = {
    "DanceDecoder": "network",
    "EdgeCheckpoint": "checkpoint",
    "load_checkpoint": "checkpoint",
    "save_checkpoint": "checkpoint",
    "save_safetensors": "checkpoint",
    "Normalizer": "normalizer",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)
