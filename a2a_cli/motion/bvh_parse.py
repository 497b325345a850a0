"""BVH text parsed for any skeleton: the joint tree (names, offsets, channels, End Sites) and the frames.

What the file means is left to the readers: `bvh.read_bvh` reads the SMPL hierarchy exactly and
hands any other skeleton to `retarget`. Checked here, with messages that name the line: the
grammar (one ROOT, braces, OFFSET with 3 finite numbers), channels (known names; 3 rotations in
any order, 3 positions, or both; none repeated), joint names (each once, case-insensitively, so
that names can be matched), `Frames:` against the frame lines and MAX_FRAMES, the frame time, and
every frame value (a finite number, as many per line as the hierarchy declares channels).
"""

from __future__ import annotations

import re
import warnings

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from a2a_cli.errors import InputError
from a2a_cli.motion.motion import MAX_FILE_FPS, MAX_FILE_FRAMES, MIN_FILE_FPS, require_finite

__all__ = ["MAX_FRAMES", "MAX_JOINTS", "MAX_VALUES", "POSITION_CHANNELS", "ROTATION_CHANNELS", "BvhData", "BvhJoint", "parse_bvh"]

POSITION_CHANNELS = ("xposition", "yposition", "zposition")
ROTATION_CHANNELS = ("xrotation", "yrotation", "zrotation")
MAX_FRAMES = MAX_FILE_FRAMES  # one home: motion.MAX_FILE_FRAMES
MAX_JOINTS = 500  # rigs with face and finger joints have a few hundred; also bounds the parser's recursion
_MAX_VALUE_CHARS = 64  # characters per channel beyond which a frame line is not numbers of a dance
_FRAME_LINE = re.compile(r"^[ \t]*\S", re.MULTILINE)  # a line that is not blank
_MOTION_LINE = re.compile(r"^[ \t]*MOTION[ \t]*\r?$", re.MULTILINE | re.IGNORECASE)
MAX_VALUES = 16_000_000  # frames x channels (128 MB of float64): 10 minutes at 120 fps of 74 joints


@dataclass
class BvhJoint:
    """One JOINT (or the ROOT) of a BVH hierarchy, in file units."""

    name: str
    parent: int  # index of the parent in `BvhData.joints`; -1 for the root
    line: int  # where the joint is declared, for messages
    offset: np.ndarray = field(default_factory=lambda: np.zeros(3))  # (3,) from the parent, at rest
    channels: tuple[str, ...] = ()  # lower-case channel names in file order ("zrotation", ...)
    end_sites: list[np.ndarray] = field(default_factory=list)  # (3,) offsets of its End Sites

    @property
    def rotation_order(self) -> str:
        """The rotation channels' axes left to right ("ZXY" means R = Rz Rx Ry), or "" without rotations."""
        return "".join(c[0].upper() for c in self.channels if c in ROTATION_CHANNELS)


@dataclass
class BvhData:
    """A parsed BVH file: `joints` in file order (a parent before its children) and the frames."""

    joints: list[BvhJoint]
    values: np.ndarray  # (T, n_channels) float64, the channels of `joints` in order, degrees and file units
    fps: float

    def channel_columns(self) -> list[dict[str, int]]:
        """For each joint, {channel name: its column in `values`}."""
        out, col = [], 0
        for joint in self.joints:
            out.append({c: col + k for k, c in enumerate(joint.channels)})
            col += len(joint.channels)
        return out


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


def parse_bvh(data: str | bytes, check: Callable[[list[BvhJoint]], None] | None = None, *,
              max_frames: int = MAX_FRAMES) -> BvhData:
    """Parse BVH of any skeleton (text, or its UTF-8 bytes), or raise an InputError that names the
    problem and its line.

    `check`, when given, is called on the joints before the frames are read, so that a reader's
    objection to the hierarchy is named before the frame lines it makes miscounted. `max_frames`:
    the most frames accepted (at most MAX_FRAMES), checked against the declared count before any
    frame value is parsed; a frame line longer than `_MAX_VALUE_CHARS` per channel is refused
    before it is split.
    """
    if isinstance(data, (bytes, bytearray, memoryview)):
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            raise InputError("BVH data is not UTF-8 text") from None
    else:
        text = data
    motion = _MOTION_LINE.search(text)
    if motion is None:
        raise InputError("BVH has no MOTION section")
    head = text[: motion.start()].splitlines()
    joints = _read_hierarchy(_Tokens(head))
    if check is not None:
        check(joints)
    fps, values = _read_frames(text, motion.end(), len(head) + 1, sum(len(j.channels) for j in joints),
                               min(max_frames, MAX_FRAMES))
    return BvhData(joints, values, fps)


def _read_hierarchy(tokens: _Tokens) -> list[BvhJoint]:
    tokens.take("HIERARCHY")
    joints: list[BvhJoint] = []
    _read_joint(tokens, "ROOT", -1, joints, {})
    if tokens.peek() is not None:
        raise InputError(f"BVH line {tokens.line()}: unexpected {_shown(tokens.peek())} after the root joint (one ROOT only)")
    return joints


