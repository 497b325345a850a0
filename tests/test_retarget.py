"""The retarget of any BVH skeleton to SMPL-24: the CMU salsa captures, synthetic Mixamo and CMU
ASF-to-BVH rigs, SMPL motions under other names, refusals.

Expected bone directions come from an FK written here with scipy's rotations, independent of the
module's own."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from a2a_cli.cli.app import main
from a2a_cli.errors import InputError
from a2a_cli.motion.bvh import read_bvh, write_bvh
from a2a_cli.motion.bvh_parse import BvhData, parse_bvh
from a2a_cli.motion.formats import load_motion
from a2a_cli.motion.motion import Motion
from a2a_cli.motion.retarget import ALIGNED_BONES, map_skeleton, retarget_bvh, source_smpl_positions
from a2a_cli.motion.skeleton import BVH_JOINT_NAMES, N_JOINTS, smpl_skeleton

CMU_SALSA = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "real-dance" / "cmu-salsa"
CMU_FILES = sorted(CMU_SALSA.glob("*.bvh"))
needs_cmu = pytest.mark.skipif(not CMU_FILES, reason=f"the shared CMU salsa files are not at {CMU_SALSA}")
J = {name: i for i, name in enumerate(BVH_JOINT_NAMES)}
SMPL = smpl_skeleton()


# ----------------------------------------------------------------------------- helpers


def angle_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angles in degrees between vectors (..., 3)."""
    a = a / np.linalg.norm(a, axis=-1, keepdims=True)
    b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    return np.degrees(np.arccos(np.clip(np.sum(a * b, axis=-1), -1.0, 1.0)))


def scipy_fk(data: BvhData) -> tuple[dict[str, np.ndarray], dict[str, Rotation]]:
    """World positions (T, 3) and rotations of every joint by name, End Sites as 'NAME/end'."""
    positions, rotations = {}, {}
    for joint, columns in zip(data.joints, data.channel_columns()):
        order = joint.rotation_order
        n = data.values.shape[0]
        local = Rotation.from_euler(order, data.values[:, [columns[f"{a.lower()}rotation"] for a in order]], degrees=True) \
            if order else Rotation.identity(n)
        if "xposition" in columns:
            offset = data.values[:, [columns[f"{a}position"] for a in "xyz"]]
        else:
            offset = np.tile(joint.offset, (n, 1))
        if joint.parent < 0:
            positions[joint.name], rotations[joint.name] = offset, local
        else:
            parent = data.joints[joint.parent].name
            positions[joint.name] = positions[parent] + rotations[parent].apply(offset)
            rotations[joint.name] = rotations[parent] * local
        for site in joint.end_sites:
            positions[joint.name + "/end"] = positions[joint.name] + rotations[joint.name].apply(site)
    return positions, rotations


def smpl_world_rotations(motion: Motion) -> list[Rotation]:
    """Each SMPL joint's world rotation over the frames, chained from the local axis-angles."""
    out: list[Rotation] = []
    for k in range(N_JOINTS):
        local = Rotation.from_rotvec(motion.poses[:, k].astype(np.float64))
        out.append(local if k == 0 else out[SMPL.parents[k]] * local)
    return out


def bvh_text(names, parents, offsets, end_sites, local: Rotation, root_positions, orders, fps=30.0, position_joints=()):
    """BVH text of a skeleton: `local` holds (T * n) local rotations (frame-major), `orders` one per joint
    ("ZXY": R = Rz Rx Ry), `position_joints` the non-root joints given 3 position channels (their offsets)."""
    n_frames = root_positions.shape[0]
    children = {j: [c for c, p in enumerate(parents) if p == j] for j in range(len(names))}
    lines, written = ["HIERARCHY"], []  # written: the joints in file order, as their channels come

    def write(j, depth):
        written.append(j)
        pad = "  " * depth
        lines.append(f"{pad}{'ROOT' if parents[j] < 0 else 'JOINT'} {names[j]}")
        lines.append(f"{pad}{{")
        lines.append(f"{pad}  OFFSET {' '.join(f'{v:.6f}' for v in offsets[j])}")
        positions = "Xposition Yposition Zposition " if parents[j] < 0 or j in position_joints else ""
        lines.append(f"{pad}  CHANNELS {6 if positions else 3} {positions}{' '.join(a + 'rotation' for a in orders[j])}")
        for c in children[j]:
            write(c, depth + 1)
        if end_sites[j] is not None:
            lines.extend([f"{pad}  End Site", f"{pad}  {{", f"{pad}    OFFSET {' '.join(f'{v:.6f}' for v in end_sites[j])}", f"{pad}  }}"])
        lines.append(f"{pad}}}")

    write(0, 0)
    rows = np.zeros((n_frames, 0))
    per_joint = local.as_matrix().reshape(n_frames, len(names), 3, 3)
    for j in written:
        if parents[j] < 0:
            rows = np.concatenate([rows, root_positions], axis=1)
        elif j in position_joints:
            rows = np.concatenate([rows, np.tile(offsets[j], (n_frames, 1))], axis=1)
        angles = Rotation.from_matrix(per_joint[:, j]).as_euler(orders[j], degrees=True)
        rows = np.concatenate([rows, angles], axis=1)
    lines += ["MOTION", f"Frames: {n_frames}", f"Frame Time: {1.0 / fps:.7f}"]
    lines += [" ".join(f"{v:.6f}" for v in row) for row in rows]
    return "\n".join(lines) + "\n"


