"""Motion files: every round trip, detection by shape, and each refusal with its message."""

import io
import json
import pickle
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from a2a_cli.errors import InputError
from a2a_cli.motion import Motion, change_up_axis, formats
from a2a_cli.motion.bvh import read_bvh, write_bvh
from a2a_cli.motion.formats import (
    decode_motion,
    encode_motion,
    load_motion,
    motion_from_array,
    motion_to_edge_vector,
    save_motion,
)
from a2a_cli.motion.rotations import Y_UP_TO_Z_UP, axis_angle_to_matrix
from a2a_cli.motion.skeleton import BVH_JOINT_NAMES, FOOT_JOINTS, N_JOINTS, smpl_skeleton


def random_motion(n_frames=40, fps=30.0, seed=0, meta=None) -> Motion:
    rng = np.random.default_rng(seed)
    poses = rng.normal(0, 0.8, (n_frames, N_JOINTS, 3)).astype(np.float32)
    trans = (rng.normal(0, 0.5, (n_frames, 3)) + [0, 0.9, 0]).astype(np.float32)
    return Motion(poses=poses, trans=trans, fps=fps, meta=dict(meta or {}))


def rotation_matrices(motion: Motion) -> np.ndarray:
    return axis_angle_to_matrix(motion.poses.astype(np.float64))


def assert_same_motion(a: Motion, b: Motion, atol: float) -> None:
    assert a.n_frames == b.n_frames and a.fps == b.fps
    np.testing.assert_allclose(a.joints, b.joints, atol=atol)
    np.testing.assert_allclose(a.trans, b.trans, atol=atol)
    np.testing.assert_allclose(rotation_matrices(a), rotation_matrices(b), atol=atol)


# ----------------------------------------------------------------------------- round trips


def test_npy_round_trip_is_exact_and_75_columns(tmp_path):
    motion = random_motion()
    path = save_motion(motion, tmp_path / "dance.npy")
    raw = np.load(path, allow_pickle=False)
    assert raw.shape == (40, 75) and raw.dtype == np.float32
    np.testing.assert_array_equal(raw[:, 72:], motion.trans)
    back = load_motion(path)
    np.testing.assert_array_equal(back.poses, motion.poses)
    np.testing.assert_array_equal(back.trans, motion.trans)
    assert back.fps == 30.0


def test_npy_fps_comes_from_the_caller(tmp_path):
    path = save_motion(random_motion(), tmp_path / "dance.npy")
    assert load_motion(path, fps=60).fps == 60


def test_72_columns_stand_on_the_floor():
    """No translation: the pelvis stays over the origin, lifted so that the feet stand on y = 0
    (with the pelvis at 0 they would be 0.9 m under the floor, and fail the penetration gate)."""
    motion = random_motion()
    back = motion_from_array(motion.poses.reshape(40, 72))
    np.testing.assert_array_equal(back.poses, motion.poses)
    np.testing.assert_array_equal(back.trans[:, [0, 2]], np.zeros((40, 2)))
    assert np.ptp(back.trans[:, 1]) == 0 and 0.5 < back.trans[0, 1] < 1.2  # one lift, about a leg's length
    lowest_foot = back.joints[:, list(FOOT_JOINTS), 1].min(axis=1)
    assert np.percentile(lowest_foot, 5.0) == pytest.approx(0.0, abs=1e-6)


def test_joint_positions_array_gives_a_motion_without_rotations(tmp_path):
    joints = random_motion().joints
    for name in ("joints.npy", "joints.npz"):
        back = load_motion(save_motion(Motion.from_joints(joints), tmp_path / name))
        assert not back.has_rotations
        np.testing.assert_array_equal(back.joints, joints)
    with pytest.raises(InputError, match="no rotations"):
        save_motion(Motion.from_joints(joints), tmp_path / "joints.bvh")


