"""Analytic two-bone IK (hip-knee-ankle, shoulder-elbow-wrist), vectorised over frames.

Pins each ankle to a world target so planted feet do not slide whatever the pelvis does; the knee
bends in the plane that holds the hip, the ankle and the pole (the foot's forward direction). The
gesture generator puts the wrists where its gestures go the same way, the elbows toward their pole.
"""

from __future__ import annotations

import numpy as np

__all__ = ["frame", "leg_ik", "two_bone_ik"]

FORWARD = np.array([0.0, 0.0, 1.0])  # the side of SMPL's rest legs toward which the knees bend


def frame(primary: np.ndarray, secondary: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) whose columns are primary, secondary made orthogonal, their cross."""
    a = primary / np.linalg.norm(primary, axis=-1, keepdims=True)
    b = secondary - np.sum(secondary * a, axis=-1, keepdims=True) * a
    b = b / np.maximum(np.linalg.norm(b, axis=-1, keepdims=True), 1e-9)
    return np.stack([a, b, np.cross(a, b)], axis=-1)


def two_bone_ik(root: np.ndarray, end: np.ndarray, pole: np.ndarray, upper_rest: np.ndarray, lower_rest: np.ndarray,
                rest_bend: np.ndarray):
    """Global rotations (T, 3, 3) of the upper and the lower bone that put the chain's end at `end`.

    `root`, `end`, `pole`: (T, 3) world positions of the chain's root joint and its end's target, and
    the direction the middle joint is pushed toward. `upper_rest`, `lower_rest` are the rest-pose
    bone vectors (root->middle, middle->end); `rest_bend` (3,) the side toward which the middle
    joint points at rest (a knee's front, an elbow's back): with the pole there, a straight chain
    along the rest bones gets the identity. Out-of-reach targets get a straight chain pointing at them.
    """
    l1, l2 = float(np.linalg.norm(upper_rest)), float(np.linalg.norm(lower_rest))
    to_end = end - root
    dist = np.linalg.norm(to_end, axis=-1, keepdims=True)
    n = to_end / np.maximum(dist, 1e-9)
    d = np.clip(dist, abs(l1 - l2) + 1e-3, (l1 + l2) * 0.9995)
    along = (l1 * l1 - l2 * l2 + d * d) / (2 * d)
    across = np.sqrt(np.maximum(l1 * l1 - along * along, 0.0))
    bend = pole - np.sum(pole * n, axis=-1, keepdims=True) * n
    bend = bend / np.maximum(np.linalg.norm(bend, axis=-1, keepdims=True), 1e-9)
    middle = root + along * n + across * bend
    reached = root + d * n
    upper = frame(middle - root, bend) @ frame(upper_rest, rest_bend).T
    lower = frame(reached - middle, bend) @ frame(lower_rest, rest_bend).T
    return upper, lower


def leg_ik(hip: np.ndarray, ankle: np.ndarray, pole: np.ndarray, thigh_rest: np.ndarray, shin_rest: np.ndarray):
    """Global rotations (T, 3, 3) of the thigh and the shin that put the ankle at `ankle`.

    `thigh_rest`, `shin_rest` are the rest-pose bone vectors (hip->knee, knee->ankle); the knee
    bends toward `pole`; at the rest pose with a forward pole the result is the identity.
    """
    return two_bone_ik(hip, ankle, pole, thigh_rest, shin_rest, FORWARD)
