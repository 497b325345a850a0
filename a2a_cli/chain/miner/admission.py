"""Admission of authenticated requests: a bounded number being prepared, then generation slots by stake.

`IntakeLimit` bounds the requests between signature verification and the queue (parsing and
decoding cost CPU and memory); `AdmissionQueue` runs `slots` at once, keeps up to `max_waiting`
waiting, and serves the highest stake first. Only the miner's event loop touches either.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections.abc import Iterator

from a2a_cli.chain.miner.refusal import HTTPRefusal

__all__ = ["AdmissionQueue", "IntakeLimit"]


class AdmissionQueue:
    """`slots` requests run at once and up to `max_waiting` wait; the highest stake is served first.

    When the queue is full a newcomer with more stake than the poorest waiter takes its place
    (the evicted waiter gets 429); otherwise the newcomer gets 429. Only the event loop touches it.
    """

    def __init__(self, slots: int, max_waiting: int):
        """slots: requests generating at once (the thread pool's size). max_waiting: requests queued beyond them."""
        self.slots = slots
        self.max_waiting = max_waiting
        self.active = 0
        self._waiting: list[tuple[float, int, asyncio.Future]] = []  # (-stake, arrival, future): a min-heap
        self._arrivals = itertools.count()

    @property
    def waiting(self) -> int:
        return sum(1 for *_, f in self._waiting if not f.done())

    async def acquire(self, stake: float) -> None:
        """Wait for a slot (raises HTTPRefusal 429 when refused). Cancel-safe. `stake` is the caller's,
        in the subnet's alpha: the highest waits least, and may take a poorer waiter's place."""
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
        """Give a slot back: it passes straight to the richest waiter, if any."""
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
        """limit: requests being prepared at once (the miner uses its slots plus its queue)."""
        self.limit = limit
        self.active = 0

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one place while the block runs; HTTPRefusal 429 (closing) when none is free."""
        if self.active >= self.limit:
            raise HTTPRefusal(429, "miner is at capacity (too many requests being prepared); retry later", close=True)
        self.active += 1
        try:
            yield
        finally:
            self.active -= 1
