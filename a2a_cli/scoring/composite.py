"""The validator score: one number in [0, 1] that ranks real dancing above every cheap trick.

How it is made (DESIGN §6; each raw metric alone can be gamed, §9):

1. **Gates** (validity.py, plus "not a replayed reference" when a reference is given): any
   failure gives 0.
2. **Components**, each in [0, 1], blended with the weights in `WEIGHTS` (renormalised over the
   components that can be computed: no audio means no rhythm or energy term, no reference no
   similarity term, no reference statistics no realism term):
   - `sync` (0.35): beat alignment to THIS song, chance-corrected. Alignment a = harmonic mean of
     BAS (music beats find a motion beat) and motion-beat precision (motion beats land on a music
     beat). The same is measured against the song's beat grid shifted by 1/8 .. 7/8 of a beat,
     whose mean c is what any motion at an unrelated tempo, noise, or a dance for another song
     gets; sync = (a - c) / (1 - c), clipped. Noise and off-tempo motion score ~0, a dancer
     hitting the beats ~1.
   - `quality` (0.20): mean of PFC mapped to 1 / (1 + PFC / 2) (AIST++ itself scores PFC ~1.3,
     0.6 here) and smoothness 1 - median jerk / the jerk gate's limit.
   - `variety` (0.15): how far the dance is from repeating itself at lags of 0.5-4 s: the least,
     over those lags L, of mean |pose(t + L) - pose(t)|^2 / (2 * pose variance) (about 1 for
     unrelated poses, 0 for an exact repeat), divided by 0.5 and clipped. Root-relative poses, so
     travelling does not hide a loop. A loop of one move is 0 at its period.
   - `energy` (0.10): correlation of the body's speed with the music's loudness (both smoothed
     over 1 s), (1 + r) / 2; left out when the music's loudness hardly varies.
   - `realism` (0.10): closeness of the clip's kinetic features to real dances' statistics.
   - `similarity` (0.10): exp(-aligned joint error / 0.25 m) to the reference dance. Kept small
     on purpose: a single reference in absolute positions rewards average poses (the original
     subnet's flaw, similarity.py).
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
from a2a_cli.scoring.validity import MAX_MEDIAN_JERK_M_S3, Gate, check_validity, validity_values

WEIGHTS = {"sync": 0.35, "quality": 0.20, "variety": 0.15, "energy": 0.10, "realism": 0.10, "similarity": 0.10}
SYNC_FULL = 0.5  # sync at or above this keeps the whole blend; below it the blend shrinks in proportion
VARIETY_FULL = 0.5
LATENCY_WEIGHT = 0.1
LATENCY_HALF_S = 10.0
PFC_SCALE = 2.0
SIMILARITY_SCALE_M = 0.25
VARIETY_LAGS_S = (0.5, 4.0)
ENERGY_SMOOTHING_S = 1.0
MIN_ENERGY_VARIATION = 0.05  # coefficient of variation of the smoothed loudness below which energy says nothing
CONTROL_PHASES = np.arange(1, 8) / 8.0


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


def _alignment(motion_beats: np.ndarray, music: np.ndarray, n_velocity: int, fps: float):
    """(BeatAlignment, harmonic mean of its BAS and precision): both directions must agree."""
    from a2a_cli.scoring.beats import align_beats

    a = align_beats(motion_beats, music, n_velocity, fps)
    return a, (0.0 if a.bas + a.precision == 0 else 2 * a.bas * a.precision / (a.bas + a.precision))


def beat_sync(joints: np.ndarray, music_beats: np.ndarray, fps: float) -> dict[str, float]:
    """BAS, precision, and the chance-corrected alignment to this song's beats (module doc)."""
    from a2a_cli.scoring.beats import motion_beats

    beats = motion_beats(joints, fps)
    n_velocity = joints.shape[0] - 1
    music = np.asarray(music_beats, dtype=np.float64)
    raw, a = _alignment(beats, music, n_velocity, fps)
    if music.size >= 2:
        period = float(np.median(np.diff(music)))
        grid = np.concatenate([[music[0] - period], music])
        chance = float(np.mean([_alignment(beats, grid + d * period, n_velocity, fps)[1] for d in CONTROL_PHASES]))
    else:
        chance = 1.0  # one beat or none: no rhythm to follow, nothing to credit
    sync = float(np.clip((a - chance) / (1 - chance), 0.0, 1.0)) if chance < 1 else 0.0
    return {"bas": raw.bas, "beat_precision": raw.precision, "beat_alignment": a, "beat_chance": chance, "sync": sync}


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
    from a2a_cli.scoring.smoothing import gaussian_filter1d

    return gaussian_filter1d(np.asarray(x, dtype=np.float64), ENERGY_SMOOTHING_S * fps / 2)


