"""Request bodies received before their signatures can be checked: the pool that bounds them, and
the reading of one against its deadline, minimum rate and size cap."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from a2a_cli.chain.miner.refusal import HTTPRefusal
from a2a_cli.chain.miner.settings import MinerSettings

__all__ = ["LAST_LOOK_S", "BodyPool", "receive_body"]

LAST_LOOK_S = 0.01  # see receive_body


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
        """max_requests, max_bytes: bodies, and bytes of them, held at once overall. peer_requests:
        bodies at once from one client address. peer_bytes: bytes held for one address, and for one claimed hotkey."""
        self.max_requests, self.max_bytes = max_requests, max_bytes
        self.peer_requests, self.peer_bytes = peer_requests, peer_bytes
        self.requests = 0
        self.bytes = 0
        self._requests_by_address: Counter[str] = Counter()
        self._bytes_by: Counter[tuple[str, str]] = Counter()  # ("address" | "hotkey", name) -> bytes held

    @classmethod
    def for_settings(cls, settings: MinerSettings) -> BodyPool:
        """The pool `settings` (`body_pool_requests`, `body_pool_bytes`, `max_request_bytes`) ask for.
        Per peer: a sixteenth of the overall count and a quarter of the overall bytes (never less
        than one whole largest request), so that locking the pool takes many addresses."""
        peer_bytes = min(settings.body_pool_bytes, max(settings.max_request_bytes, settings.body_pool_bytes // 4))
        return cls(max_requests=settings.body_pool_requests, max_bytes=max(settings.body_pool_bytes, settings.max_request_bytes),
                   peer_requests=max(1, settings.body_pool_requests // 16), peer_bytes=peer_bytes)

    @contextlib.contextmanager
    def entry(self, address: str, hotkey: str) -> Iterator[Callable[[int], None]]:
        """A place in the pool for one body from `address` (the client's IP, as text) claiming `hotkey`
        (ss58, not verified yet); yields `take(n)`, to call with each chunk's size in bytes before
        keeping it. Everything is given back on leaving."""
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


async def receive_body(request: Any, take: Callable[[int], None], settings: MinerSettings) -> bytes:
    """The body, received chunk by chunk against its deadline, minimum rate, size cap and pool:
    408 when too slow, 413 past the cap, 400 (logged, never sent) when the caller hangs up
    half-way, which is not the miner's error.

    request: the Starlette request (its ASGI `receive` is read directly: cancel-safe, a chunk is
        never lost to a timeout).
    take: the body pool's `take(n)` (`BodyPool.entry`), called with each chunk's size in bytes
        before it is kept; it raises HTTPRefusal 429 when the pool is full.
    settings: `body_timeout_s` (s, from the end of the headers), `body_grace_s` (s before the
        minimum rate applies), `body_min_rate` (bytes/s on average), `max_request_bytes`.

    When a chunk is due, one more look without waiting (`LAST_LOOK_S`) tells a chunk the server
    already holds (a busy event loop hands it over a moment late) from a sender that is really too slow."""
    s = settings
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
