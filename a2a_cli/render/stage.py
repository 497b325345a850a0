"""The stage of a preview: a camera that frames and follows the dancer, the sky, the checkerboard
floor and the soft shadows on it.

The camera only translates (it follows the dancer's smoothed root), so every pixel's floor point
relative to the camera is fixed: the floor is precomputed once and each frame's checkerboard is one
vectorised numpy expression.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["FRAMINGS", "Camera", "Floor", "Framing", "framing_distance", "follow_path", "paint_shadow"]

# Camera: in front of the dancer (who faces +z at rest), 30 degrees to the side and a little above,
# looking at the middle of the dancer's height. Its distance is chosen per motion so that the
# dancer's standing height fills FRAME_FILL of the frame's height.
CAMERA_AZIMUTH_DEG = 30.0
CAMERA_ELEVATION_DEG = 10.0
VERTICAL_FOV_DEG = 40.0
FRAME_FILL = 0.6


@dataclass(frozen=True)
class Framing:
    """What the camera shows of the performer: the span of the standing height from `low` to `high`
    (shares of the stature, from the soles) fills `fill` of the frame's height, seen from
    `azimuth_deg` to the side and `elevation_deg` above."""

    low: float
    high: float
    fill: float
    azimuth_deg: float
    elevation_deg: float


FRAMINGS = {
    "full": Framing(0.0, 1.0, FRAME_FILL, CAMERA_AZIMUTH_DEG, CAMERA_ELEVATION_DEG),  # a dancer, head to feet
    # a speaker: hips to the top of the head, closer and more from the front, so the hands and the
    # head read well
    "upper": Framing(0.36, 1.02, 0.85, 15.0, 6.0),
}
FOLLOW_SIGMA_S = 0.5
NEAR_M = 0.1

CHECKER_M = 1.0
FAR_M = 60.0
SKY_TOP_RGB = (20, 22, 30)
HORIZON_RGB = (62, 66, 82)
FLOOR_DARK_RGB = (58, 62, 76)
FLOOR_LIGHT_RGB = (104, 110, 128)


def framing_distance(stature_m: float, fill: float = FRAME_FILL) -> float:
    """Camera distance (m) at which something `stature_m` tall fills `fill` of the frame height."""
    return stature_m / (fill * 2 * math.tan(math.radians(VERTICAL_FOV_DEG) / 2))


def follow_path(root_xz: np.ndarray, fps: float) -> np.ndarray:
    """Where the camera looks on the floor per frame, (T, 2) metres: the root's x/z (T, 2) low-passed
    with a Gaussian of FOLLOW_SIGMA_S seconds, so steps, sways and noisy roots do not shake it while
    the dancer stays in frame when travelling. `fps`: frames per second of `root_xz`."""
    from scipy.ndimage import gaussian_filter1d

    root_xz = np.asarray(root_xz, dtype=np.float64)
    if len(root_xz) < 2:
        return root_xz
    # Padded by point reflection about the end frames, so a walk that runs to the end of the clip
    # is followed there without lag (constant padding would hold the camera back).
    sigma = FOLLOW_SIGMA_S * fps
    pad = int(4 * sigma) + 1
    padded = np.pad(root_xz, ((pad, pad), (0, 0)), mode="reflect", reflect_type="odd")
    return gaussian_filter1d(padded, sigma=sigma, axis=0, truncate=4.0)[pad:-pad]


class Camera:
    """A fixed-orientation pinhole camera placed relative to a moving target (y up, metres).

    `size`: (width, height) in pixels; `distance_m`: from the camera to the target;
    `target_height_m`: the target's height above the floor (the middle of what is framed);
    `azimuth_deg`, `elevation_deg`: where the camera stands, to the side of and above the target."""

    def __init__(self, size: tuple[int, int], distance_m: float, target_height_m: float,
                 azimuth_deg: float = CAMERA_AZIMUTH_DEG, elevation_deg: float = CAMERA_ELEVATION_DEG):
        self.width, self.height = size
        self.target_height = target_height_m
        self.focal = (self.height / 2) / math.tan(math.radians(VERTICAL_FOV_DEG) / 2)
        az, el = math.radians(azimuth_deg), math.radians(elevation_deg)
        # Camera position relative to the target point.
        self.offset = distance_m * np.array([math.cos(el) * math.sin(az), math.sin(el), math.cos(el) * math.cos(az)])
        forward = -self.offset / np.linalg.norm(self.offset)
        right = np.cross(forward, [0.0, 1.0, 0.0])
        right /= np.linalg.norm(right)
        up = np.cross(right, forward)
        self.basis = np.stack([right, up, forward])  # rows: camera x, y, z (depth) in world terms

    def project(self, points_rel: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Pixel u, v and depth (m) of points given relative to the target, any leading shape (..., 3)."""
        cam = (points_rel - self.offset) @ self.basis.T
        depth = cam[..., 2]
        safe = np.maximum(depth, NEAR_M)
        u = self.width / 2 + self.focal * cam[..., 0] / safe
        v = self.height / 2 - self.focal * cam[..., 1] / safe
        return u, v, depth

    def pixel_rays(self) -> np.ndarray:
        """World-space ray directions through each pixel centre, (H, W, 3)."""
        u = (np.arange(self.width) + 0.5 - self.width / 2) / self.focal
        v = -(np.arange(self.height) + 0.5 - self.height / 2) / self.focal
        uu, vv = np.meshgrid(u, v)
        cam = np.stack([uu, vv, np.ones_like(uu)], axis=-1)
        return cam @ self.basis


