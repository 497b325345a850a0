"""How a surface is lit in previews: one key light from the upper left in front, ambient light and
a soft highlight. Normals are in image terms (x right, y down, z toward the viewer); the camera
never rotates, so a light fixed to it is fixed in the world too."""

from __future__ import annotations

import numpy as np

__all__ = ["shade"]

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
