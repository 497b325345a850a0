"""Motion files (DESIGN §3): .npy, .npz and .bvh readers and writers, safe on untrusted input.

Miners send motions over the wire and users point `a2a score` at any file, so every reader
checks before it reads: raw size caps, `.npy` headers parsed by hand (object dtypes, pickles and
headers that promise more data than the file holds or than any dance needs are refused without
touching the data), zip members' declared sizes (no zip bombs), then `np.load(allow_pickle=False)`.
Every cap follows from a frame count (`max_frames`: `motion.MAX_FILE_FRAMES` for files, exactly
the frames asked for on the wire), so an array is never larger than the motion it could hold.
Datasets' files are read too: AMASS archives (.npz with `mocap_framerate`, amass.py), AIST++
motion pickles (.pkl, aistpp.py, through an unpickler that builds only numpy arrays) and BVH of any
skeleton (CMU, Mixamo: retargeted to SMPL-24 as they are read, bvh.py and retarget.py).

Arrays are recognised by shape (`motion_from_array`):
- (T, 75): 72 SMPL axis-angle values (24 joints x 3) then the root translation in metres;
- (T, 72): axis-angle only, no translation: the feet are put on the floor (grounding.py);
- (T, 151): EDGE vectors (see `motion_from_edge_vector`);
- (T, 24, 3): joint positions in metres (the motion then has no rotations).
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from a2a_cli.errors import ARCHIVE_ERRORS, InputError, WorkError
from a2a_cli.fileio import atomic_write
from a2a_cli.motion.amass import FRAMERATE_KEYS, amass_motion
from a2a_cli.motion.grounding import grounded
from a2a_cli.motion.bvh import read_bvh, write_bvh
from a2a_cli.motion.format_names import FORMATS, READ_ONLY_FORMATS  # re-exported: motion.formats.FORMATS
from a2a_cli.motion.motion import DEFAULT_FPS, MAX_FILE_FPS, MAX_FILE_FRAMES, MIN_FILE_FPS, Motion, change_up_axis, require_finite
from a2a_cli.motion.rotations import axis_angle_to_matrix, matrix_to_6d, matrix_to_axis_angle, sixd_to_matrix
from a2a_cli.motion.skeleton import FOOT_JOINTS, N_JOINTS

__all__ = [
    "ACCEPTED_SHAPES", "EDGE_CONTACTS", "EDGE_CONTACT_SPEED", "EDGE_DIM", "EDGE_ROOT", "EDGE_ROT6D",
    "MAX_ARRAY_BYTES", "MAX_FILE_BYTES", "MAX_META_BYTES", "MAX_NPZ_MEMBERS", "decode_motion",
    "encode_motion", "load_motion", "max_file_bytes", "motion_from_array", "motion_from_edge_vector", "motion_to_array",
    "motion_to_edge_vector", "read_npz_members", "save_motion",
]


# Ten minutes at 60 fps of 151 float64 columns is 43 MB; no real dance array comes near these.
MAX_FILE_BYTES = 256 * 2**20
MAX_ARRAY_BYTES = 64 * 2**20
_MAX_COLUMNS = 165  # the widest frame an array may hold: SMPL-X poses of an AMASS archive (EDGE vectors: 151)
MAX_META_BYTES = 2**20
MAX_NPZ_MEMBERS = 16
_ZIP_ENCRYPTED = 0x1  # bit 0 of a zip entry's general-purpose flags (APPNOTE 4.4.4)

ACCEPTED_SHAPES = (
    "(T, 75) axis-angle + translation, (T, 72) axis-angle, (T, 151) EDGE vectors or (T, 24, 3) joint positions"
)

# EDGE's motion vector (Stanford-TML/EDGE, dataset/dance_dataset.py `process_dataset`):
# [4 foot contacts (left ankle, right ankle, left toe, right toe), 3 root position,
#  24 x 6 local rotations as the first two rows of each matrix (pytorch3d's rotation_6d)],
# expressed z-up: EDGE rotates AIST++'s y-up data by +90 degrees about x (root rotation and
# position). Files hold the unnormalised vectors (what EDGE's sampler renders), not the
# normalised training inputs.
EDGE_DIM = 151
EDGE_CONTACTS = slice(0, 4)  # left ankle, right ankle, left toe, right toe (FOOT_JOINTS order)
EDGE_ROOT = slice(4, 7)
EDGE_ROT6D = slice(7, EDGE_DIM)
EDGE_CONTACT_SPEED = 0.01  # metres per frame below which EDGE calls a foot in contact


# ----------------------------------------------------------------------------- arrays <-> Motion


def motion_from_array(arr: np.ndarray, fps: float = DEFAULT_FPS, meta: dict | None = None) -> Motion:
    """A Motion from one array, its layout detected by shape (see the module docstring)."""
    arr = np.asarray(arr)
    if arr.dtype.kind not in "fiu":
        raise InputError(f"motion array has dtype {arr.dtype}; expected numbers")
    shape = tuple(arr.shape)
    is_joints = arr.ndim == 3 and shape[1:] == (N_JOINTS, 3)
    if not (is_joints or (arr.ndim == 2 and shape[1] in (75, 72, EDGE_DIM))):
        raise InputError(f"motion array has shape {shape}; expected {ACCEPTED_SHAPES}")
    if shape[0] == 0:
        raise InputError("motion has 0 frames")
    require_finite(arr, "motion")
    with np.errstate(over="ignore"):  # float64 beyond float32 becomes inf: the judge's finite gate fails it
        arr = arr.astype(np.float32, copy=False)
    meta = dict(meta or {})
    if is_joints:
        return Motion.from_joints(arr, fps=fps, meta=meta)
    if shape[1] == EDGE_DIM:
        return motion_from_edge_vector(arr, fps=fps, meta=meta)
    poses = arr[:, :72].reshape(-1, N_JOINTS, 3)
    if shape[1] == 72:  # no translation: the pelvis at the origin would put the feet 0.9 m under the floor
        return grounded(Motion(poses=poses, trans=np.zeros((shape[0], 3), np.float32), fps=fps, meta=meta))
    return Motion(poses=poses, trans=arr[:, 72:75], fps=fps, meta=meta)


def motion_to_array(motion: Motion) -> np.ndarray:
    """(T, 75) float32 for a motion with rotations; (T, 24, 3) joint positions otherwise."""
    if motion.poses is None:
        return np.asarray(motion.joints, dtype=np.float32)
    return np.concatenate([motion.poses.reshape(-1, 72), motion.trans], axis=1).astype(np.float32)


def motion_from_edge_vector(vectors: np.ndarray, fps: float = DEFAULT_FPS, meta: dict | None = None) -> Motion:
    """(T, 151) z-up EDGE vectors -> a y-up Motion; the contact columns are dropped (FK recomputes feet)."""
    vectors = np.asarray(vectors, dtype=np.float64)
    if vectors.ndim != 2 or vectors.shape[1] != EDGE_DIM:
        raise InputError(f"EDGE vectors must be (T, {EDGE_DIM}), got {tuple(vectors.shape)}")
    rot6d = vectors[:, EDGE_ROT6D].reshape(-1, N_JOINTS, 6)
    poses_z = matrix_to_axis_angle(sixd_to_matrix(rot6d))
    poses, trans = change_up_axis(poses_z, vectors[:, EDGE_ROOT], to="y")
    return Motion(poses=poses, trans=trans, fps=fps, meta=dict(meta or {}))


def motion_to_edge_vector(motion: Motion) -> np.ndarray:
    """A Motion -> (T, 151) float32 z-up EDGE vectors, contacts computed as EDGE does.

    A foot joint is in contact when it moves less than 1 cm to the next frame; the last frame,
    having no next one, counts as in contact (EDGE pads the speed with 0).
    """
    if motion.poses is None:
        raise InputError("a motion known only as joint positions has no rotations for an EDGE vector")
    feet = motion.joints[:, FOOT_JOINTS].astype(np.float64)
    speed = np.zeros(feet.shape[:2])
    speed[:-1] = np.linalg.norm(feet[1:] - feet[:-1], axis=-1)
    contacts = (speed < EDGE_CONTACT_SPEED).astype(np.float64)
    poses_z, trans_z = change_up_axis(motion.poses, motion.trans, to="z")
    rot6d = matrix_to_6d(axis_angle_to_matrix(poses_z.astype(np.float64))).reshape(motion.n_frames, -1)
    return np.concatenate([contacts, trans_z, rot6d], axis=1).astype(np.float32)


# ----------------------------------------------------------------------------- safe .npy / .npz


_HEADER_PEEK = 16 + 10_000  # magic, length and numpy's largest header (read_array_header's max_header_size)


def _npy_header(data: bytes, what: str, *, max_bytes: int, kinds: str, max_rows: int | None = None) -> tuple[int, int]:
    """Check an .npy header (in the first bytes of `data`): (the bytes of data it declares, where
    they start). Refuses objects, odd dtypes, more than `max_bytes`, and more than `max_rows` rows."""
    fp = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(fp)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fp)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fp)
        else:
            raise InputError(f"{what}: unsupported .npy format version {version[0]}.{version[1]}")
    except InputError:
        raise
    except Exception as e:  # numpy parses the header with Python's tokenizer: any error means garbage
        raise InputError(f"{what} is not a valid .npy array ({_first_line(e)})") from None
    if dtype.hasobject:
        raise InputError(f"{what} holds Python objects (a pickle); refused without loading it")
    if dtype.kind not in kinds or dtype.fields is not None or dtype.subdtype is not None:
        raise InputError(f"{what} has dtype {dtype}; expected {'a string' if kinds == 'U' else 'numbers'}")
    if any(n < 0 for n in shape):
        raise InputError(f"{what} declares a negative dimension in shape {tuple(shape)}")
    n_items = 1
    for n in shape:
        n_items *= n
    declared = n_items * dtype.itemsize
    if declared > max_bytes:
        raise InputError(
            f"{what} declares shape {tuple(shape)} of {dtype} ({_human(declared)}), over the {_human(max_bytes)} cap"
        )
    if max_rows is not None and shape and shape[0] > max_rows:
        raise InputError(f"{what} declares {shape[0]} frames, over the cap of {max_rows}")
    return declared, fp.tell()


def _read_npy(data: bytes, what: str, *, max_bytes: int = MAX_ARRAY_BYTES, kinds: str = "fiu", max_rows: int | None = None) -> np.ndarray:
    """Parse the header first (`_npy_header`); refuse sizes the bytes cannot back; then load."""
    declared, start = _npy_header(data, what, max_bytes=max_bytes, kinds=kinds, max_rows=max_rows)
    available = len(data) - start
    if declared > available:
        raise InputError(f"{what} is truncated: its header declares {declared} bytes of data, the file holds {available}")
    try:
        return np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, EOFError, OSError) as e:
        raise InputError(f"{what} cannot be read ({_first_line(e)})") from None


def _array_cap(max_frames: int, columns: int = _MAX_COLUMNS) -> int:
    """The most bytes an array of at most `max_frames` frames of `columns` float64 values holds (within MAX_ARRAY_BYTES)."""
    return min(MAX_ARRAY_BYTES, int(max_frames) * columns * 8)


def _decode_npz(data: bytes, max_frames: int) -> Motion:
    """Read only the members a motion has (others are ignored unread), each through `_read_npy`,
    each capped from `max_frames` before it is decompressed."""
    caps = {"poses": _array_cap(max_frames), "trans": _array_cap(max_frames, 3), "joints": _array_cap(max_frames, 72),
            "fps": 64, "meta": MAX_META_BYTES, **{key: 64 for key in FRAMERATE_KEYS}}
    arrays = read_npz_members(data, caps, text=("meta",), what="a motion has at most 5 (poses, trans, fps, joints, meta)",
                              max_rows=max_frames)
    if any(key in arrays for key in FRAMERATE_KEYS):
        return amass_motion(arrays)
    return _motion_from_npz_arrays(arrays)


def read_npz_members(data: bytes, caps: dict[str, int], *, text: tuple[str, ...] = (), what: str = "",
                     max_rows: int | None = None) -> dict[str, np.ndarray]:
    """The members named in `caps` (name -> most bytes of data) of an .npz archive, each checked
    before it is decompressed: its declared size, then its .npy header, read alone (`_npy_header`:
    no pickles, at most `max_rows` rows, no sizes the bytes cannot back). Members not named are
    ignored unread; `text` members are strings, the others numbers; `what` says in the
    too-many-members error what the archive should hold."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except ARCHIVE_ERRORS as e:
        raise InputError(f"not a valid .npz archive ({_first_line(e)})") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_NPZ_MEMBERS:
            raise InputError(f".npz archive has {len(infos)} members; {what or f'at most {MAX_NPZ_MEMBERS}'}")
        members = {info.filename.removesuffix(".npy"): info for info in infos}
        arrays = {}
        for key, cap in caps.items():
            info = members.get(key)
            if info is None:
                continue
            # Declared sizes first (a zip bomb declares little and inflates a lot; zipfile stops
            # at the declared size), then the member itself through the .npy checks.
            if info.file_size > cap + 4096:
                raise InputError(f".npz member '{key}' declares {_human(info.file_size)}, over the {_human(cap)} cap")
            if info.flag_bits & _ZIP_ENCRYPTED:  # zipfile would raise RuntimeError asking for a password
                raise InputError(f".npz member '{key}' is encrypted; save the archive without a password")
            where, kinds = f".npz member '{key}'", "U" if key in text else "fiu"
            try:
                with archive.open(info) as f:
                    raw = f.read(_HEADER_PEEK)
                    _npy_header(raw, where, max_bytes=cap, kinds=kinds, max_rows=max_rows)  # before the rest is inflated
                    raw += f.read(cap + 4097)
            except ARCHIVE_ERRORS as e:
                raise InputError(f".npz member '{key}' cannot be read ({_first_line(e)})") from None
            arrays[key] = _read_npy(raw, where, max_bytes=cap, kinds=kinds, max_rows=max_rows)
    return arrays


