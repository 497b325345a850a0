"""Training data for `a2a train`: dances with their music, cut into EDGE's 5-s windows.

Two layouts are read:

- **AIST++** (and EDGE's bundle of it): `DATA/motions/*.pkl` (read by `a2a_cli.motion.aistpp`,
  60 fps) with `DATA/wavs/<same stem>.wav`, or the AIST music named by the motion's music id
  (`..._mBR0_...` -> `DATA/music/mBR0.wav`), as the AIST++ release ships it.
- **a2a motions**: `.npy` / `.npz` / `.bvh` files (`a2a_cli.motion.formats`) anywhere under DATA,
  each with an audio file of the same stem beside it.

Each dance becomes EDGE's 151-d z-up vectors at 30 fps (`motion_to_edge_vector`), its music the
35 baseline features of a2a's audio analysis (one row per frame, cached by the audio's sha256).
Windows of 150 frames start every 15 frames (5 s at a 0.5-s stride, EDGE's `slice.py`). When the
names are AIST++'s, the official crossmodal split (EDGE's `data/splits`) decides what trains,
what is held out, and what is ignored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from a2a_cli.errors import InputError
from a2a_cli.frame_rate import FPS
from a2a_cli.motion.format_names import FORMATS as MOTION_FORMATS

__all__ = [
    "AUDIO_SUFFIXES", "MOTION_SUFFIXES", "SPLITS_FILE", "STRIDE_FRAMES", "Sequence", "Split", "Track",
    "WINDOW_FRAMES", "WindowIndex", "find_sequences", "load_track", "load_tracks", "split_sequences",
]

WINDOW_FRAMES = 150  # 5 s: EDGE's horizon
STRIDE_FRAMES = 15  # 0.5 s between window starts (EDGE's training slices)
MOTION_SUFFIXES = tuple(f".{fmt}" for fmt in MOTION_FORMATS)
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")
SPLITS_FILE = Path(__file__).with_name("aistpp_splits.json")
_MUSIC_ID = re.compile(r"_(m[A-Z]{2}\d)_")


@dataclass(frozen=True)
class Sequence:
    """One dance and its music."""

    name: str  # the motion file's stem
    motion: Path
    audio: Path


@dataclass(frozen=True)
class Split:
    """Which sequences train and which are held out; `ignored` were left out by the official split."""

    train: list[Sequence]
    test: list[Sequence]
    ignored: list[Sequence]
    official: bool  # the AIST++ crossmodal split decided it


@dataclass
class Track:
    """A sequence ready for training: EDGE vectors (T, 151) and baseline features (T, 35), float32, 30 fps."""

    name: str
    motion: np.ndarray
    features: np.ndarray

    @property
    def window_starts(self) -> range:
        return range(0, len(self.motion) - WINDOW_FRAMES + 1, STRIDE_FRAMES)


def find_sequences(data: Path) -> list[Sequence]:
    """The (motion, audio) pairs under `data`, sorted by name; InputError when there are none or a
    motion has no music."""
    if not data.is_dir():
        raise InputError(f"training data must be a folder, got {data}")
    aist_motions = sorted((data / "motions").glob("*.pkl")) if (data / "motions").is_dir() else []
    if aist_motions:
        return [Sequence(p.stem, p, _aist_audio(data, p)) for p in aist_motions]
    motions = sorted(p for p in data.rglob("*") if p.suffix.lower() in MOTION_SUFFIXES and p.is_file())
    if not motions:
        raise InputError(f"no training data in {data}: expected motions/*.pkl with wavs/ (AIST++), "
                         f"or motion files ({', '.join(MOTION_SUFFIXES)}) with audio of the same stem")
    return [Sequence(p.stem, p, _audio_beside(p)) for p in motions]


def _aist_audio(data: Path, motion: Path) -> Path:
    candidates = [data / "wavs" / f"{motion.stem}.wav"]
    music_id = _MUSIC_ID.search(motion.stem + "_")
    if music_id:
        candidates += [data / folder / f"{music_id.group(1)}.wav" for folder in ("music", "wavs")]
    for path in candidates:
        if path.is_file():
            return path
    raise InputError(f"no music for {motion.name}: looked for {', '.join(str(p.relative_to(data)) for p in candidates)}")


def _audio_beside(motion: Path) -> Path:
    for suffix in AUDIO_SUFFIXES:
        for path in (motion.with_suffix(suffix), motion.with_suffix(suffix.upper())):
            if path.is_file():
                return path
    raise InputError(f"no audio for {motion}: expected {motion.stem}.wav (or .flac, .ogg, .mp3) beside it")


def split_sequences(sequences: list[Sequence]) -> Split:
    """The official AIST++ crossmodal split when any name is in it (names outside it are ignored,
    as EDGE does), else everything trains."""
    lists = json.loads(SPLITS_FILE.read_text())
    train, test, ignore = set(lists["train"]), set(lists["test"]), set(lists["ignore"])
    if not any(s.name in train or s.name in test for s in sequences):
        return Split(train=list(sequences), test=[], ignored=[], official=False)
    keep = lambda names: [s for s in sequences if s.name in names and s.name not in ignore]  # noqa: E731
    chosen = {s.name for s in keep(train) + keep(test)}
    return Split(train=keep(train), test=keep(test), ignored=[s for s in sequences if s.name not in chosen], official=True)


def load_track(sequence: Sequence, audio_cache_dir: Path | None) -> Track:
    """The sequence's EDGE vectors and music features, cut to the frames both have."""
    from a2a_cli.audio import analyze
    from a2a_cli.motion.formats import motion_to_edge_vector

    motion = _load_motion(sequence.motion)
    vectors = motion_to_edge_vector(_at_30_fps(motion, sequence.motion))
    features = analyze(sequence.audio, cache_dir=audio_cache_dir).features
    frames = min(len(vectors), len(features))
    return Track(sequence.name, np.ascontiguousarray(vectors[:frames], dtype=np.float32),
                 np.ascontiguousarray(features[:frames], dtype=np.float32))


