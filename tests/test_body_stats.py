"""The body statistics of real dancing (realism) and the repeat residual (variety), as properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from a2a_cli.motion import Motion
from a2a_cli.scoring.body_stats import STATISTICS, body_statistics, reference_ranges
from a2a_cli.scoring.composite import repeat_residual
from support.dances import beat_frames_of, plausible_dance


def walker(n: int = 240, stride_m: float = 0.3, seed: int = 0) -> np.ndarray:
    """A body that walks while it dances (joints (n, 24, 3)): each foot in turn swings 0.3 m forward in
    half a second, lifted up to 6 cm, and stands still the other half; one stride a second per foot,
    so two steps a second; the rest of the body travels along at the same mean speed."""
    dance = plausible_dance(beat_frames_of(120, n / 30), n, seed=seed)
    joints = dance.joints.astype(np.float64).copy()
    t = np.arange(n) / 30.0
    joints[:, :, 0] += stride_m * t[:, None]
    for foot, offset in (((7, 10), 0.0), ((8, 11), 0.5)):
        cycle = t + offset
        k, u = np.floor(cycle), cycle - np.floor(cycle)
        swing = u < 0.5
        eased = np.where(swing, 0.5 - 0.5 * np.cos(np.pi * np.minimum(u / 0.5, 1.0)), 1.0)
        x = stride_m * (k + eased)
        for joint in foot:
            joints[:, joint, 0] = joints[0, joint, 0] + x - x[0]
            joints[:, joint, 1] += np.where(swing, 0.06 * np.sin(np.pi * u / 0.5), 0.0)
    return joints


@settings(max_examples=30, deadline=None)
@given(st.floats(-5, 5), st.floats(-5, 5), st.floats(0, 2 * np.pi))
def test_statistics_do_not_depend_on_where_the_dancer_stands_or_faces(dx, dz, angle):
    joints = walker()
    c, s = np.cos(angle), np.sin(angle)
    turned = joints.copy()
    turned[..., 0], turned[..., 2] = c * joints[..., 0] + s * joints[..., 2] + dx, -s * joints[..., 0] + c * joints[..., 2] + dz
    a, b = body_statistics(joints), body_statistics(turned)
    for name in STATISTICS:
        assert b[name] == pytest.approx(a[name], rel=1e-6, abs=1e-9), name


def test_a_walker_steps_and_travels_and_a_statue_does_not():
    moving = body_statistics(walker())
    assert moving["travel_m_s"] == pytest.approx(0.3, rel=0.05)
    assert 1.75 <= moving["steps_per_s"] <= 2.0  # two feet, one stride a second (the first may start mid-swing)
    still = np.repeat(walker()[:1], 240, axis=0)
    assert body_statistics(still)["steps_per_s"] == 0.0 and body_statistics(still)["travel_m_s"] == 0.0


def test_feet_that_glide_are_not_steps():
    """The same body gliding on planted feet: it travels, but no foot lifts, so nothing steps."""
    glide = np.repeat(plausible_dance(beat_frames_of(120, 8), 240, seed=1).joints[:1].astype(np.float64), 240, axis=0)
    glide[:, :, 0] += 0.5 * np.sin(np.arange(240) / 30.0 * 2 * np.pi * 0.5)[:, None]
    stats = body_statistics(glide)
    assert stats["travel_m_s"] > 0.3 and stats["steps_per_s"] == 0.0 and stats["foot_moving"] == 0.0


def test_a_foot_that_rests_then_steps_counts_one_step_each_time():
    """The left foot of a standing body rests 0.5 s, then steps 20 cm forward (lifted up to 5 cm) in 0.5 s:
    5 steps in 5 s; a body that moves only its wrists has a legs-to-arms ratio of 0."""
    from a2a_cli.motion import skeleton as sk

    standing = Motion(np.zeros((150, 24, 3), np.float32), np.tile([0.0, 0.95, 0.0], (150, 1)).astype(np.float32)).joints
    joints = standing.astype(np.float64).copy()
    swing = np.linspace(0.0, 1.0, 15)
    for k in range(5):
        for joint in (sk.L_ANKLE, sk.L_FOOT):
            joints[30 * k + 15 : 30 * k + 30, joint, 2] = 0.2 * k + 0.2 * (0.5 - 0.5 * np.cos(np.pi * swing))
            joints[30 * k + 15 : 30 * k + 30, joint, 1] += 0.05 * np.sin(np.pi * swing)
            joints[30 * k + 30 :, joint, 2] = 0.2 * (k + 1)
    joints[:15, [sk.L_ANKLE, sk.L_FOOT], 2] = 0.0
    assert np.abs(np.diff(joints, axis=0)).max() * 30 < 1.5  # a smooth foot, no jumps
    stats = body_statistics(joints)
    assert stats["steps_per_s"] == pytest.approx(5 / 5.0)
    assert 0.1 < stats["foot_moving"] < 0.5
    arms_only = standing.astype(np.float64).copy()
    arms_only[:, [sk.L_WRIST, sk.R_WRIST], 1] += 0.3 * np.sin(np.arange(150) / 5)[:, None]
    assert body_statistics(arms_only)["legs_to_arms"] == pytest.approx(0.0, abs=1e-9)




def test_the_shipped_ranges_are_the_documented_ones():
    ranges = reference_ranges()
    assert set(ranges) == set(STATISTICS)
    assert (ranges["travel_m_s"].low, ranges["travel_m_s"].high) == (0.16, 0.79)
    assert (ranges["steps_per_s"].low, ranges["steps_per_s"].high) == (0.57, 1.72)
    assert all(r.low < r.high and r.source for r in ranges.values())


@settings(max_examples=20, deadline=None)
@given(st.integers(15, 60), st.floats(0.0, 1.0))
def test_an_exact_loop_has_no_residual_whatever_the_travel(period, travel_m_s):
    joints = walker(240)
    loop = joints[np.arange(240) % period].copy()
    loop[:, :, 0] += travel_m_s * np.arange(240)[:, None] / 30.0  # travelling does not hide a loop
    assert repeat_residual(loop, 30.0) < 1e-9
    assert repeat_residual(joints, 30.0) > 0.05  # a dance that does not repeat itself exactly
