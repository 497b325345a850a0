"""The miner's HTTP service: FastAPI on uvicorn, serving protocol v1 to validators (DESIGN §7).

Admission is built so that a caller without a key cannot exhaust it: a request takes a
generation slot only after its signature is verified and its caller is known to be registered with
enough stake; before that, everything it can hold is bounded separately and cheaply.

Before a request exists (connections.py): its headers have a deadline (`headers_timeout_s`) and
at most `max_pending_connections` connections may be waiting for theirs (the oldest is closed
first); idle keep-alive connections close after `keep_alive_s`; at most `max_connections` are served.

`POST /v1/generate` then runs, cheapest refusal first:
  413  Content-Length over the cap (nothing of the body is read)
  401  no auth headers, or headers that cannot be valid whatever the body (malformed, addressed to
       another hotkey, stale): refused and closed before any of the body is read
  403  the claimed hotkey is unregistered, below the minimum stake (in the subnet's alpha), or
       (optionally) has no validator permit (a cached metagraph; the claim is not trusted for more)
  429  the body pool is full (see `BodyPool`): too many bodies, or too many bytes of them, being
       received from this client address, under this claimed hotkey, or overall
  408  the body came too slowly: below `body_min_rate` after `body_grace_s`, or not complete
       within `body_timeout_s`
  413  the streamed body passes the cap (counted chunk by chunk, never held beyond it)
  401  the signature, receiver, freshness or nonce does not verify (`bittensor.http_auth`); the
       connection is closed
  ---  from here on the caller is authenticated, registered and staked
  422  the body is not a valid a2a/1 request, or its audio cannot be decoded or fetched, or is
       shorter than the duration asked for
  429  every generation slot is busy and the waiting queue is full (the lowest stake is refused)
  504  the request's deadline (`timeout_s`, from its headers on) passed
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
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from a2a_cli.chain import protocol
from a2a_cli.chain.auth import AuthFailed, RequestVerifier
from a2a_cli.chain.chain import Chain, Metagraph, is_public_address, on_this_machine
from a2a_cli.chain.connections import PendingConnections, guarded_h11
from a2a_cli.errors import InputError, WorkError

if TYPE_CHECKING:
    import numpy as np

    from a2a_cli.motion import Motion

log = logging.getLogger("a2a.miner")

MAX_HEADER_BYTES = 16 * 1024  # request line and headers (a signed a2a/1 request needs under 1 KB); 400 beyond
LAST_LOOK_S = 0.01  # see MinerService.read_body

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
    min_stake: float = 100.0  # stake weight in the subnet's alpha (the chain's permit stake)
    require_validator_permit: bool = False
    allow_audio_urls: bool = False
    allow_private_urls: bool = False  # lets tests and local setups fetch audio from 127.0.0.1
    url_max_bytes: int = 32 * protocol.MiB
    url_timeout_s: float = 10.0
    metagraph_ttl_s: float = 30.0
    motion_encoding: str = "npz-base64"
    signature_max_age_s: float = 10.0
    external_ip: str = ""  # advertised on chain by `a2a mine`; "" means the bound host
    headers_timeout_s: float = 10.0  # from connecting (or the last response) to the end of the headers
    max_pending_connections: int = 512  # waiting for their headers; the oldest is closed first
    max_connections: int = 2048  # served at once (uvicorn's limit_concurrency: 503 beyond)
    keep_alive_s: float = 5.0  # an idle keep-alive connection is closed after this
    body_timeout_s: float = 15.0  # the whole body, from the end of the headers
    body_grace_s: float = 2.0  # before the minimum rate applies
    body_min_rate: int = 32 * 1024  # bytes/s, averaged from the end of the headers
    body_pool_requests: int = 1024  # unverified bodies being received at once (1/16 per client address)
    body_pool_bytes: int = 128 * protocol.MiB  # bytes of them held (a quarter per address and per claimed hotkey)

    @classmethod
    def from_settings(cls, settings: Any) -> MinerSettings:
        """The `miner.*` settings with the automatic values resolved: on this machine's chains (sim,
        local) the server binds loopback only (the whole subnet lives on 127.0.0.1), and a validator
        that just registered waits seconds, not a minute, to be let in (`metagraph_ttl_s`)."""
        miner = settings.section("miner")
        local = on_this_machine(settings.get("chain.network"))
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


def model_generate_fn(model: str) -> GenerateFn:
    """The GenerateFn of a named generator: analyse the audio, then generate (both CPU-heavy)."""
    from a2a_cli.audio import analyze
    from a2a_cli.generation import get_generator

    generator = get_generator(model)

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
    """At most `limit` authenticated requests between verification and the admission queue at once.

    Parsing a prompt and decoding or fetching its audio cost CPU, memory and time before the
    admission queue sees the request; only verified, staked callers get here, and this bounds them
    too. A request past the limit is refused at once, never queued. Only the event loop touches it.
    """

    def __init__(self, limit: int):
        self.limit = limit
        self.active = 0

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        if self.active >= self.limit:
            raise HTTPRefusal(429, "miner is at capacity (too many requests being prepared); retry later", close=True)
        self.active += 1
        try:
            yield
        finally:
            self.active -= 1


class BodyPool:
    """The bodies being received before their signatures can be checked: counted and weighed overall,
    per client address and per claimed hotkey.

    The signature covers the body's hash, so until the whole body is in, the claimed hotkey is only a
    claim, and validators' hotkeys are public. What a body holds is the bytes received so far, so the
    pool bounds bytes (`max_bytes` overall, `peer_bytes` per address and per claimed hotkey): a slow
    or idle sender holds almost none, and holding many takes bandwidth, which the body deadline and
    minimum rate then bound in time. Counts are bounded overall (`max_requests`) and per address
    (`peer_requests`), never per claimed hotkey: a per-hotkey count would let anyone lock a validator
    out by claiming its hotkey on a few slow connections. A request that would pass a bound is
    refused (429) and its connection closed. Only the event loop touches it.
    """

    def __init__(self, *, max_requests: int, max_bytes: int, peer_requests: int, peer_bytes: int):
        self.max_requests, self.max_bytes = max_requests, max_bytes
        self.peer_requests, self.peer_bytes = peer_requests, peer_bytes
        self.requests = 0
        self.bytes = 0
        self._requests_by_address: Counter[str] = Counter()
        self._bytes_by: Counter[tuple[str, str]] = Counter()  # ("address" | "hotkey", name) -> bytes held

    @classmethod
    def for_settings(cls, settings: MinerSettings) -> BodyPool:
        """Per peer: a sixteenth of the overall count and a quarter of the overall bytes (never less
        than one whole largest request), so that locking the pool takes many addresses."""
        peer_bytes = min(settings.body_pool_bytes, max(settings.max_request_bytes, settings.body_pool_bytes // 4))
        return cls(max_requests=settings.body_pool_requests, max_bytes=max(settings.body_pool_bytes, settings.max_request_bytes),
                   peer_requests=max(1, settings.body_pool_requests // 16), peer_bytes=peer_bytes)

    @contextlib.contextmanager
    def entry(self, address: str, hotkey: str) -> Iterator[Callable[[int], None]]:
        """A place in the pool for one body from `address` claiming `hotkey`; yields `take(n)`, to call
        with each chunk's size before keeping it. Everything is given back on leaving."""
        if self.requests >= self.max_requests or self._requests_by_address[address] >= self.peer_requests:
            raise HTTPRefusal(429, "miner is at capacity (too many requests being received); retry later", close=True)
        self.requests += 1
        self._requests_by_address[address] += 1
        held = 0
        keys = (("address", address), ("hotkey", hotkey))

        def take(n: int) -> None:
            nonlocal held
            if self.bytes + n > self.max_bytes or any(self._bytes_by[k] + n > self.peer_bytes for k in keys):
                raise HTTPRefusal(429, "miner is at capacity (too many bytes being received); retry later", close=True)
            self.bytes += n
            for k in keys:
                self._bytes_by[k] += n
            held += n

        try:
            yield take
        finally:
            self.requests -= 1
            self.bytes -= held
            _give_back(self._requests_by_address, address, 1)
            for k in keys:
                _give_back(self._bytes_by, k, held)

    def held_by(self, kind: str, name: str) -> int:
        """Bytes held now by one client address (`kind` "address") or claimed hotkey ("hotkey")."""
        return self._bytes_by[(kind, name)]


