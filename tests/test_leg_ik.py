"""The shared two-bone leg IK (`motion.leg_ik`): choreo, the motion library and EDGE's foot lock use it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from a2a_cli.motion import skeleton as sk
from a2a_cli.motion.fk import forward_kinematics
from a2a_cli.motion.formats import load_motion
from a2a_cli.motion.leg_ik import LEGS, knee_for, leg_ik, reach_axis_angle
from a2a_cli.motion.rotations import axis_angle_to_matrix

REAL = Path(__file__).parent / "data" / "real" / "cmu_salsa_61_12.npz"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-0.6, 0.6), min_size=3, max_size=3), st.lists(st.floats(-1, 1), min_size=3, max_size=3))
def test_a_reachable_target_is_reached_with_rigid_bones(offset, pole):
    hip = np.zeros(3)
    target = np.array(offset) + [0.0, -0.3, 0.0]
    pole = np.array(pole) + [0.0, 0.0, 1.5]  # never parallel to the leg
    knee, ankle, bend = knee_for(hip, target, pole, 0.4, 0.42)
    assert abs(np.linalg.norm(knee - hip) - 0.4) < 1e-9 and abs(np.linalg.norm(ankle - knee) - 0.42) < 1e-9
    if 0.03 < np.linalg.norm(target) < 0.8:
        assert np.linalg.norm(ankle - target) < 1e-9
    assert np.dot(knee - hip, bend) >= -1e-9  # the knee bends toward the pole's side


def test_rest_pose_with_a_forward_pole_is_the_identity():
    skel = sk.smpl_skeleton()
    hip = np.zeros((1, 3))
    ankle = hip + skel.offsets[sk.L_KNEE] + skel.offsets[sk.L_ANKLE]
    thigh, shin = leg_ik(hip, ankle, np.array([[0.0, 0.0, 1.0]]), skel.offsets[sk.L_KNEE], skel.offsets[sk.L_ANKLE])
    # SMPL's rest leg is not quite straight nor quite in the pole's plane: a few degrees off, no more
    for rotation in (thigh[0], shin[0]):
        assert np.degrees(np.arccos(np.clip((np.trace(rotation) - 1) / 2, -1, 1))) < 5.0


def test_reach_lands_the_ankle_and_keeps_the_foot_turned_as_it_was():
    m = load_motion(REAL)
    poses, trans = m.poses[:40].astype(np.float64), m.trans[:40].astype(np.float64)
    frames = np.arange(40)
    joints = forward_kinematics(poses, trans).astype(np.float64)
    hip, knee, ankle = LEGS[1]
    target = joints[:, ankle] + [0.03, 0.05, -0.04]
    before = axis_angle_to_matrix(poses)
    foot_before = before[:, sk.PELVIS] @ before[:, hip] @ before[:, knee] @ before[:, ankle]
    edited = poses.copy()
    reach_axis_angle(edited, frames, joints, LEGS[1], target, joints[:, knee] - joints[:, hip])
    after_joints = forward_kinematics(edited, trans)
    assert np.linalg.norm(after_joints[:, ankle] - target, axis=-1).max() < 1e-4
    after = axis_angle_to_matrix(edited)
    foot_after = after[:, sk.PELVIS] @ after[:, hip] @ after[:, knee] @ after[:, ankle]
    assert np.abs(foot_after - foot_before).max() < 1e-6
    untouched = [j for j in range(sk.N_JOINTS) if j not in LEGS[1]]
    assert np.array_equal(edited[:, untouched], poses[:, untouched])
