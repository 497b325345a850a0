"""The `dsg` generator (DiffuseStyleGesture): speech in, a speaker's gestures out as an a2a Motion.

1. Hearing: the speech at 16 kHz, cut into 88-frame windows at a stride of 80 (20 fps; each window
   hears the last 8 frames of the window before, silence before the first), through WavLM-Large's
   last layer, interpolated to the 88 frames (`wavlm`); all windows in batches.
2. Gesturing (`gesture_windows`), window after window as the official sample.py's `inference`
   does: window i is denoised (1,000 steps, or DDIM with fewer) with the window before's last 8
   frames as its seed; then its root is moved so that its first frame stands where the seed's first
   stood, and that first frame is averaged with the seed's (`hand_over`); the seed frames are cut
   from the window before. The first 8 frames of the whole (the silence
   before the speech) are cut too.
3. Decoding: mean/std de-normalisation (std clipped at 0.01), the ZEGGS skeleton (Savitzky-Golay
   smoothed as the official writer does) retargeted to SMPL-24 at 30 fps (`a2a_cli.motion.zeggs`).

The official code drops the speech's last, partial window; a2a pads the speech with silence to whole
windows and cuts the motion to the length asked for.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from a2a_cli.errors import InputError
from a2a_cli.frame_rate import FPS
from a2a_cli.generation.base import check_device_and_precision
from a2a_cli.generation.dsg.windows import MOTION_FPS, SEED_FRAMES, STRIDE, WINDOW, window_count
from a2a_cli.motion.motion import Motion
from a2a_cli.style_names import AUTO, DSG_STYLES

__all__ = [
    "DEFAULT_STYLE", "DSG_FILES", "DiffuseStyleGestureGenerator", "MODEL_NAME", "dsg_from_settings", "gesture_windows",
    "hand_over", "style_onehot",
]

MODEL_NAME = "dsg"  # the generator's and the zoo's name
DSG_FILES = ("model000450000.pt", "mean.npz", "std.npz")  # the zoo's files of the model, in this order
DEFAULT_STYLE = "neutral"  # what `auto` gestures in: the model reads no style from the voice


def style_onehot(style: str) -> np.ndarray:
    """(6,) float32 one-hot of `style`, in the official order (DSG_STYLES: happy, sad, neutral, old,
    angry, relaxed); "auto" is DEFAULT_STYLE. An InputError names the choices."""
    name = DEFAULT_STYLE if style == AUTO else style
    if name not in DSG_STYLES:
        raise InputError(f"unknown DiffuseStyleGesture style {style!r}; choose {AUTO} or one of: {', '.join(DSG_STYLES)}")
    return np.eye(len(DSG_STYLES), dtype=np.float32)[DSG_STYLES.index(name)]


def hand_over(seed_frames, sample):
    """Join a window's `sample` (88, 1141) torch tensor, normalised, to the frames it was seeded with,
    `seed_frames` (8, 1141): the official smoothing, in place and returned. The root position
    (channels 0-2) is shifted so that the first frames agree, then the first frame becomes the mean of
    the seed's first and its own. (sample.py's cross-fade loops `for j in range(len(last_poses))`,
    and len() of its (1, 1141, 1, 8) tensor is the batch, 1, not the 8 seed frames: so one frame, half
    and half, is what the released model was sampled with, and what a2a does.)"""
    sample[:, 0:3] -= sample[0, 0:3] - seed_frames[0, 0:3]
    sample[0] = seed_frames[0] * 1 / 2 + sample[0] * 1 / 2
    return sample


def gesture_windows(network, sampler, features: np.ndarray, style: np.ndarray, seed: int, device: str = "cpu",
                    precision: str = "fp32", progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Normalised motion (covered_frames(B), 1141) float32 for B windows of WavLM features.

    network: a GestureDenoiser; sampler: a Sampler; features: (B, 88, 1024) float32, window i hearing
    motion frames i*80 - 8 .. i*80 + 79; style: (6,) one-hot; seed: the noise's seed (the official
    `torch.manual_seed(seed)`: same numbers on a CPU); precision: "fp32" or "bf16" (autocast);
    progress(done, total) over all windows' steps.
    """
    import torch

    from a2a_cli.generation.dsg.network import MOTION_FEATURES

    features = np.asarray(features, dtype=np.float32)
    n_windows = features.shape[0]
    generator = torch.Generator(device=device).manual_seed(int(seed))
    style_t = torch.from_numpy(np.asarray(style, dtype=np.float32))[None].to(device)
    seed_frames = torch.zeros(1, SEED_FRAMES, MOTION_FEATURES, device=device)
    total = n_windows * sampler.steps
    kept, previous = [], None
    device_type = torch.device(device).type
    with torch.inference_mode(), torch.autocast(device_type, dtype=torch.bfloat16, enabled=precision == "bf16"):
        for i in range(n_windows):
            cond = network.condition(style_t, seed_frames, torch.from_numpy(features[i:i + 1]).to(device))
            step = None if progress is None else (lambda done, _, i=i: progress(i * sampler.steps + done, total))
            sample = sampler.sample(lambda x, t: network.denoise(x, t, cond), (1, WINDOW, MOTION_FEATURES),
                                    generator=generator, device=device, progress=step)[0].float()
            if previous is not None:
                kept.append(previous[:-SEED_FRAMES])
                sample = hand_over(previous[-SEED_FRAMES:], sample)
            seed_frames = sample[-SEED_FRAMES:][None]
            previous = sample
        kept.append(previous[:-SEED_FRAMES])
        return torch.cat(kept)[SEED_FRAMES:].cpu().numpy()


