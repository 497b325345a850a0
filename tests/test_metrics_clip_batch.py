"""ClipBatch: the metrics' shared layout gives the same numbers as plain joint arrays."""

import numpy as np
import pytest

from a2a_cli.errors import InputError
from a2a_cli.motion.fk import forward_kinematics
from a2a_cli.scoring.beats import beat_alignment_batch, kinetic_velocity
from a2a_cli.scoring.clip_batch import ClipBatch
from a2a_cli.scoring.geometric import geometric_features
from a2a_cli.scoring.kinetic import kinetic_features
from a2a_cli.scoring.pfc import physical_foot_contact
from support import metrics_baseline


def test_from_poses_is_fk_in_the_joint_major_layout():
    poses, trans = metrics_baseline.smooth_random_clips(3, 50, seed=4)
    batch = ClipBatch.from_poses(poses, trans)
    joints = forward_kinematics(poses, trans)
    assert (batch.n_clips, batch.n_frames, batch.lead) == (3, 50, (3,))
    np.testing.assert_array_equal(batch.joints(), joints)
    np.testing.assert_array_equal(ClipBatch.from_joints(joints).positions, batch.positions)
    single = ClipBatch.from_poses(poses[1], trans[1])
    assert single.lead == () and single.joints().shape == (50, 24, 3)


def test_every_metric_gives_the_same_numbers_from_a_batch_or_from_arrays():
    poses, trans = metrics_baseline.smooth_random_clips(3, 60, seed=6)
    batch = ClipBatch.from_poses(poses, trans)
    joints = batch.joints()
    music = [np.arange(k, 60, 10) for k in range(3)]
    assert beat_alignment_batch(batch, music, 30.0) == beat_alignment_batch(joints, music, 30.0)
    np.testing.assert_array_equal(physical_foot_contact(batch), physical_foot_contact(joints))
    np.testing.assert_array_equal(kinetic_features(batch), kinetic_features(joints))
    np.testing.assert_array_equal(geometric_features(batch), geometric_features(joints))
    np.testing.assert_array_equal(kinetic_velocity(batch), kinetic_velocity(joints))


def test_steps_and_speeds_are_frame_differences():
    joints = np.random.default_rng(0).normal(size=(2, 10, 24, 3))
    batch = ClipBatch.from_joints(joints)
    np.testing.assert_allclose(batch.step, np.diff(joints, axis=1).transpose(2, 3, 1, 0))
    np.testing.assert_allclose(batch.joint_speed, np.linalg.norm(np.diff(joints, axis=1), axis=-1).transpose(2, 1, 0))


def test_a_batch_of_clips_is_laid_out_as_their_stack_and_its_pose_deviation_the_same_from_either_layout():
    """The judge lays its batch out clip by clip (`from_clips`), an array batch from the array
    (`from_joints`); a batch built from joint-major positions alone reads the pose deviation from
    them: the same positions and the same numbers, in the positions' precision."""
    joints = (np.random.default_rng(1).normal(size=(3, 12, 24, 3)) * 3).astype(np.float32)
    given = ClipBatch.from_joints(joints)
    clips = ClipBatch.from_clips(list(joints))
    laid_out = ClipBatch(given.positions, given.lead)  # positions only
    np.testing.assert_array_equal(given.positions, joints.transpose(2, 3, 1, 0))
    np.testing.assert_array_equal(clips.positions, given.positions)
    assert clips.channels is not None and laid_out.channels is None
    assert given.pose_deviation.dtype == np.float32
    np.testing.assert_array_equal(given.pose_deviation, laid_out.pose_deviation)
    np.testing.assert_array_equal(clips.pose_deviation, laid_out.pose_deviation)
    np.testing.assert_array_equal(ClipBatch.from_joints(joints[1]).pose_deviation, given.pose_deviation[1:2])
    assert ClipBatch.from_joints(joints.astype(np.float64)).pose_deviation.dtype == np.float64
    assert ClipBatch.from_clips(list(joints.astype(np.float64))).positions.dtype == np.float64
    with pytest.raises(InputError, match="one length"):
        ClipBatch.from_clips([joints[0], joints[1, :10]])


def test_pose_deviation_is_centred_on_each_clips_mean_pose():
    joints = (np.random.default_rng(2).normal(size=(2, 50, 24, 3)) + 5.0).astype(np.float32)
    deviation = ClipBatch.from_joints(joints).pose_deviation
    relative = (joints[:, :, 1:].astype(np.float64) - joints[:, :, :1]).reshape(2, 50, 69).transpose(0, 2, 1)
    np.testing.assert_allclose(deviation, relative - relative.mean(axis=-1, keepdims=True), atol=2e-6)
    np.testing.assert_allclose(deviation.mean(axis=-1, dtype=np.float64), 0.0, atol=1e-6)


def test_bad_input():
    with pytest.raises(InputError, match="joint positions must be"):
        ClipBatch.from_joints(np.zeros((10, 24)))
    with pytest.raises(InputError, match="poses must be"):
        ClipBatch.from_poses(np.zeros((24, 3)), np.zeros(3))
    with pytest.raises(ValueError, match="joint-major"):
        ClipBatch(np.zeros((24, 3, 10)))


def test_score_motion_lays_out_a_clip_once_for_the_gates_and_every_metric(monkeypatch):
    """The gates, PFC, BAS, energy and realism share one float32 batch (they once made five), and each
    gives the number it gives on its own for the motion's joints as the Motion keeps them (float32);
    only the kinetic z-score against reference statistics lays out a float64 copy."""
    from a2a_cli.examples import synth_song
    from a2a_cli.audio import analyze
    from a2a_cli.audio.rhythm import steady_beat_grid
    from a2a_cli.motion import Motion
    from a2a_cli.scoring import score_motion
    from a2a_cli.scoring.beats import beat_alignment
    from a2a_cli.scoring.fid import build_reference_stats

    poses, trans = metrics_baseline.smooth_random_clips(3, 90, seed=5)
    audio = analyze(synth_song(120, 3.0, 22050), 22050)
    stats = build_reference_stats(forward_kinematics(poses[1:], trans[1:]))
    motion = Motion(poses[0], trans[0])
    made = []
    original_init = ClipBatch.__init__

    def counting_init(self, positions, lead=()):
        made.append(positions.dtype)
        original_init(self, positions, lead)

    monkeypatch.setattr(ClipBatch, "__init__", counting_init)
    report = score_motion(motion, audio, reference_stats=stats)
    assert list(map(str, made)) == ["float32", "float64"]
    joints = motion.joints  # the same numbers as each metric on its own
    assert joints.dtype == np.float32
    assert report.metrics["pfc"] == physical_foot_contact(joints)
    # the judge aligns to the tracked beats fitted to a steady grid (its audio frames are at 30 fps too)
    assert report.metrics["bas"] == beat_alignment(joints, steady_beat_grid(audio.beat_frames, audio.tempo_bpm), 30.0).bas
