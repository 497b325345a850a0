"""The model zoo and `a2a download-weights`, against a loopback HTTP server (127.0.0.1 only).

The server serves plain files with HTTP Range support, and the hub's file-resolve protocol
(`/{repo}/resolve/{revision}/{file}`: X-Repo-Commit, ETag, Content-Length) that huggingface_hub
speaks through HF_ENDPOINT. It can cut a connection after a number of bytes, ignore Range
requests, or corrupt a byte, and it records every request, so the tests see what was asked.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import numpy as np
import pytest

from a2a_cli import zoo
from a2a_cli.errors import InputError, WorkError
from support.subnet_helpers import http_server

PAYLOAD = np.random.default_rng(7).bytes(300_000)  # a "checkpoint" of 300 kB of random bytes
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()
COMMIT = "0123456789abcdef0123456789abcdef01234567"
REPO = "someone/toy-model"


@dataclass
class Behaviour:
    """What the server does: cut the first `cuts` responses after `cut_after` bytes of body, ignore
    Range headers, flip a byte; it records (method, path, Range header) and body bytes sent."""

    cut_after: int = 0
    cuts: int = 0
    ignore_range: bool = False
    corrupt: bool = False
    html: bool = False
    extra: int = 0  # bytes of junk sent after the file
    chunked: bool = False  # no Content-Length: the body's end is the connection's
    gzip: bool = False  # the body gzip-compressed, with Content-Encoding: gzip
    requests: list = field(default_factory=list)
    body_bytes: int = 0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    behaviour: Behaviour

    def log_message(self, *args):  # quiet
        pass

    def do_HEAD(self):
        self._serve(head=True)

    def do_GET(self):
        self._serve(head=False)

    def _serve(self, head: bool):
        b = self.behaviour
        b.requests.append((self.command, self.path, self.headers.get("Range")))
        hub = self.path == f"/{REPO}/resolve/main/weights.pt"
        if self.path != "/weights.pt" and not hub:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        data = bytearray(PAYLOAD)
        if b.corrupt:
            data[len(data) // 2] ^= 0xFF
        start = 0
        rng = self.headers.get("Range")
        if rng and not b.ignore_range:
            start = int(rng.split("=")[1].split("-")[0])
        if start >= len(data):
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{len(data)}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = bytes(data[start:]) + bytes(b.extra)
        if b.gzip:
            import gzip

            body = gzip.compress(bytes(20 * len(PAYLOAD)))  # 6 MB of zeros in a few kB
        self.send_response(206 if start else 200)
        self.send_header("Content-Type", "text/html" if b.html else "application/octet-stream")
        if b.gzip:
            self.send_header("Content-Encoding", "gzip")
        if b.chunked:
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        if hub:
            self.send_header("X-Repo-Commit", COMMIT)
            self.send_header("ETag", f'"{PAYLOAD_SHA}"')
        self.end_headers()
        if head:
            return
        if b.cuts > 0:
            b.cuts -= 1
            self.wfile.write(body[: b.cut_after])
            b.body_bytes += b.cut_after
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(body)
        b.body_bytes += len(body)


@pytest.fixture
def server():
    """A loopback server on a free port; yields (base URL, behaviour)."""
    behaviour = Behaviour()
    with http_server(type("Handler", (_Handler,), {"behaviour": behaviour})) as httpd:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", behaviour


def write_manifest(folder: Path, sources: str, sha256: str | None = PAYLOAD_SHA, size: int | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    hash_line = f'sha256 = "{sha256}"' if sha256 else 'sha256_unknown = "nobody published one"'
    size_line = f"size = {size}" if size is not None else f"approx_size = {len(PAYLOAD)}"
    (folder / "toy.toml").write_text(f'''
name = "toy"
title = "a toy model"
architecture = "edge-dance-decoder"
feature_type = "baseline"
licence = "MIT"

[[files]]
name = "weights.pt"
format = "torch"
{hash_line}
{size_line}
{sources}
''')
    return folder


def url_source(base: str) -> str:
    return f'[[files.sources]]\nurl = "{base}/weights.pt"\n'


@pytest.fixture
def toy_zoo(tmp_path, monkeypatch, server):
    """A zoo holding one model, `toy`, whose file is on the loopback server; fast retries."""
    base, behaviour = server
    monkeypatch.setattr(zoo, "MANIFEST_DIR", write_manifest(tmp_path / "models", url_source(base)))
    monkeypatch.setattr(zoo, "RETRY_WAIT_S", 0.01)
    return tmp_path / "data", behaviour


def test_the_shipped_manifests_parse_and_pin_the_edge_checkpoint():
    cards = {card.name: card for card in zoo.models()}
    edge = cards["edge"].weights
    assert edge.sha256 == "28ca4ce167bb17c36869b4d021af8762a34c6df034002f61b3bc1c1d0b1b02c7"
    assert edge.sources[0].hf_repo == "edge-dance-generation/EDGE"  # the Hugging Face mirror first
    assert cards["edge"].feature_type == "jukebox" and cards["edge"].parameters == 49_464_471
    assert edge.size is None and 1.1e9 < edge.approx_size < 1.3e9  # only the rounded size is published


def test_a_manifest_with_an_unknown_key_is_refused_by_name(tmp_path, monkeypatch):
    folder = write_manifest(tmp_path, url_source("http://127.0.0.1:9"))
    path = folder / "toy.toml"
    path.write_text(path.read_text().replace('licence = "MIT"', 'licence = "MIT"\nlicense = "MIT"'))
    monkeypatch.setattr(zoo, "MANIFEST_DIR", folder)
    with pytest.raises(WorkError, match=r"toy.toml: unknown key 'license'"):
        zoo.model_card("toy")


def test_a_manifest_without_a_hash_must_say_why(tmp_path, monkeypatch):
    folder = write_manifest(tmp_path, url_source("http://127.0.0.1:9"))
    path = folder / "toy.toml"
    path.write_text(path.read_text().replace(f'sha256 = "{PAYLOAD_SHA}"', ""))
    monkeypatch.setattr(zoo, "MANIFEST_DIR", folder)
    with pytest.raises(WorkError, match="sha256_unknown"):
        zoo.model_card("toy")


def test_download_verifies_and_places_the_file(toy_zoo):
    data, behaviour = toy_zoo
    [fetched] = zoo.download(["toy"], data)
    target = data / "models" / "toy" / "weights.pt"
    assert fetched.path == target and fetched.verified and fetched.sha256 == PAYLOAD_SHA
    assert target.read_bytes() == PAYLOAD
    assert not list((data / "models" / "toy" / ".partial").glob("*.part"))
    assert zoo.local_weights("toy", data) == target
    # A second run keeps the file and asks the server nothing.
    asked = len(behaviour.requests)
    [again] = zoo.download(["toy"], data)
    assert again.already_present and len(behaviour.requests) == asked


def test_a_cut_connection_is_resumed_with_a_range_request(toy_zoo):
    data, behaviour = toy_zoo
    behaviour.cut_after, behaviour.cuts = 120_000, 2  # two cuts in a row
    zoo.download(["toy"], data)
    assert (data / "models" / "toy" / "weights.pt").read_bytes() == PAYLOAD
    ranges = [r for _, _, r in behaviour.requests]
    assert ranges == [None, "bytes=120000-", "bytes=240000-"]
    assert behaviour.body_bytes == len(PAYLOAD)  # nothing was fetched twice


def test_an_interrupted_run_is_resumed_by_the_next_from_another_mirror(tmp_path, monkeypatch, server):
    """The first mirror goes away mid-file: the bytes stay; the next run resumes them from another mirror."""
    base, behaviour = server
    monkeypatch.setattr(zoo, "RETRY_WAIT_S", 0.01)
    with socket.socket() as s:  # a port nothing listens on: the first mirror, after it went down
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    partial = tmp_path / "data" / "models" / "toy" / ".partial"
    partial.mkdir(parents=True)
    (partial / f"weights.pt.{PAYLOAD_SHA[:16]}.part").write_bytes(PAYLOAD[:100_000])  # what the first run left
    monkeypatch.setattr(zoo, "MANIFEST_DIR", write_manifest(tmp_path / "models", url_source(dead) + url_source(base)))
    card = zoo.model_card("toy")
    assert zoo.file_state(card, card.weights, tmp_path / "data").partial_bytes == 100_000
    [fetched] = zoo.download(["toy"], tmp_path / "data")
    assert fetched.source == base.removeprefix("http://")
    assert fetched.path.read_bytes() == PAYLOAD
    assert [r for _, _, r in behaviour.requests] == ["bytes=100000-"]
    assert behaviour.body_bytes == len(PAYLOAD) - 100_000


def test_a_server_ignoring_range_replaces_the_partial_file(toy_zoo):
    data, behaviour = toy_zoo
    behaviour.cut_after, behaviour.cuts, behaviour.ignore_range = 50_000, 1, True
    zoo.download(["toy"], data)
    assert (data / "models" / "toy" / "weights.pt").read_bytes() == PAYLOAD


def test_a_corrupted_file_is_rejected_and_nothing_is_kept(toy_zoo):
    data, behaviour = toy_zoo
    behaviour.corrupt = True
    with pytest.raises(WorkError, match=r"sha256 [0-9a-f]{12}… is not the expected " + PAYLOAD_SHA[:12]) as e:
        zoo.download(["toy"], data)
    assert "\n" not in str(e.value) and "nothing kept" in str(e.value)
    folder = data / "models" / "toy"
    assert not (folder / "weights.pt").exists() and not (folder / ".weights.pt.json").exists()
    assert not list(folder.rglob("*.part"))
    with pytest.raises(zoo.MissingWeightsError, match="a2a download-weights toy"):
        zoo.local_weights("toy", data)


def test_a_wrong_hash_keeps_nothing_and_the_old_file_survives_force(toy_zoo):
    data, behaviour = toy_zoo
    zoo.download(["toy"], data)
    target = data / "models" / "toy" / "weights.pt"
    before = target.stat().st_mtime_ns
    url = zoo.model_card("toy").weights.sources[0].url
    with pytest.raises(WorkError, match="nothing kept"):
        zoo.download(["toy"], data, url=url, sha256="ab" * 32, force=True)
    assert target.read_bytes() == PAYLOAD and target.stat().st_mtime_ns == before
    assert not list(target.parent.rglob("*.part"))


@pytest.mark.parametrize("chunked", [False, True])
def test_a_server_sending_more_than_the_manifest_says_is_cut_at_the_manifests_size(toy_zoo, chunked):
    """The manifest's approx_size plus 5 %: a server declaring more is refused before a byte is
    written; one streaming more without a length is cut there; nothing is kept either way."""
    data, behaviour = toy_zoo
    behaviour.extra, behaviour.chunked = 3 * len(PAYLOAD), chunked
    with pytest.raises(WorkError, match=r"the server (offers 1200000 bytes; the manifest's file is at most|sent more than the manifest's) 315000\b.*nothing kept"):
        zoo.download(["toy"], data)
    assert not list((data / "models" / "toy").rglob("*.part")) and not (data / "models" / "toy" / "weights.pt").exists()


def test_a_compressed_answer_is_refused_before_anything_is_written(toy_zoo):
    data, behaviour = toy_zoo
    behaviour.gzip = True
    with pytest.raises(WorkError, match="sent 'gzip'-encoded content; only identity"):
        zoo.download(["toy"], data)
    assert sum(p.stat().st_size for p in (data / "models" / "toy").rglob("*.part")) == 0


def test_a_web_page_instead_of_the_file_is_a_clear_failure(toy_zoo):
    data, behaviour = toy_zoo
    behaviour.html = True
    with pytest.raises(WorkError, match="sent a web page"):
        zoo.download(["toy"], data)


def test_a_local_file_fetched_by_hand_is_checked_and_copied(toy_zoo, tmp_path):
    data, _ = toy_zoo
    by_hand = tmp_path / "Downloads" / "weights.pt"
    by_hand.parent.mkdir()
    by_hand.write_bytes(PAYLOAD)
    [fetched] = zoo.download(["toy"], data, url=str(by_hand))
    assert fetched.verified and fetched.path.read_bytes() == PAYLOAD and by_hand.exists()


def test_a_file_without_a_published_hash_is_kept_but_reported_unverified(tmp_path, monkeypatch, server):
    base, _ = server
    monkeypatch.setattr(zoo, "MANIFEST_DIR", write_manifest(tmp_path / "models", url_source(base), sha256=None))
    [fetched] = zoo.download(["toy"], tmp_path / "data")
    assert not fetched.verified and fetched.sha256 == PAYLOAD_SHA
    card = zoo.model_card("toy")
    state = zoo.file_state(card, card.weights, tmp_path / "data")
    assert state.present and not state.verified and state.sha256 == PAYLOAD_SHA


def test_usage_mistakes_are_input_errors(toy_zoo):
    data, _ = toy_zoo
    with pytest.raises(InputError, match="unknown model 'nope'; the model zoo has: toy"):
        zoo.download(["nope"], data)
    with pytest.raises(InputError, match="64 hexadecimal digits"):
        zoo.download(["toy"], data, url="http://127.0.0.1:9/x", sha256="xyz")
    with pytest.raises(InputError, match="give --url too"):
        zoo.download(["toy"], data, sha256="ab" * 32)
    with pytest.raises(InputError, match="name the one model it is for"):
        zoo.download([], data, url="http://127.0.0.1:9/x")


# --- The command, in a fresh process: HF_ENDPOINT and HF_HUB_OFFLINE are read when huggingface_hub starts.

# huggingface_hub writes what it receives in 10 MB chunks, and the bytes of a chunk cut short are
# fetched again; with 64 kB chunks a 300 kB file shows its resume.
_RUN_WITH_ZOO = "import sys; from pathlib import Path; import a2a_cli.zoo as z; z.MANIFEST_DIR = Path(sys.argv[1]); " \
                "import huggingface_hub.constants as c; c.DOWNLOAD_CHUNK_SIZE = 65536; " \
                "from a2a_cli.cli.app import main; main(sys.argv[2:])"


def run_cli(models_dir: Path, data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, "A2A_GENERAL_DATA_DIR": str(data_dir), "HF_HOME": str(data_dir / "hf-home"),
               "HF_HUB_DISABLE_TELEMETRY": "1", **env}
    for name in ("HF_HUB_OFFLINE", "HF_ENDPOINT", "HF_TOKEN"):
        if name not in env:
            environ.pop(name, None)
    return subprocess.run([sys.executable, "-c", _RUN_WITH_ZOO, str(models_dir), *args], capture_output=True, text=True,
                          timeout=120, env=environ)


def hub_source(repo: str = REPO) -> str:
    return f'[[files.sources]]\nhf_repo = "{repo}"\nhf_filename = "weights.pt"\n'


def test_the_hub_path_resumes_a_cut_through_hf_endpoint(tmp_path, server):
    base, behaviour = server
    behaviour.cut_after, behaviour.cuts = 100_000, 1
    models = write_manifest(tmp_path / "models", hub_source())
    result = run_cli(models, tmp_path / "data", "download-weights", "toy", "--json", HF_ENDPOINT=base)
    assert result.returncode == 0, result.stderr
    [fetched] = json.loads(result.stdout)
    assert fetched["verified"] and fetched["source"] == f"hf://{REPO}/weights.pt"
    assert Path(fetched["path"]).read_bytes() == PAYLOAD
    gets = [r for method, _, r in behaviour.requests if method == "GET"]
    assert gets == [None, "bytes=65536-"]  # huggingface_hub resumed from its last whole chunk
    assert not (tmp_path / "data" / "models" / "toy" / ".partial" / "hf").exists()


def test_the_hub_path_rejects_a_corrupted_file(tmp_path, server):
    base, behaviour = server
    behaviour.corrupt = True
    models = write_manifest(tmp_path / "models", hub_source())
    result = run_cli(models, tmp_path / "data", "download-weights", "toy", HF_ENDPOINT=base)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "nothing kept" in result.stderr and "Traceback" not in result.stderr
    folder = tmp_path / "data" / "models" / "toy"
    assert not (folder / "weights.pt").exists() and not (folder / ".partial" / "hf").exists()
    assert list(folder.iterdir()) == []  # no lock file, no empty .partial/ (issue 19, 4)


def test_offline_is_one_line(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    models = write_manifest(tmp_path / "models", hub_source() + url_source(dead))
    result = run_cli(models, tmp_path / "data", "download-weights", "toy", HF_HUB_OFFLINE="1")
    assert result.returncode == 1 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("error: could not download toy/weights.pt: ")
    assert "offline (HF_HUB_OFFLINE is set)" in line and "cannot connect" in line


# The hub client waits 1, 2, 4, 8 and 8 s between its retries: here it does not wait.
_RUN_WITHOUT_RETRY_WAITS = _RUN_WITH_ZOO.replace(
    "from a2a_cli.cli.app import main",
    "import time, types, huggingface_hub.utils._http as http; "
    "http.time = types.SimpleNamespace(**{**vars(time), 'sleep': lambda s: None}); "
    "from a2a_cli.cli.app import main")


def test_a_hub_that_does_not_answer_is_said_while_the_client_retries_and_nothing_is_left(tmp_path):
    """Offline, the hub client retried for 25 s in silence, then left an empty weights.pt.lock and
    an empty .partial/ (issue 19, 4): now a note says what it waits for and how not to."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    models = write_manifest(tmp_path / "models", hub_source())
    environ = {**os.environ, "A2A_GENERAL_DATA_DIR": str(tmp_path / "data"), "HF_HOME": str(tmp_path / "hf-home"),
               "HF_HUB_DISABLE_TELEMETRY": "1", "HF_ENDPOINT": dead}
    environ.pop("HF_HUB_OFFLINE", None)
    result = subprocess.run([sys.executable, "-c", _RUN_WITHOUT_RETRY_WAITS, str(models), "download-weights", "toy"],
                            capture_output=True, text=True, timeout=120, env=environ)
    assert result.returncode == 1 and result.stdout == ""
    note, error = result.stderr.splitlines()
    assert note == (f"note: toy/weights.pt from hf://{REPO}/weights.pt: no answer from {dead} yet; the hub client retries for "
                    "about 25 s before it gives up (HF_HUB_OFFLINE=1 gives up at once, HF_ENDPOINT names a mirror)")
    assert error.startswith("error: could not download toy/weights.pt: ") and f"cannot reach {dead}" in error
    assert list((tmp_path / "data" / "models" / "toy").iterdir()) == []


