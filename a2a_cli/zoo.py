"""The model zoo: the manifests of the models with weights, and their download, check and cache.

One TOML manifest per model lives in the top-level `models/` folder, shipped in the wheel as
`a2a_cli/models/` (DESIGN §2, §5; `models/edge.toml` documents the keys). Weights live in the data
dir, `<data dir>/models/<model>/<file>`, and a file lands there only whole and checked: it is
fetched into `<data dir>/models/<model>/.partial/`, its sha256 compared with the manifest's (or the
user's `--sha256`), and only then renamed into place in one step. A wrong hash keeps nothing.

Hub-hosted files are fetched by huggingface_hub, which brings the `HF_ENDPOINT` mirrors, offline
mode (`HF_HUB_OFFLINE=1`), tokens for gated repos, Xet storage and resuming after a connection cut.
Plain URLs are fetched by httpx with HTTP Range requests: a cut connection is resumed in the same
run, and an interrupted run is resumed by the next one from the bytes kept in `.partial/`. A path
to a local file (a checkpoint downloaded by hand) is accepted as a URL too. A plain URL or a local
file may not bring more bytes than the manifest says the file has (its exact `size`, or its
`approx_size` plus `SIZE_MARGIN`), counted as they arrive, and a server must send them as they are:
a compressed answer (`Content-Encoding` other than identity) is refused before a byte is written.

The library never prints: progress goes to a callback the CLI draws as a bar, and what the user
should know while waiting (the hub client retrying a host it cannot reach) to a notice callback.
Nothing is left behind but the file and, after a cut, the bytes to resume from: the lock file and
an empty `.partial/` are removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import shutil
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from a2a_cli.errors import InputError, WorkError

__all__ = [
    "CHUNK_BYTES", "Fetched", "FileState", "HTTP_TIMEOUT_S", "MANIFEST_DIR", "MAX_STALLED_ATTEMPTS",
    "MissingWeightsError", "ModelCard", "RETRY_WAIT_S", "SIZE_MARGIN", "Source", "WeightFile", "download", "file_state",
    "local_files", "local_weights", "model_card", "model_dir", "models", "parse_sha256", "read_manifest",
]

# In a source checkout a link to the top-level models/ folder; in the wheel the folder itself.
MANIFEST_DIR = Path(__file__).with_name("models")

# progress(label, bytes done, total bytes or None): what a fetch reports as it goes.
Progress = Callable[[str, int, "int | None"], None]
# notice(text): one line for the user, said once, while a download waits (the CLI prints it as a note).
Notice = Callable[[str], None]

# A plain-URL fetch gives up after this many attempts in a row that brought no new bytes.
MAX_STALLED_ATTEMPTS = 5
# Seconds to wait before retry n (n = 1, 2, ...): RETRY_WAIT_S * n.
RETRY_WAIT_S = 0.5
# Seconds an HTTP connection or read may stall before it counts as cut.
HTTP_TIMEOUT_S = 30.0
CHUNK_BYTES = 1 << 20
# How far past a manifest's approx_size a download may run before it is cut (its exact size: not at all).
SIZE_MARGIN = 0.05

_SHA256 = re.compile(r"[0-9a-f]{64}")


class MissingWeightsError(InputError):
    """A model's weights are not in the data dir (the user must fetch or name them: exit code 2, as
    for any missing input); the message names the command that fetches them."""


@dataclass(frozen=True)
class Source:
    """One place a file is fetched from: a Hugging Face repo file, or a URL (or local path)."""

    hf_repo: str | None = None
    hf_filename: str | None = None
    hf_revision: str | None = None  # a branch, tag or commit of the repo; None means main
    url: str | None = None

    @property
    def label(self) -> str:
        """Where it comes from, for messages: hf://REPO/FILE or the URL's host (or the local path)."""
        if self.hf_repo is not None:
            return f"hf://{self.hf_repo}/{self.hf_filename}"
        parts = urlsplit(self.url or "")
        return parts.netloc or self.url or ""


