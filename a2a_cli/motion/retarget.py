"""Any BVH skeleton -> SMPL-24 (CMU, Mixamo, Second Life, ZEGGS ...): a retarget that copies bone directions.

1. Map (`map_skeleton`). Each SMPL joint is placed on the source skeleton as a point: a source joint
   found by name (`ALIASES`: the CMU "BVH conversion release" / Second Life names, the CMU ASF-to-BVH,
   MotionBuilder (so ZEGGS) and Mixamo names, SMPL's own; compared case-insensitively, without spaces
   or a namespace such as `mixamorig:`), or a blend of source joints: the pelvis is the lowest common
   ancestor of the two hips; Spine1-3 (and the neck, when the file has none) lie on the source's spine,
   the chain from the pelvis to the neck (or head), at SMPL's proportions of its length; a collar the
   file lacks lies on the line from Spine3 to the shoulder; a toe or palm the file lacks is the mean of
   the ankle's (wrist's) children, joints or End Sites. Hips, knees, ankles, shoulders, elbows, wrists
   and the head must be found, each below the joint found for its SMPL parent; an unmappable skeleton
   is an InputError naming what is missing.
2. Forward kinematics of the source on its own offsets, vectorised over frames: channels in any order;
   position channels, on any joint, replace its offset (as in Blender's importer).
3. Solve world rotations, joint by joint. The pelvis takes the frame of its left-right axis (right hip
   to left hip) and, orthogonalised, its spine (pelvis to Spine1). Every other joint of `ALIGNED_BONES`
   takes the world rotation of the source joint that carries the child point, times the source's rest
   body frame (the pelvis frame of its rest pose, so a source facing any way at rest works), then the
   minimal swing that turns its bone onto the source's direction. That swing is the difference of the
   two rest poses (an A-pose rest works), plus what the source bends between the two points (the
   spine); the twist is the source's own, so it is smooth and never flips. The head turns as the
   source's head; toes and palms (leaves that move no joint) and an ankle or wrist without a point
   below it follow their parent.
4. Root: the pelvis rotation, and the translation that puts the SMPL hips' midpoint at the source's,
   scaled by SMPL leg length / source leg length, so units and body size drop out and steps keep SMPL's
   proportions; then the feet go on the floor (`grounding`). The source is taken as y up. The fps is
   the file's.

Exact to float precision: the direction of each bone in `ALIGNED_BONES`. Pelvis -> Spine1 is off by the
difference between the two skeletons' angles of hips and lower spine (a few degrees); a joint's other
children (Pelvis -> hips, Spine3 -> collars) keep SMPL's rigid geometry.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from a2a_cli.errors import InputError
from a2a_cli.motion.bvh_parse import POSITION_CHANNELS, BvhData, BvhJoint
from a2a_cli.motion.grounding import grounded
from a2a_cli.motion.motion import Motion
from a2a_cli.motion.rotations import euler_to_matrix, frame_of, matrix_to_axis_angle, rotation_between
from a2a_cli.motion.skeleton import BVH_JOINT_NAMES, HEAD, L_HIP, N_JOINTS, NECK, PELVIS, R_HIP, SPINE1, SPINE3, smpl_skeleton

__all__ = [
    "ALIASES", "ALIGNED_BONES", "REQUIRED_JOINTS", "SkeletonMap", "map_skeleton", "retarget_bvh",
    "source_smpl_positions",
]

# Source joint names per SMPL joint part, most telling first, `{side}` standing for left/right and `{s}`
# for l/r (names are compared lower-case): the CMU conversion / Second Life names, then MotionBuilder's
# (CMU ASF-to-BVH, Mixamo), SMPL's, then other rigs' (Unreal, CMU ASF bone names, Second Life m-names).
_SIDED_ALIASES = {
    "hip": ("{s}thigh", "{side}upleg", "{side}_hip", "{s}_hip", "{side}hip", "{side}thigh", "{side}upperleg",
            "thigh_{s}", "{s}femur", "mhip{side}", "{s}hip"),
    "knee": ("{s}shin", "{side}leg", "{side}_knee", "{s}_knee", "{side}knee", "{side}shin", "{side}lowerleg",
             "calf_{s}", "{s}tibia", "mknee{side}", "{s}knee", "{s}calf"),
    "ankle": ("{s}foot", "{side}foot", "{side}_ankle", "{s}_ankle", "{side}ankle", "foot_{s}", "mankle{side}",
              "{s}ankle"),
    "foot": ("{s}toe", "{side}toebase", "{side}_foot", "{s}_foot", "{side}toe", "{side}toes", "ball_{s}",
             "{s}toes", "mtoe{side}", "{s}toe0"),
    "collar": ("{s}collar", "{side}shoulder", "{side}_collar", "{s}_collar", "{side}collar", "clavicle_{s}",
               "{s}clavicle", "{side}clavicle", "mcollar{side}"),
    "shoulder": ("{s}shldr", "{side}arm", "{side}_shoulder", "{s}_shoulder", "{side}uparm", "{side}upperarm",
                 "upperarm_{s}", "{s}humerus", "mshoulder{side}", "{s}upperarm"),
    "elbow": ("{s}forearm", "{side}forearm", "{side}_elbow", "{s}_elbow", "{side}elbow", "{side}lowerarm",
              "lowerarm_{s}", "{s}radius", "melbow{side}"),
    # ASF-named files have both lwrist (the wrist) and lhand (the palm): wrist names come first.
    "wrist": ("{side}_wrist", "{s}_wrist", "{s}wrist", "{side}wrist", "{s}hand", "{side}hand", "hand_{s}",
              "mwrist{side}"),
    "palm": ("{side}_palm", "{s}mid1", "{side}handmiddle1", "{side}fingerbase", "{s}_hand", "{side}_hand",
             "{s}hand", "middle_01_{s}"),
}


def _expanded_aliases() -> dict[str, tuple[str, ...]]:
    aliases = {}
    for part, patterns in _SIDED_ALIASES.items():
        for side, s in (("left", "l"), ("right", "r")):
            aliases[f"{side.capitalize()}_{part}"] = tuple(p.format(side=side, s=s) for p in patterns)
    aliases["Neck"] = ("neck", "neck_01", "lowerneck", "mneck", "neck1")
    aliases["Head"] = ("head", "mhead")
    return aliases


ALIASES = _expanded_aliases()  # SMPL joint name (BVH_JOINT_NAMES) -> lower-case source joint names, best first
REQUIRED_JOINTS = tuple(f"{side}_{part}" for part in ("hip", "knee", "ankle", "shoulder", "elbow", "wrist")
                        for side in ("Left", "Right")) + ("Head",)

_SK = smpl_skeleton()
_I = {name: i for i, name in enumerate(BVH_JOINT_NAMES)}
_SPINE_CHAIN = tuple(_I[n] for n in ("Pelvis", "Spine1", "Spine2", "Spine3", "Neck", "Head"))
# (SMPL joint, the child whose bone direction it copies); parents come before children.
ALIGNED_BONES = tuple(
    (_I[a], _I[b]) for a, b in (
        ("Left_hip", "Left_knee"), ("Right_hip", "Right_knee"), ("Spine1", "Spine2"), ("Left_knee", "Left_ankle"),
        ("Right_knee", "Right_ankle"), ("Spine2", "Spine3"), ("Left_ankle", "Left_foot"), ("Right_ankle", "Right_foot"),
        ("Spine3", "Neck"), ("Neck", "Head"), ("Left_collar", "Left_shoulder"), ("Right_collar", "Right_shoulder"),
        ("Left_shoulder", "Left_elbow"), ("Right_shoulder", "Right_elbow"), ("Left_elbow", "Left_wrist"),
        ("Right_elbow", "Right_wrist"), ("Left_wrist", "Left_palm"), ("Right_wrist", "Right_palm"),
    )
)
_ALIGNED_CHILD = dict(ALIGNED_BONES)
_CHUNK = 8192  # frames solved at a time: bounds the memory of a 10-minute file


@dataclass(frozen=True)
class _Point:
    """Where an SMPL joint sits on the source: sum of weight * (position of joint + its rotation @ offset).

    `carrier` is the source joint whose rotation carries the point as the child end of a bone.
    """

    terms: tuple[tuple[int, tuple[float, float, float], float], ...]  # (source joint, local offset, weight)
    carrier: int

    def blended(self, other: _Point, t: float) -> _Point:
        """(1 - t) self + t other, carried as `other`."""
        terms = tuple((j, o, w * (1 - t)) for j, o, w in self.terms) + tuple((j, o, w * t) for j, o, w in other.terms)
        return _Point(terms, other.carrier)


@dataclass(frozen=True)
class SkeletonMap:
    """How the SMPL joints sit on a source skeleton (see the module docstring, step 1)."""

    points: tuple[_Point | None, ...]  # one per SMPL joint; None: the source has nothing there (toe, palm)
    matched: dict[str, str]  # SMPL joint name -> the source joint found by name (or as the hips' ancestor)
    head: int  # the source's head joint


def _key(name: str) -> str:
    return name.rsplit(":", 1)[-1].replace(" ", "").lower()


def map_skeleton(joints: list[BvhJoint]) -> SkeletonMap:
    """Place the SMPL joints on a parsed source hierarchy, or raise an InputError naming what is missing."""
    parents = [j.parent for j in joints]
    keys = [_key(j.name) for j in joints]

    def ancestors(j: int) -> list[int]:
        out = []
        while parents[j] >= 0:
            j = parents[j]
            out.append(j)
        return out

    found: dict[str, int] = {}

    def find(smpl: str, below: int | None, above: int | None = None) -> int | None:
        for pattern in ALIASES[smpl]:
            for j, key in enumerate(keys):
                if key == pattern and j not in found.values() and (below is None or below in ancestors(j)) \
                        and (above is None or j in ancestors(above)):
                    found[smpl] = j
                    return j
        return None

    for side in ("Left", "Right"):
        hip = find(f"{side}_hip", None)
        knee = find(f"{side}_knee", hip)
        ankle = find(f"{side}_ankle", knee)
        if ankle is not None:
            find(f"{side}_foot", ankle)
    head = find("Head", None)
    hips = [found.get("Left_hip"), found.get("Right_hip")]
    pelvis = _common_ancestor(hips[0], hips[1], ancestors) if None not in hips else None
    if pelvis is not None and pelvis in hips:
        raise InputError(f"BVH skeleton cannot be read as SMPL: one hip ({joints[pelvis].name}) carries the other")
    if head is not None and pelvis is not None and pelvis not in ancestors(head):
        head = None
        del found["Head"]
    if head is not None:
        find("Neck", pelvis, above=head)
    for side in ("Left", "Right"):
        shoulder = find(f"{side}_shoulder", pelvis)
        if shoulder is not None:
            find(f"{side}_collar", pelvis, above=shoulder)
        elbow = find(f"{side}_elbow", shoulder)
        wrist = find(f"{side}_wrist", elbow)
        if wrist is not None:
            find(f"{side}_palm", wrist)
    missing = [name for name in REQUIRED_JOINTS if name not in found]
    if missing:
        examples = "; ".join(f"{name} (named like {', '.join(ALIASES[name][:3])})" for name in missing[:3])
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        raise InputError(f"BVH skeleton cannot be read as SMPL: no joint found for {examples}{more}")

    points: list[_Point | None] = [None] * N_JOINTS
    for name, j in found.items():
        points[_I[name]] = _Point(((j, (0.0, 0.0, 0.0), 1.0),), parents[j])
    points[PELVIS] = _Point(((pelvis, (0.0, 0.0, 0.0), 1.0),), pelvis)
    rest = _rest_positions(joints)
    _place_spine(points, pelvis, found.get("Neck", head), ancestors, rest)
    for side in ("Left", "Right"):
        collar, shoulder = _I[f"{side}_collar"], _I[f"{side}_shoulder"]
        if points[collar] is None:  # on the line from Spine3 to the shoulder, at SMPL's proportion
            near, far = (np.linalg.norm(_SK.offsets[k]) for k in (collar, shoulder))
            points[collar] = points[SPINE3].blended(points[shoulder], near / (near + far))
        for end, leaf in ((f"{side}_ankle", f"{side}_foot"), (f"{side}_wrist", f"{side}_palm")):
            if points[_I[leaf]] is None:
                points[_I[leaf]] = _children_mean(joints, found[end])
    matched = {name: joints[j].name for name, j in found.items()}
    matched["Pelvis"] = joints[pelvis].name
    skeleton_map = SkeletonMap(tuple(points), matched, head)
    _check_bones(_rest_points(skeleton_map, rest))
    return skeleton_map


def _common_ancestor(a: int, b: int, ancestors) -> int | None:
    """The deepest joint that is `a` or an ancestor of it and `b` or an ancestor of it."""
    chain_b = {b, *ancestors(b)}
    return next((j for j in (a, *ancestors(a)) if j in chain_b), None)


def _rest_positions(joints: list[BvhJoint]) -> np.ndarray:
    """Source joint positions of the rest pose (offsets summed), (n_joints, 3) in file units."""
    pos = np.zeros((len(joints), 3))
    for j, joint in enumerate(joints):
        pos[j] = joint.offset + (pos[joint.parent] if joint.parent >= 0 else 0.0)
    return pos


def _place_spine(points: list, pelvis: int, top: int, ancestors, rest: np.ndarray) -> None:
    """Spine1-3 (and the neck when `top` is the head) on the source's chain from `pelvis` to `top`, at
    SMPL's proportions of its length."""
    chain = [top, *ancestors(top)]
    chain = chain[: chain.index(pelvis) + 1][::-1]  # pelvis ... top
    lengths = np.linalg.norm(np.diff(rest[chain], axis=0), axis=1)
    if lengths.sum() <= 0:
        raise InputError("BVH skeleton cannot be read as SMPL: its neck or head is where its pelvis is at rest")
    smpl_chain = _SPINE_CHAIN[: (5 if points[NECK] is not None else 6)]  # pelvis ... (neck or head)
    smpl_lengths = np.array([np.linalg.norm(_SK.offsets[k]) for k in smpl_chain[1:]])
    ends = np.cumsum(lengths)
    for k, fraction in zip(smpl_chain[1:-1], np.cumsum(smpl_lengths)[:-1] / smpl_lengths.sum()):
        arc = fraction * ends[-1]
        # The segment chain[seg] -> chain[seg + 1] holds the point. One within 0.1% of the chain above a
        # joint (the file's offsets are rounded) is that joint, the end of the segment below, carried by its
        # parent: an SMPL spine in a file under other names keeps its own rotations.
        seg = int(np.searchsorted(ends, arc - 1e-3 * ends[-1]))
        t = min(1.0 - (ends[seg] - arc) / lengths[seg], 1.0)
        start, end = chain[seg], chain[seg + 1]
        points[k] = _Point(((start, (0.0, 0.0, 0.0), 1.0 - t), (end, (0.0, 0.0, 0.0), t)), start)


