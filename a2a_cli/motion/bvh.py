"""BVH, the original subnet's wire format (DESIGN §3): write it exactly, read it strictly.

Written files: the SMPL 24-joint hierarchy with the names of `BVH_JOINT_NAMES`, offsets in cm
from the packaged skeleton, root channels `Xposition Yposition Zposition Zrotation Yrotation
Xrotation`, other joints `Zrotation Yrotation Xrotation` (R = Rz Ry Rx, degrees), y up, an End
Site on each leaf (half the leaf's own bone, so Blender draws a last bone pointing the natural way)
and `Frame Time: 0.0333333` at 30 fps.

Read files: joints are matched by name (case-insensitive) and must form the SMPL tree; rotation
channels may come in any XYZ order (Blender re-exports); non-root joints may carry 3 position
channels, which are ignored. The root's position channels are its world position in cm. Offsets
in the file are checked only loosely (numbers, and a total bone length within a factor 2 of
SMPL's, which catches files in metres or inches): positions always come from FK on the SMPL
skeleton, so a file's own bone lengths never change a score. A frame time other than 1/30 gives
the motion its own fps.

Reading is sized from the file and bounded: the frame count is checked against
`motion.MAX_FILE_FRAMES` (or a caller's smaller cap) before any value is parsed, the frame lines are parsed by numpy's C reader straight into one
array (never a Python object per number), and rotations are converted a block of frames at a time:
a 72,000-frame file (10 minutes at 120 fps, 54 MB) reads in about 2 s and under 200 MB.
"""

from __future__ import annotations

import codecs
import io
import itertools
import re

import numpy as np

from a2a_cli.errors import InputError
from a2a_cli.motion.motion import MAX_FILE_FPS, MAX_FILE_FRAMES, MIN_FILE_FPS, Motion, require_finite
from a2a_cli.motion.rotations import axis_angle_to_matrix, euler_to_matrix, matrix_to_axis_angle, matrix_to_euler_zyx
from a2a_cli.motion.skeleton import BVH_JOINT_NAMES, N_JOINTS, smpl_skeleton

__all__ = ["CM_PER_M", "read_bvh", "write_bvh"]

CM_PER_M = 100.0
_POSITIONS = ("xposition", "yposition", "zposition")
_ROTATIONS = ("xrotation", "yrotation", "zrotation")
_NAME_INDEX = {name.lower(): i for i, name in enumerate(BVH_JOINT_NAMES)}
_CHUNK_FRAMES = 8192  # frames converted to rotations at once: bounds the float64 intermediates
_MAX_VALUE_CHARS = 64  # a frame line longer than this per channel is not numbers of a dance
_MOTION_LINE = re.compile(rb"^[ \t]*MOTION[ \t]*\r?$", re.MULTILINE | re.IGNORECASE)


# ----------------------------------------------------------------------------- writing


def write_bvh(motion: Motion) -> str:
    """The BVH text of a motion with rotations."""
    if motion.poses is None:
        raise InputError("a motion known only as joint positions has no rotations to write as BVH")
    skeleton = smpl_skeleton()
    order = _depth_first(skeleton.children)
    lines = ["HIERARCHY"]
    _write_joint(lines, skeleton, 0, 0)
    # Channel values in hierarchy order: root position (cm), then Z Y X degrees per joint.
    euler = np.degrees(matrix_to_euler_zyx(axis_angle_to_matrix(motion.poses.astype(np.float64))))
    values = np.concatenate([motion.trans.astype(np.float64) * CM_PER_M, euler[:, order].reshape(motion.n_frames, -1)], 1)
    row = " ".join(["%.6f"] * values.shape[1])
    lines += ["MOTION", f"Frames: {motion.n_frames}", f"Frame Time: {1.0 / motion.fps:.7f}"]
    lines += [row % tuple(v) for v in values]
    return "\n".join(lines) + "\n"


def _depth_first(children: list[tuple[int, ...]]) -> list[int]:
    order, stack = [], [0]
    while stack:
        j = stack.pop()
        order.append(j)
        stack.extend(reversed(children[j]))
    return order


def _write_joint(lines: list[str], skeleton, j: int, depth: int) -> None:
    pad = "\t" * depth
    offset = skeleton.offsets[j] * CM_PER_M
    if j == 0:
        lines.append(f"ROOT {BVH_JOINT_NAMES[j]}")
        channels = "CHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation"
    else:
        lines.append(f"{pad}JOINT {BVH_JOINT_NAMES[j]}")
        channels = "CHANNELS 3 Zrotation Yrotation Xrotation"
    lines += [f"{pad}{{", f"{pad}\tOFFSET {_xyz(offset)}", f"{pad}\t{channels}"]
    for child in skeleton.children[j]:
        _write_joint(lines, skeleton, child, depth + 1)
    if not skeleton.children[j]:
        lines += [f"{pad}\tEnd Site", f"{pad}\t{{", f"{pad}\t\tOFFSET {_xyz(offset * 0.5)}", f"{pad}\t}}"]
    lines.append(f"{pad}}}")


