"""Reference similarity, the original subnet's reward reproduced by hand, and copy detection."""

from __future__ import annotations

import math

import numpy as np
import pytest

from a2a_cli.motion import Motion
from a2a_cli.motion.rotations import euler_to_matrix
from a2a_cli.motion.skeleton import L_COLLAR, R_COLLAR
from a2a_cli.scoring.similarity import aligned_joint_error, near_duplicate, original_subnet_score
from support.dances import REAL_TAKES, beat_frames_of, plausible_dance, real_take

N = 300
BEATS = beat_frames_of(120, 10)


@pytest.fixture(scope="module")
def dance():
    return plausible_dance(BEATS, N, seed=1)


def moved_and_turned(joints, yaw=1.0, shift=(3.0, 0.0, -2.0)):
    rot = euler_to_matrix(np.array([0.0, yaw, 0.0]), "XYZ")
    return joints @ rot.T + np.array(shift)


def test_aligned_error_ignores_position_and_heading(dance):
    assert aligned_joint_error(moved_and_turned(dance.joints), dance.joints) < 1e-5


def test_aligned_error_measures_an_offset(dance):
    raised = dance.joints + np.array([0.0, 0.1, 0.0], dtype=np.float32)
    assert aligned_joint_error(raised, dance.joints) == pytest.approx(0.1, abs=1e-5)
    other = plausible_dance(BEATS, N, seed=2)
    assert 0.05 < aligned_joint_error(other.joints, dance.joints) < 0.5


def test_original_subnet_reward_by_hand():
    ref = np.zeros((2, 24, 3))
    cand = ref + np.array([0.01, 0.02, 0.02])  # every joint 3 cm away in both frames
    cand[:, [L_COLLAR, R_COLLAR]] += 5.0  # the collars are not compared
    score = original_subnet_score(cand, ref, response_time_s=90.0)
    rmse = 22 * 3.0 / math.sqrt(3.0)
    assert score.rmse_cm == pytest.approx(rmse)
    assert score.correctness == pytest.approx(1 - rmse * 0.9 / 4000)
    assert score.speed == pytest.approx(1 / (1 + math.exp(-((1 - 90 / 180) - 0.5))))
    assert score.speed == pytest.approx(0.5)
    assert score.reward == pytest.approx(0.7 * score.correctness + 0.3 * 0.5)
    # unknown time counts as 120 s; a 1-frame answer is judged on one frame only
    one = original_subnet_score(cand[:1], ref)
    assert one.frames_compared == 1 and one.rmse_cm == pytest.approx(rmse)
    assert one.speed == pytest.approx(1 / (1 + math.exp(-((1 - 120 / 180) - 0.5))))
    far = original_subnet_score(ref + 10.0, ref)  # 1732 cm per joint * 22 joints > 4000
    assert far.correctness == 0.1
    assert original_subnet_score(ref[:0], ref).reward == 0.0


def test_original_reward_prefers_a_static_average_pose_to_a_real_dance():
    """The flaw a2a must not repeat: unaligned absolute positions reward standing still on the spot
    over a real dance that merely faces another way and stands half a metre aside. The reference is
    one real salsa dancer, the dance another (tests/data/real), the statue the reference dancer's
    average pose later in the take."""
    from a2a_cli.scoring import score_motion

    lead, follow = (real_take(name).joints for name in REAL_TAKES)
    reference = Motion.from_joints(lead[:N])
    other_dance = Motion.from_joints(moved_and_turned(follow[:N], np.pi / 2, (0.5, 0, 0)))
    static = Motion.from_joints(np.repeat(lead[N:].mean(axis=0, keepdims=True), N, axis=0))
    orig_dance = original_subnet_score(other_dance.joints, reference.joints).reward
    orig_static = original_subnet_score(static.joints, reference.joints).reward
    assert orig_static > orig_dance
    a2a_dance = score_motion(other_dance, None, reference=reference).validator_score
    a2a_static = score_motion(static, None, reference=reference).validator_score
    assert a2a_dance > 0.6 > a2a_static == 0.0


def test_near_duplicate_finds_copies_and_only_copies(dance):
    rng = np.random.default_rng(0)
    copy = moved_and_turned(dance.joints, yaw=2.0) + rng.normal(0, 0.005, dance.joints.shape)
    assert near_duplicate(copy, dance.joints)
    assert not near_duplicate(plausible_dance(BEATS, N, seed=2).joints, dance.joints)
    assert not near_duplicate(plausible_dance(beat_frames_of(100, 10), N, seed=1).joints, dance.joints)


def test_replay_distance_sees_through_moves_turns_lifts_and_delays(dance):
    from a2a_cli.scoring.similarity import REPLAY_TOLERANCE_M, replay_distance

    disguised = moved_and_turned(dance.joints, yaw=2.5, shift=(1.0, 0.04, 3.0))
    delayed = np.concatenate([disguised[:1].repeat(7, axis=0), disguised[:-7]])
    assert replay_distance(delayed, dance.joints) < 1e-3
    assert replay_distance(plausible_dance(BEATS, N, seed=2).joints, dance.joints) > 2.5 * REPLAY_TOLERANCE_M
