"""Validity gates: real dancing passes every gate; each physical impossibility fails its own gate."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from a2a_cli.motion import Motion
from a2a_cli.scoring import validity
from a2a_cli.scoring.validity import all_within, check_validity, positions_in_bounds, validity_values
from support.dances import (
    beat_frames_of, plausible_dance, shifted_up, spinning_arms, static_pose, teleports, tiny_jitter,
    truncated, white_noise,
)

N = 300  # 10 s at 30 fps


def failed(motion, expected_frames=N) -> set[str]:
    return {g.name for g in check_validity(motion, expected_frames) if not g.passed}


@pytest.fixture(scope="module")
def dance():
    return plausible_dance(beat_frames_of(120, 10), N, seed=1)


@pytest.mark.parametrize("bpm,seed", [(90, 0), (120, 1), (140, 2)])
def test_plausible_dance_passes_every_gate(bpm, seed):
    gates = check_validity(plausible_dance(beat_frames_of(bpm, 10), N, seed=seed), N)
    assert [g.name for g in gates if not g.passed] == []
    assert {"frame_count", "joint_speed", "angular_speed", "floating", "penetration", "moves"} <= {g.name for g in gates}


def test_each_trick_fails_its_own_gate(dance):
    assert "moves" in failed(static_pose(N))
    assert "moves" in failed(tiny_jitter(N))
    assert {"joint_speed", "angular_speed", "jerk"} <= failed(white_noise(N))
    assert {"teleport", "root_speed"} <= failed(teleports(dance))
    assert failed(shifted_up(dance, 1.0)) == {"floating"}
    assert failed(shifted_up(dance, -0.3)) == {"penetration"}
    assert {"angular_speed", "joint_speed"} <= failed(spinning_arms(dance))
    assert failed(truncated(dance, 1)) == {"frame_count", "duration"}
    assert failed(truncated(dance, N - 30)) == {"frame_count"}
    assert failed(truncated(dance, 20), expected_frames=None) == {"duration"}


def test_too_few_frames_for_the_motion_gates_fail_the_duration_gate(dance):
    # 3 frames at 2 fps last 1.5 s, but the motion gates need 4 frames: they must not all be skipped
    motion = Motion(dance.poses[:3], dance.trans[:3], fps=2.0)
    assert failed(motion, expected_frames=None) == {"duration", "fps"}


def test_non_finite_motion_fails_without_crashing(dance):
    poses = dance.poses.copy()
    poses[10, 3, 1] = np.nan
    gates = check_validity(Motion(poses, dance.trans), N)
    assert [g.name for g in gates if not g.passed] == ["finite"]
    trans = dance.trans.copy()
    trans[5, 0] = np.inf
    assert "finite" in failed(Motion(dance.poses, trans))


def test_one_bad_joint_coordinate_fails_the_finite_gate(dance):
    """The bound check is one maximum over |x|: a single NaN, inf or absurd coordinate must still fail it."""
    for bad in (np.nan, np.inf, -np.inf, 2e4):
        joints = dance.joints.copy()
        joints[17, 5, 1] = bad
        assert not positions_in_bounds(joints), bad
        assert "finite" in failed(Motion.from_joints(joints)), bad
    assert positions_in_bounds(dance.joints) and positions_in_bounds(np.zeros((0, 24, 3)))


_SPECIAL = st.sampled_from([np.nan, np.inf, -np.inf, 9_999.0, 10_000.0, -10_000.0, 3e4, 1e19, -1e30, 0.0])


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([np.float32, np.float64, np.float16]), st.integers(0, 2000), st.data())
def test_the_finite_check_is_exact_however_it_is_taken(dtype, size, data):
    """`all_within` decides by a sum of squares where it can and by the exact check otherwise: its
    answer is always the definition's, for any mix of ordinary, huge, NaN and inf numbers."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    values = rng.normal(0.0, data.draw(st.sampled_from([1.0, 100.0, 5_000.0])), size)
    for at in data.draw(st.lists(st.integers(0, max(size - 1, 0)), max_size=3)) if size else []:
        values[at] = data.draw(_SPECIAL)
    with np.errstate(over="ignore"):
        values = values.astype(dtype)
    assert all_within(values) == bool(np.isfinite(values).all())
    assert all_within(values, 1e4) == bool(np.isfinite(values).all() and (np.abs(values) < 1e4).all())