@dataclass(frozen=True)
class WeightFile:
    """One file of a model: where it comes from and how to know it arrived whole."""

    name: str  # the file's name in the model's folder of the data dir
    format: str  # "torch" (torch.save) or "safetensors"
    sha256: str | None  # lower-case hex; None when no hash is published
    sha256_origin: str  # who vouches for the hash, or why there is none
    size: int | None  # exact bytes, when known
    approx_size: int | None  # bytes, rounded, when only that is known (for listings and the space check)
    sources: tuple[Source, ...]  # tried in this order

    @property
    def shown_size(self) -> int | None:
        return self.size if self.size is not None else self.approx_size

    @property
    def max_bytes(self) -> int | None:
        """The most bytes a download of this file may bring (its exact size, or its approx_size plus
        SIZE_MARGIN), or None when the manifest knows neither."""
        if self.size is not None:
            return self.size
        return None if self.approx_size is None else int(self.approx_size * (1 + SIZE_MARGIN))


@dataclass(frozen=True)
class ModelCard:
    """A model of the zoo, as its manifest describes it."""

    name: str
    title: str
    architecture: str
    parameters: int | None
    feature_type: str  # the audio conditioning the weights expect: "jukebox" (4800) or "baseline" (35)
    training_data: str
    licence: str
    licence_notes: str
    homepage: str
    code: str
    paper: str
    notes: str
    notice: str  # said to the user whenever the model is downloaded (terms the user must know, such as non-commercial use)
    files: tuple[WeightFile, ...]  # the first is the weights a generator loads
    manifest: Path

    @property
    def weights(self) -> WeightFile:
        return self.files[0]


# ---------------------------------------------------------------------------------------------
# Manifests

# key: (type, required). One table of the schema per level of the manifest.
_MODEL_KEYS: dict[str, tuple[type, bool]] = {
    "name": (str, True), "title": (str, True), "architecture": (str, True), "parameters": (int, False),
    "feature_type": (str, True), "training_data": (str, False), "licence": (str, True), "licence_notes": (str, False),
    "homepage": (str, False), "code": (str, False), "paper": (str, False), "notes": (str, False), "notice": (str, False),
    "files": (list, True),
}
_FILE_KEYS: dict[str, tuple[type, bool]] = {
    "name": (str, True), "format": (str, True), "sha256": (str, False), "sha256_origin": (str, False),
    "sha256_unknown": (str, False), "size": (int, False), "approx_size": (int, False), "sources": (list, True),
}
_SOURCE_KEYS: dict[str, tuple[type, bool]] = {
    "hf_repo": (str, False), "hf_filename": (str, False), "hf_revision": (str, False), "url": (str, False),
}
_FORMATS = ("torch", "safetensors", "numpy", "json")  # numpy: .npz read without pickle; json: a config


def _checked(table: Any, keys: dict[str, tuple[type, bool]], where: str) -> dict[str, Any]:
    """`table` as a dict whose keys are all known, required ones present, each of its type."""
    if not isinstance(table, dict):
        raise WorkError(f"{where} must be a table")
    for key, value in table.items():
        if key not in keys:
            raise WorkError(f"{where}: unknown key {key!r} (known: {', '.join(keys)})")
        kind = keys[key][0]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise WorkError(f"{where}: {key!r} must be a {kind.__name__}, got {type(value).__name__}")
    missing = [key for key, (_, required) in keys.items() if required and key not in table]
    if missing:
        raise WorkError(f"{where}: missing {', '.join(missing)}")
    return table


def _parse_source(table: Any, where: str) -> Source:
    raw = _checked(table, _SOURCE_KEYS, where)
    source = Source(**raw)
    if (source.url is None) == (source.hf_repo is None) or (source.hf_repo is None) != (source.hf_filename is None):
        raise WorkError(f"{where}: give either url, or hf_repo and hf_filename")
    return source


