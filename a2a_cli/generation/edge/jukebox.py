"""Jukebox conditioning for EDGE's released model: layer 66 of OpenAI Jukebox's 5B prior, at 30 fps.

EDGE's `test.py` cuts a song into 5-s slices at a 2.5-s hop, and for each slice calls
jukemirlib (`load_audio`: 44.1 kHz mono, peak-normalised; `extract(layers=[66],
downsample_target_rate=30)`), giving (150, 4800) per window. This module does the same from the
samples a2a analysed, so the windows line up with the baseline's (`windows.condition_windows`).

jukemirlib runs the 5B model (about 10 GB of weights, downloaded by jukemirlib on first use into
~/.cache/jukemirlib; 13 GB of GPU memory) and is not on PyPI: it is installed from its repository
(see the README). On a CPU it takes minutes per window.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable

import numpy as np

from a2a_cli.audio.analysis import fit_frames
from a2a_cli.audio.decoding import resample
from a2a_cli.errors import InputError
from a2a_cli.frame_rate import FPS
from a2a_cli.generation.edge.windows import HOP, WINDOW, window_count

__all__ = ["JUKEBOX_FEATURES", "JUKEBOX_LAYER", "JUKEBOX_SR", "INSTALL_HINT", "jukebox_windows", "require_jukemirlib"]

JUKEBOX_LAYER = 66  # EDGE's data/audio_extraction/jukebox_features.py
JUKEBOX_FEATURES = 4800  # the 5B prior's width
JUKEBOX_SR = 44100  # jukemirlib.load_audio's rate
INSTALL_HINT = ("pip install 'a2a[jukebox]' and jukemirlib from its repository "
                "(pip install git+https://github.com/rodrigo-castellon/jukemirlib.git); it needs a GPU with 13 GB")


def require_jukemirlib() -> None:
    """A one-line InputError naming the install, where jukemirlib is not importable."""
    if importlib.util.find_spec("jukemirlib") is None:
        raise InputError(f"this checkpoint is EDGE's Jukebox model (4800 features), whose features come from "
                         f"jukemirlib: {INSTALL_HINT}; or use a baseline (35-feature) checkpoint")


def jukebox_windows(samples: np.ndarray, sr: int, n_frames: int,
                    progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Jukebox features (B, WINDOW, 4800) float32 of the windows covering n_frames frames.

    samples: (n,) mono float32 at `sr` Hz, the song as analysed. Window i hears seconds
    [2.5 i, 2.5 i + 5), zero-padded past the end, peak-normalised alone as EDGE's slices are.
    `progress(done, total)` is called after each window (minutes each on a CPU)."""
    require_jukemirlib()
    jukemirlib = importlib.import_module("jukemirlib")
    audio = resample(np.asarray(samples, dtype=np.float32), sr, JUKEBOX_SR)
    window, hop = WINDOW * JUKEBOX_SR // FPS, HOP * JUKEBOX_SR // FPS
    n_windows = window_count(n_frames)
    out = np.empty((n_windows, WINDOW, JUKEBOX_FEATURES), dtype=np.float32)
    for i in range(n_windows):
        piece = np.zeros(window, dtype=np.float32)
        heard = audio[i * hop:i * hop + window]
        piece[:heard.size] = heard
        peak = float(np.abs(piece).max())
        if peak > 0:
            piece /= peak
        reps = jukemirlib.extract(piece, layers=[JUKEBOX_LAYER], downsample_target_rate=FPS)[JUKEBOX_LAYER]
        reps = np.asarray(reps, dtype=np.float32)
        if reps.ndim != 2 or reps.shape[1] != JUKEBOX_FEATURES:
            raise InputError(f"jukemirlib returned layer-{JUKEBOX_LAYER} features of shape {reps.shape}, "
                             f"expected (frames, {JUKEBOX_FEATURES})")
        out[i] = fit_frames(reps, WINDOW)
        if progress is not None:
            progress(i + 1, n_windows)
    return out
