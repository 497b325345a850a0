"""Beat alignment (BAS, Bailando, Li et al. 2022) and the motion-beat precision that keeps it honest.

Bailando's `utils/beat_align_score.py`, as the EDGE-era papers ran it at 30 fps:
- the motion's kinetic velocity is the mean over the 24 joints of each joint's displacement between
  consecutive frames; it is smoothed by a Gaussian of sigma 5 frames (`scipy.ndimage` defaults:
  reflected edges, truncated at 4 sigma; smoothing.py gives its exact numbers);
- motion beats are the strict interior local minima of that curve (`argrelextrema(v, np.less)`),
  as indices into the velocity curve (sample k lies between frames k and k + 1);
- BAS = mean over music beats of exp(-d^2 / (2 * 3^2)), d the frame distance from the music beat
  to its nearest motion beat. Music beats at or past the end of the velocity curve are dropped,
  as Bailando cuts the beat track to that length.
At other frame rates both sigmas are kept in seconds (smoothing 1/6 s, alignment 0.1 s).

BAS only looks from the music side, so a motion that jitters (a minimum every few frames) scores
well without dancing to anything. `precision` looks from the motion side: the fraction of motion
beats within `PRECISION_TOLERANCE` of a music beat. The tolerance is one alignment sigma
(0.1 s, 3 frames at 30 fps): at 120 BPM (a beat every 15 frames) minima at random times land
that close to a beat 7 times in 15, against nearly always for a dancer who hits the beats (a
2-sigma window would cover 13 frames in 15 and hardly separate the two).
Edge cases, where Bailando's code divides by zero: no music beat or no motion beat gives
BAS 0 and precision 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from a2a_cli.scoring.clip_batch import ClipBatch, as_clip_batch
from a2a_cli.scoring.smoothing import gaussian_filter1d

__all__ = [
    "ALIGNMENT_SIGMA", "BeatAlignment", "PRECISION_TOLERANCE", "REFERENCE_FPS", "SMOOTHING_SIGMA",
    "align_beats", "align_beats_batch", "align_to_grids", "beat_alignment", "beat_alignment_batch", "kinetic_velocity",
    "motion_beat_frames", "motion_beats", "motion_beats_batch",
]

# Bailando's constants, in frames at 30 fps; `_frames` converts them for other rates.
REFERENCE_FPS = 30.0
SMOOTHING_SIGMA = 5.0  # Gaussian smoothing of the kinetic velocity (1/6 s)
ALIGNMENT_SIGMA = 3.0  # the BAS kernel width (0.1 s)
PRECISION_TOLERANCE = ALIGNMENT_SIGMA


@dataclass(frozen=True)
class BeatAlignment:
    """BAS in [0, 1], motion-beat precision in [0, 1], and the beat counts they came from."""

    bas: float
    precision: float
    n_motion_beats: int
    n_music_beats: int


def kinetic_velocity(joints: np.ndarray | ClipBatch) -> np.ndarray:
    """Mean joint displacement per frame in metres, (..., T, 24, 3) -> (..., T - 1)."""
    batch = as_clip_batch(joints, min_frames=2)
    return batch.per_clip(batch.kinetic_velocity.T)


def motion_beats(joints: np.ndarray | ClipBatch, fps: float) -> np.ndarray:
    """Motion-beat indices (int64) of one clip (T, 24, 3): minima of the smoothed kinetic velocity."""
    batch = _one_clip(joints, "motion_beats")
    return motion_beats_batch(batch, fps)[0]


def motion_beats_batch(joints: np.ndarray | ClipBatch, fps: float) -> list[np.ndarray]:
    """Motion beats of each clip of a batch (..., T, 24, 3): a list of int64 index arrays, one per clip."""
    batch = as_clip_batch(joints, min_frames=2)
    clip, frame = motion_beat_frames(batch, fps)
    return np.split(frame, np.cumsum(np.bincount(clip, minlength=batch.n_clips))[:-1])


def motion_beat_frames(batch: ClipBatch, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Every motion beat of the batch as (clip, frame) index arrays, clip by clip in frame order."""
    smooth = gaussian_filter1d(batch.kinetic_velocity, _frames(SMOOTHING_SIGMA, fps), axis=0)  # (T-1, B)
    middle = smooth[1:-1]
    minima = (middle < smooth[:-2]) & (middle < smooth[2:])
    clip, frame = np.nonzero(minima.T)
    return clip, frame + 1


def beat_alignment(joints: np.ndarray | ClipBatch, music_beat_frames: np.ndarray, fps: float) -> BeatAlignment:
    """BAS and precision of one clip (T, 24, 3) against music beats given as frame indices at `fps`."""
    return beat_alignment_batch(_one_clip(joints, "beat_alignment"), [music_beat_frames], fps)[0]


