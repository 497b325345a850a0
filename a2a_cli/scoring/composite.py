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
     the density of its twenty traits among real dancers'; full from `REALISM_HUMAN`. With reference
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

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from a2a_cli.audio.rhythm import steady_beat_grid
from a2a_cli.frame_rate import FPS as AUDIO_FPS  # the rate of the song's features (rms, beat frames)
from a2a_cli.motion.skeleton import PELVIS
from a2a_cli.scoring.beats import align_beats_batch, kinetic_velocity, motion_beats
from a2a_cli.scoring.body_stats import body_statistics
from a2a_cli.scoring.clip_batch import ClipBatch, as_clip_batch
from a2a_cli.scoring.constants import (
    COARSE_LEVEL_MARGIN_Z, CONTROL_PHASES, DOUBLE_TIME_MIN_S, OFFBEAT_MARGIN_Z, DOUBLE_SLIDE_HUMAN, DOUBLE_SLIDE_NONE, ENERGY_R_HUMAN, ENERGY_SMOOTHING_SIGMA_S, JERK_HUMAN_M_S3, JUDGE_FPS,
    JUDGE_VERSION, LATENCY_HALF_S, LATENCY_WEIGHT, LOW_CREDIT, MAX_MEDIAN_JERK_M_S3, MIN_ENERGY_VARIATION,
    MIN_MOTION_BEATS, MIN_SYNC_BEATS, PFC_HALF_CREDIT, PFC_HUMAN, REALISM_FLOOR, REALISM_HUMAN, REPEAT_RESIDUAL_EXACT, REPEAT_RESIDUAL_HUMAN, SIMILARITY_PLATEAU_M,
    SIMILARITY_SCALE_M, SYNC_CHANCE, SYNC_HUMAN, SYNC_LEVEL_TIE, SYNC_LEVELS, VARIETY_LAGS_S, WEIGHTS,
)
from a2a_cli.scoring.kinetic import kinetic_features
from a2a_cli.scoring.pfc import both_feet_sliding, physical_foot_contact
from a2a_cli.scoring.realism import shipped_model
from a2a_cli.scoring.similarity import REPLAY_TOLERANCE_M, aligned_joint_error, original_subnet_score, replay_distance
from a2a_cli.scoring.smoothing import gaussian_filter1d
from a2a_cli.scoring.validity import (
    Gate, at_judge_rate, batch_validity_values, gate_reasons, header_gates, measurable, motion_gates, validity_values,
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


def _controls(level: np.ndarray, song_grid: np.ndarray, song_period: float) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The grids one metrical level is judged on: (BAS grids, precision grids), the level itself first
    and then, for chance, the level shifted by 1/8 .. 7/8 of its period and the song's grid by as much
    of its own (a level of fewer than 2 beats has no period: itself only)."""
    if level.size < 2:
        return [level], [level]
    period = float(np.median(np.diff(level)))
    grid = np.concatenate([[level[0] - period], level])
    return ([level] + [grid + period * f for f in CONTROL_PHASES],
            [song_grid] + [song_grid + song_period * f for f in CONTROL_PHASES])


def _chance_corrected(judged: list[tuple[float, float, float]], n_beats: int, margin_z: float = 0.0,
                      chance_floor: float = 0.0):
    """(sync, alignment, chance, BAS, precision) of the motion against one metrical level, from the
    (BAS, precision, alignment) of its `_controls` grids (the level first, then the shifted ones).

    BAS asks whether the level's beats find a motion beat; precision whether every motion beat lands
    on the song's grid for this level (the tracked beats continued over the clip, or their off-beats,
    or both for double time), whatever the level: a dancer marking the bar is on the beat, a
    3-against-4 pattern that meets the bar line once a bar is not. Chance: the mean alignment of the
    shifted grids. `margin_z` raises the bar by that many binomial standard errors of the chance level
    over the level's `n_beats`. `chance_floor`: the chance of the full grid this level takes every
    other or every fourth beat of. A random grid finds motion beats as often whichever of its beats
    are counted, so that chance, measured on more beats, holds for the level too; the level's own,
    from a handful of beats, can come out near 0 by luck, and a lucky level would then pass for a
    dancer's.
    """
    (bas, precision, a), *shifted = judged
    if not shifted:  # one beat or none: no rhythm to follow, nothing to credit
        return 0.0, a, 1.0, bas, precision
    chance = max(float(np.mean([c for *_, c in shifted])), chance_floor)
    bar = chance + margin_z * np.sqrt(chance * (1 - chance) / n_beats)
    sync = float(np.clip((a - bar) / (1 - bar), 0.0, 1.0)) if bar < 1 else 0.0
    return sync, a, chance, bas, precision


def _levels(music: np.ndarray, n_velocity: int, fps: float) -> list[tuple[str, float, list[np.ndarray], np.ndarray, float, float]]:
    """The metrical levels a dancer may follow, each as (name, beats per hit, the level's beats, one
    array per phase, the song grid its precision is judged on, that grid's period, margin in standard
    errors): every beat, every other beat (two phases) and the bar (four phases), each on the
    tracked beats and on their off-beats, and double time while half a beat is at least
    `DOUBLE_TIME_MIN_S` (music frames at `fps`). Every beat has no margin and every
    off-beat a small one (`OFFBEAT_MARGIN_Z`: which of the two a tracker calls the beat depends on
    the sound, a busy arrangement can lock it onto the off-beats); every other level must beat its
    chance by `COARSE_LEVEL_MARGIN_Z`."""
    beat = float(np.median(np.diff(music)))
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


def beat_sync(joints, music_beats: np.ndarray, fps: float) -> dict[str, float]:
    """BAS, precision, and the chance-corrected alignment at the best metrical level (module doc).

    joints: (T, 24, 3) positions in metres, or a one-clip ClipBatch; music_beats: beat positions in
    frames at `fps` (fractions allowed); fps: the motion's frame rate. `sync_level` is the best
    level's beats per hit (0.5: double time, 1: the beat, 2: every other beat, 4: the bar) and
    `sync_offbeat` 1 when the dancer hits the off-beats ("and").
    """
    batch = as_clip_batch(joints, min_frames=2)
    beats = motion_beats(batch, fps)
    n_velocity = batch.n_frames - 1
    music = np.sort(np.asarray(music_beats, dtype=np.float64).ravel())
    music = music[(music >= 0) & (music < n_velocity)]
    if music.size < 2:
        (bas, precision, a), = _alignments(beats, [music], [music], n_velocity, fps)
        return {"bas": bas, "beat_precision": precision, "beat_alignment": a, "beat_chance": 1.0,
                "sync_level": 1.0, "sync_offbeat": 0.0, "sync": 0.0, "motion_beats": float(beats.size)}
    phases = [(name, per_hit, level, grid, period, z) for name, per_hit, levels, grid, period, z in _levels(music, n_velocity, fps)
              for level in levels]
    controls = [_controls(level, grid, period) for _, _, level, grid, period, _ in phases]
    found = iter(_alignments(beats, [g for bas_grids, _ in controls for g in bas_grids],
                             [g for _, precision_grids in controls for g in precision_grids], n_velocity, fps))
    judged, chance_of = [], {}
    for (name, per_hit, level, _, _, z), (bas_grids, _) in zip(phases, controls):
        # every beat comes first: its chance is the floor of its sparser levels
        result = _chance_corrected([next(found) for _ in bas_grids], level.size, z, chance_of.get(name, 0.0))
        chance_of.setdefault(name, result[2])
        judged.append((result, name, per_hit))
    # The best level; levels within SYNC_LEVEL_TIE of it count as equal and the first listed wins (a
    # dancer on every beat also marks the bar, and is reported at the beat).
    best = max(j[0][0] for j in judged)
    (_, a, chance, *_), name, per_hit = next(j for j in judged if j[0][0] >= best - SYNC_LEVEL_TIE)
    *_, bas, precision = judged[0][0]
    return {"bas": bas, "beat_precision": precision, "beat_alignment": a, "beat_chance": chance,
            "sync_level": per_hit, "sync_offbeat": float(name == "offbeat"), "sync": best,
            "motion_beats": float(beats.size)}


def repeat_residual(joints: np.ndarray, fps: float) -> float:
    """How far a dance is from repeating itself exactly: the least, over lags of 0.5-4 s, of
    mean |pose(t + L) - pose(t)|^2 / (2 * pose variance), root-relative poses (so travelling does not
    hide a loop). About 1 for unrelated poses, 0 for an exact loop (module doc).

    joints: (T, 24, 3) positions in metres; fps: frames per second. A motion too short for the
    shortest lag, or a static one, gives 0.
    """
    x = (joints - joints[:, PELVIS : PELVIS + 1]).reshape(len(joints), -1).astype(np.float64)
    spread = 2.0 * np.mean(np.sum((x - x.mean(axis=0)) ** 2, axis=1))
    lo = max(1, int(round(VARIETY_LAGS_S[0] * fps)))
    hi = min(int(round(VARIETY_LAGS_S[1] * fps)), len(x) // 2)
    if spread <= 1e-12 or hi < lo:
        return 0.0
    # sum_t |x(t + L) - x(t)|^2 = sum |x(t + L)|^2 + sum |x(t)|^2 - 2 sum x(t + L).x(t), for every lag L at
    # once: the squared norms by cumulative sums, the cross term by one FFT correlation.
    n = len(x)
    norms = np.concatenate([[0.0], np.cumsum(np.sum(x * x, axis=1))])
    size = 1 << (2 * n - 1).bit_length()
    spectrum = np.fft.rfft(x, size, axis=0)
    cross = np.fft.irfft(np.sum(spectrum * spectrum.conj(), axis=1), size)[: hi + 1]
    lags = np.arange(lo, hi + 1)
    total = (norms[n] - norms[lags]) + norms[n - lags] - 2.0 * cross[lags]
    return float(np.min(np.maximum(total, 0.0) / (n - lags))) / spread


def ramp(value: float, none: float, full: float) -> float:
    """The credit of a measured value: 0 at `none`, 1 at `full`, linear between (either direction),
    clipped. Shared by the dance and gesture judges' terms."""
    return float(np.clip((value - none) / (full - none), 0.0, 1.0))


