"""The polynomial arccos, arcsin and arctan2 the realism traits use: numpy's angles to within 1e-6
rad everywhere on their domains, exact at the ends, in the input's precision."""

import numpy as np
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

from a2a_cli.scoring import fast_trig

TOLERANCE = 1e-6  # rad: float32 rounding of an angle near pi is 2.4e-7

_unit = st.floats(-1.0, 1.0, width=32)
_any = st.floats(width=32, allow_nan=False, allow_infinity=False) | st.sampled_from([0.0, -0.0, 1.0, -1.0])


@settings(max_examples=200, deadline=None)
@given(arrays(np.float32, st.integers(1, 64), elements=_unit), st.sampled_from([np.float32, np.float64]))
def test_arccos_and_arcsin_are_numpys_to_within_a_microradian(values, dtype):
    values = values.astype(dtype)
    exact = values.astype(np.float64)
    for fast, slow in ((fast_trig.arccos, np.arccos), (fast_trig.arcsin, np.arcsin)):
        got = fast(values)
        assert got.dtype == dtype
        np.testing.assert_allclose(got, slow(exact), rtol=0, atol=TOLERANCE)


@settings(max_examples=300, deadline=None)
@given(arrays(np.float32, 32, elements=_any), arrays(np.float32, 32, elements=_any))
def test_arctan2_is_numpys_to_within_a_microradian_in_every_quadrant(y, x):
    got = fast_trig.arctan2(y, x)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, np.arctan2(y.astype(np.float64), x.astype(np.float64)), rtol=0, atol=TOLERANCE)


def test_arctan2_of_signed_zeros_is_numpys():
    zeros = np.array([0.0, -0.0], dtype=np.float32)
    y, x = np.meshgrid(zeros, zeros)
    np.testing.assert_array_equal(fast_trig.arctan2(y, x), np.arctan2(y, x))
    np.testing.assert_array_equal(np.signbit(fast_trig.arctan2(y, x)), np.signbit(np.arctan2(y, x)))


def test_the_ends_are_exact_and_nan_propagates():
    ends = np.array([1.0, -1.0], dtype=np.float32)
    np.testing.assert_array_equal(fast_trig.arccos(ends), np.array([0.0, np.pi], dtype=np.float32))
    np.testing.assert_array_equal(fast_trig.arcsin(ends), np.array([np.pi / 2, -np.pi / 2], dtype=np.float32))
    axes = fast_trig.arctan2(np.array([0.0, 1.0, 0.0, -1.0]), np.array([1.0, 0.0, -1.0, 0.0]))
    np.testing.assert_allclose(axes, [0.0, np.pi / 2, np.pi, -np.pi / 2], rtol=0, atol=1e-15)
    assert np.isnan(fast_trig.arccos(np.array([np.nan]))).all()
    assert np.isnan(fast_trig.arctan2(np.array([np.nan, 1.0]), np.array([1.0, np.nan]))).all()