def beat_alignment_batch(
    joints: np.ndarray | ClipBatch, music_beat_frames: Sequence[np.ndarray], fps: float
) -> list[BeatAlignment]:
    """`beat_alignment` for a batch (..., T, 24, 3), with one music-beat array per clip (flattened order)."""
    batch = as_clip_batch(joints, min_frames=2)
    if len(music_beat_frames) != batch.n_clips:
        raise ValueError(f"{batch.n_clips} clips but {len(music_beat_frames)} music-beat arrays")
    motion_clip, motion = motion_beat_frames(batch, fps)
    music_clip, music = _laid_end_to_end(music_beat_frames)
    return _align(motion_clip, motion.astype(np.float64), music_clip, music, batch.n_clips, batch.n_frames - 1, fps)


def _one_clip(joints: np.ndarray | ClipBatch, name: str) -> ClipBatch:
    batch = as_clip_batch(joints, min_frames=2)
    if batch.lead != ():
        raise ValueError(f"{name} takes one clip (T, 24, 3), got a batch of {batch.lead}; use {name}_batch")
    return batch


def align_beats(motion: np.ndarray, music: np.ndarray, n_velocity: int, fps: float) -> BeatAlignment:
    """BAS and precision from beat positions: `motion` beats, `music` beats (frames at `fps`,
    fractional allowed). `n_velocity` is the length of the velocity curve (frames - 1); music
    beats outside [0, n_velocity) are dropped."""
    return align_beats_batch([motion], [music], n_velocity, fps)[0]


def align_beats_batch(
    motion: Sequence[np.ndarray], music: Sequence[np.ndarray], n_velocity: int, fps: float
) -> list[BeatAlignment]:
    """`align_beats` for many clips of one length, in a handful of array operations."""
    if len(motion) != len(music):
        raise ValueError(f"{len(motion)} motion-beat arrays but {len(music)} music-beat arrays")
    motion_clip, motion_at = _laid_end_to_end(motion)
    music_clip, music_at = _laid_end_to_end(music)
    return _align(motion_clip, motion_at, music_clip, music_at, len(motion), n_velocity, fps)