def _smooth(x: np.ndarray, fps: float) -> np.ndarray:
    return gaussian_filter1d(np.asarray(x, dtype=np.float64), ENERGY_SMOOTHING_SIGMA_S * fps)


def energy_following(joints, rms: np.ndarray, fps: float) -> tuple[float, float] | None:
    """(credit, r): r the correlation of the smoothed body speed with the smoothed loudness, the credit
    min(1, (1 + r) / (1 + ENERGY_R_HUMAN)); None when the music's loudness hardly varies.

    joints: (T, 24, 3) positions or a one-clip ClipBatch; rms: loudness per 30 fps frame; fps: the motion's rate.
    """
    speed = _smooth(kinetic_velocity(joints), fps)
    loud = np.asarray(rms, dtype=np.float64)
    if loud.size < 2:
        return None
    loud = np.interp(np.arange(speed.size) + 0.5, np.arange(loud.size) * fps / AUDIO_FPS, loud)
    loud = _smooth(loud, fps)
    if loud.std() < MIN_ENERGY_VARIATION * max(loud.mean(), 1e-12):
        return None  # flat loudness: nothing to follow
    r = 0.0 if speed.std() < 1e-9 else float(np.corrcoef(speed, loud)[0, 1])  # constant speed follows nothing
    return min(1.0, (1.0 + r) / (1.0 + ENERGY_R_HUMAN)), r