def skeleton_from_table(table):
    """(names, parents, offsets, end_sites) from rows (name, parent name or None, offset, End Site or None)."""
    names = [row[0] for row in table]
    parents = [names.index(row[1]) if row[1] else -1 for row in table]
    offsets = np.array([row[2] for row in table], dtype=np.float64)
    end_sites = [None if row[3] is None else np.asarray(row[3], dtype=np.float64) for row in table]
    return names, parents, offsets, end_sites


def mirrored(rows):
    """The right side of left-side rows: names Left->Right, x negated."""
    return [(name.replace("Left", "Right"), parent.replace("Left", "Right"), (-o[0], o[1], o[2]),
             None if end is None else (-end[0], end[1], end[2])) for name, parent, o, end in rows]


def a_pose(rows, side: float):
    """Arm rows turned 40 degrees down about the forward axis (an A-pose rest)."""
    turn = Rotation.from_euler("z", -side * 40, degrees=True)
    return [(n, p, tuple(turn.apply(o)) if n.endswith(("ForeArm", "Hand", "Middle1")) else o,
             None if e is None else tuple(turn.apply(e))) for n, p, o, e in rows]


# A Mixamo rig (cm, names with the mixamorig: namespace), arms in an A-pose at rest.
_MIXAMO_LEFT = [
    ("LeftUpLeg", "Hips", (9.0, -6.0, 0.0), None), ("LeftLeg", "LeftUpLeg", (0.0, -42.0, 1.0), None),
    ("LeftFoot", "LeftLeg", (0.0, -40.0, -2.0), None), ("LeftToeBase", "LeftFoot", (0.0, -6.0, 13.0), (0.0, 0.0, 5.0)),
    ("LeftShoulder", "Spine2", (6.0, 12.0, -1.0), None), ("LeftArm", "LeftShoulder", (12.0, 0.0, 0.0), None),
    ("LeftForeArm", "LeftArm", (27.0, 0.0, 0.0), None), ("LeftHand", "LeftForeArm", (25.0, 0.0, 0.0), None),
    ("LeftHandMiddle1", "LeftHand", (9.0, 0.0, 0.5), (4.0, 0.0, 0.0)),
]
MIXAMO = skeleton_from_table(
    [("Hips", None, (0.0, 100.0, 0.0), None), ("Spine", "Hips", (0.0, 10.0, 0.5), None),
     ("Spine1", "Spine", (0.0, 12.0, 0.0), None), ("Spine2", "Spine1", (0.0, 14.0, -1.0), None),
     ("Neck", "Spine2", (0.0, 16.0, 0.0), None), ("Head", "Neck", (0.0, 10.0, 2.0), (0.0, 18.0, 0.0))]
    + a_pose(_MIXAMO_LEFT, 1.0) + a_pose(mirrored(_MIXAMO_LEFT), -1.0)
)
MIXAMO_NAMES = ["mixamorig:" + name for name in MIXAMO[0]]

