"""The miner's HTTP service: FastAPI on uvicorn, serving protocol v1 to validators (DESIGN §7).

`POST /v1/generate` runs, cheapest refusal first, so that abuse costs the miner as little as
possible:
  413  Content-Length over the cap (nothing of the body is read)
  401  no auth headers at all
  403  the claimed hotkey is unregistered, below the minimum stake, or (optionally) has no
       validator permit (looked up in a cached metagraph, before the body is read)
  429  `max_concurrency + max_queue` requests are already being taken in (body, signature, audio):
       answered at once, before any of the body is read (see `IntakeLimit`)
  413  the streamed body passes the cap (counted chunk by chunk, never held beyond it)
  401  the signature, receiver, freshness or nonce does not verify (`bittensor.http_auth`)
  422  the body is not a valid a2a/1 request, or its audio cannot be decoded or fetched
  429  every generation slot is busy and the waiting queue is full (the lowest stake is refused)
  504  the request's deadline (`timeout_s`, from the first byte of the body on) passed
Generation runs in a thread pool of `max_concurrency` threads so the event loop keeps answering;
a slot is held until its thread really finishes, even after a 504. One log line per request,
with the caller's public hotkey and never any key material or payload.
`GET /v1/health` (unsigned) says the protocol, model and load; `/openapi.json` is the schema.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import socket
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from a2a_cli.chain import protocol
from a2a_cli.chain.auth import AuthFailed, RequestVerifier
from a2a_cli.chain.chain import LOCAL_NETWORK, Chain, Metagraph, is_public_address
from a2a_cli.errors import InputError, WorkError

if TYPE_CHECKING:
    import numpy as np

    from a2a_cli.motion import Motion

log = logging.getLogger("a2a.miner")

# (mono samples, sample rate, duration_s, seed) -> a Motion with exactly round(duration_s * 30) frames
GenerateFn = Callable[["np.ndarray", int, float, int], "Motion"]


@dataclass(frozen=True)
class MinerSettings:
    """How the miner serves; the `miner.*` settings plus what tests and benchmarks need to tune."""

    host: str = "127.0.0.1"
    port: int = 8091
    max_concurrency: int = 2
    max_queue: int = 16
    timeout_s: float = 60.0
    max_request_bytes: int = 16 * protocol.MiB
    min_stake: float = 100.0
    require_validator_permit: bool = False
    allow_audio_urls: bool = False
    allow_private_urls: bool = False  # lets tests and local setups fetch audio from 127.0.0.1
    url_max_bytes: int = 32 * protocol.MiB
    url_timeout_s: float = 10.0
    metagraph_ttl_s: float = 30.0
    motion_encoding: str = "npz-base64"
    signature_max_age_s: float = 10.0
    external_ip: str = ""  # advertised on chain by `a2a mine`; "" means the bound host

    @classmethod
    def from_settings(cls, settings: Any) -> MinerSettings:
        """The `miner.*` settings with the automatic values resolved: on the local chain the server binds
        loopback only (the whole subnet lives on 127.0.0.1), and a validator that just registered waits
        seconds, not a minute, to be let in (`metagraph_ttl_s`)."""
        miner = settings.section("miner")
        local = settings.get("chain.network") == LOCAL_NETWORK
        if not miner["host"]:
            miner["host"] = "127.0.0.1" if local else "0.0.0.0"
        if not miner["metagraph_ttl_s"]:
            miner["metagraph_ttl_s"] = 2.0 if local else 60.0
        return cls(**miner)


class HTTPRefusal(Exception):
    """A request refused with `status` and a one-line, caller-safe `detail`; `close` when the rest of
    its body is unwanted (closing the connection stops the server draining it)."""

    def __init__(self, status: int, detail: str, *, close: bool = False):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.close = close


def model_generate_fn(model: str, settings=None) -> GenerateFn:
    """The GenerateFn of a named generator: analyse the audio, then generate (both CPU-heavy).
    `settings` (a2a_cli.config.Settings) carry the options of learned models (weights, steps, device)."""
    from a2a_cli.audio import analyze
    from a2a_cli.generation import get_generator

    generator = get_generator(model, settings)

    def generate(samples: np.ndarray, sr: int, duration_s: float, seed: int) -> Motion:
        return generator.generate(analyze(samples, sr), duration_s, seed)

    return generate


# --- admission: bounded concurrency, bounded queue, priority by stake ------------------------------


class AdmissionQueue:
    """`slots` requests run at once and up to `max_waiting` wait; the highest stake is served first.

    When the queue is full a newcomer with more stake than the poorest waiter takes its place
    (the evicted waiter gets 429); otherwise the newcomer gets 429. Only the event loop touches it.
    """

    def __init__(self, slots: int, max_waiting: int):
        self.slots = slots
        self.max_waiting = max_waiting
        self.active = 0
        self._waiting: list[tuple[float, int, asyncio.Future]] = []  # (-stake, arrival, future): a min-heap
        self._arrivals = itertools.count()

    @property
    def waiting(self) -> int:
        return sum(1 for *_, f in self._waiting if not f.done())

    async def acquire(self, stake: float) -> None:
        """Wait for a slot (raises HTTPRefusal 429 when refused). Cancel-safe."""
        self._drop_done()
        if self.active < self.slots and not self._waiting:
            self.active += 1
            return
        if len(self._waiting) >= self.max_waiting:
            poorest = max(self._waiting, key=lambda entry: (entry[0], entry[1])) if self._waiting else None
            if poorest is None or -poorest[0] >= stake:
                raise HTTPRefusal(429, "miner is at capacity; retry later")
            self._waiting.remove(poorest)
            heapq.heapify(self._waiting)
            poorest[2].set_exception(HTTPRefusal(429, "miner is at capacity; a caller with more stake took the place"))
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (-stake, next(self._arrivals), future))
        try:
            await future  # resolved by release(), which hands over its slot
        except asyncio.CancelledError:
            if future.done() and not future.cancelled() and future.exception() is None:
                self.release()  # the slot was handed to us just as we were cancelled: pass it on
            raise

    def release(self) -> None:
        self._drop_done()
        while self._waiting:
            _, _, future = heapq.heappop(self._waiting)
            if not future.done():
                future.set_result(None)  # the slot passes straight to the richest waiter
                return
        self.active -= 1

    def _drop_done(self) -> None:
        if any(f.done() for *_, f in self._waiting):
            self._waiting = [entry for entry in self._waiting if not entry[2].done()]
            heapq.heapify(self._waiting)


class IntakeLimit:
    """At most `limit` requests between their headers and the admission queue at once.

    Reading a body (up to `max_request_bytes`), verifying it, parsing it and decoding or fetching its
    audio all cost memory and CPU before the admission queue sees the request, and the stake check
    before them trusts the *claimed* hotkey (validators' hotkeys are public). Without this bound,
    hundreds of slow connections could each make the miner buffer a whole body. A request past the
    limit is refused at once, never queued. Only the event loop touches it.
    """

    def __init__(self, limit: int):
        self.limit = limit
        self.active = 0

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        if self.active >= self.limit:
            raise HTTPRefusal(429, "miner is at capacity (too many requests being received); retry later", close=True)
        self.active += 1
        try:
            yield
        finally:
            self.active -= 1


# --- audio by URL ----------------------------------------------------------------------------------


async def fetch_audio_url(url: str, *, allow_private: bool, max_bytes: int, timeout_s: float) -> bytes:
    """GET an http(s) URL with a size and time cap; refuses private, loopback and link-local hosts
    unless `allow_private`. Redirects are not followed (each hop would need the same checks).

    The address check resolves the name before the request, so a DNS answer that changes between
    the check and the connection (rebinding) is not covered: keep URLs off where that matters.
    """
    import httpx

    try:
        parts = urlsplit(url)
        port = parts.port  # parsed here: an out-of-range port or a broken [v6] host raises ValueError
    except ValueError:
        raise InputError("audio URL is malformed (host or port)") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError("audio URL must be http:// or https:// with a host")
    if not allow_private:
        await _check_public_host(parts.hostname, port or (443 if parts.scheme == "https" else 80))
    try:
        async with asyncio.timeout(timeout_s):
            # trust_env=False: no proxy or netrc credentials from the environment reach a caller-chosen host
            async with httpx.AsyncClient(follow_redirects=False, timeout=timeout_s, trust_env=False) as client:
                async with client.stream("GET", url) as response:
                    if response.status_code != 200:
                        raise InputError(f"audio URL answered HTTP {response.status_code}")
                    over_limit = InputError(f"audio URL content is over the {max_bytes}-byte limit")
                    declared = response.headers.get("content-length")
                    if declared and declared.isdigit() and int(declared) > max_bytes:
                        raise over_limit
                    return await protocol.read_capped(response.aiter_bytes(), max_bytes, over_limit)
    except TimeoutError:
        raise InputError(f"audio URL took longer than {timeout_s:g} s") from None
    except httpx.HTTPError as e:
        raise InputError(f"audio URL could not be fetched: {type(e).__name__}") from None


async def _check_public_host(host: str, port: int) -> None:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        raise InputError(f"audio URL host {host!r} does not resolve") from None
    for *_, sockaddr in infos:
        if not is_public_address(sockaddr[0].split("%")[0]):
            raise InputError("audio URL points to a private, loopback or reserved address")


# --- the service -----------------------------------------------------------------------------------


class MinerService:
    """Everything one miner process holds: its identity, chain view, admission queue and workers."""

    def __init__(self, *, settings: MinerSettings, chain: Chain, hotkey: str, generate: GenerateFn, model: str):
        self.settings = settings
        self.chain = chain
        self.hotkey = hotkey
        self.model = model
        self._generate = generate
        self.verifier = RequestVerifier(hotkey, max_age_s=settings.signature_max_age_s)
        self.admission = AdmissionQueue(settings.max_concurrency, settings.max_queue)
        self.intake = IntakeLimit(settings.max_concurrency + settings.max_queue)
        self.pool = ThreadPoolExecutor(max_workers=settings.max_concurrency, thread_name_prefix="a2a-generate")
        self._metagraph: Metagraph | None = None
        self._metagraph_at = float("-inf")
        self._metagraph_lock = asyncio.Lock()

    async def metagraph(self) -> Metagraph:
        """The chain's metagraph, refreshed at most every `metagraph_ttl_s`, read off the event loop."""
        if time.monotonic() - self._metagraph_at >= self.settings.metagraph_ttl_s:
            async with self._metagraph_lock:
                if time.monotonic() - self._metagraph_at >= self.settings.metagraph_ttl_s:
                    try:
                        self._metagraph = await asyncio.to_thread(self.chain.metagraph)
                        self._metagraph_at = time.monotonic()
                    except Exception as e:  # keep serving from the last good view rather than failing every caller
                        if self._metagraph is None:
                            raise HTTPRefusal(503, "miner cannot read the chain yet") from None
                        log.warning("metagraph refresh failed: %s", str(e).splitlines()[0] if str(e) else type(e).__name__)
        return self._metagraph

    async def caller_stake(self, hotkey: str) -> float:
        """The caller's stake, or HTTPRefusal 403 when the blacklist refuses it."""
        neuron = (await self.metagraph()).by_hotkey(hotkey)
        if neuron is None:
            raise HTTPRefusal(403, "caller hotkey is not registered on this subnet")
        if neuron.stake < self.settings.min_stake:
            raise HTTPRefusal(403, f"caller stake is below this miner's minimum of {self.settings.min_stake:g} TAO")
        if self.settings.require_validator_permit and not neuron.validator_permit:
            raise HTTPRefusal(403, "caller has no validator permit")
        return neuron.stake

    async def read_body(self, request: Any) -> bytes:
        """The body, streamed and counted: 413 as soon as it passes the cap; 400 (logged, never sent)
        when the caller hangs up half-way, which is not the miner's error."""
        from starlette.requests import ClientDisconnect

        limit = self.settings.max_request_bytes
        try:
            return await protocol.read_capped(request.stream(), limit, HTTPRefusal(413, f"request body is over the {limit}-byte limit", close=True))
        except ClientDisconnect:
            raise HTTPRefusal(400, "the caller disconnected before sending the whole body", close=True) from None

    async def handle_generate(self, request: Any) -> dict:
        """One prompt, from raw request to response dict (or HTTPRefusal)."""
        limit = self.settings.max_request_bytes
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            raise HTTPRefusal(413, f"request body is over the {limit}-byte limit", close=True)
        claimed = RequestVerifier.claimed_hotkey(request.headers)
        if not claimed:
            raise HTTPRefusal(401, "request is not signed (missing X-Bittensor-* headers)")
        stake = await self.caller_stake(claimed)
        try:
            async with asyncio.timeout(self.settings.timeout_s):  # a body trickled in slowly counts too
                with self.intake.slot():
                    prompt, samples, sr = await self._take_in(request)
                await self.admission.acquire(stake)
                started = time.perf_counter()
                motion = await self._run_in_slot(samples, sr, prompt)
                generation_s = time.perf_counter() - started
        except TimeoutError:
            raise HTTPRefusal(504, f"the request did not finish within {self.settings.timeout_s:g} s", close=True) from None
        except InputError as e:  # an invalid prompt, or audio that cannot be decoded, fetched or analysed
            raise HTTPRefusal(422, str(e)) from None
        protocol.check_frames(motion, prompt)  # a generator bug must not reach a validator as a valid answer
        payload = await asyncio.to_thread(protocol.encode_motion_payload, motion, self.settings.motion_encoding)
        request.state.frames = motion.n_frames
        return protocol.GenerateResponse(motion=payload, model=self.model, generation_s=round(generation_s, 4)).model_dump()

    async def _take_in(self, request: Any) -> tuple[protocol.GenerateRequest, np.ndarray, int]:
        """Read, verify and parse the body and get its audio: everything done before admission."""
        limit = self.settings.max_request_bytes
        body = await self.read_body(request)
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        # hashing and parsing a body of many MB takes tens of ms: off the event loop
        try:
            caller = await asyncio.to_thread(self.verifier.verify, request.headers, body, method=request.method, path=path)
        except AuthFailed as e:
            raise HTTPRefusal(401, str(e)) from None
        request.state.caller = caller
        prompt = await asyncio.to_thread(protocol.parse_request, body, max_bytes=limit)  # InputError: 422
        request.state.prompt_id = prompt.prompt_id
        samples, sr = await self._audio(prompt)
        return prompt, samples, sr

    async def _audio(self, prompt: protocol.GenerateRequest) -> tuple[np.ndarray, int]:
        audio = prompt.audio
        keep_s = prompt.duration_s + 1.0  # decode only what will be danced (a second to spare), not up to 10 min
        if audio.encoding == "url":
            s = self.settings
            if not s.allow_audio_urls:
                raise InputError("this miner does not accept audio URLs; send wav-base64")
            raw = await fetch_audio_url(audio.data, allow_private=s.allow_private_urls, max_bytes=s.url_max_bytes, timeout_s=s.url_timeout_s)
            samples, sr = await asyncio.to_thread(protocol.decode_wav_bytes, raw, keep_s=keep_s)
        else:
            samples, sr = await asyncio.to_thread(protocol.decode_wav, audio, keep_s=keep_s)
        return samples[: int(round(prompt.duration_s * sr))], sr  # analyse only what will be danced

    async def _run_in_slot(self, samples: np.ndarray, sr: int, prompt: protocol.GenerateRequest) -> Motion:
        """Generate in the pool; the slot is released when the thread ends, not when we stop waiting."""
        loop = asyncio.get_running_loop()
        try:
            future = loop.run_in_executor(self.pool, self._generate, samples, sr, prompt.duration_s, prompt.seed)
        except BaseException:
            self.admission.release()
            raise
        future.add_done_callback(lambda _f: self.admission.release())
        return await asyncio.shield(future)

    def health(self) -> dict:
        return {"status": "ok", "protocol": protocol.PROTOCOL_VERSION, "model": self.model, "hotkey": self.hotkey,
                "active": self.admission.active, "waiting": self.admission.waiting,
                "max_concurrency": self.settings.max_concurrency, "max_queue": self.settings.max_queue}


def create_app(service: MinerService) -> Any:
    """The FastAPI app for one MinerService (tests and benchmarks serve it themselves)."""
    app = FastAPI(title="a2a miner", version=protocol.PROTOCOL_VERSION,
                  description="Audio-to-Animation miner: signed a2a/1 prompts in, SMPL dances out.")
    app.state.service = service
    error_schema = {"content": {"application/json": {"schema": {"type": "object", "properties": {"detail": {"type": "string"}}}}}}
    refusals = {code: {"description": why, **error_schema} for code, why in (
        (401, "unsigned or badly signed"), (403, "caller refused"), (413, "body too large"), (422, "invalid prompt"),
        (429, "at capacity"), (503, "chain not readable yet"), (504, "deadline passed"))}

    @app.post(
        protocol.GENERATE_PATH,
        response_model=protocol.GenerateResponse,
        responses=refusals,
        openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/GenerateRequest"}}}}},
        summary="Generate a dance for a signed a2a/1 prompt",
    )
    async def generate(request: Request):
        started = time.perf_counter()
        status, detail = 200, ""
        try:
            result = await service.handle_generate(request)
            return JSONResponse(result)
        except HTTPRefusal as e:
            status, detail = e.status, e.detail
            headers = {"connection": "close"} if e.close else None
            return JSONResponse({"detail": e.detail}, status_code=e.status, headers=headers)
        except Exception as e:  # a generator bug: the caller gets a 500 line, the log says what broke
            status, detail = 500, f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
            return JSONResponse({"detail": "internal error while generating"}, status_code=500)
        finally:
            caller = getattr(request.state, "caller", None) or "-"
            log.info("%s %s caller=%s prompt=%s frames=%s total_s=%.3f%s", protocol.GENERATE_PATH, status, caller,
                     getattr(request.state, "prompt_id", "-"), getattr(request.state, "frames", "-"),
                     time.perf_counter() - started, f" detail={detail!r}" if detail else "")

    @app.get(protocol.HEALTH_PATH, summary="Liveness, protocol, model and load")
    async def health() -> dict:
        return service.health()

    _publish_request_schema(app)
    return app


def _publish_request_schema(app: FastAPI) -> None:
    """Add GenerateRequest (read raw for the size cap, so FastAPI does not see it) to the schema's components."""
    request_schema = protocol.GenerateRequest.model_json_schema(ref_template="#/components/schemas/{model}")
    extra = {"GenerateRequest": request_schema, **request_schema.pop("$defs", {})}
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = build()
            schema.setdefault("components", {}).setdefault("schemas", {}).update(extra)
        return app.openapi_schema

    app.openapi = openapi


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: any free one), so the real port is known before serving."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must be IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on accepted connections only when it
    # is, and without it every answer waits ~40 ms for a delayed ACK (Nagle) on loopback.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise WorkError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def serve(service: MinerService, sock: socket.socket, *, log_level: str = "info") -> None:
    """Serve until interrupted (uvicorn handles SIGINT/SIGTERM gracefully)."""
    import uvicorn

    config = uvicorn.Config(create_app(service), log_level=log_level, access_log=False, timeout_graceful_shutdown=5)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        service.pool.shutdown(wait=False, cancel_futures=True)