class Floor:
    """Sky gradient and an anti-aliased, fogged checkerboard floor, re-shaded per camera position."""

    def __init__(self, camera: Camera):
        h, w = camera.height, camera.width
        rays = camera.pixel_rays()
        floor_dy = -camera.target_height - camera.offset[1]  # the floor's height relative to the camera
        hits = rays[..., 1] < -1e-6
        # Rows below the horizon see the floor (the camera has no roll, so the horizon is a row).
        self.top = int(np.argmax(hits[:, 0])) if hits[:, 0].any() else h
        rows = rays[self.top :]
        # Past FAR_M the floor is all fog; the cap keeps the cell phases small enough for float32.
        t = np.minimum(floor_dy / rows[..., 1], FAR_M)
        hit_x = (camera.offset[0] + t * rows[..., 0]) / CHECKER_M  # floor point minus target, in cells
        hit_z = (camera.offset[2] + t * rows[..., 2]) / CHECKER_M
        # Half a pixel's footprint on the floor, in cells, sets the width of the edge blend.
        inv_fw_x = 1.0 / np.maximum(0.5 * np.abs(np.stack(np.gradient(hit_x))).sum(axis=0), 1e-4)
        inv_fw_z = 1.0 / np.maximum(0.5 * np.abs(np.stack(np.gradient(hit_z))).sum(axis=0), 1e-4)
        # A square wave of period two cells from a triangle wave, |frac((x - 1/2) / 2) - 1/2|,
        # which is 1/4 on cell edges: gain and bias turn it into +-1 blended across one footprint.
        self.waves = [
            (((hit - 0.5) / 2).astype(np.float32), (2 * inv_fw).astype(np.float32), (inv_fw / 2).astype(np.float32))
            for hit, inv_fw in ((hit_x, inv_fw_x), (hit_z, inv_fw_z))
        ]
        distance = t * np.linalg.norm(rows, axis=-1)
        fog = np.clip((distance - 5.0) / 14.0, 0.0, 1.0)[..., None]
        mid = np.add(FLOOR_DARK_RGB, FLOOR_LIGHT_RGB) / 2.0
        amp = np.subtract(FLOOR_LIGHT_RGB, FLOOR_DARK_RGB) / 2.0
        self.base = (mid * (1 - fog) + np.asarray(HORIZON_RGB) * fog).astype(np.float32)
        self.amp = (amp * (1 - fog)).astype(np.float32)
        k = np.linspace(0.0, 1.0, max(self.top, 1))[:, None, None] ** 1.5
        sky = np.asarray(SKY_TOP_RGB) * (1 - k) + np.asarray(HORIZON_RGB) * k
        self.image = np.empty((h, w, 3), dtype=np.uint8)
        self.image[: self.top] = np.broadcast_to(sky[: self.top], (self.top, w, 3)).astype(np.uint8)
        self._wave_x, self._wave_z, self._scratch = (np.empty(hit_x.shape, np.float32) for _ in range(3))
        self._rgb = np.empty(self.base.shape, np.float32)

    def render(self, target_x: float, target_z: float) -> np.ndarray:
        """The background (H, W, 3) uint8 for the camera following a target at (x, z). Reused buffer:
        copy it before drawing on it."""
        sx = self._square_wave(target_x, *self.waves[0], out=self._wave_x)
        sz = self._square_wave(target_z, *self.waves[1], out=self._wave_z)
        sx *= sz
        np.multiply(sx[..., None], self.amp, out=self._rgb)
        self._rgb += self.base
        np.copyto(self.image[self.top :], self._rgb, casting="unsafe")
        return self.image

    def _square_wave(self, target: float, half_phase: np.ndarray, gain: np.ndarray, bias: np.ndarray, out: np.ndarray) -> np.ndarray:
        """+-1 on alternate cells, blended linearly across each edge; in-place passes, no fmod (slow)."""
        np.add(half_phase, np.float32(target / CHECKER_M / 2), out=out)
        np.floor(out, out=self._scratch)
        out -= self._scratch
        out -= 0.5
        np.abs(out, out=out)
        out *= gain
        out -= bias
        return np.clip(out, -1.0, 1.0, out=out)


def paint_shadow(canvas: np.ndarray, box: tuple[float, float, float, float], strength: float) -> None:
    """Darken `canvas` (h, w, 3) float32, in place, by a soft elliptical shadow.

    `box`: the ellipse's (left, top, right, bottom) in canvas pixels (the projection of a disc on
    the floor); `strength`: the darkening at its centre, 0..1, fading as a Gaussian to the rim."""
    left, top, right, bottom = box
    h, w = canvas.shape[:2]
    x0, y0 = max(int(left), 0), max(int(top), 0)
    x1, y1 = min(int(math.ceil(right)), w), min(int(math.ceil(bottom)), h)
    if x1 <= x0 or y1 <= y0 or strength <= 0:
        return
    cx, cy = (left + right) / 2, (top + bottom) / 2
    ax, ay = max((right - left) / 2, 0.5), max((bottom - top) / 2, 0.5)
    qx = ((np.arange(x0, x1, dtype=np.float32) + 0.5 - cx) / ax) ** 2
    qy = ((np.arange(y0, y1, dtype=np.float32) + 0.5 - cy) / ay) ** 2
    # exp(-3 q^2) is 5 % at the rim: the disc's edge fades out instead of ending in a line.
    keep = 1.0 - strength * np.exp(-3.0 * (qy[:, None] + qx[None, :]))
    canvas[y0:y1, x0:x1] *= keep[..., None]