def test_a_download_leaves_only_the_file_and_its_record(toy_zoo):
    data, _ = toy_zoo
    zoo.download(["toy"], data)
    assert sorted(p.name for p in (data / "models" / "toy").iterdir()) == [".weights.pt.json", "weights.pt"]


def test_list_shows_sizes_licences_and_what_is_downloaded(tmp_path, server):
    base, _ = server
    models = write_manifest(tmp_path / "models", url_source(base), size=len(PAYLOAD))
    data = tmp_path / "data"
    before = run_cli(models, data, "download-weights", "--list", COLUMNS="200")
    assert before.returncode == 0, before.stderr
    [row] = [line for line in before.stdout.splitlines() if "toy" in line]
    assert "weights.pt" in row and "300.0 kB" in row and "MIT" in row and "baseline" in row and "not downloaded" in row
    assert run_cli(models, data, "download-weights", "toy").returncode == 0
    after = json.loads(run_cli(models, data, "download-weights", "--list", "--json").stdout)
    assert after == [{
        "model": "toy", "title": "a toy model", "architecture": "edge-dance-decoder", "parameters": None,
        "feature_type": "baseline", "licence": "MIT", "licence_notes": "", "file": "weights.pt", "format": "torch",
        "size": len(PAYLOAD), "approx_size": None, "sha256": PAYLOAD_SHA, "sha256_origin": "",
        "sources": [base.removeprefix("http://")], "path": str(data / "models" / "toy" / "weights.pt"),
        "downloaded": True, "verified": True, "sha256_on_disk": PAYLOAD_SHA, "size_on_disk": len(PAYLOAD), "partial_bytes": 0,
    }]
    unknown = run_cli(models, data, "download-weights", "nope")
    assert unknown.returncode == 2 and "unknown model 'nope'" in unknown.stderr