def _load_motion(path: Path):
    """A dance with rotations from an a2a motion file or an AIST++ pickle (`load_motion` reads both)."""
    from a2a_cli.motion.formats import load_motion

    motion = load_motion(path)
    if not motion.has_rotations:
        raise InputError(f"{path} holds joint positions only; training needs joint rotations")
    return motion


def _at_30_fps(motion, path: Path):
    """Every n-th frame of a motion at n x 30 fps (AIST++'s 60 fps: every other, as EDGE)."""
    from a2a_cli.motion.motion import Motion

    step = motion.fps / FPS
    if abs(step - round(step)) > 1e-6 or round(step) < 1:
        raise InputError(f"{path} is at {motion.fps:g} fps; training needs 30 fps or a multiple of it")
    step = int(round(step))
    return motion if step == 1 else Motion(poses=motion.poses[::step], trans=motion.trans[::step], fps=FPS)


def load_tracks(sequences: list[Sequence], audio_cache_dir: Path | None,
                progress: Callable[[int], None] | None = None) -> list[Track]:
    """Every sequence as a Track (those shorter than one window are dropped); `progress(n)` after each."""
    tracks = []
    for i, sequence in enumerate(sequences):
        track = load_track(sequence, audio_cache_dir)
        if len(track.window_starts):
            tracks.append(track)
        if progress:
            progress(i + 1)
    return tracks


class WindowIndex:
    """Every training window of some tracks, as (track, first frame) pairs, in a fixed order."""

    def __init__(self, tracks: list[Track]):
        self.tracks = tracks
        self.entries = np.array([(i, start) for i, t in enumerate(tracks) for start in t.window_starts], dtype=np.int64).reshape(-1, 2)

    def __len__(self) -> int:
        return len(self.entries)

    def window(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Window `index`: motion vectors (150, 151) and features (150, 35), float32."""
        track_index, start = self.entries[index]
        track = self.tracks[track_index]
        return track.motion[start:start + WINDOW_FRAMES], track.features[start:start + WINDOW_FRAMES]

    def motion_extremes(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-channel min and max (151,) over every frame inside a window: what EDGE's normaliser fits."""
        covered = [t.motion[:t.window_starts[-1] + WINDOW_FRAMES] for t in self.tracks if len(t.window_starts)]
        lows = np.min([c.min(axis=0) for c in covered], axis=0)
        highs = np.max([c.max(axis=0) for c in covered], axis=0)
        return lows, highs
