"""Physical validity gates: cheap, explainable checks that a motion could be a human dancing.

Each gate is a physical quantity compared with a limit a human body respects. A motion that fails
any gate scores 0 in the validator (composite.py): these are the floor of the judge, so the limits
are generous for real dancing and tight only where no dancer can go. World frame y up, metres,
the floor at y = 0 (DESIGN §3). Everything is vectorised over frames and over a leading batch of
clips of equal length: `validity_values` takes joints (..., T, 24, 3).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from a2a_cli.motion.skeleton import FOOT_JOINTS, L_ANKLE, L_FOOT, PELVIS, R_ANKLE, R_FOOT, smpl_skeleton

# --- limits, with the physical reasoning behind each -------------------------------------------
# Hands are the fastest joints of a dancer: a boxer's punch peaks near 10 m/s, dance arm swings
# stay below about 8 m/s. 12 m/s leaves room for sharp hits; random poses jump 20-100 m/s.
MAX_JOINT_SPEED_M_S = 12.0
# The body as a whole (the pelvis): sprinters reach 10 m/s, dancers crossing a stage about 4-5 m/s.
MAX_ROOT_SPEED_M_S = 6.0
# A teleport is one frame in which the root moves faster than a sprinter: 0.33 m at 30 fps.
TELEPORT_SPEED_M_S = 10.0
# Joints turning faster than this (rad/s): a fast pirouette is about 3 turns/s (19 rad/s), wrist
# flicks are of the same order; 40 rad/s (6.4 turns/s) is beyond any sustained human rotation.
MAX_ANGULAR_SPEED_RAD_S = 40.0
# Jerk (third derivative of position): smooth human movement of a 0.3 m arm swing at 2 Hz is
# ~600 m/s^3; sharp hits reach a few thousand for a frame or two. The typical (median) frame of
# noise is far above 4000 m/s^3 at 30 fps.
MAX_MEDIAN_JERK_M_S3 = 4000.0
# Penetration: the lowest foot joint (ankle or toe) sitting more than 5 cm under the floor in
# more than 5% of the frames means the feet are inside the ground, not a toe joint's rounding.
MAX_PENETRATION_M = 0.05
PENETRATION_PERCENTILE = 95.0
# Floating: both feet higher than 15 cm counts as airborne; a 1 m standing jump (world class)
# stays in the air about 0.9 s, so airborne longer than 1 s at a stretch is floating.
AIRBORNE_HEIGHT_M = 0.15
MAX_AIRBORNE_S = 1.0
# Foot skating: a foot near the floor (within 5 cm of the clip's floor level) moving faster than
# 0.5 m/s horizontally is sliding; real dancing (even with pivots and slides) keeps that to a
# minority of contact frames; a gliding statue slides in all of them.
CONTACT_HEIGHT_M = 0.05
SKATE_SPEED_M_S = 0.5
MAX_SKATE_RATIO = 0.5
# Bones do not stretch: for motions given as joint positions, the bones' mean relative change of
# length from their median must stay under 15% in 99% of the frames (FK output keeps it at 0; a
# pose estimator's 1 cm of noise gives ~12%; joints moving independently give 30-50%).
MAX_BONE_STRETCH = 0.15
# A dance moves: the pose (joints relative to the pelvis) must deviate from its average by more
# than 3 cm RMS per joint; a statue with sensor-like jitter stays in millimetres.
MIN_POSE_MOTION_M = 0.03
# At least one second: shorter answers cannot be judged for rhythm or dynamics.
MIN_DURATION_S = 1.0

_PERCENTILE = 99.0  # speeds use a high percentile so that one rounding glitch does not fail a clip


@dataclass(frozen=True)
class Gate:
    """One pass/fail check: its measured `value`, the `limit` it is compared with, and why."""

    name: str
    passed: bool
    value: float
    limit: float
    message: str

    def to_dict(self) -> dict:
        return asdict(self)


def _longest_run(flags: np.ndarray) -> np.ndarray:
    """Length of the longest run of True along the last axis, vectorised over leading axes."""
    if flags.shape[-1] == 0:
        return np.zeros(flags.shape[:-1], dtype=np.int64)
    counts = np.cumsum(flags, axis=-1)
    at_reset = np.where(~flags, counts, 0)
    return (counts - np.maximum.accumulate(at_reset, axis=-1)).max(axis=-1)


def _bone_stretch(joints: np.ndarray) -> np.ndarray:
    parents = smpl_skeleton().parents
    bones = _norm(joints[..., 1:, :] - joints[..., parents[1:], :])  # (..., T, 23)
    median = np.median(bones, axis=-2, keepdims=True)
    stretch = np.abs(bones / np.maximum(median, 1e-6) - 1.0)
    return np.percentile(stretch.mean(axis=-1), _PERCENTILE, axis=-1)


def _angular_speed(poses: np.ndarray, fps: float) -> np.ndarray:
    """High percentile over frames of the fastest joint's rotation speed (rad/s) from axis-angle."""
    from a2a_cli.motion.rotations import axis_angle_to_quaternion

    q = axis_angle_to_quaternion(poses)  # (..., T, 24, 4)
    dot = np.abs(np.sum(q[..., 1:, :, :] * q[..., :-1, :, :], axis=-1))
    angle = 2.0 * np.arccos(np.clip(dot, 0.0, 1.0)) * fps  # (..., T-1, 24)
    return np.percentile(angle.max(axis=-1), _PERCENTILE, axis=-1)