def test_npz_round_trip_keeps_fps_and_meta(tmp_path):
    meta = {"generator": "choreo", "model": "choreo", "seed": 7, "audio_sha256": "ab" * 32, "version": "0.1"}
    motion = random_motion(fps=60.0, meta={**meta, "seed": np.int64(7)})
    path = save_motion(motion, tmp_path / "dance.npz")
    with np.load(path, allow_pickle=False) as stored:
        assert sorted(stored.files) == ["fps", "meta", "poses", "trans"]
        assert stored["poses"].shape == (40, 72) and stored["trans"].shape == (40, 3)
        assert json.loads(str(stored["meta"])) == meta
    back = load_motion(path)
    assert back.fps == 60.0 and back.meta == meta
    np.testing.assert_array_equal(back.poses, motion.poses)
    np.testing.assert_array_equal(back.trans, motion.trans)


def test_npz_joints_are_recomputed_when_rotations_exist():
    motion = random_motion()
    buf = io.BytesIO()
    np.savez(buf, poses=motion.poses.reshape(40, 72), trans=motion.trans, fps=30.0, joints=np.zeros((40, N_JOINTS, 3)))
    back = decode_motion(buf.getvalue(), "npz")
    np.testing.assert_allclose(back.joints, motion.joints, atol=1e-6)


@pytest.mark.parametrize("fps", [30.0, 60.0, 25.0])
def test_bvh_round_trip_within_1e4(tmp_path, fps):
    motion = random_motion(fps=fps)
    # Gimbal lock (y = +-90 degrees) and angles near pi are the hard cases for Euler channels.
    motion.poses[0, 5] = Rotation.from_euler("ZYX", [0.4, np.pi / 2, -0.2]).as_rotvec()
    motion.poses[1, 6] = Rotation.from_euler("ZYX", [0.4, -np.pi / 2, 1.2]).as_rotvec()
    motion.poses[2, 7] = [0.0, np.pi - 1e-6, 0.0]
    back = load_motion(save_motion(motion, tmp_path / "dance.bvh"))
    assert_same_motion(back, motion, atol=1e-4)


def test_bvh_text_follows_the_wire_format():
    motion = random_motion(n_frames=3)
    text = write_bvh(motion)
    lines = [line.strip() for line in text.splitlines()]
    assert lines[:5] == [
        "HIERARCHY", "ROOT Pelvis", "{", "OFFSET 0.000000 0.000000 0.000000",
        "CHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation",
    ]
    names = [line.split()[1] for line in lines if line.startswith(("ROOT", "JOINT"))]
    assert sorted(names) == sorted(BVH_JOINT_NAMES)
    assert lines.count("CHANNELS 3 Zrotation Yrotation Xrotation") == 23
    assert lines.count("End Site") == 5  # feet, head, palms
    assert "Frame Time: 0.0333333" in lines and "Frames: 3" in lines
    # Offsets in cm, from the skeleton: the left knee's.
    knee = lines[lines.index("JOINT Left_knee") + 2]
    np.testing.assert_allclose([float(v) for v in knee.split()[1:]], smpl_skeleton().offsets[4] * 100, atol=1e-6)
    # Frame lines: root position in cm, then Z Y X degrees of the pelvis, 75 values in all.
    first = np.array(lines[lines.index("Frame Time: 0.0333333") + 1].split(), dtype=float)
    assert len(first) == 75
    np.testing.assert_allclose(first[:3], motion.trans[0] * 100, atol=1e-5)
    pelvis_zyx = Rotation.from_rotvec(motion.poses[0, 0]).as_euler("ZYX", degrees=True)
    np.testing.assert_allclose(first[3:6], pelvis_zyx, atol=1e-4)


def test_bvh_reader_accepts_any_rotation_order_and_six_channel_joints():
    """A Blender-style re-export: Xrotation Yrotation Zrotation everywhere, positions on every joint."""
    motion = random_motion(n_frames=5)
    skeleton = smpl_skeleton()
    text = write_bvh(motion)
    header, frames = text.split("MOTION\n")
    header = header.replace("Zrotation Yrotation Xrotation", "Xrotation Yrotation Zrotation")
    header = header.replace("CHANNELS 3 Xrotation", "CHANNELS 6 Xposition Yposition Zposition Xrotation")
    order = [BVH_JOINT_NAMES.index(line.split()[1]) for line in header.splitlines() if line.strip().startswith(("ROOT", "JOINT"))]
    rows = []
    for t in range(5):
        row = list(motion.trans[t] * 100)
        for j in order:
            if j:
                row += list(skeleton.offsets[j] * 100)
            row += list(Rotation.from_rotvec(motion.poses[t, j]).as_euler("XYZ", degrees=True))
        rows.append(" ".join(f"{v:.6f}" for v in row))
    bvh = header + "MOTION\nFrames: 5\nFrame Time: 0.0333333\n" + "\n".join(rows) + "\n"
    assert_same_motion(read_bvh(bvh), motion, atol=1e-4)


