"""Benchmark DiffuseStyleGesture (`dsg`): one denoising step, and 60 s of speech.

1. One denoising step of one 88-frame window (what the released sampler runs 1,000 times a window):
   a2a's network (the window's condition and the folded input map computed once per window, one
   fused attention call for the local attention, cached rotary tables, the batch-first encoder's
   fused inference path) against a straightforward port of the official forward (mdm.py's
   `cross_local_attention3` branch as written: sequence-first tensors, the audio and style embedded
   at every step, LocalAttention's look-around windows with einsum, rotary tables recomputed at every
   call, the sequence-first encoder), the same weights, the same numbers checked, in the same run.
   The cost of drawing one step's noise the official way (element by element: see sampler.py) is
   shown beside it. Then a window's 50 sampling steps: the official p_sample_loop around the port
   (tables fetched from numpy at every use, the noise drawn after the network) against a2a's sampler
   (the noise drawn on another thread meanwhile), the same numbers.
2. 60 s of speech (16 windows, one after the other: each window's seed is the one before's output)
   at DDIM 50 steps and at the released 1,000 steps, random weights and random WavLM features (speed
   does not depend on them; WavLM itself is not timed). The 1,000-step run is timed over
   --windows-1000 windows and scaled to 16 (--windows-1000 16 runs it whole).

3. With --check-1000 (CPU, a few minutes): the released 1,000-step sampler on one window against the
   official code's numbers (tests/data/dsg-official-reference.npz, `ddpm1000_*`), the same seed.

Run: .venv/bin/python benchmarks/bench_dsg.py [--device cpu|cuda] [--pairs 20] [--windows-1000 1] [--check-1000]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from bench_edge import best_of_on

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # support/ (shared with the tests)

from a2a_cli.frame_rate import FPS
from a2a_cli.generation.dsg.network import GestureDenoiser
from a2a_cli.generation.dsg.pipeline import gesture_windows, style_onehot
from a2a_cli.generation.dsg.sampler import Sampler
from a2a_cli.generation.dsg.windows import MOTION_FPS, window_count

SPEECH_S = 60.0


# --- a straightforward port of the official MDM.forward (main/model/mdm.py, cross_local_attention3_style1) ---

def _lin(s: dict, prefix: str, x: torch.Tensor) -> torch.Tensor:
    return F.linear(x, s[f"{prefix}.weight"], s[f"{prefix}.bias"])


def _rotary(x: torch.Tensor, inv_freq: torch.Tensor) -> torch.Tensor:
    """local_attention/rotary.py: SinusoidalEmbeddings then apply_rotary_pos_emb, tables made at every call."""
    t = torch.arange(x.shape[-2], device=x.device).type_as(inv_freq)
    freqs = torch.einsum("i,j->ij", t, inv_freq)
    freqs = torch.cat((freqs, freqs), dim=-1)
    x1, x2 = x.unflatten(-1, (2, -1)).unbind(dim=-2)
    return x * freqs.cos() + torch.cat((-x2, x1), dim=-1) * freqs.sin()


def _look_around(x: torch.Tensor, pad_value) -> torch.Tensor:
    """LocalAttention's look_around, backward 1, forward 0: each window with the one before."""
    dims = (x.dim() - 2) * (0, 0)
    padded = F.pad(x, (*dims, 1, 0), value=pad_value)
    return torch.cat([padded[:, i:i + x.shape[1]] for i in range(2)], dim=2)


def _local_attention(q: torch.Tensor, window: int = 11) -> torch.Tensor:
    """LocalAttention.forward (causal, look_backward 1, mask_local all true) with q = k = v, (b, n, d)."""
    b, n, d = q.shape
    windows = n // window
    positions = torch.arange(n, device=q.device).view(1, windows, window)
    bq = q.view(b, windows, window, d)
    bk, bv = _look_around(bq, -1), _look_around(bq, -1)
    bq_t, bq_k = positions[..., None], _look_around(positions, -1)[..., None, :]
    sim = torch.einsum("bhie,bhje->bhij", bq, bk) * d ** -0.5
    neg = -torch.finfo(sim.dtype).max
    sim = sim.masked_fill(bq_t < bq_k, neg)
    mask = _look_around(torch.ones(1, windows, window, dtype=torch.bool, device=q.device), False)[..., None, :]
    sim = sim.masked_fill(~mask, neg)
    out = torch.einsum("bhij,bhje->bhie", sim.softmax(dim=-1), bv)
    return out.reshape(b, n, d)


