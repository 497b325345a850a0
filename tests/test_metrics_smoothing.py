"""The numpy Gaussian filter gives scipy.ndimage.gaussian_filter1d's numbers, bit for bit."""

import numpy as np
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays
from scipy.ndimage import gaussian_filter1d as scipy_filter

from a2a_cli.scoring.smoothing import gaussian_filter1d


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from([np.float32, np.float64]).flatmap(
        lambda dtype: arrays(dtype, st.tuples(st.integers(1, 3), st.integers(1, 70)),
                             elements=st.floats(-1e4, 1e4, width=32))
    ),
    st.floats(0.1, 25.0),
)
def test_same_numbers_as_scipy(values, sigma):
    """Kernels wider than the signal included: the mirrored extension repeats periodically."""
    ours = gaussian_filter1d(values, sigma)
    assert ours.dtype == values.dtype
    np.testing.assert_array_equal(ours, scipy_filter(values, sigma, axis=-1))


def test_other_axes_and_the_sigmas_the_metrics_use():
    x = np.random.default_rng(0).normal(size=(4, 300, 3))
    for sigma in (5.0, 15.0, 2.5):
        np.testing.assert_array_equal(gaussian_filter1d(x, sigma, axis=1), scipy_filter(x, sigma, axis=1))
    np.testing.assert_array_equal(gaussian_filter1d(x[0, :, 0], 5.0), scipy_filter(x[0, :, 0], 5.0))


def test_a_constant_stays_constant_and_an_impulse_spreads_into_the_kernel():
    assert np.allclose(gaussian_filter1d(np.full(50, 3.0), 4.0), 3.0)
    impulse = np.zeros(101)
    impulse[50] = 1.0
    smooth = gaussian_filter1d(impulse, 5.0)
    taps = np.arange(-20, 21)
    kernel = np.exp(-taps**2 / 50.0)
    np.testing.assert_allclose(smooth[30:71], kernel / kernel.sum(), rtol=1e-12)
    assert smooth[:30].sum() == 0.0 and abs(smooth.sum() - 1.0) < 1e-12
