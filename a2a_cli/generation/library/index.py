"""A motion library: real dance cut at its beats, indexed once for joining (ChoreoMaster's motion graph).

A library is built from a folder of real dance in any format a2a reads (`motion.formats.load_motion`:
AIST++ .pkl, AMASS .npz, BVH of any skeleton through the retarget to SMPL-24, a2a .npy/.npz with
rotations). Each clip is resampled to 30 fps, put on the floor, and (by default) also kept mirrored
left for right: a person's motion mirrored is still a person's motion. Its kinematic beats (minima
of the smoothed joint speed, `scoring.beats.motion_beats`: none of these takes has music) are the
nodes where a dance may leave one clip for another; between two beats a clip is played as it is.
At every beat the index keeps the join features (`join_features`: body shape around the root,
joint velocities, which feet are planted), the energy of the beat that follows, and per frame which
feet are planted, so that a generator needs no forward kinematics to plan.

The index is one .npz (no pickles; `INDEX_VERSION` in it): the clips' poses (float16 axis-angle),
root paths (float32), the beats and their features, and each clip's name, source, licence (from
the README beside the data) and dance style (`style_of`: AIST++'s genre, or a style the folder's
README title or name says; "" where neither does). Built from a folder, it is cached beside the library as
`CACHE_NAME`, keyed by the files' names, sizes and times, and rebuilt when they change.
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import logging
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np

from a2a_cli.errors import InputError
from a2a_cli.fileio import atomic_write
from a2a_cli.frame_rate import FPS
from a2a_cli.motion import skeleton as sk
from a2a_cli.motion.fk import forward_kinematics
from a2a_cli.motion.format_names import FORMATS, READ_ONLY_FORMATS
from a2a_cli.motion.grounding import floor_height
from a2a_cli.motion.rotations import axis_angle_to_matrix
from a2a_cli.scoring.realism import genre_of
from a2a_cli.style_names import AISTPP_GENRE_STYLES, DANCE_STYLES

__all__ = [
    "CACHE_NAME", "CONTACT_HEIGHT_M", "CONTACT_SPEED_M_S", "INDEX_VERSION", "JOIN_MARGIN_FRAMES", "MIRROR",
    "MotionLibrary", "VELOCITY_WEIGHT_S", "build_library", "feet_planted", "heading", "join_features",
    "library_files", "load_library", "mirrored", "shipped_library", "style_of",
]

INDEX_VERSION = "2"  # 2: each clip's dance style
CACHE_NAME = ".a2a-motion-library.npz"
SHIPPED = "data/cmu_salsa.npz"
# A beat this close (frames at 30 fps) to its clip's first or last frame cannot be a join: a join
# blends a few frames of both clips on either side of it.
JOIN_MARGIN_FRAMES = 12
# A foot is planted when its ankle is this close to the floor and this slow.
CONTACT_HEIGHT_M = 0.12
CONTACT_SPEED_M_S = 0.35
# Join features: joint positions (m) and joint velocities times this many seconds (m), so that two
# bodies 1 m/s apart in a joint's speed differ as much as 10 cm apart in its place.
VELOCITY_WEIGHT_S = 0.1
_CONTACT_WEIGHT_M = 0.3  # a planted foot against a lifted one: 30 cm of pose
MIRROR = True
_SUFFIXES = {f".{name}" for name in FORMATS + READ_ONLY_FORMATS}
# SMPL's left/right joint pairs swapped (the mirror image through the body's sagittal plane).
_MIRROR_JOINTS = np.array([0, 2, 1, 3, 5, 4, 6, 8, 7, 9, 11, 10, 12, 14, 13, 15, 17, 16, 19, 18, 21, 20, 23, 22])
_ANKLES = (sk.L_ANKLE, sk.R_ANKLE)
_MAX_INDEX_BYTES = 512 * 2**20
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MotionLibrary:
    """Indexed real dance at 30 fps, all clips end to end.

    poses (N, 24, 3) float32 SMPL axis-angle; trans (N, 3) float32 root path (m, y up, floor at 0);
    clip_offsets (C + 1,) int64: clip c is frames clip_offsets[c]:clip_offsets[c + 1];
    clip_names, clip_sources, clip_licences, clip_styles: C strings (file name, its folder's README
    title, the licence line of that README, its dance style from style_names.DANCE_STYLES or "" when
    unknown); beats (B,) int64 global frame indices of the kinematic beats, in
    clip order; beat_clip (B,) int64; features (B, F) float32 join features (`join_features`);
    energy (B,) float32 mean joint speed (m/s) from each beat to the next of its clip (NaN for a
    clip's last beat); planted (N, 2) bool left/right foot planted; key: what the index was built from.
    """

    poses: np.ndarray
    trans: np.ndarray
    clip_offsets: np.ndarray
    clip_names: tuple[str, ...]
    clip_sources: tuple[str, ...]
    clip_licences: tuple[str, ...]
    clip_styles: tuple[str, ...]
    beats: np.ndarray
    beat_clip: np.ndarray
    features: np.ndarray
    energy: np.ndarray
    planted: np.ndarray
    key: str = ""

    @property
    def n_frames(self) -> int:
        return int(self.poses.shape[0])

    @property
    def duration_s(self) -> float:
        return self.n_frames / FPS

    @property
    def n_clips(self) -> int:
        return len(self.clip_names)

    @property
    def styles(self) -> tuple[str, ...]:
        """The dance styles the library has clips of, in style_names.DANCE_STYLES order (unlabelled clips aside)."""
        return tuple(style for style in DANCE_STYLES if style in self.clip_styles)

    def beats_of_style(self, style: str | None) -> np.ndarray:
        """(B,) bool: the beats of clips in `style` (None: every beat)."""
        if style is None:
            return np.ones(self.beats.size, bool)
        return np.asarray(self.clip_styles)[self.beat_clip] == style

    def credits(self) -> list[str]:
        """Each distinct source with its licence, one line each (what a dance made from it must credit)."""
        return sorted({f"{source} ({licence})" for source, licence in zip(self.clip_sources, self.clip_licences)})

    def to_bytes(self) -> bytes:
        """The index as .npz bytes (no pickles): poses as float16, everything else as it is."""
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer, version=np.array(INDEX_VERSION), key=np.array(self.key),
            poses=self.poses.astype(np.float16), trans=self.trans.astype(np.float32),
            clip_offsets=self.clip_offsets, clip_names=np.array(self.clip_names),
            clip_sources=np.array(self.clip_sources), clip_licences=np.array(self.clip_licences),
            clip_styles=np.array(self.clip_styles),
            beats=self.beats, beat_clip=self.beat_clip, features=self.features.astype(np.float32),
            energy=self.energy.astype(np.float32), planted=self.planted,
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes, what: str = "motion library") -> "MotionLibrary":
        """A library from `to_bytes`' .npz; InputError for anything else (another version included)."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as z:
                if str(z["version"]) != INDEX_VERSION:
                    raise InputError(f"{what} is index version {z['version']}, this a2a reads {INDEX_VERSION}: rebuild it")
                a = {name: z[name] for name in z.files}
        except InputError:
            raise
        except Exception as e:  # a corrupt or foreign file
            raise InputError(f"{what} is not an a2a motion library index ({type(e).__name__}: {e})") from None
        return cls(
            poses=a["poses"].astype(np.float32), trans=a["trans"].astype(np.float32),
            clip_offsets=a["clip_offsets"].astype(np.int64), clip_names=tuple(map(str, a["clip_names"])),
            clip_sources=tuple(map(str, a["clip_sources"])), clip_licences=tuple(map(str, a["clip_licences"])),
            clip_styles=tuple(map(str, a["clip_styles"])),
            beats=a["beats"].astype(np.int64), beat_clip=a["beat_clip"].astype(np.int64),
            features=a["features"].astype(np.float32), energy=a["energy"].astype(np.float32),
            planted=a["planted"].astype(bool), key=str(a["key"]),
        )


def heading(root_aa: np.ndarray) -> np.ndarray:
    """Yaw (radians about +y, 0 facing +z) of root rotations `root_aa` (..., 3) axis-angle."""
    forward = axis_angle_to_matrix(np.asarray(root_aa, np.float64))[..., :, 2]
    return np.arctan2(forward[..., 0], forward[..., 2])


def feet_planted(joints: np.ndarray, fps: float = FPS) -> np.ndarray:
    """(T, 2) bool: left/right ankle below CONTACT_HEIGHT_M and slower than CONTACT_SPEED_M_S, for
    joint positions `joints` (T, 24, 3) in metres with the floor at y = 0."""
    ankles = np.asarray(joints)[:, list(_ANKLES)]
    speed = np.linalg.norm(np.gradient(ankles, axis=0), axis=-1) * fps
    return (ankles[..., 1] < CONTACT_HEIGHT_M) & (speed < CONTACT_SPEED_M_S)


def join_features(joints: np.ndarray, root_aa: np.ndarray, planted: np.ndarray, frames: np.ndarray, fps: float = FPS) -> np.ndarray:
    """(len(frames), 24 * 6 + 2) float32: at each frame the joint positions around the root (x, z
    relative to it, y absolute) and the joint velocities (times VELOCITY_WEIGHT_S), both turned to
    the root's heading, and the planted feet (times `_CONTACT_WEIGHT_M`). `joints` (T, 24, 3) m,
    `root_aa` (T, 3), `planted` (T, 2) of one clip; `frames` int indices into it."""
    joints = np.asarray(joints, np.float64)
    velocity = np.gradient(joints, axis=0) * fps
    yaw = heading(root_aa[frames])
    c, s = np.cos(-yaw), np.sin(-yaw)
    turn = np.zeros((len(frames), 3, 3))
    turn[:, 0, 0], turn[:, 0, 2], turn[:, 1, 1], turn[:, 2, 0], turn[:, 2, 2] = c, s, 1.0, -s, c
    around = joints[frames] - joints[frames, :1] * np.array([1.0, 0.0, 1.0])
    pose = np.einsum("fij,fkj->fki", turn, around)
    moving = np.einsum("fij,fkj->fki", turn, velocity[frames]) * VELOCITY_WEIGHT_S
    feet = planted[frames].astype(np.float64) * _CONTACT_WEIGHT_M
    return np.concatenate([pose.reshape(len(frames), -1), moving.reshape(len(frames), -1), feet], axis=1).astype(np.float32)


def mirrored(poses: np.ndarray, trans: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mirror image (x -> -x) of SMPL axis-angle `poses` (T, 24, 3) and root path `trans` (T, 3)."""
    poses = np.asarray(poses)[:, _MIRROR_JOINTS].copy()
    poses[..., 1:] *= -1.0
    trans = np.asarray(trans).copy()
    trans[:, 0] *= -1.0
    return poses, trans


def library_files(folder: Path, exclude: tuple[str, ...] = ()) -> list[Path]:
    """Motion files under `folder` (searched recursively, sorted), less names matching `exclude` patterns."""
    files = sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in _SUFFIXES and not p.name.startswith("."))
    return [p for p in files if not any(fnmatch.fnmatch(p.name, pattern) for pattern in exclude)]


def _readme_terms(folder: Path) -> tuple[str, str]:
    """(title, licence line) of the README.md in `folder`, or a plain statement that there is none."""
    readme = folder / "README.md"
    if not readme.is_file():
        return folder.name, "licence unknown: no README.md beside the data"
    lines = readme.read_text(encoding="utf-8", errors="replace").splitlines()
    title = lines[0].lstrip("# ").strip() if lines else folder.name
    terms = next((line.strip(" -") for line in lines if re.search(r"terms|licen[cs]e|CC BY", line, re.I)), "see README.md")
    return title, terms


# Words that name a dance style in a folder's name or README title (a style's own name otherwise).
_STYLE_WORDS = {"hiphop": r"hip[\s_-]?hop"}


def style_of(path: Path, source: str = "") -> str:
    """The dance style (style_names.DANCE_STYLES) of motion file `path`: its genre's for AIST++ names
    (`AISTPP_GENRE_STYLES`), else the one style its folder's name or `source` (the folder's README
    title) names, else "" (unknown: such clips are danced only by a library without labelled styles)."""
    genre = genre_of(path)
    if genre in AISTPP_GENRE_STYLES:
        return AISTPP_GENRE_STYLES[genre]
    text = f"{Path(path).parent.name} {source}"
    named = [style for style in DANCE_STYLES if re.search(_STYLE_WORDS.get(style, style), text, re.I)]
    return named[0] if len(named) == 1 else ""


def _cache_key(files: list[Path], root: Path, mirror: bool) -> str:
    digest = hashlib.sha256(f"{INDEX_VERSION} mirror={mirror}".encode())
    for path in files:
        stat = path.stat()
        digest.update(f"\n{path.relative_to(root)} {stat.st_size} {stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def build_library(files: list[Path], *, mirror: bool = MIRROR, key: str = "") -> MotionLibrary:
    """Index the motion `files` (any format a2a reads; joint-position files, which have no rotations,
    and clips too short to hold two joinable beats are skipped with a log line)."""
    from a2a_cli.motion.formats import load_motion
    from a2a_cli.motion.resample import resample
    from a2a_cli.scoring.beats import motion_beats

    poses, trans, names, sources, licences, styles = [], [], [], [], [], []
    beats, features, energy, planted = [], [], [], []
    offset = 0
    for path in files:
        motion = load_motion(path)
        if not motion.has_rotations:
            _log.info("%s: joint positions only, no rotations: not usable as library motion", path.name)
            continue
        motion = resample(motion, float(FPS))
        source, licence = _readme_terms(path.parent)
        style = style_of(path, source)
        variants = [(path.name, motion.poses, motion.trans)]
        if mirror:
            variants.append((f"{path.name} (mirrored)", *mirrored(motion.poses, motion.trans)))
        for name, clip_poses, clip_trans in variants:
            clip_trans = np.array(clip_trans, np.float64)
            joints = forward_kinematics(clip_poses, clip_trans)
            floor = floor_height(joints)
            clip_trans[:, 1] -= floor
            joints = joints - np.array([0.0, floor, 0.0])
            clip_beats = motion_beats(joints, float(FPS))
            clip_beats = clip_beats[(clip_beats >= JOIN_MARGIN_FRAMES) & (clip_beats < len(joints) - JOIN_MARGIN_FRAMES)]
            if clip_beats.size < 2:
                _log.info("%s: fewer than two beats away from its ends: skipped", name)
                continue
            feet = feet_planted(joints)
            speed = np.linalg.norm(np.diff(joints, axis=0), axis=-1).mean(axis=1) * FPS
            between = np.array([speed[a:b].mean() for a, b in zip(clip_beats[:-1], clip_beats[1:])] + [np.nan])
            poses.append(np.asarray(clip_poses, np.float32))
            trans.append(clip_trans.astype(np.float32))
            names.append(name)
            sources.append(source)
            licences.append(licence)
            styles.append(style)
            beats.append(clip_beats + offset)
            features.append(join_features(joints, clip_poses[:, 0], feet, clip_beats))
            energy.append(between)
            planted.append(feet)
            offset += len(joints)
    if not names:
        raise InputError("no usable motion in the library: it needs files with rotations (BVH, AIST++ .pkl, AMASS .npz, SMPL .npy/.npz)")
    lengths = [len(p) for p in poses]
    return MotionLibrary(
        poses=np.concatenate(poses), trans=np.concatenate(trans),
        clip_offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        clip_names=tuple(names), clip_sources=tuple(sources), clip_licences=tuple(licences), clip_styles=tuple(styles),
        beats=np.concatenate(beats).astype(np.int64),
        beat_clip=np.concatenate([np.full(len(b), c) for c, b in enumerate(beats)]).astype(np.int64),
        features=np.concatenate(features), energy=np.concatenate(energy).astype(np.float32),
        planted=np.concatenate(planted), key=key,
    )


def _read_index(path: Path) -> MotionLibrary:
    size = path.stat().st_size
    if size > _MAX_INDEX_BYTES:
        raise InputError(f"{path}: {size} bytes is larger than any motion library index a2a writes")
    return MotionLibrary.from_bytes(path.read_bytes(), str(path))


def load_library(path: str | Path, *, exclude: tuple[str, ...] = (), mirror: bool = MIRROR) -> MotionLibrary:
    """The library at `path`: an index .npz (`MotionLibrary.to_bytes`), or a folder of motion files,
    indexed on first use and cached beside them as CACHE_NAME (rebuilt when the files change; kept
    in memory only when the folder is read-only). `exclude`: file-name patterns left out (held-back
    test data); `mirror`: also index each clip mirrored left for right."""
    path = Path(path).expanduser()
    if path.is_file():
        return _read_index(path)
    if not path.is_dir():
        raise InputError(f"motion library {path} does not exist (a folder of motion files or an index .npz)")
    files = library_files(path, exclude)
    if not files:
        raise InputError(f"motion library {path} holds no motion files ({', '.join(sorted(_SUFFIXES))})")
    key = _cache_key(files, path, mirror) + f" exclude={','.join(exclude)}"
    cached = path / CACHE_NAME
    if cached.is_file():
        try:
            library = _read_index(cached)
            if library.key == key:
                return library
        except InputError as e:
            _log.info("%s: %s; rebuilding", cached, e)
    library = build_library(files, mirror=mirror, key=key)
    try:
        atomic_write(cached, library.to_bytes())
    except OSError as e:
        _log.warning("motion library index not cached beside %s (%s): it is rebuilt on every run", path, e)
    return library


@cache
def shipped_library() -> MotionLibrary:
    """The library shipped with a2a: CMU salsa takes 1-10, retargeted (see data/README.md)."""
    data = resources.files("a2a_cli.generation.library").joinpath(SHIPPED).read_bytes()
    return MotionLibrary.from_bytes(data, "the shipped motion library")
