"""The validator score: one number in [0, 1] that measures how close a dance comes to the way people
dance (DESIGN §6). JUDGE.md explains every term for users; the constants, with their sources, live in
constants.py.

How it is made (each raw metric alone can be gamed, DESIGN §9):

1. **Time base.** The motion is judged at 30 fps (`JUDGE_FPS`), resampled when its file has another
   rate, so the verdict does not depend on how the dance was sampled.
2. **Gates** (validity.py, plus "not a replayed reference" when a reference is given): physical
   limits with a margin over real dancing; any failure gives 0.
3. **Terms**, each in [0, 1] and each saturating inside the range real dancers reach, blended with
   `WEIGHTS` (renormalised over the terms that can be computed: no audio means no sync or energy, no
   reference dance no similarity):
   - `sync`: beat alignment to THIS song, chance-corrected (`beat_sync`), credited from
     `SYNC_CHANCE` (what unrelated motion reaches) up to `SYNC_HUMAN` (what people reach); left out when the tracker found fewer than `MIN_SYNC_BEATS` beats, or the dance has fewer than `MIN_MOTION_BEATS` hits (then the realism model judges its slow, smooth motion). Alignment
     a = harmonic mean of BAS (music beats find a motion beat) and motion-beat precision (motion
     beats land on a music beat, judged against the tracked beats continued at their mean spacing
     over the whole clip, since trackers drop the beats of a weak intro or ending). The same is
     measured against the grid shifted by 1/8 .. 7/8 of a beat, whose mean c is what motion at an
     unrelated tempo, noise, or a dance for another song gets; sync = (a - c) / (1 - c), clipped.
     Like beat-tracking evaluation (mir_eval's AMLt), sync is the best of the allowed metrical
     levels (`SYNC_LEVELS`: every beat, every other beat, every fourth; `sync_level` in the
     metrics): dancers mark half time and the bar as often as the beat. Coarser levels must beat
     their own chance by a margin (`COARSE_LEVEL_MARGIN_Z`) so that the best of several levels does
     not lift noise; finer levels than the tracked beat are never allowed.
   - `quality`: the mean of the PFC credit (full at AIST++'s 1.33 or below), the grip credit (both
     feet sliding together no more often than people's) and the smoothness credit (full at a median
     jerk of people's, falling to 0 at the jerk gate).
   - `variety`: a person repeating a move is dancing, a copy-paste loop is not. The repeat
     residual (`repeat_residual`, the least normalised self-distance of the root-relative pose over
     lags of 0.5-4 s) is 0 for an exact loop and above 0.08 for real dancers repeating one basic
     movement: full credit from `REPEAT_RESIDUAL_HUMAN`, none at `REPEAT_RESIDUAL_EXACT`.
   - `energy`: the body's speed follows the music's loudness (phrase-level dynamics); left out when
     the loudness hardly varies.
   - `realism`: how likely the body's motion is under real human dancing: the realism model
     (realism.py, learned from real dance and shipped with the package) credits each 2-s window by
     the density of its 21 traits among real dancers' and by how much more like real windows than
     procedural ones they are; full from `REALISM_HUMAN`. With reference
     statistics (`--reference-stats`, fid.ReferenceStats) it is also held to the kinetic energies'
     z-scores against them.
   - `similarity`: closeness to the reference dance, when one exists; closer than
     `SIMILARITY_PLATEAU_M` earns nothing more, and a replay fails the `not_replayed` gate.
4. **Anti-gaming factors**: the blend is multiplied by the sync and variety credits and by the
   realism credit above a floor (`REALISM_FLOOR`): a motion that does not follow this song's beat or
   repeats itself exactly cannot collect the other terms, one that moves unlike people keeps at most
   a fifth of them.
5. **Latency**: times 0.9 + 0.1 / (1 + latency / 10 s): speed never lifts a bad dance.

Every report carries `judge_version` and `reasons`: for a score below full credit, which gate,
factor or term made it so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from a2a_cli.audio.rhythm import steady_beat_grid
from a2a_cli.frame_rate import FPS as AUDIO_FPS  # the rate of the song's features (rms, beat frames)
from a2a_cli.scoring.beats import align_to_grids, motion_beat_frames
from a2a_cli.scoring.body_stats import body_statistics
from a2a_cli.scoring.clip_batch import ClipBatch, as_clip_batch
from a2a_cli.scoring.constants import (
    COARSE_LEVEL_MARGIN_Z, CONTROL_PHASES, DOUBLE_TIME_MIN_S, OFFBEAT_MARGIN_Z, DOUBLE_SLIDE_HUMAN, DOUBLE_SLIDE_NONE, ENERGY_R_HUMAN, ENERGY_SMOOTHING_SIGMA_S, JERK_HUMAN_M_S3, JUDGE_FPS,
    JUDGE_VERSION, LATENCY_HALF_S, LATENCY_WEIGHT, LOW_CREDIT, MAX_MEDIAN_JERK_M_S3, MIN_ENERGY_VARIATION,
    MIN_MOTION_BEATS, MIN_SYNC_BEATS, PFC_HALF_CREDIT, PFC_HUMAN, REALISM_FLOOR, REALISM_HUMAN, REPEAT_RESIDUAL_EXACT, REPEAT_RESIDUAL_HUMAN, SIMILARITY_PLATEAU_M,
    SIMILARITY_SCALE_M, SYNC_CHANCE, SYNC_HUMAN, SYNC_LEVEL_TIE, SYNC_LEVELS, VARIETY_LAGS_S, WEIGHTS,
)
from a2a_cli.scoring.kinetic import kinetic_features
from a2a_cli.scoring.motion_traits import window_traits
from a2a_cli.scoring.order_stats import median
from a2a_cli.scoring.pfc import both_feet_sliding, physical_foot_contact
from a2a_cli.scoring.realism import RealismVerdict, shipped_model
from a2a_cli.scoring.similarity import REPLAY_TOLERANCE_M, aligned_joint_error, original_subnet_score, replay_distance
from a2a_cli.scoring.smoothing import gaussian_filter1d
from a2a_cli.scoring.validity import (
    Gate, at_judge_rate, gate_reasons, header_gates, measurable, motion_gates_batch, validity_values,
)

if TYPE_CHECKING:
    from a2a_cli.audio.analysis import AudioAnalysis
    from a2a_cli.motion.motion import Motion
    from a2a_cli.scoring.fid import ReferenceStats

__all__ = ["JUDGE_VERSION", "WEIGHTS", "ScoreReport", "beat_sync", "energy_following", "latency_score",
           "pfc_credit", "ramp", "repeat_residual", "score_motion", "score_motions"]


@dataclass
class ScoreReport:
    """Everything the judge measured about one motion, and its verdict.

    validator_score: in [0, 1]; gates: every gate, passed or not; components: each term's credit in
    [0, 1]; metrics: the raw measurements (units in JUDGE.md); factors: the multipliers applied to
    the blend; reasons: for a score below full credit, one line per gate, factor or term that made it so.
    """

    validator_score: float
    gates: list[Gate]
    components: dict[str, float]
    metrics: dict[str, float]
    factors: dict[str, float] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    judge_version: str = JUDGE_VERSION
    style: np.ndarray | None = None  # the dance's style (realism.RealismVerdict.style), for the validator

    @property
    def passed(self) -> bool:
        return all(g.passed for g in self.gates)

    @property
    def failed_gates(self) -> list[Gate]:
        return [g for g in self.gates if not g.passed]

    def to_dict(self) -> dict:
        def clean(x: float) -> float | None:
            return float(x) if np.isfinite(x) else None

        return {
            "validator_score": float(self.validator_score),
            "judge_version": self.judge_version,
            "passed": self.passed,
            "reasons": list(self.reasons),
            "gates": [{**g.to_dict(), "value": clean(g.value)} for g in self.gates],
            "components": {k: clean(v) for k, v in self.components.items()},
            "factors": {k: clean(v) for k, v in self.factors.items()},
            "metrics": {k: clean(v) for k, v in self.metrics.items()},
        }


def _alignments(beats: tuple[np.ndarray, np.ndarray, int], grids: np.ndarray, extended: np.ndarray,
                n_velocity: int, fps: float, extended_of: np.ndarray | None = None) -> np.ndarray:
    """(BAS, precision, their harmonic mean) of every clip against each pair of grids: (G, 3, B). BAS
    is per beat of the grid; precision judges every motion beat against the grid extended over the
    whole clip. beats: (clip index, frame, number of clips) of the clips' motion beats; grids: (G, n)
    and extended: (E, m) beat grids, one per row, NaN-padded (`align_to_grids`); extended_of: (G,),
    the row of `extended` each grid's precision is judged on (default: row g for grid g), so that
    grids judged on the same extended grid share its work."""
    bas = align_to_grids(*beats, grids, n_velocity, fps).T  # (G, B)
    precision = align_to_grids(*beats, extended, n_velocity, fps, bas=False).T
    if extended_of is not None:
        precision = precision[extended_of]
    total = bas + precision
    mean = np.where(total == 0, 0.0, 2 * bas * precision / np.where(total == 0, 1.0, total))
    return np.stack([bas, precision, mean], axis=1)


def _extended(level: np.ndarray, n_velocity: int) -> np.ndarray:
    """The level's beats continued at their mean spacing over the whole clip (and a beat beyond)."""
    period = (level[-1] - level[0]) / (level.size - 1)
    before = level[0] - period * np.arange(int(level[0] // period) + 1, 0, -1)
    after = level[-1] + period * np.arange(1, int((n_velocity - level[-1]) // period) + 2)
    return np.concatenate([before, level, after])


def _phase_grids(phases: list) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The grids every phase of every metrical level (`_levels`' tuples, one per phase) is judged on,
    all made at once: (BAS grids (G, n), one per row, NaN-padded; precision grids (E, m), likewise;
    the precision row each BAS grid is judged on (G,); each phase's first BAS row (P,); its number
    of rows (P,)).

    A phase's rows are the level itself and then, for chance, the level (a beat before it included)
    shifted by 1/8 .. 7/8 of its period, the median spacing of its beats; each is judged for
    precision on the song's grid of the level's name shifted by as much of its own period (the same
    for every level of one name: made and judged once). A level of fewer than 2 beats has no period:
    itself only, judged on itself."""
    levels = [level for _, _, level, *_ in phases]
    sizes = np.array([level.size for level in levels])
    multi = sizes >= 2
    count = np.where(multi, 1 + len(CONTROL_PHASES), 1)
    first = np.cumsum(count) - count
    padded = np.full((len(levels), max(int(sizes.max()), 1) + 1), np.nan)  # each level and at least one NaN after it
    for row, level in enumerate(levels):
        padded[row, : level.size] = level
    # each level's median spacing (`order_stats.median` of its spacings; NaN sorts last)
    spacings = np.sort(np.diff(padded, axis=1), axis=1)
    rows, middle = np.arange(len(levels)), np.maximum(sizes - 1, 1)
    below, above = spacings[rows, (middle - 1) // 2], spacings[rows, middle // 2]
    period = np.where(middle % 2 == 1, below, (below + above) / 2)
    ahead = np.concatenate([padded[:, :1] - period[:, None], padded[:, :-1]], axis=1)  # a beat before each level
    bas = np.full((int(count.sum()), padded.shape[1]), np.nan)
    bas[first] = padded
    shifted = ahead[multi, None, :] + period[multi, None, None] * CONTROL_PHASES[None, :, None]
    bas[(first[multi, None] + 1 + np.arange(len(CONTROL_PHASES))).ravel()] = shifted.reshape(-1, padded.shape[1])
    extended_rows, row_of_name, extended_of = [], {}, []
    for (name, _, level, song_grid, song_period, _), several in zip(phases, multi.tolist()):
        if not several:
            extended_of.append(sum(len(rows) for rows in extended_rows))
            extended_rows.append(level[None])
            continue
        if name not in row_of_name:
            row_of_name[name] = sum(len(rows) for rows in extended_rows)
            extended_rows.append(song_grid + song_period * _NO_SHIFT_AND_CONTROLS[:, None])
        extended_of.extend(range(row_of_name[name], row_of_name[name] + len(_NO_SHIFT_AND_CONTROLS)))
    return bas, _stacked(extended_rows), np.array(extended_of), first, count


_NO_SHIFT_AND_CONTROLS = np.concatenate([[0.0], CONTROL_PHASES])  # the song grid itself, then its shifts


def _stacked(grids: list[np.ndarray]) -> np.ndarray:
    """Blocks of beat grids (rows, n_k) as one (all rows, max n_k) array, NaN-padded."""
    out = np.full((sum(len(g) for g in grids), max(g.shape[1] for g in grids)), np.nan)
    row = 0
    for g in grids:
        out[row : row + len(g), : g.shape[1]] = g
        row += len(g)
    return out


def _judge_phases(beats: tuple[np.ndarray, np.ndarray, int], phases: list, n_velocity: int, fps: float):
    """Every phase of every metrical level (`_levels`' tuples, one per phase) judged on its
    `_phase_grids` at once: ((G, 3, B) as `_alignments` gives, each phase's first row (P,), its
    number of rows (P,))."""
    bas, extended, extended_of, first, count = _phase_grids(phases)
    return _alignments(beats, bas, extended, n_velocity, fps, extended_of), first, count


def _chance_corrected(judged: np.ndarray, first: np.ndarray, count: np.ndarray, n_beats: np.ndarray,
                      margin_z: np.ndarray, chance_floor: np.ndarray):
    """(sync, alignment, chance), each (P, B), of the motion against P metrical levels (phases) at once.

    judged: (G, 3, B), the (BAS, precision, alignment) of every phase's `_phase_grids`, phase p's
    `count[p]` grids from row `first[p]` (the level first, then the shifted ones); n_beats: (P,) the
    level's beats; margin_z: (P,); chance_floor: (P, B).

    BAS asks whether the level's beats find a motion beat; precision whether every motion beat lands
    on the song's grid for this level (the tracked beats continued over the clip, or their off-beats,
    or both for double time), whatever the level: a dancer marking the bar is on the beat, a
    3-against-4 pattern that meets the bar line once a bar is not. Chance: the mean alignment of the
    shifted grids. `margin_z` raises the bar by that many binomial standard errors of the chance level
    over the level's `n_beats`. `chance_floor`: the chance of the full grid this level takes every
    other or every fourth beat of. A random grid finds motion beats as often whichever of its beats
    are counted, so that chance, measured on more beats, holds for the level too; the level's own,
    from a handful of beats, can come out near 0 by luck, and a lucky level would then pass for a
    dancer's. A level of one grid (one beat or none) has no rhythm to follow: sync 0, chance 1.
    """
    alignment = judged[:, 2]  # (G, B)
    a = alignment[first]
    shifted = count > 1
    # each phase's shifted grids summed in row order, as a mean over them would
    # (a row of zeros after the last lets every range end at its phase's end)
    bounds = np.stack([first + 1, first + count]).T.ravel()
    sums = np.add.reduceat(np.vstack([alignment, np.zeros_like(alignment[:1])]), bounds, axis=0)[::2]
    chance = np.where(shifted[:, None], np.maximum(sums / np.maximum(count - 1, 1)[:, None], chance_floor), 1.0)
    bar = chance + margin_z[:, None] * np.sqrt(chance * (1 - chance) / n_beats[:, None])
    below = bar < 1
    sync = np.where(below, np.clip((a - bar) / np.where(below, 1 - bar, 1.0), 0.0, 1.0), 0.0)
    return sync, a, chance


def _levels(music: np.ndarray, n_velocity: int, fps: float) -> list[tuple[str, float, list[np.ndarray], np.ndarray, float, float]]:
    """The metrical levels a dancer may follow, each as (name, beats per hit, the level's beats, one
    array per phase, the song grid its precision is judged on, that grid's period, margin in standard
    errors): every beat, every other beat (two phases) and the bar (four phases), each on the
    tracked beats and on their off-beats, and double time while half a beat is at least
    `DOUBLE_TIME_MIN_S` (music frames at `fps`). Every beat has no margin and every
    off-beat a small one (`OFFBEAT_MARGIN_Z`: which of the two a tracker calls the beat depends on
    the sound, a busy arrangement can lock it onto the off-beats); every other level must beat its
    chance by `COARSE_LEVEL_MARGIN_Z`."""
    beat = float(median(np.diff(music)))
    extended = _extended(music, n_velocity)
    levels = []
    for name, shift in (("beat", 0.0), ("offbeat", beat / 2)):
        on = music + shift
        on = on[(on >= 0) & (on < n_velocity)]
        for per_hit in SYNC_LEVELS:
            step = int(per_hit)
            if step == 1 or on.size >= 2 * step:
                margin = (0.0 if shift == 0 else OFFBEAT_MARGIN_Z) if step == 1 else COARSE_LEVEL_MARGIN_Z
                levels.append((name, per_hit, [on[offset::step] for offset in range(step)], extended + shift, beat, margin))
    if beat / 2 >= DOUBLE_TIME_MIN_S * fps:
        halves = np.sort(np.concatenate([extended, extended + beat / 2]))
        levels.append(("double", 0.5, [halves[(halves >= 0) & (halves < n_velocity)]], halves, beat / 2, COARSE_LEVEL_MARGIN_Z))
    return levels


def beat_sync(joints, music_beats: np.ndarray, fps: float) -> dict[str, float] | dict[str, np.ndarray]:
    """BAS, precision, and the chance-corrected alignment at the best metrical level (module doc).

    joints: (T, 24, 3) positions in metres, a batch (..., T, 24, 3) or a ClipBatch (the clips are
    judged against the same song: the levels and their grids are made once); music_beats: beat
    positions in frames at `fps` (fractions allowed); fps: the motion's frame rate. `sync_level` is
    the best level's beats per hit (0.5: double time, 1: the beat, 2: every other beat, 4: the bar)
    and `sync_offbeat` 1 when the dancer hits the off-beats ("and"). One clip gives floats, a batch
    arrays of its shape.
    """
    batch = as_clip_batch(joints, min_frames=2)
    clip, frame = motion_beat_frames(batch, fps)
    beats = (clip, frame, batch.n_clips)
    n_velocity = batch.n_frames - 1
    music = np.sort(np.asarray(music_beats, dtype=np.float64).ravel())
    music = music[(music >= 0) & (music < n_velocity)]
    n_beats = np.bincount(clip, minlength=batch.n_clips).astype(np.float64)
    if music.size < 2:
        bas, precision, a = _alignments(beats, music[None], music[None], n_velocity, fps)[0]
        zero, one = np.zeros(batch.n_clips), np.ones(batch.n_clips)
        found = {"bas": bas, "beat_precision": precision, "beat_alignment": a, "beat_chance": one,
                 "sync_level": one, "sync_offbeat": zero, "sync": zero, "motion_beats": n_beats}
    else:
        phases = [(name, per_hit, level, grid, period, z) for name, per_hit, levels, grid, period, z in _levels(music, n_velocity, fps)
                  for level in levels]
        judged, first, count = _judge_phases(beats, phases, n_velocity, fps)
        n_level_beats = np.array([level.size for _, _, level, _, _, _ in phases])
        margin_z = np.array([z for *_, z in phases])
        names = [name for name, *_ in phases]
        # every beat comes first (the first level of each name): its chance is the floor of its sparser levels
        lead = np.array([names.index(name) for name in names])
        own = _chance_corrected(judged, first, count, n_level_beats, margin_z, np.zeros((len(phases), batch.n_clips)))[2]
        floor = np.where((lead != np.arange(len(phases)))[:, None], own[lead], 0.0)
        syncs, alignment, chance = _chance_corrected(judged, first, count, n_level_beats, margin_z, floor)
        # The best level; levels within SYNC_LEVEL_TIE of it count as equal and the first listed wins (a
        # dancer on every beat also marks the bar, and is reported at the beat).
        best = syncs.max(axis=0)
        chosen = np.argmax(syncs >= best - SYNC_LEVEL_TIE, axis=0)
        clips = np.arange(batch.n_clips)
        found = {"bas": judged[0, 0], "beat_precision": judged[0, 1],
                 "beat_alignment": alignment[chosen, clips], "beat_chance": chance[chosen, clips],
                 "sync_level": np.array([per_hit for _, per_hit, *_ in phases])[chosen],
                 "sync_offbeat": np.array([float(name == "offbeat") for name in names])[chosen],
                 "sync": best, "motion_beats": n_beats}
    if batch.lead == ():
        return {k: float(v[0]) for k, v in found.items()}
    return {k: batch.per_clip(np.asarray(v, dtype=np.float64)) for k, v in found.items()}


def repeat_residual(joints, fps: float) -> float | np.ndarray:
    """How far a dance is from repeating itself exactly: the least, over lags of 0.5-4 s, of
    mean |pose(t + L) - pose(t)|^2 / (2 * pose variance), root-relative poses (so travelling does not
    hide a loop). About 1 for unrelated poses, 0 for an exact loop (module doc).

    joints: (T, 24, 3) positions in metres, a batch (..., T, 24, 3) or a ClipBatch (computed in its
    precision: the judge's float32); fps: frames per second. A motion too short for the shortest
    lag, or a static one, gives 0. One clip gives a float, a batch an array.
    """
    import scipy.fft  # here, not at the top: it adds 0.2 s to every command that imports the judge

    batch = joints if isinstance(joints, ClipBatch) else ClipBatch.from_joints(np.asarray(joints, dtype=np.float64))
    n = batch.n_frames
    lo = max(1, int(round(VARIETY_LAGS_S[0] * fps)))
    hi = min(int(round(VARIETY_LAGS_S[1] * fps)), n // 2)
    x = batch.pose_deviation  # (B, 69, T): the pelvis's own relative positions are 0
    residual = np.zeros(batch.n_clips)
    # one zero-padded buffer for every chunk (zero-padded past n + hi, so that no lag up to hi wraps
    # round; scipy transforms a padded array faster than it pads): each chunk writes only its frames
    padded = np.zeros((min(_RESIDUAL_CLIPS, batch.n_clips),) + x.shape[1:2] + (scipy.fft.next_fast_len(n + hi, real=True),),
                      dtype=x.dtype)
    for first in range(0, batch.n_clips, _RESIDUAL_CLIPS):
        part = slice(first, first + _RESIDUAL_CLIPS)
        residual[part] = _residual(x[part], lo, hi, padded[: len(x[part])])
    residual = batch.per_clip(residual)
    return float(residual) if batch.lead == () else residual


_RESIDUAL_CLIPS = 16  # clips per FFT: their spectra (about 2 MB) stay in cache


def _residual(x: np.ndarray, lo: int, hi: int, padded: np.ndarray) -> np.ndarray:
    """`repeat_residual` of poses x (b, channels, T), centred on each channel's mean over the clip,
    over lags lo..hi frames: (b,). padded: (b, channels, size), zero from frame T on, size >= T + hi
    (a fast FFT length): x is copied into its first T frames."""
    import scipy.fft  # (imported by repeat_residual already)

    n = x.shape[-1]
    # sum_t |x(t + L) - x(t)|^2 = sum |x(t + L)|^2 + sum |x(t)|^2 - 2 sum x(t + L).x(t), for every lag L at
    # once: the squared norms by cumulative sums (in float64), the cross term by one FFT correlation
    # in x's precision.
    norms = np.zeros((len(x), n + 1))
    np.cumsum(np.einsum("bct,bct->bt", x, x), axis=-1, dtype=np.float64, out=norms[:, 1:])
    spread = 2.0 * norms[:, n] / n  # twice the pose variance (x is centred)
    moving = spread > 1e-12
    if hi < lo or not moving.any():
        return np.zeros(len(x))
    size = padded.shape[-1]
    padded[..., :n] = x
    flat = scipy.fft.rfft(padded, axis=-1).view(x.dtype)  # (b, channels, 2 (size // 2 + 1)): real, imaginary, ...
    power = np.einsum("bcf,bcf->bf", flat, flat)
    cross = scipy.fft.irfft(power[:, 0::2] + power[:, 1::2], size, axis=-1)
    lags = np.arange(lo, hi + 1)
    total = (norms[:, n : n + 1] - norms[:, lags]) + norms[:, n - lags] - 2.0 * cross[:, lags]
    least = np.min(np.maximum(total, 0.0) / (n - lags), axis=-1)
    return np.where(moving, least / np.where(moving, spread, 1.0), 0.0)  # a static pose repeats nothing: 0


def ramp(value: float, none: float, full: float) -> float:
    """The credit of a measured value: 0 at `none`, 1 at `full`, linear between (either direction),
    clipped. Shared by the dance and gesture judges' terms."""
    return min(max((float(value) - none) / (full - none), 0.0), 1.0)


# Clips of up to this many frames are smoothed by one product with a cached (n, n) matrix (8 MB at
# most; the validator's answers, judged as a batch, are this short); longer ones by the filter itself,
# whose memory is linear in n (a 10-min answer is 18,000 frames: its matrix would take 2.6 GB).
_SMOOTHING_MATRIX_MAX_FRAMES = 1024


def _smooth(x: np.ndarray, fps: float) -> np.ndarray:
    """`ENERGY_SMOOTHING_SIGMA_S` of Gaussian smoothing along the first axis of x (T, ...), every clip
    of a batch at once."""
    x = np.asarray(x, dtype=np.float64)
    sigma = ENERGY_SMOOTHING_SIGMA_S * fps
    if len(x) > _SMOOTHING_MATRIX_MAX_FRAMES:
        return gaussian_filter1d(x, sigma, axis=0)
    return (_smoothing_matrix(len(x), sigma) @ x.reshape(len(x), -1)).reshape(x.shape)


@lru_cache(maxsize=8)
def _smoothing_matrix(n: int, sigma: float) -> np.ndarray:
    """gaussian_filter1d along n samples as an (n, n) matrix: one product smooths every clip at once."""
    return gaussian_filter1d(np.eye(n), sigma, axis=0)


def energy_following(joints, rms: np.ndarray, fps: float) -> tuple[float, float] | tuple[np.ndarray, np.ndarray] | None:
    """(credit, r): r the correlation of the smoothed body speed with the smoothed loudness, the credit
    min(1, (1 + r) / (1 + ENERGY_R_HUMAN)); None when the music's loudness hardly varies.

    joints: (T, 24, 3) positions, a batch (..., T, 24, 3) or a ClipBatch; rms: loudness per 30 fps
    frame; fps: the motion's rate. One clip gives floats, a batch arrays of its shape.
    """
    batch = as_clip_batch(joints, min_frames=2)
    speed = _smooth(batch.kinetic_velocity, fps).T  # (B, T-1): the kinetic velocity, smoothed
    loud = np.asarray(rms, dtype=np.float64)
    if loud.size < 2:
        return None
    n = speed.shape[-1]
    loud = np.interp(np.arange(n) + 0.5, np.arange(loud.size) * fps / AUDIO_FPS, loud)
    loud = _smooth(loud, fps)
    if loud.std() < MIN_ENERGY_VARIATION * max(loud.mean(), 1e-12):
        return None  # flat loudness: nothing to follow
    # np.corrcoef's arithmetic, for every clip at once
    speed_centred, loud_centred = speed - speed.mean(axis=-1, keepdims=True), loud - loud.mean()
    covariance = speed_centred @ loud_centred / (n - 1)
    scale = np.sqrt(np.sum(speed_centred * speed_centred, axis=-1) / (n - 1)) * np.sqrt(loud_centred @ loud_centred / (n - 1))
    moving = speed.std(axis=-1) >= 1e-9  # constant speed follows nothing
    r = np.where(moving, np.clip(covariance / np.where(moving, scale, 1.0), -1.0, 1.0), 0.0)
    credit = np.minimum(1.0, (1.0 + r) / (1.0 + ENERGY_R_HUMAN))
    if batch.lead == ():
        return float(credit[0]), float(r[0])
    return batch.per_clip(credit), batch.per_clip(r)


def latency_score(latency_s: float) -> float:
    """1 / (1 + latency / LATENCY_HALF_S): 1 for an instant answer, 0.5 at 10 s."""
    return 1.0 / (1.0 + max(float(latency_s), 0.0) / LATENCY_HALF_S)


def score_motion(motion: Motion, audio: AudioAnalysis | None = None, *, reference: Motion | None = None,
                 reference_stats: ReferenceStats | None = None, latency_s: float | None = None,
                 replay_tolerance_m: float | None = None) -> ScoreReport:
    """Judge one dance (`score_motions` of one). Never raises on motion content: bad numbers fail a gate.

    motion: the Motion to judge (any frame rate; judged at JUDGE_FPS); audio: its song's
    `AudioAnalysis`, or None to judge without music (no sync, no energy, no frame-count gate);
    reference: a reference Motion for the prompt (similarity and the replay gate), or None;
    reference_stats: `fid.ReferenceStats` of real dances, which the realism term is also held to;
    latency_s: the miner's answer time in seconds, or None; replay_tolerance_m: overrides
    `similarity.REPLAY_TOLERANCE_M`.
    """
    return score_motions([motion], audio, reference=reference, reference_stats=reference_stats, latency_s=latency_s,
                         replay_tolerance_m=replay_tolerance_m)[0]


def score_motions(motions: Sequence[Motion], audio: AudioAnalysis | None = None, *, reference: Motion | None = None,
                  reference_stats: ReferenceStats | None = None, latency_s: float | Sequence[float | None] | None = None,
                  replay_tolerance_m: float | None = None) -> list[ScoreReport]:
    """Judge many answers to one prompt: one report per motion, the same as `score_motion` gives each.

    Arguments as `score_motion`'s; latency_s may also give one latency (or None) per motion. The
    answers that can be measured are judged at JUDGE_FPS, those of equal length there in batches of
    up to `_BATCH_CLIPS` (a validator's answers to one prompt): every metric runs once over a batch,
    the song's beat grids and loudness are prepared once per batch, and only the reports are made
    one by one. Every metric gives a clip the same number whatever batch it is in.
    """
    latencies = list(latency_s) if isinstance(latency_s, (Sequence, np.ndarray)) else [latency_s] * len(motions)
    if len(latencies) != len(motions):
        raise ValueError(f"{len(motions)} motions but {len(latencies)} latencies")
    reference_joints = None if reference is None else np.asarray(at_judge_rate(reference).joints, dtype=np.float64)
    header, judged, groups = [], {}, {}
    for i, motion in enumerate(motions):
        expected = None if audio is None else int(round(audio.duration_s * float(motion.fps)))
        header.append(header_gates(motion, expected))
        if measurable(header[-1]):
            judged[i] = at_judge_rate(motion)
            groups.setdefault(judged[i].n_frames, []).append(i)
    measured = {}
    for same_length in groups.values():
        for first in range(0, len(same_length), _BATCH_CLIPS):
            indices = same_length[first : first + _BATCH_CLIPS]
            found = _measure([judged[i] for i in indices], audio, reference_joints, reference_stats,
                             [latencies[i] for i in indices], replay_tolerance_m)
            measured.update(zip(indices, found))
    return [_report(header[i] + measured[i].gates, measured[i], latencies[i]) if i in measured else _report(header[i], None, None)
            for i in range(len(motions))]


# Answers measured together at most: a batch's arrays stay a few tens of MB (a validator may judge
# hundreds of answers to one prompt), and the per-batch work (the song's grids) is already shared.
_BATCH_CLIPS = 64


@dataclass
class _Measured:
    """What the judge measured about one motion at its rate: the motion gates, the terms and raw
    metrics (in report order), the realism verdict, and the kinetic statistics' words when they,
    not the realism model, set the realism term."""

    gates: list[Gate]
    components: dict[str, float]
    metrics: dict[str, float]
    verdict: RealismVerdict
    kinetic_unlike: list[str] | None = None


def _measure(motions: list[Motion], audio, reference_joints, stats, latencies: list, replay_tolerance_m) -> list[_Measured]:
    """Measure motions of equal length at the judge's rate as one batch: every gate and term."""
    fps = JUDGE_FPS
    # One float32 batch (the joints' own precision, as Motion keeps them) shared by the gates and every
    # term; the sums that need it are taken in float64, and each clip's numbers do not depend on the
    # batch it is in.
    batch = ClipBatch.from_clips([m.joints for m in motions])
    motion_gate_lists, jerk = _validity(motions, batch, fps)
    pfc = physical_foot_contact(batch, fps)
    sliding = both_feet_sliding(batch, fps)
    residual = repeat_residual(batch, fps)
    sync = energy = None
    if audio is not None:
        sync = beat_sync(batch, steady_beat_grid(audio.beat_frames, audio.tempo_bpm) * fps / AUDIO_FPS, fps)
        energy = energy_following(batch, audio.rms, fps)
    verdicts = shipped_model().judge_batch(window_traits(batch, fps))
    body = body_statistics(batch, fps)
    kinetic = None if stats is None else _kinetic_distance(batch, stats)
    # Python floats, one dict per clip, before the per-clip loop: indexing numpy arrays clip by clip costs more
    pfc, sliding, residual = pfc.tolist(), sliding.tolist(), residual.tolist()
    sync_of = None if sync is None else _per_clip(sync)
    enough_music_beats = audio is not None and np.size(audio.beat_frames) >= MIN_SYNC_BEATS
    energy_of = None if energy is None else list(zip(energy[0].tolist(), energy[1].tolist()))
    body_of = _per_clip(body)
    out = []
    for row, motion in enumerate(motions):
        gates = motion_gate_lists[row]
        metrics: dict[str, float] = {}
        components: dict[str, float] = {}
        if reference_joints is not None:
            gates.append(_similarity(motion.joints.astype(np.float64), reference_joints, latencies[row], replay_tolerance_m,
                                     metrics, components))
        _quality(pfc[row], sliding[row], jerk[row], metrics, components)
        metrics["repeat_residual"] = residual[row]
        components["variety"] = ramp(residual[row], REPEAT_RESIDUAL_EXACT, REPEAT_RESIDUAL_HUMAN)
        if sync_of is not None:
            metrics.update(sync_of[row])
            if enough_music_beats and metrics["motion_beats"] >= MIN_MOTION_BEATS:
                components["sync"] = ramp(metrics["sync"], SYNC_CHANCE, SYNC_HUMAN)
        if energy_of is not None:
            components["energy"], metrics["energy_r"] = energy_of[row]
        verdict = verdicts[row]
        metrics["realism_model"] = verdict.credit
        metrics.update(body_of[row])
        components["realism"] = ramp(verdict.credit, 0.0, REALISM_HUMAN)
        measured = _Measured(gates, components, metrics, verdict)
        if kinetic is not None:
            _hold_to_kinetic(measured, float(kinetic[row]))
        out.append(measured)
    return out


def _validity(motions: list[Motion], batch: ClipBatch, fps: float) -> tuple[list[list[Gate]], list[float]]:
    """Each motion's motion gates and typical jerk (`validity_values`), from the judge's float32
    batch of their joint positions (its frame steps and joint speeds shared with the terms). Motions
    with rotations and joint-position motions have different gates: one batch for each."""
    gates: list[list[Gate]] = [[] for _ in motions]
    jerk = [0.0] * len(motions)
    for group in ([i for i, m in enumerate(motions) if m.poses is not None], [i for i, m in enumerate(motions) if m.poses is None]):
        if not group:
            continue
        part = batch if len(group) == len(motions) else ClipBatch(np.ascontiguousarray(batch.positions[..., group]), (len(group),))
        poses = [motions[i].poses for i in group] if motions[group[0]].poses is not None else None
        values = validity_values(part, fps, poses)
        for i, clip_gates, clip_jerk in zip(group, motion_gates_batch(values), np.asarray(values["jerk"], dtype=np.float64).tolist()):
            gates[i], jerk[i] = clip_gates, clip_jerk
    return gates, jerk


def _per_clip(found: dict[str, np.ndarray]) -> list[dict[str, float]]:
    """{name: value per clip (B,)} as one {name: Python float} per clip."""
    names = list(found)
    return [dict(zip(names, values)) for values in zip(*(np.asarray(v, dtype=np.float64).tolist() for v in found.values()))]


def _report(gates: list[Gate], measured: _Measured | None, latency_s: float | None) -> ScoreReport:
    """One motion's report from its gates (header, motion and replay) and measurements (None when the
    header gates left nothing measurable): the blend, the factors, the score and the reasons."""
    components = {} if measured is None else measured.components
    metrics = {} if measured is None else measured.metrics
    style = None if measured is None else measured.verdict.style
    factors: dict[str, float] = {}
    metrics.update({g.name: g.value for g in gates})
    if not all(g.passed for g in gates) or not components:
        return ScoreReport(0.0, gates, components, metrics, factors, _reasons(gates, components, factors, metrics, []), style=style)
    total = sum(WEIGHTS[k] for k in components)
    blend = sum(WEIGHTS[k] * v for k, v in components.items()) / total
    if "sync" in components:
        factors["sync"] = components["sync"]
    factors["variety"] = components["variety"]
    factors["realism"] = REALISM_FLOOR + (1.0 - REALISM_FLOOR) * components["realism"]
    if latency_s is not None:
        factors["latency"] = 1.0 - LATENCY_WEIGHT + LATENCY_WEIGHT * latency_score(latency_s)
    score = min(max(blend * math.prod(factors.values()), 0.0), 1.0)
    metrics["blend"] = blend
    unlike = []
    if factors["realism"] < 1.0:  # the words are needed only for a realism reason
        unlike = measured.kinetic_unlike if measured.kinetic_unlike is not None else measured.verdict.unlike_people(shipped_model())
    return ScoreReport(score, gates, components, metrics, factors, _reasons(gates, components, factors, metrics, unlike), style=style)


def _similarity(joints, reference_joints, latency_s, replay_tolerance_m, metrics: dict, components: dict) -> Gate:
    """The similarity term and the `not_replayed` gate against a reference dance (both at the judge's rate)."""
    error = aligned_joint_error(joints, reference_joints)
    original = original_subnet_score(joints, reference_joints, latency_s)
    copy = replay_distance(joints, reference_joints, JUDGE_FPS)
    metrics.update(aligned_joint_error_m=error, original_subnet_reward=original.reward,
                   original_subnet_rmse_cm=original.rmse_cm)
    tolerance = REPLAY_TOLERANCE_M if replay_tolerance_m is None else replay_tolerance_m
    replay = copy < tolerance
    components["similarity"] = float(np.exp(-max(error, SIMILARITY_PLATEAU_M) / SIMILARITY_SCALE_M))
    return Gate("not_replayed", not replay, copy, tolerance, "a copy of the secret reference dance (m)" if replay else "ok")


def pfc_credit(pfc: float) -> float:
    """The quality credit of a PFC value: 1 up to AIST++'s own PFC_HUMAN, half at PFC_HALF_CREDIT (the
    top of real dancing), 1 / (1 + (pfc - PFC_HUMAN) / (PFC_HALF_CREDIT - PFC_HUMAN)) in between and beyond."""
    return 1.0 / (1.0 + max(float(pfc) - PFC_HUMAN, 0.0) / (PFC_HALF_CREDIT - PFC_HUMAN))


def _quality(pfc: float, sliding: float, jerk: float, metrics: dict, components: dict) -> None:
    """The quality term: the mean of the PFC, grip and smoothness credits, each full at people's level."""
    smooth = ramp(jerk, MAX_MEDIAN_JERK_M_S3, JERK_HUMAN_M_S3) if math.isfinite(jerk) else 0.0
    metrics.update(pfc=pfc, pfc_credit=pfc_credit(pfc), both_feet_sliding=sliding,
                   grip_credit=ramp(sliding, DOUBLE_SLIDE_NONE, DOUBLE_SLIDE_HUMAN), smoothness_credit=smooth)
    components["quality"] = (metrics["pfc_credit"] + metrics["grip_credit"] + smooth) / 3


def _kinetic_distance(batch: ClipBatch, stats) -> np.ndarray:
    """d per clip (B,): the RMS z-score of the clip's kinetic energies against the real dances' of
    `stats` (fid.ReferenceStats), not the expenditure columns, which mostly measure body shape and
    travel (kinetic.py). Measured in float64: a float32 product's sums depend on the batch's size."""
    precise = ClipBatch(batch.positions.astype(np.float64), batch.lead)  # its weighted sums as they always were
    z = stats.kinetic.normalise(np.asarray(kinetic_features(precise), dtype=np.float64))
    energies = z.reshape(batch.n_clips, -1, 3)[:, :, :2]  # per joint: horizontal, vertical kinetic energy
    return np.sqrt(np.mean(energies.reshape(batch.n_clips, -1) ** 2, axis=-1))


def _hold_to_kinetic(measured: _Measured, d: float) -> None:
    """With reference statistics the realism term is also held to exp(-max(d - 1, 0) / 2), d the clip's
    `_kinetic_distance`; when that is the lower credit, its words explain the realism factor."""
    measured.metrics["kinetic_zscore"] = d
    kinetic = float(np.exp(-max(d - 1.0, 0.0) / 2.0))
    if kinetic < measured.components["realism"]:
        measured.kinetic_unlike = [f"kinetic energies {d:.1f} standard deviations from your reference dances'"]
    measured.components["realism"] = min(measured.components["realism"], kinetic)


# What a low credit means, for the reasons of a report (term or factor name -> explanation).
_LOW_MEANING = {
    "sync": "the motion does not follow this song's beat",
    "variety": "the dance repeats itself exactly (a loop)",
    "quality": "feet slide or the motion is jerky beyond people's",
    "energy": "the body's energy does not follow the music's loudness",
    "realism": "the body moves unlike real dancers",
    "similarity": "far from the reference dance",
    "latency": "the answer was slow",
}


def _reasons(gates: list[Gate], components: dict, factors: dict, metrics: dict, unlike: list[str]) -> list[str]:
    """One line per gate, factor or term that holds the score down, the weightiest first, and a note
    when sync could not be judged; `unlike`: the realism model's words for what is unlike people,
    added to the realism line."""
    failed = [g for g in gates if not g.passed]
    if failed:
        return gate_reasons(failed)
    reasons = [f"{name} factor {value:.2f}: {_LOW_MEANING[name]}" + (f": {'; '.join(unlike)}" if name == "realism" and unlike else "")
               for name, value in factors.items() if value < 1.0 and name != "latency"]
    low = sorted((v, k) for k, v in components.items() if v < LOW_CREDIT and k not in factors)
    notes = []
    if "sync" not in components and metrics.get("motion_beats", MIN_MOTION_BEATS) < MIN_MOTION_BEATS:
        notes.append(f"sync not judged: {metrics['motion_beats']:.0f} hits (motion beats) in the clip, too few to show a rhythm")
    return reasons + [f"{name} {value:.2f}: {_detail(name, metrics)}" for value, name in low] + notes


def _detail(name: str, metrics: dict) -> str:
    """A term's explanation with the measurement behind it."""
    if name == "quality":
        return (f"{_LOW_MEANING[name]} (PFC {metrics['pfc']:.2f}, people ~{PFC_HUMAN:g}; both feet sliding in "
                f"{metrics['both_feet_sliding']:.0%} of frames; jerk {metrics['jerk']:.0f} m/s^3)")
    return _LOW_MEANING[name]