def _children_mean(joints: list[BvhJoint], j: int) -> _Point | None:
    """The mean of a joint's children and End Sites (a toe or palm the file does not name), or None."""
    terms = [(c, (0.0, 0.0, 0.0)) for c, joint in enumerate(joints) if joint.parent == j]
    terms += [(j, tuple(float(v) for v in site)) for site in joints[j].end_sites]
    if not terms:
        return None
    return _Point(tuple((c, o, 1.0 / len(terms)) for c, o in terms), j)


def _check_bones(rest_points: np.ndarray) -> None:
    """Each aligned bone, the hips' axis and the lower spine have a length at rest: else no direction."""
    scale = np.max(np.nanmax(rest_points, axis=0) - np.nanmin(rest_points, axis=0))
    for a, b in ALIGNED_BONES + ((R_HIP, L_HIP), (PELVIS, SPINE1)):
        if np.linalg.norm(rest_points[b] - rest_points[a]) <= 1e-6 * scale:  # NaN (no point) compares False
            raise InputError(
                f"BVH skeleton cannot be read as SMPL: its {BVH_JOINT_NAMES[a]} and {BVH_JOINT_NAMES[b]} are at one place at rest"
            )


def _rest_points(skeleton_map: SkeletonMap, rest: np.ndarray) -> np.ndarray:
    """The SMPL joints on the source's rest pose (`rest`: its joint positions), (24, 3); NaN where none."""
    out = np.full((N_JOINTS, 3), np.nan)
    for k, point in enumerate(skeleton_map.points):
        if point is not None:
            out[k] = sum(w * (rest[j] + np.asarray(o)) for j, o, w in point.terms)
    return out


