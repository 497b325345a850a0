"""Beat alignment (BAS, Bailando, Li et al. 2022) and the motion-beat precision that keeps it honest.

Bailando's `utils/beat_align_score.py`, as the EDGE-era papers ran it at 30 fps:
- the motion's kinetic velocity is the mean over the 24 joints of each joint's displacement between
  consecutive frames; it is smoothed by a Gaussian of sigma 5 frames (`scipy.ndimage` defaults:
  reflected edges, truncated at 4 sigma);
- motion beats are the strict interior local minima of that curve (`argrelextrema(v, np.less)`),
  as indices into the velocity curve (sample k lies between frames k and k + 1);
- BAS = mean over music beats of exp(-d^2 / (2 * 3^2)), d the frame distance from the music beat
  to its nearest motion beat. Music beats at or past the end of the velocity curve are dropped,
  as Bailando cuts the beat track to that length.
At other frame rates both sigmas are kept in seconds (smoothing 1/6 s, alignment 0.1 s).

BAS only looks from the music side, so a motion that jitters (a minimum every few frames) scores
well without dancing to anything. `precision` looks from the motion side: the fraction of motion
beats within `PRECISION_TOLERANCE_S` of a music beat. The tolerance is one alignment sigma
(0.1 s, 3 frames at 30 fps): at 120 BPM minima at random times land that close to a beat about
40 % of the time, against nearly 100 % for a dancer who hits the beats (a 2-sigma window would
cover 80 % of the timeline and hardly separate the two).
Edge cases, where Bailando's code divides by zero: no music beat or no motion beat gives
BAS 0 and precision 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from a2a_cli.scoring._clips import as_clip_batch

SMOOTHING_SIGMA_S = 5 / 30  # Gaussian smoothing of the kinetic velocity: 5 frames at 30 fps
ALIGNMENT_SIGMA_S = 3 / 30  # the BAS kernel width: 3 frames at 30 fps
PRECISION_TOLERANCE_S = ALIGNMENT_SIGMA_S


@dataclass(frozen=True)
class BeatAlignment:
    """BAS in [0, 1], motion-beat precision in [0, 1], and the beat counts they came from."""

    bas: float
    precision: float
    n_motion_beats: int
    n_music_beats: int


def kinetic_velocity(joints: np.ndarray) -> np.ndarray:
    """Mean joint displacement per frame in metres, (..., T, 24, 3) -> (..., T - 1)."""
    batch, lead = as_clip_batch(joints, min_frames=2)
    step = batch[:, 1:] - batch[:, :-1]
    speed = np.sqrt(np.einsum("btjc,btjc->btj", step, step))
    return speed.mean(axis=-1).reshape(lead + (batch.shape[1] - 1,))


def motion_beats(joints: np.ndarray, fps: float) -> np.ndarray:
    """Motion-beat indices (int64) of one clip (T, 24, 3): minima of the smoothed kinetic velocity."""
    joints = np.asarray(joints)
    if joints.ndim != 3:
        raise ValueError(f"motion_beats takes one clip (T, 24, 3), got {joints.shape}; use motion_beats_batch")
    return motion_beats_batch(joints[None], fps)[0]


def motion_beats_batch(joints: np.ndarray, fps: float) -> list[np.ndarray]:
    """Motion beats of each clip of a batch (B, T, 24, 3): a list of B int64 index arrays."""
    from scipy.ndimage import gaussian_filter1d

    velocity = kinetic_velocity(joints)
    if velocity.ndim != 2:
        raise ValueError(f"motion_beats_batch takes a batch (B, T, 24, 3), got {np.shape(joints)}")
    smooth = gaussian_filter1d(velocity, SMOOTHING_SIGMA_S * fps, axis=-1)
    middle = smooth[:, 1:-1]
    minima = (middle < smooth[:, :-2]) & (middle < smooth[:, 2:])
    return [np.flatnonzero(row) + 1 for row in minima]


def beat_alignment(joints: np.ndarray, music_beat_frames: np.ndarray, fps: float) -> BeatAlignment:
    """BAS and precision of one clip (T, 24, 3) against music beats given as frame indices at `fps`."""
    joints = np.asarray(joints)
    if joints.ndim != 3:
        raise ValueError(f"beat_alignment takes one clip (T, 24, 3), got {joints.shape}; use beat_alignment_batch")
    return beat_alignment_batch(joints[None], [music_beat_frames], fps)[0]


def beat_alignment_batch(
    joints: np.ndarray, music_beat_frames: Sequence[np.ndarray], fps: float
) -> list[BeatAlignment]:
    """`beat_alignment` for a batch (B, T, 24, 3), with one music-beat array per clip."""
    beats = motion_beats_batch(joints, fps)
    if len(music_beat_frames) != len(beats):
        raise ValueError(f"{len(beats)} clips but {len(music_beat_frames)} music-beat arrays")
    n_velocity = np.shape(joints)[-3] - 1
    return [align_beats(m, music, n_velocity, fps) for m, music in zip(beats, music_beat_frames)]


def align_beats(motion: np.ndarray, music: np.ndarray, n_velocity: int, fps: float) -> BeatAlignment:
    """BAS and precision from beat indices: `motion` beats, `music` beats (frames at `fps`).

    `n_velocity` is the length of the velocity curve (frames - 1); music beats from there on drop.
    """
    motion = np.sort(np.asarray(motion, dtype=np.float64))
    music = np.asarray(music, dtype=np.float64)
    music = np.sort(music[(music >= 0) & (music < n_velocity)])
    if motion.size == 0 or music.size == 0:
        return BeatAlignment(0.0, 0.0, int(motion.size), int(music.size))
    sigma = ALIGNMENT_SIGMA_S * fps
    to_motion = _distance_to_nearest(music, motion)
    to_music = _distance_to_nearest(motion, music)
    return BeatAlignment(
        bas=float(np.mean(np.exp(-(to_motion**2) / (2 * sigma**2)))),
        precision=float(np.mean(to_music <= PRECISION_TOLERANCE_S * fps + 1e-9)),
        n_motion_beats=int(motion.size),
        n_music_beats=int(music.size),
    )


def _distance_to_nearest(points: np.ndarray, sorted_targets: np.ndarray) -> np.ndarray:
    """For each point, the distance to the nearest of a sorted, non-empty array of targets."""
    right = np.searchsorted(sorted_targets, points).clip(max=sorted_targets.size - 1)
    left = (right - 1).clip(min=0)
    return np.minimum(np.abs(points - sorted_targets[left]), np.abs(points - sorted_targets[right]))
