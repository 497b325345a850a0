"""Kinetic (72) and geometric (32) features: shapes, invariances, hand-checked values, and
agreement with the per-frame statement of Bailando's definitions in the benchmark."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from a2a_cli.errors import InputError
from a2a_cli.motion.skeleton import L_WRIST, R_ANKLE, R_WRIST
from a2a_cli.scoring.geometric import HUMERUS, N_GEOMETRIC, geometric_features
from a2a_cli.scoring.kinetic import kinetic_features
from support import metrics_baseline
from metrics_support import carried_along, random_clips, rest_joints

T = 60


def test_shapes_and_dtypes():
    clips = random_clips(6, T, seed=1)
    for features, width in ((kinetic_features, 72), (geometric_features, N_GEOMETRIC)):
        assert features(clips[0]).shape == (width,)
        assert features(clips).shape == (6, width)
        assert features(clips.reshape(2, 3, T, 24, 3)).shape == (2, 3, width)
        assert features(clips).dtype == np.float32


# The papers' code computes energy expenditure with v1 = p[k] - p[k-1] / ft (kinetic.py): on top of
# the second difference, each window adds (1 - ft) / ft^2 = 3540 times the joint's position
# relative to the root at frame 0.
QUIRK = (1 - 1 / 60) * 60**2


def test_a_static_pose_has_no_kinetic_energy_but_the_codes_expenditure_of_its_shape():
    joints = rest_joints(T)
    features = kinetic_features(joints).reshape(24, 3)
    np.testing.assert_array_equal(features[:, :2], 0.0)
    distance = np.linalg.norm(joints[0] - joints[0, 0], axis=-1)
    np.testing.assert_allclose(features[:, 2], QUIRK * distance, rtol=1e-6)
    assert features[0, 2] == 0.0  # the root itself sits at its frame-0 position


def test_one_joint_at_constant_speed_by_hand():
    # The left wrist drifts 1 cm per frame along x and 0.5 cm along y; frame time 1/60 s:
    # horizontal energy (0.01 * 60)^2 = 0.36, vertical (0.005 * 60)^2 = 0.09; the other joints stay still.
    joints = rest_joints(T)
    joints[:, L_WRIST] += np.arange(T)[:, None] * np.array([0.01, 0.005, 0.0])
    features = kinetic_features(joints).reshape(24, 3)
    np.testing.assert_allclose(features[L_WRIST, :2], [0.36, 0.09], rtol=1e-6, atol=1e-9)  # float32 output
    assert np.count_nonzero(np.delete(features, L_WRIST, axis=0)[:, :2]) == 0
    np.testing.assert_array_equal(np.delete(features, L_WRIST, axis=0), np.delete(kinetic_features(rest_joints(T)).reshape(24, 3), L_WRIST, axis=0))


def test_constant_acceleration_by_hand():
    # x = a k^2 / 2 with a = 1 mm per frame^2, every other joint at the origin: each window's second
    # difference gives a / (1/60)^2 = 3.6, and the code's v1 adds QUIRK times the window's mean x.
    joints = np.zeros((T, 24, 3))
    x = 0.5 * 0.001 * np.arange(T) ** 2
    joints[:, R_ANKLE, 0] = x
    windows = [range(max(i - 2, 1), min(i + 2, T - 2) + 1) for i in range(1, T)]
    expected = np.mean([3.6 + QUIRK * x[list(w)].mean() for w in windows])
    assert kinetic_features(joints).reshape(24, 3)[R_ANKLE, 2] == pytest.approx(expected, rel=1e-5)


@settings(max_examples=15, deadline=None)
@given(dx=st.floats(-10, 10), dy=st.floats(-2, 2), dz=st.floats(-10, 10))
def test_translation_changes_nothing(dx, dy, dz):
    joints = random_clips(1, T, seed=2)[0]
    moved = joints + np.array([dx, dy, dz])
    np.testing.assert_allclose(kinetic_features(moved), kinetic_features(joints), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(geometric_features(moved), geometric_features(joints))


def test_geometric_features_are_fractions_of_frames():
    features = geometric_features(random_clips(3, T, seed=4))
    assert ((features >= 0) & (features <= 1)).all()
    np.testing.assert_allclose(features * (T - 1), np.round(features * (T - 1)), atol=1e-4)
    np.testing.assert_array_equal(features[:, 4], features[:, 5])  # Bailando's j3-for-j4 quirk


def test_fast_features_by_hand():
    # Threshold for the root: 2.3 humerus lengths per second at the code's 1/120 s frame time.
    limit = 2.3 * HUMERUS / 120  # metres per frame
    fast = geometric_features(carried_along(np.outer(np.arange(T), [1.05 * limit, 0, 0])))
    slow = geometric_features(carried_along(np.outer(np.arange(T), [0.5 * limit, 0, 0])))
    assert fast[31] == 1.0 and slow[31] == 0.0
    # wrists and ankles have a higher bar (2.5 humerus lengths per second)
    for index in (12, 13, 21, 22):
        assert fast[index] == 0.0 and slow[index] == 0.0
    very_fast = geometric_features(carried_along(np.outer(np.arange(T), [3 * limit, 0, 0])))
    assert very_fast[[12, 13, 21, 22, 31]].tolist() == [1.0] * 5


def test_standing_rest_pose_by_hand():
    features = geometric_features(rest_joints(T))
    # upright torso: the neck-to-root direction is at 180 degrees from up, outside (70, 110)
    assert features[28] == 0.0
    # straight elbows and knees (about 180 degrees) are not "bent" (0, 110)
    assert features[[6, 7, 19, 20]].tolist() == [0.0] * 4
    # the ankles are near the floor (not 1.2 humerus above the lowest joint), and the T-pose
    # holds the wrists at shoulder height (not within 1.2 humerus of the lowest joint)
    assert features[[16, 17]].tolist() == [0.0, 0.0]
    assert features[[29, 30]].tolist() == [0.0, 0.0]
    lowered = rest_joints(T)
    lowered[:, [L_WRIST, R_WRIST], 1] = 0.2
    assert geometric_features(lowered)[[29, 30]].tolist() == [1.0, 1.0]
    assert np.count_nonzero(features[[0, 1, 4, 5, 9, 10, 11, 12, 13, 21, 22, 31]]) == 0  # no motion


def test_batch_equals_per_clip_and_matches_the_per_frame_baseline():
    clips = random_clips(3, 40, seed=11)
    bench = metrics_baseline
    kinetic, geometric = kinetic_features(clips), geometric_features(clips)
    for clip, k, g in zip(clips, kinetic, geometric):
        np.testing.assert_array_equal(k, kinetic_features(clip))
        np.testing.assert_array_equal(g, geometric_features(clip))
        np.testing.assert_allclose(k, bench.baseline_kinetic(clip), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(g, bench.baseline_geometric(clip), atol=1e-6)


@settings(max_examples=15, deadline=None)
@given(n_frames=st.integers(3, 12), seed=st.integers(0, 100))
def test_short_clips_window_edges_match_the_baseline(n_frames, seed):
    clip = random_clips(1, n_frames, seed=seed)[0]
    np.testing.assert_allclose(kinetic_features(clip), metrics_baseline.baseline_kinetic(clip), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(geometric_features(clip), metrics_baseline.baseline_geometric(clip), atol=1e-6)


def test_float32_joints_give_the_same_features():
    clips = random_clips(2, T, seed=12)
    np.testing.assert_allclose(kinetic_features(clips.astype(np.float32)), kinetic_features(clips), rtol=1e-3, atol=1e-4)
    assert np.abs(geometric_features(clips.astype(np.float32)) - geometric_features(clips)).max() <= 2 / (T - 1)


def test_too_short_or_malformed_is_a_clear_error():
    with pytest.raises(InputError, match="at least 3 frames"):
        kinetic_features(rest_joints(2))
    with pytest.raises(InputError, match="joint positions must be"):
        geometric_features(np.zeros((T, 24, 2)))


def test_degenerate_joints_give_false_features_without_warnings():
    """Zero-length vectors (every joint at one point) make their features false, silently: a
    RuntimeWarning would print on the CLI's stderr."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        features = geometric_features(np.zeros((T, 24, 3), dtype=np.float32))
    assert features.shape == (N_GEOMETRIC,) and np.isfinite(features).all()