def _norm(v: np.ndarray) -> np.ndarray:
    return np.sqrt(np.einsum("...c,...c->...", v, v))


def validity_values(joints: np.ndarray, fps: float, poses: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The measured quantity of every motion gate, for joints (..., T, 24, 3) (T >= 4) in metres.

    Returns arrays over the leading (batch) axes. NaN/inf must be excluded before calling. With
    `poses` the joints come from FK, so bones cannot stretch and the joint rotation speed is
    measured instead; without them (joint-position input) bone lengths are checked.
    """
    j = np.asarray(joints, dtype=np.float32)
    step = np.diff(j, axis=-3)  # (..., T-1, 24, 3), metres per frame
    speed = _norm(step) * fps  # (..., T-1, 24)
    root_speed = speed[..., PELVIS]
    jerk = _norm(np.diff(step, n=2, axis=-3)) * fps**3  # (..., T-3, 24)

    lowest = j[..., FOOT_JOINTS, 1].min(axis=-1)  # (..., T)
    depth = np.maximum(0.0, -lowest)

    floor = np.percentile(lowest, 5.0, axis=-1)[..., None, None]
    n_contact = n_skate = 0
    for ankle, toe in ((L_ANKLE, L_FOOT), (R_ANKLE, R_FOOT)):
        near = (j[..., 1:, (ankle, toe), 1] - floor < CONTACT_HEIGHT_M).any(axis=-1)  # (..., T-1)
        h_step = step[..., (ankle, toe), :][..., [0, 2]]
        h_speed = _norm(h_step).min(axis=-1) * fps
        n_contact = n_contact + near.sum(axis=-1)
        n_skate = n_skate + (near & (h_speed > SKATE_SPEED_M_S)).sum(axis=-1)

    rel = j - j[..., PELVIS : PELVIS + 1, :]
    spread = rel - rel.mean(axis=-3, keepdims=True)
    pose_motion = np.sqrt(np.einsum("...tjc,...tjc->...j", spread, spread) / j.shape[-3]).mean(axis=-1)

    values = {
        "joint_speed": np.percentile(speed.max(axis=-1), _PERCENTILE, axis=-1),
        "root_speed": np.percentile(root_speed, _PERCENTILE, axis=-1),
        "teleport": root_speed.max(axis=-1),
        "jerk": np.median(jerk.mean(axis=-1), axis=-1),
        "penetration": np.percentile(depth, PENETRATION_PERCENTILE, axis=-1),
        "floating": _longest_run(lowest > AIRBORNE_HEIGHT_M) / fps,
        "foot_skating": n_skate / np.maximum(n_contact, 1),
        "moves": pose_motion,
    }
    if poses is None:
        values["bone_stretch"] = _bone_stretch(j)
    else:
        values["angular_speed"] = _angular_speed(np.asarray(poses, dtype=np.float64), fps)
    return values


# name -> (limit, True when the value must stay at or below the limit, what failing means)
_LIMITS: dict[str, tuple[float, bool, str]] = {
    "joint_speed": (MAX_JOINT_SPEED_M_S, True, "a joint moves faster than a human can (m/s)"),
    "root_speed": (MAX_ROOT_SPEED_M_S, True, "the body travels faster than a dancer can (m/s)"),
    "teleport": (TELEPORT_SPEED_M_S, True, "the root jumps between two frames (m/s)"),
    "angular_speed": (MAX_ANGULAR_SPEED_RAD_S, True, "a joint spins faster than a human can (rad/s)"),
    "jerk": (MAX_MEDIAN_JERK_M_S3, True, "the motion shakes: typical jerk too high (m/s^3)"),
    "penetration": (MAX_PENETRATION_M, True, "the feet sink through the floor (m)"),
    "floating": (MAX_AIRBORNE_S, True, "both feet stay off the floor too long (s)"),
    "foot_skating": (MAX_SKATE_RATIO, True, "the feet slide while on the floor (fraction of contact frames)"),
    "bone_stretch": (MAX_BONE_STRETCH, True, "bones change length (relative)"),
    "moves": (MIN_POSE_MOTION_M, False, "the body hardly moves: a static or near-static pose (m RMS)"),
}


def _gate(name: str, value: float) -> Gate:
    limit, upper, meaning = _LIMITS[name]
    passed = bool(value <= limit) if upper else bool(value >= limit)
    verdict = "ok" if passed else meaning
    return Gate(name, passed, float(value), limit, verdict)


def check_validity(motion, expected_frames: int | None = None, values: dict | None = None) -> list[Gate]:
    """All gates for one Motion; `expected_frames` (round(audio duration * fps)) when the audio is known.

    `values`: this motion's `validity_values`, when a caller computed them for a whole batch.

    Gates that cannot be measured (a motion too short or not finite) are reported as failed with
    the reason, and the motion-derived gates are then skipped: a judge must never crash on input.
    """
    gates: list[Gate] = []
    n = motion.n_frames
    if expected_frames is not None:
        gates.append(Gate("frame_count", n == expected_frames, float(n), float(expected_frames),
                          "ok" if n == expected_frames else f"{n} frames where the audio needs exactly {expected_frames}"))
    min_frames = int(np.ceil(MIN_DURATION_S * motion.fps))
    gates.append(Gate("duration", n >= min_frames, float(n), float(min_frames),
                      "ok" if n >= min_frames else f"{n} frames: shorter than {MIN_DURATION_S:g} s"))
    arrays = [motion.trans] + ([motion.poses] if motion.poses is not None else [])
    finite = all(np.isfinite(a).all() for a in arrays)
    joints = motion.joints if finite else None
    finite = finite and bool(np.isfinite(joints).all()) and bool(np.abs(joints).max(initial=0.0) < 1e4)
    gates.append(Gate("finite", finite, 0.0 if finite else 1.0, 0.0,
                      "ok" if finite else "NaN, inf or absurd (> 10 km) values in the motion"))
    if not finite or n < max(min_frames, 4):
        return gates
    if values is None:
        values = validity_values(joints, motion.fps, motion.poses)
    gates.extend(_gate(name, float(v)) for name, v in values.items())
    return gates