# The CMU ASF-to-BVH rig (MotionBuilder names, hip joints and two neck joints, no toe End Site names).
_CMU_LEFT = [
    ("LHipJoint", "Hips", (2.0, -2.0, 1.5), None), ("LeftUpLeg", "LHipJoint", (7.0, -4.0, 2.0), None),
    ("LeftLeg", "LeftUpLeg", (2.5, -16.0, 0.0), None), ("LeftFoot", "LeftLeg", (2.5, -16.5, 0.0), None),
    ("LeftToeBase", "LeftFoot", (0.0, -1.5, 5.0), (0.0, 0.0, 2.0)),
    ("LeftShoulder", "Spine1", (1.5, 3.5, 0.0), None), ("LeftArm", "LeftShoulder", (6.5, 0.0, 0.0), None),
    ("LeftForeArm", "LeftArm", (11.0, 0.0, 0.0), None), ("LeftHand", "LeftForeArm", (7.5, 0.0, 0.0), None),
    ("LeftFingerBase", "LeftHand", (1.5, 0.0, 0.0), None), ("LeftHandIndex1", "LeftFingerBase", (1.2, 0.0, 0.0), (1.0, 0, 0)),
]
CMU_ASF = skeleton_from_table(
    [("Hips", None, (0.0, 0.0, 0.0), None), ("LowerBack", "Hips", (0.0, 2.0, -0.5), None),
     ("Spine", "LowerBack", (0.0, 4.5, 0.0), None), ("Spine1", "Spine", (0.0, 4.5, 0.0), None),
     ("Neck", "Spine1", (0.0, 4.0, 0.3), None), ("Neck1", "Neck", (0.0, 2.0, 0.3), None),
     ("Head", "Neck1", (0.0, 2.0, 0.5), (0.0, 3.0, 0.0))]
    + _CMU_LEFT + [(n.replace("LHip", "RHip"), p.replace("LHip", "RHip"), o, e) for n, p, o, e in mirrored(_CMU_LEFT)]
)

# A bare rig: no neck, collars, toes or fingers (the wrists end the arms; the feet have End Sites).
_BARE_LEFT = [
    ("LeftUpLeg", "Hips", (9.0, -6.0, 0.0), None), ("LeftLeg", "LeftUpLeg", (0.0, -42.0, 1.0), None),
    ("LeftFoot", "LeftLeg", (0.0, -40.0, -2.0), (0.0, -6.0, 13.0)),
    ("LeftArm", "Spine2", (17.0, 12.0, -1.0), None), ("LeftForeArm", "LeftArm", (27.0, 0.0, 0.0), None),
    ("LeftHand", "LeftForeArm", (25.0, 0.0, 0.0), None),
]
BARE = skeleton_from_table(
    [("Hips", None, (0.0, 100.0, 0.0), None), ("Spine", "Hips", (0.0, 10.0, 0.5), None),
     ("Spine1", "Spine", (0.0, 12.0, 0.0), None), ("Spine2", "Spine1", (0.0, 14.0, -1.0), None),
     ("Head", "Spine2", (0.0, 26.0, 2.0), (0.0, 18.0, 0.0))] + _BARE_LEFT + mirrored(_BARE_LEFT)
)
RIGS = {"mixamo": MIXAMO, "cmu-asf": CMU_ASF, "bare": BARE}

# Bones (SMPL parent, SMPL child) and the source joints at their ends in the two rigs ('/end': an End Site).
NAMED_BONES = {
    "mixamo": {("Left_hip", "Left_knee"): ("LeftUpLeg", "LeftLeg"), ("Left_knee", "Left_ankle"): ("LeftLeg", "LeftFoot"),
               ("Left_ankle", "Left_foot"): ("LeftFoot", "LeftToeBase"), ("Left_collar", "Left_shoulder"): ("LeftShoulder", "LeftArm"),
               ("Left_shoulder", "Left_elbow"): ("LeftArm", "LeftForeArm"), ("Left_elbow", "Left_wrist"): ("LeftForeArm", "LeftHand"),
               ("Left_wrist", "Left_palm"): ("LeftHand", "LeftHandMiddle1"), ("Neck", "Head"): ("Neck", "Head")},
    "cmu-bvh-release": {("Left_hip", "Left_knee"): ("lThigh", "lShin"), ("Left_knee", "Left_ankle"): ("lShin", "lFoot"),
                        ("Left_ankle", "Left_foot"): ("lFoot", "lFoot/end"), ("Left_collar", "Left_shoulder"): ("lCollar", "lShldr"),
                        ("Left_shoulder", "Left_elbow"): ("lShldr", "lForeArm"), ("Left_elbow", "Left_wrist"): ("lForeArm", "lHand"),
                        ("Left_wrist", "Left_palm"): ("lHand", "lMid1"), ("Neck", "Head"): ("neck", "head")},
}
NAMED_BONES["bare"] = {("Left_hip", "Left_knee"): ("LeftUpLeg", "LeftLeg"), ("Left_knee", "Left_ankle"): ("LeftLeg", "LeftFoot"),
                       ("Left_ankle", "Left_foot"): ("LeftFoot", "LeftFoot/end"),
                       ("Left_shoulder", "Left_elbow"): ("LeftArm", "LeftForeArm"), ("Left_elbow", "Left_wrist"): ("LeftForeArm", "LeftHand")}
