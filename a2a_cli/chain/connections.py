"""Connections that have not finished their request headers: a deadline each, and a cap on how many.

uvicorn bounds idle keep-alive connections (`timeout_keep_alive`), header size
(`h11_max_incomplete_event_size`) and the number of connections it serves (`limit_concurrency`),
but nothing bounds the time a client takes to send its request line and headers: one byte every
few seconds (slowloris) holds a connection, and its socket and buffers, for ever. `guarded_h11`
makes uvicorn's own h11 protocol class with two bounds on the phase before a request exists:

- a deadline (`headers_timeout_s`) from the connection's opening, or from the end of its previous
  response, to the end of the next request's headers; past it the connection is closed;
- at most `max_pending` connections in that phase at once; a new connection over the cap closes
  the one that has waited longest. Honest clients send their headers at once, so under a flood of
  idle or trickling connections it is always the attacker's oldest that goes, never a newcomer.

A request in progress (headers complete) is never closed here: the body has its own deadline,
minimum rate and pool (miner/body_intake.py), and the whole request its deadline.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

__all__ = ["PendingConnections", "guarded_h11"]

log = logging.getLogger("a2a.miner")


class PendingConnections:
    """The connections of one server waiting for request headers, oldest first (only the event loop touches it)."""

    def __init__(self, *, headers_timeout_s: float, max_pending: int):
        """headers_timeout_s: seconds a connection may take to send its request headers (from
        connecting, or from its last response). max_pending: connections waiting at once."""
        self.headers_timeout_s = float(headers_timeout_s)
        self.max_pending = int(max_pending)
        self._waiting: dict[Any, asyncio.TimerHandle] = {}  # insertion order: oldest first
        self.closed_late = 0  # connections closed at their headers deadline
        self.closed_evicted = 0  # connections closed to make room for a newer one

    def __len__(self) -> int:
        return len(self._waiting)

    def wait(self, connection: Any, on_late) -> None:
        """`connection` now waits for headers; `on_late()` runs if they are not complete in time."""
        self.done(connection)
        while len(self._waiting) >= self.max_pending:
            oldest = next(iter(self._waiting))
            self.done(oldest)
            self.closed_evicted += 1
            oldest.transport.close()
        self._waiting[connection] = asyncio.get_running_loop().call_later(self.headers_timeout_s, on_late)

    def done(self, connection: Any) -> bool:
        """`connection` no longer waits (its headers came, or it closed); True if it was waiting."""
        timer = self._waiting.pop(connection, None)
        if timer is not None:
            timer.cancel()
        return timer is not None


def guarded_h11(pending: PendingConnections) -> type:
    """uvicorn's H11Protocol with the headers deadline and the pending cap of `pending` (pass it as
    `uvicorn.Config(http=...)`)."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class GuardedH11Protocol(H11Protocol):
        _awaiting: Any = None  # the request cycle whose successor the deadline waits for

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._await_headers()

        def handle_events(self) -> None:
            super().handle_events()
            if self.cycle is not self._awaiting:  # a new request's headers are complete
                pending.done(self)

        def on_response_complete(self) -> None:
            super().on_response_complete()  # may start a pipelined request (handle_events)
            if not self.transport.is_closing() and (self.cycle is None or self.cycle.response_complete):
                self._await_headers()

        def connection_lost(self, exc: Exception | None) -> None:
            pending.done(self)
            super().connection_lost(exc)

        def _await_headers(self) -> None:
            self._awaiting = self.cycle
            pending.wait(self, self._headers_late)

        def _headers_late(self) -> None:
            idle = self.cycle is self._awaiting and (self.cycle is None or self.cycle.response_complete)
            if pending.done(self) and idle and not self.transport.is_closing():
                pending.closed_late += 1
                log.debug("closed a connection from %s: no request headers within %g s", self.client, pending.headers_timeout_s)
                self.transport.close()

    return GuardedH11Protocol
