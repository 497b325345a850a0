"""A dance from a motion library: segments chosen for the song, re-timed to its beats, joined and blended.

Planning (`plan_segments`). The song's beat grid (steady where the tempo is) is extended a few
beats past both ends of the song. The dance is a chain of segments, each a run of one clip's
beats covering one or two bars (`SEGMENT_BEATS`), laid at a steady rate on a whole number of
hits (a hit every beat or every other beat, `HIT_BEATS`), so that its first and last beats fall
on song beats; its inner beats (the dancer's hits) are moved onto the grid's hit points where
they are within `_SNAP_FRAMES`. At every join the next segment is drawn among the best of all
runs by: how far its first beat's join features (pose, velocity, planted feet) are from those of
the beat where the last segment ended (none when it simply goes on in the same clip), how many of
its hits would miss the song's beats and of the song's hit points would find no hit (`_misfit`:
what the judge's beat alignment counts), how far the rank of the speed it would be danced at (its
library speed times its stretch) is from the rank of the song's loudness over the same beats
(smoothed as the judge smooths it, `beat_loudness`), how much it must be stretched, and how far it
would carry the dancer from the middle of the stage. Runs holding a beat used in the last
`REUSE_STRETCH_S` of the song are out, unless nothing else is left (the library is then too small
for the song: the plan counts those reuses).

Synthesis (`render_plan`). Each segment is sampled at the song's frames through a time warp
(`_warp`: steady around the beats) (song beats -> library beats), rotations slerped between neighbouring library frames.
A join is blended `JOIN_DELAY_FRAMES` after the hit it is planned at (a blend's extra speed on the
hit would move it off the beat). Its root path is turned about the vertical and shifted so that at the join it continues the last
segment's (at the planted foot when both have one planted, else at the root). Over `BLEND_FRAMES`
on each side of a join the two segments are blended (rotations on the sphere, a
two-step weight, `_two_step`); a foot planted on both sides of a join is held where it was by leg IK
(`feet.pin_ankles`) until it lifts in the new segment. Every other frame is a library frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from a2a_cli.frame_rate import FPS
from a2a_cli.generation.library.index import JOIN_MARGIN_FRAMES, MotionLibrary, heading
from a2a_cli.motion.rotations import axis_angle_to_quaternion, quaternion_to_axis_angle, slerp
from a2a_cli.scoring.constants import ENERGY_SMOOTHING_SIGMA_S
from a2a_cli.scoring.smoothing import gaussian_filter1d

__all__ = [
    "BLEND_FRAMES", "CHOICES", "JOIN_DELAY_FRAMES", "HIT_BEATS", "REUSE_STRETCH_S", "SEGMENT_BEATS", "SHORTLIST", "Plan",
    "Segment",
    "beat_loudness", "render_plan", "plan_segments", "song_grid",
]

BLEND_FRAMES = 4  # frames blended on each side of a join (9 in all, 0.3 s)
# A join is blended this many frames after its segment's first hit at most (half the way to the next
# at least); both clips hold JOIN_MARGIN_FRAMES of motion past a beat, enough for the blend.
JOIN_DELAY_FRAMES = JOIN_MARGIN_FRAMES - BLEND_FRAMES - 2
HIT_BEATS = (1, 2)  # the dancer's hits fall on every beat, or every other beat at fast tempi
SEGMENT_BEATS = (4, 8)  # a segment covers one or two bars of the song (at least)
REUSE_STRETCH_S = 60.0  # no library beat is danced twice within this much of the song
CHOICES = 4  # the next segment is drawn among the best this many
SHORTLIST = 256  # runs whose beat fit is measured first at each join (plan_segments)
STAGE_RADIUS_M = 1.0  # beyond this from the middle of the stage a segment costs more
_STRETCH_LIMIT = 1.8  # a segment re-timed by more than this factor (either way) is not used
# A hit this many frames (at 30 fps) or less from a song beat is on it (inside the judge's tolerance).
_HIT_TOLERANCE_FRAMES = 2.0
# An inner hit this close (frames) to a hit point of the grid is moved onto it (the warp's rate
# changes a little between the hits).
_SNAP_FRAMES = 2.5
# Cost weights: join distance (m, see index.join_features), energy rank difference, log-stretch,
# metres past the stage radius, the fraction of the run's inner hits off the song's beats. The energy
# weight is what makes the dance follow the loudness (the judge's `energy` term): at 0.6 joins and
# beat fit outweighed it and the dance's speed was uncorrelated with the loudness (median r 0.1).
_W_JOIN, _W_ENERGY, _W_STRETCH, _W_STAGE, _W_HIT = 1.0, 3.0, 0.8, 0.5, 4.0
_BIG = 10**6


@dataclass(frozen=True)
class Segment:
    """Library beats first_beat..last_beat (indices into MotionLibrary.beats, one clip) danced at
    song frames song_beats (float, one per library beat, increasing; the first and last on grid
    points); knots: the library frames (float) laid on those frames (the beats themselves)."""

    first_beat: int
    last_beat: int
    song_beats: np.ndarray
    knots: np.ndarray


@dataclass
class Plan:
    segments: list[Segment] = field(default_factory=list)
    reused: int = 0  # segments that had to reuse a beat within REUSE_STRETCH_S


def song_grid(beat_frames: np.ndarray, tempo_bpm: float, n_frames: int) -> np.ndarray:
    """The song's beats (float frames at 30 fps), steadied, and continued at their median spacing
    from at least 2 beats before frame 0 to 12 past the end (a song with under 2 tracked beats gets
    its tempo's grid, 120 BPM if it has none)."""
    from a2a_cli.audio.rhythm import steady_beat_grid

    beats = steady_beat_grid(np.asarray(beat_frames), tempo_bpm or None)
    if beats.size >= 2:
        period = float(np.median(np.diff(beats)))
    else:
        period = 60.0 * FPS / (tempo_bpm if tempo_bpm and tempo_bpm > 0 else 120.0)
        beats = np.array([beats[0] if beats.size else 0.0])
    before = beats[0] - period * np.arange(int(beats[0] // period) + 2, 0, -1)
    after = beats[-1] + period * np.arange(1, int(max(n_frames - beats[-1], 0) // period) + 13)
    return np.concatenate([before, beats, after])


def beat_loudness(rms: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """(len(grid),) the song's loudness at each `grid` point (float frames at 30 fps), from `rms` (one
    value per 30 fps frame) smoothed as the judge smooths it (`ENERGY_SMOOTHING_SIGMA_S`): what the
    dancer's speed is correlated with, not the loudness of the beat's own onset. Zeros without audio."""
    rms = np.asarray(rms, np.float64)
    if rms.size == 0:
        return np.zeros(len(grid))
    smooth = gaussian_filter1d(rms, ENERGY_SMOOTHING_SIGMA_S * FPS)
    return np.interp(np.asarray(grid, np.float64), np.arange(rms.size), smooth)


def _misfit(beats: np.ndarray, starts: np.ndarray, ends: np.ndarray, span: np.ndarray, grid: np.ndarray,
            k: int, hit: np.ndarray) -> np.ndarray:
    """(C,) for runs of library `beats` (float frames) starts[c]..ends[c], each laid at a steady rate
    on song `grid` points k..k + span[c]: the fraction of their inner beats (the dancer's hits) and of
    the inner hit points (every hit[c]-th grid point from k) that find no partner of the other kind
    within `_HIT_TOLERANCE_FRAMES`: off-beat hits cost the judge precision, beats without a hit cost
    it alignment."""
    inner = starts[:, None] + np.arange(1, max(int((ends - starts).max()), 1))[None, :]
    has_beat = inner < ends[:, None]
    rate = (grid[k + span] - grid[k]) / (beats[ends] - beats[starts])  # song frames per library frame
    at = grid[k] + (beats[np.minimum(inner, beats.size - 1)] - beats[starts, None]) * rate[:, None]
    steps = np.arange(1, max(int(span.max()), 2))[None, :] * hit[:, None]
    has_point = steps < span[:, None]
    points = grid[np.minimum(k + steps, grid.size - 1)]
    near = np.abs(at[:, :, None] - points[:, None, :]) <= _SNAP_FRAMES
    off = (has_beat & ~(near & has_point[:, None, :]).any(axis=2)).sum(axis=1)
    missed = (has_point & ~(near & has_beat[:, :, None]).any(axis=1)).sum(axis=1)
    return (off + missed) / np.maximum(has_beat.sum(axis=1) + has_point.sum(axis=1), 1)


def _ranks(values: np.ndarray) -> np.ndarray:
    """Percentile ranks in [0, 1] of `values`, equal values sharing their mean rank (the loudness
    held past the song's end ranks as one) (NaN stays NaN)."""
    out = np.full(values.shape, np.nan)
    ok = np.isfinite(values)
    finite = values[ok]
    order = np.argsort(finite, kind="stable")
    ordered = finite[order]
    starts_tie = np.concatenate([[True], ordered[1:] != ordered[:-1]]) if finite.size else np.zeros(0, bool)
    first = np.flatnonzero(starts_tie)  # each run of equal values: its first and last sorted position
    last = np.concatenate([first[1:], [finite.size]]) - 1
    ranks = np.empty(finite.size)
    ranks[order] = ((first + last) / 2)[np.cumsum(starts_tie) - 1]
    out[ok] = ranks / max(finite.size - 1, 1)
    return out


def plan_segments(library: MotionLibrary, grid: np.ndarray, song_energy: np.ndarray, n_frames: int,
                  rng: np.random.Generator, usable: np.ndarray | None = None) -> Plan:
    """The segments of a dance of `n_frames` on the song beat `grid` (float frames, `song_grid`);
    `song_energy` (len(grid),) the song's loudness at each grid beat (any scale; `beat_loudness`); `rng` draws;
    `usable` (B,) bool: the library beats a segment may start from (None: all; a style's clips)."""
    period = float(np.median(np.diff(grid)))
    beats = library.beats.astype(np.float64)
    n_beats = beats.size
    song_rank = _ranks(np.asarray(song_energy, np.float64))
    trans = library.trans
    yaw = heading(library.poses[library.beats, 0])
    energy_sum = np.concatenate([[0.0], np.cumsum(np.nan_to_num(library.energy))])  # runs never hold a NaN
    usable = np.ones(n_beats, bool) if usable is None else np.asarray(usable, bool)

    plan = Plan()
    last_used = np.full(n_beats, -np.inf)  # song frame at which each library beat was last danced
    k, previous = 0, -1  # the grid point where the next segment starts; the library beat the last ended on
    place, facing = np.zeros(2), 0.0  # the dancer's root (x, z) and heading at grid point k
    while True:
        target = int(rng.choice(SEGMENT_BEATS))
        # each run from a beat to the first beat of its clip at least (target - hit / 2) song beats on,
        # laid on the whole number of hits nearest its length, for a hit on every beat and on every other
        starts, ends, span, hits = [], [], [], []
        for hit in HIT_BEATS:
            end = np.minimum(np.searchsorted(beats, beats + (target - hit / 2) * period), n_beats - 1)
            length = hit * np.maximum(1, np.round((beats[end] - beats) / (hit * period))).astype(np.int64)
            ok = np.flatnonzero((library.beat_clip[end] == library.beat_clip) & (end > np.arange(n_beats))
                                & (k + length < grid.size) & usable)
            starts.append(ok), ends.append(end[ok]), span.append(length[ok]), hits.append(np.full(ok.size, hit))
        starts, ends, span, hits = map(np.concatenate, (starts, ends, span, hits))
        duration = beats[ends] - beats[starts]
        stretch = duration / (span * period)
        ok = np.abs(np.log(stretch)) < np.log(_STRETCH_LIMIT)
        starts, ends, span, hits, stretch, duration = starts[ok], ends[ok], span[ok], hits[ok], stretch[ok], duration[ok]
        if starts.size == 0:
            raise RuntimeError("the motion library has no run of beats that fits this song's tempo")
        time = grid[k]
        recent = np.concatenate([[0], np.cumsum(last_used > time - REUSE_STRETCH_S * FPS)])
        fresh = recent[ends] - recent[starts] == 0
        if not fresh.any():
            plan.reused += 1
            fresh[:] = True
        starts, ends, span, hits, stretch, duration = (a[fresh] for a in (starts, ends, span, hits, stretch, duration))

        cost = _W_STRETCH * np.abs(np.log(stretch))
        if previous >= 0:
            # per library beat, then per run: runs share their first beats (every beat, every other beat)
            join = np.linalg.norm(library.features - library.features[previous], axis=1)[starts]
            join[starts == previous] = 0.0
            cost += _W_JOIN * join
        # the speed it is danced at: the library's, times the library frames played per song frame
        energy = (energy_sum[ends] - energy_sum[starts]) / (ends - starts) * stretch
        want = np.nanmean(song_rank[k:k + int(np.median(span)) + 1])
        cost += _W_ENERGY * np.abs(_ranks(energy) - (0.5 if np.isnan(want) else want))
        # where the segment would leave the dancer: its root travel turned to the dancer's heading
        move = trans[library.beats[ends]][:, [0, 2]] - trans[library.beats[starts]][:, [0, 2]]
        turn = facing - yaw[starts]
        c, s = np.cos(turn), np.sin(turn)
        arrive = place + np.stack([c * move[:, 0] + s * move[:, 1], -s * move[:, 0] + c * move[:, 1]], axis=1)
        stage = _W_STAGE * np.maximum(np.linalg.norm(arrive, axis=1) - STAGE_RADIUS_M, 0.0)

        # The misfit (the costly term, never negative) only for the runs that can be among the best
        # CHOICES: the SHORTLIST cheapest without it, and any other no dearer without it than the
        # CHOICES-th best of those with it. The same best as with every run's misfit, far faster in a big library.
        bound = cost + stage
        order = np.argsort(bound, kind="stable")
        evaluated = order[:SHORTLIST]
        full = (cost[evaluated] + _W_HIT * _misfit(beats, starts[evaluated], ends[evaluated], span[evaluated], grid, k,
                                                   hits[evaluated])) + stage[evaluated]
        if evaluated.size >= CHOICES:
            rest = order[SHORTLIST:]
            rest = rest[bound[rest] <= np.partition(full, CHOICES - 1)[CHOICES - 1]]
            if rest.size:
                evaluated = np.concatenate([evaluated, rest])
                full = np.concatenate([full, (cost[rest] + _W_HIT * _misfit(beats, starts[rest], ends[rest], span[rest],
                                                                            grid, k, hits[rest])) + stage[rest]])
        ranked = np.lexsort((evaluated, full))[:CHOICES]  # by cost, ties in run order
        best, best_cost = evaluated[ranked], full[ranked]
        weights = np.exp(-(best_cost - best_cost[0]) / 0.1)
        pick = best[rng.choice(best.size, p=weights / weights.sum())]
        first, last, end = int(starts[pick]), int(ends[pick]), k + int(span[pick])
        knots = beats[first:last + 1]
        song_beats = grid[k] + (knots - knots[0]) * (grid[end] - grid[k]) / duration[pick]
        points = grid[k:end + 1:int(hits[pick])]
        nearest = points[np.argmin(np.abs(song_beats[:, None] - points[None, :]), axis=1)]
        song_beats = np.where(np.abs(nearest - song_beats) <= _SNAP_FRAMES, nearest, song_beats)
        plan.segments.append(Segment(first, last, song_beats, knots))
        last_used[first:last] = song_beats[:-1]
        place, facing = arrive[pick], facing + float(yaw[last] - yaw[first])
        k, previous = end, last
        if grid[k] >= n_frames - 1 + BLEND_FRAMES:
            return plan


def _warp(song_knots: np.ndarray, library_knots: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """Library frame (float) at each song frame, through the knots. The rate (library frames per song
    frame) is held steady around every knot (the geometric mean of its two intervals' rates), where
    the dancer is slowest and the judge looks for a hit, and changes only mid-interval (a smoothstep
    between the knots' rates plus a sin^2 bump that makes each interval last what it must); beyond
    the end knots, the end intervals' rates."""
    span = np.diff(song_knots)
    ratio = np.diff(library_knots) / span
    at_knot = np.concatenate([[ratio[0]], np.sqrt(ratio[:-1] * ratio[1:]), [ratio[-1]]])
    bump = 2.0 * (ratio - 0.5 * (at_knot[:-1] + at_knot[1:]))
    k = np.clip(np.searchsorted(song_knots, frames, side="right") - 1, 0, span.size - 1)
    u = np.clip((frames - song_knots[k]) / span[k], 0.0, 1.0)
    eased = at_knot[k] * u + (at_knot[k + 1] - at_knot[k]) * (u ** 3 - u ** 4 / 2)
    swell = bump[k] * (u / 2 - np.sin(2 * np.pi * u) / (4 * np.pi))
    inside = library_knots[k] + span[k] * (eased + swell)
    return np.where(frames < song_knots[0], library_knots[0] + (frames - song_knots[0]) * ratio[0],
                    np.where(frames > song_knots[-1], library_knots[-1] + (frames - song_knots[-1]) * ratio[-1], inside))


@dataclass
class _Take:
    """One segment sampled at song frames `frames`: local quaternions (F, 24, 4), root path (F, 3),
    planted feet (F, 2), the library frame of each (float)."""

    frames: np.ndarray
    quats: np.ndarray
    trans: np.ndarray
    planted: np.ndarray
    source: np.ndarray


def _sample(library: MotionLibrary, segment: Segment, frames: np.ndarray) -> _Take:
    clip = int(library.beat_clip[segment.first_beat])
    lo, hi = library.clip_offsets[clip], library.clip_offsets[clip + 1] - 1
    source = np.clip(_warp(segment.song_beats, segment.knots, frames.astype(np.float64)), lo, hi)
    i0 = np.minimum(np.floor(source).astype(np.int64), hi - 1)
    frac = (source - i0)[:, None, None]
    q0 = axis_angle_to_quaternion(library.poses[i0])
    q1 = axis_angle_to_quaternion(library.poses[i0 + 1])
    quats = slerp(q0, q1, frac)
    trans = library.trans[i0] + (library.trans[i0 + 1] - library.trans[i0]) * frac[:, 0]
    planted = library.planted[np.round(source).astype(np.int64)]
    return _Take(frames, quats, trans.astype(np.float64), planted, source)


def _two_step(u: np.ndarray) -> np.ndarray:
    """A blend weight 0 -> 1 over u in [0, 1] in two smoothsteps, halfway by u = 1/2 and still there:
    the speed a blend adds (the weight's slope times the two motions' difference) is nil at the join
    itself and even about it, so a hit at the join stays there."""
    half = np.clip(2.0 * np.asarray(u, np.float64), 0.0, 2.0)
    whole, part = np.minimum(np.floor(half), 1.0), half - np.minimum(np.floor(half), 1.0)
    return 0.5 * (whole + part * part * (3 - 2 * part))


def _yaw_quaternion(angle: float) -> np.ndarray:
    return np.array([np.cos(angle / 2), 0.0, np.sin(angle / 2), 0.0])


def _quat_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    aw, ax, ay, az = np.moveaxis(a, -1, 0)
    bw, bx, by, bz = np.moveaxis(b, -1, 0)
    return np.stack([aw * bw - ax * bx - ay * by - az * bz, aw * bx + ax * bw + ay * bz - az * by,
                     aw * by - ax * bz + ay * bw + az * bx, aw * bz + ax * by - ay * bx + az * bw], axis=-1)


def _place(take: _Take, angle: float, shift: np.ndarray) -> None:
    """Turn `take` by `angle` about +y at the origin, then move it by `shift` (x, z), in place."""
    take.quats[:, 0] = _quat_mul(_yaw_quaternion(angle), take.quats[:, 0])
    c, s = np.cos(angle), np.sin(angle)
    x, z = take.trans[:, 0].copy(), take.trans[:, 2].copy()
    take.trans[:, 0] = c * x + s * z + shift[0]
    take.trans[:, 2] = -s * x + c * z + shift[1]


def _ankles_xz(quats: np.ndarray, trans: np.ndarray) -> np.ndarray:
    """(F, 2, 2) left/right ankle (x, z) of local quaternions (F, 24, 4) and root path (F, 3)."""
    from a2a_cli.motion.fk import forward_kinematics

    joints = forward_kinematics(quaternion_to_axis_angle(quats), trans)
    return joints[:, [7, 8]][:, :, [0, 2]]


def render_plan(library: MotionLibrary, plan: Plan, n_frames: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict]]:
    """(poses (n, 24, 3) axis-angle, trans (n, 3), library frame (n,) float (NaN in blends), joins)
    of `plan` at n_frames song frames; each join: {"frame", "window": (first, last) frames blended,
    "pinned": [(side, first, last)] ankles held by IK}."""
    from a2a_cli.generation.library.feet import pin_ankles

    frames = np.arange(n_frames)
    # each join is blended a little after the hit it is planned at, between the hits: a blend adds
    # speed (the two motions' difference), which would move the hit off its beat
    starts = [int(np.ceil(seg.song_beats[0] + min(JOIN_DELAY_FRAMES, 0.5 * (seg.song_beats[1] - seg.song_beats[0]))))
              for seg in plan.segments] + [n_frames]
    starts[0] = 0
    quats = np.zeros((n_frames, 24, 4))
    trans = np.zeros((n_frames, 3))
    planted = np.zeros((n_frames, 2), bool)
    source = np.full(n_frames, np.nan)
    joins, previous = [], None
    for index, segment in enumerate(plan.segments):
        own = frames[(frames >= starts[index]) & (frames < starts[index + 1])]
        if own.size == 0:
            continue
        span = np.arange(max(own[0] - BLEND_FRAMES, 0), min(own[-1] + BLEND_FRAMES + 2, n_frames))
        take = _sample(library, segment, span)
        if previous is None:  # the dance starts at the middle of the stage, facing +z
            first_root = take.quats[0, 0]
            angle = -float(heading(quaternion_to_axis_angle(first_root)))
            _place(take, angle, np.zeros(2))
            take.trans[:, [0, 2]] -= take.trans[0, [0, 2]]
        else:
            at = int(own[0])
            i_a, i_b = at - previous.frames[0], at - span[0]
            yaw_a = heading(quaternion_to_axis_angle(previous.quats[i_a, 0]))
            yaw_b = heading(quaternion_to_axis_angle(take.quats[i_b, 0]))
            _place(take, float(yaw_a - yaw_b), np.zeros(2))
            both = previous.planted[i_a] & take.planted[i_b]
            if both.any():  # continue at the planted foot (both feet: between them)
                feet_a = _ankles_xz(previous.quats[i_a:i_a + 1], previous.trans[i_a:i_a + 1])[0]
                feet_b = _ankles_xz(take.quats[i_b:i_b + 1], take.trans[i_b:i_b + 1])[0]
                shift = (feet_a[both] - feet_b[both]).mean(axis=0)
            else:
                shift = previous.trans[i_a, [0, 2]] - take.trans[i_b, [0, 2]]
            take.trans[:, [0, 2]] += shift
            lo, hi = max(at - BLEND_FRAMES, 0), min(at + BLEND_FRAMES, n_frames - 1)
            blend = np.arange(lo, hi + 1)
            w = np.clip((blend - (at - BLEND_FRAMES - 1)) / (2 * BLEND_FRAMES + 2), 0.0, 1.0)
            w = _two_step(w)
            a, b = blend - previous.frames[0], blend - span[0]
            quats[blend] = slerp(previous.quats[a], take.quats[b], w[:, None, None])
            trans[blend] = previous.trans[a] * (1 - w[:, None]) + take.trans[b] * w[:, None]
            planted[blend] = np.where(w[:, None] < 0.5, previous.planted[a], take.planted[b])
            source[blend] = np.nan
            joins.append({"frame": at, "window": (int(lo), int(hi)), "hold": both & previous.planted[a[0]]})
        keep = own if previous is None else own[own > joins[-1]["window"][1]]
        k = keep - span[0]
        quats[keep], trans[keep], planted[keep] = take.quats[k], take.trans[k], take.planted[k]
        source[keep] = take.source[k]
        previous = take
    poses = quaternion_to_axis_angle(quats)
    for join in joins:
        join["pinned"] = pin_ankles(poses, trans, planted, join["window"], join.pop("hold"))
    return poses, trans, source, joins
