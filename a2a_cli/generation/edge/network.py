"""EDGE's DanceDecoder (Tseng et al., CVPR 2023), written anew for a2a (the model of the diffusers split).

The module tree mirrors the official `model/model.py` so that `state_dict()` has exactly the keys
and shapes of EDGE's released `ema_state_dict` (249 keys: 238 parameters and the shared rotary
`freqs` buffer under 11 names) and the official checkpoint loads strictly. The arithmetic is the
official forward pass (pre-norm transformer, rotary embeddings on the 512-d layer input, FiLM
from the diffusion time plus pooled music, x0 prediction), reorganised for speed:

- the music memory (cond encoder, `norm_cond`, every decoder layer's cross-attention keys and
  values for the 150 music tokens) does not depend on x or t, so `encode_condition` computes it
  once per song and every denoising step reuses it; the null (unconditional) memory likewise;
- `guided_forward` runs the conditional and unconditional branches as ONE batch of 2B windows,
  and computes what the two branches share once: the input projection and the first layer's
  self-attention (its input is x itself; the branches part at the first FiLM), and, when every
  window is at the same diffusion step (as in sampling), the null branch's cross-attention memory,
  which all its windows attend to as one batch instead of B copies;
- attention is `F.scaled_dot_product_attention` (fused kernels on CPU and GPU).

All shapes: B windows, N = 150 frames per window, D = 512 latent channels, C conditioning features.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from a2a_cli.generation.edge.windows import WINDOW as WINDOW_FRAMES

__all__ = [
    "Attention", "CPU_WINDOWS_PER_PASS", "ConditionMemory", "CrossMemory", "DROPOUT", "DanceDecoder",
    "DecoderLayerStack", "DenseFiLM", "FF_DIM", "FiLMTransformerDecoderLayer", "LATENT_DIM", "MOTION_FEATURES",
    "N_DECODER_LAYERS", "N_ENCODER_LAYERS", "N_HEADS", "RotaryEmbedding", "SinusoidalPosEmb", "TIME_TOKENS",
    "TransformerEncoderLayer", "feed_forward",
]

# EDGE.py's hyper-parameters of the released model; nothing in a checkpoint records them.
MOTION_FEATURES = 151  # 4 foot contacts + 3 root position + 24 joints x 6D rotation
LATENT_DIM = 512
FF_DIM = 1024
N_HEADS = 8
N_DECODER_LAYERS = 8
N_ENCODER_LAYERS = 2
TIME_TOKENS = 2  # to_time_tokens: 2 extra cross-attention tokens from the diffusion time
DROPOUT = 0.1

# On a CPU, guidance denoises 8 windows at a time (2,400 rows with both branches): the matrix
# operands stay in cache and every activation stays under glibc's largest mmap threshold (32 MiB),
# so freed memory is reused rather than faulted in afresh (a 3-minute song is 71 windows). A GPU
# takes all windows of a song in one batch.
CPU_WINDOWS_PER_PASS = 8


class RotaryEmbedding(nn.Module):
    """Rotary position embedding over the full D-dim layer input, pairs (2i, 2i+1) interleaved.

    One instance is shared by every layer (as in EDGE), so `freqs` appears under 11 state-dict keys.
    """

    def __init__(self, dim: int = LATENT_DIM, theta: float = 10000.0):
        super().__init__()
        self.register_buffer("freqs", 1.0 / theta ** (torch.arange(0, dim, 2).float() / dim))

    def rotate(self, x: Tensor, start: int = 0) -> Tensor:
        """x (..., L, D) as if its rows stood at positions start .. start + L - 1: each pair
        (x[2i], x[2i+1]) turned by the angle position * freqs[i], as one complex multiplication."""
        turn = self._turns(start, x.shape[-2], x.device)
        pairs = torch.view_as_complex(x.float().unflatten(-1, (-1, 2)).contiguous())
        return torch.view_as_real(pairs * turn).flatten(-2).to(x.dtype)

    def _turns(self, start: int, length: int, device: torch.device) -> Tensor:
        """exp(i * position * freqs) (length, D/2) complex64, cached: every layer and step reuses it."""
        # inference-mode tensors cannot enter autograd: tables made under inference_mode are kept apart
        key = (start, length, str(device), self.freqs._version, self.freqs.data_ptr(), torch.is_inference_mode_enabled())
        cache = self.__dict__.setdefault("_turn_cache", {})
        table = cache.get(key)  # one lookup: a miner's threads may share this module
        if table is None:
            if len(cache) >= 16:
                cache.clear()
            positions = torch.arange(start, start + length, device=device, dtype=torch.float32)
            angles = torch.outer(positions, self.freqs.float().to(device))
            table = cache[key] = torch.polar(torch.ones_like(angles), angles)
        return table


class Attention(nn.Module):
    """Multi-head attention with nn.MultiheadAttention's parameter names (packed `in_proj_weight`)."""

    def __init__(self, dim: int = LATENT_DIM, heads: int = N_HEADS):
        super().__init__()
        self.heads = heads
        self.in_proj_weight = nn.Parameter(torch.empty(3 * dim, dim))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * dim))
        self.out_proj = nn.Linear(dim, dim)
        nn.init.xavier_uniform_(self.in_proj_weight)
        nn.init.zeros_(self.out_proj.bias)

    def project(self, x: Tensor, part: int) -> Tensor:
        """x (..., D) through the query (0), key (1) or value (2) projection."""
        d = self.in_proj_weight.shape[1]
        return F.linear(x, self.in_proj_weight[part * d:(part + 1) * d], self.in_proj_bias[part * d:(part + 1) * d])

    def attend(self, q: Tensor, k: Tensor, v: Tensor, dropout: float = 0.0) -> Tensor:
        """Projected q (B, Lq, D), k and v (B, Lk, D) -> the attended, out-projected (B, Lq, D)."""
        return self.out_proj(self._heads_attend(q, k, v, dropout))

    def attend_memory(self, q: Tensor, memory: list[CrossMemory], dropout: float = 0.0) -> Tensor:
        """Projected queries q (B, Lq, D), the windows of each part of `memory` in turn (their counts
        sum to B) -> the attended, out-projected (B, Lq, D). A part whose keys are one window's
        attends for all its windows as one batch of windows * Lq queries: no copies of the keys."""
        parts, start = [], 0
        for part in memory:
            rows = q[start:start + part.windows]
            start += part.windows
            if part.keys.shape[0] == 1 < part.windows:
                parts.append(self._heads_attend(rows.reshape(1, -1, rows.shape[-1]), part.keys, part.values, dropout)
                             .view(rows.shape))
            else:
                parts.append(self._heads_attend(rows, part.keys, part.values, dropout))
        return self.out_proj(parts[0] if len(parts) == 1 else torch.cat(parts))

    def _heads_attend(self, q: Tensor, k: Tensor, v: Tensor, dropout: float) -> Tensor:
        """Scaled dot-product attention over `heads` heads: (B, Lq, D) queries -> (B, Lq, D), heads merged."""
        split = lambda t: t.unflatten(-1, (self.heads, -1)).transpose(1, 2)  # noqa: E731
        out = F.scaled_dot_product_attention(split(q), split(k), split(v), dropout_p=dropout)
        return out.transpose(1, 2).flatten(-2)

    def self_attention(self, x: Tensor, rotary: RotaryEmbedding, dropout: float = 0.0) -> Tensor:
        """EDGE's rotary self-attention: queries and keys from rot(x), values from x."""
        d = self.in_proj_weight.shape[1]
        qk = F.linear(rotary.rotate(x), self.in_proj_weight[:2 * d], self.in_proj_bias[:2 * d])
        q, k = qk.chunk(2, dim=-1)
        return self.attend(q, k, self.project(x, 2), dropout)


