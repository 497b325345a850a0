"""EDGE (Stanford-TML, CVPR 2023), the diffusion dance model, re-implemented for a2a in diffusers'
split: `network` (the DanceDecoder), `sampler` (schedule, DDIM, long-form), `pipeline` (the `edge`
generator), plus `checkpoint` (safe loading) and `normalizer`. The only a2a package importing torch.
"""

from a2a_cli.generation.edge.checkpoint import EdgeCheckpoint, load_checkpoint, save_checkpoint, save_safetensors
from a2a_cli.generation.edge.network import DanceDecoder
from a2a_cli.generation.edge.normalizer import Normalizer

__all__ = ["DanceDecoder", "EdgeCheckpoint", "Normalizer", "load_checkpoint", "save_checkpoint", "save_safetensors"]
