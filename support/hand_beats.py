"""How the gesture tests and benchmarks read a speaker's timing, EMAGE style: the hands' motion
beats (the wrists' velocity minima) and their beat consistency with the stressed syllables.

EMAGE (Liu et al. 2024) takes a motion beat where a joint's speed has a local minimum and scores
each audio onset by its distance to the nearest motion beat, exp(-d^2 / (2 sigma^2)). Here the
speed is the wrist's, lightly smoothed (a Gaussian of SMOOTHING_FRAMES), and a minimum counts when
the hand was moving at least MIN_PROMINENCE_M_S faster around it (a visible stop, not the tremor
of a hand at rest).
"""

from __future__ import annotations

import numpy as np

from a2a_cli.motion import Motion
from a2a_cli.motion.skeleton import L_WRIST, R_WRIST

__all__ = ["MIN_PROMINENCE_M_S", "SMOOTHING_FRAMES", "beat_consistency", "hand_beats", "nearest", "wrist_speeds"]

SMOOTHING_FRAMES = 2.0
MIN_PROMINENCE_M_S = 0.03
MIN_SPACING_FRAMES = 7  # EMAGE's order: a beat is the lowest within 7 frames either side


def wrist_speeds(motion: Motion) -> np.ndarray:
    """Speed (2, T-1) in m/s of the left and right wrist between consecutive frames."""
    joints = motion.joints
    return np.stack([np.linalg.norm(np.diff(joints[:, w], axis=0), axis=-1) * motion.fps for w in (L_WRIST, R_WRIST)])


def hand_beats(motion: Motion) -> list[np.ndarray]:
    """The left and the right hand's motion beats, times in seconds (a speed sample lies between
    its two frames)."""
    from scipy.ndimage import gaussian_filter1d
    from scipy.signal import find_peaks

    beats = []
    for speed in wrist_speeds(motion):
        smooth = gaussian_filter1d(speed, SMOOTHING_FRAMES)
        at, _ = find_peaks(-smooth, prominence=MIN_PROMINENCE_M_S, distance=MIN_SPACING_FRAMES)
        beats.append((at + 0.5) / motion.fps)
    return beats


def nearest(times: np.ndarray, beats: np.ndarray) -> np.ndarray:
    """For each time (n,), the distance in seconds to the nearest beat (inf when there is none)."""
    if not beats.size:
        return np.full(np.shape(times), np.inf)
    return np.abs(np.asarray(times)[:, None] - beats[None, :]).min(axis=1)


def beat_consistency(beats: list[np.ndarray], times: np.ndarray, sigma_s: float) -> float:
    """EMAGE's beat consistency of the hands' `beats` with the event `times` (s): the mean over the
    hands and the events of exp(-d^2 / (2 sigma^2)), d the distance to the hand's nearest beat."""
    return float(np.mean([np.exp(-nearest(times, b) ** 2 / (2 * sigma_s**2)).mean() for b in beats]))
