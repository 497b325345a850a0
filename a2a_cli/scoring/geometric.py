"""Geometric features (32 per clip), the input of FID_g and Dist_g (Bailando `manual_new.py`).

Mueller et al.'s boolean relational features ("is the right hand in front of the body", "is the
left knee bent", "is the root moving fast", ...), evaluated on frames 1..T-1 (velocity terms use
the frame before) and averaged over those frames: each feature is the fraction of frames where it
holds. Reproduced from Bailando's code, quirks included, so that the numbers match:
- thresholds are multiples of the SMPL template's humerus length, shoulder width and hip width,
  measured between its rest-pose joints exactly as the code does;
- the velocity features divide by a frame time of 1/120 s (the code's default) whatever the
  clip's real rate;
- the "move" features measure the velocity of their third joint (the code passes j3 where j4 was
  meant), so columns 4 and 5 (counting from 0) are the same number;
- angles are strict: inside (low, high) degrees; a zero-length vector makes a feature false.
A few vectors recur (neck to root in five features): each joint-to-joint length is computed once
per batch and kept; the vectors themselves are cheaper to recompute than to keep (kept, their
megabytes pushed the rest out of the cache and made the features 15% slower).
Positions are in metres, y up, SMPL joint order.
"""

from __future__ import annotations

import numpy as np

from a2a_cli.motion.skeleton import (
    L_ANKLE, L_ELBOW, L_FOOT, L_HIP, L_KNEE, L_SHOULDER, L_WRIST, NECK, PELVIS, R_ANKLE, R_ELBOW, R_FOOT,
    R_HIP, R_KNEE, R_SHOULDER, R_WRIST, SPINE1, SPINE3,
)
from a2a_cli.scoring.clip_batch import ClipBatch, as_clip_batch

__all__ = ["GEOMETRIC_FRAME_TIME", "HIP_WIDTH", "HUMERUS", "N_GEOMETRIC", "SHOULDER_WIDTH", "geometric_features"]

GEOMETRIC_FRAME_TIME = 1.0 / 120.0
N_GEOMETRIC = 32

# The SMPL template's rest joints that Bailando measures its body scales between.
_L_SHOULDER_REST = np.array([1.99113488e-01, 2.36807942e-01, -1.80702247e-02])
_L_ELBOW_REST = np.array([4.54445392e-01, 2.21158922e-01, -4.10167128e-02])
_R_SHOULDER_REST = np.array([-1.91692337e-01, 2.36928746e-01, -1.23055102e-02])
_L_HIP_REST = np.array([5.64076714e-02, -3.23069185e-01, 1.09197125e-02])
_R_HIP_REST = np.array([-6.24834076e-02, -3.31302464e-01, 1.50412619e-02])
HUMERUS = float(np.linalg.norm(_L_SHOULDER_REST - _L_ELBOW_REST))
SHOULDER_WIDTH = float(np.linalg.norm(_L_SHOULDER_REST - _R_SHOULDER_REST))
HIP_WIDTH = float(np.linalg.norm(_L_HIP_REST - _R_HIP_REST))


def geometric_features(joints: np.ndarray | ClipBatch, frame_time: float = GEOMETRIC_FRAME_TIME) -> np.ndarray:
    """(T, 24, 3) -> (32,), or a batch (..., T, 24, 3) -> (..., 32), float32."""
    batch = as_clip_batch(joints, min_frames=2)
    with np.errstate(divide="ignore", invalid="ignore"):  # zero-length vectors: NaN, so the feature is false
        return _features(batch, frame_time)