def test_bvh_frame_time_sets_fps():
    text = write_bvh(random_motion(n_frames=4)).replace("Frame Time: 0.0333333", "Frame Time: 0.04")
    assert read_bvh(text).fps == 25.0
    text = text.replace("Frame Time: 0.04", "Frame Time: 0.0333667")
    assert read_bvh(text).fps == pytest.approx(1 / 0.0333667)


def test_edge_vector_layout_matches_edge():
    """[4 contacts, 3 root position, 24 x 6D rows], z-up: built here independently of the module."""
    motion = random_motion(n_frames=6)
    motion.trans[3] = motion.trans[2]  # hold the root still over one frame
    motion.poses[3] = motion.poses[2]  # ... and the whole body, so the feet are in contact at frame 2
    vec = motion_to_edge_vector(motion)
    assert vec.shape == (6, 151) and vec.dtype == np.float32
    # EDGE: quaternion (0.7071068, 0.7071068, 0, 0) times the root rotation; positions (x, y, z) -> (x, -z, y).
    rx90 = Rotation.from_quat([0.7071068, 0, 0, 0.7071068])  # scipy is (x, y, z, w)
    root = (rx90 * Rotation.from_rotvec(motion.poses[:, 0])).as_matrix()
    local = Rotation.from_rotvec(motion.poses[:, 1:].reshape(-1, 3)).as_matrix().reshape(6, 23, 3, 3)
    np.testing.assert_allclose(vec[:, 4:7], motion.trans[:, [0, 2, 1]] * [1, -1, 1], atol=1e-6)
    np.testing.assert_allclose(vec[:, 7:13], root[:, :2].reshape(6, 6), atol=1e-6)
    np.testing.assert_allclose(vec[:, 13:], local[:, :, :2].reshape(6, 138), atol=1e-6)
    feet_speed = np.linalg.norm(np.diff(motion.joints[:, FOOT_JOINTS], axis=0), axis=-1)
    np.testing.assert_array_equal(vec[:-1, :4], (feet_speed < 0.01).astype(np.float32))
    assert vec[2, :4].tolist() == [1, 1, 1, 1] and vec[-1, :4].tolist() == [1, 1, 1, 1]


def test_edge_vector_round_trips(tmp_path):
    motion = random_motion()
    vec = motion_to_edge_vector(motion)
    np.save(tmp_path / "edge.npy", vec)
    back = load_motion(tmp_path / "edge.npy")
    assert_same_motion(back, motion, atol=1e-5)
    np.testing.assert_allclose(motion_to_edge_vector(back), vec, atol=1e-5)


def test_up_axis_change_rotates_every_joint_and_round_trips():
    motion = random_motion()
    poses_z, trans_z = change_up_axis(motion.poses, motion.trans, to="z")
    z_up = Motion(poses=poses_z, trans=trans_z)
    np.testing.assert_allclose(z_up.joints, motion.joints @ Y_UP_TO_Z_UP.T, atol=1e-5)
    poses_y, trans_y = change_up_axis(poses_z, trans_z, to="y")
    assert_same_motion(Motion(poses=poses_y, trans=trans_y), motion, atol=1e-5)


def test_encode_decode_every_format_in_memory():
    motion = random_motion()
    for fmt in ("npy", "npz", "bvh"):
        back = decode_motion(encode_motion(motion, fmt), fmt)
        assert_same_motion(back, motion, atol=1e-4)


def test_save_is_atomic_and_can_refuse_to_overwrite(tmp_path):
    path = tmp_path / "out" / "dance.npz"
    save_motion(random_motion(seed=1), path)
    with pytest.raises(InputError, match="already exists"):
        save_motion(random_motion(seed=2), path, overwrite=False)
    np.testing.assert_array_equal(load_motion(path).poses, random_motion(seed=1).poses)
    assert [p.name for p in path.parent.iterdir()] == ["dance.npz"]  # no temporary files left