def latency_score(latency_s: float) -> float:
    """1 / (1 + latency / LATENCY_HALF_S): 1 for an instant answer, 0.5 at 10 s."""
    return 1.0 / (1.0 + max(float(latency_s), 0.0) / LATENCY_HALF_S)


def score_motion(motion: Motion, audio: AudioAnalysis | None = None, *, reference: Motion | None = None,
                 reference_stats: ReferenceStats | None = None, latency_s: float | None = None,
                 replay_tolerance_m: float | None = None, validity: dict[str, float] | None = None) -> ScoreReport:
    """Judge one dance. Never raises on motion content: bad numbers fail a gate.

    motion: the Motion to judge (any frame rate; judged at JUDGE_FPS); audio: its song's
    `AudioAnalysis`, or None to judge without music (no sync, no energy, no frame-count gate);
    reference: a reference Motion for the prompt (similarity and the replay gate), or None;
    reference_stats: `fid.ReferenceStats` of real dances, which the realism term is also held to; latency_s: the miner's answer time in seconds, or None; replay_tolerance_m:
    overrides `similarity.REPLAY_TOLERANCE_M`; validity: this motion's `validity_values` at the
    judge's rate, when a caller computed them for a batch (score_motions).
    """
    expected = None if audio is None else int(round(audio.duration_s * float(motion.fps)))
    gates = header_gates(motion, expected)
    metrics: dict[str, float] = {}
    components: dict[str, float] = {}
    factors: dict[str, float] = {}
    if measurable(gates):
        judged = at_judge_rate(motion)
        fps = JUDGE_FPS
        if validity is None:
            validity = validity_values(judged.joints, fps, judged.poses)
        gates += motion_gates(validity)
        joints = np.asarray(judged.joints, dtype=np.float64)
        # One float64 batch shared by PFC, beats and energy (the precision these metrics have always
        # had); the gates keep their own float32 batch, often made for all answers at once.
        batch = ClipBatch.from_joints(joints)
        if reference is not None:
            gates.append(_similarity(joints, at_judge_rate(reference).joints, latency_s, replay_tolerance_m,
                                     metrics, components))
        _quality(joints, batch, validity, metrics, components)
        residual = repeat_residual(joints, fps)
        metrics["repeat_residual"] = residual
        components["variety"] = ramp(residual, REPEAT_RESIDUAL_EXACT, REPEAT_RESIDUAL_HUMAN)
        if audio is not None:
            _music_terms(batch, audio, fps, metrics, components)
        components["realism"], unlike, style = _realism(joints, batch, reference_stats, metrics)
    else:
        unlike, style = [], None
    metrics.update({g.name: g.value for g in gates})
    if not all(g.passed for g in gates) or not components:
        return ScoreReport(0.0, gates, components, metrics, factors, _reasons(gates, components, factors, metrics, unlike),
                           style=style)
    total = sum(WEIGHTS[k] for k in components)
    blend = sum(WEIGHTS[k] * v for k, v in components.items()) / total
    if "sync" in components:
        factors["sync"] = components["sync"]
    factors["variety"] = components["variety"]
    factors["realism"] = REALISM_FLOOR + (1.0 - REALISM_FLOOR) * components["realism"]
    if latency_s is not None:
        factors["latency"] = 1.0 - LATENCY_WEIGHT + LATENCY_WEIGHT * latency_score(latency_s)
    score = float(np.clip(blend * float(np.prod(list(factors.values()))), 0.0, 1.0))
    metrics["blend"] = blend
    return ScoreReport(score, gates, components, metrics, factors, _reasons(gates, components, factors, metrics, unlike),
                       style=style)


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