def test_values_match_hand_computation(dance):
    trans = dance.trans.copy()
    trans[150:, 0] += 0.5  # one jump of 0.5 m between frames 149 and 150
    v = validity_values(Motion(dance.poses, trans).joints, 30.0)
    step = np.linalg.norm(trans[150] - trans[149])
    assert v["teleport"] == pytest.approx(step * 30, rel=1e-4)

    lifted = dance.trans.copy()
    lifted[100:145, 1] += 0.5  # 45 frames in the air = 1.5 s
    assert validity_values(Motion(dance.poses, lifted).joints, 30.0)["floating"] == pytest.approx(1.5)

    sunk = shifted_up(dance, -0.1)
    assert validity_values(sunk.joints, 30.0)["penetration"] == pytest.approx(0.1, abs=1e-4)


def test_bone_stretch_catches_joints_moving_apart_but_tolerates_estimator_noise(dance):
    rng = np.random.default_rng(0)
    noisy = dance.joints + rng.normal(0, 0.03, dance.joints.shape).astype(np.float32)
    assert "bone_stretch" in failed(Motion.from_joints(noisy))
    slightly = dance.joints + rng.normal(0, 0.005, dance.joints.shape).astype(np.float32)
    assert failed(Motion.from_joints(slightly)) == set()
    assert "bone_stretch" not in failed(Motion.from_joints(dance.joints))


def test_batch_equals_one_clip_at_a_time(dance):
    clips = np.stack([dance.joints, shifted_up(dance, 0.4).joints, static_pose(N).joints])
    batch = validity_values(clips, 30.0)
    for i in range(3):
        single = validity_values(clips[i], 30.0)
        for name, value in single.items():
            assert batch[name][i] == pytest.approx(value, rel=1e-5, abs=1e-7), name


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.booleans(), min_size=0, max_size=30), min_size=1, max_size=4).filter(lambda r: len({len(x) for x in r}) == 1))
def test_longest_run_matches_a_plain_loop(rows):
    def plain(row):
        best = cur = 0
        for flag in row:
            cur = cur + 1 if flag else 0
            best = max(best, cur)
        return best

    got = validity._longest_run(np.array(rows, dtype=bool).reshape(len(rows), -1))
    assert got.tolist() == [plain(r) for r in rows]


@pytest.mark.parametrize("fps,passes", [(1.0, False), (23.9, False), (24.0, True), (30.0, True), (240.0, True), (241.0, False)])
def test_frame_rate_gate(fps, passes):
    gate = next(g for g in check_validity(Motion(np.zeros((60, 24, 3)), np.zeros((60, 3)), fps=fps)) if g.name == "fps")
    assert gate.passed is passes and gate.value == fps


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([0.0, 9_990.0, 9_998.5, 9_999.5, 10_000.5, 3e5, np.nan, np.inf]),
       st.sampled_from([0.5, 3.0, 2e4, 1e20, np.nan]), st.integers(0, 2**31 - 1))
def test_the_finite_gate_of_a_motion_with_rotations_is_the_definition(root_x, pose_scale, seed):
    """Without reading the joints where FK keeps them inside the bound, the finite gate must still be
    "every number finite and every joint within 10 km": roots near the bound (where an arm may
    reach past it), absurd rotations, NaN anywhere."""
    rng = np.random.default_rng(seed)
    poses = rng.normal(0.0, 0.3, (20, 24, 3)).astype(np.float32)
    poses[rng.integers(20), rng.integers(24), rng.integers(3)] = pose_scale
    trans = rng.normal(0.0, 1.0, (20, 3)).astype(np.float32)
    trans[:, 0] += root_x
    motion = Motion(poses, trans)
    with np.errstate(all="ignore"):
        finite = next(g for g in validity.header_gates(motion) if g.name == "finite")
        if root_x == 0.0 and pose_scale < 10:
            assert motion._joints is None  # an ordinary motion's joints are not even computed for the gate
        joints = motion.joints
        exact = bool(np.isfinite(poses).all() and np.isfinite(trans).all() and np.isfinite(joints).all()
                     and (np.abs(joints) < 1e4).all())
    assert finite.passed == exact