def energy_following(joints: np.ndarray, rms: np.ndarray, fps: float) -> float | None:
    """(1 + r) / 2, r the correlation of smoothed body speed with smoothed loudness; None if flat music."""
    from a2a_cli.scoring.beats import kinetic_velocity

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
    from a2a_cli.scoring.similarity import REPLAY_TOLERANCE_M, aligned_joint_error, original_subnet_score

    fps = float(motion.fps)
    expected = None if audio is None else int(round(audio.duration_s * fps))
    gates = check_validity(motion, expected, values=_validity)
    metrics: dict[str, float] = {g.name: g.value for g in gates}
    components: dict[str, float] = {}
    factors: dict[str, float] = {}
    usable = all(g.passed for g in gates if g.name in ("finite", "duration"))
    if usable:
        joints = np.asarray(motion.joints, dtype=np.float64)
        if reference is not None:
            error = aligned_joint_error(joints, reference.joints)
            original = original_subnet_score(joints, reference.joints, latency_s)
            metrics.update(aligned_joint_error_m=error, original_subnet_reward=original.reward,
                           original_subnet_rmse_cm=original.rmse_cm)
            tolerance = REPLAY_TOLERANCE_M if replay_tolerance_m is None else replay_tolerance_m
            replay = error < tolerance
            gates.append(Gate("not_replayed", not replay, error, tolerance,
                              "a copy of the secret reference dance (m)" if replay else "ok"))
            components["similarity"] = float(np.exp(-error / SIMILARITY_SCALE_M))
        from a2a_cli.scoring.pfc import physical_foot_contact

        pfc = float(physical_foot_contact(joints, fps))
        jerk = metrics.get("jerk", float("nan"))
        smooth = float(np.clip(1.0 - jerk / MAX_MEDIAN_JERK_M_S3, 0.0, 1.0)) if np.isfinite(jerk) else 0.0
        metrics.update(pfc=pfc)
        components["quality"] = 0.5 / (1.0 + pfc / PFC_SCALE) + 0.5 * smooth
        components["variety"] = variety(joints, fps)
        if audio is not None:
            sync = beat_sync(joints, np.asarray(audio.beat_frames) * fps / 30.0, fps)
            metrics.update({k: v for k, v in sync.items() if k != "sync"})
            components["sync"] = sync["sync"]
            energy = energy_following(joints, audio.rms, fps)
            if energy is not None:
                components["energy"] = energy
        if reference_stats is not None:
            components["realism"] = _realism(joints, fps, reference_stats, metrics)
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
        finite = [i for i, m in enumerate(motions) if np.isfinite(m.joints).all() and np.abs(m.joints).max() < 1e4]
        if finite:
            with_poses = all(motions[i].poses is not None for i in finite)
            poses = np.stack([motions[i].poses for i in finite]) if with_poses else None
            batch = validity_values(np.stack([motions[i].joints for i in finite]), float(motions[0].fps), poses)
            for row, i in enumerate(finite):
                values[i] = {k: v[row] for k, v in batch.items()}
    return [score_motion(m, audio, _validity=v, **kwargs) for m, v in zip(motions, values)]


def _realism(joints: np.ndarray, fps: float, stats, metrics: dict) -> float:
    """exp(-max(d - 1, 0) / 2), d the RMS z-score of this clip's kinetic features against the real
    dances' (fid.ReferenceStats): within one standard deviation on average is fully realistic."""
    from a2a_cli.scoring.kinetic import kinetic_features

    z = stats.kinetic.normalise(np.asarray(kinetic_features(joints), dtype=np.float64)[None])
    d = float(np.sqrt(np.mean(z**2)))
    metrics["kinetic_zscore"] = d
    return float(np.exp(-max(d - 1.0, 0.0) / 2.0))
