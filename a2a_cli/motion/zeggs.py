"""The ZEGGS skeleton (75 joints, cm, y up): DiffuseStyleGesture's output decoded, written as BVH,
and retargeted to SMPL-24.

DiffuseStyleGesture (trained on Ubisoft La Forge's ZEGGS data) emits 1141 values a frame at 20 fps,
laid out as its `process_zeggs_bvh.py` encodes a ZEGGS BVH (`ZEGGS_LAYOUT`): the root (the hips
projected on the floor, with the hips' heading) as position (cm), rotation (a quaternion w, x, y,
z) and their velocities in the root's frame; per joint its local position (cm: the bone offsets,
and for the hips its place over the root), its local rotation as the rotated x and y axes (the
first two columns of its matrix), and local linear and angular velocities; last the gaze target
(cm, in the root's frame). Decoding (`decode_zeggs`) reads what the official `pose2bvh` reads:
root position and rotation, local positions and rotations (orthogonalised from the x and y axes);
the velocities and the gaze are what the network predicts alongside, not used for the pose.

The official writer first smooths every channel with a Savitzky-Golay filter (window 15, order 2;
`SMOOTHING_WINDOW`) and repeats each frame 3 times to write 60 fps; both are here (`smooth`,
`fps_out`). It writes the BVH with root channels `Xposition Yposition Zposition Zrotation Yrotation
Xrotation`, other joints `Zrotation Yrotation Xrotation` (R = Rz Ry Rx, degrees), the offsets from
the first frame's local positions and End Sites of no length, as `write_zeggs_bvh` does.

One deliberate difference: the root quaternion is normalised before use. The official code uses the
network's (near-unit) quaternion as it comes, which scales the hips' offset by |q|^2 and bends the
Euler angles a little.

`zeggs_to_smpl` hands the same BVH (as parsed data, without the text round trip) to a2a's BVH
retarget (`retarget.retarget_bvh`), which finds the ZEGGS joints by their MotionBuilder-style names,
so a DiffuseStyleGesture output is an SMPL Motion like any other (30 fps, feet on the floor).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from a2a_cli.errors import InputError
from a2a_cli.fileio import atomic_write
from a2a_cli.motion.bvh import bvh_text, depth_first
from a2a_cli.motion.bvh_parse import BvhData, BvhJoint
from a2a_cli.motion.grounding import grounded
from a2a_cli.motion.motion import DEFAULT_FPS, Motion, require_finite
from a2a_cli.motion.resample import resample
from a2a_cli.motion.retarget import retarget_bvh
from a2a_cli.motion.rotations import matrix_to_euler_zyx, matrix_to_quaternion, quaternion_to_matrix, sixd_to_matrix

__all__ = [
    "SMOOTHING_ORDER", "SMOOTHING_WINDOW", "ZEGGS_BONE_NAMES", "ZEGGS_FEATURES", "ZEGGS_FPS", "ZEGGS_JOINTS",
    "ZEGGS_LAYOUT", "ZEGGS_PARENTS", "ZeggsPose", "decode_zeggs", "repeat_frames", "write_zeggs_bvh", "zeggs_bvh_text",
    "zeggs_to_smpl",
]

# The ZEGGS skeleton (ubisoft-laforge-ZeroEGGS data/processed_v1/data_definition.json): the bone names, and
# each bone's parent index (-1 for the hips). Parents come before children, and the order is depth-first.
ZEGGS_BONE_NAMES = (
    "Hips", "Spine", "Spine1", "Spine2", "Spine3", "Neck", "Neck1", "Head", "HeadEnd", "RightShoulder", "RightArm",
    "RightForeArm", "RightHand", "RightHandThumb1", "RightHandThumb2", "RightHandThumb3", "RightHandThumb4",
    "RightHandIndex1", "RightHandIndex2", "RightHandIndex3", "RightHandIndex4", "RightHandMiddle1",
    "RightHandMiddle2", "RightHandMiddle3", "RightHandMiddle4", "RightHandRing1", "RightHandRing2", "RightHandRing3",
    "RightHandRing4", "RightHandPinky1", "RightHandPinky2", "RightHandPinky3", "RightHandPinky4", "RightForeArmEnd",
    "RightArmEnd", "LeftShoulder", "LeftArm", "LeftForeArm", "LeftHand", "LeftHandThumb1", "LeftHandThumb2",
    "LeftHandThumb3", "LeftHandThumb4", "LeftHandIndex1", "LeftHandIndex2", "LeftHandIndex3", "LeftHandIndex4",
    "LeftHandMiddle1", "LeftHandMiddle2", "LeftHandMiddle3", "LeftHandMiddle4", "LeftHandRing1", "LeftHandRing2",
    "LeftHandRing3", "LeftHandRing4", "LeftHandPinky1", "LeftHandPinky2", "LeftHandPinky3", "LeftHandPinky4",
    "LeftForeArmEnd", "LeftArmEnd", "RightUpLeg", "RightLeg", "RightFoot", "RightToeBase", "RightToeBaseEnd",
    "RightLegEnd", "RightUpLegEnd", "LeftUpLeg", "LeftLeg", "LeftFoot", "LeftToeBase", "LeftToeBaseEnd", "LeftLegEnd",
    "LeftUpLegEnd",
)
ZEGGS_PARENTS = (
    -1, 0, 1, 2, 3, 4, 5, 6, 7, 4, 9, 10, 11, 12, 13, 14, 15, 12, 17, 18, 19, 12, 21, 22, 23, 12, 25, 26, 27, 12, 29,
    30, 31, 12, 11, 4, 35, 36, 37, 38, 39, 40, 41, 38, 43, 44, 45, 38, 47, 48, 49, 38, 51, 52, 53, 38, 55, 56, 57, 38,
    37, 0, 61, 62, 63, 64, 63, 62, 0, 68, 69, 70, 71, 70, 69,
)
ZEGGS_JOINTS = len(ZEGGS_BONE_NAMES)  # 75
ZEGGS_FPS = 20.0  # DiffuseStyleGesture's frame rate (the ZEGGS captures are at 60 fps)


def _layout() -> dict[str, slice]:
    sizes = (("root_position", 3), ("root_rotation", 4), ("root_velocity", 3), ("root_angular_velocity", 3),
             ("local_positions", 3 * ZEGGS_JOINTS), ("local_xy_axes", 6 * ZEGGS_JOINTS),
             ("local_velocities", 3 * ZEGGS_JOINTS), ("local_angular_velocities", 3 * ZEGGS_JOINTS), ("gaze", 3))
    out, start = {}, 0
    for name, size in sizes:
        out[name] = slice(start, start + size)
        start += size
    return out


# Where each quantity sits in a frame of features (the order of process_zeggs_bvh.py's concatenation).
# Per-joint blocks are joint-major: local_xy_axes holds, per joint, the rotated x axis then the rotated y axis.
ZEGGS_LAYOUT = _layout()
ZEGGS_FEATURES = ZEGGS_LAYOUT["gaze"].stop  # 1141

# The official Savitzky-Golay smoothing of every channel before decoding (pose2bvh's savgol_filter(x, 15, 2)).
SMOOTHING_WINDOW = 15
SMOOTHING_ORDER = 2


@dataclass(frozen=True, eq=False)
class ZeggsPose:
    """A motion of the ZEGGS skeleton, y up, in cm.

    root_position: (T, 3) the root (the hips over the floor) in the world, cm.
    root_rotation: (T, 4) unit quaternions (w, x, y, z), the root's heading in the world.
    local_positions: (T, 75, 3) each joint's offset from its parent, cm; for the hips, from the root
        (in the root's frame).
    local_rotations: (T, 75, 4) unit quaternions (w, x, y, z) of each joint against its parent; for
        the hips, against the root.
    fps: frames per second.
    """

    root_position: np.ndarray
    root_rotation: np.ndarray
    local_positions: np.ndarray
    local_rotations: np.ndarray
    fps: float = ZEGGS_FPS

    def __post_init__(self) -> None:
        n = self.root_position.shape[0]
        shapes = {"root_position": (n, 3), "root_rotation": (n, 4), "local_positions": (n, ZEGGS_JOINTS, 3),
                  "local_rotations": (n, ZEGGS_JOINTS, 4)}
        for name, shape in shapes.items():
            if getattr(self, name).shape != shape:
                raise ValueError(f"{name} must be {shape}, got {getattr(self, name).shape}")
        if not self.fps > 0:
            raise ValueError(f"fps must be positive, got {self.fps}")

    @property
    def n_frames(self) -> int:
        return int(self.root_position.shape[0])

    def joint_positions(self) -> np.ndarray:
        """World positions (T, 75, 3) of the joints, cm: forward kinematics from the root."""
        world_rotation, position = self._hips_in_world()
        rotations = [world_rotation] + [None] * (ZEGGS_JOINTS - 1)
        positions = np.empty((self.n_frames, ZEGGS_JOINTS, 3))
        positions[:, 0] = position
        local = quaternion_to_matrix(self.local_rotations)
        for j in range(1, ZEGGS_JOINTS):
            parent = rotations[ZEGGS_PARENTS[j]]
            positions[:, j] = positions[:, ZEGGS_PARENTS[j]] + np.einsum("tik,tk->ti", parent, self.local_positions[:, j])
            rotations[j] = parent @ local[:, j]
        return positions

    def _hips_in_world(self) -> tuple[np.ndarray, np.ndarray]:
        """The hips' world rotation (T, 3, 3) and position (T, 3) cm: the root's transform applied to
        the hips' local one (the official `write_bvh`)."""
        root = quaternion_to_matrix(self.root_rotation)
        hips = quaternion_to_matrix(self.local_rotations[:, 0])
        position = self.root_position + np.einsum("tik,tk->ti", root, self.local_positions[:, 0])
        return root @ hips, position


def decode_zeggs(features: np.ndarray, fps: float = ZEGGS_FPS, smooth: bool = True) -> ZeggsPose:
    """The ZEGGS pose of DiffuseStyleGesture's de-normalised output.

    features: (T, 1141) values in `ZEGGS_LAYOUT`, finite; fps: their frame rate (20 for the model);
    smooth: the official Savitzky-Golay smoothing of every channel first (window 15, order 2; a clip
    shorter than 15 frames gets the longest odd window it holds, none under 3 frames).
    """
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or features.shape[1] != ZEGGS_FEATURES or features.shape[0] == 0:
        raise InputError(f"ZEGGS features must be (frames, {ZEGGS_FEATURES}), got {features.shape}")
    require_finite(features, "ZEGGS features")
    if smooth:
        features = _smoothed(features)
    n = features.shape[0]
    xy = features[:, ZEGGS_LAYOUT["local_xy_axes"]].reshape(n, ZEGGS_JOINTS, 6)
    # The x and y axes are the matrix's first two columns: the rows sixd_to_matrix orthogonalises.
    local = np.swapaxes(sixd_to_matrix(xy), -1, -2)
    root_rotation = features[:, ZEGGS_LAYOUT["root_rotation"]]
    norm = np.linalg.norm(root_rotation, axis=-1, keepdims=True)
    if not (norm > 0).all():
        raise InputError(f"ZEGGS features hold a root rotation of length 0, first at frame {int(np.argmin(norm))}")
    return ZeggsPose(
        root_position=features[:, ZEGGS_LAYOUT["root_position"]].copy(),
        root_rotation=root_rotation / norm,
        local_positions=features[:, ZEGGS_LAYOUT["local_positions"]].reshape(n, ZEGGS_JOINTS, 3).copy(),
        local_rotations=matrix_to_quaternion(local),
        fps=float(fps),
    )


def _smoothed(features: np.ndarray) -> np.ndarray:
    from scipy.signal import savgol_filter

    n = features.shape[0]
    window = min(SMOOTHING_WINDOW, n if n % 2 else n - 1)
    if window <= SMOOTHING_ORDER:
        return features
    return savgol_filter(features, window, SMOOTHING_ORDER, axis=0)


def repeat_frames(pose: ZeggsPose, fps: float) -> ZeggsPose:
    """`pose` at `fps`, a whole multiple of its rate, each frame repeated (the official 20 -> 60 fps step)."""
    factor = fps / pose.fps
    if factor < 1 or abs(factor - round(factor)) > 1e-9 * factor:
        raise InputError(f"a ZEGGS motion at {pose.fps:g} fps is written at a whole multiple of that rate, not {fps:g} fps")
    k = int(round(factor))
    return ZeggsPose(np.repeat(pose.root_position, k, axis=0), np.repeat(pose.root_rotation, k, axis=0),
                     np.repeat(pose.local_positions, k, axis=0), np.repeat(pose.local_rotations, k, axis=0), float(fps))


def _bvh_data(pose: ZeggsPose) -> BvhData:
    """The BVH the official writer makes of `pose` (module docstring), as parsed data: joints in file
    (depth-first) order, values in degrees and cm."""
    order = depth_first([[c for c, p in enumerate(ZEGGS_PARENTS) if p == j] for j in range(ZEGGS_JOINTS)])
    index = {j: i for i, j in enumerate(order)}
    hips_rotation, hips_position = pose._hips_in_world()
    local = quaternion_to_matrix(pose.local_rotations)
    local[:, 0] = hips_rotation
    euler = np.degrees(matrix_to_euler_zyx(local[:, order]))  # (T, 75, 3): z, y, x
    joints = []
    for j in order:
        root = ZEGGS_PARENTS[j] < 0
        leaf = j not in ZEGGS_PARENTS
        offset = hips_position[0] if root else pose.local_positions[0, j]
        channels = ("xposition", "yposition", "zposition") * root + ("zrotation", "yrotation", "xrotation")
        joints.append(BvhJoint(ZEGGS_BONE_NAMES[j], -1 if root else index[ZEGGS_PARENTS[j]], 0, np.array(offset, float),
                               channels, [np.zeros(3)] if leaf else []))
    values = np.concatenate([hips_position, euler.reshape(pose.n_frames, -1)], axis=1)
    return BvhData(joints, values, float(pose.fps))


def zeggs_bvh_text(pose: ZeggsPose, fps_out: float | None = None) -> str:
    """The BVH text of `pose` in the ZEGGS skeleton (module docstring); `fps_out`, a whole multiple of
    its rate, repeats frames (60 for the official output), None keeps its rate."""
    if fps_out is not None:
        pose = repeat_frames(pose, fps_out)
    return bvh_text(_bvh_data(pose))


def write_zeggs_bvh(path: str | os.PathLike, pose: ZeggsPose, fps_out: float | None = None) -> Path:
    """Write `pose` as a ZEGGS-skeleton BVH at `path`, atomically (`zeggs_bvh_text`); returns the path."""
    return atomic_write(path, zeggs_bvh_text(pose, fps_out))


def zeggs_to_smpl(pose: ZeggsPose) -> Motion:
    """`pose` retargeted to SMPL-24 by a2a's BVH retarget: a Motion at 30 fps, feet on the floor."""
    motion = retarget_bvh(_bvh_data(pose))
    return grounded(resample(motion, DEFAULT_FPS))
