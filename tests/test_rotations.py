"""Rotation conversions: round trips on random rotations (including angles near 0 and near pi),
and agreement with scipy's independent implementation."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from a2a_cli.motion.rotations import (
    Y_UP_TO_Z_UP,
    Z_UP_TO_Y_UP,
    axis_angle_to_matrix,
    axis_angle_to_quaternion,
    euler_to_matrix,
    matrix_to_6d,
    matrix_to_axis_angle,
    matrix_to_euler_zyx,
    matrix_to_quaternion,
    quaternion_to_axis_angle,
    quaternion_to_matrix,
    sixd_to_matrix,
)

TOL = 1e-5

unit = st.floats(-1.0, 1.0, allow_nan=False)
angles = st.one_of(
    st.floats(0.0, np.pi),
    st.floats(0.0, 1e-4),  # near 0: Taylor branches
    st.floats(np.pi - 1e-4, np.pi),  # near pi: axis sign ambiguity
)


@st.composite
def axis_angles(draw):
    axis = np.array([draw(unit), draw(unit), draw(unit)])
    norm = np.linalg.norm(axis)
    if norm < 1e-3:
        axis, norm = np.array([0.0, 0.0, 1.0]), 1.0
    return axis / norm * draw(angles)


def assert_rotation(m):
    m = np.asarray(m, dtype=np.float64)
    np.testing.assert_allclose(m @ np.swapaxes(m, -1, -2), np.broadcast_to(np.eye(3), m.shape), atol=TOL)
    np.testing.assert_allclose(np.linalg.det(m), 1.0, atol=TOL)


@settings(max_examples=300, deadline=None)
@given(axis_angles())
def test_axis_angle_matrix_quaternion_round_trips(aa):
    m = axis_angle_to_matrix(aa)
    assert_rotation(m)
    np.testing.assert_allclose(m, Rotation.from_rotvec(aa).as_matrix(), atol=TOL)
    back = matrix_to_axis_angle(m)
    # Near pi, aa and -aa are the same rotation: compare as matrices, and as vectors below pi.
    np.testing.assert_allclose(axis_angle_to_matrix(back), m, atol=TOL)
    if np.linalg.norm(aa) < np.pi - 1e-3:
        np.testing.assert_allclose(back, aa, atol=TOL)
    q = matrix_to_quaternion(m)
    assert q[0] >= 0
    np.testing.assert_allclose(np.linalg.norm(q), 1.0, atol=TOL)
    q_direct = axis_angle_to_quaternion(aa)
    same_sign = 1.0 if q @ q_direct >= 0 else -1.0  # q and -q are one rotation
    np.testing.assert_allclose(same_sign * q, q_direct, atol=TOL)
    np.testing.assert_allclose(quaternion_to_matrix(q), m, atol=TOL)
    np.testing.assert_allclose(axis_angle_to_matrix(quaternion_to_axis_angle(q)), m, atol=TOL)


@settings(max_examples=200, deadline=None)
@given(axis_angles())
def test_6d_round_trip_and_layout(aa):
    m = axis_angle_to_matrix(aa)
    d6 = matrix_to_6d(m)
    np.testing.assert_allclose(d6, np.concatenate([m[0], m[1]]), atol=0)  # first two ROWS
    np.testing.assert_allclose(sixd_to_matrix(d6), m, atol=TOL)


@settings(max_examples=200, deadline=None)
@given(axis_angles(), st.floats(-1e-2, 1e-2), st.floats(0.5, 2.0))
def test_6d_of_a_perturbed_matrix_is_still_a_rotation(aa, noise, scale):
    d6 = matrix_to_6d(axis_angle_to_matrix(aa)) * scale + noise
    assert_rotation(sixd_to_matrix(d6))


@settings(max_examples=300, deadline=None)
@given(axis_angles())
def test_euler_zyx_round_trip(aa):
    m = axis_angle_to_matrix(aa)
    zyx = matrix_to_euler_zyx(m)
    assert -np.pi / 2 - 1e-9 <= zyx[1] <= np.pi / 2 + 1e-9
    np.testing.assert_allclose(euler_to_matrix(zyx, "ZYX"), m, atol=TOL)


@pytest.mark.parametrize("y", [np.pi / 2, -np.pi / 2, np.pi / 2 - 1e-7])
def test_euler_zyx_at_gimbal_lock(y):
    m = euler_to_matrix(np.array([0.7, y, -0.3]), "ZYX")
    np.testing.assert_allclose(euler_to_matrix(matrix_to_euler_zyx(m), "ZYX"), m, atol=TOL)


@pytest.mark.parametrize("order", ["XYZ", "XZY", "YXZ", "YZX", "ZXY", "ZYX"])
def test_euler_orders_match_scipy_intrinsic(order):
    rng = np.random.default_rng(1)
    ang = rng.uniform(-np.pi, np.pi, (50, 3))
    np.testing.assert_allclose(euler_to_matrix(ang, order), Rotation.from_euler(order, ang).as_matrix(), atol=1e-12)


def test_euler_rejects_a_bad_order():
    with pytest.raises(ValueError, match="permutation of XYZ"):
        euler_to_matrix(np.zeros(3), "XXY")


def test_conversions_keep_leading_shapes():
    aa = np.random.default_rng(2).normal(size=(4, 5, 24, 3))
    m = axis_angle_to_matrix(aa)
    assert m.shape == (4, 5, 24, 3, 3)
    assert matrix_to_quaternion(m).shape == (4, 5, 24, 4)
    assert matrix_to_6d(m).shape == (4, 5, 24, 6)
    np.testing.assert_allclose(axis_angle_to_matrix(matrix_to_axis_angle(m)), m, atol=TOL)
    np.testing.assert_allclose(m[2, 3, 7], axis_angle_to_matrix(aa[2, 3, 7]), atol=1e-12)


def test_float32_input_stays_float32_and_accurate():
    aa = np.random.default_rng(3).normal(size=(100, 3)).astype(np.float32)
    m = axis_angle_to_matrix(aa)
    assert m.dtype == np.float32
    np.testing.assert_allclose(m, Rotation.from_rotvec(aa.astype(np.float64)).as_matrix(), atol=1e-5)


def test_up_axis_matrices_take_y_to_z_and_back():
    np.testing.assert_allclose(Y_UP_TO_Z_UP @ [0.0, 1.0, 0.0], [0.0, 0.0, 1.0])
    np.testing.assert_allclose(Y_UP_TO_Z_UP @ [0.0, 0.0, 1.0], [0.0, -1.0, 0.0])  # forward z -> -y
    np.testing.assert_allclose(Z_UP_TO_Y_UP @ Y_UP_TO_Z_UP, np.eye(3))
    assert_rotation(Y_UP_TO_Z_UP)