NAMED_BONES["cmu-asf"] = {**NAMED_BONES["mixamo"], ("Left_wrist", "Left_palm"): ("LeftHand", "LeftFingerBase"),
                          ("Left_ankle", "Left_foot"): ("LeftFoot", "LeftToeBase")}


def right_of(name: str) -> str:
    """The right-side twin of a left-side joint name (SMPL, Mixamo and CMU styles)."""
    if "Left" in name:
        return name.replace("Left", "Right")
    return "r" + name[1:] if name[0] == "l" and name[1].isupper() else name


def both_sides(bones: dict) -> dict:
    return {**bones, **{(right_of(a), right_of(b)): (right_of(sa), right_of(sb)) for (a, b), (sa, sb) in bones.items()}}


def assert_named_bones_match(motion: Motion, data: BvhData, bones: dict, prefix: str = "", tol_deg: float = 5.0) -> float:
    """Every listed bone of the SMPL motion points as the source's does, every frame; returns the worst angle."""
    positions, _ = scipy_fk(data)
    worst = 0.0
    for (a, b), (sa, sb) in both_sides(bones).items():
        src = positions[prefix + sb] - positions[prefix + sa]
        err = angle_deg(motion.joints[:, J[b]].astype(np.float64) - motion.joints[:, J[a]], src)
        assert err.max() < tol_deg, (a, b, err.max())
        worst = max(worst, float(err.max()))
    return worst


def smooth_rotations(rng, n_frames: int, n_joints: int, amplitude: float) -> Rotation:
    """Local rotations (T * n) that wander smoothly: rotation vectors made of two slow sines each."""
    t = np.arange(n_frames)[:, None, None] / 30.0
    amp = rng.normal(0, amplitude, (2, n_joints, 3))
    freq = rng.uniform(0.3, 2.0, (2, n_joints, 3))
    phase = rng.uniform(0, 2 * np.pi, (2, n_joints, 3))
    rotvec = (amp[:, None] * np.sin(2 * np.pi * freq[:, None] * t[None] + phase[:, None])).sum(0)
    return Rotation.from_rotvec(rotvec.reshape(-1, 3))


# ----------------------------------------------------------------------------- the CMU salsa captures


def cmu_head(path: Path, n_frames: int) -> str:
    """The hierarchy and the first `n_frames` frames of a CMU file, as BVH text."""
    with path.open() as f:
        lines = list(itertools.takewhile(lambda line: line.strip() != "MOTION", f))
        next(f)  # Frames: N
        frame_time = next(f)
        frames = list(itertools.islice(f, n_frames))
    return "".join(lines) + f"MOTION\nFrames: {n_frames}\n{frame_time}" + "".join(frames)


@pytest.fixture(scope="module")
def cmu_clip() -> tuple[BvhData, Motion]:
    """Four seconds (480 frames at 120 fps) of a CMU salsa capture, parsed and retargeted."""
    data = parse_bvh(cmu_head(CMU_FILES[0], 480))
    return data, retarget_bvh(data)


@needs_cmu
@pytest.mark.parametrize("path", CMU_FILES, ids=lambda p: p.stem)
def test_every_cmu_salsa_skeleton_maps_to_smpl(path):
    data = parse_bvh(cmu_head(path, 3))
    assert len(data.joints) == 43 and data.fps == 120.0
    matched = map_skeleton(data.joints).matched
    assert matched == {
        "Pelvis": "hip", "Head": "head", "Neck": "neck",
        **{f"{side}_{part}": f"{side[0].lower()}{name}" for side in ("Left", "Right") for part, name in (
            ("hip", "Thigh"), ("knee", "Shin"), ("ankle", "Foot"), ("collar", "Collar"), ("shoulder", "Shldr"),
            ("elbow", "ForeArm"), ("wrist", "Hand"), ("palm", "Mid1"))},
    }
    motion = read_bvh(cmu_head(path, 3))
    assert motion.n_frames == 3 and motion.fps == 120.0 and np.isfinite(motion.poses).all()