# ----------------------------------------------------------------------------- detection and refusals


@pytest.mark.parametrize("shape", [(10, 7), (10, 24, 2), (75,), (2, 10, 24, 3), (10, 150)])
def test_unknown_shapes_name_the_shape_and_the_accepted_ones(shape):
    with pytest.raises(InputError) as e:
        motion_from_array(np.zeros(shape, np.float32))
    message = str(e.value)
    assert str(shape) in message and "(T, 75)" in message and "(T, 151)" in message and "(T, 24, 3)" in message


@pytest.mark.parametrize("shape", [(0, 75), (0, 24, 3)])
def test_zero_frames_are_refused(shape):
    with pytest.raises(InputError, match="0 frames"):
        motion_from_array(np.zeros(shape, np.float32))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_name_the_first_bad_frame(bad):
    arr = np.zeros((20, 75), np.float32)
    arr[7, 3] = bad
    arr[12, 0] = bad
    with pytest.raises(InputError, match="frame 7 "):
        motion_from_array(arr)


def test_non_numeric_arrays_are_refused():
    with pytest.raises(InputError, match="expected numbers"):
        decode_motion(encode_npy(np.array([["a"] * 75] * 3)), "npy")


def encode_npy(arr: np.ndarray, allow_pickle=False) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=allow_pickle)
    return buf.getvalue()


@pytest.fixture
def no_unpickling(monkeypatch):
    """Fail the test if anything tries to unpickle."""

    def refuse(*args, **kwargs):
        raise AssertionError("pickle was called")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)


def test_a_pickled_npy_is_refused_and_never_unpickled(tmp_path, no_unpickling):
    obj = np.empty((3, 75), dtype=object)
    path = tmp_path / "evil.npy"
    path.write_bytes(encode_npy(obj, allow_pickle=True))
    with pytest.raises(AssertionError, match="pickle was called"):  # the trap works
        np.load(path, allow_pickle=True)
    with pytest.raises(InputError, match="pickle") as e:
        load_motion(path)
    assert str(path) in str(e.value)


def test_a_raw_pickle_named_npy_is_refused(tmp_path, no_unpickling):
    path = tmp_path / "evil.npy"
    path.write_bytes(pickle.dumps({"poses": [1, 2, 3]}))
    with pytest.raises(InputError, match="not a valid .npy"):
        load_motion(path)


def npy_header(shape, descr="<f8") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def test_a_huge_array_header_is_refused_without_reading(tmp_path):
    path = tmp_path / "huge.npy"
    path.write_bytes(npy_header((2**28, 75)) + b"\0" * 4096)
    with pytest.raises(InputError, match=r"\(268435456, 75\).*over the 64.0 MiB cap"):
        load_motion(path)  # refused by its header: reading the 4 KiB of data would fail differently


def test_a_2gb_file_is_refused_by_its_size_before_reading(tmp_path):
    path = tmp_path / "huge.npy"
    with open(path, "wb") as f:
        f.write(npy_header((2**28, 75)))
        f.truncate(2**31)  # sparse: takes no disk space
    with pytest.raises(InputError, match="2.0 GiB, over the 256.0 MiB cap"):
        load_motion(path)  # refused by its size: the header alone says 2**28 frames, a different refusal


def test_a_truncated_npy_is_refused(tmp_path):
    data = encode_motion(random_motion(), "npy")
    path = tmp_path / "cut.npy"
    path.write_bytes(data[:-100])
    with pytest.raises(InputError, match="truncated"):
        load_motion(path)
    with pytest.raises(InputError, match="not a valid .npy"):
        decode_motion(data[:20], "npy")


def test_negative_dimensions_are_refused():
    with pytest.raises(InputError, match="negative dimension"):
        decode_motion(npy_header((-5, 75)) + b"\0" * 64, "npy")


def test_decode_caps_the_bytes():
    data = encode_motion(random_motion(), "npz")
    with pytest.raises(InputError, match="over the 1000 bytes cap"):
        decode_motion(data, "npz", max_bytes=1000)


