"""Rotation conversions, vectorised over any leading shape.

Conventions: axis-angle is a 3-vector (axis times angle in radians); matrices act on column
vectors; quaternions are (w, x, y, z) with w >= 0 when produced here; the 6D form is the first
two rows of the matrix, stored as (..., 6) = row 0 then row 1 (pytorch3d's convention, which
EDGE's 151-column vectors use);
Euler angles are in radians and `order` names the axes from left to right of the product, so
"ZYX" means R = Rz @ Ry @ Rx (the order of BVH channels `Zrotation Yrotation Xrotation`).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "Y_UP_TO_Z_UP", "Z_UP_TO_Y_UP", "axis_angle_to_matrix", "axis_angle_to_quaternion", "euler_to_matrix", "frame_of", "matrix_to_6d", "matrix_to_axis_angle", "matrix_to_euler_zyx", "matrix_to_quaternion", "quaternion_to_axis_angle", "quaternion_to_matrix", "rotation_between", "sixd_to_matrix", "slerp",
]

_EPS = 1e-8


def axis_angle_to_matrix(aa: np.ndarray) -> np.ndarray:
    """Rodrigues' formula; exact near zero through Taylor terms. (..., 3) -> (..., 3, 3)."""
    aa = np.asarray(aa)
    dtype = aa.dtype if aa.dtype in (np.float32, np.float64) else np.float64
    aa = aa.astype(dtype, copy=False)
    x, y, z = aa[..., 0], aa[..., 1], aa[..., 2]
    theta2 = x * x + y * y + z * z
    theta = np.sqrt(theta2)
    small = theta < 1e-4
    safe = np.where(small, 1.0, theta)
    # a = sin(t)/t, b = (1 - cos(t))/t^2, with their series for tiny angles.
    a = np.where(small, 1.0 - theta2 / 6.0, np.sin(safe) / safe)
    b = np.where(small, 0.5 - theta2 / 24.0, (1.0 - np.cos(safe)) / (safe * safe))
    out = np.empty(aa.shape[:-1] + (3, 3), dtype=dtype)
    out[..., 0, 0] = 1.0 - b * (y * y + z * z)
    out[..., 0, 1] = b * x * y - a * z
    out[..., 0, 2] = b * x * z + a * y
    out[..., 1, 0] = b * x * y + a * z
    out[..., 1, 1] = 1.0 - b * (x * x + z * z)
    out[..., 1, 2] = b * y * z - a * x
    out[..., 2, 0] = b * x * z - a * y
    out[..., 2, 1] = b * y * z + a * x
    out[..., 2, 2] = 1.0 - b * (x * x + y * y)
    return out


def matrix_to_quaternion(m: np.ndarray) -> np.ndarray:
    """Shepperd's method, choosing the best-conditioned pivot per element. (..., 3, 3) -> (..., 4)."""
    m = np.asarray(m, dtype=np.float64)
    m00, m11, m22 = m[..., 0, 0], m[..., 1, 1], m[..., 2, 2]
    trace = m00 + m11 + m22
    cand = np.stack([
        np.stack([1.0 + trace, m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] - m[..., 0, 1]], -1),
        np.stack([m[..., 2, 1] - m[..., 1, 2], 1.0 + m00 - m11 - m22, m[..., 0, 1] + m[..., 1, 0], m[..., 0, 2] + m[..., 2, 0]], -1),
        np.stack([m[..., 0, 2] - m[..., 2, 0], m[..., 0, 1] + m[..., 1, 0], 1.0 - m00 + m11 - m22, m[..., 1, 2] + m[..., 2, 1]], -1),
        np.stack([m[..., 1, 0] - m[..., 0, 1], m[..., 0, 2] + m[..., 2, 0], m[..., 1, 2] + m[..., 2, 1], 1.0 - m00 - m11 + m22], -1),
    ], -2)  # (..., 4, 4): row k is 4 q_k q
    pivot = np.argmax(np.stack([trace, m00, m11, m22], -1), axis=-1)
    q = np.take_along_axis(cand, pivot[..., None, None], axis=-2)[..., 0, :]
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    return np.where(q[..., :1] < 0, -q, q)


