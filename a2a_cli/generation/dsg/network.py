"""DiffuseStyleGesture's denoiser (Yang et al., IJCAI 2023; the ZEGGS model), written anew for a2a.

The module tree mirrors the official `main/model/mdm.py` MDM as `main/mydiffusion_zeggs/sample.py`
builds it (cond_mode "cross_local_attention3_style1", WavLM audio, 8 seed frames), so `state_dict()`
has exactly the keys and shapes of the released `model000450000.pt` (115 keys: 112 parameters and
three buffers, the shared timestep table under two names) and that file loads strictly.

The arithmetic is the official forward pass for one 88-frame window:

1. the window's condition: style one-hot (6) -> 64, the 8 seed frames (8 x 1141) -> 192, together
   256 ("emb_1"); WavLM features (88 x 1024) -> 64 per frame;
2. per step: emb = emb_1 + MLP(sinusoid(t)); every frame's input is a linear map of
   [emb, Linear(x), audio] (576 -> 256);
3. local causal self-attention over the frames in 8 heads of 32 channels, rotary positions on
   queries, keys and values alike, each frame seeing its own 11-frame block and the block before, up to itself;
4. emb as a first token, rotary positions again, an 8-layer post-norm Transformer encoder (4 heads,
   FF 1024, GELU); the first token dropped, a linear map back to 1141 features: the predicted clean x0.

What does not depend on the diffusion step (1, and the audio's share of 2) is computed once per
window by `condition` and reused by all 1,000 steps, and so is the one map that the two linear maps
of the motion in 2 fold into; rotary tables and the attention mask are computed once;
the local attention is one masked `scaled_dot_product_attention` call; the encoder runs batch-first
(torch's fused inference path).

Shapes: B windows, N = 88 frames, F = 1141 motion features, D = 256 latent channels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from a2a_cli.generation.dsg.wavlm import WAVLM_FEATURES
from a2a_cli.generation.dsg.windows import SEED_FRAMES, WINDOW
from a2a_cli.motion.zeggs import ZEGGS_FEATURES

__all__ = [
    "AUDIO_DIM", "AUDIO_FEATURES", "DROPOUT", "FF_DIM", "GestureDenoiser", "LATENT_DIM", "LOCAL_HEADS", "LOCAL_WINDOW",
    "MOTION_FEATURES", "N_HEADS", "N_LAYERS", "N_STYLES", "STYLE_DIM", "TIMESTEP_POSITIONS", "WindowCondition",
    "local_attention_mask", "rotate",
]

# The released model's hyper-parameters (sample.py's create_model_and_diffusion, mdm.py's defaults).
MOTION_FEATURES = ZEGGS_FEATURES  # 1141: root (13), 75 joints' positions, 6-D rotations, velocities; gaze
LATENT_DIM = 256
FF_DIM = 1024
N_HEADS = 4  # the Transformer encoder's
N_LAYERS = 8
LOCAL_HEADS = 8  # the local attention's (mdm.py's num_head): 32 channels a head
LOCAL_WINDOW = 11  # frames per local-attention block; a frame sees its block and the one before
AUDIO_FEATURES = WAVLM_FEATURES  # 1024, WavLM-Large's last layer
AUDIO_DIM = 64
N_STYLES = 6
STYLE_DIM = 64
TIMESTEP_POSITIONS = 5000  # rows of the sinusoid table the diffusion step indexes
DROPOUT = 0.1


def _sinusoid_table(positions: int = TIMESTEP_POSITIONS, dim: int = LATENT_DIM) -> Tensor:
    """(positions, 1, dim): sin at even channels, cos at odd, frequencies 10000^(-2i/dim), float32 as the official."""
    position = torch.arange(positions, dtype=torch.float32)[:, None]
    freqs = torch.exp(torch.arange(0, dim, 2).float() * (-math.log(10000.0) / dim))
    table = torch.zeros(positions, dim)
    table[:, 0::2] = torch.sin(position * freqs)
    table[:, 1::2] = torch.cos(position * freqs)
    return table[:, None, :]


def rotate(x: Tensor, inv_freq: Tensor) -> Tensor:
    """Rotary positions on x (..., L, C), rows at positions 0 .. L-1: the halves (x1, x2) of the last
    dim become x * cos + (-x2, x1) * sin, angles position * inv_freq repeated over both halves."""
    cos, sin = _rotary_tables(x.shape[-2], inv_freq)
    x1, x2 = x.chunk(2, dim=-1)
    return x * cos + torch.cat((-x2, x1), dim=-1) * sin


# Small tables every step of every window reuses, by (length, device, the frequencies' version):
# a miner's threads may share them (one dict lookup each), and a table made under inference_mode
# is kept apart from one autograd may see.
_TABLES: dict[tuple, tuple[Tensor, ...]] = {}


def _cached(key: tuple, make) -> tuple[Tensor, ...]:
    key = (*key, torch.is_inference_mode_enabled())
    table = _TABLES.get(key)
    if table is None:
        if len(_TABLES) >= 64:
            _TABLES.clear()
        table = _TABLES[key] = make()
    return table


def _rotary_tables(length: int, inv_freq: Tensor) -> tuple[Tensor, Tensor]:
    """(cos, sin) (length, 2 * len(inv_freq)) of the angles position * inv_freq, repeated over both halves."""
    def make():
        angles = torch.arange(length, device=inv_freq.device, dtype=inv_freq.dtype)[:, None] * inv_freq
        angles = torch.cat((angles, angles), dim=-1)
        return angles.cos(), angles.sin()

    return _cached(("rotary", length, str(inv_freq.device), inv_freq.data_ptr(), inv_freq._version), make)


def local_attention_mask(frames: int, device: torch.device | str = "cpu") -> Tensor:
    """(frames, frames) bool, True where query i may attend key j: j <= i, and j in i's block of
    LOCAL_WINDOW frames or the block before (the official LocalAttention, causal, look_backward 1)."""
    def make():
        i = torch.arange(frames, device=device)[:, None]
        j = torch.arange(frames, device=device)[None, :]
        return ((j <= i) & (j // LOCAL_WINDOW >= i // LOCAL_WINDOW - 1),)

    return _cached(("mask", frames, str(device)), make)[0]


class _Linear(nn.Module):
    """A holder giving one Linear the official key (`<holder>.<name>.weight`)."""

    def __init__(self, name: str, features_in: int, features_out: int):
        super().__init__()
        self.add_module(name, nn.Linear(features_in, features_out))


class _SinusoidTable(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("pe", _sinusoid_table())


class _TimestepEmbedder(nn.Module):
    """MLP(sinusoid(t)): the table is shared with the network (its second state-dict name)."""

    def __init__(self, table: _SinusoidTable):
        super().__init__()
        self.sequence_pos_encoder = table
        self.time_embed = nn.Sequential(nn.Linear(LATENT_DIM, LATENT_DIM), nn.SiLU(), nn.Linear(LATENT_DIM, LATENT_DIM))

    def forward(self, times: Tensor) -> Tensor:
        """times (B,) long -> (B, D)."""
        return self.time_embed(self.sequence_pos_encoder.pe[times, 0])


class _RotaryFrequencies(nn.Module):
    def __init__(self, dim: int = LATENT_DIM // LOCAL_HEADS):
        super().__init__()
        self.register_buffer("inv_freq", 1.0 / (10000 ** (torch.arange(0, dim, 2).float() / dim)))


@dataclass(frozen=True)
class WindowCondition:
    """What a window's denoising steps share: `style_seed` (B, D), the style and seed-frame embedding;
    `frame_bias` (B, N, D), the audio's share of every frame's input plus the input layers' biases;
    `motion_weight` (D, F), the two linear maps of the motion into a frame's input, folded into one."""

    style_seed: Tensor
    frame_bias: Tensor
    motion_weight: Tensor