def _features(batch: ClipBatch, frame_time: float) -> np.ndarray:
    f = _Frames(batch, frame_time)
    hl, sw, hw = HUMERUS, SHOULDER_WIDTH, HIP_WIDTH
    chest_rising = f.move(SPINE1, SPINE3, SPINE3, 1.8 * hl)  # Bailando names j4 (a wrist) but moves j3
    features = [
        f.nmove(NECK, R_HIP, L_HIP, R_WRIST, 1.8 * hl),
        f.nmove(NECK, L_HIP, R_HIP, L_WRIST, 1.8 * hl),
        f.nplane(SPINE3, NECK, NECK, R_WRIST, 0.2 * hl),
        f.nplane(SPINE3, NECK, NECK, L_WRIST, 0.2 * hl),
        chest_rising,  # ("belly", "chest", "chest", "rwrist")
        chest_rising,  # ("belly", "chest", "chest", "lwrist")
        f.angle(R_ELBOW, R_SHOULDER, R_ELBOW, R_WRIST, 0, 110),
        f.angle(L_ELBOW, L_SHOULDER, L_ELBOW, L_WRIST, 0, 110),
        f.nplane(L_SHOULDER, R_SHOULDER, L_WRIST, R_WRIST, 2.5 * sw),
        f.move(L_WRIST, R_WRIST, R_WRIST, 1.4 * hl),
        f.move(R_WRIST, PELVIS, L_WRIST, 1.4 * hl),
        f.move(L_WRIST, PELVIS, R_WRIST, 1.4 * hl),
        f.fast(R_WRIST, 2.5 * hl),
        f.fast(L_WRIST, 2.5 * hl),
        f.plane(PELVIS, L_HIP, L_FOOT, R_ANKLE, 0.38 * hl),
        f.plane(PELVIS, R_HIP, R_FOOT, L_ANKLE, 0.38 * hl),
        f.above_lowest(R_ANKLE) > 1.2 * hl,  # nplane(zero, y, y_min, rankle, 1.2 hl)
        f.above_lowest(L_ANKLE) > 1.2 * hl,
        f.nplane(L_HIP, R_HIP, L_ANKLE, R_ANKLE, 2.1 * hw),
        f.angle(R_KNEE, R_HIP, R_KNEE, R_ANKLE, 0, 110),
        f.angle(L_KNEE, L_HIP, L_KNEE, L_ANKLE, 0, 110),
        f.fast(R_ANKLE, 2.5 * hl),
        f.fast(L_ANKLE, 2.5 * hl),
        f.angle(NECK, PELVIS, R_SHOULDER, R_ELBOW, 25, 180),
        f.angle(NECK, PELVIS, L_SHOULDER, L_ELBOW, 25, 180),
        f.angle(NECK, PELVIS, R_HIP, R_KNEE, 50, 180),
        f.angle(NECK, PELVIS, L_HIP, L_KNEE, 50, 180),
        f.plane(R_ANKLE, NECK, L_ANKLE, PELVIS, 0.5 * hl),
        f.angle_to_up(NECK, PELVIS, 70, 110),  # angle(neck, root, zero, y_unit)
        -f.above_lowest(R_WRIST) > -1.2 * hl,  # nplane(zero, -y, y_min, rwrist, -1.2 hl)
        -f.above_lowest(L_WRIST) > -1.2 * hl,
        f.fast(PELVIS, 2.3 * hl),
    ]
    counts = np.stack([np.count_nonzero(flag, axis=0) for flag in features], axis=-1)  # (B, 32)
    return batch.per_clip((counts / (batch.n_frames - 1)).astype(np.float32))