def quaternion_to_matrix(q: np.ndarray) -> np.ndarray:
    """(..., 4) (w, x, y, z), normalised here -> (..., 3, 3)."""
    q = np.asarray(q, dtype=np.float64)
    q = q / np.maximum(np.linalg.norm(q, axis=-1, keepdims=True), _EPS)
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    out = np.empty(q.shape[:-1] + (3, 3))
    out[..., 0, 0] = 1 - 2 * (y * y + z * z)
    out[..., 0, 1] = 2 * (x * y - z * w)
    out[..., 0, 2] = 2 * (x * z + y * w)
    out[..., 1, 0] = 2 * (x * y + z * w)
    out[..., 1, 1] = 1 - 2 * (x * x + z * z)
    out[..., 1, 2] = 2 * (y * z - x * w)
    out[..., 2, 0] = 2 * (x * z - y * w)
    out[..., 2, 1] = 2 * (y * z + x * w)
    out[..., 2, 2] = 1 - 2 * (x * x + y * y)
    return out


def quaternion_to_axis_angle(q: np.ndarray) -> np.ndarray:
    """(..., 4) -> (..., 3), angle in [0, pi]."""
    q = np.asarray(q, dtype=np.float64)
    q = np.where(q[..., :1] < 0, -q, q)
    v = q[..., 1:]
    s = np.linalg.norm(v, axis=-1)
    angle = 2.0 * np.arctan2(s, q[..., 0])
    # angle / s -> 2 / w as s -> 0
    scale = np.where(s > 1e-8, angle / np.maximum(s, 1e-12), 2.0 / np.maximum(q[..., 0], 1e-12))
    return v * scale[..., None]


def axis_angle_to_quaternion(aa: np.ndarray) -> np.ndarray:
    """Unit quaternions (..., 4), w first, of axis-angle rotations `aa` (..., 3) in radians."""
    aa = np.asarray(aa, dtype=np.float64)
    theta = np.linalg.norm(aa, axis=-1, keepdims=True)
    half = 0.5 * theta
    # sin(t/2)/t -> 1/2 - t^2/48 near zero
    k = np.where(theta > 1e-8, np.sin(half) / np.maximum(theta, 1e-12), 0.5 - theta * theta / 48.0)
    return np.concatenate([np.cos(half), aa * k], axis=-1)


def matrix_to_axis_angle(m: np.ndarray) -> np.ndarray:
    """Axis-angle vectors (..., 3) in radians, of rotation matrices `m` (..., 3, 3)."""
    return quaternion_to_axis_angle(matrix_to_quaternion(m))


def matrix_to_6d(m: np.ndarray) -> np.ndarray:
    """The 6D rotation of rotation matrices `m` (..., 3, 3): their first two rows, (..., 6) (pytorch3d's layout)."""
    m = np.asarray(m)
    return np.concatenate([m[..., 0, :], m[..., 1, :]], axis=-1)


def sixd_to_matrix(d6: np.ndarray) -> np.ndarray:
    """Gram-Schmidt on the two stored rows, so any (..., 6) maps to a proper rotation."""
    d6 = np.asarray(d6, dtype=np.float64)
    a, b = d6[..., :3], d6[..., 3:]
    r0 = a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), _EPS)
    b = b - np.sum(r0 * b, axis=-1, keepdims=True) * r0
    r1 = b / np.maximum(np.linalg.norm(b, axis=-1, keepdims=True), _EPS)
    r2 = np.cross(r0, r1)
    return np.stack([r0, r1, r2], axis=-2)


# For each axis: where its 1 stands in the matrix, and where cos, -sin and sin stand (row, column).
_ELEMENTARY_LAYOUT = {
    "X": (0, ((1, 1), (2, 2)), (1, 2), (2, 1)),
    "Y": (1, ((0, 0), (2, 2)), (2, 0), (0, 2)),
    "Z": (2, ((0, 0), (1, 1)), (0, 1), (1, 0)),
}


