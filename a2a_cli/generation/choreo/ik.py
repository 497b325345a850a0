"""Analytic two-bone leg IK (hip-knee-ankle), vectorised over frames.

Pins each ankle to a world target so planted feet do not slide whatever the pelvis does; the knee
bends in the plane that holds the hip, the ankle and the pole (the foot's forward direction).
"""

from __future__ import annotations

import numpy as np

__all__ = ["frame", "leg_ik"]


def frame(primary: np.ndarray, secondary: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) whose columns are primary, secondary made orthogonal, their cross."""
    a = primary / np.linalg.norm(primary, axis=-1, keepdims=True)
    b = secondary - np.sum(secondary * a, axis=-1, keepdims=True) * a
    b = b / np.maximum(np.linalg.norm(b, axis=-1, keepdims=True), 1e-9)
    return np.stack([a, b, np.cross(a, b)], axis=-1)


def leg_ik(hip: np.ndarray, ankle: np.ndarray, pole: np.ndarray, thigh_rest: np.ndarray, shin_rest: np.ndarray):
    """Global rotations (T, 3, 3) of the thigh and the shin that put the ankle at `ankle`.

    `thigh_rest`, `shin_rest` are the rest-pose bone vectors (hip->knee, knee->ankle); at the rest
    pose with a forward pole the result is the identity. Out-of-reach targets get a straight leg
    pointing at them.
    """
    l1, l2 = float(np.linalg.norm(thigh_rest)), float(np.linalg.norm(shin_rest))
    to_ankle = ankle - hip
    dist = np.linalg.norm(to_ankle, axis=-1, keepdims=True)
    n = to_ankle / np.maximum(dist, 1e-9)
    d = np.clip(dist, abs(l1 - l2) + 1e-3, (l1 + l2) * 0.9995)
    along = (l1 * l1 - l2 * l2 + d * d) / (2 * d)
    across = np.sqrt(np.maximum(l1 * l1 - along * along, 0.0))
    bend = pole - np.sum(pole * n, axis=-1, keepdims=True) * n
    bend = bend / np.maximum(np.linalg.norm(bend, axis=-1, keepdims=True), 1e-9)
    knee = hip + along * n + across * bend
    reached = hip + d * n
    forward = np.array([0.0, 0.0, 1.0])
    thigh = frame(knee - hip, bend) @ frame(thigh_rest, forward).T
    shin = frame(reached - knee, bend) @ frame(shin_rest, forward).T
    return thigh, shin