# ----------------------------------------------------------------------------- solving


def retarget_bvh(data: BvhData) -> Motion:
    """A parsed BVH of any skeleton -> an SMPL Motion at the file's fps, feet on the floor (module docstring)."""
    skeleton_map = map_skeleton(data.joints)
    rest_points = _rest_points(skeleton_map, _rest_positions(data.joints))
    rest_body = _rest_body_frame(rest_points)
    scale = _leg_length(_SK.rest_positions()) / _leg_length(rest_points)
    n_frames = data.values.shape[0]
    poses = np.empty((n_frames, N_JOINTS, 3), np.float32)
    trans = np.empty((n_frames, 3), np.float32)
    needed = _needed_joints(data.joints, skeleton_map)
    for start in range(0, n_frames, _CHUNK):
        rows = slice(start, start + _CHUNK)
        positions, rotations = _source_fk(data, rows, needed)
        poses[rows], trans[rows] = _solve(skeleton_map, positions, rotations, rest_body, scale)
    return grounded(Motion(poses=poses, trans=trans, fps=data.fps))


def source_smpl_positions(data: BvhData, skeleton_map: SkeletonMap | None = None) -> np.ndarray:
    """The SMPL joints as the source places them: (T, 24, 3) in file units, NaN where it has none.

    The directions the retarget copies are differences of these (for checks and plots).
    """
    skeleton_map = skeleton_map or map_skeleton(data.joints)
    positions, rotations = _source_fk(data, slice(None), _needed_joints(data.joints, skeleton_map))
    out = np.full(positions.shape[:1] + (N_JOINTS, 3), np.nan)
    for k, point in enumerate(skeleton_map.points):
        if point is not None:
            out[:, k] = _point_positions(point, positions, rotations)
    return out