def _elementary(axis: str, angle: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotations by `angle` (radians, any shape) about the coordinate axis named `axis`."""
    if axis not in _ELEMENTARY_LAYOUT:
        raise ValueError(f"unknown rotation axis {axis!r}")
    one_at, cos_at, minus_sin_at, sin_at = _ELEMENTARY_LAYOUT[axis]
    c, s = np.cos(angle), np.sin(angle)
    out = np.zeros(np.shape(angle) + (3, 3))
    out[..., one_at, one_at] = 1.0
    for row, col in cos_at:
        out[..., row, col] = c
    out[..., minus_sin_at[0], minus_sin_at[1]] = -s
    out[..., sin_at[0], sin_at[1]] = s
    return out


def euler_to_matrix(angles: np.ndarray, order: str = "ZYX") -> np.ndarray:
    """Intrinsic Euler angles (radians), (..., 3) in the order named -> (..., 3, 3)."""
    angles = np.asarray(angles, dtype=np.float64)
    if sorted(order) != ["X", "Y", "Z"]:
        raise ValueError(f"Euler order must be a permutation of XYZ, got {order!r}")
    out = _elementary(order[0], angles[..., 0])
    for i in (1, 2):
        out = out @ _elementary(order[i], angles[..., i])
    return out


def matrix_to_euler_zyx(m: np.ndarray) -> np.ndarray:
    """Angles (z, y, x) in radians with R = Rz @ Ry @ Rx; y in [-pi/2, pi/2]."""
    m = np.asarray(m, dtype=np.float64)
    cy = np.hypot(m[..., 0, 0], m[..., 1, 0])
    y = np.arctan2(-m[..., 2, 0], cy)
    regular = cy > 1e-9
    z = np.where(regular, np.arctan2(m[..., 1, 0], m[..., 0, 0]), np.arctan2(-m[..., 0, 1], m[..., 1, 1]))
    x = np.where(regular, np.arctan2(m[..., 2, 1], m[..., 2, 2]), 0.0)
    return np.stack([z, y, x], axis=-1)


# y-up (SMPL, AIST++, BVH) <-> z-up (EDGE): a rotation of +90 degrees about x takes y to z.
Y_UP_TO_Z_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
Z_UP_TO_Y_UP = Y_UP_TO_Z_UP.T


def slerp(q0: np.ndarray, q1: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Spherical interpolation of unit quaternions (..., 4) along the shorter arc; `weight` (0 at q0,
    1 at q1) broadcasts against (..., 1). Returns unit quaternions (..., 4)."""
    dot = np.sum(q0 * q1, axis=-1, keepdims=True)
    q1 = np.where(dot < 0, -q1, q1)
    dot = np.clip(np.abs(dot), -1.0, 1.0)
    theta = np.arccos(dot)
    sin = np.sin(theta)
    close = sin < 1e-6
    a = np.where(close, 1.0 - weight, np.sin((1.0 - weight) * theta) / np.where(close, 1.0, sin))
    b = np.where(close, weight, np.sin(weight * theta) / np.where(close, 1.0, sin))
    out = a * q0 + b * q1
    return out / np.linalg.norm(out, axis=-1, keepdims=True)


def frame_of(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Rotation(s) (..., 3, 3) whose columns are `first` normalised, `second` orthogonalised to it and
    normalised, and their cross product. first, second: (..., 3) vectors, not parallel."""
    e1 = first / np.linalg.norm(first, axis=-1, keepdims=True)
    e2 = second - np.sum(second * e1, axis=-1, keepdims=True) * e1
    e2 = e2 / np.maximum(np.linalg.norm(e2, axis=-1, keepdims=True), 1e-9)
    return np.stack([e1, e2, np.cross(e1, e2)], axis=-1)


def rotation_between(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The smallest rotation(s) (..., 3, 3) turning the direction of `u` onto that of `v` (..., 3 each,
    any length); opposite directions get half a turn about an axis across `u`."""
    u = u / np.linalg.norm(u, axis=-1, keepdims=True)
    v = v / np.linalg.norm(v, axis=-1, keepdims=True)
    axis = np.cross(u, v)
    sin = np.linalg.norm(axis, axis=-1, keepdims=True)
    cos = np.sum(u * v, axis=-1, keepdims=True)
    angle = np.arctan2(sin, cos)
    aa = axis * np.where(sin > 1e-12, angle / np.maximum(sin, 1e-12), 1.0)
    opposite = (sin[..., 0] <= 1e-12) & (cos[..., 0] < 0)
    if opposite.any():
        across = np.cross(u[opposite], np.eye(3)[np.argmin(np.abs(u[opposite]), axis=-1)])
        aa[opposite] = np.pi * across / np.linalg.norm(across, axis=-1, keepdims=True)
    return axis_angle_to_matrix(aa)