def _quality(joints: np.ndarray, batch: ClipBatch, validity: dict, metrics: dict, components: dict) -> None:
    """The quality term: the mean of the PFC, grip and smoothness credits, each full at people's level."""
    pfc = float(physical_foot_contact(batch, JUDGE_FPS))
    sliding = both_feet_sliding(joints, JUDGE_FPS)
    jerk = float(validity["jerk"])
    smooth = ramp(jerk, MAX_MEDIAN_JERK_M_S3, JERK_HUMAN_M_S3) if np.isfinite(jerk) else 0.0
    metrics.update(pfc=pfc, pfc_credit=pfc_credit(pfc), both_feet_sliding=sliding,
                   grip_credit=ramp(sliding, DOUBLE_SLIDE_NONE, DOUBLE_SLIDE_HUMAN), smoothness_credit=smooth)
    components["quality"] = float(np.mean([metrics["pfc_credit"], metrics["grip_credit"], smooth]))


def _music_terms(batch: ClipBatch, audio, fps: float, metrics: dict, components: dict) -> None:
    """sync (with its raw beat metrics) and energy against the song; each left out when the music
    has too little rhythm or dynamics to judge (module doc)."""
    sync = beat_sync(batch, steady_beat_grid(audio.beat_frames, audio.tempo_bpm) * fps / AUDIO_FPS, fps)
    metrics.update(sync)
    if np.size(audio.beat_frames) >= MIN_SYNC_BEATS and sync["motion_beats"] >= MIN_MOTION_BEATS:
        components["sync"] = ramp(sync["sync"], SYNC_CHANCE, SYNC_HUMAN)
    energy = energy_following(batch, audio.rms, fps)
    if energy is not None:
        components["energy"], metrics["energy_r"] = energy


def _realism(joints: np.ndarray, batch: ClipBatch, stats, metrics: dict) -> tuple[float, list[str], np.ndarray]:
    """(the realism term, what is unlike people in words, the dance's style): the realism model's mean window credit
    (realism.py), full from REALISM_HUMAN; with reference statistics (fid.ReferenceStats) also held
    to exp(-max(d - 1, 0) / 2), d the RMS z-score of this clip's kinetic energies against the real
    dances' (not the expenditure columns, which mostly measure body shape and travel: kinetic.py).
    The four body statistics (body_stats.py) are reported alongside."""
    model = shipped_model()
    verdict = model.judge(joints, JUDGE_FPS)
    metrics["realism_model"] = verdict.credit
    metrics.update(body_statistics(joints, JUDGE_FPS))
    credit = ramp(verdict.credit, 0.0, REALISM_HUMAN)
    unlike = verdict.unlike_people(model)
    if stats is not None:
        z = stats.kinetic.normalise(np.asarray(kinetic_features(batch), dtype=np.float64)[None])
        energies = z.reshape(-1, 3)[:, :2]  # per joint: horizontal, vertical kinetic energy
        d = float(np.sqrt(np.mean(energies**2)))
        metrics["kinetic_zscore"] = d
        kinetic = float(np.exp(-max(d - 1.0, 0.0) / 2.0))
        if kinetic < credit:
            unlike = [f"kinetic energies {d:.1f} standard deviations from your reference dances'"]
        credit = min(credit, kinetic)
    return credit, unlike, verdict.style


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


def score_motions(motions: Sequence[Motion], audio: AudioAnalysis | None = None, **kwargs) -> list[ScoreReport]:
    """Score many answers to one prompt (keyword arguments as `score_motion`); the validity metrics of
    equal-length clips at the judge's rate run as one batch."""
    return [score_motion(m, audio, validity=v, **kwargs) for m, v in zip(motions, batch_validity_values(motions))]
