"""Physical validity gates: cheap, explainable checks that a motion could be a human dancing.

Each gate is a physical quantity compared with a limit a human body respects. A motion that fails
any gate scores 0 in the validator (composite.py): these are the floor of the judge, so the limits
are generous for real dancing and tight only where no dancer can go. World frame y up, metres,
the floor at y = 0 (DESIGN §3). Everything is vectorised over frames and over a leading batch of
clips of equal length: `validity_values` takes joints (..., T, 24, 3).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache, lru_cache
from typing import NamedTuple

import numpy as np

from a2a_cli.motion.skeleton import N_JOINTS, PELVIS, smpl_skeleton
from a2a_cli.scoring.clip_batch import ClipBatch, joint_groups
from a2a_cli.scoring.order_stats import lerp, median, neighbours, percentile
from a2a_cli.scoring.constants import (  # the limits and their physical reasoning live there
    AIRBORNE_HEIGHT_M, CONTACT_HEIGHT_M, MAX_ABS_POSITION_M, MAX_AIRBORNE_S, MAX_ANGULAR_SPEED_RAD_S,
    MAX_BONE_STRETCH, MAX_FPS, MAX_JOINT_SPEED_M_S, MAX_MEDIAN_JERK_M_S3, MAX_PENETRATION_M, MAX_ROOT_SPEED_M_S,
    JUDGE_FPS, MAX_SKATE_RATIO, MIN_DURATION_S, MIN_FPS, MIN_FRAMES, MIN_POSE_MOTION_M, PENETRATION_PERCENTILE,
    SKATE_SPEED_M_S, SPEED_PERCENTILE, TELEPORT_SPEED_M_S,
)

__all__ = [
    "HEADER_GATES", "Gate", "at_judge_rate", "batch_validity_values", "check_validity", "gate_reasons", "header_gates",
    "is_minimum", "measurable", "motion_gates", "motion_gates_batch", "positions_in_bounds", "validity_values",
]

# frames per clip whose angular speed is measured exactly, at least: twice the frames the percentile
# reads (8 of 299), or more for short clips
_CANDIDATE_FACTOR = 2
_CANDIDATE_FRAMES = 8


class Gate(NamedTuple):
    """One pass/fail check: its measured `value`, the `limit` it is compared with, and why. A named
    tuple, immutable: a report holds a dozen per answer, and a tuple is made in a third of a frozen
    dataclass's time."""

    name: str
    passed: bool
    value: float
    limit: float
    message: str

    def to_dict(self) -> dict:
        return self._asdict()


def _longest_run(flags: np.ndarray) -> np.ndarray:
    """Length of the longest run of True along the last axis, vectorised over leading axes."""
    if flags.shape[-1] == 0:
        return np.zeros(flags.shape[:-1], dtype=np.int64)
    counts = np.cumsum(flags, axis=-1)
    at_reset = np.where(~flags, counts, 0)
    return (counts - np.maximum.accumulate(at_reset, axis=-1)).max(axis=-1)


# --- the measured quantities ---------------------------------------------------------------------


def _bone_stretch(batch: ClipBatch) -> np.ndarray:
    """High percentile over frames of the bones' mean relative change of length from their median."""
    parents = smpl_skeleton().parents
    p = batch.positions
    bone = p[1:] - p[parents[1:]]  # (23, 3, T, B)
    length = np.sqrt(np.einsum("jctb,jctb->jtb", bone, bone))
    typical = np.maximum(median(length.transpose(0, 2, 1)), 1e-6)  # (23, B)
    stretch = np.abs(length / typical[:, None] - 1.0).mean(axis=0)  # (T, B)
    return percentile(stretch.T, SPEED_PERCENTILE)