def _parse_file(table: Any, where: str) -> WeightFile:
    raw = _checked(table, _FILE_KEYS, where)
    sha256 = raw.get("sha256")
    if sha256 is not None and not _SHA256.fullmatch(sha256):
        raise WorkError(f"{where}: sha256 must be 64 lower-case hex digits")
    if (sha256 is None) == ("sha256_unknown" not in raw):
        raise WorkError(f"{where}: give sha256, or sha256_unknown saying why no hash is known")
    if raw["format"] not in _FORMATS:
        raise WorkError(f"{where}: format must be one of {', '.join(_FORMATS)}")
    if not raw["sources"]:
        raise WorkError(f"{where}: no sources")
    sources = tuple(_parse_source(s, f"{where} source {i + 1}") for i, s in enumerate(raw["sources"]))
    origin = raw.get("sha256_origin", "") if sha256 is not None else raw["sha256_unknown"]
    return WeightFile(name=raw["name"], format=raw["format"], sha256=sha256, sha256_origin=origin,
                      size=raw.get("size"), approx_size=raw.get("approx_size"), sources=sources)


def read_manifest(path: Path) -> ModelCard:
    """The model a manifest describes; a WorkError naming the file and key for anything malformed."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise WorkError(f"cannot read model manifest {path}: {e}") from None
    raw = _checked(doc, _MODEL_KEYS, str(path))
    if raw["name"] != path.stem:
        raise WorkError(f"{path}: name {raw['name']!r} differs from the file's name")
    files = tuple(_parse_file(f, f"{path} file {i + 1}") for i, f in enumerate(raw["files"]))
    if not files:
        raise WorkError(f"{path}: no files")
    fields = {key: raw.get(key, "") for key in _MODEL_KEYS if key not in ("files", "parameters")}
    return ModelCard(**fields, parameters=raw.get("parameters"), files=files, manifest=path)


def models() -> list[ModelCard]:
    """Every model of the zoo, by name."""
    return [read_manifest(path) for path in sorted(MANIFEST_DIR.glob("*.toml"))]


def model_card(name: str) -> ModelCard:
    """The model called `name`; an InputError listing the zoo when there is none."""
    path = MANIFEST_DIR / f"{name}.toml"
    if "/" in name or "\\" in name or not path.is_file():
        known = ", ".join(card.name for card in models()) or "none"
        raise InputError(f"unknown model {name!r}; the model zoo has: {known}")
    return read_manifest(path)


# ---------------------------------------------------------------------------------------------
# The cache in the data dir


def _resolve_data_dir(data_dir: Path | None) -> Path:
    if data_dir is not None:
        return Path(data_dir)
    from a2a_cli.config import load_settings

    return load_settings().data_dir


def model_dir(name: str, data_dir: Path | None = None) -> Path:
    """The folder of model `name`'s files: `<data dir>/models/<name>`. `data_dir` None means the
    configured one (general.data_dir, else the user data dir)."""
    return _resolve_data_dir(data_dir) / "models" / name


def _record_path(target: Path) -> Path:
    """Where what a2a knows of a downloaded file is kept: its hash, what it was checked against, its source."""
    return target.with_name(f".{target.name}.json")


def _partial_dir(target: Path) -> Path:
    return target.parent / ".partial"


@dataclass(frozen=True)
class FileState:
    """A model file as found in the data dir."""

    path: Path
    present: bool
    size: int | None  # bytes on disk, when present
    partial_bytes: int  # bytes of an interrupted plain-URL download waiting to be resumed
    sha256: str | None  # as recorded when a2a downloaded it; None for a file put there by hand
    verified: bool  # its hash was checked against the manifest's or one the user gave
    source: str | None  # where a2a fetched it from


def file_state(card: ModelCard, file: WeightFile, data_dir: Path | None = None) -> FileState:
    """What of `file` is in the data dir."""
    path = model_dir(card.name, data_dir) / file.name
    partial = _partial_dir(path)
    partial_bytes = sum(p.stat().st_size for p in partial.glob(f"{file.name}.*.part")) if partial.is_dir() else 0
    record: dict[str, Any] = {}
    try:
        record = json.loads(_record_path(path).read_text())
    except (OSError, ValueError):
        pass
    present = path.is_file()
    return FileState(path=path, present=present, size=path.stat().st_size if present else None, partial_bytes=partial_bytes,
                     sha256=record.get("sha256") if present else None, verified=bool(present and record.get("verified")),
                     source=record.get("source") if present else None)


def local_weights(name: str, data_dir: Path | None = None) -> Path:
    """The path of model `name`'s weights file in the data dir.

    `data_dir` None means the configured data dir. Raises MissingWeightsError (one line, naming the
    command that fetches them) when the weights are not there, and InputError for an unknown model.
    """
    card = model_card(name)
    path = model_dir(name, data_dir) / card.weights.name
    if not path.is_file():
        raise MissingWeightsError(f"the {name} model's weights are not downloaded ({path} is missing): "
                                  f"run `a2a download-weights {name}`, or give --weights PATH")
    return path


def local_files(name: str, data_dir: Path | None = None, *, without: tuple[str, ...] = ()) -> dict[str, Path]:
    """Every file of model `name` in the data dir, by its manifest name (for models of several files,
    such as weights and statistics), but those named in `without` (e.g. the weights, when the user
    gives their own checkpoint). Raises MissingWeightsError naming the first missing file and the
    command that fetches it, and InputError for an unknown model."""
    card = model_card(name)
    folder = model_dir(name, data_dir)
    paths = {file.name: folder / file.name for file in card.files if file.name not in without}
    missing = [path for path in paths.values() if not path.is_file()]
    if missing:
        raise MissingWeightsError(f"the {name} model's files are not all downloaded ({missing[0]} is missing): "
                                  f"run `a2a download-weights {name}`")
    return paths


# ---------------------------------------------------------------------------------------------
# Downloading


@dataclass(frozen=True)
class Fetched:
    """One file `download` dealt with."""

    model: str
    file: str
    path: Path
    sha256: str | None  # None when it was already present and not fetched again
    verified: bool  # checked against a known hash (the manifest's or the user's)
    source: str | None  # where it came from; None when already present
    already_present: bool


def parse_sha256(text: str) -> str:
    """A sha256 given by the user, as 64 lower-case hex digits; an InputError otherwise."""
    value = text.strip().lower()
    if not _SHA256.fullmatch(value):
        raise InputError(f"--sha256 must be 64 hexadecimal digits, got {text!r}")
    return value


def download(names: list[str], data_dir: Path | None = None, *, url: str | None = None, sha256: str | None = None,
             force: bool = False, progress: Progress | None = None, notice: Notice | None = None) -> list[Fetched]:
    """Fetch the files of the models `names` (every model of the zoo when empty) into the data dir.

    `url` (with exactly one model of one file) replaces the manifest's sources with a mirror, or a
    local path, of the user's choice; `sha256` (hex) is then the hash to check, else the manifest's.
    A file already present is kept unless `force`; with `force` the old file stays until the new
    one, checked, replaces it. Each source is tried in turn; when all fail, a one-line WorkError
    says why for each, and nothing unchecked is left in place. `progress(label, done, total)`
    follows the bytes; `notice(text)` hears, once, why a download is waiting (the hub client
    retrying a host it cannot reach: about 25 s before it gives up).
    """
    if url is not None and len(set(names)) != 1:
        raise InputError("--url is one file: name the one model it is for (a2a download-weights NAME --url URL)")
    cards = [model_card(name) for name in dict.fromkeys(names)] if names else models()
    expected = parse_sha256(sha256) if sha256 is not None else None
    if url is not None and len(cards[0].files) != 1:
        raise InputError(f"--url is one file, and model {cards[0].name} has {len(cards[0].files)}")
    if expected is not None and url is None:
        raise InputError("--sha256 checks the file of --url: give --url too")
    results = []
    for card in cards:
        for file in card.files:
            if url is not None:
                same_file = expected in (None, file.sha256)  # else the user's own file: the manifest's sizes are not its
                file = replace(file, sha256=expected or file.sha256, sources=(Source(url=url),),
                               sha256_origin="given with --sha256" if expected else file.sha256_origin,
                               size=file.size if same_file else None, approx_size=file.approx_size if same_file else None)
            results.append(_download_file(card, file, model_dir(card.name, data_dir), force, progress, notice))
    return results


def _download_file(card: ModelCard, file: WeightFile, folder: Path, force: bool, progress: Progress | None,
                   notice: Notice | None) -> Fetched:
    from a2a_cli.fileio import exclusive_lock

    target = folder / file.name
    what = f"{card.name}/{file.name}"
    with exclusive_lock(target, what=f"{what} download", busy=f"{what} is being downloaded by another a2a process", remove=True):
        try:
            return _download_locked(card, file, target, force, progress, notice)
        finally:
            with contextlib.suppress(OSError):
                _partial_dir(target).rmdir()  # only when empty: bytes kept to resume from stay


def _download_locked(card: ModelCard, file: WeightFile, target: Path, force: bool, progress: Progress | None,
                     notice: Notice | None) -> Fetched:
    """`_download_file`'s work, under its lock."""
    from a2a_cli.fileio import move_into_place

    what = f"{card.name}/{file.name}"
    if target.is_file() and not force:
        return Fetched(card.name, file.name, target, None, False, None, already_present=True)
    failures = []
    for source in file.sources:
        try:
            fetched = _fetch(source, file, target, f"{what} from {source.label}", progress, notice)
            sha256 = _sha256_of(fetched)
            problem = _mismatch(fetched, sha256, file)
            if problem is None:
                move_into_place(fetched, target)
                _write_record(target, sha256, file.sha256 is not None, source)
                return Fetched(card.name, file.name, target, sha256, file.sha256 is not None, source.label, already_present=False)
            fetched.unlink(missing_ok=True)
            failures.append(f"{source.label}: {problem} (nothing kept)")
        except _SourceFailed as e:
            failures.append(f"{source.label}: {e}")
        finally:
            shutil.rmtree(_partial_dir(target) / "hf", ignore_errors=True)  # the hub library's staging
    raise WorkError(f"could not download {what}: " + "; ".join(failures))