def official_port(s: dict, encoder: torch.nn.TransformerEncoder, x, t, style, seed, audio, heads: int = 8):
    """x (B, 1141, 1, 88), t (B,), style (B, 6), seed (B, 1141, 1, 8), audio (B, 88, 1024) -> x0 (B, 1141, 1, 88)."""
    bs, njoints, nfeats, nframes = x.shape
    emb_t = _lin(s, "embed_timestep.time_embed.2", F.silu(_lin(s, "embed_timestep.time_embed.0", s["sequence_pos_encoder.pe"][t])))
    emb_t = emb_t.permute(1, 0, 2)
    emb_1 = torch.cat((_lin(s, "embed_style", style), _lin(s, "embed_text", seed.squeeze(2).reshape(bs, -1))), dim=1)
    enc_text = _lin(s, "WavEncoder.audio_feature_map", audio).permute(1, 0, 2)
    x_ = _lin(s, "input_process.poseEmbedding", x.permute(3, 0, 1, 2).reshape(nframes, bs, njoints * nfeats))
    xseq = torch.cat(((emb_1 + emb_t).repeat(nframes, 1, 1), torch.cat((x_, enc_text), dim=2)), dim=2)
    xseq = _lin(s, "input_process2", xseq)
    xseq = xseq.permute(1, 0, 2).reshape(bs, nframes, heads, -1).permute(0, 2, 1, 3).reshape(bs * heads, nframes, -1)
    xseq = _rotary(xseq, s["rel_pos.inv_freq"])
    xseq = _local_attention(xseq)
    xseq = xseq.view(bs, heads, nframes, -1).permute(0, 2, 1, 3).reshape(bs, nframes, -1).permute(1, 0, 2)
    xseq = torch.cat((emb_1 + emb_t, xseq), dim=0).permute(1, 0, 2)
    xseq = xseq.reshape(bs, nframes + 1, heads, -1).permute(0, 2, 1, 3).reshape(bs * heads, nframes + 1, -1)
    xseq = _rotary(xseq, s["rel_pos.inv_freq"])
    xseq = xseq.reshape(bs, heads, nframes + 1, -1).permute(0, 2, 1, 3).reshape(bs, nframes + 1, -1).permute(1, 0, 2)
    out = _lin(s, "output_process.poseFinal", encoder(xseq)[1:])
    return out.reshape(nframes, bs, njoints, nfeats).permute(1, 2, 3, 0)


def official_encoder(net: GestureDenoiser) -> torch.nn.TransformerEncoder:
    """The official sequence-first nn.TransformerEncoder holding the network's encoder weights."""
    layer = torch.nn.TransformerEncoderLayer(256, 4, 1024, 0.1, activation="gelu")
    encoder = torch.nn.TransformerEncoder(layer, 8, enable_nested_tensor=False)
    encoder.load_state_dict({k.removeprefix("seqTransEncoder."): v for k, v in net.state_dict().items()
                             if k.startswith("seqTransEncoder.")})
    return encoder.eval().to(next(net.parameters()).device)


def official_loop(s: dict, encoder, schedule, steps: int, style, seed, audio, generator, device: str):
    """The official p_sample_loop around the port, for one window of `steps` steps: every table value
    fetched from float64 numpy when used (`_extract_into_tensor`), and the noise drawn after the network
    by `randn_like` of the sample, contiguous at the first step and frame-major (element by element) after."""
    extract = lambda table, i: torch.from_numpy(table).to(device)[i].float()  # noqa: E731
    x = torch.randn(1, 1141, 1, 88, generator=generator, device=device)
    for n, i in enumerate(reversed(range(steps))):
        t = torch.tensor([i], device=device)
        x0 = official_port(s, encoder, x, torch.tensor([int(schedule.timesteps[i])], device=device), style, seed, audio)
        mean = extract(schedule.posterior_mean_x0, t) * x0 + extract(schedule.posterior_mean_xt, t) * x
        if n == 0:
            noise = torch.randn(x.shape, generator=generator, device=device)
        else:
            noise = torch.empty(1, 88, 1, 1141, device=device).permute(0, 3, 2, 1).normal_(generator=generator)
        x = mean + (t != 0).float()[:, None, None, None] * torch.exp(0.5 * extract(schedule.posterior_log_variance, t)) * noise
    return x