@needs_cmu
def test_cmu_bones_point_as_in_the_capture_every_frame(cmu_clip):
    data, motion = cmu_clip
    # The named bones against scipy's FK of the file.
    worst = assert_named_bones_match(motion, data, NAMED_BONES["cmu-bvh-release"])
    assert worst < 0.05
    # Every aligned bone (the spine's too: Spine1-3 lie on the source's spine) against the source's points,
    # which agree with scipy's FK where they are joints.
    positions, _ = scipy_fk(data)
    source = source_smpl_positions(data)
    for name, joint in map_skeleton(data.joints).matched.items():
        np.testing.assert_allclose(source[:, J[name]], positions[joint], atol=1e-9)
    for a, b in ALIGNED_BONES:
        err = angle_deg(motion.joints[:, b].astype(np.float64) - motion.joints[:, a], source[:, b] - source[:, a])
        assert err.max() < 0.05, (BVH_JOINT_NAMES[a], BVH_JOINT_NAMES[b], err.max())
    # Pelvis -> Spine1 is led by the hips' axis: off by the two rest poses' angle between hips and lower spine.
    err = angle_deg(motion.joints[:, J["Spine1"]] - motion.joints[:, 0], source[:, J["Spine1"]] - source[:, 0])
    assert 5.0 < err.max() < 7.0 and np.ptp(err) < 0.05


@needs_cmu
def test_cmu_joints_turn_as_the_capture_frame_by_frame(cmu_clip):
    """The twist comes from the source's rotations: each SMPL joint's world rotation changes from frame to
    frame exactly as its source joint's does (a flip would show as a jump the source does not make)."""
    data, motion = cmu_clip
    _, rotations = scipy_fk(data)
    smpl = smpl_world_rotations(motion)
    matched = map_skeleton(data.joints).matched
    for name in ("Left_hip", "Right_knee", "Left_ankle", "Right_collar", "Left_shoulder", "Right_elbow", "Left_wrist", "Neck"):
        source_steps = (rotations[matched[name]][1:] * rotations[matched[name]][:-1].inv()).magnitude()
        smpl_steps = (smpl[J[name]][1:] * smpl[J[name]][:-1].inv()).magnitude()
        assert np.degrees(np.abs(smpl_steps - source_steps)).max() < 0.1, name


@needs_cmu
def test_cmu_feet_are_on_the_floor(cmu_clip):
    data, motion = cmu_clip
    feet = motion.joints[:, [J["Left_ankle"], J["Right_ankle"], J["Left_foot"], J["Right_foot"]]].astype(np.float64)
    lowest = feet[:, :, 1].min(axis=1)
    assert abs(np.percentile(lowest, 5)) < 0.01  # the floor the judge reads is y = 0 (grounding.py)
    assert lowest.min() > -0.03  # below it only by the capture's own noise
    assert np.median(lowest) < 0.03  # most of the time a foot is down
    # Contact: a toe that stands still (under 0.1 m/s across) is on the floor, within 3 cm, in 95% of such frames.
    toes = feet[:, 2:]
    speed = np.linalg.norm(np.diff(toes[:, :, [0, 2]], axis=0), axis=-1) * motion.fps
    still = speed < 0.1
    assert still.sum() > 100
    assert np.mean(toes[1:, :, 1][still] < 0.03) > 0.95
    # Steps keep SMPL's proportions: the hips travel as the capture's, scaled by the legs' length ratio.
    positions, _ = scipy_fk(data)
    source_path = np.linalg.norm(np.diff((positions["lThigh"] + positions["rThigh"])[:, [0, 2]] / 2, axis=0), axis=1).sum()
    smpl_path = np.linalg.norm(np.diff((motion.joints[:, 1] + motion.joints[:, 2])[:, [0, 2]] / 2, axis=0), axis=1).sum()
    source_leg = sum(np.linalg.norm(positions[a][0] - positions[b][0]) for a, b in (("lThigh", "lShin"), ("lShin", "lFoot")))
    smpl_leg = np.linalg.norm(SMPL.offsets[J["Left_knee"]]) + np.linalg.norm(SMPL.offsets[J["Left_ankle"]])
    assert smpl_path / source_path == pytest.approx(smpl_leg / source_leg, rel=0.1)