@dataclass
class DiffuseStyleGestureGenerator:
    """DiffuseStyleGesture as an a2a GestureGenerator (task `gesture`).

    weights: the checkpoint (.pt in the official layout, or .safetensors); mean, std: ZEGGS's
    mean.npz and std.npz; wavlm: WavLM-Large (a transformers folder, or the official .pt); steps:
    1000 runs the released sampler, fewer run DDIM on a respaced schedule; style: one of DSG_STYLES
    or "auto" (DEFAULT_STYLE); device: "cpu", "cuda" or "cuda:N"; precision: "fp32" (the official
    numbers) or "bf16".
    """

    weights: str | os.PathLike
    mean: str | os.PathLike
    std: str | os.PathLike
    wavlm: str | os.PathLike
    steps: int = 1000
    style: str = AUTO
    device: str = "cpu"
    precision: str = "fp32"
    name: str = MODEL_NAME
    _wavlm_model: object = field(default=None, repr=False)

    def __post_init__(self) -> None:
        from a2a_cli.generation.dsg.checkpoint import load_network, load_statistics
        from a2a_cli.generation.dsg.sampler import N_TIMESTEPS, Sampler
        from a2a_cli.generation.dsg.wavlm import require_transformers

        if not 1 <= int(self.steps) <= N_TIMESTEPS:
            raise InputError(f"--steps must be 1..{N_TIMESTEPS}, got {self.steps}")
        check_device_and_precision(self.device, self.precision)
        self.use_style(self.style)
        require_transformers()
        self.network = load_network(Path(self.weights), device=self.device)
        self.statistics = load_statistics(self.mean, self.std)
        self.sampler = Sampler(int(self.steps), "ddpm" if int(self.steps) == N_TIMESTEPS else "ddim")

    def use_style(self, style: str) -> None:
        """Gesture in `style` ("auto" or one of DSG_STYLES); an InputError names the choices."""
        style_onehot(style)
        self.style = style

    def hear(self, speech, n_windows: int) -> np.ndarray:
        """WavLM features (n_windows, 88, 1024) of `speech` (a SpeechAnalysis with its source)."""
        from a2a_cli.generation.dsg.wavlm import audio_windows, load_wavlm, speech_16k, wavlm_features

        if speech.source is None:
            raise InputError("DiffuseStyleGesture hears the speech itself, and this analysis does not say where it came from")
        if self._wavlm_model is None:
            self._wavlm_model = load_wavlm(self.wavlm, device=self.device)
        windows = audio_windows(speech_16k(speech.source), n_windows, STRIDE, SEED_FRAMES, MOTION_FPS)
        return wavlm_features(self._wavlm_model, windows, WINDOW)

    def zeggs_pose(self, speech, n_frames: int, seed: int, progress=None):
        """The model's own output for the first `n_frames` 20-fps frames of `speech` (SpeechAnalysis):
        de-normalised, decoded to the ZEGGS skeleton (a `motion.zeggs.ZeggsPose`, Savitzky-Golay
        smoothed as the official writer does; `write_zeggs_bvh` writes it as the official BVH)."""
        from a2a_cli.motion.zeggs import decode_zeggs

        n_windows = window_count(n_frames)
        normalised = gesture_windows(self.network, self.sampler, self.hear(speech, n_windows), style_onehot(self.style),
                                     seed, self.device, self.precision, progress)
        return decode_zeggs(self.statistics.unnormalize(normalised[:n_frames]), fps=MOTION_FPS)

    def generate(self, speech, duration_s: float, seed: int, progress=None) -> Motion:
        """Gestures of exactly round(duration_s * 30) frames for `speech` (SpeechAnalysis), drawn with `seed`:
        the ZEGGS pose (`zeggs_pose`) retargeted to SMPL-24 at 30 fps."""
        from a2a_cli.generation.base import check_duration
        from a2a_cli.motion.zeggs import zeggs_to_smpl

        n_frames = check_duration(duration_s)
        needed = math.ceil((n_frames - 1) * MOTION_FPS / FPS) + 1  # 20 fps frames whose 30 fps resampling spans n_frames
        motion = zeggs_to_smpl(self.zeggs_pose(speech, needed, seed, progress))
        style = DEFAULT_STYLE if self.style == AUTO else self.style
        meta = {**motion.meta, "generator": MODEL_NAME, "model": MODEL_NAME, "seed": int(seed), "steps": self.sampler.steps,
                "sampler": self.sampler.method, "precision": self.precision, "style": style,
                "style_chosen_by": "default" if self.style == AUTO else "user", "weights": Path(self.weights).name,
                "audio_sha256": str(getattr(speech, "sha256", ""))}
        return Motion(poses=motion.poses[:n_frames], trans=motion.trans[:n_frames], fps=float(FPS), meta=meta)