def _xyz(v: np.ndarray) -> str:
    return " ".join(f"{x:.6f}" for x in v)


# ----------------------------------------------------------------------------- reading


class _Joint:
    def __init__(self, index: int, parent: int, line: int):
        self.index, self.parent, self.line = index, parent, line
        self.offset = np.zeros(3)
        self.channels: list[str] = []


class _Tokens:
    """Whitespace tokens of the hierarchy, each with its line number, for messages that point."""

    def __init__(self, lines: list[str]):
        self.items = [(tok, n + 1) for n, line in enumerate(lines) for tok in line.split()]
        self.pos = 0

    def peek(self) -> str | None:
        return self.items[self.pos][0] if self.pos < len(self.items) else None

    def line(self) -> int:
        return self.items[min(self.pos, len(self.items) - 1)][1] if self.items else 1

    def take(self, expected: str | None = None) -> str:
        if self.pos >= len(self.items):
            raise InputError(f"BVH hierarchy ends early{f': expected {expected!r}' if expected else ''}")
        tok, line = self.items[self.pos]
        if expected is not None and tok.lower() != expected.lower():
            raise InputError(f"BVH line {line}: expected {expected!r}, got {_shown(tok)}")
        self.pos += 1
        return tok

    def rest_of_line(self) -> list[str]:
        line = self.line()
        out = []
        while self.pos < len(self.items) and self.items[self.pos][1] == line:
            out.append(self.take())
        return out

    def numbers(self, n: int, what: str) -> np.ndarray:
        line = self.line()
        toks = self.rest_of_line()
        try:
            values = np.array([float(t) for t in toks])
        except ValueError:
            raise InputError(f"BVH line {line}: {what} must be {n} numbers, got {_shown(' '.join(toks))}") from None
        if values.shape != (n,) or not np.isfinite(values).all():
            raise InputError(f"BVH line {line}: {what} must be {n} finite numbers, got {_shown(' '.join(toks))}")
        return values


def read_bvh(data: str | bytes, *, max_frames: int = MAX_FILE_FRAMES) -> Motion:
    """Parse BVH (text, or its UTF-8 bytes) into a Motion, or raise an InputError that names the
    problem. max_frames: the most frames accepted, checked before the frames are read."""
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:  # checked a MiB at a time: never a second copy of the whole file as text
        for first in range(0, len(raw), 1 << 20):
            decoder.decode(raw[first : first + (1 << 20)])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise InputError("BVH data is not UTF-8 text") from None
    motion_line = _MOTION_LINE.search(raw)
    if motion_line is None:
        raise InputError("BVH has no MOTION section")
    lines = raw[: motion_line.start()].decode("utf-8").splitlines()
    joints = _read_hierarchy(_Tokens(lines))
    fps, values = _read_frames(raw, motion_line.end(), len(lines) + 1, sum(len(j.channels) for j in joints), max_frames)
    return _to_motion(joints, values, fps)


def _read_hierarchy(tokens: _Tokens) -> list[_Joint]:
    tokens.take("HIERARCHY")
    joints: list[_Joint] = []
    seen: dict[int, int] = {}
    _read_joint(tokens, "ROOT", -1, joints, seen)
    if tokens.peek() is not None:
        raise InputError(f"BVH line {tokens.line()}: unexpected {_shown(tokens.peek())} after the root joint (one ROOT only)")
    missing = [BVH_JOINT_NAMES[i] for i in range(N_JOINTS) if i not in seen]
    if missing:
        raise InputError(f"BVH is missing joints: {', '.join(missing)}")
    skeleton = smpl_skeleton()
    for joint in joints:
        expected = int(skeleton.parents[joint.index])
        if joint.parent != expected:
            where = "the root" if joint.parent < 0 else f"a child of {BVH_JOINT_NAMES[joint.parent]}"
            should = "the root" if expected < 0 else f"a child of {BVH_JOINT_NAMES[expected]}"
            raise InputError(f"BVH joint {BVH_JOINT_NAMES[joint.index]} is {where}; in SMPL it is {should}")
    file_length = sum(np.linalg.norm(j.offset) for j in joints)
    smpl_length = float(np.linalg.norm(skeleton.offsets, axis=1).sum()) * CM_PER_M
    if not 0.5 <= file_length / smpl_length <= 2.0:
        raise InputError(
            f"BVH offsets add up to {file_length:.1f} units of bone, SMPL to {smpl_length:.1f} cm: offsets must be in cm"
        )
    return joints