class TransformerEncoderLayer(nn.Module):
    """Pre-norm encoder layer with rotary self-attention and GELU (EDGE's cond encoder)."""

    def __init__(self, rotary: RotaryEmbedding):
        super().__init__()
        self.self_attn = Attention()
        self.linear1 = nn.Linear(LATENT_DIM, FF_DIM)
        self.linear2 = nn.Linear(FF_DIM, LATENT_DIM)
        self.norm1 = nn.LayerNorm(LATENT_DIM)
        self.norm2 = nn.LayerNorm(LATENT_DIM)
        self.rotary = rotary

    def forward(self, x: Tensor) -> Tensor:
        p = DROPOUT if self.training else 0.0
        x = x + F.dropout(self.self_attn.self_attention(self.norm1(x), self.rotary, p), p, self.training)
        return x + F.dropout(feed_forward(self, self.norm2(x), p), p, self.training)


def feed_forward(layer: nn.Module, x: Tensor, dropout: float) -> Tensor:
    """linear2(dropout(gelu(linear1(x)))) of an encoder or decoder layer."""
    return layer.linear2(F.dropout(F.gelu(layer.linear1(x)), dropout, layer.training))


class DenseFiLM(nn.Module):
    """(scale, shift) = Linear(Mish(t)); applied as (scale + 1) * y + shift."""

    def __init__(self):
        super().__init__()
        self.block = nn.Sequential(nn.Mish(), nn.Linear(LATENT_DIM, 2 * LATENT_DIM))

    def forward(self, y: Tensor, t: Tensor) -> Tensor:
        """y (B, N, D) modulated by the FiLM vector t (B, D)."""
        scale, shift = self.block(t)[:, None, :].chunk(2, dim=-1)
        return torch.addcmul(shift, scale + 1, y)


