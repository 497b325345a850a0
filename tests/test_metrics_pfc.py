"""PFC (EDGE) on motions whose feet and root are placed by construction, checked by hand."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from a2a_cli.errors import InputError
from a2a_cli.motion.skeleton import L_ANKLE, L_FOOT, R_ANKLE, R_FOOT
from a2a_cli.scoring.pfc import physical_foot_contact
from support import metrics_baseline
from metrics_support import carried_along, random_clips, rest_joints

T = 90


def accelerating_root(n_frames: int = T, accel: float = 0.002) -> np.ndarray:
    """Root path with constant forward (z) acceleration, in metres per frame squared."""
    k = np.arange(n_frames, dtype=np.float64)
    return np.stack([np.zeros(n_frames), np.zeros(n_frames), 0.5 * accel * k**2], axis=1)


def with_feet(joints: np.ndarray, steps: dict[int, float]) -> np.ndarray:
    """Each listed foot joint slides along x by a constant step (metres per frame) from its rest spot."""
    joints = joints.copy()
    k = np.arange(len(joints))
    for joint, step in steps.items():
        joints[:, joint, 0] = joints[0, joint, 0] + step * k
        joints[:, joint, 2] = joints[0, joint, 2]
    return joints


def test_planted_feet_score_zero_while_the_body_accelerates():
    joints = with_feet(carried_along(accelerating_root()), {L_ANKLE: 0, L_FOOT: 0, R_ANKLE: 0, R_FOOT: 0})
    assert physical_foot_contact(joints) == 0.0


def test_skating_scores_the_hand_computed_value():
    # Constant root acceleration: normalised to 1 on every frame. Left foot: ankle 1 cm, toe 3 cm
    # per frame (min 1 cm); right foot: ankle 2 cm, toe 2 cm (min 2 cm). PFC = 0.01 * 0.02 * 1 * 1e4.
    joints = with_feet(carried_along(accelerating_root()), {L_ANKLE: 0.01, L_FOOT: 0.03, R_ANKLE: 0.02, R_FOOT: 0.02})
    assert physical_foot_contact(joints) == pytest.approx(2.0, rel=1e-9)


def test_the_acceleration_is_normalised_by_its_peak_per_clip():
    # The root accelerates only during the first half: half the frames weigh 1, the rest 0.
    k = np.arange(T, dtype=np.float64)
    half = T // 2
    z = np.where(k < half, 0.001 * k**2, 0.001 * (half - 1) ** 2 + 0.002 * (half - 1) * (k - half + 1))
    root = np.stack([np.zeros(T), np.zeros(T), z], axis=1)
    joints = with_feet(carried_along(root), {L_ANKLE: 0.01, L_FOOT: 0.01, R_ANKLE: 0.01, R_FOOT: 0.01})
    accel = np.diff(z, 2)
    expected = np.mean(accel / accel.max()) * 0.01 * 0.01 * 1e4
    assert physical_foot_contact(joints) == pytest.approx(expected, rel=1e-9)


def test_falling_needs_no_support_upward_push_does():
    # EDGE clamps the upward component of the root acceleration at 0: a falling root (downward
    # acceleration only) makes sliding feet free, a rising push does not.
    k = np.arange(T, dtype=np.float64)
    steps = {L_ANKLE: 0.01, L_FOOT: 0.01, R_ANKLE: 0.01, R_FOOT: 0.01}
    falling = np.stack([np.zeros(T), -0.0005 * k**2, np.zeros(T)], axis=1)
    rising = np.stack([np.zeros(T), 0.0005 * k**2, np.zeros(T)], axis=1)
    assert physical_foot_contact(with_feet(carried_along(falling), steps)) == 0.0
    assert physical_foot_contact(with_feet(carried_along(rising), steps)) == pytest.approx(1.0, rel=1e-9)


def test_static_pose_scores_zero():
    assert physical_foot_contact(rest_joints(T)) == 0.0


@settings(max_examples=20, deadline=None)
@given(height=st.floats(0.1, 3.0), dx=st.floats(-5, 5), dz=st.floats(-5, 5))
def test_floating_or_moving_the_whole_dance_leaves_pfc_unchanged(height, dx, dz):
    """A documented weakness: PFC never looks at the floor."""
    joints = random_clips(1, 60, seed=5)[0]
    moved = joints + np.array([dx, height, dz])
    assert physical_foot_contact(moved) == pytest.approx(physical_foot_contact(joints), rel=1e-3, abs=1e-6)


def test_frame_rate_is_accounted_for():
    # The same skating motion sampled at 60 fps: half the displacement per frame, same PFC.
    steps30 = {L_ANKLE: 0.01, L_FOOT: 0.01, R_ANKLE: 0.02, R_FOOT: 0.02}
    at30 = with_feet(carried_along(accelerating_root(T, 0.002)), steps30)
    at60 = with_feet(carried_along(accelerating_root(2 * T, 0.0005)), {j: s / 2 for j, s in steps30.items()})
    assert physical_foot_contact(at30) == pytest.approx(2.0, rel=1e-9)
    assert physical_foot_contact(at60, fps=60.0) == pytest.approx(2.0, rel=1e-9)


def test_batch_equals_per_clip_and_matches_the_per_frame_baseline():
    clips = random_clips(3, 60, seed=7)
    batch = physical_foot_contact(clips)
    assert batch.shape == (3,)
    np.testing.assert_allclose(batch, [physical_foot_contact(c) for c in clips], rtol=1e-12)
    np.testing.assert_allclose(batch, [metrics_baseline.baseline_pfc(c) for c in clips], rtol=1e-4)
    assert physical_foot_contact(clips.reshape(3, 1, 60, 24, 3)).shape == (3, 1)


def test_too_short_is_a_clear_error():
    with pytest.raises(InputError, match="at least 3 frames"):
        physical_foot_contact(rest_joints(2))