def npz_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_an_npz_bomb_is_refused_from_its_declared_size(monkeypatch):
    monkeypatch.setattr(formats, "MAX_ARRAY_BYTES", 2**20)
    bomb = npz_bytes({"poses.npy": npy_header((8000, 72), "<f4") + bytes(8000 * 72 * 4)})
    assert len(bomb) < 10_000  # 2.2 MiB of zeros, deflated
    with pytest.raises(InputError, match="member 'poses' declares 2.2 MiB, over the 1.0 MiB cap"):
        decode_motion(bomb, "npz")


def test_an_npz_with_a_pickled_member_is_refused(no_unpickling):
    data = npz_bytes({"poses.npy": encode_npy(np.empty((3, 72), object), allow_pickle=True),
                      "trans.npy": encode_npy(np.zeros((3, 3)))})
    with pytest.raises(InputError, match="member 'poses' holds Python objects"):
        decode_motion(data, "npz")


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({"trans": np.zeros((3, 3))}, "no 'poses'"),
        ({"poses": np.zeros((3, 70)), "trans": np.zeros((3, 3))}, r"'poses' has shape \(3, 70\)"),
        ({"poses": np.zeros((3, 72)), "trans": np.zeros((4, 3))}, r"'trans' has shape \(4, 3\)"),
        ({"poses": np.zeros((3, 72)), "fps": np.float64(-30)}, "'fps' must be one number"),
        ({"poses": np.zeros((3, 72)), "fps": np.float64(np.nan)}, "'fps' must be one number"),
        ({"poses": np.zeros((3, 72)), "fps": np.float64(1e-300)}, "'fps' must be one number"),
        ({"poses": np.zeros((3, 72)), "meta": np.array("not json")}, "'meta' is not one JSON string"),
        ({"poses": np.zeros((3, 72)), "meta": np.array("[1, 2]")}, "'meta' must be a JSON object"),
        ({"poses": np.zeros((3, 72)), "meta": np.array("[" * 100_000)}, "'meta' is not one JSON string"),
        ({"poses": np.zeros((3, 72)), "meta": np.array(b"{}")}, "member 'meta' has dtype |S2; expected a string"),
        ({"poses": np.zeros((3, 72)), "trans": np.full((3, 3), np.inf)}, "frame 0 "),
    ],
)
def test_malformed_npz_is_refused_with_its_reason(members, message):
    data = npz_bytes({f"{k}.npy": encode_npy(np.asarray(v)) for k, v in members.items()})
    with pytest.raises(InputError, match=message):
        decode_motion(data, "npz")


@st.composite
def corruptions(draw):
    """A valid small file of some format with a few bytes replaced, deleted or inserted."""
    fmt = draw(st.sampled_from(["npy", "npz", "bvh"]))
    data = bytearray(VALID_FILES[fmt])
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["replace", "delete", "insert"]))
        if action == "replace":
            data[i] = draw(st.integers(0, 255))
        elif action == "delete":
            del data[i : i + draw(st.integers(1, 40))]
        else:
            data[i:i] = draw(st.binary(min_size=1, max_size=4))
    return fmt, bytes(data)


VALID_FILES = {fmt: encode_motion(random_motion(n_frames=4, meta={"seed": 1}), fmt) for fmt in ("npy", "npz", "bvh")}


@settings(max_examples=300, deadline=None)
@given(corruptions())
def test_corrupt_files_give_a_motion_or_a_one_line_input_error(case):
    fmt, data = case
    try:
        motion = decode_motion(data, fmt)
    except InputError as e:
        assert "\n" not in str(e)
    else:
        assert np.isfinite(motion.trans).all() and motion.n_frames >= 1


def test_an_npz_with_an_encrypted_member_is_refused_in_one_line():
    """Hypothesis found it: one flipped bit in the central directory marks a member encrypted, and
    zipfile raised RuntimeError ("password required") through the decoder."""
    data = bytearray(VALID_FILES["npz"])
    entry = data.index(b"PK\x01\x02")  # the first member's central-directory header
    data[entry + 8] |= 0x1  # its general-purpose flags: encrypted
    with pytest.raises(InputError, match=r"member '\w+' is encrypted; save the archive without a password"):
        decode_motion(bytes(data), "npz")