def _give_back(counter: Counter, key: Any, n: int) -> None:
    counter[key] -= n
    if counter[key] <= 0:
        del counter[key]


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
        self.bodies = BodyPool.for_settings(settings)
        self.intake = IntakeLimit(settings.max_concurrency + settings.max_queue)
        self.pending = PendingConnections(headers_timeout_s=settings.headers_timeout_s, max_pending=settings.max_pending_connections)
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
        """The caller's stake (alpha), or HTTPRefusal 403 when the blacklist refuses it (and closes:
        a refused request's body is unwanted)."""
        neuron = (await self.metagraph()).by_hotkey(hotkey)
        if neuron is None:
            raise HTTPRefusal(403, "caller hotkey is not registered on this subnet", close=True)
        if neuron.stake < self.settings.min_stake:
            raise HTTPRefusal(403, f"caller stake is below this miner's minimum of {self.settings.min_stake:g} alpha", close=True)
        if self.settings.require_validator_permit and not neuron.validator_permit:
            raise HTTPRefusal(403, "caller has no validator permit", close=True)
        return neuron.stake

    async def read_body(self, request: Any, take: Callable[[int], None]) -> bytes:
        """The body, received chunk by chunk against its deadline, minimum rate, size cap and pool
        (`take`): 408 when too slow, 413 past the cap, 400 (logged, never sent) when the caller
        hangs up half-way, which is not the miner's error.

        Reads the ASGI `receive` directly (cancel-safe: a chunk is never lost to a timeout). When a
        chunk is due, one more look without waiting tells a chunk the server already holds (a busy
        event loop hands it over a moment late) from a sender that is really too slow."""
        s = self.settings
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = started + s.body_timeout_s
        parts, total, more = [], 0, True
        while more:
            # the next chunk is due before the average rate falls under the minimum (after the grace)
            due = min(deadline, started + s.body_grace_s + total / s.body_min_rate)
            try:
                async with asyncio.timeout_at(due):
                    message = await request.receive()
            except TimeoutError:
                try:
                    async with asyncio.timeout(LAST_LOOK_S):
                        message = await request.receive()
                except TimeoutError:
                    why = f"not complete within {s.body_timeout_s:g} s" if due >= deadline else f"slower than {s.body_min_rate} bytes/s"
                    raise HTTPRefusal(408, f"request body too slow: {why}", close=True) from None
            if message["type"] != "http.request":
                raise HTTPRefusal(400, "the caller disconnected before sending the whole body", close=True)
            chunk, more = message.get("body", b""), message.get("more_body", False)
            total += len(chunk)
            if total > s.max_request_bytes:
                raise HTTPRefusal(413, f"request body is over the {s.max_request_bytes}-byte limit", close=True)
            take(len(chunk))
            parts.append(chunk)
        return b"".join(parts)

    async def handle_generate(self, request: Any) -> dict:
        """One prompt, from raw request to response dict (or HTTPRefusal)."""
        limit = self.settings.max_request_bytes
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            raise HTTPRefusal(413, f"request body is over the {limit}-byte limit", close=True)
        claimed = RequestVerifier.claimed_hotkey(request.headers)
        if not claimed:
            raise HTTPRefusal(401, "request is not signed (missing X-Bittensor-* headers)", close=True)
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        try:
            self.verifier.check_headers(request.headers, method=request.method, path=path)
        except AuthFailed as e:
            raise HTTPRefusal(401, str(e), close=True) from None
        await self.caller_stake(claimed)  # a cheap 403 for claims that could never be let in
        try:
            async with asyncio.timeout(self.settings.timeout_s):  # a body trickled in slowly counts too
                caller, body = await self._authenticate(request, path)
                stake = await self.caller_stake(caller)
                with self.intake.slot():
                    prompt, samples, sr = await self._prepare(request, body)
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

    async def _authenticate(self, request: Any, path: str) -> tuple[str, bytes]:
        """Receive the body inside the body pool and verify its signature: (the caller's hotkey, the
        body), or HTTPRefusal (the connection of a caller whose signature fails is closed)."""
        address = request.client.host if request.client else "-"
        with self.bodies.entry(address, RequestVerifier.claimed_hotkey(request.headers)) as take:
            body = await self.read_body(request, take)
            # hashing a body of many MB takes tens of ms: off the event loop
            try:
                caller = await asyncio.to_thread(self.verifier.verify, request.headers, body, method=request.method, path=path)
            except AuthFailed as e:
                raise HTTPRefusal(401, str(e), close=True) from None
        request.state.caller = caller
        return caller, body

    async def _prepare(self, request: Any, body: bytes) -> tuple[protocol.GenerateRequest, np.ndarray, int]:
        """Parse the verified body and get its audio: everything done before admission."""
        prompt = await asyncio.to_thread(protocol.parse_request, body, max_bytes=self.settings.max_request_bytes)  # InputError: 422
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
        protocol.check_audio_covers(samples, sr, prompt.duration_s)
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
                "active": self.admission.active, "waiting": self.admission.waiting, "receiving": self.bodies.requests,
                "pending_connections": len(self.pending),
                "max_concurrency": self.settings.max_concurrency, "max_queue": self.settings.max_queue}