def _read_joint(tokens: _Tokens, keyword: str, parent: int, joints: list[_Joint], seen: dict[int, int]) -> None:
    line = tokens.line()
    tokens.take(keyword)
    name = " ".join(tokens.rest_of_line())
    index = _NAME_INDEX.get(name.lower())
    if index is None:
        raise InputError(f"BVH line {line}: unknown joint {_shown(name)}; expected the SMPL joint names (Pelvis, Left_hip, ...)")
    if index in seen:
        raise InputError(f"BVH joint {name} appears twice (lines {seen[index]} and {line})")
    seen[index] = line
    joint = _Joint(index, parent, line)
    joints.append(joint)
    tokens.take("{")
    tokens.take("OFFSET")
    joint.offset = tokens.numbers(3, f"the OFFSET of {name}")
    joint.channels = _read_channels(tokens, name, is_root=parent < 0)
    while True:
        tok = (tokens.peek() or "").lower()
        if tok == "joint":
            _read_joint(tokens, "JOINT", index, joints, seen)
        elif tok == "end":
            tokens.take("End")
            tokens.take("Site")
            tokens.take("{")
            tokens.take("OFFSET")
            tokens.numbers(3, f"the End Site OFFSET of {name}")
            tokens.take("}")
        else:
            tokens.take("}")
            return


def _read_channels(tokens: _Tokens, name: str, is_root: bool) -> list[str]:
    line = tokens.line()
    tokens.take("CHANNELS")
    toks = tokens.rest_of_line()
    if not toks or not toks[0].isdecimal():
        raise InputError(f"BVH line {line}: CHANNELS of {name} must start with their count")
    count, channels = int(toks[0]), [t.lower() for t in toks[1:]]
    if count != len(channels):
        raise InputError(f"BVH line {line}: {name} declares {count} channels but lists {len(channels)}")
    unknown = [t for t in channels if t not in _POSITIONS + _ROTATIONS]
    if unknown:
        raise InputError(f"BVH line {line}: {name} has an unknown channel {_shown(unknown[0])}")
    rotations = sorted(c for c in channels if c in _ROTATIONS)
    positions = sorted(c for c in channels if c in _POSITIONS)
    wanted = "3 positions and 3 rotations" if is_root else "3 rotations (optionally with 3 positions)"
    if rotations != list(_ROTATIONS) or positions not in ([], list(_POSITIONS)) or (is_root and not positions):
        raise InputError(f"BVH line {line}: {name} has {count} channels ({' '.join(toks[1:])}); expected {wanted}")
    return channels


def _read_frames(raw: bytes, start: int, motion_line: int, n_channels: int, max_frames: int) -> tuple[float, np.ndarray]:
    """(fps, values (frames, n_channels) float64) from the MOTION section of `raw`, which begins at
    byte `start`, the end of the MOTION line (line number `motion_line`); at most `max_frames` frames."""
    position, line_no = start + 1, motion_line  # `start` is the end of the MOTION line, at its newline
    header = []  # the 'Frames:' and 'Frame Time:' lines: (line number, text)
    while len(header) < 2 and position < len(raw):
        end = raw.find(b"\n", position)
        end = len(raw) if end < 0 else end
        line_no += 1
        text = raw[position:end].decode("utf-8", errors="replace").strip()
        position = end + 1
        if text:
            header.append((line_no, text))
    if len(header) < 2:
        raise InputError("BVH MOTION section needs 'Frames:' and 'Frame Time:' lines")
    (frames_line, frames_text), (time_line, time_text) = header
    frames_tok = frames_text.split()
    if len(frames_tok) != 2 or frames_tok[0].lower() != "frames:" or not frames_tok[1].isdecimal():
        raise InputError(f"BVH line {frames_line}: expected 'Frames: N', got {_shown(frames_text)}")
    n_frames = int(frames_tok[1])
    if n_frames == 0:
        raise InputError("BVH has 0 frames")
    time_tok = time_text.split()
    if len(time_tok) != 3 or [t.lower() for t in time_tok[:2]] != ["frame", "time:"]:
        raise InputError(f"BVH line {time_line}: expected 'Frame Time: SECONDS', got {_shown(time_text)}")
    fps = _fps_from_frame_time(time_tok[2], time_line)
    if n_frames > max_frames:
        raise InputError(f"BVH declares {n_frames} frames, over the cap of {max_frames}")
    lines = _data_lines(raw, position, time_line, n_channels * _MAX_VALUE_CHARS)
    try:
        values = np.loadtxt(itertools.islice(lines, n_frames + 1), dtype=np.float64, ndmin=2, comments=None)
    except ValueError:
        raise _first_bad_frame(raw, position, time_line, n_channels) from None
    if values.shape[0] != n_frames or (values.size and values.shape[1] != n_channels):
        if values.size and values.shape[1] != n_channels:
            raise _first_bad_frame(raw, position, time_line, n_channels)
        follow = sum(1 for _ in _data_lines(raw, position, time_line)) if values.shape[0] > n_frames else values.shape[0]
        raise InputError(f"BVH says Frames: {n_frames} but {follow} frame lines follow")
    require_finite(values, "BVH motion")
    return fps, values


