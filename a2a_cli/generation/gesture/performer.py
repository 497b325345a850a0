"""From a plan of the talk to a Motion: the wrists' paths, the head and torso, planted feet.

Each wrist follows keys in the chest's frame: a stroke's end lands exactly on its stressed syllable,
reached along a cubic curve through the preparation's offset (a small loop: up and back, then down
and forward onto the stress) and timed by an ease whose speed is zero only at the keys. The path is
walked at an even pace in space (arc length), so the hand's speed rises and falls once per stroke:
the hand's velocity minima (the motion beats a beat-consistency metric reads) are the stroke ends,
and the stroke is the fast phase, late in the segment. Between strokes that are far apart the hand
holds through a pause or goes back to rest; the rest lasts until the next unit's preparation.

An analytic two-bone IK (choreo's) puts each wrist on its path with the elbow toward its pole; the
head nods on strong stresses and glances between listeners, the chest breathes, the weight shifts
from foot to foot, and the legs are solved onto feet that never leave their spots.
"""

from __future__ import annotations

import numpy as np

from a2a_cli.frame_rate import FPS
from a2a_cli.generation.choreo.moves import CHANNELS
from a2a_cli.generation.choreo.performer import STAND_HEIGHT, channel_rotations, plant_legs, quintic
from a2a_cli.motion.leg_ik import two_bone_ik
from a2a_cli.generation.gesture.shapes import ELBOW_POLE, READY, RESTS, mirror_x
from a2a_cli.generation.gesture.talk import TalkPlan
from a2a_cli.motion import Motion
from a2a_cli.motion import skeleton as sk
from a2a_cli.motion.rotations import euler_to_matrix, matrix_to_axis_angle

__all__ = [
    "ARC_SAMPLES", "BREATH_PERIOD_S", "FOOT_X", "HOLD_PAUSE_S", "LOOP", "MAX_STROKE_S", "MIN_HOLD_S", "MIN_REST_S", "MIN_STROKE_S", "POST_HOLD_S", "PREP_S",
    "MIN_REBOUND_M", "REBOUND", "REBOUND_S", "RETRACT_EASE", "RETRACT_S", "REST_SWAP_S", "SHIFT_M", "STROKE_EASE", "perform",
]

POST_HOLD_S = 0.2  # after a stroke the hand stays about this long before it retracts
RETRACT_S = 0.45  # from the last stroke's end back to rest
RETRACT_EASE = (2.5, 3.0)  # leaving the stroke gently (its end stays the slowest moment), settling at rest
PREP_S = 0.5  # from rest up to the first stroke of a unit
MIN_REST_S = 0.5  # a rest shorter than this is not worth going down for: the hand holds instead
HOLD_PAUSE_S = 0.3  # a pause this long between two strokes: the hand holds still through it
MIN_STROKE_S, MAX_STROKE_S = 0.3, 0.8  # a stroke's segment (preparation and stroke) after a hold
MIN_HOLD_S = 0.55  # a hold (the rebound from a stroke, then still) lasts at least this long
# After a stroke, a hand that holds first springs back over REBOUND_S by this share of the stroke's
# preparation (at least MIN_REBOUND_M): a clear bounce, so the stroke's end stays the slowest moment
# around it however still the hold is.
REBOUND, MIN_REBOUND_M, REBOUND_S = 0.5, 0.04, 0.3
# The ease of a stroke's segment, betainc(a, b): speed rising linearly from the last key (so the
# hand's slowest moment is the key itself, not some still stretch after it) and falling a little
# more gently into the stroke's end. The stroke arrives fast and the hand leaves slowly, so a
# smoothed speed has its minimum a little late; the gentler arrival keeps that within a frame or
# two (b = 2.5 put 95 % of the strokes' measured minima within 0.1 s of their stress, b = 2 and
# b = 3 90 %: support/gestures.py's measure, six voices).
STROKE_EASE = (2.0, 2.5)
LOOP = 0.35  # the preparation's loop: its forward swing as a share of the lift
ARC_SAMPLES = 16  # samples per path segment for walking it at an even pace
REST_SWAP_S = (5.0, 12.0)  # the rest changes between hands clasped and hanging this often (s)
BREATH_PERIOD_S = 4.2
SHIFT_M = 0.03  # the pelvis moves this far over the foot that takes the weight
SHIFT_S = 1.6  # a weight shift takes this long
FOOT_X = 0.12  # each foot's distance from the midline (m); toes turned out by FOOT_YAW
FOOT_YAW = np.deg2rad(8.0)
_CH = {c: i for i, c in enumerate(CHANNELS)}
_FORWARD = np.array([0.0, 0.0, 1.0])