def _angular_speed(poses: Sequence[np.ndarray], fps: float) -> np.ndarray:
    """High percentile over frames of the fastest joint's rotation speed (rad/s), from the joint
    rotations of each clip (T, 24, 3): the motions' own arrays, each clip's frames contiguous (this
    gate reads a few frames per clip: laying all the rotations out in the batch layout, or even
    stacking them, cost more), or a (B, T, 24, 3) array.

    The rotation between consecutive frames turns by 2 arccos |q . q'| (unit quaternions), in
    float64 as the definition has it. The percentile reads only the few fastest frames (the 4th
    and 3rd fastest of 299), so the exact angles are taken on a few candidate frames per clip:
    those with the largest |a' - a| (axis-angle step), an upper bound of the angle (the exponential
    map of SO(3) never lengthens a path). When the candidates' slowest needed angle is at least
    the largest bound left out, no other frame can be among the fastest. Where it is not (an
    axis-angle that wraps round near pi steps far while turning little; a static pose), that
    clip's next candidates are every frame whose bound could still reach that angle.
    """
    n_steps = len(poses[0]) - 1
    below, above, weight = neighbours(n_steps, SPEED_PERCENTILE / 100)
    n_top = n_steps - below  # the percentile's neighbours are the n_top-th and (n_top-1)-th fastest
    bound = np.sqrt(_largest_step(poses), dtype=np.float64)  # (B, T-1), rad per frame at most
    result = np.empty(len(poses))
    clips = np.arange(len(poses))
    n_candidates = min(n_steps, max(_CANDIDATE_FRAMES, _CANDIDATE_FACTOR * n_top))
    while clips.size:
        order = np.argpartition(bound[clips], n_steps - n_candidates, axis=-1)
        candidates, rest = order[:, n_steps - n_candidates :], order[:, : n_steps - n_candidates]
        angle = np.sort(_step_angles(poses, clips, candidates), axis=-1)  # (b, n_candidates), rad per frame
        needed = angle[:, -n_top]
        # the largest bound left out, with slack for the float32 bound and the float64 arccos's rounding
        reach = np.take_along_axis(bound[clips], rest, axis=-1).max(axis=-1, initial=-np.inf) * (1 + 1e-5) + 1e-7
        settled = needed >= reach
        first = n_steps - n_candidates  # the candidates sorted sit at these positions of all frames sorted
        result[clips[settled]] = lerp(angle[settled, below - first], angle[settled, above - first], weight)
        clips, needed = clips[~settled], needed[~settled]
        if clips.size:  # every frame that could reach the angle: the candidates' fastest ones among them
            could = (bound[clips] * (1 + 1e-5) + 1e-7 >= needed[:, None]).sum(axis=-1).max()
            n_candidates = min(n_steps, max(2 * n_candidates, int(could)))
    return result * fps


def _largest_step(poses: Sequence[np.ndarray]) -> np.ndarray:
    """Per clip and frame step, the largest squared axis-angle step over joints: (B, T-1), from
    rotations (T, 24, 3) per clip, or a (B, T, 24, 3) array (`_angular_speed`'s).

    In the rotations' precision (float32 unless float64 came in: rounding float64 poses first
    could shrink a step by more than the check's slack). The squares of each step's x, y and z
    are added in that order, as a sum over the axis would.
    """
    if isinstance(poses, np.ndarray):  # one array (a batch's joint-major rotations seen clip-major): one pass
        dtype = np.float64 if poses.dtype == np.float64 else np.float32
        step = np.subtract(poses[:, 1:], poses[:, :-1], dtype=dtype)
    else:  # each clip's steps straight into the batch (no stacked copy of the rotations)
        dtype = np.float64 if any(p.dtype == np.float64 for p in poses) else np.float32
        step = np.empty((len(poses), len(poses[0]) - 1, N_JOINTS, 3), dtype=dtype)
        for out, clip in zip(step, poses):
            np.subtract(clip[1:], clip[:-1], out=out, dtype=dtype)
    squared = np.multiply(step, step, out=step).reshape(step.shape[:2] + (-1,))  # (B, T-1, 24 x 3)
    per_joint = squared[..., 0::3] + squared[..., 1::3]
    per_joint += squared[..., 2::3]
    # joints first for the maximum: numpy reduces a leading axis of rows many times faster than 24-long ones
    return np.ascontiguousarray(np.moveaxis(per_joint, -1, 0)).max(axis=0)