class FiLMTransformerDecoderLayer(nn.Module):
    """Pre-norm decoder layer: FiLM-modulated rotary self-attention, cross-attention, feed-forward."""

    def __init__(self, rotary: RotaryEmbedding):
        super().__init__()
        self.self_attn = Attention()
        self.multihead_attn = Attention()
        self.linear1 = nn.Linear(LATENT_DIM, FF_DIM)
        self.linear2 = nn.Linear(FF_DIM, LATENT_DIM)
        self.norm1 = nn.LayerNorm(LATENT_DIM)
        self.norm2 = nn.LayerNorm(LATENT_DIM)
        self.norm3 = nn.LayerNorm(LATENT_DIM)
        self.film1 = DenseFiLM()
        self.film2 = DenseFiLM()
        self.film3 = DenseFiLM()
        self.rotary = rotary

    def memory_keys_values(self, memory: Tensor, start: int = 0) -> tuple[Tensor, Tensor]:
        """Cross-attention keys (of rot(memory)) and values for memory rows (B, L, D) at positions start.."""
        return (self.multihead_attn.project(self.rotary.rotate(memory, start), 1),
                self.multihead_attn.project(memory, 2))

    def forward(self, x: Tensor, memory: list[CrossMemory], t: Tensor, copies: int = 1) -> Tensor:
        """x (B, N, D); memory: the projected cross-attention keys and values, in parts over the
        windows; t (copies * B, D) the FiLM vectors. With copies > 1, x stands for `copies` identical
        stacks of its windows (the branches of guidance): the self-attention, which comes before the
        first FiLM, runs once and the layer returns (copies * B, N, D)."""
        p = DROPOUT if self.training else 0.0
        drop = lambda y: F.dropout(y, p, self.training)  # noqa: E731
        attended = drop(self.self_attn.self_attention(self.norm1(x), self.rotary, p))
        if copies > 1:
            x, attended = x.repeat(copies, 1, 1), attended.repeat(copies, 1, 1)
        x = x + self.film1(attended, t)
        q = self.multihead_attn.project(self.rotary.rotate(self.norm2(x)), 0)
        x = x + self.film2(drop(self.multihead_attn.attend_memory(q, memory, p)), t)
        return x + self.film3(drop(feed_forward(self, self.norm3(x), p)), t)