def _needed_joints(joints: list[BvhJoint], skeleton_map: SkeletonMap) -> np.ndarray:
    """Which source joints FK must place: those the points use, their carriers, the head, and their ancestors."""
    needed = np.zeros(len(joints), bool)
    used = {skeleton_map.head} | {j for p in skeleton_map.points if p for j, _, _ in p.terms}
    used |= {p.carrier for p in skeleton_map.points if p}
    for j in used:
        while j >= 0 and not needed[j]:
            needed[j] = True
            j = joints[j].parent
    return needed


def _source_fk(data: BvhData, rows: slice, needed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """World positions (T, n, 3) and rotations (T, n, 3, 3) of the source joints (`needed` ones only)."""
    values = data.values[rows]
    n_frames, n_joints = values.shape[0], len(data.joints)
    columns = data.channel_columns()
    local = np.broadcast_to(np.eye(3), (n_frames, n_joints, 3, 3)).copy()
    by_order: dict[str, list[int]] = {}
    for j, joint in enumerate(data.joints):
        if needed[j] and joint.rotation_order:
            by_order.setdefault(joint.rotation_order, []).append(j)
    for order, members in by_order.items():
        cols = [[columns[j][f"{axis.lower()}rotation"] for axis in order] for j in members]
        local[:, members] = euler_to_matrix(np.radians(values[:, cols]), order)
    positions = np.zeros((n_frames, n_joints, 3))
    rotations = np.zeros((n_frames, n_joints, 3, 3))
    for j, joint in enumerate(data.joints):
        if not needed[j]:
            continue
        if POSITION_CHANNELS[0] in columns[j]:  # positions replace the offset
            offset = values[:, [columns[j][c] for c in POSITION_CHANNELS]]
        else:
            offset = np.broadcast_to(joint.offset, (n_frames, 3))
        if joint.parent < 0:
            positions[:, j] = offset
            rotations[:, j] = local[:, j]
        else:
            parent = rotations[:, joint.parent]
            positions[:, j] = positions[:, joint.parent] + np.einsum("tik,tk->ti", parent, offset)
            rotations[:, j] = parent @ local[:, j]
    return positions, rotations


def _point_positions(point: _Point, positions: np.ndarray, rotations: np.ndarray) -> np.ndarray:
    """World positions (T, 3) of a point."""
    out = np.zeros(positions.shape[:1] + (3,))
    for j, offset, weight in point.terms:
        out += weight * (positions[:, j] + rotations[:, j] @ np.asarray(offset))
    return out


def _rest_body_frame(rest_points: np.ndarray) -> np.ndarray:
    """The source's pelvis frame at rest over SMPL's, (3, 3): it takes SMPL's body axes to the source's."""
    at = rest_points
    return frame_of(at[L_HIP] - at[R_HIP], at[SPINE1] - at[PELVIS]) @ _smpl_body_frame().T


def _smpl_body_frame() -> np.ndarray:
    """The pelvis frame (`_frame`) of SMPL's rest pose, (3, 3)."""
    offsets = _SK.offsets
    return frame_of(offsets[L_HIP] - offsets[R_HIP], offsets[SPINE1])


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _leg_length(joints: np.ndarray) -> float:
    """Mean hip-knee-ankle length of the two legs of SMPL joint positions (24, 3)."""
    lengths = [np.linalg.norm(joints[_I[f"{side}_knee"]] - joints[_I[f"{side}_hip"]])
               + np.linalg.norm(joints[_I[f"{side}_ankle"]] - joints[_I[f"{side}_knee"]]) for side in ("Left", "Right")]
    return float(np.mean(lengths))


def _solve(skeleton_map: SkeletonMap, positions: np.ndarray, rotations: np.ndarray, rest_body: np.ndarray,
           scale: float) -> tuple[np.ndarray, np.ndarray]:
    """SMPL poses (T, 24, 3) and translation (T, 3) from the source's FK (module docstring, steps 3-4)."""
    points = skeleton_map.points
    at = [None if p is None else _point_positions(p, positions, rotations) for p in points]
    world = np.empty(positions.shape[:1] + (N_JOINTS, 3, 3))
    world[:, PELVIS] = frame_of(at[L_HIP] - at[R_HIP], at[SPINE1] - at[PELVIS]) @ _smpl_body_frame().T
    for k in range(1, N_JOINTS):
        child = _ALIGNED_CHILD.get(k)
        if child is not None and points[child] is not None:
            guess = rotations[:, points[child].carrier] @ rest_body
            world[:, k] = rotation_between(guess @ _unit(_SK.offsets[child]), _unit(at[child] - at[k])) @ guess
        elif k == HEAD:
            world[:, k] = rotations[:, skeleton_map.head] @ rest_body
        else:
            world[:, k] = world[:, _SK.parents[k]]
    local = np.swapaxes(world[:, _SK.parents[1:]], -1, -2) @ world[:, 1:]
    poses = matrix_to_axis_angle(np.concatenate([world[:, :1], local], axis=1))
    hips_mid = (at[L_HIP] + at[R_HIP]) / 2
    smpl_hips_mid = (_SK.offsets[L_HIP] + _SK.offsets[R_HIP]) / 2
    trans = scale * hips_mid - world[:, PELVIS] @ smpl_hips_mid
    return poses, trans