def _lines_from(raw: bytes, position: int) -> io.BytesIO:
    """`raw` read from byte `position` on (a BytesIO shares the bytes: no copy)."""
    stream = io.BytesIO(raw)
    stream.seek(position)
    return stream


def _data_lines(raw: bytes, position: int, time_line: int, max_length: int | None = None):
    """The lines of `raw` from byte `position` on (line `time_line` + 1) that are not blank, as bytes,
    one at a time; InputError for one longer than `max_length` bytes, before numpy sees it."""
    for line_no, line in enumerate(_lines_from(raw, position), start=time_line + 1):
        if max_length is not None and len(line) > max_length:
            raise InputError(f"BVH line {line_no} is {len(line)} bytes long, too long for a frame of numbers")
        if line.strip():
            yield line


def _first_bad_frame(raw: bytes, position: int, time_line: int, n_channels: int) -> InputError:
    """Why numpy could not read the frame lines: the first with the wrong number of values or a
    value that is not a number (only run on a file already refused, so speed does not matter)."""
    frame = 0
    for line_no, line in enumerate(_lines_from(raw, position), start=time_line + 1):
        if len(line) > n_channels * _MAX_VALUE_CHARS:
            return InputError(f"BVH line {line_no} is {len(line)} bytes long, too long for a frame of numbers")
        toks = line.decode("utf-8", errors="replace").split()
        if not toks:
            continue
        if len(toks) != n_channels:
            return InputError(f"BVH frame {frame} (line {line_no}) has {len(toks)} values; the hierarchy declares {n_channels} channels")
        bad = next((t for t in toks if not _is_number(t)), None)
        if bad is not None:
            return InputError(f"BVH frame {frame} (line {line_no}): {_shown(bad)} is not a number")
        frame += 1
    return InputError("BVH frame lines cannot be read as numbers")


def _fps_from_frame_time(text: str, line: int) -> float:
    """1 / frame time, snapped to a whole fps when a rounded frame time (0.0333333) is meant."""
    try:
        frame_time = float(text)
    except ValueError:
        raise InputError(f"BVH line {line}: frame time {_shown(text)} is not a number") from None
    if not np.isfinite(frame_time) or frame_time <= 0 or not MIN_FILE_FPS <= 1.0 / frame_time <= MAX_FILE_FPS:
        raise InputError(f"BVH line {line}: frame time {text} s must be positive, for {MIN_FILE_FPS:g} to {MAX_FILE_FPS:g} fps")
    fps = 1.0 / frame_time
    return float(round(fps)) if abs(fps - round(fps)) <= 1e-4 * fps else fps


def _shown(text: str, limit: int = 60) -> str:
    """File text quoted for a message, cut to `limit` characters: a message stays one short line."""
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _is_number(tok: str) -> bool:
    try:
        float(tok)
    except ValueError:
        return False
    return True


def _to_motion(joints: list[_Joint], values: np.ndarray, fps: float) -> Motion:
    n_frames = values.shape[0]
    poses = np.empty((n_frames, N_JOINTS, 3), np.float32)
    trans = np.zeros((n_frames, 3))
    by_order: dict[str, list[tuple[int, list[int]]]] = {}
    col = 0
    for joint in joints:
        rot_cols = [col + k for k, c in enumerate(joint.channels) if c in _ROTATIONS]
        order = "".join(joint.channels[k - col][0].upper() for k in rot_cols)
        by_order.setdefault(order, []).append((joint.index, rot_cols))
        if joint.parent < 0:
            for k, c in enumerate(joint.channels):
                if c in _POSITIONS:
                    trans[:, _POSITIONS.index(c)] = values[:, col + k] / CM_PER_M
        col += len(joint.channels)
    # One vectorised Euler conversion per channel order (normally one order for all joints), a
    # block of frames at a time so that the float64 matrices stay small whatever the length.
    for first in range(0, n_frames, _CHUNK_FRAMES):
        frames = slice(first, min(first + _CHUNK_FRAMES, n_frames))
        local = np.empty((frames.stop - frames.start, N_JOINTS, 3, 3))
        for order, members in by_order.items():
            idx = [j for j, _ in members]
            angles = np.radians(values[frames][:, [cols for _, cols in members]])  # (frames, n, 3)
            local[:, idx] = euler_to_matrix(angles, order)
        poses[frames] = matrix_to_axis_angle(local)
    with np.errstate(over="ignore"):  # positions beyond float32 become inf: the judge's finite gate fails them
        trans = trans.astype(np.float32)
    return Motion(poses=poses, trans=trans, fps=fps)
