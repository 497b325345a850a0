"""The validator score: one number in [0, 1] that ranks real dancing above every cheap trick.

How it is made (DESIGN §6; each raw metric alone can be gamed, §9):

1. **Gates** (validity.py, plus "not a replayed reference" when a reference is given): any
   failure gives 0.
2. **Components**, each in [0, 1], blended with the weights in `WEIGHTS` (renormalised over the
   components that can be computed: no audio means no rhythm or energy term, no reference no
   similarity term, no reference statistics no realism term):
   - `sync` (0.35): beat alignment to THIS song, chance-corrected; left out (no term, no factor)
     when the tracker found fewer than `MIN_SYNC_BEATS` beats (silence, ambient sound): there is no
     rhythm to judge, and judging it anyway would give every dance 0. Alignment a = harmonic mean of BAS
     (music beats find a motion beat) and motion-beat precision (motion beats land on a music beat).
     Precision judges motion beats against the tracked beats continued at their mean spacing over the
     whole clip: trackers drop the beats of a weak intro or ending, and a dancer who keeps dancing
     there on the song's pulse is not off the beat. (Only counting the motion beats inside the
     tracked span also spares that dancer, but leaves fewer beats to judge: a dance sped up 4:3 then
     hit chance-like coincidences often enough to score 0.3.) The same is measured against the grid
     shifted by 1/8 .. 7/8 of a beat, whose mean c is what any motion at an unrelated tempo, noise,
     or a dance for another song gets; sync = (a - c) / (1 - c), clipped. Noise and off-tempo motion
     score ~0, a dancer hitting the beats ~1. Like beat-tracking evaluation (mir_eval's AMLt), sync
     is the best of the allowed metrical levels (`sync_level` in the metrics): the tracked beats (1)
     and the two half-time grids of every other beat (2), each against its own shifted grids. A
     dancer marking every other beat of a fast song, or a song the tracker hears at double time, is
     dancing to it; levels finer than the tracked beat are never allowed (jitter would hit them), and
     a half-time level must beat its chance by a margin (`HALF_TIME_MARGIN_Z`).
   - `quality` (0.20): mean of PFC mapped to 1 / (1 + PFC / 2) (AIST++ itself scores PFC ~1.3,
     0.6 here) and smoothness 1 - median jerk / the jerk gate's limit.
   - `variety` (0.15): how far the dance is from repeating itself at lags of 0.5-4 s: the least,
     over those lags L, of mean |pose(t + L) - pose(t)|^2 / (2 * pose variance) (about 1 for
     unrelated poses, 0 for an exact repeat), divided by 0.5 and clipped. Root-relative poses, so
     travelling does not hide a loop. A loop of one move is 0 at its period.
   - `energy` (0.10): correlation of the body's speed with the music's loudness (both smoothed
     over 1 s), (1 + r) / 2; left out when the music's loudness hardly varies.
   - `realism` (0.10): closeness of the clip's kinetic energies (the horizontal and vertical
     columns of the kinetic features) to real dances' statistics. The third column, energy
     expenditure as the papers compute it, mostly measures how far each joint is from the starting
     root (kinetic.py): body shape and travel, whose spread over a set of dances can be so small
     that any other dance sits hundreds of standard deviations away.
   - `similarity` (0.10): exp(-max(aligned joint error, 0.10 m) / 0.25 m) to the reference dance.
     Kept small on purpose: a single reference in absolute positions rewards average poses (the
     original subnet's flaw, similarity.py). Policy: being closer than `SIMILARITY_PLATEAU_M`
     earns nothing more. Two good dances to one song are rarely closer than that, so the credit
     rewards dancing like the reference, not copying it: a near-copy that slips past the replay
     gate earns no more than an honest dance (and a replay, `replay_distance` under the tolerance,
     fails the gate `not_replayed`).
3. **Anti-gaming factors**: the blend is multiplied by min(1, sync / 0.5) and min(1, variety /
   0.5): a motion that does not follow this song's beat, or repeats itself, cannot collect the
   other terms (a looped move is smooth and on the floor, but it is not a dance).
4. **Latency**: the result is multiplied by 0.9 + 0.1 * 1 / (1 + latency / 10 s), so the fastest
   answer gains at most 10 % over a slow one and speed never lifts a bad dance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from a2a_cli.motion.skeleton import PELVIS
from a2a_cli.scoring.beats import align_beats_batch, kinetic_velocity, motion_beats
from a2a_cli.scoring.clip_batch import ClipBatch, as_clip_batch
from a2a_cli.scoring.kinetic import kinetic_features
from a2a_cli.scoring.pfc import physical_foot_contact
from a2a_cli.scoring.similarity import REPLAY_TOLERANCE_M, aligned_joint_error, original_subnet_score, replay_distance
from a2a_cli.scoring.smoothing import gaussian_filter1d
from a2a_cli.scoring.validity import MAX_MEDIAN_JERK_M_S3, Gate, check_validity, positions_in_bounds, validity_values

WEIGHTS = {"sync": 0.35, "quality": 0.20, "variety": 0.15, "energy": 0.10, "realism": 0.10, "similarity": 0.10}
SYNC_FULL = 0.5  # sync at or above this keeps the whole blend; below it the blend shrinks in proportion
VARIETY_FULL = 0.5
MIN_SYNC_BEATS = 4  # fewer tracked beats than this: too little rhythm to judge, sync is left out
LATENCY_WEIGHT = 0.1
LATENCY_HALF_S = 10.0
PFC_SCALE = 2.0
SIMILARITY_SCALE_M = 0.25
SIMILARITY_PLATEAU_M = 0.10  # closer than this to the reference earns no more credit (module doc)
VARIETY_LAGS_S = (0.5, 4.0)
ENERGY_SMOOTHING_S = 1.0
MIN_ENERGY_VARIATION = 0.05  # coefficient of variation of the smoothed loudness below which energy says nothing
CONTROL_PHASES = np.arange(1, 8) / 8.0
# The half-time grids are judged as a second and third chance: their alignment must beat chance by this
# many standard errors (binomial at the chance level, over the level's beats), so that picking the best
# of three levels does not lift noise (at 12 s, 150 BPM: smooth noise over 0.14 sync 9 % of the time
# at the tracked level alone, 29 % with plain half-time levels, 9 % with this margin).
HALF_TIME_MARGIN_Z = 1.5


@dataclass
class ScoreReport:
    """Everything the judge measured about one motion, and its verdict."""

    validator_score: float
    gates: list[Gate]
    components: dict[str, float]
    metrics: dict[str, float]
    factors: dict[str, float] = field(default_factory=dict)

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
            "passed": self.passed,
            "gates": [{**g.to_dict(), "value": clean(g.value)} for g in self.gates],
            "components": {k: clean(v) for k, v in self.components.items()},
            "factors": {k: clean(v) for k, v in self.factors.items()},
            "metrics": {k: clean(v) for k, v in self.metrics.items()},
        }


def _alignments(beats: np.ndarray, grids: list[np.ndarray], extended: list[np.ndarray], n_velocity: int, fps: float):
    """(BAS, precision, their harmonic mean) per grid: both directions must agree. BAS is per beat
    of the grid; precision judges every motion beat against the grid extended over the whole clip."""
    found = align_beats_batch([beats] * (2 * len(grids)), grids + extended, n_velocity, fps)
    pairs = [(a.bas, p.precision) for a, p in zip(found[: len(grids)], found[len(grids) :])]
    return [(b, p, 0.0 if b + p == 0 else 2 * b * p / (b + p)) for b, p in pairs]


def _extended(level: np.ndarray, n_velocity: int) -> np.ndarray:
    """The level's beats continued at their mean spacing over the whole clip (and a beat beyond)."""
    period = (level[-1] - level[0]) / (level.size - 1)
    before = level[0] - period * np.arange(int(level[0] // period) + 1, 0, -1)
    after = level[-1] + period * np.arange(1, int((n_velocity - level[-1]) // period) + 2)
    return np.concatenate([before, level, after])


def _chance_corrected(beats: np.ndarray, level: np.ndarray, n_velocity: int, fps: float, margin_z: float = 0.0):
    """(sync, alignment, chance, BAS, precision) of the motion against one metrical level's beats.
    `margin_z` raises the bar by that many binomial standard errors of the chance level."""
    if level.size < 2:  # one beat or none: no rhythm to follow, nothing to credit
        (bas, precision, a), = _alignments(beats, [level], [level], n_velocity, fps)
        return 0.0, a, 1.0, bas, precision
    period = float(np.median(np.diff(level)))
    grid = np.concatenate([[level[0] - period], level])
    extended = _extended(level, n_velocity)
    shifts = period * CONTROL_PHASES
    (bas, precision, a), *shifted = _alignments(
        beats, [level] + [grid + d for d in shifts], [extended] + [extended + d for d in shifts], n_velocity, fps)
    chance = float(np.mean([c for *_, c in shifted]))
    bar = chance + margin_z * np.sqrt(chance * (1 - chance) / level.size)
    sync = float(np.clip((a - bar) / (1 - bar), 0.0, 1.0)) if bar < 1 else 0.0
    return sync, a, chance, bas, precision


def beat_sync(joints, music_beats: np.ndarray, fps: float) -> dict[str, float]:
    """BAS, precision, and the chance-corrected alignment at the best metrical level (module doc),
    for joints (T, 24, 3) or a one-clip ClipBatch."""
    batch = as_clip_batch(joints, min_frames=2)
    beats = motion_beats(batch, fps)
    n_velocity = batch.n_frames - 1
    music = np.sort(np.asarray(music_beats, dtype=np.float64).ravel())
    music = music[(music >= 0) & (music < n_velocity)]
    levels = [(1, music, 0.0)]
    if music.size >= 4:
        levels += [(2, music[0::2], HALF_TIME_MARGIN_Z), (2, music[1::2], HALF_TIME_MARGIN_Z)]
    judged = [(_chance_corrected(beats, level, n_velocity, fps, z), size) for size, level, z in levels]
    (sync, a, chance, *_), level = max(judged, key=lambda j: j[0][0])
    *_, bas, precision = judged[0][0]
    return {"bas": bas, "beat_precision": precision, "beat_alignment": a, "beat_chance": chance,
            "sync_level": float(level), "sync": sync}


def variety(joints: np.ndarray, fps: float) -> float:
    """Least self-similarity of the root-relative pose over lags of 0.5-4 s, normalised (module doc)."""
    x = (joints - joints[:, PELVIS : PELVIS + 1]).reshape(len(joints), -1).astype(np.float64)
    spread = 2.0 * np.mean(np.sum((x - x.mean(axis=0)) ** 2, axis=1))
    lo = max(1, int(round(VARIETY_LAGS_S[0] * fps)))
    hi = min(int(round(VARIETY_LAGS_S[1] * fps)), len(x) // 2)
    if spread <= 1e-12 or hi < lo:
        return 0.0
    least = min(float(np.mean(np.sum((x[lag:] - x[:-lag]) ** 2, axis=1))) for lag in range(lo, hi + 1))
    return float(np.clip(least / spread / VARIETY_FULL, 0.0, 1.0))


def _smooth(x: np.ndarray, fps: float) -> np.ndarray:
    return gaussian_filter1d(np.asarray(x, dtype=np.float64), ENERGY_SMOOTHING_S * fps / 2)


def energy_following(joints, rms: np.ndarray, fps: float) -> float | None:
    """(1 + r) / 2, r the correlation of smoothed body speed with smoothed loudness; None if flat music.
    Joints (T, 24, 3) or a one-clip ClipBatch."""
    speed = _smooth(kinetic_velocity(joints), fps)
    loud = np.asarray(rms, dtype=np.float64)
    if loud.size < 2:
        return None
    loud = np.interp(np.arange(speed.size) + 0.5, np.arange(loud.size) * fps / 30.0, loud)
    loud = _smooth(loud, fps)
    if loud.std() < MIN_ENERGY_VARIATION * max(loud.mean(), 1e-12):
        return None  # flat loudness: nothing to follow
    if speed.std() < 1e-9:
        return 0.5  # a body at constant speed follows nothing
    r = float(np.corrcoef(speed, loud)[0, 1])
    return (1.0 + r) / 2.0


def latency_score(latency_s: float) -> float:
    return 1.0 / (1.0 + max(float(latency_s), 0.0) / LATENCY_HALF_S)


def score_motion(motion, audio=None, *, reference=None, reference_stats=None, latency_s: float | None = None,
                 replay_tolerance_m: float | None = None, _validity: dict | None = None) -> ScoreReport:
    """Judge one Motion against its song (`AudioAnalysis` or None) and optionally a reference Motion
    and reference statistics (fid.ReferenceStats). Never raises on motion content: bad numbers fail
    a gate."""
    fps = float(motion.fps)
    expected = None if audio is None else int(round(audio.duration_s * fps))
    gates = check_validity(motion, expected, values=_validity)
    metrics: dict[str, float] = {g.name: g.value for g in gates}
    components: dict[str, float] = {}
    factors: dict[str, float] = {}
    usable = all(g.passed for g in gates if g.name in ("finite", "duration"))
    if usable:
        joints = np.asarray(motion.joints, dtype=np.float64)
        # One batch (float64, the precision these metrics have always had) shared by PFC, beats,
        # energy and realism, so its layout and frame steps are made once; the gates keep their own
        # float32 batch, often made for all answers at once (score_motions).
        batch = ClipBatch.from_joints(joints)
        if reference is not None:
            error = aligned_joint_error(joints, reference.joints)
            original = original_subnet_score(joints, reference.joints, latency_s)
            copy = replay_distance(joints, reference.joints, fps)
            metrics.update(aligned_joint_error_m=error, original_subnet_reward=original.reward,
                           original_subnet_rmse_cm=original.rmse_cm)
            tolerance = REPLAY_TOLERANCE_M if replay_tolerance_m is None else replay_tolerance_m
            replay = copy < tolerance
            gates.append(Gate("not_replayed", not replay, copy, tolerance,
                              "a copy of the secret reference dance (m)" if replay else "ok"))
            components["similarity"] = float(np.exp(-max(error, SIMILARITY_PLATEAU_M) / SIMILARITY_SCALE_M))
        pfc = float(physical_foot_contact(batch, fps))
        jerk = metrics.get("jerk", float("nan"))
        smooth = float(np.clip(1.0 - jerk / MAX_MEDIAN_JERK_M_S3, 0.0, 1.0)) if np.isfinite(jerk) else 0.0
        metrics.update(pfc=pfc)
        components["quality"] = 0.5 / (1.0 + pfc / PFC_SCALE) + 0.5 * smooth
        components["variety"] = variety(joints, fps)
        if audio is not None:
            sync = beat_sync(batch, np.asarray(audio.beat_frames) * fps / 30.0, fps)
            metrics.update({k: v for k, v in sync.items() if k != "sync"})
            if np.size(audio.beat_frames) >= MIN_SYNC_BEATS:
                components["sync"] = sync["sync"]
            energy = energy_following(batch, audio.rms, fps)
            if energy is not None:
                components["energy"] = energy
        if reference_stats is not None:
            components["realism"] = _realism(batch, reference_stats, metrics)
    if not all(g.passed for g in gates) or not components:
        return ScoreReport(0.0, gates, components, metrics, factors)
    total = sum(WEIGHTS[k] for k in components)
    blend = sum(WEIGHTS[k] * v for k, v in components.items()) / total
    if "sync" in components:
        factors["sync"] = min(1.0, components["sync"] / SYNC_FULL)
    factors["variety"] = min(1.0, components["variety"] / VARIETY_FULL)
    if latency_s is not None:
        factors["latency"] = 1.0 - LATENCY_WEIGHT + LATENCY_WEIGHT * latency_score(latency_s)
    score = blend * float(np.prod(list(factors.values())))
    metrics["blend"] = blend
    return ScoreReport(float(np.clip(score, 0.0, 1.0)), gates, components, metrics, factors)


def score_motions(motions: Sequence, audio=None, **kwargs) -> list[ScoreReport]:
    """Score many answers to one prompt; the validity metrics of equal-length clips run as one batch."""
    values: list[dict | None] = [None] * len(motions)
    lengths = {(m.n_frames, float(m.fps)) for m in motions}
    if len(motions) > 1 and len(lengths) == 1 and motions[0].n_frames >= 4:
        finite = [i for i, m in enumerate(motions) if positions_in_bounds(m.joints)]
        # Motions with rotations and joint-position motions have different gates: one batch for each.
        for group in ([i for i in finite if motions[i].poses is not None], [i for i in finite if motions[i].poses is None]):
            if not group:
                continue
            poses = np.stack([motions[i].poses for i in group]) if motions[group[0]].poses is not None else None
            batch = validity_values(np.stack([motions[i].joints for i in group]), float(motions[0].fps), poses)
            for row, i in enumerate(group):
                values[i] = {k: v[row] for k, v in batch.items()}
    return [score_motion(m, audio, _validity=v, **kwargs) for m, v in zip(motions, values)]


def _realism(batch, stats, metrics: dict) -> float:
    """exp(-max(d - 1, 0) / 2), d the RMS z-score of this clip's kinetic energies against the real
    dances' (fid.ReferenceStats; not the expenditure columns, module doc): within one standard
    deviation on average is fully realistic."""
    z = stats.kinetic.normalise(np.asarray(kinetic_features(batch), dtype=np.float64)[None])
    energies = z.reshape(-1, 3)[:, :2]  # per joint: horizontal, vertical kinetic energy
    d = float(np.sqrt(np.mean(energies**2)))
    metrics["kinetic_zscore"] = d
    return float(np.exp(-max(d - 1.0, 0.0) / 2.0))