def test_garbage_is_not_an_npz():
    with pytest.raises(InputError, match="not a valid .npz"):
        decode_motion(b"PK\x03\x04 nonsense", "npz")


def test_file_level_errors(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_motion(tmp_path / "missing.npy")
    (tmp_path / "empty.bvh").write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        load_motion(tmp_path / "empty.bvh")
    with pytest.raises(InputError, match=r"unknown motion file type '\.txt'; expected \.npy, \.npz, \.bvh, \.pkl"):
        load_motion(tmp_path / "dance.txt")
    with pytest.raises(InputError, match="unknown motion format 'fbx'"):
        encode_motion(random_motion(), "fbx")
    with pytest.raises(InputError, match="not UTF-8"):
        decode_motion(b"\xff\xfe\x00", "bvh")


# ----------------------------------------------------------------------------- BVH refusals

GOOD_BVH = write_bvh(random_motion(n_frames=3))


def edited(old: str, new: str, count: int = 1) -> str:
    assert old in GOOD_BVH
    return GOOD_BVH.replace(old, new, count)


def without_joints(text: str, names: list[str]) -> str:
    """The BVH with some leaf joints' blocks removed."""
    lines = text.splitlines(keepends=True)
    for name in names:
        start = next(i for i, line in enumerate(lines) if line.strip() == f"JOINT {name}")
        indent = lines[start][: len(lines[start]) - len(lines[start].lstrip("\t"))]
        end = next(i for i in range(start + 1, len(lines)) if lines[i] == indent + "}\n")
        del lines[start : end + 1]
    return "".join(lines)


def with_frame_line(i: int, new_line: str) -> str:
    head, frames = GOOD_BVH.split("Frame Time: 0.0333333\n")
    rows = frames.splitlines()
    rows[i] = new_line
    return head + "Frame Time: 0.0333333\n" + "\n".join(rows) + "\n"


FIRST_ROW = GOOD_BVH.split("Frame Time: 0.0333333\n")[1].splitlines()[0].split()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (edited("JOINT Left_palm", "JOINT Right_palm"), "joint 'Right_palm' appears twice"),
        (edited("CHANNELS 3 Zrotation Yrotation Xrotation", "CHANNELS 3 Zrotation Yrotation"), "declares 3 channels but lists 2"),
        (edited("CHANNELS 3 Zrotation Yrotation Xrotation", "CHANNELS 2 Zrotation Yrotation"), "has 2 channels .*expected 3 rotations"),
        (edited("CHANNELS 3 Zrotation Yrotation Xrotation", "CHANNELS 3 Zrotation Zrotation Xrotation"), "expected 3 rotations"),
        (edited("CHANNELS 3 Zrotation Yrotation Xrotation", "CHANNELS 3 Zrotation Yrotation Wrotation"), "unknown channel 'wrotation'"),
        (edited("CHANNELS 6 Xposition Yposition Zposition Zrotation", "CHANNELS 4 Xposition Zrotation"), "Pelvis has 4 channels"),
        (edited("CHANNELS 6 Xposition Yposition Zposition ", "CHANNELS 3 "), "Pelvis has 3 channels .*3 positions and 3 rotations"),
        (edited("Frame Time: 0.0333333", "Frame Time: 0"), "frame time 0 s must be positive"),
        (edited("Frame Time: 0.0333333", "Frame Time: -0.0333333"), "must be positive"),
        (edited("Frame Time: 0.0333333", "Frame Time: fast"), "frame time 'fast' is not a number"),
        (edited("Frame Time: 0.0333333", "Frame Time: nan"), "must be positive"),
        (edited("Frame Time: 0.0333333", "Frame Time: 1e300"), "1 to 1000 fps"),
        (edited("JOINT Left_palm", "JOINT Palm" + " x" * 100_000).replace("JOINT Right_palm", "JOINT Palm" + " x" * 100_000),
         r"joint 'Palm x x x.{30,60}\.\.\.' appears twice"),
        (edited("JOINT Left_palm", "".join(f"JOINT j{i}\n{{\nOFFSET 0 0 0\nCHANNELS 0\n" for i in range(600)) + "JOINT Left_palm"),
         "more than 500 joints"),
        (edited("Frames: 3", "Frames: 4"), "Frames: 4 but 3 frame lines follow"),
        (edited("Frames: 3", "Frames: 0"), "0 frames"),
        (edited("Frames: 3", "Frames: 100000"), "100000 frames, over the cap of 72000"),
        (edited("Frames: 3", "Frames: three"), "expected 'Frames: N'"),
        (edited("MOTION", "MOVES"), "no MOTION section"),
        (edited("HIERARCHY", "HIERARCH"), "line 1: expected 'HIERARCHY'"),
        (edited("OFFSET 5.858135", "OFFSET x5.858135"), "OFFSET of Left_hip must be 3 numbers"),
    ],
)
def test_bad_bvh_is_refused_naming_the_problem(text, message):
    with pytest.raises(InputError, match=message):
        read_bvh(text)


