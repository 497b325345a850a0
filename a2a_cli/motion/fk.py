"""Forward kinematics on the SMPL skeleton, vectorised over frames and clips.

Scoring a batch of clips is dominated by FK, so it is written for speed: the poses are laid out
joint-major (one contiguous array per joint and component), cut into cache-sized chunks, and
rotations are built and multiplied as (3, 3, n) blocks of elementwise arithmetic, which numpy runs
as long SIMD loops instead of millions of tiny strided 3x3 matrix products.
"""

from __future__ import annotations

import math

import numpy as np

from a2a_cli.motion.skeleton import N_JOINTS, Skeleton, smpl_skeleton

__all__ = ["forward_kinematics", "forward_kinematics_joint_major"]

# Frames per chunk: large enough to amortise numpy's per-call cost, small enough that the
# working set (the global rotations still needed by unplaced children) stays in the L2 cache.
_CHUNK = 16384
_SQRT2 = math.sqrt(2.0)


def forward_kinematics(poses: np.ndarray, trans: np.ndarray, skeleton: Skeleton | None = None) -> np.ndarray:
    """Joint positions in metres from axis-angle poses (..., 24, 3) and root translation (..., 3).

    The root joint sits at `trans`; each child is its parent's position plus the parent's global
    rotation applied to the child's rest offset. Returns (..., 24, 3) in the dtype of `poses`
    (float32 unless float64 comes in), so batches of clips stay light.
    """
    poses = np.asarray(poses)
    if poses.shape[-2:] != (N_JOINTS, 3):
        raise ValueError(f"poses must be (..., {N_JOINTS}, 3), got {poses.shape}")
    dtype = _dtype(poses)
    lead = poses.shape[:-2]
    flat_poses = poses.reshape(-1, N_JOINTS * 3)
    flat_trans = np.asarray(trans).reshape(-1, 3)
    out = np.empty((flat_poses.shape[0], N_JOINTS, 3), dtype=dtype)
    for start in range(0, flat_poses.shape[0], _CHUNK):
        chunk = slice(start, start + _CHUNK)
        # Joint-major: row 3*j + c holds component c of joint j for every frame in the chunk.
        aa = np.ascontiguousarray(flat_poses[chunk].T, dtype=dtype)
        root = np.ascontiguousarray(flat_trans[chunk].T, dtype=dtype)
        out[chunk] = _fk_joint_major(aa, root, skeleton or smpl_skeleton()).transpose(2, 0, 1)
    return out.reshape(lead + (N_JOINTS, 3))


def forward_kinematics_joint_major(aa: np.ndarray, root: np.ndarray, skeleton: Skeleton | None = None) -> np.ndarray:
    """FK in the layout the metrics work in: axis-angle (72, n) and root (3, n) -> positions (24, 3, n).

    Row 3*j + c of `aa` is component c of joint j for every frame; the frames may be in any order
    (the metrics put time before clips), and come back in the same order. Batches larger than one
    cache-sized chunk are done chunk by chunk.
    """
    skeleton = skeleton or smpl_skeleton()
    n = aa.shape[1]
    if n <= _CHUNK:
        return _fk_joint_major(aa, root, skeleton)
    out = np.empty((N_JOINTS, 3, n), dtype=aa.dtype)
    for start in range(0, n, _CHUNK):
        chunk = slice(start, start + _CHUNK)
        out[:, :, chunk] = _fk_joint_major(aa[:, chunk], root[:, chunk], skeleton)
    return out


def _dtype(poses: np.ndarray) -> type:
    return np.float64 if poses.dtype == np.float64 else np.float32


def _fk_joint_major(aa: np.ndarray, root: np.ndarray, skeleton: Skeleton) -> np.ndarray:
    """FK on one chunk: axis-angle (72, n) and root (3, n) -> positions (24, 3, n).

    Rotations are (3, 3, n) blocks; einsum runs the 3x3 products over n in one pass each. A joint
    whose children are all leaves (ankles, wrists, neck) needs no global rotation of its own: its
    children are placed by rotating their offsets, first by its local rotation, then by its
    parent's global one (two matrix-vector passes instead of a matrix product and one).
    """
    n = aa.shape[1]
    pos = np.empty((N_JOINTS, 3, n), dtype=aa.dtype)
    pos[0] = root
    offsets = skeleton.offsets.astype(aa.dtype)
    glob: list[np.ndarray | None] = [None] * N_JOINTS
    glob[0] = _rotations(aa[0:3])
    for j in range(1, N_JOINTS):
        p, children = skeleton.parents[j], skeleton.children[j]
        if glob[p] is not None:  # else j is a leaf its parent has placed
            np.add(pos[p], np.einsum("ikn,k->in", glob[p], offsets[j]), out=pos[j])
        if children:  # a leaf's own rotation moves no joint, so it is never computed
            local = _rotations(aa[3 * j : 3 * j + 3])
            if any(skeleton.children[c] for c in children):
                glob[j] = np.einsum("ikn,kjn->ijn", glob[p], local)
            else:
                for c in children:
                    turned = np.einsum("ikn,k->in", local, offsets[c])
                    np.add(pos[j], np.einsum("ikn,kn->in", glob[p], turned), out=pos[c])
        if j == skeleton.children[p][-1]:
            glob[p] = None  # its last child is placed: free it, keeping the working set in cache
    return pos


def _rotations(aa: np.ndarray) -> np.ndarray:
    """Rotation matrices (3, 3, n) of axis-angle vectors (3, n).

    Goes through the unit quaternion (cos t/2, sin(t/2) axis): no 1 - cos(t) cancellation for
    small angles and no branch at zero, where sin(t/2)/t tends to 1/2. The quaternion is scaled
    by sqrt(2) so that the usual 2*q_a*q_b terms are plain products; only the nine products the
    matrix uses are taken, and its diagonal 1 - 2(q_b^2 + q_c^2) is cos(t) + 2 q_a^2.
    """
    theta = np.sqrt(np.einsum("cn,cn->n", aa, aa))
    half = theta * 0.5
    w = np.cos(half)
    w *= _SQRT2
    k = np.sin(half)
    np.maximum(theta, 1e-30, out=half)
    half *= 1.0 / _SQRT2
    k /= half
    x, y, z = v = aa * k  # sqrt(2) sin(t/2) * axis
    wx, wy, wz = v * w
    r = np.empty((3, 3) + theta.shape, dtype=aa.dtype)
    diagonal = r.reshape((9,) + theta.shape)[0::4]
    np.multiply(v, v, out=diagonal)
    diagonal += np.cos(theta)
    # Off the diagonal, in place: r[a, b] = q_a q_b - w q_c and r[b, a] = q_a q_b + w q_c for the
    # cyclic (a, b, c) = (x, y, z), (y, z, x), (z, x, y).
    for (row, col), q_row, q_col, w_other in (((0, 1), x, y, wz), ((1, 2), y, z, wx), ((2, 0), z, x, wy)):
        np.multiply(q_row, q_col, out=r[row, col])
        np.add(r[row, col], w_other, out=r[col, row])
        r[row, col] -= w_other
    return r