def create_app(service: MinerService) -> Any:
    """The FastAPI app for one MinerService (tests and benchmarks serve it themselves)."""
    app = FastAPI(title="a2a miner", version=protocol.PROTOCOL_VERSION,
                  description="Audio-to-Animation miner: signed a2a/1 prompts in, SMPL dances out.")
    app.state.service = service
    error_schema = {"content": {"application/json": {"schema": {"type": "object", "properties": {"detail": {"type": "string"}}}}}}
    refusals = {code: {"description": why, **error_schema} for code, why in (
        (401, "unsigned or badly signed"), (403, "caller refused"), (408, "body too slow"), (413, "body too large"),
        (422, "invalid prompt"), (429, "at capacity"), (503, "chain not readable yet, or too many connections"), (504, "deadline passed"))}

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


def server_config(app: Any, settings: MinerSettings, pending: PendingConnections, **options: Any) -> Any:
    """The uvicorn.Config that bounds slow and idle clients (see connections.py and the module doc);
    `options` are further uvicorn.Config arguments (log_level, lifespan, ...)."""
    import uvicorn

    return uvicorn.Config(app, http=guarded_h11(pending), timeout_keep_alive=settings.keep_alive_s,
                          limit_concurrency=settings.max_connections, h11_max_incomplete_event_size=MAX_HEADER_BYTES,
                          access_log=False, **options)


def serve(service: MinerService, sock: socket.socket, *, log_level: str = "info") -> None:
    """Serve until interrupted (uvicorn handles SIGINT/SIGTERM gracefully)."""
    import uvicorn

    config = server_config(create_app(service), service.settings, service.pending, log_level=log_level, timeout_graceful_shutdown=5)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        service.pool.shutdown(wait=False, cancel_futures=True)