def perform(plan: TalkPlan, n_frames: int, rng: np.random.Generator) -> Motion:
    """The speaker of `plan`, `n_frames` frames at 30 fps; `rng` draws the rests, drifts and phases."""
    t = np.arange(n_frames) / FPS
    lively = plan.liveliness
    rests = _rest_schedule(plan, rng)
    wrists = [_evaluate(t, *_hand_keys(plan, side, rests)) for side in ("l", "r")]  # (T, 3) each, chest frame

    pose = np.zeros((n_frames, len(CHANNELS), 3))
    phase = rng.uniform(0.0, 2 * np.pi, 4)
    breath = np.sin(2 * np.pi * t / BREATH_PERIOD_S + phase[0])
    drift = np.sin(2 * np.pi * t / 7.3 + phase[1]) + 0.6 * np.sin(2 * np.pi * t / 3.1 + phase[2])
    weight = _eased_steps(t, plan.shifts, SHIFT_S)  # +1: on the left foot
    # the torso turns a little toward the hand that gestures further out
    reach = (wrists[0][:, 0] - READY[0]) - (-wrists[1][:, 0] - READY[0])
    pose[:, _CH["spine"]] = np.column_stack([
        2.0 + 3.0 * lively + 0.8 * breath, 25.0 * reach + 1.2 * drift, 2.0 * weight])
    pose[:, _CH["pelvis"]] = np.column_stack([np.zeros(n_frames), -1.0 * weight, -2.5 * weight])
    pose[:, _CH["lco"], 2] = pose[:, _CH["rco"], 2] = 0.8 * breath
    nod = _nods(t, plan.nods)
    glance = _eased_steps(t, plan.glances, 0.6)
    pose[:, _CH["neck"]] = np.column_stack([nod - 4.0 + 0.6 * drift, glance + 2.0 * drift, -0.1 * glance])

    pelvis = np.column_stack([SHIFT_M * weight, np.full(n_frames, STAND_HEIGHT) + 0.002 * breath,
                              0.01 * np.sin(2 * np.pi * t / 9.7 + phase[3])])
    pelvis_rot = euler_to_matrix(np.deg2rad(pose[:, _CH["pelvis"]]), "XYZ")
    locals_ = channel_rotations(pose)
    locals_[:, sk.PELVIS] = pelvis_rot
    skel = sk.smpl_skeleton()
    toe_drop = -skel.offsets[[sk.L_FOOT, sk.R_FOOT], 1]
    ankle = np.broadcast_to(np.array([[FOOT_X, toe_drop[0], 0.0], [-FOOT_X, toe_drop[1], 0.0]]), (n_frames, 2, 3))
    foot_yaw = np.broadcast_to(np.array([FOOT_YAW, -FOOT_YAW]), (n_frames, 2))
    plant_legs(locals_, pelvis, pelvis_rot, ankle, foot_yaw, np.zeros(n_frames))
    _place_arms(locals_, pelvis, wrists)
    return Motion(poses=matrix_to_axis_angle(locals_).astype(np.float32), trans=pelvis.astype(np.float32), fps=FPS)


def _place_arms(locals_: np.ndarray, pelvis: np.ndarray, wrists: list[np.ndarray]) -> None:
    """Shoulder and elbow rotations (in `locals_`, in place) that put each wrist on its path,
    `wrists` given in the chest's frame (the Spine3 joint's position and rotation)."""
    skel = sk.smpl_skeleton()
    off = skel.offsets
    rot, pos = locals_[:, sk.PELVIS], pelvis
    for j in (sk.SPINE1, sk.SPINE2, sk.SPINE3):
        pos = pos + rot @ off[j]
        rot = rot @ locals_[:, j]
    chest_rot, chest = rot, pos
    for wrist, (collar, shoulder, elbow, hand), right in zip(
            wrists, ((sk.L_COLLAR, sk.L_SHOULDER, sk.L_ELBOW, sk.L_WRIST), (sk.R_COLLAR, sk.R_SHOULDER, sk.R_ELBOW, sk.R_WRIST)),
            (False, True)):
        collar_rot = chest_rot @ locals_[:, collar]
        shoulder_at = chest + chest_rot @ off[collar] + collar_rot @ off[shoulder]
        target = chest + np.einsum("tij,tj->ti", chest_rot, wrist)
        pole = chest_rot @ mirror_x(ELBOW_POLE, right)
        upper, lower = two_bone_ik(shoulder_at, target, pole, off[elbow], off[hand], -_FORWARD)
        locals_[:, shoulder] = np.swapaxes(collar_rot, -1, -2) @ upper
        locals_[:, elbow] = np.swapaxes(upper, -1, -2) @ lower


