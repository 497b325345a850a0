"""Analytic two-bone IK (hip-knee-ankle; shoulder-elbow-wrist too), vectorised over frames: the one home
of the leg solve that `choreo` (ankles pinned where its feet stand), the motion library (feet held through a join)
and EDGE's foot lock (planted ankles held still) share.

`knee_for` places the knee for an ankle target: the leg stays in the plane of the hip, the target
and a pole, the knee bending toward the pole. `leg_ik` turns that into the thigh's and shin's
global rotations from the rest pose; `reach` (`reach_axis_angle` on axis-angle poses) edits SMPL
local rotations in place so a leg's ankle lands on a target while the thigh's twist and the foot's
world orientation are kept.
"""

from __future__ import annotations

import numpy as np

from a2a_cli.motion import skeleton as sk
from a2a_cli.motion.rotations import axis_angle_to_matrix, frame_of, matrix_to_axis_angle, rotation_between

__all__ = ["LEGS", "MAX_STRETCH", "knee_for", "leg_ik", "reach", "reach_axis_angle", "two_bone_ik"]

LEGS = ((sk.L_HIP, sk.L_KNEE, sk.L_ANKLE), (sk.R_HIP, sk.R_KNEE, sk.R_ANKLE))  # (hip, knee, ankle) joints, left then right
_KNEE_FRONT = np.array([0.0, 0.0, 1.0])  # the side SMPL's rest knees bend toward
MAX_STRETCH = 0.9995  # a leg reaches at most this fraction of its length: the knee never locks to a singular line


def knee_for(hip: np.ndarray, target: np.ndarray, pole: np.ndarray, thigh: np.ndarray | float,
             shin: np.ndarray | float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(knee, ankle, bend) of a leg from `hip` (..., 3) reaching for `target` (..., 3), the knee bent
    toward `pole` (a direction, (..., 3)); `thigh`, `shin`: the bone lengths (m, scalars or (..., 1)).
    knee, ankle: positions (..., 3); bend: the unit direction, across the hip-ankle line, the knee
    bends to. A target out of reach gets a straight leg (MAX_STRETCH) pointing at it, one too close
    the leg folded as far as its bones allow."""
    to_target = target - hip
    dist = np.linalg.norm(to_target, axis=-1, keepdims=True)
    n = to_target / np.maximum(dist, 1e-9)
    d = np.clip(dist, np.abs(thigh - shin) + 1e-3, (thigh + shin) * MAX_STRETCH)
    along = (thigh * thigh - shin * shin + d * d) / (2 * d)
    across = np.sqrt(np.maximum(thigh * thigh - along * along, 0.0))
    bend = pole - np.sum(pole * n, axis=-1, keepdims=True) * n
    bend = bend / np.maximum(np.linalg.norm(bend, axis=-1, keepdims=True), 1e-9)
    return hip + along * n + across * bend, hip + d * n, bend


def two_bone_ik(root: np.ndarray, end: np.ndarray, pole: np.ndarray, upper_rest: np.ndarray, lower_rest: np.ndarray,
                rest_bend: np.ndarray):
    """Global rotations (T, 3, 3) of the upper and the lower bone of a two-bone chain (a leg: hip,
    knee, ankle; an arm: shoulder, elbow, wrist) that put the chain's end at `end`.

    `root`, `end` (T, 3): world positions of the chain's root joint and its end's target (m); `pole`
    (T, 3): the direction the middle joint bends toward. `upper_rest`, `lower_rest` (3,): the
    rest-pose bone vectors (root->middle, middle->end); `rest_bend` (3,): the side the middle joint
    points to at rest (a knee's front, an elbow's back). Out-of-reach targets get a straight chain
    (MAX_STRETCH) pointing at them.
    """
    middle, reached, bend = knee_for(root, end, pole, float(np.linalg.norm(upper_rest)), float(np.linalg.norm(lower_rest)))
    upper = frame_of(middle - root, bend) @ frame_of(upper_rest, rest_bend).T
    lower = frame_of(reached - middle, bend) @ frame_of(lower_rest, rest_bend).T
    return upper, lower


def leg_ik(hip: np.ndarray, ankle: np.ndarray, pole: np.ndarray, thigh_rest: np.ndarray, shin_rest: np.ndarray):
    """Global rotations (T, 3, 3) of the thigh and the shin that put the ankle at `ankle` (T, 3).

    `thigh_rest`, `shin_rest` are the rest-pose bone vectors (hip->knee, knee->ankle); at the rest
    pose with a forward pole the result is within a few degrees of the identity (SMPL's rest leg is
    not quite straight). The knee bends toward `pole` (T, 3).
    """
    return two_bone_ik(hip, ankle, pole, thigh_rest, shin_rest, _KNEE_FRONT)


def reach(local: np.ndarray, joints: np.ndarray, leg: tuple[int, int, int], target: np.ndarray, pole: np.ndarray,
          lengths: tuple | None = None) -> None:
    """Put the ankle of `leg` (hip, knee, ankle joint indices, as in LEGS) at `target` (F, 3), editing
    the SMPL local rotation matrices `local` (F, 24, 3, 3) of those frames in place; `joints` (F, 24, 3)
    are their joint positions, `pole` (F, 3) the way the knee bends, `lengths` (thigh, shin) the bone
    lengths (default: measured on `joints`).

    Only the hip, knee and ankle rotations change: the thigh and the shin swing the least that puts
    them on the new knee and ankle (their twist is kept) and the foot keeps its world orientation.
    The pelvis is the hips' parent, so its local rotation is its global one.
    """
    hip_j, knee_j, ankle_j = leg
    hip, knee, ankle = (joints[:, j].astype(np.float64) for j in leg)
    if lengths is None:
        lengths = (np.linalg.norm(knee - hip, axis=-1, keepdims=True), np.linalg.norm(ankle - knee, axis=-1, keepdims=True))
    new_knee, new_ankle, _ = knee_for(hip, target, pole, *lengths)
    pelvis = local[:, sk.PELVIS]
    thigh = pelvis @ local[:, hip_j]
    shin = thigh @ local[:, knee_j]
    foot = shin @ local[:, ankle_j]
    turn_thigh = rotation_between(knee - hip, new_knee - hip)
    new_thigh = turn_thigh @ thigh
    moved_shin = np.einsum("fij,fj->fi", turn_thigh, ankle - knee)
    new_shin = rotation_between(moved_shin, new_ankle - new_knee) @ turn_thigh @ shin
    local[:, hip_j] = np.swapaxes(pelvis, -1, -2) @ new_thigh
    local[:, knee_j] = np.swapaxes(new_thigh, -1, -2) @ new_shin
    local[:, ankle_j] = np.swapaxes(new_shin, -1, -2) @ foot


def reach_axis_angle(poses: np.ndarray, frames: np.ndarray, joints: np.ndarray, leg: tuple[int, int, int],
                     target: np.ndarray, pole: np.ndarray, lengths: tuple | None = None) -> None:
    """`reach` on axis-angle poses (T, 24, 3), editing rows `frames` (F,) in place; `joints` (F, 24, 3)."""
    local = axis_angle_to_matrix(poses[frames].astype(np.float64))
    reach(local, joints, leg, target, pole, lengths)
    for j in leg:
        poses[frames, j] = matrix_to_axis_angle(local[:, j])