def _motion_from_npz_arrays(arrays: dict[str, np.ndarray]) -> Motion:
    fps = DEFAULT_FPS
    if "fps" in arrays:
        fps_arr = arrays["fps"]
        if fps_arr.size != 1 or not np.isfinite(fps_arr).all() or not MIN_FILE_FPS <= float(fps_arr.reshape(())) <= MAX_FILE_FPS:
            raise InputError(f".npz 'fps' must be one number in [{MIN_FILE_FPS:g}, {MAX_FILE_FPS:g}], got {fps_arr.reshape(-1)[:3].tolist()}")
        fps = float(fps_arr.reshape(()))
    meta = {}
    if "meta" in arrays:
        try:
            meta = json.loads(str(arrays["meta"].reshape(())))
        except (ValueError, TypeError, RecursionError) as e:  # RecursionError: nesting deeper than json allows
            raise InputError(f".npz 'meta' is not one JSON string ({_first_line(e)})") from None
        if not isinstance(meta, dict):
            raise InputError(f".npz 'meta' must be a JSON object, got {type(meta).__name__}")
    if "poses" not in arrays:
        if "joints" in arrays:
            return motion_from_array(arrays["joints"], fps=fps, meta=meta)
        raise InputError(".npz motion has no 'poses' (T, 72) (nor 'joints' (T, 24, 3))")
    poses = arrays["poses"]
    if poses.ndim == 3 and poses.shape[1:] == (N_JOINTS, 3):
        poses = poses.reshape(poses.shape[0], -1)
    if poses.ndim != 2 or poses.shape[1] != 72:
        raise InputError(f".npz 'poses' has shape {tuple(poses.shape)}; expected (T, 72) or (T, 24, 3)")
    trans = arrays.get("trans")
    if trans is None:
        trans = np.zeros((poses.shape[0], 3), np.float32)
    if trans.shape != (poses.shape[0], 3):
        raise InputError(f".npz 'trans' has shape {tuple(trans.shape)}; expected ({poses.shape[0]}, 3) to match 'poses'")
    # Stored joints are ignored when rotations exist: positions always come from FK, so a file
    # cannot show a scorer positions that its rotations do not produce.
    return motion_from_array(np.concatenate([poses, trans], axis=1), fps=fps, meta=meta)


