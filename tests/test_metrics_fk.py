"""The fast FK: batches equal single clips, float32 stays within micrometres of a float64 per-joint
matrix chain, float64 is exact, and tiny or large angles lose nothing."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from a2a_cli.motion.fk import forward_kinematics
from a2a_cli.motion.rotations import axis_angle_to_matrix
from a2a_cli.motion.skeleton import smpl_skeleton
from support import metrics_baseline


def chain_fk(poses: np.ndarray, trans: np.ndarray) -> np.ndarray:
    """The plain definition on float64 (..., 24, 3): parent's global rotation times offset."""
    sk = smpl_skeleton()
    local = axis_angle_to_matrix(poses.astype(np.float64))
    glob = [local[..., 0, :, :]]
    pos = [trans.astype(np.float64)]
    for j in range(1, 24):
        p = sk.parents[j]
        glob.append(glob[p] @ local[..., j, :, :])
        pos.append(pos[p] + glob[p] @ sk.offsets[j])
    return np.stack(pos, axis=-2)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.sampled_from([1e-9, 1e-5, 0.3, 1.5, 3.1]))
def test_matches_the_matrix_chain(seed, scale):
    rng = np.random.default_rng(seed)
    poses = rng.normal(size=(2, 5, 24, 3)) * scale
    trans = rng.normal(size=(2, 5, 3))
    expected = chain_fk(poses, trans)
    exact = forward_kinematics(poses, trans)
    assert exact.dtype == np.float64 and exact.shape == (2, 5, 24, 3)
    np.testing.assert_allclose(exact, expected, rtol=0, atol=1e-12)
    fast = forward_kinematics(poses.astype(np.float32), trans.astype(np.float32))
    assert fast.dtype == np.float32
    np.testing.assert_allclose(fast, expected, rtol=0, atol=5e-6)


def test_batch_equals_per_clip_across_chunk_boundaries():
    bench = metrics_baseline
    poses, trans = bench.smooth_random_clips(40, 300, seed=1)  # 12,000 frames: more than one chunk
    batch = forward_kinematics(poses, trans)
    for i in (0, 27, 39):
        np.testing.assert_array_equal(batch[i], forward_kinematics(poses[i], trans[i]))
    np.testing.assert_allclose(batch[0, :3], bench.baseline_fk(poses[0, :3], trans[0, :3]), atol=5e-6)


def test_zero_pose_is_the_rest_pose_at_the_root():
    rest = smpl_skeleton().rest_positions()
    out = forward_kinematics(np.zeros((3, 24, 3), np.float32), np.array([[0, 0, 0], [1, 2, 3], [-1, 0, 5]], np.float32))
    np.testing.assert_allclose(out, rest[None] + np.array([[0, 0, 0], [1, 2, 3], [-1, 0, 5]])[:, None], atol=1e-6)


def test_shape_errors_and_empty_input():
    with pytest.raises(ValueError, match="poses must be"):
        forward_kinematics(np.zeros((4, 23, 3)), np.zeros((4, 3)))
    assert forward_kinematics(np.zeros((0, 24, 3)), np.zeros((0, 3))).shape == (0, 24, 3)