def test_bvh_missing_joints_are_named():
    with pytest.raises(InputError, match="missing joints: Left_palm, Right_palm"):
        read_bvh(without_joints(GOOD_BVH, ["Left_palm", "Right_palm"]))


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (FIRST_ROW[:-1], "frame 1 \\(line .*\\) has 74 values; the hierarchy declares 75 channels"),
        (FIRST_ROW + ["0"], "frame 1 .* has 76 values"),
        (FIRST_ROW[:10] + ["1.2.3"] + FIRST_ROW[11:], "frame 1 .*'1.2.3' is not a number"),
        (FIRST_ROW[:10] + ["nan"] + FIRST_ROW[11:], "NaN or inf values, first at frame 1 "),
    ],
)
def test_bad_frame_lines_are_refused(row, message):
    with pytest.raises(InputError, match=message):
        read_bvh(with_frame_line(1, " ".join(row)))


def test_bvh_joints_must_form_the_smpl_tree():
    # Swap the names of the two knees: each then hangs under the wrong hip.
    text = edited("JOINT Left_knee", "JOINT Knee_tmp").replace("JOINT Right_knee", "JOINT Left_knee")
    text = text.replace("JOINT Knee_tmp", "JOINT Right_knee")
    with pytest.raises(InputError, match="Right_knee is a child of Left_hip; in SMPL it is a child of Right_hip"):
        read_bvh(text)


def test_bvh_offsets_in_metres_are_refused():
    lines = []
    for line in GOOD_BVH.split("MOTION")[0].splitlines():
        if line.strip().startswith("OFFSET"):
            values = [float(v) / 100 for v in line.split()[1:]]
            line = line[: line.index("OFFSET")] + "OFFSET " + " ".join(f"{v:.6f}" for v in values)
        lines.append(line)
    with pytest.raises(InputError, match="offsets must be in cm"):
        read_bvh("\n".join(lines) + "\nMOTION" + GOOD_BVH.split("MOTION")[1])


def test_bvh_offsets_of_a_different_body_are_accepted():
    """Offsets are checked loosely: a 10% taller dancer still reads, and FK uses the SMPL skeleton."""
    motion = random_motion(n_frames=3)
    text = write_bvh(motion)
    lines = []
    for line in text.split("MOTION")[0].splitlines():
        if line.strip().startswith("OFFSET"):
            values = [float(v) * 1.1 for v in line.split()[1:]]
            line = line[: line.index("OFFSET")] + "OFFSET " + " ".join(f"{v:.6f}" for v in values)
        lines.append(line)
    back = read_bvh("\n".join(lines) + "\nMOTION" + text.split("MOTION")[1])
    np.testing.assert_allclose(back.joints, motion.joints, atol=1e-4)


def test_float64_beyond_float32_loads_without_a_warning_and_fails_the_finite_gate():
    import warnings

    from a2a_cli.scoring import check_validity

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        motion = decode_motion(encode_npy(np.full((40, 75), 1e39)), "npy")
        lines = encode_motion(random_motion(n_frames=40), "bvh").decode().splitlines()
        first = lines.index("MOTION") + 3
        lines[first] = "1e300 " + lines[first].split(" ", 1)[1]  # the root 1e298 m away
        far = decode_motion("\n".join(lines).encode(), "bvh")
    assert "finite" in {g.name for g in check_validity(motion) if not g.passed}
    assert "finite" in {g.name for g in check_validity(far) if not g.passed}