def _encode_npz(motion: Motion) -> bytes:
    try:
        meta = json.dumps(motion.meta, default=_json_scalar)
    except (TypeError, ValueError) as e:
        raise WorkError(f"motion meta cannot be written as JSON: {e}") from None
    fields = {"fps": np.float64(motion.fps), "meta": np.array(meta)}
    if motion.poses is None:
        fields["joints"] = np.asarray(motion.joints, dtype=np.float32)
    else:
        fields["poses"] = motion.poses.reshape(-1, 72).astype(np.float32)
        fields["trans"] = motion.trans.astype(np.float32)
    buf = io.BytesIO()
    np.savez_compressed(buf, allow_pickle=False, **fields)
    return buf.getvalue()


def _json_scalar(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


# ----------------------------------------------------------------------------- bytes and files


def encode_motion(motion: Motion, fmt: str) -> bytes:
    """A motion as the bytes of a .npy, .npz or .bvh file (the wire formats of DESIGN §7)."""
    fmt = _check_format(fmt)
    if fmt == "npy":
        buf = io.BytesIO()
        np.save(buf, motion_to_array(motion), allow_pickle=False)
        return buf.getvalue()
    if fmt == "npz":
        return _encode_npz(motion)
    return write_bvh(motion).encode("ascii")


def decode_motion(data: bytes, fmt: str, *, fps: float = DEFAULT_FPS, max_bytes: int | None = None,
                  max_frames: int = MAX_FILE_FRAMES) -> Motion:
    """Bytes of a motion file -> Motion, refusing anything unsafe or malformed with an InputError.

    `fps` applies to .npy only: .npz stores its own, .bvh has its frame time, AIST++ .pkl is 60 fps.
    max_bytes: the largest data accepted (None: the format's cap, `max_file_bytes`). max_frames:
    the most frames the motion may have; every array and the BVH frame count are checked against
    it before they are read (a .pkl's arrays against its own, larger, AIST++ cap).
    """
    fmt = _check_format(fmt, reading=True)
    max_bytes = max_file_bytes(fmt) if max_bytes is None else max_bytes
    if len(data) > max_bytes:
        raise InputError(f"motion data is {_human(len(data))}, over the {_human(max_bytes)} cap")
    if not data:
        raise InputError("motion data is empty")
    if fmt == "npy":
        motion = motion_from_array(_read_npy(data, ".npy motion", max_bytes=_array_cap(max_frames), max_rows=max_frames), fps=fps)
    elif fmt == "npz":
        motion = _decode_npz(data, max_frames)
    elif fmt == "pkl":
        from a2a_cli.motion.aistpp import aistpp_motion, read_aistpp

        motion = aistpp_motion(read_aistpp(data))
    else:
        motion = read_bvh(data, max_frames=max_frames)
    if motion.n_frames > max_frames:
        raise InputError(f"motion has {motion.n_frames} frames, over the cap of {max_frames}")
    return motion


def max_file_bytes(fmt: str) -> int:
    """The largest file of format `fmt` read: MAX_FILE_BYTES, or for an AIST++ .pkl its own smaller cap."""
    if _check_format(fmt, reading=True) == "pkl":
        from a2a_cli.motion.aistpp import MAX_FILE_BYTES as PKL_MAX_FILE_BYTES

        return PKL_MAX_FILE_BYTES
    return MAX_FILE_BYTES


def load_motion(path: str | os.PathLike, fps: float = DEFAULT_FPS) -> Motion:
    """Read a .npy, .npz, .bvh or AIST++ .pkl motion file (format from the extension; see `decode_motion`)."""
    path = Path(path)
    fmt = _format_of(path, reading=True)
    try:
        size = path.stat().st_size
        if size > max_file_bytes(fmt):
            raise InputError(f"{path} is {_human(size)}, over the {_human(max_file_bytes(fmt))} cap for .{fmt} motion files")
        data = path.read_bytes() if path.is_file() else None
    except FileNotFoundError:
        raise InputError(f"motion file not found: {path}") from None
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror or e}") from None
    if data is None:
        raise InputError(f"{path} is not a file")
    if not data:
        raise InputError(f"{path} is empty")
    try:
        return decode_motion(data, fmt, fps=fps)
    except InputError as e:
        raise InputError(f"{path}: {e}") from None