def _read_joint(tokens: _Tokens, keyword: str, parent: int, joints: list[BvhJoint], seen: dict[str, int]) -> None:
    line = tokens.line()
    tokens.take(keyword)
    name = " ".join(tokens.rest_of_line())
    if not name:
        raise InputError(f"BVH line {line}: {keyword} has no name")
    if name.lower() in seen:
        raise InputError(f"BVH joint {_shown(name)} appears twice (lines {seen[name.lower()]} and {line})")
    seen[name.lower()] = line
    index = len(joints)
    if index == MAX_JOINTS:
        raise InputError(f"BVH line {line}: more than {MAX_JOINTS} joints")
    joint = BvhJoint(name, parent, line)
    joints.append(joint)
    tokens.take("{")
    tokens.take("OFFSET")
    joint.offset = tokens.numbers(3, f"the OFFSET of {name}")
    joint.channels = _read_channels(tokens, name)
    while True:
        tok = (tokens.peek() or "").lower()
        if tok == "joint":
            _read_joint(tokens, "JOINT", index, joints, seen)
        elif tok == "end":
            tokens.take("End")
            tokens.take("Site")
            tokens.take("{")
            tokens.take("OFFSET")
            joint.end_sites.append(tokens.numbers(3, f"the End Site OFFSET of {name}"))
            tokens.take("}")
        else:
            tokens.take("}")
            return


def _read_channels(tokens: _Tokens, name: str) -> tuple[str, ...]:
    line = tokens.line()
    tokens.take("CHANNELS")
    toks = tokens.rest_of_line()
    if not toks or not toks[0].isdecimal():
        raise InputError(f"BVH line {line}: CHANNELS of {name} must start with their count")
    count, channels = int(toks[0]), tuple(t.lower() for t in toks[1:])
    if count != len(channels):
        raise InputError(f"BVH line {line}: {name} declares {count} channels but lists {len(channels)}")
    unknown = [t for t in channels if t not in POSITION_CHANNELS + ROTATION_CHANNELS]
    if unknown:
        raise InputError(f"BVH line {line}: {name} has an unknown channel {_shown(unknown[0])}")
    rotations = sorted(c for c in channels if c in ROTATION_CHANNELS)
    positions = sorted(c for c in channels if c in POSITION_CHANNELS)
    if rotations not in ([], list(ROTATION_CHANNELS)) or positions not in ([], list(POSITION_CHANNELS)):
        raise InputError(
            f"BVH line {line}: {name} has {count} channels ({' '.join(toks[1:])}); expected 3 rotations, 3 positions or both"
        )
    return channels


def _read_frames(text: str, at: int, motion_line: int, n_channels: int, max_frames: int) -> tuple[float, np.ndarray]:
    """(fps, frames x channels values) of the MOTION section that starts at `text[at:]` (the line after
    the MOTION keyword, line `motion_line` of the file). The two header lines are read as lines; the
    frames are parsed by numpy's C reader from the text in one pass into one array, never a Python
    object per number or per line, after the declared count is checked against `max_frames` and the
    longest line against `_MAX_VALUE_CHARS` per channel. Any fault is then named, line by line."""
    header, line_no, pos = [], motion_line, at
    while len(header) < 2:
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        if pos >= len(text):
            raise InputError("BVH MOTION section needs 'Frames:' and 'Frame Time:' lines")
        line_no += 1
        if text[pos:end].strip():
            header.append((line_no, text[pos:end]))
        pos = end + 1
    (frames_line, frames_text), (time_line, time_text) = header
    frames_tok = frames_text.split()
    if len(frames_tok) != 2 or frames_tok[0].lower() != "frames:" or not frames_tok[1].isdecimal():
        raise InputError(f"BVH line {frames_line}: expected 'Frames: N', got {_shown(frames_text.strip())}")
    n_frames = int(frames_tok[1])
    if n_frames == 0:
        raise InputError("BVH has 0 frames")
    time_tok = time_text.split()
    if len(time_tok) != 3 or [t.lower() for t in time_tok[:2]] != ["frame", "time:"]:
        raise InputError(f"BVH line {time_line}: expected 'Frame Time: SECONDS', got {_shown(time_text.strip())}")
    fps = _fps_from_frame_time(time_tok[2], time_line)
    if n_frames > max_frames:
        raise InputError(f"BVH declares {n_frames} frames, over the cap of {max_frames}")
    if n_frames * n_channels > MAX_VALUES:
        raise InputError(f"BVH declares {n_frames} frames of {n_channels} channels, over the cap of {MAX_VALUES} values")
    body = text[pos:]
    cap = _MAX_VALUE_CHARS * max(n_channels, 1)
    if re.search(rf"^[^\n]{{{cap + 1}}}", body, re.MULTILINE):  # anchored at line starts: one pass, not one per character
        raise InputError(f"BVH has a frame line of over {cap} characters: too long for a frame of {n_channels} channels")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # older numpy warns where text stops parsing
            values = np.fromstring(body, dtype=np.float64, sep=" ") if body.strip() else np.zeros(0)
    except ValueError:  # text that is not numbers: named line by line below
        values = np.zeros(0)
    n_lines = sum(1 for _ in _FRAME_LINE.finditer(body))
    if values.size != n_frames * n_channels or n_lines != n_frames:
        lines = [(line_no + 1 + i, line) for i, line in enumerate(body.splitlines()) if line.strip()]
        if len(lines) != n_frames:
            raise InputError(f"BVH says Frames: {n_frames} but {len(lines)} frame lines follow")
        values = _read_frames_line_by_line(lines, n_channels)
    values = values.reshape(n_frames, n_channels)
    require_finite(values, "BVH motion")
    return fps, values


def _read_frames_line_by_line(frame_lines: list[tuple[int, str]], n_channels: int) -> np.ndarray:
    values = np.empty((len(frame_lines), n_channels))
    for i, (line_no, line) in enumerate(frame_lines):
        toks = line.split()
        if len(toks) != n_channels:
            raise InputError(f"BVH frame {i} (line {line_no}) has {len(toks)} values; the hierarchy declares {n_channels} channels")
        try:
            values[i] = [float(t) for t in toks]
        except ValueError:
            bad = next(t for t in toks if not _is_number(t))
            raise InputError(f"BVH frame {i} (line {line_no}): {_shown(bad)} is not a number") from None
    return values


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
