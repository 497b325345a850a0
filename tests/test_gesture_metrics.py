"""The gesture literature's metrics (gesture_metrics.py) against their reference definitions:
EMAGE's motion beats and BC (PantoMatrix emage_evaltools), EMAGE's L1div, GENEA's mean jerk and
acceleration; property tests on random inputs, exact values on hand-made ones."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings, strategies as st
from scipy.signal import argrelextrema

from a2a_cli.scoring.gesture_timing import null_stresses
from a2a_cli.scoring.gesture_metrics import (
    UPPER_BODY, beat_consistency, gesture_beats, joint_speeds, l1_diversity, local_minima, mean_acceleration, mean_jerk,
)

seeds = st.integers(0, 2**16)


@settings(max_examples=60, deadline=None)
@given(seed=seeds, n=st.integers(1, 80), order=st.integers(1, 9), levels=st.integers(2, 6))
def test_local_minima_are_scipys_argrelextrema(seed, n, order, levels):
    """Strict minima over +-order, edges clipped, ties never a minimum (few levels make many ties)."""
    values = np.random.default_rng(seed).integers(0, levels, (n, 3)).astype(np.float64)
    mask = local_minima(values, order)
    for column in range(3):
        expected = argrelextrema(values[:, column], np.less, order=order)[0]
        assert np.flatnonzero(mask[:, column]).tolist() == expected.tolist()


def _emage_bc(beats_per_joint, onsets, sigma):
    """EMAGE's BC.compute / GAHR, as its code loops (reference for the vectorised one)."""
    total = 0.0
    for joint in beats_per_joint:
        if joint.size == 0:
            continue
        total += sum(np.exp(-min(abs(a - b) for a in joint) ** 2 / (2 * sigma**2)) for b in onsets) / len(onsets)
    return total / len(beats_per_joint)


@settings(max_examples=60, deadline=None)
@given(seed=seeds, n_joints=st.integers(1, 13), n_onsets=st.integers(1, 20), sigma=st.sampled_from([0.1, 0.3]))
def test_beat_consistency_is_emages_gahr(seed, n_joints, n_onsets, sigma):
    rng = np.random.default_rng(seed)
    beats = [np.sort(rng.uniform(0, 10, rng.integers(0, 15))) for _ in range(n_joints)]
    onsets = np.sort(rng.uniform(0, 10, n_onsets))
    assert abs(float(beat_consistency(beats, onsets, sigma)) - _emage_bc(beats, onsets, sigma)) < 1e-12
    # Many onset sets at once give each set's BC.
    sets = np.sort(rng.uniform(0, 10, (4, n_onsets)), axis=1)
    many = beat_consistency(beats, sets, sigma)
    assert many.shape == (4,)
    assert np.allclose(many, [_emage_bc(beats, s, sigma) for s in sets], atol=1e-12)
    assert 0.0 <= many.min() and many.max() <= 1.0


def test_beat_consistency_is_one_on_the_beats_and_zero_without_motion_beats():
    onsets = np.array([1.0, 2.0, 3.5])
    assert float(beat_consistency([onsets, onsets], onsets)) == 1.0
    assert float(beat_consistency([np.array([]), onsets], onsets)) == 0.5  # a joint without beats counts 0
    assert float(beat_consistency([onsets], np.array([]))) == 0.0


def test_motion_beats_are_speed_minima_above_a_tenth_of_the_mean_speed():
    """A wrist swinging at 1 Hz (a turn every 0.5 s) has a beat at each turn; held still for the
    second half, it has none there: a minimum while still is not a beat."""
    fps = 30.0
    t = np.arange(120) / fps
    joints = np.zeros((120, 24, 3))
    # Moving along x and y out of phase: the speed dips at each x turn but never reaches 0.
    joints[:, UPPER_BODY[-1], 0] = 0.2 * np.cos(2 * np.pi * t)
    joints[:, UPPER_BODY[-1], 1] = 0.02 * np.sin(2 * np.pi * t)
    speed = joint_speeds(joints, fps)
    assert speed.shape == (120, len(UPPER_BODY))
    beats = gesture_beats(joints, fps, order_s=0.1)[-1]
    assert np.allclose(beats, [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5], atol=1 / fps)
    joints[60:, UPPER_BODY[-1]] = joints[60, UPPER_BODY[-1]]
    assert (gesture_beats(joints, fps, order_s=0.1)[-1] < 2.0).all()