def _hand_keys(plan: TalkPlan, side: str, rests: tuple[np.ndarray, list[str]]):
    """Keys of one wrist (`side` "l" or "r"): times (K,) s, places (K, 3) in the chest frame, the
    cubic curve's two inner control points (K, 2, 3) and the ease's shape (a, b) (K,) of the segment
    that ends at each key (the first key's are unused). `rests`: when (s, ascending) which rest of
    RESTS both hands take when they rest (so that they clasp together)."""
    right = side == "r"
    keys: list[tuple[float, np.ndarray, np.ndarray | None, float, float]] = []  # time, place, via, a, b
    change_at, kinds = rests

    def rest_place(t: float) -> np.ndarray:
        return mirror_x(RESTS[kinds[int(np.searchsorted(change_at, t, side="right")) - 1]], right)

    def rest_until(start: float, end: float, place: np.ndarray) -> np.ndarray:
        """Rest from `start` to `end`, following the rests' changes; returns the place at `end`."""
        for at in change_at[(change_at > start + 0.5) & (change_at < end - 1.7)]:
            keys.append((at, place, None, 2.0, 2.0))
            place = rest_place(at)
            keys.append((at + 1.2, place, None, 3.0, 3.0))
        keys.append((end, place, None, 2.0, 2.0))
        return place

    place = rest_place(0.0)
    keys.append((-1.0, place, None, 2.0, 2.0))
    last_t: float | None = None  # the last stroke's time, None while resting
    last_via = np.zeros(3)  # the last stroke's preparation, which a hold springs back along
    pauses = _pauses(plan)
    for stroke in plan.strokes:
        end = stroke.right if right else stroke.left
        if end is None:
            continue
        t = stroke.time_s
        if last_t is not None and t - last_t >= POST_HOLD_S + RETRACT_S + MIN_REST_S + PREP_S:
            place = rest_place(last_t + POST_HOLD_S)
            keys.append((last_t + POST_HOLD_S + RETRACT_S, place, None, *RETRACT_EASE))
            last_t = None
        elif last_t is not None:
            hold = _hold_end(pauses, last_t, t)
            if hold is not None:  # the hand springs back from the stroke, then holds, settling a little
                spring = REBOUND * last_via
                spring *= max(1.0, MIN_REBOUND_M / max(float(np.linalg.norm(spring)), 1e-9))
                keys.append((last_t + REBOUND_S, keys[-1][1] + spring, None, *STROKE_EASE))
                keys.append((hold, keys[-1][1] - 0.4 * spring, None, 2.0, 2.0))
        if last_t is None:
            rest_from = keys[-1][0]
            place = rest_until(rest_from, max(t - PREP_S, rest_from + 0.05), place)
        keys.append((t, end, mirror_x(stroke.via, right), *STROKE_EASE))
        last_t, last_via = t, mirror_x(stroke.via, right)
    if last_t is not None:
        place = rest_place(last_t + POST_HOLD_S)
        keys.append((last_t + POST_HOLD_S + RETRACT_S, place, None, *RETRACT_EASE))
    rest_until(keys[-1][0], max(plan.duration_s + 1.0, keys[-1][0] + 0.1), place)

    times = np.array([k[0] for k in keys])
    places = np.array([k[1] for k in keys])
    controls = np.empty((len(keys), 2, 3))
    for i, (_, p1, via, _, _) in enumerate(keys):
        p0 = places[max(i - 1, 0)]
        controls[i] = [p0 + (p1 - p0) / 3, p0 + 2 * (p1 - p0) / 3]
        if via is not None:
            lift = np.asarray(via, dtype=np.float64)
            loop = LOOP * float(np.linalg.norm(lift)) * _FORWARD
            controls[i, 0] += 4 / 3 * (lift + loop)
            controls[i, 1] += 4 / 3 * (lift - loop)
    return times, places, controls, np.array([k[3] for k in keys]), np.array([k[4] for k in keys])


def _rest_schedule(plan: TalkPlan, rng: np.random.Generator) -> tuple[np.ndarray, list[str]]:
    """When (s, ascending, the first at -inf) the resting hands change between the RESTS, and to
    which; never in a pause (a silent speaker keeps still)."""
    names = list(RESTS)
    kind = int(rng.integers(len(names)))
    change_at, kinds = [-np.inf], [names[kind]]
    pauses = _pauses(plan)
    at = rng.uniform(*REST_SWAP_S)
    while at < plan.duration_s:
        silent = np.flatnonzero((pauses[:, 0] - 1.2 <= at) & (at < pauses[:, 1]))
        if silent.size:
            at = float(pauses[silent[-1], 1]) + 0.3
            continue
        kind = (kind + int(rng.integers(1, len(names)))) % len(names)
        change_at.append(at)
        kinds.append(names[kind])
        at += rng.uniform(*REST_SWAP_S)
    return np.array(change_at), kinds


