"""Request bodies of authenticated callers: the pool that bounds them, and the reading of one against
its deadline, minimum rate, size cap and signed hash.

A body is read only after its headers' signature verified (a2a/2 signs the body's hash in the
headers, see chain/auth.py), so every byte held here is held for a hotkey that proved itself and
is registered with stake: a keyless client claiming a validator's hotkey never reaches the pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from a2a_cli.chain.auth import BODY_MISMATCH
from a2a_cli.chain.miner.refusal import HTTPRefusal
from a2a_cli.chain.miner.settings import MinerSettings

__all__ = ["LAST_LOOK_S", "BodyPool", "receive_body"]

LAST_LOOK_S = 0.01  # see receive_body


class BodyPool:
    """The bodies being received from authenticated callers: counted and weighed overall and per hotkey.

    What a body holds is the bytes received so far. Counts are bounded overall (`max_requests`) and
    per hotkey (`hotkey_requests`), bytes overall (`max_bytes`) and per hotkey (`hotkey_bytes`), so
    one validator cannot take every place from the others. A request that would pass a bound is
    refused (429) and its connection closed. Only the event loop touches it.
    """

    def __init__(self, *, max_requests: int, max_bytes: int, hotkey_requests: int, hotkey_bytes: int):
        """max_requests, max_bytes: bodies, and bytes of them, held at once overall. hotkey_requests,
        hotkey_bytes: the same for one authenticated hotkey."""
        self.max_requests, self.max_bytes = max_requests, max_bytes
        self.hotkey_requests, self.hotkey_bytes = hotkey_requests, hotkey_bytes
        self.requests = 0
        self.bytes = 0
        self._requests_by: Counter[str] = Counter()
        self._bytes_by: Counter[str] = Counter()

    @classmethod
    def for_settings(cls, settings: MinerSettings) -> BodyPool:
        """The pool `settings` (`body_pool_requests`, `body_pool_bytes`, `max_request_bytes`) ask for.
        Per hotkey: a sixteenth of the overall count and a quarter of the overall bytes (never less
        than one whole largest request)."""
        hotkey_bytes = min(settings.body_pool_bytes, max(settings.max_request_bytes, settings.body_pool_bytes // 4))
        return cls(max_requests=settings.body_pool_requests, max_bytes=max(settings.body_pool_bytes, settings.max_request_bytes),
                   hotkey_requests=max(1, settings.body_pool_requests // 16), hotkey_bytes=hotkey_bytes)

    @contextlib.contextmanager
    def entry(self, hotkey: str) -> Iterator[Callable[[int], None]]:
        """A place in the pool for one body from the authenticated `hotkey` (ss58); yields `take(n)`,
        to call with each chunk's size in bytes before keeping it. Everything is given back on leaving."""
        if self.requests >= self.max_requests or self._requests_by[hotkey] >= self.hotkey_requests:
            raise HTTPRefusal(429, "miner is at capacity (too many requests being received); retry later", close=True)
        self.requests += 1
        self._requests_by[hotkey] += 1
        held = 0

        def take(n: int) -> None:
            nonlocal held
            if self.bytes + n > self.max_bytes or self._bytes_by[hotkey] + n > self.hotkey_bytes:
                raise HTTPRefusal(429, "miner is at capacity (too many bytes being received); retry later", close=True)
            self.bytes += n
            self._bytes_by[hotkey] += n
            held += n

        try:
            yield take
        finally:
            self.requests -= 1
            self.bytes -= held
            _give_back(self._requests_by, hotkey, 1)
            _give_back(self._bytes_by, hotkey, held)

    def held_by(self, hotkey: str) -> int:
        """Bytes held now for one authenticated hotkey."""
        return self._bytes_by[hotkey]


def _give_back(counter: Counter, key: Any, n: int) -> None:
    counter[key] -= n
    if counter[key] <= 0:
        del counter[key]


async def receive_body(request: Any, take: Callable[[int], None], settings: MinerSettings, signed_sha256: str) -> bytes:
    """The body, received chunk by chunk against its deadline, minimum rate and pool, and checked
    against the hash its headers signed: 408 when too slow, 401 when it is not the body that was
    signed, 400 (logged, never sent) when the caller hangs up half-way, which is not the miner's
    error. Its size needs no check here: the server reads exactly the declared Content-Length,
    which was checked against `max_request_bytes` and signed.

    request: the Starlette request (its ASGI `receive` is read directly: cancel-safe, a chunk is
        never lost to a timeout).
    take: the body pool's `take(n)` (`BodyPool.entry`), called with each chunk's size in bytes
        before it is kept; it raises HTTPRefusal 429 when the pool is full.
    settings: `body_timeout_s` (s, from the end of the headers), `body_grace_s` (s before the
        minimum rate applies), `body_min_rate` (bytes/s on average).
    signed_sha256: the body's sha256 (hex) as the verified headers declare it.

    When a chunk is due, one more look without waiting (`LAST_LOOK_S`) tells a chunk the server
    already holds (a busy event loop hands it over a moment late) from a sender that is really too slow."""
    s = settings
    loop = asyncio.get_running_loop()
    started = loop.time()
    deadline = started + s.body_timeout_s
    parts, total, more = [], 0, True
    digest = hashlib.sha256()
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
        take(len(chunk))
        digest.update(chunk)  # tens of microseconds per 64 KiB chunk: the loop is never held long
        parts.append(chunk)
    if digest.hexdigest() != signed_sha256:
        raise HTTPRefusal(401, BODY_MISMATCH, close=True)
    return b"".join(parts)