class GestureDenoiser(nn.Module):
    """DiffuseStyleGesture's network: noisy motion x (B, 88, 1141), diffusion step t (B,), and the
    window's condition (style, seed frames, WavLM features) -> the predicted clean motion (B, 88, 1141),
    in the mean/std-normalised space of the ZEGGS data."""

    def __init__(self):
        super().__init__()
        # registration order = the official state-dict order
        self.WavEncoder = _Linear("audio_feature_map", AUDIO_FEATURES, AUDIO_DIM)
        self.sequence_pos_encoder = _SinusoidTable()
        self.input_process = _Linear("poseEmbedding", MOTION_FEATURES, LATENT_DIM)
        layer = nn.TransformerEncoderLayer(LATENT_DIM, N_HEADS, FF_DIM, DROPOUT, activation="gelu", batch_first=True)
        self.seqTransEncoder = nn.TransformerEncoder(layer, N_LAYERS, enable_nested_tensor=False)
        self.embed_timestep = _TimestepEmbedder(self.sequence_pos_encoder)
        self.embed_style = nn.Linear(N_STYLES, STYLE_DIM)
        self.embed_text = nn.Linear(MOTION_FEATURES * SEED_FRAMES, LATENT_DIM - STYLE_DIM)  # the seed frames
        self.output_process = _Linear("poseFinal", LATENT_DIM, MOTION_FEATURES)
        self.rel_pos = _RotaryFrequencies()
        self.input_process2 = nn.Linear(2 * LATENT_DIM + AUDIO_DIM, LATENT_DIM)  # [emb, x, audio] -> D

    def condition(self, style: Tensor, seed: Tensor, audio: Tensor) -> WindowCondition:
        """The step-independent part of B windows: style (B, 6) one-hot, seed (B, 8, 1141) the frames
        handed over from the window before (normalised; zeros for the first), audio (B, 88, 1024) WavLM."""
        if seed.shape[1:] != (SEED_FRAMES, MOTION_FEATURES) or audio.shape[1:] != (WINDOW, AUDIO_FEATURES):
            raise ValueError(f"seed must be (B, {SEED_FRAMES}, {MOTION_FEATURES}) and audio (B, {WINDOW}, {AUDIO_FEATURES}), "
                             f"got {tuple(seed.shape)} and {tuple(audio.shape)}")
        seed_flat = seed.transpose(1, 2).reshape(seed.shape[0], -1)  # the official (F, frames) order
        style_seed = torch.cat((self.embed_style(style), self.embed_text(seed_flat)), dim=-1)
        weight = self.input_process2.weight
        motion_part, audio_part = weight[:, LATENT_DIM:2 * LATENT_DIM], weight[:, 2 * LATENT_DIM:]
        pose = self.input_process.poseEmbedding
        # motion_part(pose(x)) = (motion_part W) x + motion_part b
        frame_bias = F.linear(self.WavEncoder.audio_feature_map(audio), audio_part, self.input_process2.bias + motion_part @ pose.bias)
        return WindowCondition(style_seed, frame_bias, motion_part @ pose.weight)

    def denoise(self, x: Tensor, times: Tensor, cond: WindowCondition) -> Tensor:
        """x0 for x (B, 88, 1141) at steps times (B,) long, under `cond` (see `condition`)."""
        emb = cond.style_seed + self.embed_timestep(times)  # (B, D)
        h = F.linear(x, cond.motion_weight) + cond.frame_bias + F.linear(emb, self.input_process2.weight[:, :LATENT_DIM])[:, None]
        h = self._local_attention(h)
        seq = torch.cat((emb[:, None], h), dim=1)
        seq = self._rotate_heads(seq)
        out = self.seqTransEncoder(seq)[:, 1:]
        return self.output_process.poseFinal(out)

    def forward(self, x: Tensor, times: Tensor, style: Tensor, seed: Tensor, audio: Tensor) -> Tensor:
        """The official forward: x (B, 88, 1141), times (B,) long, style (B, 6), seed (B, 8, 1141),
        audio (B, 88, 1024) -> x0 (B, 88, 1141)."""
        return self.denoise(x, times, self.condition(style, seed, audio))

    def _heads(self, h: Tensor) -> Tensor:
        """(B, L, D) -> (B, LOCAL_HEADS, L, D / LOCAL_HEADS)."""
        return h.unflatten(-1, (LOCAL_HEADS, -1)).transpose(1, 2)

    def _rotate_heads(self, h: Tensor) -> Tensor:
        """Rotary positions on each local head of h (B, L, D)."""
        return rotate(self._heads(h), self.rel_pos.inv_freq).transpose(1, 2).flatten(-2)

    def _local_attention(self, h: Tensor) -> Tensor:
        """(B, N, D) -> (B, N, D): rotary positions, then causal block-local attention with q = k = v."""
        heads = rotate(self._heads(h), self.rel_pos.inv_freq)
        mask = local_attention_mask(h.shape[1], h.device)
        out = F.scaled_dot_product_attention(heads, heads, heads, attn_mask=mask,
                                             dropout_p=DROPOUT if self.training else 0.0)
        return out.transpose(1, 2).flatten(-2)