@settings(max_examples=40, deadline=None)
@given(seed=seeds, n=st.integers(2, 60), shift=st.floats(-5, 5), scale=st.floats(0.01, 2.0))
def test_l1_diversity_is_emages_on_pelvis_relative_joints(seed, n, shift, scale):
    joints = np.random.default_rng(seed).normal(0, scale, (n, 24, 3))
    relative = (joints - joints[:, :1]).reshape(n, -1)
    expected = np.abs(relative - relative.mean(axis=0)).sum() / n  # EMAGE's L1div.compute / counter
    assert np.isclose(l1_diversity(joints), expected)
    assert np.isclose(l1_diversity(joints + shift), expected)  # where the body stands does not count
    assert l1_diversity(np.repeat(joints[:1], n, axis=0)) < 1e-9  # a held pose: none


def _genea(data, order, fps):
    """GENEA's compute_jerks / compute_acceleration on (T, J * 3), then the mean over joints."""
    d = np.diff(data, n=order, axis=0)
    norms = np.array([[np.linalg.norm(d[i, 3 * j : 3 * j + 3]) for j in range(d.shape[1] // 3)] for i in range(d.shape[0])])
    return float(np.mean(norms, axis=0).mean() * fps**order)


@settings(max_examples=30, deadline=None)
@given(seed=seeds, n=st.integers(4, 40), fps=st.sampled_from([20.0, 30.0, 60.0]))
def test_mean_jerk_and_acceleration_are_geneas(seed, n, fps):
    joints = np.random.default_rng(seed).normal(0, 0.3, (n, 24, 3))
    assert np.isclose(mean_jerk(joints, fps), _genea(joints.reshape(n, -1), 3, fps))
    assert np.isclose(mean_acceleration(joints, fps), _genea(joints.reshape(n, -1), 2, fps))
    upper = list(UPPER_BODY)
    assert np.isclose(mean_jerk(joints, fps, UPPER_BODY), _genea(joints[:, upper].reshape(n, -1), 3, fps))


def test_jerk_and_acceleration_of_known_motions():
    """A joint at constant speed has none; x = t^3 / 6 has jerk 1 m/s^3 exactly (third difference)."""
    fps = 30.0
    t = np.arange(30) / fps
    joints = np.zeros((30, 24, 3))
    joints[:, :, 0] = 2.0 * t[:, None]
    assert mean_acceleration(joints, fps) < 1e-9 and mean_jerk(joints, fps) < 1e-9
    joints[:, :, 0] = t[:, None] ** 3 / 6
    assert np.isclose(mean_jerk(joints, fps), 1.0)


@settings(max_examples=40, deadline=None)
@given(seed=seeds, m=st.integers(1, 25), duration=st.floats(2.0, 60.0))
def test_null_voices_keep_the_count_and_the_intervals(seed, m, duration):
    stresses = np.sort(np.random.default_rng(seed).uniform(0, duration, m))
    null = null_stresses(stresses, duration, draws=8, seed=seed)
    assert null.shape == (8, m)
    assert ((null >= 0) & (null < duration)).all() and (np.diff(null, axis=1) >= 0).all()
    # The intervals round the clip are this voice's, shuffled.
    gaps = np.sort(np.diff(np.append(stresses, stresses[0] + duration)))
    for row in null:
        assert np.allclose(np.sort(np.diff(np.append(row, row[0] + duration))), gaps, atol=1e-9)
    assert np.array_equal(null, null_stresses(stresses, duration, draws=8, seed=seed))  # deterministic