def save_motion(motion: Motion, path: str | os.PathLike, *, overwrite: bool = True) -> Path:
    """Write a motion atomically in the format its extension names; returns the path."""
    path = Path(path)
    fmt = _format_of(path)
    if not overwrite and path.exists():
        raise InputError(f"{path} already exists (pass overwrite to replace it)")
    return atomic_write(path, encode_motion(motion, fmt))


def _format_of(path: Path, *, reading: bool = False) -> str:
    fmt = path.suffix.lower().lstrip(".")
    known = FORMATS + READ_ONLY_FORMATS if reading else FORMATS
    if fmt not in known:
        raise InputError(f"{path}: unknown motion file type '{path.suffix}'; expected {', '.join('.' + f for f in known)}")
    return fmt


def _check_format(fmt: str, *, reading: bool = False) -> str:
    fmt = fmt.lower().lstrip(".")
    known = FORMATS + READ_ONLY_FORMATS if reading else FORMATS
    if fmt not in known:
        raise InputError(f"unknown motion format {fmt!r}; expected one of {', '.join(known)}")
    return fmt


def _human(n_bytes: int) -> str:
    if n_bytes < 1024:
        return f"{n_bytes} bytes"
    value = float(n_bytes)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024:
            break
    return f"{value:.1f} {unit}"


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]
