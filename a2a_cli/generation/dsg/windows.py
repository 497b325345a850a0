"""DiffuseStyleGesture's windows (main/mydiffusion_zeggs/sample.py, `inference` with minibatch): speech
is gestured in 88-frame windows (20 fps) at a stride of 80; each window starts with the last 8 frames
of the one before (its "seed"), heard again with their audio, so the windows join without a seam.

Window i covers motion frames i*80 - 8 .. i*80 + 79 of the speech (window 0 starts 8 frames early,
on silence); `wavlm.audio_windows` cuts the speech so. The official code cuts the speech to whole
windows; a2a pads it with silence instead and cuts the motion to the length asked for.
"""

from __future__ import annotations

import math

from a2a_cli.errors import InputError
from a2a_cli.motion.zeggs import ZEGGS_FPS

__all__ = ["MOTION_FPS", "SEED_FRAMES", "STRIDE", "WINDOW", "covered_frames", "window_count"]

MOTION_FPS = int(ZEGGS_FPS)  # the model's frame rate (configs/DiffuseStyleGesture.yml motion_resampling_framerate)
WINDOW = 88  # frames per window (n_poses)
SEED_FRAMES = 8  # frames handed from one window to the next (n_seed)
STRIDE = WINDOW - SEED_FRAMES


def window_count(n_frames: int) -> int:
    """Windows that cover n_frames motion frames (20 fps): every window adds STRIDE frames, and the
    first SEED_FRAMES of the first window fall before the speech."""
    if n_frames <= 0:
        raise InputError(f"no speech to gesture to: {n_frames} frames")
    return max(1, math.ceil((n_frames + SEED_FRAMES) / STRIDE))


def covered_frames(n_windows: int) -> int:
    """Motion frames that n_windows windows give once handed over and trimmed: STRIDE * n - SEED_FRAMES."""
    return STRIDE * n_windows - SEED_FRAMES