@needs_cmu
def test_a2a_score_reads_a_cmu_capture(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("A2A_GENERAL_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "salsa.bvh"
    path.write_text(cmu_head(CMU_FILES[1], 600))
    assert load_motion(path).n_frames == 600
    with pytest.raises(SystemExit) as exit_info:
        main(["score", str(path), "--json"])
    captured = capsys.readouterr()
    assert exit_info.value.code == 0, captured.err
    assert '"results"' in captured.out


# ----------------------------------------------------------------------------- synthetic rigs


def test_mixamo_rig_with_an_a_pose_turned_rest_and_position_channels_round_trips():
    """Rest offsets turned to face +x and tilted, arms in an A-pose, XYZ channels, 6 channels on the arms:
    the bones still point as the source's, and the motion stands on the floor at the file's fps."""
    names, parents, offsets, end_sites = MIXAMO
    turn = Rotation.from_euler("yx", [90, 10], degrees=True)
    offsets, end_sites = turn.apply(offsets), [None if e is None else turn.apply(e) for e in end_sites]
    rng = np.random.default_rng(3)
    n = 72
    local = smooth_rotations(rng, n, len(names), 0.4)
    root = np.stack([np.linspace(0, 80, n), 95 + 3 * np.sin(np.arange(n) / 5), np.zeros(n)], axis=1)
    arms = tuple(i for i, name in enumerate(names) if "Arm" in name)
    text = bvh_text(MIXAMO_NAMES, parents, offsets, end_sites, local, root, ["XYZ"] * len(names), fps=24.0,
                    position_joints=arms)
    motion = read_bvh(text)
    assert motion.n_frames == n and motion.fps == 24.0
    worst = assert_named_bones_match(motion, parse_bvh(text), NAMED_BONES["mixamo"], prefix="mixamorig:")
    assert worst < 0.05
    feet = motion.joints[:, [J["Left_ankle"], J["Right_ankle"], J["Left_foot"], J["Right_foot"]], 1].min(axis=1)
    assert abs(np.percentile(feet, 5)) < 1e-3


def renamed_smpl_bvh(motion: Motion, names: dict[str, str], turn: Rotation) -> str:
    """An SMPL motion as BVH with other joint names and the whole rest pose turned by `turn`, in cm."""
    k = N_JOINTS
    local = Rotation.from_rotvec(motion.poses.reshape(-1, 3).astype(np.float64))
    # Same world motion on a turned rest: local' = turn L turn^-1, and the root's world rotation G turn^-1.
    turned = turn * local * turn.inv()
    root = Rotation.from_rotvec(motion.poses[:, 0].astype(np.float64)) * turn.inv()
    mats = turned.as_matrix().reshape(-1, k, 3, 3)
    mats[:, 0] = root.as_matrix()
    end_sites = [turn.apply(SMPL.offsets[j]) * 50 if not SMPL.children[j] else None for j in range(k)]
    return bvh_text([names.get(n, n) for n in BVH_JOINT_NAMES], list(SMPL.parents), turn.apply(SMPL.offsets) * 100, end_sites,
                    Rotation.from_matrix(mats.reshape(-1, 3, 3)), motion.trans.astype(np.float64) * 100, ["ZXY"] * k)


MIXAMO_FOR_SMPL = {
    "Pelvis": "mixamorig:Hips", "Spine1": "mixamorig:Spine", "Spine2": "mixamorig:Spine1", "Spine3": "mixamorig:Spine2",
    "Neck": "mixamorig:Neck", "Head": "mixamorig:Head",
    **{f"{s}_{a}": f"mixamorig:{s}{b}" for s in ("Left", "Right") for a, b in (
        ("hip", "UpLeg"), ("knee", "Leg"), ("ankle", "Foot"), ("foot", "ToeBase"), ("collar", "Shoulder"),
        ("shoulder", "Arm"), ("elbow", "ForeArm"), ("wrist", "Hand"), ("palm", "HandMiddle1"))},
}


def smooth_smpl_motion(seed: int, n_frames: int = 30) -> Motion:
    rng = np.random.default_rng(seed)
    poses = smooth_rotations(rng, n_frames, N_JOINTS, 0.5).as_rotvec().reshape(n_frames, N_JOINTS, 3)
    trans = np.stack([np.linspace(0, 1, n_frames), np.full(n_frames, 0.9), np.zeros(n_frames)], axis=1)
    return Motion(poses=poses.astype(np.float32), trans=trans.astype(np.float32))


@pytest.mark.parametrize(("names", "turn_deg"), [({"Left_palm": "Left_paw"}, 0.0), (MIXAMO_FOR_SMPL, 0.0), (MIXAMO_FOR_SMPL, 135.0)])
def test_an_smpl_motion_under_other_names_comes_back(names, turn_deg):
    """The SMPL body itself as a foreign skeleton (one joint renamed; Mixamo names; a rest pose turned to
    face backwards): the retarget returns the same rotations (twists included) for every joint that moves
    another, the same joints, and the same steps; only the height changes, to put the feet on the floor."""
    motion = smooth_smpl_motion(seed=len(names) + int(turn_deg))
    back = read_bvh(renamed_smpl_bvh(motion, names, Rotation.from_euler("y", turn_deg, degrees=True)))
    moving = [k for k in range(N_JOINTS) if SMPL.children[k]] + [J["Head"]]
    original = Rotation.from_rotvec(motion.poses[:, moving].reshape(-1, 3).astype(np.float64))
    returned = Rotation.from_rotvec(back.poses[:, moving].reshape(-1, 3).astype(np.float64))
    assert np.degrees((returned * original.inv()).magnitude()).max() < 0.05
    shift = back.joints - motion.joints
    np.testing.assert_allclose(shift[..., [0, 2]], 0, atol=1e-4)
    np.testing.assert_allclose(shift[..., 1], shift[0, 0, 1], atol=1e-4)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), rig=st.sampled_from(sorted(RIGS)))