def bench_step(pairs: int, device: str) -> None:
    print(f"== one denoising step, one window, {device}, {torch.get_num_threads()} threads ==")
    torch.manual_seed(0)
    net = GestureDenoiser().eval().to(device)
    state = {k: v.detach() for k, v in net.state_dict().items()}
    encoder = official_encoder(net)
    x, seed = torch.randn(1, 88, 1141, device=device), torch.randn(1, 8, 1141, device=device)
    audio, style = torch.randn(1, 88, 1024, device=device), torch.eye(6, device=device)[[2]]
    t = torch.tensor([499], device=device)
    x_off, seed_off = x.transpose(1, 2)[:, :, None], seed.transpose(1, 2)[:, :, None]
    with torch.inference_mode():
        cond = net.condition(style, seed, audio)
        ours = lambda: net.denoise(x, t, cond)  # noqa: E731
        port = lambda: official_port(state, encoder, x_off, t, style, seed_off, audio)  # noqa: E731
        diff = float((ours().transpose(1, 2)[:, :, None] - port()).abs().max())
        for _ in range(3):
            ours(), port()
        port_s, ours_s = [], []
        for _ in range(pairs):  # interleaved, so that both see the same machine
            port_s.append(best_of_on(device, 1, port))
            ours_s.append(best_of_on(device, 1, ours))
        generator = torch.Generator(device=device).manual_seed(0)
        noise_s = best_of_on(device, pairs, lambda: torch.empty(1, 88, 1141, device=device).transpose(1, 2).normal_(generator=generator))
    p, o = min(port_s), min(ours_s)
    print(f"official port: {p * 1e3:.2f} ms   a2a: {o * 1e3:.2f} ms   speed-up {p / o:.2f}x   (max |difference| {diff:.1e})")
    print(f"the official noise draw of a step: {noise_s * 1e3:.2f} ms (a2a draws it on another thread while the network runs)")
    steps = 50
    sampler = Sampler(steps, "ddpm")
    with torch.inference_mode():
        loop_port = lambda: official_loop(state, encoder, sampler.schedule, steps, style, seed_off, audio,  # noqa: E731
                                          torch.Generator(device=device).manual_seed(0), device)
        loop_ours = lambda: sampler.sample(lambda x, t: net.denoise(x, t, cond),  # noqa: E731
                                           (1, 88, 1141), generator=torch.Generator(device=device).manual_seed(0), device=device)
        same = float((loop_ours().transpose(1, 2)[:, :, None] - loop_port()).abs().max())
        lp, lo = [], []
        for _ in range(3):
            lp.append(best_of_on(device, 1, loop_port))
            lo.append(best_of_on(device, 1, loop_ours))
    print(f"a window's {steps} sampling steps, the official loop around the port: {min(lp):.2f} s   a2a: {min(lo):.2f} s   "
          f"speed-up {min(lp) / min(lo):.2f}x   (max |difference| {same:.1e})")


def bench_speech(device: str, windows_1000: int) -> None:
    n_frames = math.ceil((round(SPEECH_S * FPS) - 1) * MOTION_FPS / FPS) + 1
    n_windows = window_count(n_frames)
    print(f"== {SPEECH_S:.0f} s of speech: {n_windows} windows of 88 frames, one after the other, {device} ==")
    torch.manual_seed(0)
    net = GestureDenoiser().eval().to(device)
    features = np.random.default_rng(0).standard_normal((n_windows, 88, 1024)).astype(np.float32)
    for steps, timed in ((50, n_windows), (1000, min(windows_1000, n_windows))):
        sampler = Sampler(steps, "ddpm" if steps == 1000 else "ddim")
        began = time.perf_counter()
        gesture_windows(net, sampler, features[:timed], style_onehot("neutral"), seed=0, device=device)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        took = time.perf_counter() - began
        whole = took * n_windows / timed
        scaled = "" if timed == n_windows else f" (timed over {timed} window{'s' if timed > 1 else ''}, scaled to {n_windows})"
        print(f"{sampler.method} {steps} steps: {whole:.1f} s for {SPEECH_S:.0f} s of speech = {SPEECH_S / whole:.2f}x real time, "
              f"{took / (timed * steps) * 1e3:.2f} ms a step{scaled}")


def check_1000() -> None:
    """The full released sampler against the official numbers (the unit tests check 10 respaced steps)."""
    from support.dsg_reference import filled_network, reference, wave

    print("== the released sampler, 1,000 steps, one window, against the official code's numbers ==")
    net, ref = filled_network(), reference()
    seed = wave(3 * 1141 * 8, 0.021, 1.0).view(3, 1141, 8).transpose(1, 2)[:1]
    audio = wave(3 * 88 * 1024, 0.0031, 0.5).view(3, 88, 1024)[:1]
    with torch.inference_mode():
        cond = net.condition(torch.eye(6)[[1]], seed, audio)
        began = time.perf_counter()
        out = Sampler(1000, "ddpm").sample(lambda x, t: net.denoise(x, t, cond), (1, 88, 1141), generator=torch.Generator().manual_seed(123))
    diff = np.abs(out.transpose(1, 2)[:, ::13, ::5].double().numpy() - ref["ddpm1000_out"]).max()
    print(f"max |a2a - official| {diff:.1e} (values up to {np.abs(ref['ddpm1000_out']).max():.2f}) in {time.perf_counter() - began:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--pairs", type=int, default=20, help="interleaved (port, a2a) timings of the step")
    parser.add_argument("--windows-1000", type=int, default=1, help="windows the 1,000-step run is timed over")
    parser.add_argument("--skip-speech", action="store_true", help="time the step only")
    parser.add_argument("--check-1000", action="store_true", help="check the 1,000-step sampler against the official numbers")
    args = parser.parse_args()
    bench_step(args.pairs, args.device)
    if not args.skip_speech:
        bench_speech(args.device, args.windows_1000)
    if args.check_1000:
        check_1000()


if __name__ == "__main__":
    main()
