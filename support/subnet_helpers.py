"""Shared pieces for the subnet tests and benchmarks: wallets in temp dirs (or public keys only), a
settable clock, a fast generator, a miner (or any ASGI app, or a plain http.server handler) served on
127.0.0.1 in a background thread, and signed requests."""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from a2a_cli.chain import protocol
from a2a_cli.chain.auth import create_wallet, sign_request
from a2a_cli.chain.local_chain import LocalChain
from a2a_cli.chain.miner import MinerService, MinerSettings, bind_socket, create_app, server_config
from a2a_cli.examples import synth_song
from a2a_cli.motion import Motion


def key(name: str) -> SimpleNamespace:
    """A wallet as the local chain sees it: public addresses only (names stand in for ss58)."""
    return SimpleNamespace(name=name, hotkey=SimpleNamespace(ss58_address=f"hot-{name}"),
                           coldkeypub=SimpleNamespace(ss58_address=f"cold-{name}"))


class Clock:
    """A clock the test sets (`clock.t += 12`), for chains whose blocks follow wall time."""

    def __init__(self, t: float = 1000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


SR = protocol.FPS * 512  # the feature rate: 512 samples per motion frame


class FixedPrompts:
    """A validator's prompt source that always gives the same clip of music (no audio files needed)."""

    tasks = ("dance",)

    def __init__(self, duration_s: float = 4.0):
        from a2a_cli.chain.prompts import Prompt

        self.prompt = Prompt("p", synth_song(120.0, duration_s, sr=SR, seed=3), SR, duration_s)

    def sample(self, rng, task: str = "dance") -> object:
        return self.prompt


def make_wallets(root: Path, *names: str) -> list:
    """Real bittensor wallets (unencrypted, for tests) under `root`, one per name."""
    return [create_wallet(name, "hot", root) for name in names]


def fast_generate(samples: np.ndarray, sr: int, duration_s: float, seed: int) -> Motion:
    """A trivial generator (a slow sway, exactly round(duration_s * 30) frames): it isolates the
    protocol's own cost from the cost of generating."""
    n = protocol.expected_frames(duration_s)
    t = np.arange(n, dtype=np.float32) / protocol.FPS
    poses = np.zeros((n, 24, 3), np.float32)
    poses[:, 0, 1] = 0.3 * np.sin(2 * np.pi * 0.5 * t + seed)
    trans = np.zeros((n, 3), np.float32)
    trans[:, 1] = 0.9
    return Motion(poses=poses, trans=trans, fps=protocol.FPS)


def prompt_body(duration_s: float = 2.0, *, seed: int = 0, prompt_id: str = "p1", sr: int = 15360, task: str = "dance") -> bytes:
    """A validator's request body for `task` (its audio a synthetic song, whatever the task)."""
    audio = protocol.encode_wav(synth_song(120.0, duration_s, sr=sr, seed=seed), sr)
    request = protocol.GenerateRequest(prompt_id=prompt_id, audio=audio, duration_s=duration_s, seed=seed, task=task)
    return protocol.request_body(request)


def signed_headers(wallet, body: bytes, receiver: str, path: str = protocol.GENERATE_PATH, *, timeout_s: float = 30.0,
                   nonce_ns: int | None = None) -> dict[str, str]:
    """A JSON request's headers, signed by `wallet` for `receiver` (ss58), waiting `timeout_s` for the answer."""
    return {"content-type": "application/json",
            **sign_request(wallet, method="POST", path=path, body=body, receiver_hotkey=receiver, timeout_s=timeout_s, nonce_ns=nonce_ns)}


def local_chain_with(path: Path, validators: dict, miners: list, **params) -> LocalChain:
    """A fresh local chain with `validators` ({wallet: stake}) and `miners` registered."""
    chain = LocalChain(path, netuid=1, **params)
    for wallet, stake in validators.items():
        chain.burned_register(wallet)
        chain.set_stake(wallet.hotkey.ss58_address, stake)
    for wallet in miners:
        chain.burned_register(wallet)
    return chain


@contextlib.contextmanager
def running_app(app, config=None) -> Iterator[str]:
    """Serve an ASGI `app` on 127.0.0.1 (a free port) in a thread, with `config` (a uvicorn.Config
    of `app`) or uvicorn's defaults; yields the base URL."""
    import uvicorn

    sock = bind_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = uvicorn.Server(config or uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


class QuietHandler(http.server.BaseHTTPRequestHandler):
    """A request handler that logs nothing (http.server writes every request to stderr)."""

    def log_message(self, *args) -> None:
        pass


@contextlib.contextmanager
def http_server(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[http.server.ThreadingHTTPServer]:
    """Serve `handler` with the standard library on 127.0.0.1 (a free port) in a thread; yields the server."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    # shutdown() waits for the serving loop's next poll: the default 0.5 s, paid by every test that closes one
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def running_miner(service: MinerService) -> Iterator[str]:
    """Serve `service` on 127.0.0.1 (a free port) in a thread, bounded as `a2a mine` serves it; yields the base URL."""
    app = create_app(service)
    try:
        with running_app(app, server_config(app, service.settings, service.guard, log_level="warning", lifespan="off")) as url:
            yield url
    finally:
        service.pool.shutdown(wait=False, cancel_futures=True)


def json_detail(response) -> str:
    try:
        return json.loads(response.content).get("detail", "")
    except ValueError:
        return ""


__all__ = ["SR", "FixedPrompts", "MinerService", "MinerSettings", "QuietHandler", "fast_generate", "http_server", "json_detail", "local_chain_with",
           "make_wallets", "prompt_body", "running_app", "running_miner", "signed_headers"]


def judged_on_merit(reason: str) -> bool:
    """Whether a validator's reason for an answer's score is the judge's own (its terms), not a refusal:
    a failed gate, a copy of another answer, an invalid or missing reply."""
    return not reason.startswith(("gate", "copy", "invalid", "HTTP", "scoring failed"))