def test_any_rotations_of_a_foreign_rig_give_the_same_bone_directions(seed, rig):
    names, parents, offsets, end_sites = RIGS[rig]
    rng = np.random.default_rng(seed)
    n = 4
    local = Rotation.random(n * len(names), random_state=rng)
    orders = [str(rng.choice(["ZXY", "ZYX", "XYZ", "YXZ"])) for _ in names]
    root = rng.normal(0, 50, (n, 3))
    text = bvh_text(names, parents, offsets, end_sites, local, root, orders)
    motion = read_bvh(text)
    assert_named_bones_match(motion, parse_bvh(text), NAMED_BONES[rig], tol_deg=5.0)
    source = source_smpl_positions(parse_bvh(text))
    for a, b in ALIGNED_BONES:
        if np.isnan(source[:, b]).any():  # a bare rig's palms
            continue
        assert angle_deg(motion.joints[:, b].astype(np.float64) - motion.joints[:, a], source[:, b] - source[:, a]).max() < 5.0


def test_a_bare_rig_is_filled_in():
    """No neck (it goes on the spine), no collars (on the line to the shoulders), End Sites for toes,
    nothing below the wrists (they follow the forearms)."""
    names, parents, offsets, end_sites = BARE
    local = smooth_rotations(np.random.default_rng(8), 20, len(names), 0.4)
    text = bvh_text(names, parents, offsets, end_sites, local, np.zeros((20, 3)), ["ZXY"] * len(names))
    data = parse_bvh(text)
    assert set(map_skeleton(data.joints).matched) == {"Pelvis", "Head"} | {
        f"{side}_{part}" for side in ("Left", "Right") for part in ("hip", "knee", "ankle", "shoulder", "elbow", "wrist")}
    motion = read_bvh(text)
    source = source_smpl_positions(data)
    assert np.isnan(source[:, [J["Left_palm"], J["Right_palm"]]]).all() and not np.isnan(np.delete(source, [22, 23], 1)).any()
    np.testing.assert_allclose(motion.poses[:, [J["Left_wrist"], J["Right_wrist"]]], 0, atol=1e-6)
    for a, b in [("Spine3", "Neck"), ("Neck", "Head"), ("Left_collar", "Left_shoulder"), ("Right_ankle", "Right_foot")]:
        err = angle_deg(motion.joints[:, J[b]] - motion.joints[:, J[a]], source[:, J[b]] - source[:, J[a]])
        assert err.max() < 0.05, (a, b)


