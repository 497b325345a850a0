"""The dancer as a shaded body built from its joints: capsules (round cones) for the limbs and the
torso, a sphere for the head with a nose that shows where the dancer faces, hands and feet.

Works from joint positions alone, so every motion file can be drawn, with or without rotations.
Each capsule is drawn as an impostor: per pixel of its screen box, the distance to its projected
axis gives the coverage (anti-aliased over one pixel), the surface normal (for the lighting of
`shading.py`) and the depth of the surface. Capsules are painted far to near (painter's algorithm
on their mean depth) with a per-pixel depth test on top, so limbs that cross or pass through the
torso are still cut right, and a limb in front always covers one behind.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from a2a_cli.motion.skeleton import (
    HEAD, L_ANKLE, L_COLLAR, L_ELBOW, L_FOOT, L_HAND, L_HIP, L_KNEE, L_SHOULDER, L_WRIST, N_JOINTS, NECK, PELVIS,
    R_ANKLE, R_COLLAR, R_ELBOW, R_FOOT, R_HAND, R_HIP, R_KNEE, R_SHOULDER, R_WRIST, SPINE1, SPINE2, SPINE3, smpl_skeleton,
)
from a2a_cli.render.shading import NormalTable
from a2a_cli.render.stage import NEAR_M, Camera

__all__ = ["CapsuleFigure", "body_points", "body_scale", "stature", "SOLE_M", "HEAD_RADIUS_M", "LEFT_RGB", "RIGHT_RGB", "CENTRE_RGB"]

LEFT_RGB = (255, 142, 60)
RIGHT_RGB = (70, 165, 255)
CENTRE_RGB = (228, 228, 234)

# Points the body is built on: the 24 joints, then these, derived from them per frame.
HEAD_CENTRE, NOSE, L_TOE, R_TOE, L_FINGERTIPS, R_FINGERTIPS, L_FLANK, R_FLANK, CHEST = range(N_JOINTS, N_JOINTS + 9)
N_POINTS = N_JOINTS + 9
HEAD_RADIUS_M = 0.105
# SMPL's head joint sits low in the skull: the head's centre is further up the neck-to-head line.
HEAD_CENTRE_ALONG_NECK = 0.8
NOSE_OUT_M = 0.09

_L, _R, _C = 0, 1, 2  # colour of a part: left, right, centre
# (from point, to point, radius at from, radius at to (metres), colour) of a young adult's build.
CAPSULES = (
    (L_HIP, R_HIP, 0.1, 0.1, _C),
    (PELVIS, SPINE2, 0.105, 0.115, _C),
    (SPINE2, CHEST, 0.12, 0.1, _C),
    (L_HIP, L_FLANK, 0.08, 0.085, _C),
    (R_HIP, R_FLANK, 0.08, 0.085, _C),
    (CHEST, L_SHOULDER, 0.075, 0.058, _C),
    (CHEST, R_SHOULDER, 0.075, 0.058, _C),
    (L_COLLAR, R_COLLAR, 0.07, 0.07, _C),
    (CHEST, NECK, 0.06, 0.055, _C),
    (NECK, HEAD_CENTRE, 0.05, 0.05, _C),
    (HEAD_CENTRE, HEAD_CENTRE, HEAD_RADIUS_M, HEAD_RADIUS_M, _C),
    (NOSE, NOSE, 0.028, 0.028, _C),
    (L_HIP, L_KNEE, 0.085, 0.06, _L),
    (L_KNEE, L_ANKLE, 0.058, 0.042, _L),
    (L_ANKLE, L_FOOT, 0.042, 0.036, _L),
    (L_FOOT, L_TOE, 0.036, 0.03, _L),
    (R_HIP, R_KNEE, 0.085, 0.06, _R),
    (R_KNEE, R_ANKLE, 0.058, 0.042, _R),
    (R_ANKLE, R_FOOT, 0.042, 0.036, _R),
    (R_FOOT, R_TOE, 0.036, 0.03, _R),
    (L_SHOULDER, L_ELBOW, 0.052, 0.042, _L),
    (L_ELBOW, L_WRIST, 0.04, 0.032, _L),
    (L_WRIST, L_FINGERTIPS, 0.036, 0.03, _L),
    (R_SHOULDER, R_ELBOW, 0.052, 0.042, _R),
    (R_ELBOW, R_WRIST, 0.04, 0.032, _R),
    (R_WRIST, R_FINGERTIPS, 0.036, 0.03, _R),
)
_COLOURS = np.array([LEFT_RGB, RIGHT_RGB, CENTRE_RGB], np.float32)


# The sole's thickness below the foot joints: where the floor is under a standing dancer.
SOLE_M = 0.03
# Bones from each foot to the head: their summed length does not change with the pose.
_LEG_TO_HEAD = ((L_FOOT, L_ANKLE, L_KNEE, L_HIP, PELVIS, SPINE1, SPINE2, SPINE3, NECK, HEAD),
                (R_FOOT, R_ANKLE, R_KNEE, R_HIP, PELVIS, SPINE1, SPINE2, SPINE3, NECK, HEAD))


def body_scale(joints: np.ndarray) -> float:
    """The dancer's size relative to SMPL's rest skeleton, from joint positions (T, 24, 3), whatever
    the poses (crouched, lying, jumping): the median length of the bone chains from the feet to the
    head over the rest skeleton's. Limbs and head are drawn this much thicker."""
    return _chain_length(np.asarray(joints, dtype=np.float64)) / _chain_length(smpl_skeleton().rest_positions()[None])


