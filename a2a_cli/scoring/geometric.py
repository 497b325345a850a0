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
  meant), so features 5 and 6 are the same number;
- angles are strict: inside (low, high) degrees; a zero-length vector makes a feature false.
Positions are in metres, y up, SMPL joint order.
"""

from __future__ import annotations

import numpy as np

from a2a_cli.motion.skeleton import (
    L_ANKLE, L_ELBOW, L_FOOT, L_HIP, L_KNEE, L_SHOULDER, L_WRIST, NECK, PELVIS, R_ANKLE, R_ELBOW, R_FOOT,
    R_HIP, R_KNEE, R_SHOULDER, R_WRIST, SPINE1, SPINE3,
)
from a2a_cli.scoring.clip_batch import ClipBatch, as_clip_batch

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
    f = _Frames(batch, frame_time)
    hl, sw, hw = HUMERUS, SHOULDER_WIDTH, HIP_WIDTH
    features = [
        f.nmove(NECK, R_HIP, L_HIP, R_WRIST, 1.8 * hl),
        f.nmove(NECK, L_HIP, R_HIP, L_WRIST, 1.8 * hl),
        f.nplane(f.cur(SPINE3), f.cur(NECK), f.cur(NECK), f.cur(R_WRIST), 0.2 * hl),
        f.nplane(f.cur(SPINE3), f.cur(NECK), f.cur(NECK), f.cur(L_WRIST), 0.2 * hl),
        f.move(SPINE1, SPINE3, SPINE3, 1.8 * hl),  # Bailando: ("belly", "chest", "chest", "rwrist")
        f.move(SPINE1, SPINE3, SPINE3, 1.8 * hl),  # Bailando: ("belly", "chest", "chest", "lwrist")
        f.angle(f.cur(R_ELBOW), f.cur(R_SHOULDER), f.cur(R_ELBOW), f.cur(R_WRIST), 0, 110),
        f.angle(f.cur(L_ELBOW), f.cur(L_SHOULDER), f.cur(L_ELBOW), f.cur(L_WRIST), 0, 110),
        f.nplane(f.cur(L_SHOULDER), f.cur(R_SHOULDER), f.cur(L_WRIST), f.cur(R_WRIST), 2.5 * sw),
        f.move(L_WRIST, R_WRIST, R_WRIST, 1.4 * hl),
        f.move(R_WRIST, PELVIS, L_WRIST, 1.4 * hl),
        f.move(L_WRIST, PELVIS, R_WRIST, 1.4 * hl),
        f.fast(R_WRIST, 2.5 * hl),
        f.fast(L_WRIST, 2.5 * hl),
        f.plane(PELVIS, L_HIP, L_FOOT, R_ANKLE, 0.38 * hl),
        f.plane(PELVIS, R_HIP, R_FOOT, L_ANKLE, 0.38 * hl),
        f.above_lowest(R_ANKLE) > 1.2 * hl,
        f.above_lowest(L_ANKLE) > 1.2 * hl,
        f.nplane(f.cur(L_HIP), f.cur(R_HIP), f.cur(L_ANKLE), f.cur(R_ANKLE), 2.1 * hw),
        f.angle(f.cur(R_KNEE), f.cur(R_HIP), f.cur(R_KNEE), f.cur(R_ANKLE), 0, 110),
        f.angle(f.cur(L_KNEE), f.cur(L_HIP), f.cur(L_KNEE), f.cur(L_ANKLE), 0, 110),
        f.fast(R_ANKLE, 2.5 * hl),
        f.fast(L_ANKLE, 2.5 * hl),
        f.angle(f.cur(NECK), f.cur(PELVIS), f.cur(R_SHOULDER), f.cur(R_ELBOW), 25, 180),
        f.angle(f.cur(NECK), f.cur(PELVIS), f.cur(L_SHOULDER), f.cur(L_ELBOW), 25, 180),
        f.angle(f.cur(NECK), f.cur(PELVIS), f.cur(R_HIP), f.cur(R_KNEE), 50, 180),
        f.angle(f.cur(NECK), f.cur(PELVIS), f.cur(L_HIP), f.cur(L_KNEE), 50, 180),
        f.plane(R_ANKLE, NECK, L_ANKLE, PELVIS, 0.5 * hl),
        f.angle(f.cur(NECK), f.cur(PELVIS), (0.0, 0.0, 0.0), (0.0, 1.0, 0.0), 70, 110),
        -f.above_lowest(R_WRIST) > -1.2 * hl,  # nplane(zero, -y, y_min, rwrist, -1.2 hl)
        -f.above_lowest(L_WRIST) > -1.2 * hl,
        f.fast(PELVIS, 2.3 * hl),
    ]
    fractions = np.stack([np.count_nonzero(flag, axis=-1) for flag in features], axis=-1) / (batch.n_frames - 1)
    return batch.per_clip(fractions.astype(np.float32))


class _Frames:
    """Bailando's feature primitives, evaluated on all clips and frames 1..T-1 at once.

    Vectors are 3-tuples of (B, T-1) arrays (or scalars for the fixed points "zero" and "y").
    """

    def __init__(self, batch: ClipBatch, frame_time: float):
        self.p = batch.positions
        self.step = batch.step
        self.speed = batch.joint_speed
        self.frame_time = frame_time
        self.lowest = self.p[:, 1, :, 1:].min(axis=0)  # Bailando's "y_min": the lowest joint's height

    def cur(self, j: int) -> tuple:
        return tuple(self.p[j, c, :, 1:] for c in range(3))

    def _relative_velocity(self, origin: int, j: int) -> tuple:
        """Displacement of j relative to origin between the previous and the current frame."""
        return tuple(self.step[j, c] - self.step[origin, c] for c in range(3))

    def move(self, j1: int, j2: int, j3: int, threshold: float) -> np.ndarray:
        """Speed of j3 relative to j1 along the direction j1 -> j2 exceeds threshold."""
        return self._along(self._relative_velocity(j1, j3), _sub(self.cur(j2), self.cur(j1)), threshold)

    def nmove(self, j1: int, j2: int, j3: int, j4: int, threshold: float) -> np.ndarray:
        """Speed of j4 relative to j1 along the normal of the plane (j1, j2, j3) exceeds threshold."""
        a = self.cur(j1)
        normal = _cross(_sub(self.cur(j3), a), _sub(self.cur(j2), a))
        return self._along(self._relative_velocity(j1, j4), normal, threshold)

    def _along(self, displacement: tuple, direction: tuple, threshold: float) -> np.ndarray:
        return _dot(displacement, direction) / _norm(direction) / self.frame_time > threshold

    def fast(self, j: int, threshold: float) -> np.ndarray:
        return self.speed[j] / self.frame_time > threshold

    def above_lowest(self, j: int) -> np.ndarray:
        return self.p[j, 1, :, 1:] - self.lowest

    @staticmethod
    def nplane(n1: tuple, n2: tuple, a: tuple, point: tuple, threshold: float) -> np.ndarray:
        """Signed distance of point from the plane through a with normal n1 -> n2 exceeds threshold."""
        normal = _sub(n2, n1)
        return _dot(normal, _sub(point, a)) / _norm(normal) > threshold

    def plane(self, j1: int, j2: int, j3: int, j4: int, threshold: float) -> np.ndarray:
        """Signed distance of j4 from the plane through j1, j2, j3 exceeds threshold."""
        a = self.cur(j1)
        normal = _cross(_sub(self.cur(j3), a), _sub(self.cur(j2), a))
        return _dot(normal, _sub(self.cur(j4), a)) / _norm(normal) > threshold

    @staticmethod
    def angle(j1: tuple, j2: tuple, k1: tuple, k2: tuple, low_deg: float, high_deg: float) -> np.ndarray:
        """The angle between j1 -> j2 and k1 -> k2 lies strictly inside (low, high) degrees.

        Compared on cosines (arccos is decreasing), which is what the code's degrees test means.
        """
        u, v = _sub(j2, j1), _sub(k2, k1)
        cosine = _dot(u, v) / np.sqrt(_dot(u, u) * _dot(v, v))
        return (cosine < np.cos(np.radians(low_deg))) & (cosine > np.cos(np.radians(high_deg)))


def _sub(a: tuple, b: tuple) -> tuple:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def _dot(a: tuple, b: tuple):
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _cross(a: tuple, b: tuple) -> tuple:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def _norm(a: tuple) -> np.ndarray:
    return np.sqrt(_dot(a, a))