def test_the_cmu_asf_rig_maps_by_its_names():
    names, parents, offsets, end_sites = CMU_ASF
    text = bvh_text(names, parents, offsets, end_sites, Rotation.identity(len(names)), np.zeros((1, 3)), ["ZYX"] * len(names))
    matched = map_skeleton(parse_bvh(text).joints).matched
    assert matched["Pelvis"] == "Hips" and matched["Neck"] == "Neck" and matched["Left_hip"] == "LeftUpLeg"
    assert matched["Left_collar"] == "LeftShoulder" and matched["Left_shoulder"] == "LeftArm"
    assert matched["Right_palm"] == "RightFingerBase" and matched["Right_foot"] == "RightToeBase"


# ----------------------------------------------------------------------------- refusals


def without(table_rig, drop: set[str]) -> str:
    """BVH text of a rig at rest with the named joints (and what hangs under them) left out."""
    names, parents, offsets, end_sites = table_rig
    gone = set()
    for j, name in enumerate(names):
        if name in drop or (parents[j] >= 0 and parents[j] in gone):
            gone.add(j)
    keep = [j for j in range(len(names)) if j not in gone]
    index = {j: i for i, j in enumerate(keep)}
    return bvh_text([names[j] for j in keep], [index.get(parents[j], -1) for j in keep], offsets[keep],
                    [end_sites[j] for j in keep], Rotation.identity(len(keep)), np.zeros((1, 3)), ["ZXY"] * len(keep))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (without(MIXAMO, {"LeftUpLeg"}), r"no joint found for Left_hip \(named like lthigh, leftupleg, left_hip\); "
                                         r"Left_knee \(.*\); Left_ankle \(.*\)$"),
        (without(MIXAMO, {"LeftUpLeg", "RightUpLeg", "Head"}), r"no joint found for .* and 4 more$"),
        (without(MIXAMO, {"LeftHand"}), r"no joint found for Left_wrist \(named like left_wrist, l_wrist, lwrist\)$"),
    ],
)
def test_unmappable_skeletons_are_one_line_errors(text, message):
    with pytest.raises(InputError, match=message) as error:
        read_bvh(text)
    assert "\n" not in str(error.value) and str(error.value).startswith("BVH skeleton cannot be read as SMPL")


def test_hips_one_under_the_other_are_refused():
    names, parents, offsets, end_sites = MIXAMO
    parents = list(parents)
    parents[names.index("RightUpLeg")] = names.index("LeftUpLeg")
    text = bvh_text(names, parents, offsets, end_sites, Rotation.identity(len(names)), np.zeros((1, 3)), ["ZXY"] * len(names))
    with pytest.raises(InputError, match=r"one hip \(LeftUpLeg\) carries the other"):
        read_bvh(text)


def test_a_bone_of_no_length_is_refused():
    names, parents, offsets, end_sites = MIXAMO
    offsets = offsets.copy()
    offsets[names.index("LeftLeg")] = 0.0
    text = bvh_text(names, parents, offsets, end_sites, Rotation.identity(len(names)), np.zeros((1, 3)), ["ZXY"] * len(names))
    with pytest.raises(InputError, match="its Left_hip and Left_knee are at one place at rest"):
        read_bvh(text)


def test_a_file_over_the_cap_of_values_is_refused_before_its_frames_are_read():
    chain = "".join(f"JOINT j{i}\n{{\nOFFSET 0 1 0\nCHANNELS 3 Zrotation Xrotation Yrotation\n" for i in range(300))
    text = ("HIERARCHY\nROOT Hips\n{\nOFFSET 0 0 0\nCHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation\n"
            + chain + "}\n" * 301 + "MOTION\nFrames: 20000\nFrame Time: 0.0083333\n")
    with pytest.raises(InputError, match="20000 frames of 906 channels, over the cap of 16000000 values"):
        read_bvh(text)


def test_an_smpl_hierarchy_keeps_its_exact_path():
    """A file of SMPL names is read as it is, not retargeted: leaf rotations and the height come back."""
    motion = smooth_smpl_motion(seed=5, n_frames=5)
    back = read_bvh(write_bvh(motion))
    np.testing.assert_allclose(back.poses, motion.poses, atol=1e-4)
    np.testing.assert_allclose(back.trans, motion.trans, atol=1e-4)
