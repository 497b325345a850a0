"""Forward kinematics against positions worked out by hand from the skeleton's offsets."""

import numpy as np
import pytest

from a2a_cli.motion import Motion
from a2a_cli.motion.fk import forward_kinematics
from a2a_cli.motion.skeleton import (
    L_ANKLE,
    L_ELBOW,
    L_FOOT,
    L_HAND,
    L_HIP,
    L_KNEE,
    L_SHOULDER,
    L_WRIST,
    N_JOINTS,
    smpl_skeleton,
)

HALF_PI = np.pi / 2


def one_frame(rotations: dict[int, list[float]]) -> np.ndarray:
    """A zero pose with some joints rotated: joint index -> axis-angle."""
    poses = np.zeros((1, N_JOINTS, 3))
    for joint, aa in rotations.items():
        poses[0, joint] = aa
    return poses


def test_rest_pose_gives_cumulative_offsets_plus_translation():
    trans = np.array([[0.3, 0.9, -1.2], [0.0, 0.0, 0.0]])
    pos = forward_kinematics(np.zeros((2, N_JOINTS, 3)), trans)
    rest = smpl_skeleton().rest_positions()
    np.testing.assert_allclose(pos, rest[None] + trans[:, None], atol=1e-6)
    # A hand check of one chain: the left ankle is hip + knee + ankle offsets below the pelvis.
    np.testing.assert_allclose(
        pos[1, L_ANKLE],
        [0.05858135 + 0.04345142 - 0.01479032, -0.08228004 - 0.38646945 - 0.42687458, -0.01766408 + 0.008037 - 0.037428],
        atol=1e-6,
    )


def test_left_shoulder_90_degrees_about_z_swings_the_arm_by_hand_numbers():
    # Rz(90) maps an offset (x, y, z) to (-y, x, z); only the shoulder's descendants move.
    rest = smpl_skeleton().rest_positions()
    pos = forward_kinematics(one_frame({L_SHOULDER: [0.0, 0.0, HALF_PI]}), np.zeros((1, 3)))[0]
    elbow = rest[L_SHOULDER] + [0.01564902, 0.2553319, -0.02294649]  # offset (0.2553319, -0.01564902, -0.02294649)
    wrist = elbow + [-0.01269811, 0.26570925, -0.00737473]  # offset (0.26570925, 0.01269811, -0.00737473)
    hand = wrist + [0.01063603, 0.08669055, -0.01559429]  # offset (0.08669055, -0.01063603, -0.01559429)
    np.testing.assert_allclose(pos[L_ELBOW], elbow, atol=1e-6)
    np.testing.assert_allclose(pos[L_WRIST], wrist, atol=1e-6)
    np.testing.assert_allclose(pos[L_HAND], hand, atol=1e-6)
    unmoved = [j for j in range(N_JOINTS) if j not in (L_ELBOW, L_WRIST, L_HAND)]
    np.testing.assert_allclose(pos[unmoved], rest[unmoved], atol=1e-6)


def test_rotations_compose_down_the_chain():
    # Left hip +90 about x lifts the leg forward: Rx(90) maps (x, y, z) to (x, -z, y).
    # A knee at -90 about x then undoes it below the knee: the shin hangs straight down again.
    rest = smpl_skeleton().rest_positions()
    poses = one_frame({L_HIP: [HALF_PI, 0.0, 0.0], L_KNEE: [-HALF_PI, 0.0, 0.0]})
    pos = forward_kinematics(poses, np.zeros((1, 3)))[0]
    knee = rest[L_HIP] + [0.04345142, -0.008037, -0.38646945]
    ankle = knee + [-0.01479032, -0.42687458, -0.037428]
    foot = ankle + [0.04105436, -0.06028581, 0.12204243]
    np.testing.assert_allclose(pos[L_KNEE], knee, atol=1e-6)
    np.testing.assert_allclose(pos[L_ANKLE], ankle, atol=1e-6)
    np.testing.assert_allclose(pos[L_FOOT], foot, atol=1e-6)


def test_root_rotation_turns_the_whole_body_about_the_translation():
    # Ry(90) maps (x, y, z) to (z, y, -x).
    rest = smpl_skeleton().rest_positions()
    trans = np.array([[1.0, 0.5, 2.0]])
    pos = forward_kinematics(one_frame({0: [0.0, HALF_PI, 0.0]}), trans)[0]
    expected = np.stack([rest[:, 2], rest[:, 1], -rest[:, 0]], axis=1) + trans
    np.testing.assert_allclose(pos, expected, atol=1e-6)


def test_batches_of_clips_match_clip_by_clip():
    rng = np.random.default_rng(0)
    poses = rng.normal(0, 0.6, (3, 7, N_JOINTS, 3)).astype(np.float32)
    trans = rng.normal(0, 1, (3, 7, 3)).astype(np.float32)
    batch = forward_kinematics(poses, trans)
    assert batch.shape == (3, 7, N_JOINTS, 3) and batch.dtype == np.float32
    for b in range(3):
        np.testing.assert_allclose(batch[b], forward_kinematics(poses[b], trans[b]), atol=1e-6)
    exact = forward_kinematics(poses.astype(np.float64), trans.astype(np.float64))
    assert exact.dtype == np.float64
    np.testing.assert_allclose(batch, exact, atol=1e-5)


def test_bone_lengths_are_preserved_by_any_pose():
    skeleton = smpl_skeleton()
    poses = np.random.default_rng(1).normal(0, 1.5, (20, N_JOINTS, 3))
    pos = forward_kinematics(poses, np.zeros((20, 3)))
    bones = np.linalg.norm(pos[:, 1:] - pos[:, skeleton.parents[1:]], axis=-1)
    np.testing.assert_allclose(bones, np.broadcast_to(np.linalg.norm(skeleton.offsets[1:], axis=1), bones.shape), atol=1e-9)


def test_motion_joints_are_fk_of_its_poses():
    rng = np.random.default_rng(2)
    motion = Motion(poses=rng.normal(0, 0.5, (5, N_JOINTS, 3)), trans=rng.normal(size=(5, 3)))
    np.testing.assert_allclose(motion.joints, forward_kinematics(motion.poses, motion.trans), atol=0)


def test_wrong_pose_shape_is_refused():
    with pytest.raises(ValueError, match="24, 3"):
        forward_kinematics(np.zeros((5, 22, 3)), np.zeros((5, 3)))