def _mismatch(fetched: Path, sha256: str, file: WeightFile) -> str | None:
    """Why the fetched file (whose hash is `sha256`) is not the one wanted, or None when it is, or
    cannot be told apart (no hash and no exact size known)."""
    if file.sha256 is not None:
        return None if sha256 == file.sha256 else f"sha256 {sha256[:12]}… is not the expected {file.sha256[:12]}…"
    size = fetched.stat().st_size
    return None if file.size in (None, size) else f"{size} bytes, not {file.size}"


def _write_record(target: Path, sha256: str, verified: bool, source: Source) -> None:
    from a2a_cli.fileio import atomic_write

    record = {"sha256": sha256, "verified": verified, "source": source.label, "downloaded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    atomic_write(_record_path(target), json.dumps(record, indent=2) + "\n")


def _sha256_of(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


class _SourceFailed(Exception):
    """This source could not deliver the file (the message says why, in a few words); try the next."""


def _fetch(source: Source, file: WeightFile, target: Path, label: str, progress: Progress | None, notice: Notice | None) -> Path:
    """Bring the file from `source` into the partial folder beside `target`; returns the path of
    the complete, not yet checked file (on the same file system as `target`)."""
    partial = _partial_dir(target)
    try:
        partial.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise WorkError(f"cannot write {partial}: {e.strerror or e}") from None
    if source.hf_repo is not None:
        return _fetch_hf(source, partial / "hf", label, progress, notice)
    key = file.sha256 or hashlib.sha256((source.url or "").encode()).hexdigest()
    part = partial / f"{file.name}.{key[:16]}.part"  # bytes kept for this exact file, from any of its mirrors
    _check_free_space(partial, file.shown_size, part)
    local = _local_path(source.url or "")
    if local is not None:
        _copy_local(local, part, label, progress, file.max_bytes)
    else:
        _fetch_url(source.url or "", part, label, progress, file.max_bytes)
    return part


def _check_free_space(folder: Path, size: int | None, part: Path) -> None:
    if size is None:
        return
    have = part.stat().st_size if part.exists() else 0
    free = shutil.disk_usage(folder).free
    if free < size - have:
        raise WorkError(f"not enough disk space in {folder}: {(size - have) / 1e9:.2f} GB needed, {free / 1e9:.2f} GB free")


def _local_path(url: str) -> Path | None:
    """The local file a "URL" names (file://... or a plain path), or None for a network URL."""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https"):
        return None
    if parts.scheme == "file":
        return Path(parts.path)
    if parts.scheme and len(parts.scheme) > 1:  # one letter: a Windows drive
        raise InputError(f"cannot download {url}: only http://, https:// and local files are supported")
    return Path(url).expanduser()


def _copy_local(source: Path, part: Path, label: str, progress: Progress | None, max_bytes: int | None) -> None:
    if not source.is_file():
        raise InputError(f"no such file: {source}")
    total = source.stat().st_size
    if max_bytes is not None and total > max_bytes:
        raise _SourceFailed(f"{source} is {total} bytes; the manifest's file is at most {max_bytes}")
    with open(source, "rb") as src, open(part, "wb") as dst:
        done = 0
        while chunk := src.read(CHUNK_BYTES):
            dst.write(chunk)
            done += len(chunk)
            if progress:
                progress(label, done, total)


def _fetch_url(url: str, part: Path, label: str, progress: Progress | None, max_bytes: int | None) -> None:
    """Download `url` into `part`, resuming from the bytes already there with a Range request; at
    most `max_bytes` in all (None: no cap).

    A cut connection is retried from where it stopped; MAX_STALLED_ATTEMPTS attempts in a row
    without new bytes give up (the bytes stay for the next run). A server that ignores the Range
    request sends the whole file, which replaces the partial one; the sha256 check afterwards
    catches a file that changed on the server between two runs.
    """
    import httpx

    stalled = 0
    last_error = ""
    with httpx.Client(follow_redirects=True, timeout=HTTP_TIMEOUT_S) as client:
        while stalled < MAX_STALLED_ATTEMPTS:
            have = part.stat().st_size if part.exists() else 0
            try:
                finished, gained = _fetch_once(client, url, part, have, label, progress, max_bytes)
            except httpx.ConnectError as e:  # no server to talk to (offline, a wrong host): retrying will not help
                raise _SourceFailed(f"cannot connect (offline?): {e}{_kept(part)}") from None
            except httpx.TransportError as e:
                finished, gained, last_error = False, part.stat().st_size - have if part.exists() else 0, _describe_transport_error(e)
            if finished:
                return
            stalled = 0 if gained > 0 else stalled + 1
            if stalled < MAX_STALLED_ATTEMPTS:
                time.sleep(RETRY_WAIT_S * max(stalled, 1))
    raise _SourceFailed(f"{last_error or 'the connection kept breaking'}{_kept(part)}")


def _kept(part: Path) -> str:
    """What stays of an interrupted download, for its message."""
    have = part.stat().st_size if part.exists() else 0
    return f" ({have} bytes kept; the next run resumes from there)" if have else ""


def _fetch_once(client: Any, url: str, part: Path, have: int, label: str, progress: Progress | None,
                max_bytes: int | None) -> tuple[bool, int]:
    """One GET from byte `have` on: (whether the file is complete, bytes gained). Past `max_bytes`
    in all (a declared length, or the bytes as they come) the partial file is deleted and the source fails."""
    headers = {"Range": f"bytes={have}-", "Accept-Encoding": "identity"} if have else {"Accept-Encoding": "identity"}
    with client.stream("GET", url, headers=headers) as response:
        if response.status_code == 416 and have:  # nothing from byte `have` on: complete already, or not a prefix
            if response.headers.get("content-range", "").endswith(f"/{have}"):
                return True, 0
            part.unlink()
            return False, 0
        if response.status_code not in (200, 206):
            raise _SourceFailed(f"HTTP {response.status_code} {response.reason_phrase}".strip())
        if response.headers.get("content-type", "").startswith("text/html"):
            raise _SourceFailed("the server sent a web page (an access or confirmation page?), not the file")
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if encoding != "identity":  # it would inflate past any count of the bytes on the wire
            raise _SourceFailed(f"the server sent {_shown(encoding)}-encoded content; only identity was asked for and is accepted")
        start = _range_start(response) if response.status_code == 206 else 0
        if start != have and response.status_code == 206:
            raise _SourceFailed(f"asked for bytes from {have} on, the server sent them from {start}")
        length = response.headers.get("content-length")
        total = start + int(length) if length and length.isdigit() else None
        if max_bytes is not None and total is not None and total > max_bytes:
            part.unlink(missing_ok=True)
            raise _SourceFailed(f"the server offers {total} bytes; the manifest's file is at most {max_bytes} (nothing kept)")
        done = start
        with open(part, "ab" if start else "wb") as f:
            for chunk in response.iter_raw():  # as they arrive, undecoded: a chunker would lose its buffer in a cut
                if max_bytes is not None and done + len(chunk) > max_bytes:
                    f.close()
                    part.unlink(missing_ok=True)
                    raise _SourceFailed(f"the server sent more than the manifest's {max_bytes} bytes (nothing kept)")
                f.write(chunk)
                done += len(chunk)
                if progress:
                    progress(label, done, total)
        complete = total is None or done >= total
        return complete, done - have


def _shown(text: str, limit: int = 40) -> str:
    """A server's text quoted for a message, cut to `limit` characters, printable."""
    text = "".join(c if c.isprintable() else "?" for c in text)
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _range_start(response: Any) -> int:
    """The first byte a 206 answer carries, from its Content-Range: bytes START-END/TOTAL."""
    match = re.match(r"bytes (\d+)-", response.headers.get("content-range", ""))
    if match is None:
        raise _SourceFailed("the server answered a Range request without a valid Content-Range")
    return int(match.group(1))


def _describe_transport_error(e: Exception) -> str:
    import httpx

    if isinstance(e, httpx.TimeoutException):
        return "timed out"
    return f"connection broken: {e}".rstrip(": ")


def _fetch_hf(source: Source, staging: Path, label: str, progress: Progress | None, notice: Notice | None) -> Path:
    """Download a hub file with huggingface_hub into `staging` (HF_ENDPOINT, HF_HUB_OFFLINE, tokens
    and retries are the hub library's); returns the downloaded file. Its first retry is told to
    `notice`: without a network the hub client retries for about 25 s before it gives up."""
    try:
        import huggingface_hub
        from huggingface_hub.utils import logging as hub_logging
    except ModuleNotFoundError:
        raise _SourceFailed("needs the huggingface_hub package: pip install 'a2a[models]'") from None

    if huggingface_hub.constants.HF_HUB_OFFLINE:
        raise _SourceFailed(_HUB_OFFLINE)
    verbosity = hub_logging.get_verbosity()
    hub_logging.set_verbosity_error()  # its retry warnings would print; the library never prints
    retries = _RetryNotice(f"{label}: no answer from {huggingface_hub.constants.ENDPOINT} yet; the hub client retries "
                           "for about 25 s before it gives up (HF_HUB_OFFLINE=1 gives up at once, HF_ENDPOINT names a mirror)",
                           notice)
    try:
        with retries:
            path = huggingface_hub.hf_hub_download(source.hf_repo or "", source.hf_filename or "", revision=source.hf_revision,
                                                   local_dir=staging, tqdm_class=_hub_progress_class(label, progress))
    except Exception as e:
        reason = _hub_failure(e, source)
        if reason is None:
            raise
        raise _SourceFailed(reason) from None
    finally:
        hub_logging.set_verbosity(verbosity)
    return Path(path)


class _RetryNotice(logging.Handler):
    """While in use, hears the hub client's HTTP warnings (each retry logs one) instead of letting
    them print, and tells `notice` the text given, once, at the first."""

    LOGGER = "huggingface_hub.utils._http"  # where huggingface_hub's retry loop logs

    def __init__(self, text: str, notice: Notice | None):
        super().__init__(logging.WARNING)
        self.text, self.notice, self.told = text, notice, False
        self._saved: tuple[int, bool] | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if not self.told and self.notice is not None:
            self.told = True
            self.notice(self.text)

    def __enter__(self) -> _RetryNotice:
        logger = logging.getLogger(self.LOGGER)
        self._saved = (logger.level, logger.propagate)
        logger.setLevel(logging.WARNING)
        logger.propagate = False  # the hub's own handler (on its package logger) would print the warning
        logger.addHandler(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        logger = logging.getLogger(self.LOGGER)
        logger.removeHandler(self)
        logger.setLevel(self._saved[0])
        logger.propagate = self._saved[1]


_HUB_OFFLINE = "offline (HF_HUB_OFFLINE is set)"


def _hub_failure(e: Exception, source: Source) -> str | None:
    """Why huggingface_hub could not fetch `source`, in a few words; None for an error no download explains (a bug)."""
    from huggingface_hub import constants, errors

    reasons = (  # subclasses before their bases: a gated repo is a RepositoryNotFoundError
        (errors.GatedRepoError, "the repository is gated: accept its terms on the hub and log in (hf auth login)"),
        (errors.RepositoryNotFoundError, "no such repository (or it is private)"),
        (errors.RevisionNotFoundError, f"no revision {source.hf_revision!r} in the repository"),
        (errors.RemoteEntryNotFoundError, "no such file in the repository"),
        (errors.OfflineModeIsEnabled, _HUB_OFFLINE),
        (errors.LocalEntryNotFoundError, f"cannot reach {constants.ENDPOINT} (offline?)"),
    )
    for kind, reason in reasons:
        if isinstance(e, kind):
            return reason
    if isinstance(e, errors.HfHubHTTPError):
        return f"HTTP {e.response.status_code if e.response is not None else '?'}"
    if isinstance(e, OSError):  # a cut the hub library could not resume, a size that did not match
        return str(e).splitlines()[0] if str(e) else type(e).__name__
    if type(e).__module__.split(".")[0] in ("httpx2", "httpcore2", "httpx", "httpcore"):  # after its own retries
        return f"connection broken: {e}"
    return None


def _hub_progress_class(label: str, progress: Progress | None) -> type | None:
    """A tqdm class that reports the hub library's byte counts to `progress` and draws nothing."""
    if progress is None:
        return None
    from tqdm.auto import tqdm

    class HubProgress(tqdm):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)
            self.done = int(kwargs.get("initial") or 0)
            progress(label, self.done, self.total)

        def update(self, n: float | None = 1) -> bool | None:
            self.done += int(n or 0)
            progress(label, self.done, self.total)
            return None

    return HubProgress