def stature(joints: np.ndarray) -> float:
    """The dancer's standing height in metres, sole to crown, from joint positions (T, 24, 3),
    whatever the poses: `body_scale` times the height of the rest pose as drawn."""
    return body_scale(joints) * _rest_stature()


def _chain_length(joints: np.ndarray) -> float:
    lengths = [np.linalg.norm(np.diff(joints[:, list(chain)], axis=1), axis=-1).sum(axis=1) for chain in _LEG_TO_HEAD]
    return float(np.median(np.mean(lengths, axis=0)))


@cache
def _rest_stature() -> float:
    rest = smpl_skeleton().rest_positions()[None]
    top = body_points(rest)[0, HEAD_CENTRE, 1] + HEAD_RADIUS_M
    return float(top - (rest[0, :, 1].min() - SOLE_M))


def body_points(joints: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """The points the capsules join, (T, N_POINTS, 3) metres, from joint positions (T, 24, 3) of a
    body `scale` times the size of SMPL's rest skeleton (see `body_scale`)."""
    j = np.asarray(joints, dtype=np.float64)
    head_centre = j[:, HEAD] + HEAD_CENTRE_ALONG_NECK * (j[:, HEAD] - j[:, NECK])
    # Facing: the body's left (x at rest) crossed with its up (y) is its forward (z).
    forward = np.cross(j[:, L_SHOULDER] - j[:, R_SHOULDER], j[:, NECK] - j[:, SPINE3])
    forward /= np.maximum(np.linalg.norm(forward, axis=-1, keepdims=True), 1e-9)
    derived = [
        head_centre,
        head_centre + NOSE_OUT_M * scale * forward,
        j[:, L_FOOT] + 0.5 * (j[:, L_FOOT] - j[:, L_ANKLE]),
        j[:, R_FOOT] + 0.5 * (j[:, R_FOOT] - j[:, R_ANKLE]),
        j[:, L_HAND] + 0.7 * (j[:, L_HAND] - j[:, L_WRIST]),
        j[:, R_HAND] + 0.7 * (j[:, R_HAND] - j[:, R_WRIST]),
        j[:, SPINE3] + 0.45 * (j[:, L_SHOULDER] - j[:, SPINE3]),
        j[:, SPINE3] + 0.45 * (j[:, R_SHOULDER] - j[:, SPINE3]),
        (j[:, SPINE3] + j[:, NECK]) / 2,
    ]
    return np.concatenate([j, np.stack(derived, axis=1)], axis=1)


class CapsuleFigure:
    """Every frame's capsules projected once; `paint` draws one frame into a canvas.

    `points_rel`: body points (T, N_POINTS, 3) relative to the camera's target in each frame;
    `scale`: the body's size relative to SMPL's rest skeleton, which the capsules' radii follow."""

    def __init__(self, points_rel: np.ndarray, camera: Camera, scale: float = 1.0):
        ends = np.array([c[:2] for c in CAPSULES])
        radii = scale * np.array([c[2:4] for c in CAPSULES], np.float64)
        self.parts = [c[4] for c in CAPSULES]
        self.table = NormalTable(_COLOURS)
        u, v, depth = camera.project(points_rel)
        a, b = ends[:, 0], ends[:, 1]
        scale = camera.focal / np.maximum(depth, NEAR_M)
        # Per frame and capsule: (ua, va, ub, vb, radius a, radius b in px, depth a, depth b, radius a, b in m)
        self.params = np.stack([u[:, a], v[:, a], u[:, b], v[:, b], radii[:, 0] * scale[:, a], radii[:, 1] * scale[:, b],
                                depth[:, a], depth[:, b], np.broadcast_to(radii[:, 0], depth[:, a].shape),
                                np.broadcast_to(radii[:, 1], depth[:, b].shape)], axis=-1)
        self.visible = (depth[:, a] > NEAR_M) & (depth[:, b] > NEAR_M)
        self.order = np.argsort(-(depth[:, a] + depth[:, b]), axis=1, kind="stable")  # far first
        reach = np.maximum(self.params[..., 4], self.params[..., 5]) + 1.0
        lo_u = np.minimum(u[:, a], u[:, b]) - reach
        hi_u = np.maximum(u[:, a], u[:, b]) + reach
        lo_v = np.minimum(v[:, a], v[:, b]) - reach
        hi_v = np.maximum(v[:, a], v[:, b]) + reach
        hidden = ~self.visible
        self.boxes = np.stack([np.where(hidden, np.inf, lo_u).min(axis=1), np.where(hidden, np.inf, lo_v).min(axis=1),
                               np.where(hidden, -np.inf, hi_u).max(axis=1), np.where(hidden, -np.inf, hi_v).max(axis=1)], axis=1)

    def bounds(self, i: int) -> tuple[float, float, float, float] | None:
        """(left, top, right, bottom) pixels the figure may cover in frame `i`, or None if none."""
        box = self.boxes[i]
        return None if not np.isfinite(box).all() else tuple(float(x) for x in box)

    def paint(self, canvas: np.ndarray, origin: tuple[int, int], i: int) -> None:
        """Draw frame `i` into `canvas` (h, w, 3) float32 in place; `origin`: the canvas's top-left pixel in the frame."""
        zbuf = np.full(canvas.shape[:2], np.inf, np.float32)
        params = self.params[i].copy()
        params[:, [0, 2]] -= origin[0]
        params[:, [1, 3]] -= origin[1]
        rows, visible = params.tolist(), self.visible[i]
        for c in self.order[i]:
            if visible[c]:
                _paint_capsule(canvas, zbuf, *rows[c], self.table, self.parts[c])


def _paint_capsule(canvas: np.ndarray, zbuf: np.ndarray, ua: float, va: float, ub: float, vb: float, ra: float, rb: float,
                   za: float, zb: float, ma: float, mb: float, table: NormalTable, part: int) -> None:
    """One round cone from (ua, va) to (ub, vb) (canvas pixels) with radii ra, rb (pixels) and ma, mb
    (metres), axis depths za, zb (metres), lit in colour `part` of `table`, blended into `canvas`
    where it is nearer than `zbuf`."""
    h, w = zbuf.shape
    reach = max(ra, rb) + 1.0
    x0, x1 = max(int(min(ua, ub) - reach), 0), min(int(max(ua, ub) + reach) + 1, w)
    y0, y1 = max(int(min(va, vb) - reach), 0), min(int(max(va, vb) + reach) + 1, h)
    if x1 <= x0 or y1 <= y0:
        return
    px = np.arange(x0, x1, dtype=np.float32) + np.float32(0.5 - ua)  # pixel centres relative to end a
    py = (np.arange(y0, y1, dtype=np.float32) + np.float32(0.5 - va))[:, None]
    dx, dy = ub - ua, vb - va
    length2 = dx * dx + dy * dy
    if length2 > 1e-6:  # t: where along the axis the nearest axis point is, 0..1
        t = px * np.float32(dx / length2) + py * np.float32(dy / length2)
        np.clip(t, 0.0, 1.0, out=t)
        ox, oy = px - t * np.float32(dx), py - t * np.float32(dy)
    else:  # a sphere
        t = np.zeros((y1 - y0, x1 - x0), np.float32)
        ox, oy = px + t, py + t
    radius = ra + t * np.float32(rb - ra)
    alpha = ox * ox
    alpha += oy * oy
    np.sqrt(alpha, out=alpha)
    np.subtract(radius, alpha, out=alpha)
    alpha += 0.5
    np.clip(alpha, 0.0, 1.0, out=alpha)
    cell = table.index(ox, oy, 1.0 / radius)
    # The surface's depth: the axis's, less the radius where the surface faces the camera.
    z = table.nz.take(cell)
    z *= ma + t * np.float32(mb - ma)
    np.subtract(za + t * np.float32(zb - za), z, out=z)
    zc = zbuf[y0:y1, x0:x1]
    alpha *= z < zc
    cc = canvas[y0:y1, x0:x1]
    lit = table.rgb[part].take(cell, axis=0)
    lit -= cc
    lit *= alpha[..., None]
    cc += lit
    np.copyto(zc, z, where=alpha > 0.5)
