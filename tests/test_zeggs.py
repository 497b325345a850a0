"""The ZEGGS skeleton: DiffuseStyleGesture's 1141 features decoded, written as BVH, retargeted to SMPL-24.

Poses are made here on a plausible ZEGGS rest skeleton (cm, bones along +y as in the ZEGGS data: the arms
point up at rest) with a few seconds of smoothly varied rotations; expected values come from scipy's
rotations and the retarget tests' FK, independent of the module's own."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.signal import savgol_filter
from scipy.spatial.transform import Rotation

from a2a_cli.errors import InputError
from a2a_cli.motion.bvh_parse import BvhData, parse_bvh
from a2a_cli.motion.grounding import floor_height
from a2a_cli.motion.motion import Motion
from a2a_cli.motion.resample import resampled_frames
from a2a_cli.motion.retarget import ALIGNED_BONES, map_skeleton, source_smpl_positions
from a2a_cli.motion.skeleton import BVH_JOINT_NAMES
from a2a_cli.motion.zeggs import (
    ZEGGS_BONE_NAMES, ZEGGS_FEATURES, ZEGGS_JOINTS, ZEGGS_LAYOUT, ZEGGS_PARENTS, ZeggsPose, decode_zeggs, repeat_frames,
    write_zeggs_bvh, zeggs_bvh_text, zeggs_to_smpl,
)
from tests.test_retarget import NAMED_BONES, angle_deg, assert_named_bones_match, scipy_fk, smooth_rotations

OFFICIAL_FK = Path(__file__).parent / "data" / "zeggs" / "official_pose2bvh_fk.npz"
INDEX = {name: j for j, name in enumerate(ZEGGS_BONE_NAMES)}

# One side's bones (cm, from the parent); the right side mirrors x. Zero offsets are the data's twist helpers.
_LEFT = {
    "Shoulder": (3.0, 11.0, 0.0), "Arm": (0.0, 11.0, 0.0), "ForeArm": (0.0, 29.0, 0.0), "Hand": (0.0, 25.0, 0.0),
    "HandThumb1": (3.0, 4.0, 3.0), "HandIndex1": (0.0, 10.0, 2.4), "HandMiddle1": (0.0, 9.5, 0.0),
    "HandRing1": (0.0, 9.0, -2.3), "HandPinky1": (0.0, 8.0, -4.5), "ForeArmEnd": (0.0, 0.0, 0.0),
    "ArmEnd": (0.0, 0.0, 0.0), "UpLeg": (11.0, 0.0, 0.0), "Leg": (0.0, -38.0, 0.0), "Foot": (0.0, -40.0, 0.0),
    "ToeBase": (0.0, 0.0, 15.0), "ToeBaseEnd": (0.0, 0.0, 7.5), "LegEnd": (0.0, 0.0, 0.0), "UpLegEnd": (0.0, 0.0, 0.0),
}
_MIDDLE = {
    "Hips": (0.0, 88.0, 3.0), "Spine": (0.0, 9.0, -2.0), "Spine1": (0.0, 9.0, 0.0), "Spine2": (0.0, 12.0, 0.0),
    "Spine3": (0.0, 12.0, 0.0), "Neck": (0.0, 17.0, 0.0), "Neck1": (0.0, 5.0, 0.0), "Head": (0.0, 5.0, 0.0),
    "HeadEnd": (0.0, 12.0, 0.0),
}


def rest_offsets() -> np.ndarray:
    """(75, 3) cm: each joint's offset from its parent (the hips': from the root)."""
    out = np.zeros((ZEGGS_JOINTS, 3))
    for j, name in enumerate(ZEGGS_BONE_NAMES):
        if name in _MIDDLE:
            out[j] = _MIDDLE[name]
            continue
        side, part = ("Left", name[4:]) if name.startswith("Left") else ("Right", name[5:])
        if part in _LEFT:
            offset = np.array(_LEFT[part])
        else:  # finger joints 2-4
            offset = np.array((0.0, 3.0, 0.0))
        out[j] = offset * (1, 1, 1) if side == "Left" else offset * (-1, 1, 1)
    return out


def wxyz(r: Rotation) -> np.ndarray:
    q = r.as_quat()  # scalar last
    return np.concatenate([q[..., 3:], q[..., :3]], axis=-1)


def make_pose(n_frames: int = 60, seed: int = 0, fps: float = 20.0) -> ZeggsPose:
    """A speaker's few seconds: arms lowered from the rest's raised ones, every joint wandering smoothly,
    the root walking a curve and turning."""
    rng = np.random.default_rng(seed)
    base = np.zeros((ZEGGS_JOINTS, 3))
    base[INDEX["LeftArm"]] = (0.0, 0.0, -2.6)  # about the forward axis: the left arm comes down beside the body
    base[INDEX["RightArm"]] = (0.0, 0.0, 2.6)
    wander = smooth_rotations(rng, n_frames, ZEGGS_JOINTS, 0.25)
    local = (Rotation.from_rotvec(np.tile(base, (n_frames, 1))) * wander).as_matrix().reshape(n_frames, ZEGGS_JOINTS, 3, 3)
    t = np.arange(n_frames) / fps
    root_position = np.stack([30 * np.sin(0.7 * t), np.zeros_like(t), 15 * t], axis=1)
    root_rotation = wxyz(Rotation.from_euler("y", (0.8 * np.sin(0.5 * t) + 0.3)[:, None]))
    local_positions = np.tile(rest_offsets(), (n_frames, 1, 1))
    local_positions[:, 0] += np.stack([np.sin(t), 2 * np.sin(1.3 * t), np.cos(t)], axis=1)  # the hips sway over the root
    return ZeggsPose(root_position, root_rotation, local_positions, wxyz(Rotation.from_matrix(local.reshape(-1, 3, 3))).reshape(
        n_frames, ZEGGS_JOINTS, 4), fps)


def encode(pose: ZeggsPose, rng: np.random.Generator) -> np.ndarray:
    """The features decode reads, placed as process_zeggs_bvh.py lays them out: the x and y axes of each
    local rotation; the velocities and gaze (not read) are noise."""
    n = pose.n_frames
    features = rng.normal(0, 50, (n, ZEGGS_FEATURES))
    features[:, ZEGGS_LAYOUT["root_position"]] = pose.root_position
    features[:, ZEGGS_LAYOUT["root_rotation"]] = pose.root_rotation
    features[:, ZEGGS_LAYOUT["local_positions"]] = pose.local_positions.reshape(n, -1)
    matrices = Rotation.from_quat(np.roll(pose.local_rotations.reshape(-1, 4), -1, axis=-1)).as_matrix()
    xy = np.swapaxes(matrices[:, :, :2], -1, -2).reshape(n, ZEGGS_JOINTS, 2, 3)  # columns 0 and 1
    features[:, ZEGGS_LAYOUT["local_xy_axes"]] = xy.reshape(n, -1)
    return features


def same_rotations(a: np.ndarray, b: np.ndarray) -> float:
    """The largest angle (degrees) between the rotations of quaternions (..., 4) w first, any length or sign."""
    a = a / np.linalg.norm(a, axis=-1, keepdims=True)
    b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    b = np.where(np.sum(a * b, axis=-1, keepdims=True) < 0, -b, b)
    return float(np.degrees(4 * np.arctan2(np.linalg.norm(a - b, axis=-1), np.linalg.norm(a + b, axis=-1))).max())


@pytest.fixture(scope="module")
def pose() -> ZeggsPose:
    return make_pose()


# ----------------------------------------------------------------------------- the skeleton and the layout


def test_the_skeleton_is_a_depth_first_tree_and_the_layout_fills_1141_values():
    assert ZEGGS_JOINTS == 75 and len(ZEGGS_PARENTS) == 75 and len(set(ZEGGS_BONE_NAMES)) == 75
    assert ZEGGS_PARENTS[0] == -1 and all(0 <= p < j for j, p in enumerate(ZEGGS_PARENTS) if j)
    assert ZEGGS_BONE_NAMES[ZEGGS_PARENTS[INDEX["LeftHand"]]] == "LeftForeArm"
    assert ZEGGS_BONE_NAMES[ZEGGS_PARENTS[INDEX["RightToeBase"]]] == "RightFoot"
    sizes = [s.stop - s.start for s in ZEGGS_LAYOUT.values()]
    assert sizes == [3, 4, 3, 3, 225, 450, 225, 225, 3] and ZEGGS_FEATURES == sum(sizes) == 1141
    assert all(a.stop == b.start for a, b in zip(list(ZEGGS_LAYOUT.values()), list(ZEGGS_LAYOUT.values())[1:]))


# ----------------------------------------------------------------------------- decoding


def test_decode_of_an_encoded_pose_round_trips(pose):
    features = encode(pose, np.random.default_rng(1))
    back = decode_zeggs(features, smooth=False)
    assert back.fps == 20.0 and back.n_frames == pose.n_frames
    np.testing.assert_allclose(back.root_position, pose.root_position, atol=1e-9)
    np.testing.assert_allclose(back.local_positions, pose.local_positions, atol=1e-9)
    assert same_rotations(back.root_rotation, pose.root_rotation) < 1e-6
    assert same_rotations(back.local_rotations, pose.local_rotations) < 1e-6
    np.testing.assert_allclose(back.joint_positions(), pose.joint_positions(), atol=1e-6)


def test_rotations_are_orthogonalised_from_the_x_axis_as_the_official_code_does():
    """Predicted axes are neither unit nor orthogonal: x keeps its direction, z = x cross y, y = z cross x
    (txform.xform_orthogonalize_from_xy); the root quaternion is normalised."""
    rng = np.random.default_rng(2)
    features = rng.normal(0, 1, (4, ZEGGS_FEATURES))
    pose = decode_zeggs(features, smooth=False)
    xy = features[:, ZEGGS_LAYOUT["local_xy_axes"]].reshape(4, ZEGGS_JOINTS, 2, 3)
    x, y = xy[..., 0, :], xy[..., 1, :]
    z = np.cross(x, y)
    y = np.cross(z, x)
    expected = np.stack([v / np.linalg.norm(v, axis=-1, keepdims=True) for v in (x, y, z)], axis=-1)  # columns
    got = Rotation.from_quat(np.roll(pose.local_rotations.reshape(-1, 4), -1, axis=-1)).as_matrix()
    np.testing.assert_allclose(got, expected.reshape(-1, 3, 3), atol=1e-9)
    root = features[:, ZEGGS_LAYOUT["root_rotation"]]
    np.testing.assert_allclose(np.abs(np.sum(pose.root_rotation * root, -1)), np.linalg.norm(root, axis=-1), rtol=1e-12)


def test_smoothing_is_the_official_savitzky_golay_on_every_channel():
    rng = np.random.default_rng(3)
    features = np.cumsum(rng.normal(0, 1, (40, ZEGGS_FEATURES)), axis=0)
    official = np.zeros_like(features)
    for i in range(features.shape[1]):  # pose2bvh's loop
        official[:, i] = savgol_filter(features[:, i], 15, 2)
    smoothed, plain = decode_zeggs(features), decode_zeggs(official, smooth=False)
    np.testing.assert_allclose(smoothed.root_position, plain.root_position, atol=1e-9)
    np.testing.assert_allclose(smoothed.local_positions, plain.local_positions, atol=1e-9)
    assert same_rotations(smoothed.local_rotations, plain.local_rotations) < 1e-6
    assert not np.allclose(decode_zeggs(features, smooth=False).root_position, plain.root_position, atol=1e-3)
    # A clip shorter than the window gets the longest odd window it holds: a quadratic path passes unchanged.
    t = np.arange(6.0)
    short = np.tile(features[:1], (6, 1))
    short[:, 0] = 2 * t * t - t
    np.testing.assert_allclose(decode_zeggs(short).root_position[:, 0], short[:, 0], atol=1e-9)


@pytest.mark.parametrize("features, message", [
    (np.zeros((10, 1140)), "must be (frames, 1141)"),
    (np.zeros((0, 1141)), "must be (frames, 1141)"),
    (np.full((3, 1141), np.nan), "NaN or inf values, first at frame 0"),
    (np.zeros((3, 1141)), "root rotation of length 0"),
])
def test_bad_features_are_one_line_errors(features, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        decode_zeggs(features, smooth=False)


def test_a_pose_of_another_skeleton_is_refused():
    with pytest.raises(ValueError, match=r"local_positions must be \(2, 75, 3\)"):
        ZeggsPose(np.zeros((2, 3)), np.ones((2, 4)), np.zeros((2, 74, 3)), np.ones((2, 75, 4)))


# ----------------------------------------------------------------------------- BVH


def test_the_written_bvh_reads_back_with_the_same_forward_kinematics(pose, tmp_path):
    path = write_zeggs_bvh(tmp_path / "talk.bvh", pose)
    data = parse_bvh(path.read_text())
    assert [j.name for j in data.joints] == list(ZEGGS_BONE_NAMES) and data.fps == 20.0
    assert all(j.rotation_order == "ZYX" for j in data.joints) and data.joints[0].channels[:3] == ("xposition", "yposition", "zposition")
    positions, _ = scipy_fk(data)
    expected = pose.joint_positions()
    for j, name in enumerate(ZEGGS_BONE_NAMES):
        np.testing.assert_allclose(positions[name], expected[:, j], atol=1e-3, err_msg=name)
    assert not list(tmp_path.glob(".*part*"))  # written in one rename


def test_decode_and_bvh_give_the_official_pose2bvh_joints():
    """The official code (smoothing on, 60 fps) read these features into joints within 0.005 cm of a2a's:
    it orthogonalises in float32 and writes 6 decimals."""
    official = np.load(OFFICIAL_FK)["joint_positions"]  # (24, 75, 3) cm, every third 60 fps frame
    data = parse_bvh(zeggs_bvh_text(decode_zeggs(reference_features()), fps_out=60))
    positions, _ = scipy_fk(data)
    ours = np.stack([positions[name] for name in ZEGGS_BONE_NAMES], axis=1)[::3]
    assert np.abs(ours - official).max() < 0.005
    assert np.abs(decode_zeggs(reference_features(), smooth=False).joint_positions() - official).max() > 0.1


def test_sixty_fps_repeats_each_frame_three_times(pose):
    data = parse_bvh(zeggs_bvh_text(pose, fps_out=60))
    assert data.fps == 60.0 and data.values.shape[0] == 3 * pose.n_frames
    np.testing.assert_array_equal(data.values[0::3], data.values[2::3])
    np.testing.assert_allclose(data.values[0::3], parse_bvh(zeggs_bvh_text(pose)).values)
    assert repeat_frames(pose, 20.0).n_frames == pose.n_frames
    with pytest.raises(InputError, match="whole multiple"):
        zeggs_bvh_text(pose, fps_out=30)


# ----------------------------------------------------------------------------- the retarget to SMPL-24


@pytest.fixture(scope="module")
def retargeted(pose) -> tuple[BvhData, Motion]:
    return parse_bvh(zeggs_bvh_text(pose)), zeggs_to_smpl(pose)


def test_the_zeggs_joints_are_found_by_name(retargeted):
    data, _ = retargeted
    matched = map_skeleton(data.joints).matched
    assert matched == {
        "Pelvis": "Hips", "Neck": "Neck", "Head": "Head",
        **{f"{side}_{part}": f"{side}{name}" for side in ("Left", "Right") for part, name in (
            ("hip", "UpLeg"), ("knee", "Leg"), ("ankle", "Foot"), ("foot", "ToeBase"), ("collar", "Shoulder"),
            ("shoulder", "Arm"), ("elbow", "ForeArm"), ("wrist", "Hand"), ("palm", "HandMiddle1"))},
    }


def test_every_mapped_bone_points_as_the_zeggs_bone_within_5_degrees(retargeted, pose):
    data, motion = retargeted
    assert motion.fps == 30.0 and motion.n_frames == resampled_frames(pose.n_frames, 20.0, 30.0)
    # Every 0.1 s the 30 fps frames fall on the 20 fps ones: compare there.
    n = (motion.n_frames - 1) // 3 + 1
    at_30, at_20 = np.arange(n) * 3, np.arange(n) * 2
    shared = Motion(motion.poses[at_30], motion.trans[at_30], fps=10.0)
    sampled = BvhData(data.joints, data.values[at_20], 10.0)
    worst = assert_named_bones_match(shared, sampled, NAMED_BONES["mixamo"], tol_deg=5.0)
    assert worst < 0.1
    source = source_smpl_positions(sampled)
    for a, b in ALIGNED_BONES:
        err = angle_deg(shared.joints[:, b].astype(np.float64) - shared.joints[:, a], source[:, b] - source[:, a])
        assert err.max() < 5.0, (BVH_JOINT_NAMES[a], BVH_JOINT_NAMES[b], err.max())


def test_the_smpl_motion_stands_on_the_floor_and_walks_the_root_path(retargeted, pose):
    _, motion = retargeted
    assert abs(floor_height(motion.joints)) < 1e-3
    # The hips travel as the ZEGGS hips do (cm -> m, scaled to SMPL's legs: about 0.85-1.15 here).
    hips = pose.joint_positions()[:, 0]
    zeggs_path = np.linalg.norm(np.diff(hips[::2, [0, 2]], axis=0), axis=1).sum() / 100
    smpl_path = np.linalg.norm(np.diff(motion.joints[::3, 0][:, [0, 2]], axis=0), axis=1).sum()
    assert 0.8 < smpl_path / zeggs_path < 1.2


def reference_features() -> np.ndarray:
    """What the network might emit: an encoded pose with its axes a little off unit and orthogonal
    (tests/data/zeggs/official_pose2bvh_fk.npz holds the official pose2bvh's reading of these)."""
    rng = np.random.default_rng(7)
    features = encode(make_pose(n_frames=24, seed=5), rng)
    xy = ZEGGS_LAYOUT["local_xy_axes"]
    features[:, xy] = features[:, xy] * rng.uniform(0.9, 1.1, (24, 450)) + rng.normal(0, 0.02, (24, 450))
    return features
