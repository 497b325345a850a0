"""How a surface is lit in previews: one key light from the upper left in front, ambient light and
a soft highlight. Normals are in image terms (x right, y down, z toward the viewer); the camera
never rotates, so a light fixed to it is fixed in the world too."""

from __future__ import annotations

import numpy as np

__all__ = ["shade", "NormalTable"]

_LIGHT = np.array([-0.45, -0.65, 0.62])
LIGHT = _LIGHT / np.linalg.norm(_LIGHT)
_HALF = LIGHT + np.array([0.0, 0.0, 1.0])
HALF_VECTOR = _HALF / np.linalg.norm(_HALF)  # between the light and the viewer (Blinn-Phong)
AMBIENT = 0.32
DIFFUSE = 0.72
SPECULAR = 70.0  # highlight, in 0..255 colour units at its peak
SHININESS = 16  # a power of two: the highlight is four squarings, not a slow float power


def shade(nx: np.ndarray, ny: np.ndarray, nz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(brightness, highlight) of unit normals given by components of any one shape.

    brightness (a factor for the surface colour) = ambient + diffuse Lambert term; highlight (added
    to every channel, in colour units) = Blinn-Phong. Both float32, the shape of the inputs."""
    lambert = nx * np.float32(LIGHT[0]) + ny * np.float32(LIGHT[1]) + nz * np.float32(LIGHT[2])
    np.maximum(lambert, 0.0, out=lambert)
    facing = nx * np.float32(HALF_VECTOR[0]) + ny * np.float32(HALF_VECTOR[1]) + nz * np.float32(HALF_VECTOR[2])
    np.maximum(facing, 0.0, out=facing)
    for _ in range(SHININESS.bit_length() - 1):
        np.multiply(facing, facing, out=facing)
    facing *= np.float32(SPECULAR)
    highlight = facing
    return np.float32(AMBIENT) + np.float32(DIFFUSE) * lambert, highlight


class NormalTable:
    """Shading looked up instead of computed, for surfaces whose normal is known from its image-plane
    part (nx, ny) alone, as on a sphere or capsule seen from the front: nz = sqrt(1 - nx^2 - ny^2).

    `colours`: (K, 3) surface colours; `steps`: table cells per axis over [-1, 1]. Beyond the unit
    disc (anti-aliased rims) the rim's values are used."""

    def __init__(self, colours: np.ndarray, steps: int = 128):
        self.steps = steps
        self.half = (steps - 1) / 2
        grid = np.linspace(-1.0, 1.0, steps)
        ny, nx = np.meshgrid(grid, grid, indexing="ij")
        norm = np.maximum(np.hypot(nx, ny), 1.0)
        nx, ny = nx / norm, ny / norm
        nz = np.sqrt(np.maximum(1.0 - nx * nx - ny * ny, 0.0))
        brightness, highlight = shade(nx.astype(np.float32), ny.astype(np.float32), nz.astype(np.float32))
        self.nz = nz.astype(np.float32).ravel()
        lit = brightness[None, ..., None] * np.asarray(colours, np.float32)[:, None, None, :] + highlight[None, ..., None]
        self.rgb = lit.astype(np.float32).reshape(len(colours), steps * steps, 3)

    def index(self, ox: np.ndarray, oy: np.ndarray, inv_radius: np.ndarray) -> np.ndarray:
        """Flat table indices of the normals (ox, oy) * inv_radius, (any shape) arrays."""
        k = inv_radius * np.float32(self.half)
        ix = ox * k
        ix += np.float32(self.half + 0.5)
        iy = oy * k
        iy += np.float32(self.half + 0.5)
        np.clip(ix, 0, self.steps - 1, out=ix)
        np.clip(iy, 0, self.steps - 1, out=iy)
        flat = iy.astype(np.intp)
        flat *= self.steps
        flat += ix.astype(np.intp)
        return flat
