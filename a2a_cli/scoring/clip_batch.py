"""A batch of clips laid out for the metrics, with the intermediates several metrics share.

Metrics take joint positions as (T, 24, 3) for one clip or (..., T, 24, 3) for a batch, or a
`ClipBatch`. The batch holds the positions joint-major and time-major, `positions[j, c]` being one
contiguous (T, B) array per joint and axis: every metric runs as long elementwise loops over all
clips and frames at once, and a shift in time (a frame step, a window) is a shift by whole rows,
contiguous and aligned, which numpy runs about twice as fast as a shift inside rows. Per-clip
order statistics take the small (B, T) transposes of their inputs. The frame-to-frame steps and
joint speeds are computed once and reused by BAS, PFC, the validity gates, the kinetic and the
geometric features. Build one (`ClipBatch.from_poses` runs FK straight into this layout) and pass
it to every metric to pay for the layout only once.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from functools import cache, cached_property

import numpy as np

from a2a_cli.errors import InputError
from a2a_cli.motion.fk import forward_kinematics_joint_major
from a2a_cli.motion.grounding import FLOOR_PERCENTILE
from a2a_cli.motion.skeleton import FEET, N_JOINTS, PELVIS
from a2a_cli.scoring.order_stats import percentile

__all__ = ["ClipBatch", "as_clip_batch", "horizontal_length", "joint_groups", "keep_freed_blocks_in_heap"]


@cache
def keep_freed_blocks_in_heap() -> None:
    """Ask glibc to keep freed blocks of up to 32 MiB in the heap, once per process.

    By default glibc hands freed blocks over 128 KiB back to the OS (its threshold adapts, but only
    so far) and page-faults fresh pages for the next one. A batch of clips allocates hundreds of
    such temporaries, and on this kind of machine the faults cost more than the arithmetic: at 128
    clips per batch the metric set takes 6,500 page faults per batch and runs 14% slower without
    this (at 32 clips glibc's own adaptation copes). The process keeps up to 128 MiB of freed memory
    for reuse instead. Elsewhere (macOS, musl) this does nothing.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD (also stops glibc's own threshold from moving)
        libc.mallopt(-1, 128 << 20)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):
        pass


class ClipBatch:
    """Joint positions (24, 3, T, B) of B clips of T frames; `lead` is the caller's batch shape.

    `axis_angle` (24, 3, T, B): the joint rotations in the same layout, when the batch was built
    from them (`from_poses`), for the gates that measure how fast joints turn. `channels`
    (B, 72, T): each clip's joint coordinates (joint 0's x, y, z, joint 1's x, ...) along its
    frames, when the batch was built from joint positions (`from_joints`, `from_clips`): the joint-
    major layout is one transposition of it, and `pose_deviation` is read from it.
    """

    axis_angle: np.ndarray | None = None
    channels: np.ndarray | None = None

    def __init__(self, positions: np.ndarray, lead: tuple[int, ...] = ()):
        if positions.ndim != 4 or positions.shape[:2] != (N_JOINTS, 3):
            raise ValueError(f"joint-major positions must be ({N_JOINTS}, 3, T, B), got {positions.shape}")
        self.positions = positions
        self.lead = tuple(lead)

    @classmethod
    def from_joints(cls, joints: np.ndarray) -> "ClipBatch":
        """From (T, 24, 3) or (..., T, 24, 3); float64 stays float64 (exact checks), the rest float32."""
        keep_freed_blocks_in_heap()
        joints = np.asarray(joints)
        if joints.ndim < 3 or joints.shape[-2:] != (N_JOINTS, 3):
            raise InputError(
                f"joint positions must be (T, {N_JOINTS}, 3) or (..., T, {N_JOINTS}, 3), got {joints.shape}"
            )
        n_clips, n_frames = int(np.prod(joints.shape[:-3])), joints.shape[-3]
        channels = np.ascontiguousarray(joints.reshape(n_clips, n_frames, N_JOINTS * 3).transpose(0, 2, 1),
                                        dtype=_precision(joints.dtype))
        return cls._from_channels(channels, joints.shape[:-3])

    @classmethod
    def from_clips(cls, clips: Sequence[np.ndarray]) -> "ClipBatch":
        """From one (T, 24, 3) array per clip (the motions' own: the judge's answers), as `from_joints`
        of their stack without making it: each clip is laid out into `channels` on its own."""
        keep_freed_blocks_in_heap()
        clips = [np.asarray(clip) for clip in clips]
        shapes = {clip.shape for clip in clips}
        if len(shapes) != 1 or len(next(iter(shapes))) != 3 or next(iter(shapes))[1:] != (N_JOINTS, 3):
            raise InputError(f"clips must be (T, {N_JOINTS}, 3) arrays of one length, got {sorted(shapes)}")
        n_frames = clips[0].shape[0]
        channels = np.empty((len(clips), N_JOINTS * 3, n_frames), dtype=_precision(np.result_type(*clips)))
        for out, clip in zip(channels, clips):
            out[...] = clip.reshape(n_frames, N_JOINTS * 3).T
        return cls._from_channels(channels, (len(clips),))

    @classmethod
    def _from_channels(cls, channels: np.ndarray, lead: tuple[int, ...]) -> "ClipBatch":
        """The batch of clips laid out as `channels` (B, 72, T): the joint-major layout is their one
        2-D transposition, (B, 72 T) -> (72 T, B)."""
        n_clips, _, n_frames = channels.shape
        positions = np.ascontiguousarray(channels.reshape(n_clips, -1).T).reshape(N_JOINTS, 3, n_frames, n_clips)
        batch = cls(positions, lead)
        batch.channels = channels
        return batch

    @classmethod
    def from_poses(cls, poses: np.ndarray, trans: np.ndarray) -> "ClipBatch":
        """FK of axis-angle poses (..., T, 24, 3) and root translations (..., T, 3)."""
        keep_freed_blocks_in_heap()
        poses = np.asarray(poses)
        if poses.ndim < 3 or poses.shape[-2:] != (N_JOINTS, 3):
            raise InputError(f"poses must be (T, {N_JOINTS}, 3) or (..., T, {N_JOINTS}, 3), got {poses.shape}")
        n_frames = poses.shape[-3]
        aa = cls.joint_major(poses)
        root = np.ascontiguousarray(np.asarray(trans).reshape(-1, n_frames, 3).transpose(2, 1, 0), dtype=aa.dtype)
        positions = forward_kinematics_joint_major(aa.reshape(N_JOINTS * 3, -1), root.reshape(3, -1))
        batch = cls(positions.reshape(aa.shape), poses.shape[:-3])
        batch.axis_angle = aa
        return batch

    @staticmethod
    def joint_major(values: np.ndarray) -> np.ndarray:
        """Per-joint 3-vectors (..., T, 24, 3) in the batch layout (24, 3, T, B), contiguous;
        float64 stays float64 (exact checks), the rest becomes float32."""
        values = np.asarray(values)
        dtype = _precision(values.dtype)
        n_frames = values.shape[-3]
        clips = values.reshape(-1, n_frames, N_JOINTS * 3)
        out = np.empty((N_JOINTS, 3, n_frames, len(clips)), dtype=dtype)
        # A few frames at a time (about 128 KB of them, which stay in a core's cache), each block
        # copied once into its place: 30% faster than transposing the whole batch (twice, to move
        # longer runs), which streams every copy through the shared cache.
        block = max(1, (128 << 10) // (max(len(clips), 1) * N_JOINTS * 3 * np.dtype(dtype).itemsize))
        for first in range(0, n_frames, block):
            last = min(first + block, n_frames)
            out[:, :, first:last] = clips[:, first:last].reshape(len(clips), last - first, N_JOINTS, 3).transpose(2, 3, 1, 0)
        return out

    @property
    def n_clips(self) -> int:
        return self.positions.shape[3]

    @property
    def n_frames(self) -> int:
        return self.positions.shape[2]

    def joints(self) -> np.ndarray:
        """Back to the usual layout (..., T, 24, 3)."""
        return self.positions.transpose(3, 2, 0, 1).reshape(self.lead + (self.n_frames, N_JOINTS, 3))

    def per_clip(self, values: np.ndarray) -> np.ndarray:
        """Reshape a (B, ...) result to the caller's batch shape: (...) for one clip, lead + (...)."""
        return values.reshape(self.lead + values.shape[1:])

    @cached_property
    def step(self) -> np.ndarray:
        """Displacement from each frame to the next, (24, 3, T-1, B), metres per frame."""
        return self.positions[:, :, 1:] - self.positions[:, :, :-1]

    @cached_property
    def joint_speed(self) -> np.ndarray:
        """Length of each step, (24, T-1, B), metres per frame."""
        squared = np.einsum("jctb,jctb->jtb", self.step, self.step)
        return np.sqrt(squared, out=squared)

    @cached_property
    def kinetic_velocity(self) -> np.ndarray:
        """The mean joint speed in each frame step, (T-1, B), metres per frame: the body's speed,
        which the sync, energy and realism terms all read."""
        return self.joint_speed.mean(axis=0)

    @cached_property
    def pose_deviation(self) -> np.ndarray:
        """The joints but the pelvis relative to it, each channel (joint 1 x, y, z, joint 2 x, ...)
        minus its mean over the clip, (B, 69, T) in the positions' precision, metres: the pose's
        departure from the clip's mean pose, each clip's channels along its frames, contiguous. The
        distance between two frames' poses and the spread of a pose do not depend on that mean, and
        small centred numbers keep float32 sums of squares and correlations accurate (the repeat
        residual, the "moves" gate, the windows' pose change)."""
        n_clips, n_frames = self.n_clips, self.n_frames
        channels = self.channels
        if channels is None:
            channels = np.ascontiguousarray(self.positions.reshape(N_JOINTS * 3, n_frames, n_clips).transpose(2, 0, 1))
        joints = channels.reshape(n_clips, N_JOINTS, 3, n_frames)
        deviation = np.subtract(joints[:, PELVIS + 1 :], joints[:, PELVIS : PELVIS + 1], dtype=self.positions.dtype)  # the pelvis is joint 0
        deviation = deviation.reshape(n_clips, -1, n_frames)
        deviation -= deviation.mean(axis=-1, keepdims=True)
        return deviation

    @cached_property
    def foot_height(self) -> np.ndarray:
        """Each foot's height, its lower joint's (ankle or toe), in each frame: (2, T, B), metres, the
        left foot first (skeleton.FEET)."""
        return np.stack([np.minimum(self.positions[ankle, 1], self.positions[toe, 1]) for ankle, toe in FEET])

    @cached_property
    def foot_glide(self) -> np.ndarray:
        """Each foot's horizontal speed, its slower joint's (ankle or toe), in each frame step:
        (2, T-1, B), metres per frame, the left foot first: a foot moves over the floor only when both
        of its joints do."""
        return np.stack([np.minimum(horizontal_length(self.step[ankle]), horizontal_length(self.step[toe]))
                         for ankle, toe in FEET])

    @cached_property
    def lowest_foot(self) -> np.ndarray:
        """Height of the lowest foot joint (ankle or toe) in each frame, (T, B), metres."""
        return np.minimum(self.foot_height[0], self.foot_height[1])

    @cached_property
    def floor(self) -> np.ndarray:
        """The floor level under each clip, (B,), metres: `grounding.floor_height`'s rule (the lowest
        foot joint's `FLOOR_PERCENTILE` over the frames), the same number."""
        return percentile(self.lowest_foot.T, FLOOR_PERCENTILE)


def _precision(dtype) -> type:
    """The batch's float type for input of `dtype`: float64 stays float64 (exact checks), the rest float32."""
    return np.float64 if np.dtype(dtype) == np.float64 else np.float32


def joint_groups(size: int = 8, first: int = 0) -> list[slice]:
    """The joints from `first` on in groups of `size`, for metrics that make several full-size temporaries.

    A batch's (24, 3, T, B) arrays are a few MB, more than a core's L2 cache: a metric that makes
    its temporaries for all joints at once streams each of them through the slower shared cache.
    Working on 8 joints at a time makes temporaries of about 1 MB, whose freed blocks the next
    group reuses while they are still cached: the kinetic features and the heavier gates run
    10-30% faster (benchmarks/bench_metrics.py) for a few more numpy calls.
    """
    return [slice(j, min(j + size, N_JOINTS)) for j in range(first, N_JOINTS, size)]


def horizontal_length(step: np.ndarray) -> np.ndarray:
    """Length of the horizontal (x, z) part of one joint's steps (3, T-1, B) (y up): (T-1, B)."""
    return np.sqrt(step[0] * step[0] + step[2] * step[2])


def as_clip_batch(joints: np.ndarray | ClipBatch, min_frames: int) -> ClipBatch:
    """The metrics' entry check: a ClipBatch of at least `min_frames` frames, or an InputError."""
    batch = joints if isinstance(joints, ClipBatch) else ClipBatch.from_joints(joints)
    if batch.n_frames < min_frames:
        raise InputError(f"this metric needs at least {min_frames} frames, got {batch.n_frames}")
    return batch