class DecoderLayerStack(nn.Module):
    def __init__(self, layers: list[FiLMTransformerDecoderLayer]):
        super().__init__()
        self.stack = nn.ModuleList(layers)


class SinusoidalPosEmb(nn.Module):
    """Diffusion-time embedding: cat(sin, cos) of t * exp(-ln(10000) * i / (half - 1))."""

    def __init__(self, dim: int = LATENT_DIM):
        super().__init__()
        self.dim = dim

    def forward(self, t: Tensor) -> Tensor:
        half = self.dim // 2
        freqs = torch.exp(torch.arange(half, device=t.device) * -(math.log(10000) / (half - 1)))
        angles = t[:, None] * freqs[None, :]
        return torch.cat((angles.sin(), angles.cos()), dim=-1)


@dataclass(frozen=True)
class CrossMemory:
    """One part of a decoder layer's cross-attention memory: the keys and values (G, L, D) that the
    next `windows` query windows attend to, G = windows (one memory each) or G = 1 (one for all)."""

    keys: Tensor
    values: Tensor
    windows: int


@dataclass(frozen=True)
class ConditionMemory:
    """What the decoder needs from the music of B windows; independent of x and t, so one per song.

    Row b < B holds window b's music, row B the learned null condition (the unconditional branch).
    `hidden` (B + 1, D): the pooled music added to the FiLM vector. `keys`, `values`: per decoder
    layer, the cross-attention keys and values (B + 1, 150, D) of the music tokens.
    """

    hidden: Tensor
    keys: tuple[Tensor, ...]
    values: tuple[Tensor, ...]

    @property
    def batch(self) -> int:
        """B, the number of windows (the null row not counted)."""
        return int(self.hidden.shape[0]) - 1

    def rows(self, index: Tensor, keep: Tensor) -> Tensor:
        """Memory rows for windows `index` (B',): their music where `keep` (B',) bool is true, the
        null condition where it is false."""
        return torch.where(keep, index, self.batch)


def _with_time_tokens(music: Tensor, time: Tensor) -> Tensor:
    """Cross-attention keys or values: music rows (G, 150, D) followed by the time tokens (G', 2, D),
    where a G or G' of 1 stands for all (G, G' in {1, n})."""
    rows = max(music.shape[0], time.shape[0])
    return torch.cat((music.expand(rows, -1, -1), time.expand(rows, -1, -1)), dim=1)