def dsg_from_settings(settings=None) -> DiffuseStyleGestureGenerator:
    """The `dsg` generator configured by generate.gesture_weights / steps / device / precision (a2a_cli.config),
    the ZEGGS statistics and WavLM from the zoo (`a2a download-weights dsg wavlm-large`); --style
    reaches it through `use_style`. One-line errors name the extra or the download that is missing."""
    import importlib.util

    from a2a_cli.generation.dsg.sampler import DEFAULT_STEPS
    from a2a_cli.generation.dsg.wavlm import INSTALL_HINT, WAVLM_MODEL
    from a2a_cli.zoo import MissingWeightsError, local_files, model_dir

    if settings is None:
        from a2a_cli.config import load_settings

        settings = load_settings()
    if settings.source("generate.guidance").startswith("flag "):
        raise InputError("--guidance is an option of edge: DiffuseStyleGesture's released sampler uses no guidance")
    if any(importlib.util.find_spec(m) is None for m in ("torch", "safetensors", "transformers")):
        raise InputError(f"model {MODEL_NAME} needs torch, safetensors and transformers: {INSTALL_HINT}")
    given = settings.get("generate.gesture_weights")
    files = local_files(MODEL_NAME, settings.data_dir, without=(DSG_FILES[0],) if given else ())
    weights = given or files[DSG_FILES[0]]
    wavlm = model_dir(WAVLM_MODEL, settings.data_dir)
    if not (wavlm / "config.json").is_file():
        raise MissingWeightsError(f"DiffuseStyleGesture hears speech through WavLM-Large, which is not downloaded "
                                  f"({wavlm} has no config.json): run `a2a download-weights {WAVLM_MODEL}`")
    # generate.steps defaults to EDGE's 50 DDIM steps; DiffuseStyleGesture's own default is its 1,000
    steps = settings.get("generate.steps") if settings.source("generate.steps") != "default" else DEFAULT_STEPS
    return DiffuseStyleGestureGenerator(weights=Path(weights).expanduser(), mean=files[DSG_FILES[1]], std=files[DSG_FILES[2]],
                                        wavlm=wavlm, steps=steps, device=settings.get("generate.device"),
                                        precision=settings.get("generate.precision"))
