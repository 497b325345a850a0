"""arccos, arcsin and arctan2 of arrays as short polynomials, for the realism traits' per-frame angles.

numpy computes these one value at a time on CPUs without AVX-512 (10-17 ns a value here, where its
sine and cosine take under 2): the knee and elbow bends, the torso's twist and lean and the
body's turning, measured on every frame of every answer, were a fifth of the window traits' time.
These take 3-4 ns a value, in the input's precision, within 1e-6 rad of the exact angle (float32
rounding of the input is already 6e-8 of it).

The polynomials are Abramowitz and Stegun's, Handbook of Mathematical Functions (1964):
4.4.46 for arccos on [0, 1] (|error| <= 2e-8 rad) and 4.4.49 for arctan on [0, 1] (<= 1e-8 rad),
extended to the whole range by the usual symmetries. NaN propagates.
"""

from __future__ import annotations

import numpy as np

__all__ = ["arccos", "arcsin", "arctan2"]

# A&S 4.4.46: arccos(x) = sqrt(1 - x) (a0 + a1 x + ... + a7 x^7), 0 <= x <= 1
_ARCCOS = (1.5707963050, -0.2145988016, 0.0889789874, -0.0501743046, 0.0308918810, -0.0170881256, 0.0066700901,
           -0.0012624911)
# A&S 4.4.49: arctan(x) = x (1 + a2 x^2 + a4 x^4 + ... + a16 x^16), 0 <= x <= 1
_ARCTAN = (1.0, -0.3333314528, 0.1999355085, -0.1420889944, 0.1065626393, -0.0752896400, 0.0429096138, -0.0161657367,
           0.0028662257)


def _polynomial(coefficients: tuple[float, ...], x: np.ndarray) -> np.ndarray:
    """sum_k coefficients[k] x^k by Horner's rule, in x's precision, in place on one new array."""
    dtype = x.dtype.type
    out = x * dtype(coefficients[-1])
    for c in coefficients[-2:0:-1]:
        out += dtype(c)
        out *= x
    out += dtype(coefficients[0])
    return out


def _floating(x) -> np.ndarray:
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(np.float64)


def arccos(x) -> np.ndarray:
    """arccos of values in [-1, 1] (radians, [0, pi]), any float array (values outside give NaN)."""
    x = _floating(x)
    half_pi = x.dtype.type(np.pi / 2)
    magnitude = np.abs(x)
    angle = _polynomial(_ARCCOS, magnitude)
    np.negative(magnitude, out=magnitude)
    magnitude += 1
    angle *= np.sqrt(magnitude, out=magnitude)  # arccos |x|
    # arccos x = pi/2 + sign(x) (arccos |x| - pi/2): pi - arccos |x| for negative x
    angle -= half_pi
    angle *= np.copysign(x.dtype.type(1), x)
    angle += half_pi
    return angle


def arctan2(y, x) -> np.ndarray:
    """The angle (radians, [-pi, pi]) of the point (x, y) from the x axis, for arrays that broadcast,
    as np.arctan2, signed zeros included (arctan2(+0, -0) = pi)."""
    y, x = np.broadcast_arrays(_floating(y), _floating(x))
    dtype = np.result_type(y, x).type
    across, along = np.abs(y).astype(dtype, copy=False), np.abs(x).astype(dtype, copy=False)
    ratio = np.minimum(across, along)
    ratio /= np.maximum(np.maximum(across, along), np.finfo(dtype).smallest_subnormal)  # in [0, 1]; 0 at the origin
    angle = _polynomial(_ARCTAN, ratio * ratio)
    angle *= ratio  # the angle from the nearer axis
    # the reflections as arithmetic on 0/1 masks: np.where on float arrays takes 10x longer
    _reflect(angle, dtype(np.pi / 2), (across > along).astype(dtype))  # nearer the y axis: pi/2 - angle
    _reflect(angle, dtype(np.pi), np.signbit(x).astype(dtype))  # x negative (or -0): pi - angle
    return np.copysign(angle, y, out=angle)


def _reflect(angle: np.ndarray, mirror, where: np.ndarray) -> None:
    """angle <- mirror - angle where `where` is 1, in place (where it is 0, angle stays exactly)."""
    change = angle * -2
    change += mirror
    change *= where
    angle += change


def arcsin(x) -> np.ndarray:
    """arcsin of values in [-1, 1] (radians, [-pi/2, pi/2]): pi/2 - arccos x."""
    x = _floating(x)
    angle = arccos(x)
    np.subtract(x.dtype.type(np.pi / 2), angle, out=angle)
    return angle