class DanceDecoder(nn.Module):
    """EDGE's denoiser: noisy motion x (B, 150, 151), music cond (B, 150, C), diffusion step t (B,)
    -> the predicted clean motion x0 (B, 150, 151), in the normaliser's [-1, 1] space.

    `cond_features` is 35 (a2a's / EDGE's baseline audio features) or 4800 (Jukebox layer 66).
    """

    def __init__(self, cond_features: int = 35):
        super().__init__()
        self.cond_features = cond_features
        self.null_cond_embed = nn.Parameter(torch.randn(1, WINDOW_FRAMES, LATENT_DIM))
        self.null_cond_hidden = nn.Parameter(torch.randn(1, LATENT_DIM))
        self.rotary = RotaryEmbedding()
        self.time_mlp = nn.Sequential(SinusoidalPosEmb(), nn.Linear(LATENT_DIM, 4 * LATENT_DIM), nn.Mish())
        self.to_time_cond = nn.Sequential(nn.Linear(4 * LATENT_DIM, LATENT_DIM))
        self.to_time_tokens = nn.Sequential(nn.Linear(4 * LATENT_DIM, TIME_TOKENS * LATENT_DIM))
        self.norm_cond = nn.LayerNorm(LATENT_DIM)
        self.input_projection = nn.Linear(MOTION_FEATURES, LATENT_DIM)
        self.cond_encoder = nn.Sequential(*(TransformerEncoderLayer(self.rotary) for _ in range(N_ENCODER_LAYERS)))
        self.cond_projection = nn.Linear(cond_features, LATENT_DIM)
        self.non_attn_cond_projection = nn.Sequential(
            nn.LayerNorm(LATENT_DIM), nn.Linear(LATENT_DIM, LATENT_DIM), nn.SiLU(), nn.Linear(LATENT_DIM, LATENT_DIM))
        self.seqTransDecoder = DecoderLayerStack([FiLMTransformerDecoderLayer(self.rotary) for _ in range(N_DECODER_LAYERS)])
        self.final_layer = nn.Linear(LATENT_DIM, MOTION_FEATURES)

    @property
    def layers(self) -> nn.ModuleList:
        return self.seqTransDecoder.stack

    def encode_condition(self, cond: Tensor) -> ConditionMemory:
        """The music memory of cond (B, 150, C): computed once, reused by every denoising step."""
        if cond.shape[-2:] != (WINDOW_FRAMES, self.cond_features):
            raise ValueError(f"cond must be (B, {WINDOW_FRAMES}, {self.cond_features}), got {tuple(cond.shape)}")
        tokens = self.cond_encoder(self.cond_projection(cond))
        tokens = torch.cat((tokens, self.null_cond_embed.to(tokens.dtype)))
        pooled = self.non_attn_cond_projection(tokens[:-1].mean(dim=-2))
        hidden = torch.cat((pooled, self.null_cond_hidden.to(tokens.dtype)))
        normed = self.norm_cond(tokens)
        kv = [layer.memory_keys_values(normed) for layer in self.layers]
        return ConditionMemory(hidden, tuple(k for k, _ in kv), tuple(v for _, v in kv))

    def denoise(self, x: Tensor, times: Tensor, memory: ConditionMemory, index: Tensor, keep: Tensor) -> Tensor:
        """x0 predictions for x (B', 150, 151) at steps times (B',), attending to rows `index` (B',) of
        `memory`, with the music where `keep` (B',) bool is true and the null condition elsewhere."""
        rows = memory.rows(index, keep)
        t_hidden = self.time_mlp(times)
        film = self.to_time_cond(t_hidden) + memory.hidden[rows]
        time_tokens = self._time_tokens(t_hidden)

        def cross(layer: FiLMTransformerDecoderLayer, keys: Tensor, values: Tensor) -> list[CrossMemory]:
            tk, tv = layer.memory_keys_values(time_tokens, start=WINDOW_FRAMES)
            return [CrossMemory(_with_time_tokens(keys[rows], tk), _with_time_tokens(values[rows], tv), len(rows))]

        return self._decode(self.input_projection(x), film, memory, cross)

    def _time_tokens(self, t_hidden: Tensor) -> Tensor:
        """The 2 cross-attention tokens (B, 2, D) of the diffusion steps' hidden vectors t_hidden (B, 4D)."""
        return self.norm_cond(self.to_time_tokens(t_hidden).unflatten(-1, (TIME_TOKENS, LATENT_DIM)))

    def _decode(self, h: Tensor, film: Tensor, memory: ConditionMemory,
                cross: Callable[[FiLMTransformerDecoderLayer, Tensor, Tensor], list[CrossMemory]], copies: int = 1) -> Tensor:
        """The decoder stack over the projected motion h (B, 150, D), which stands for `copies`
        identical stacks (see FiLMTransformerDecoderLayer.forward); film (copies * B, D); `cross`
        makes a layer's cross-attention memory from its music keys and values (B + 1, 150, D)."""
        for layer, keys, values in zip(self.layers, memory.keys, memory.values):
            h = layer(h, cross(layer, keys, values), film, copies)
            copies = 1
        return self.final_layer(h)

    def _guided_branches(self, x: Tensor, times: Tensor, memory: ConditionMemory, start: int) -> Tensor:
        """Both branches of guidance for windows start .. start + B - 1 of `memory`: x (B, 150, 151),
        times (B,) -> (2B, 150, 151), the music-conditioned predictions first, then the null ones."""
        batch, null = x.shape[0], memory.batch
        music = slice(start, start + batch)
        t_hidden = self.time_mlp(times)
        t_film = self.to_time_cond(t_hidden)
        film = torch.cat((t_film + memory.hidden[music], t_film + memory.hidden[null:]))
        one_step = bool((times == times[0]).all())  # sampling: every window at the same step
        time_tokens = self._time_tokens(t_hidden[:1] if one_step else t_hidden)

        def cross(layer: FiLMTransformerDecoderLayer, keys: Tensor, values: Tensor) -> list[CrossMemory]:
            tk, tv = layer.memory_keys_values(time_tokens, start=WINDOW_FRAMES)
            return [CrossMemory(_with_time_tokens(keys[music], tk), _with_time_tokens(values[music], tv), batch),
                    CrossMemory(_with_time_tokens(keys[null:], tk), _with_time_tokens(values[null:], tv), batch)]

        return self._decode(self.input_projection(x), film, memory, cross, copies=2)

    def forward(self, x: Tensor, cond: Tensor | ConditionMemory, times: Tensor, cond_drop_prob: float = 0.0) -> Tensor:
        """The official forward: x (B, 150, 151), cond (B, 150, C) or its `encode_condition`, times (B,)
        long. Each window keeps its music with probability 1 - cond_drop_prob (classifier-free
        guidance training); 0 keeps all, 1 drops all."""
        memory = cond if isinstance(cond, ConditionMemory) else self.encode_condition(cond)
        batch = x.shape[0]
        if cond_drop_prob <= 0:
            keep = torch.ones(batch, dtype=torch.bool, device=x.device)
        elif cond_drop_prob >= 1:
            keep = torch.zeros(batch, dtype=torch.bool, device=x.device)
        else:
            keep = torch.rand(batch, device=x.device) < 1 - cond_drop_prob
        return self.denoise(x, times, memory, torch.arange(batch, device=x.device), keep)

    def guided_forward(self, x: Tensor, cond: Tensor | ConditionMemory, times: Tensor, guidance_weight: float) -> Tensor:
        """Classifier-free guidance, unc + (cond - unc) * w, for x (B, 150, 151), cond (B, 150, C) or
        its memory, times (B,): both branches in one batched pass (a weight of 0 or 1 needs only one
        branch, and runs only that one), at most `windows_per_pass` windows at a time."""
        memory = cond if isinstance(cond, ConditionMemory) else self.encode_condition(cond)
        batch = x.shape[0]
        if memory.batch != batch:
            raise ValueError(f"guidance needs the memory of the same {batch} windows, got {memory.batch}")
        per_pass = CPU_WINDOWS_PER_PASS if x.device.type == "cpu" else batch
        return torch.cat([self._guided_pass(x[a:a + per_pass], times[a:a + per_pass], memory, a, guidance_weight)
                          for a in range(0, batch, per_pass)])

    def _guided_pass(self, x: Tensor, times: Tensor, memory: ConditionMemory, start: int, weight: float) -> Tensor:
        """Guidance for the windows start .. start + B - 1 of `memory`: x (B, 150, 151), times (B,)."""
        batch = x.shape[0]
        rows = torch.arange(start, start + batch, device=x.device)
        if weight in (0, 1):
            return self.denoise(x, times, memory, rows, torch.full((batch,), weight == 1, device=x.device))
        both = self._guided_branches(x, times, memory, start)
        conditioned, unconditioned = both[:batch], both[batch:]
        return unconditioned + (conditioned - unconditioned) * weight
