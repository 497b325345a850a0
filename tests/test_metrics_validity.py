"""Validity values: the fast batch path gives the per-frame baseline's numbers, to float32 precision."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

from a2a_cli.motion import Motion
from a2a_cli.motion.rotations import axis_angle_to_quaternion
from a2a_cli.scoring import order_stats
from a2a_cli.scoring.clip_batch import ClipBatch
from a2a_cli.scoring.validity import validity_values
from support.dances import (
    beat_frames_of, loop_one_move, plausible_dance, shifted_up, spinning_arms, static_pose, teleports,
    tiny_jitter, white_noise,
)
from support import metrics_baseline

FPS = 30.0


def assert_matches_baseline(fast: dict, reference: dict) -> None:
    """Float32 arithmetic against float64: relative 1e-5, or 1e-6 absolute for values near 0."""
    assert list(fast) == list(reference)
    for name, value in reference.items():
        assert float(fast[name]) == pytest.approx(value, rel=1e-5, abs=1e-6), name


def test_random_smooth_clips_match_the_per_frame_baseline():
    poses, trans = metrics_baseline.smooth_random_clips(3, 300, seed=11)
    batch = ClipBatch.from_poses(poses, trans)
    joints = batch.joints()
    with_poses = validity_values(batch, FPS, poses)
    from_joints = validity_values(joints, FPS)
    for i in range(3):
        assert_matches_baseline({k: v[i] for k, v in with_poses.items()}, metrics_baseline.baseline_validity(joints[i], FPS, poses[i]))
    for i in range(2):
        assert_matches_baseline({k: v[i] for k, v in from_joints.items()}, metrics_baseline.baseline_validity(joints[i], FPS))


def test_the_tricks_match_the_per_frame_baseline_in_one_batch():
    dance = plausible_dance(beat_frames_of(120, 10), 300, seed=1)
    motions = [dance, static_pose(300), tiny_jitter(300), white_noise(300), teleports(dance),
               shifted_up(dance, 1.0), shifted_up(dance, -0.3), spinning_arms(dance), loop_one_move(dance)]
    joints = np.stack([m.joints for m in motions])
    poses = np.stack([m.poses for m in motions])
    fast = validity_values(joints, FPS, poses)
    for i, motion in enumerate(motions):
        reference = metrics_baseline.baseline_validity(motion.joints, FPS, motion.poses)
        assert_matches_baseline({k: v[i] for k, v in fast.items()}, reference)
        # the angular speed is measured in float64 on the frames that matter: exact, not float32
        assert fast["angular_speed"][i] == pytest.approx(reference["angular_speed"], rel=1e-12, abs=1e-12)


def test_float64_poses_keep_their_precision():
    """The joints are measured in float32 whatever comes in; the rotations are exact from float64 poses."""
    from a2a_cli.motion.fk import forward_kinematics

    poses, trans = metrics_baseline.smooth_random_clips(2, 100, seed=9)
    poses = poses.astype(np.float64) + np.random.default_rng(1).normal(0.0, 1e-4, poses.shape)
    joints = forward_kinematics(poses, trans.astype(np.float64))
    fast = validity_values(joints, FPS, poses)
    for i in range(2):
        reference = metrics_baseline.baseline_validity(joints[i], FPS, poses[i])
        assert_matches_baseline({k: v[i] for k, v in fast.items()}, reference)
        assert fast["angular_speed"][i] == pytest.approx(reference["angular_speed"], rel=1e-12)


def test_a_clip_and_a_clip_batch_give_the_same_values():
    poses, trans = metrics_baseline.smooth_random_clips(2, 40, seed=3)
    batch = ClipBatch.from_poses(poses, trans)
    from_batch = validity_values(batch, FPS, poses)
    from_array = validity_values(batch.joints(), FPS, poses)
    one = validity_values(batch.joints()[1], FPS, poses[1])
    for name in from_batch:
        np.testing.assert_array_equal(from_batch[name], from_array[name])
        assert np.ndim(one[name]) == 0 and float(one[name]) == pytest.approx(float(from_batch[name][1]), rel=1e-6)


def test_angular_speed_of_a_steady_spin_and_of_one_fast_frame():
    n = 120
    poses = np.zeros((n, 24, 3), dtype=np.float32)
    poses[:, 18, 1] = np.arange(n) * 0.2  # the left elbow turns 0.2 rad a frame: 6 rad/s, past 2 pi and on
    steady = Motion(poses, np.zeros((n, 3), dtype=np.float32))
    assert validity_values(steady.joints, FPS, steady.poses)["angular_speed"] == pytest.approx(6.0, rel=1e-5)
    jolt = np.zeros((n, 24, 3), dtype=np.float32)
    jolt[60:, 5, 0] = 1.0  # one step of 1 rad; the 99th percentile of 119 steps reads the two fastest
    value = validity_values(Motion(jolt, np.zeros((n, 3))).joints, FPS, jolt)["angular_speed"]
    assert value == pytest.approx(np.percentile([30.0] + [0.0] * 118, 99.0), rel=1e-9)


def test_angular_speed_is_exact_where_axis_angles_wrap_round():
    """An axis-angle near pi that flips to its other side steps far (|a' - a| near 2 pi) while the
    joint hardly turns: the bound that picks the frames to measure is loose there, on many frames of
    some clips of a batch. Every clip's value must still be the per-frame baseline's, exactly."""
    rng = np.random.default_rng(4)
    clips = []
    for flips in (0, 3, 40, 150):
        poses, trans = metrics_baseline.smooth_random_clips(1, 300, seed=flips)
        poses = poses[0].astype(np.float64)
        axis = np.array([0.0, 0.6, 0.8])
        near_pi = (np.pi - 0.01 * rng.random(300))[:, None] * axis  # the left hip turned nearly half round
        side = np.ones(300)
        side[rng.choice(300, flips, replace=False)] = -1.0  # the same rotation written the other way round
        poses[:, 1] = (near_pi * side[:, None])
        clips.append(poses.astype(np.float32))
    poses = np.stack(clips)
    joints = ClipBatch.from_poses(poses, np.zeros(poses.shape[:2] + (3,), dtype=np.float32)).joints()
    fast = validity_values(joints, FPS, poses)["angular_speed"]
    for i in range(len(clips)):
        reference = metrics_baseline.baseline_validity(joints[i], FPS, poses[i])["angular_speed"]
        assert fast[i] == pytest.approx(reference, rel=1e-12, abs=1e-12), i


_axis_angles = arrays(np.float64, (2, 3), elements=st.floats(-12.0, 12.0))


@settings(max_examples=200, deadline=None)
@given(_axis_angles)
def test_a_rotation_step_never_turns_more_than_its_axis_angle_step(pair):
    """The bound that lets the angular speed measure only a few frames exactly: d(R(a), R(b)) <= |a - b|."""
    q = axis_angle_to_quaternion(pair)
    angle = 2.0 * np.arccos(min(abs(float(q[0] @ q[1])), 1.0))
    assert angle <= np.linalg.norm(pair[1] - pair[0]) * (1 + 1e-9) + 1e-7


@settings(max_examples=150, deadline=None)
@given(
    arrays(np.float32, st.tuples(st.integers(1, 3), st.integers(1, 40)), elements=st.floats(-1e3, 1e3, width=32)),
    st.sampled_from([0.0, 5.0, 37.5, 50.0, 95.0, 99.0, 100.0]),
)
def test_percentile_and_median_are_numpys(values, percent):
    np.testing.assert_array_equal(order_stats.percentile(values, percent), np.percentile(values, percent, axis=-1))
    np.testing.assert_array_equal(order_stats.median(values), np.median(values, axis=-1))