def _laid_end_to_end(beats: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per-clip beat arrays as one float64 array of positions and one of clip indices."""
    arrays = [np.asarray(b, dtype=np.float64).ravel() for b in beats]
    sizes = [a.size for a in arrays]
    positions = np.concatenate(arrays) if arrays else np.zeros(0)
    return np.repeat(np.arange(len(arrays)), sizes), positions


def _align(
    motion_clip: np.ndarray, motion: np.ndarray, music_clip: np.ndarray, music: np.ndarray,
    n_clips: int, n_velocity: int, fps: float,
) -> list[BeatAlignment]:
    """BAS and precision of every clip at once, from beats given as (clip index, frame) arrays.

    The clips' beats are laid on one axis, clip i shifted by i * span with span wide enough that
    a nearest-beat search over everything never crosses into another clip when the clip has a
    beat of its own (and clips without one are set to 0 explicitly). The clip indices come
    grouped (clip 0's beats first), so sorting the shifted positions keeps each clip's group in
    place and per-clip sums are bincounts.
    """
    inside = (music >= 0) & (music < n_velocity)
    music_clip, music = music_clip[inside], music[inside]
    n_motion = np.bincount(motion_clip, minlength=n_clips)
    n_music = np.bincount(music_clip, minlength=n_clips)
    if not motion.size or not music.size:
        return [BeatAlignment(0.0, 0.0, a, b) for a, b in zip(n_motion.tolist(), n_music.tolist())]
    span = 4.0 * max(float(n_velocity), 1.0, float(np.abs(motion).max())) + 10.0  # in-clip distances < cross-clip
    motion_at = np.sort(motion + motion_clip * span)
    music_at = np.sort(music + music_clip * span)

    closeness = _closeness(_distance_to_nearest(music_at, motion_at), fps)
    hits = _distance_to_nearest(motion_at, music_at) <= _frames(PRECISION_TOLERANCE, fps) + 1e-9
    both = (n_motion > 0) & (n_music > 0)
    bas = np.bincount(music_clip, weights=closeness, minlength=n_clips) / np.maximum(n_music, 1)
    precision = np.bincount(motion_clip, weights=hits, minlength=n_clips) / np.maximum(n_motion, 1)
    bas, precision = np.where(both, bas, 0.0), np.where(both, precision, 0.0)
    return [BeatAlignment(*row) for row in zip(bas.tolist(), precision.tolist(), n_motion.tolist(), n_music.tolist())]


def align_to_grids(
    motion_clip: np.ndarray, motion: np.ndarray, n_clips: int, grids: np.ndarray, n_velocity: int, fps: float,
    bas: bool = True,
) -> np.ndarray:
    """BAS (or, with bas=False, precision) of every clip against every one of a set of music-beat
    grids shared by all clips: (n_clips, len(grids)), as `align_beats` gives for each pair.

    motion_clip, motion: every clip's motion beats as (clip index, integer frame) arrays
    (`motion_beat_frames`); grids: (G, n) music beat positions in frames at `fps`, one grid per
    row, sorted, fractions allowed, NaN where a grid has fewer than n beats (beats outside
    [0, n_velocity) are dropped). A clip without motion beats, or a grid without music beats, gives
    0. Distances are measured between the beats themselves, exactly: each clip's nearest motion beat
    at or before, and at or after, every frame is tabulated once (BAS), and the frames within the
    tolerance of each grid's beats once, from each beat's few nearest frames (precision).
    """
    grids = np.asarray(grids, dtype=np.float64)
    n_grids = len(grids)
    music = grids.ravel()
    owner = np.repeat(np.arange(n_grids), grids.shape[1])  # the grid of each music beat
    inside = (music >= 0) & (music < n_velocity)  # NaN (no beat) is neither
    music, owner = music[inside], owner[inside]
    sizes = np.bincount(owner, minlength=n_grids)
    n_motion = np.bincount(motion_clip, minlength=n_clips)
    frames = np.arange(n_velocity + 1, dtype=np.float64)
    if not music.size:
        return np.zeros((n_clips, n_grids))
    if bas:
        is_beat = np.zeros((n_clips, n_velocity + 1), dtype=bool)
        is_beat[motion_clip, motion] = True
        before = np.maximum.accumulate(np.where(is_beat, frames, -np.inf), axis=1)
        after = np.minimum.accumulate(np.where(is_beat, frames, np.inf)[:, ::-1], axis=1)[:, ::-1]
        # beats first, clips along the rows: each grid's beats are one run of rows (the grids were laid
        # out row by row), summed row after row, in beat order as align_beats sums them
        at = music[:, None]
        distance = np.minimum(at - before.T[np.floor(music).astype(np.int64)], after.T[np.ceil(music).astype(np.int64)] - at)
        closeness = _closeness(distance, fps)  # (music beats of all grids, B)
        found = np.zeros((n_clips, n_grids))
        first = np.cumsum(sizes) - sizes
        for size in np.unique(sizes[sizes > 0]).tolist():  # the grids of each length at once
            which = np.flatnonzero(sizes == size)
            found[:, which] = (closeness[first[which, None] + np.arange(size)].sum(axis=1) / size).T
    else:
        # every frame a motion beat can fall on that lies within the tolerance of one of a grid's beats:
        # each beat's few nearest frames tested, their distances taken between the beats as given, exactly
        tolerance = _frames(PRECISION_TOLERANCE, fps) + 1e-9
        reach = np.arange(-int(np.ceil(tolerance)) - 1, int(np.ceil(tolerance)) + 2)
        near = np.floor(music)[:, None] + reach  # (music beats, candidate frames), whole frames
        hit = (np.abs(near - music[:, None]) <= tolerance) & (near >= 0) & (near <= n_velocity)
        hits = np.zeros((n_grids, n_velocity + 1), dtype=bool)
        hits[np.broadcast_to(owner[:, None], near.shape)[hit], near[hit].astype(np.int64)] = True
        counts = np.zeros((n_clips, n_velocity + 1))
        counts[motion_clip, motion] = 1.0  # a clip's beats are distinct frames
        found = counts @ hits.T / np.maximum(n_motion, 1)[:, None]
    return np.where((n_motion[:, None] > 0) & (sizes[None] > 0), found, 0.0)


def _closeness(distance: np.ndarray, fps: float) -> np.ndarray:
    """BAS's credit of a music beat `distance` frames (at `fps`) from the nearest motion beat:
    exp(-d^2 / (2 sigma^2)), sigma = ALIGNMENT_SIGMA, as float64. The exponential is taken in float32
    (6e-8 of the credit): numpy's float32 exp is vectorised, 4x faster than its float64 one, and the
    judge takes one per music beat of every grid for every clip."""
    sigma = _frames(ALIGNMENT_SIGMA, fps)
    return np.exp((-(distance**2) / (2 * sigma**2)).astype(np.float32)).astype(np.float64)


def _frames(frames_at_30: float, fps: float) -> float:
    """A duration given in frames at 30 fps, in frames at `fps` (exactly itself at 30 fps)."""
    return frames_at_30 * fps / REFERENCE_FPS


def _distance_to_nearest(points: np.ndarray, sorted_targets: np.ndarray) -> np.ndarray:
    """For each point, the distance to the nearest of a sorted, non-empty array of targets."""
    right = np.searchsorted(sorted_targets, points).clip(max=sorted_targets.size - 1)
    left = (right - 1).clip(min=0)
    return np.minimum(np.abs(points - sorted_targets[left]), np.abs(points - sorted_targets[right]))