class _Frames:
    """Bailando's feature primitives on frames 1..T-1 of every clip at once; each returns a boolean
    (T-1, B). Vectors are (3, T-1, B) blocks; the lengths of those between two joints are kept."""

    def __init__(self, batch: ClipBatch, frame_time: float):
        self.current = batch.positions[:, :, 1:]  # (24, 3, T-1, B)
        self.step = batch.step  # from the previous frame to the current one
        self.speed = batch.joint_speed
        self.frame_time = frame_time
        self.lowest = self.current[:, 1].min(axis=0)  # Bailando's "y_min": the lowest joint's height
        self._lengths: dict[tuple[int, int], np.ndarray] = {}

    def vector(self, a: int, b: int) -> np.ndarray:
        """From joint a to joint b in the current frame."""
        return self.current[b] - self.current[a]

    def length(self, a: int, b: int) -> np.ndarray:
        if (a, b) not in self._lengths:
            self._lengths[a, b] = _norm(self.vector(a, b))
        return self._lengths[a, b]

    def move(self, j1: int, j2: int, j3: int, threshold: float) -> np.ndarray:
        """Speed of j3 relative to j1 along the direction j1 -> j2 exceeds threshold."""
        return self._along(self.step[j3] - self.step[j1], self.vector(j1, j2), self.length(j1, j2), threshold)

    def nmove(self, j1: int, j2: int, j3: int, j4: int, threshold: float) -> np.ndarray:
        """Speed of j4 relative to j1 along the normal of the plane (j1, j2, j3) exceeds threshold."""
        normal = _cross(self.vector(j1, j3), self.vector(j1, j2))
        return self._along(self.step[j4] - self.step[j1], normal, _norm(normal), threshold)

    def _along(self, displacement: np.ndarray, direction: np.ndarray, length: np.ndarray, threshold: float):
        return _exceeds(_dot(displacement, direction), length, threshold * self.frame_time)

    def fast(self, j: int, threshold: float) -> np.ndarray:
        return self.speed[j] > threshold * self.frame_time

    def above_lowest(self, j: int) -> np.ndarray:
        return self.current[j, 1] - self.lowest

    def nplane(self, n1: int, n2: int, a: int, point: int, threshold: float) -> np.ndarray:
        """Signed distance of point from the plane through a with normal n1 -> n2 exceeds threshold."""
        return _exceeds(_dot(self.vector(n1, n2), self.vector(a, point)), self.length(n1, n2), threshold)

    def plane(self, j1: int, j2: int, j3: int, j4: int, threshold: float) -> np.ndarray:
        """Signed distance of j4 from the plane through j1, j2, j3 exceeds threshold."""
        normal = _cross(self.vector(j1, j3), self.vector(j1, j2))
        return _exceeds(_dot(normal, self.vector(j1, j4)), _norm(normal), threshold)

    def angle(self, j1: int, j2: int, k1: int, k2: int, low_deg: float, high_deg: float) -> np.ndarray:
        """The angle between j1 -> j2 and k1 -> k2 lies strictly inside (low, high) degrees."""
        cosine = _dot(self.vector(j1, j2), self.vector(k1, k2)) / (self.length(j1, j2) * self.length(k1, k2))
        return _cosine_within(cosine, low_deg, high_deg)

    def angle_to_up(self, j1: int, j2: int, low_deg: float, high_deg: float) -> np.ndarray:
        """`angle` between j1 -> j2 and the up axis (0, 1, 0)."""
        return _cosine_within(self.vector(j1, j2)[1] / self.length(j1, j2), low_deg, high_deg)


def _exceeds(projection: np.ndarray, length: np.ndarray, threshold: float) -> np.ndarray:
    """projection / length > threshold, without the division: for the positive thresholds of the
    features a zero-length vector (projection 0) is false, as the code's NaN comparison is."""
    assert threshold > 0
    return projection > threshold * length


def _cosine_within(cosine: np.ndarray, low_deg: float, high_deg: float) -> np.ndarray:
    """low < arccos(cosine) < high in degrees, tested on cosines (arccos is decreasing); a NaN
    cosine (a zero-length vector) is false, as the code's arccos test is."""
    return (cosine < np.cos(np.radians(low_deg))) & (cosine > np.cos(np.radians(high_deg)))


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.einsum("c...,c...->...", a, b)


def _norm(a: np.ndarray) -> np.ndarray:
    return np.sqrt(_dot(a, a))


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.empty_like(a)
    for i, j, k in ((0, 1, 2), (1, 2, 0), (2, 0, 1)):
        np.multiply(a[j], b[k], out=out[i])
        out[i] -= a[k] * b[j]
    return out