def _step_angles(poses: Sequence[np.ndarray], clips: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """Rotation angle (rad) of the fastest joint from frame f to f + 1, for frames (b, K) of the
    clips (b,) (ascending indices into the rotations, (T, 24, 3) per clip).

    With q = (cos(t/2), k a), k = sin(t/2) / t, for the axis-angle a of length t, the dot of two
    quaternions is w w' + k k' (a . a'); the fastest joint is the one of least |dot| (arccos
    decreases), so arccos runs once per frame. The fast frames come in runs, so each frame's w and
    k (the sine and cosine, most of the work) are computed once however many steps share it.
    """
    n_frames = len(poses[0])
    ends = (clips[:, None, None] * n_frames + frames[..., None] + (0, 1)).reshape(-1)  # (b K 2,) flat frame indices
    used = np.zeros(len(poses) * n_frames, dtype=bool)
    used[ends] = True
    unique = np.flatnonzero(used)  # clip by clip
    slot = np.empty(used.size, dtype=np.intp)
    slot[unique] = np.arange(unique.size)
    if isinstance(poses, np.ndarray):
        aa = poses[unique // n_frames, unique % n_frames]
    else:  # gathered clip by clip from each motion's own array
        first, last = np.searchsorted(unique, clips * n_frames), np.searchsorted(unique, (clips + 1) * n_frames)
        aa = np.concatenate([poses[c][unique[lo:hi] - c * n_frames] for c, lo, hi in zip(clips.tolist(), first.tolist(), last.tolist())])
    aa = aa.astype(np.float64).transpose(2, 0, 1)  # (3, U, 24)
    theta = np.sqrt(aa[0] * aa[0] + aa[1] * aa[1] + aa[2] * aa[2])
    w, k = np.cos(theta / 2), np.sin(theta / 2) / np.maximum(theta, 1e-300)
    at = slot[ends].reshape(-1, 2)
    a, b = aa[:, at[:, 0]], aa[:, at[:, 1]]  # (3, b K, 24)
    dot = w[at[:, 0]] * w[at[:, 1]] + k[at[:, 0]] * k[at[:, 1]] * (a[0] * b[0] + a[1] * b[1] + a[2] * b[2])
    return 2.0 * np.arccos(np.clip(np.abs(dot).min(axis=-1), 0.0, 1.0)).reshape(frames.shape)


def validity_values(
    joints: np.ndarray | ClipBatch, fps: float, poses: np.ndarray | Sequence[np.ndarray] | None = None
) -> dict[str, np.ndarray]:
    """The measured quantity of every motion gate, for joints (..., T, 24, 3) (T >= 4) in metres,
    and their axis-angle rotations `poses` (..., T, 24, 3), or one (T, 24, 3) array per clip of a
    batch (the motions' own: they need not be stacked).

    Returns arrays over the leading (batch) axes. NaN/inf must be excluded before calling. With
    `poses` the joints come from FK, so bones cannot stretch and the joint rotation speed is
    measured instead; without them (joint-position input) bone lengths are checked. A ClipBatch
    (float32 for the usual precision) shares its frame steps and joint speeds with the other metrics,
    and one built by `ClipBatch.from_poses` its rotations (then `poses` only says to use them).
    """
    batch = joints if isinstance(joints, ClipBatch) else ClipBatch.from_joints(np.asarray(joints, dtype=np.float32))
    speed = batch.joint_speed  # (24, T-1, B), metres per frame, as every speed here until the end
    root_speed = speed[PELVIS].T  # (B, T-1): order statistics per clip take clips first
    lowest = batch.lowest_foot  # (T, B)
    n_contact, n_skate = _foot_contacts(batch, fps)
    values = {
        "joint_speed": percentile(speed.max(axis=0).T, SPEED_PERCENTILE) * fps,
        "root_speed": percentile(root_speed, SPEED_PERCENTILE) * fps,
        "teleport": root_speed.max(axis=-1) * fps,
        "jerk": _typical_jerk(batch) * fps**3,
        "penetration": percentile(np.maximum(0.0, -lowest.T), PENETRATION_PERCENTILE),
        "floating": _longest_run(lowest.T > AIRBORNE_HEIGHT_M) / fps,
        "foot_skating": n_skate / np.maximum(n_contact, 1),
        "moves": _pose_motion(batch),
    }
    if poses is None:
        values["bone_stretch"] = _bone_stretch(batch)
    else:
        if batch.axis_angle is not None:
            rotations = batch.axis_angle.transpose(3, 2, 0, 1)  # (B, T, 24, 3), a view
        elif isinstance(poses, np.ndarray):
            rotations = poses.reshape((-1,) + poses.shape[-3:])
        else:
            rotations = [np.asarray(clip) for clip in poses]
        values["angular_speed"] = _angular_speed(rotations, fps)
    return {name: batch.per_clip(np.asarray(v))[()] for name, v in values.items()}


def _typical_jerk(batch: ClipBatch) -> np.ndarray:
    """Median over frames of the joints' mean jerk, metres per frame cubed."""
    total = 0.0
    for group in joint_groups():
        jolt = np.diff(batch.step[group], n=2, axis=2)  # (J, 3, T-3, B)
        total = total + np.sqrt(np.einsum("jctb,jctb->jtb", jolt, jolt)).sum(axis=0)
    return median(total.T / N_JOINTS)


def _foot_contacts(batch: ClipBatch, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Per clip: foot-frames near the clip's floor, and those of them sliding horizontally. A foot
    is its ankle and toe: near when either is, sliding when both move."""
    near = batch.foot_height[:, 1:] - batch.floor < CONTACT_HEIGHT_M  # (2, T-1, B)
    sliding = near & (batch.foot_glide * fps > SKATE_SPEED_M_S)
    return near.sum(axis=(0, 1)), sliding.sum(axis=(0, 1))


def _pose_motion(batch: ClipBatch) -> np.ndarray:
    """Mean over joints of the RMS deviation of the pelvis-relative joint from its average (m), from
    the batch's `pose_deviation` (shared with the repeat residual). The pelvis, 0 relative to itself,
    is left out of the work, not of the mean."""
    deviation = batch.pose_deviation  # (B, 69, T)
    variance = np.einsum("bct,bct->bc", deviation, deviation).astype(np.float64) / batch.n_frames
    per_joint = variance.reshape(batch.n_clips, -1, 3).sum(axis=-1)  # (B, 23)
    return np.sqrt(per_joint).sum(axis=-1) / N_JOINTS


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


# The gates read from the file as given (`header_gates`): their messages say everything.
HEADER_GATES = ("fps", "frame_count", "duration", "finite")


def gate_reasons(failed: list[Gate], minimums: tuple[str, ...] = ()) -> list[str]:
    """One line per failed gate for a report's reasons: the message, and for a measured gate its
    value against its limit. `minimums`: names of a caller's own gates whose value must stay at or
    above the limit (besides `is_minimum`'s)."""
    return [f"gate {g.name} failed: {g.message}" + ("" if g.name in HEADER_GATES
            else f" ({g.value:.4g} against a {'minimum' if is_minimum(g.name) or g.name in minimums else 'maximum'} of {g.limit:g})")
            for g in failed]


def is_minimum(gate_name: str) -> bool:
    """Whether a gate's value must stay at or above its limit (the others: at or below, or equal)."""
    return gate_name == "duration" or (gate_name in _LIMITS and not _LIMITS[gate_name][1])


def all_within(values: np.ndarray, bound: float = math.inf) -> bool:
    """Whether every number of a float array is finite and, when `bound` is given, of magnitude below it.

    First the sum of squares, one BLAS pass with no temporary (a third of the exact checks' time,
    which the judge pays per answer): when it is finite, so is every number, and when it is also
    under half the bound's square, every number is below the bound (float rounding cannot halve a
    sum). Otherwise the exact check decides, so the answer is always exact.
    """
    values = np.asarray(values)
    if values.dtype.kind == "f":
        square_sum = float(np.vdot(values, values))
        if math.isfinite(square_sum) and square_sum < 0.5 * bound * bound:
            return True
    return bool(np.abs(values).max(initial=0.0) < bound) if math.isfinite(bound) else bool(np.isfinite(values).all())


def positions_in_bounds(joints: np.ndarray) -> bool:
    """Whether every joint coordinate is finite and within `MAX_ABS_POSITION_M` (the "finite" gate)."""
    return all_within(joints, MAX_ABS_POSITION_M)


def header_gates(motion, expected_frames: int | None = None) -> list[Gate]:
    """The gates read from the motion as given: frame rate, frame count against the audio
    (`expected_frames`, round(audio duration * fps), when the audio is known), length, finite numbers.

    The motion gates can be measured only when all of these but the frame count pass (`measurable`).
    """
    return [*_timing_gates(motion.n_frames, float(motion.fps), expected_frames), _FINITE if _finite(motion) else _NOT_FINITE]


def _finite(motion) -> bool:
    """The "finite" gate: every number of the motion finite and every joint coordinate within
    `MAX_ABS_POSITION_M`. A motion with rotations has its joints from FK, which keeps every joint
    within the skeleton's reach of the root (rotations do not lengthen bones): with the root well
    inside the bound and rotations that are not absurd (FK's arithmetic cannot overflow), the joints
    need not be read, nor even computed yet (the judge lays them out next, while they are in cache);
    otherwise they are checked themselves."""
    root_inside = all_within(motion.trans, MAX_ABS_POSITION_M - _reach_m() - 1.0)  # (1 m for FK's float32 rounding)
    if not root_inside and not all_within(motion.trans):
        return False
    if motion.poses is not None:
        sane = all_within(motion.poses, _SANE_ROTATION_RAD)  # finite too: one pass decides both, as a rule
        if not sane and not all_within(motion.poses):
            return False
        if sane and root_inside:
            return True
    return positions_in_bounds(motion.joints)


_SANE_ROTATION_RAD = 1e4  # axis-angles up to this length: FK's squares stay far from float32 overflow


@cache
def _reach_m() -> float:
    """The farthest any joint of the SMPL skeleton can be from its root: the longest chain of bone
    lengths (m)."""
    skeleton = smpl_skeleton()
    reach = np.zeros(len(skeleton.parents))
    for joint in range(1, len(reach)):
        reach[joint] = reach[skeleton.parents[joint]] + np.linalg.norm(skeleton.offsets[joint])
    return float(reach.max())


@lru_cache(maxsize=256)
def _timing_gates(n: int, fps: float, expected_frames: int | None) -> tuple[Gate, ...]:
    """The frame rate, frame count and duration gates of a motion of n frames at fps (the answers to
    one prompt share them: made once)."""
    gates: list[Gate] = []
    fps_ok = MIN_FPS <= fps <= MAX_FPS
    gates.append(Gate("fps", fps_ok, fps, MIN_FPS if fps < MIN_FPS else MAX_FPS,
                      "ok" if fps_ok else f"{fps:g} fps: outside {MIN_FPS:g}-{MAX_FPS:g} fps"))
    if expected_frames is not None:
        gates.append(Gate("frame_count", n == expected_frames, float(n), float(expected_frames),
                          "ok" if n == expected_frames else f"{n} frames where the audio needs exactly {expected_frames}"))
    min_frames = max(math.ceil(MIN_DURATION_S * fps), MIN_FRAMES)
    short = f"shorter than {MIN_DURATION_S:g} s" if n < MIN_DURATION_S * fps else f"the gates need {MIN_FRAMES}"
    gates.append(Gate("duration", n >= min_frames, float(n), float(min_frames),
                      "ok" if n >= min_frames else f"{n} frames: {short}"))
    return tuple(gates)


_FINITE = Gate("finite", True, 0.0, 0.0, "ok")
_NOT_FINITE = Gate("finite", False, 1.0, 0.0, "NaN, inf or absurd (> 10 km) values in the motion")


def measurable(gates: list[Gate]) -> bool:
    """Whether the motion gates and the judge's terms can be measured after these header gates."""
    return all(g.passed for g in gates if g.name in ("fps", "duration", "finite"))


def motion_gates(values: dict) -> list[Gate]:
    """One gate per measured quantity of `validity_values` (name -> value)."""
    return motion_gates_batch({name: [value] for name, value in values.items()})[0]


def motion_gates_batch(values: dict) -> list[list[Gate]]:
    """`motion_gates` of every clip of a batch, from `validity_values`' arrays (name -> (B,)): each
    name's limit is compared with the whole batch at once (NaN fails), one list of gates per clip."""
    columns = []
    for name, value in values.items():
        limit, upper, meaning = _LIMITS[name]
        value = np.asarray(value, dtype=np.float64)
        passed = (value <= limit) if upper else (value >= limit)
        columns.append([Gate(name, ok, v, limit, "ok" if ok else meaning) for v, ok in zip(value.tolist(), passed.tolist())])
    return [list(gates) for gates in zip(*columns)]


def at_judge_rate(motion):
    """The motion at the judge's time base (JUDGE_FPS), where every gate and term is measured."""
    if float(motion.fps) == JUDGE_FPS:
        return motion
    from a2a_cli.motion.resample import resample

    return resample(motion, JUDGE_FPS)


def check_validity(motion, expected_frames: int | None = None, values: dict | None = None) -> list[Gate]:
    """All gates for one Motion; `expected_frames` (round(audio duration * fps)) when the audio is known.

    `values`: the `validity_values` of this motion at the judge's rate, when a caller computed them
    for a whole batch. The motion gates are measured on the motion resampled to JUDGE_FPS, so that
    the verdict does not depend on the file's frame rate.

    Gates that cannot be measured (a motion too short, not finite, at a rate outside the limits)
    are reported as failed with the reason, and the motion gates are then skipped: a judge must
    never crash on input.
    """
    gates = header_gates(motion, expected_frames)
    if not measurable(gates):
        return gates
    if values is None:
        judged = at_judge_rate(motion)
        values = validity_values(judged.joints, judged.fps, judged.poses)
    return gates + motion_gates(values)


def batch_validity_values(motions) -> list[dict | None]:
    """The `validity_values` of each Motion of a batch at the judge's rate, computed as one batch
    when all are equal-length clips at JUDGE_FPS (None for a motion left to be measured alone: another
    length or rate, or numbers out of bounds, which the header gates judge)."""
    values: list[dict | None] = [None] * len(motions)
    lengths = {(m.n_frames, float(m.fps)) for m in motions}
    if len(motions) > 1 and len(lengths) == 1 and float(motions[0].fps) == JUDGE_FPS and motions[0].n_frames >= 4:
        finite = [i for i, m in enumerate(motions) if positions_in_bounds(m.joints)]
        # Motions with rotations and joint-position motions have different gates: one batch for each.
        for group in ([i for i in finite if motions[i].poses is not None], [i for i in finite if motions[i].poses is None]):
            if not group:
                continue
            poses = np.stack([motions[i].poses for i in group]) if motions[group[0]].poses is not None else None
            batch = validity_values(np.stack([motions[i].joints for i in group]), JUDGE_FPS, poses)
            for row, i in enumerate(group):
                values[i] = {k: v[row] for k, v in batch.items()}
    return values
