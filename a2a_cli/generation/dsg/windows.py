"""DiffuseStyleGesture's windows (main/mydiffusion_zeggs/sample.py, `inference` with minibatch): speech
is gestured in 88-frame windows (20 fps) at a stride of 80; each window starts with the last 8 frames
of the one before (its "seed"), heard again with their audio, so the windows join without a seam.

Window i covers motion frames i*80 - 8 .. i*80 + 79 of the speech (window 0 starts 8 frames early,
on silence). The official code cuts the speech to whole windows; a2a pads it with silence instead
and cuts the motion to the length asked for.
"""

from __future__ import annotations

import math

import numpy as np

from a2a_cli.errors import InputError

__all__ = [
    "MOTION_FPS", "SAMPLES_PER_FRAME", "SAMPLE_RATE", "SEED_FRAMES", "STRIDE", "WINDOW", "covered_frames",
    "feature_windows", "speech_windows", "window_count",
]

MOTION_FPS = 20  # ZEGGS motion as the model makes it (configs/DiffuseStyleGesture.yml motion_resampling_framerate)
WINDOW = 88  # frames per window (n_poses)
SEED_FRAMES = 8  # frames handed from one window to the next (n_seed)
STRIDE = WINDOW - SEED_FRAMES
SAMPLE_RATE = 16_000  # WavLM hears 16 kHz
SAMPLES_PER_FRAME = SAMPLE_RATE // MOTION_FPS


def window_count(n_frames: int) -> int:
    """Windows that cover n_frames motion frames (20 fps): every window adds STRIDE frames, and the
    first SEED_FRAMES of the first window fall before the speech."""
    if n_frames <= 0:
        raise InputError(f"no speech to gesture to: {n_frames} frames")
    return max(1, math.ceil((n_frames + SEED_FRAMES) / STRIDE))


def covered_frames(n_windows: int) -> int:
    """Motion frames that n_windows windows give once handed over and trimmed: STRIDE * n - SEED_FRAMES."""
    return STRIDE * n_windows - SEED_FRAMES


def speech_windows(samples: np.ndarray, n_windows: int) -> np.ndarray:
    """16 kHz speech (N,) -> (n_windows, WINDOW * SAMPLES_PER_FRAME) float32: each window's audio, the
    seed frames' audio first (silence before window 0), the speech padded with silence to whole windows."""
    samples = np.asarray(samples, dtype=np.float32).reshape(-1)
    seed = SEED_FRAMES * SAMPLES_PER_FRAME
    hop = STRIDE * SAMPLES_PER_FRAME
    padded = np.zeros(seed + n_windows * hop, dtype=np.float32)
    body = samples[:n_windows * hop]
    padded[seed:seed + body.size] = body
    return np.stack([padded[i * hop:i * hop + seed + hop] for i in range(n_windows)])


def feature_windows(features: np.ndarray, n_windows: int) -> np.ndarray:
    """Per-frame audio features of the speech (T, C) at 20 fps -> (n_windows, WINDOW, C) float32 laid out
    as `speech_windows` lays out samples (zeros before the speech and after its end)."""
    features = np.asarray(features, dtype=np.float32)
    if features.ndim != 2 or features.shape[0] == 0:
        raise InputError(f"audio features must be (frames, channels), got shape {features.shape}")
    padded = np.zeros((SEED_FRAMES + n_windows * STRIDE, features.shape[1]), dtype=np.float32)
    body = features[:n_windows * STRIDE]
    padded[SEED_FRAMES:SEED_FRAMES + len(body)] = body
    return np.stack([padded[i * STRIDE:i * STRIDE + WINDOW] for i in range(n_windows)])