def _pauses(plan: TalkPlan) -> np.ndarray:
    """[start, end) of the silences between the plan's phrases and inside none, (p, 2) seconds."""
    phrases = plan.phrases
    if not phrases.size:
        return np.array([[0.0, plan.duration_s]])
    starts = np.concatenate([[0.0], phrases[:, 1]])
    ends = np.concatenate([phrases[:, 0], [plan.duration_s]])
    return np.column_stack([starts, ends])[ends > starts]


def _hold_end(pauses: np.ndarray, after: float, before: float) -> float | None:
    """When a hand that struck at `after` and strikes again at `before` ends its hold: at the end of
    a pause of HOLD_PAUSE_S or more between them, or MAX_STROKE_S before the next stroke when they
    are further apart than that (so the stroke stays quick); None when the hand goes straight on."""
    overlap = np.minimum(pauses[:, 1], before) - np.maximum(pauses[:, 0], after)
    long = np.flatnonzero(overlap >= HOLD_PAUSE_S)
    end = min(float(pauses[long[-1], 1]), before - MIN_STROKE_S) if long.size else before - MAX_STROKE_S
    return end if end > after + MIN_HOLD_S else None


def _evaluate(t: np.ndarray, times: np.ndarray, places: np.ndarray, controls: np.ndarray, a: np.ndarray,
              b: np.ndarray) -> np.ndarray:
    """Places (T, 3) at times `t` (T,) s along the keyed path: each segment is a cubic Bezier curve
    from the previous key through its control points, walked at an even pace in space and timed by
    the ease betainc(a, b, u) (speed zero at both keys)."""
    from scipy.special import betainc

    k = np.clip(np.searchsorted(times, t, side="right"), 1, times.size - 1)
    t0, t1 = times[k - 1], times[k]
    u = np.clip((t - t0) / np.maximum(t1 - t0, 1e-9), 0.0, 1.0)
    share = betainc(a[k], b[k], u)  # the share of the segment's length covered
    s = np.linspace(0.0, 1.0, ARC_SAMPLES + 1)
    curve = _bezier(places[:-1, None], controls[1:, None, 0], controls[1:, None, 1], places[1:, None], s[:, None])
    length = np.concatenate([np.zeros((times.size - 1, 1)),
                             np.cumsum(np.linalg.norm(np.diff(curve, axis=1), axis=-1), axis=1)], axis=1)
    covered = length / np.maximum(length[:, -1:], 1e-12)  # (K-1, S+1) from 0 to 1 (all 0 for a still segment)
    row = covered[k - 1]
    j = np.clip((row <= share[:, None]).sum(axis=1) - 1, 0, ARC_SAMPLES - 1)
    lo, hi = np.take_along_axis(row, j[:, None], 1)[:, 0], np.take_along_axis(row, j[:, None] + 1, 1)[:, 0]
    along = (j + np.clip((share - lo) / np.maximum(hi - lo, 1e-12), 0.0, 1.0)) / ARC_SAMPLES
    return _bezier(places[k - 1], controls[k, 0], controls[k, 1], places[k], along[:, None])


def _bezier(p0, c1, c2, p1, s):
    """The cubic Bezier curve p0 -> p1 with inner control points c1, c2 at parameter s (broadcast)."""
    r = 1.0 - s
    return r * r * r * p0 + 3 * r * r * s * c1 + 3 * r * s * s * c2 + s * s * s * p1


def _eased_steps(t: np.ndarray, steps: np.ndarray, ease_s: float) -> np.ndarray:
    """A value (T,) at times `t` that takes each step's new value from its time on, steps (n, 2)
    being (time s, value), easing from the last value over `ease_s` seconds."""
    if not steps.size:
        return np.zeros_like(t)
    change = np.diff(steps[:, 1])
    ramps = quintic(np.clip((t[:, None] - steps[1:, 0][None, :]) / ease_s, 0.0, 1.0))
    return steps[0, 1] + ramps @ change


def _nods(t: np.ndarray, nods: np.ndarray) -> np.ndarray:
    """Neck flexion (T,) degrees: each nod (time, depth) goes down over 0.18 s, lowest on its time,
    and back up over 0.4 s."""
    out = np.zeros_like(t)
    for at, depth in nods:
        lo, hi = np.searchsorted(t, [at - 0.18, at + 0.4])
        x = t[lo:hi] - at
        out[lo:hi] += depth * np.where(x < 0, quintic(np.clip(1 + x / 0.18, 0, 1)), 1 - quintic(np.clip(x / 0.4, 0, 1)))
    return out
