"""What a connection may hold, and cost, before it proves itself: fair shares per client address, a
budget per address, deadlines, and uvicorn's h11 protocol that enforces them.

A connection *proves itself* when a request on it carries a signature that verifies (a2a/2 checks
it from the headers, see auth.py): from then until that request's answer is sent, the connection
belongs to an authenticated, staked caller and nothing here touches it. Every other connection is
*unproven*, whatever hotkey it claims, and is bounded here, so that no amount of keyless traffic
locks a validator out:

- **fair shares** (`AddressShares`): at most `max_unproven` unproven connections, and at most
  `max_pending` of them waiting for their request headers. Past either cap, the connection closed
  to make room is the oldest of the client address holding the most, never simply the oldest: a
  flood from a few addresses pushes out its own connections, not a newcomer from another address
  (a validator's connection waits at most a moment for its headers to be read, however many
  connections the flood opens meanwhile). This holds while the flood comes from fewer addresses
  than the caps; past that, the oldest connection of the many addresses holding one goes first;
- **a budget per address** (`KeylessBudget`): each connection opened, and each further request on
  a connection, costs its address one token; tokens refill at `rate` per second up to `burst`, and a
  request that proves its signature gives its token back. An address without tokens has its new
  connections closed on arrival (before any byte is parsed) and its further requests cut with their
  connection, so what one keyless address makes the miner spend is bounded per second;
- **deadlines**: the request headers must be complete `headers_timeout_s` after the connection
  opened (or after its previous answer); an answer whose bytes cannot move for `send_timeout_s`
  (the client reads nothing, so the connection's send buffers stay full) is dropped with its
  connection, whoever sent the request. Each connection's kernel send buffer is `SEND_BUFFER_BYTES`,
  so a client that never reads holds at most that much of the miner's memory, for at most that long.

Every connection closed by force, and every idle one closed while the kernel still holds some of
its last answer, is *reset* (`reset`): a plain close would leave the kernel an orphaned socket
still trying, for minutes, to deliver what the client never reads.

Addresses are IPv4 addresses and IPv6 /64 prefixes (one host's usual share of IPv6). uvicorn already
bounds idle keep-alive connections (`timeout_keep_alive`) and header size while incomplete
(`h11_max_incomplete_event_size`).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import ipaddress
import logging
import socket
import struct
import termios
import time
from collections.abc import Callable
from typing import Any

__all__ = ["MAX_TRACKED_ADDRESSES", "SEND_BUFFER_BYTES", "AddressShares", "ConnectionGuard", "KeylessBudget", "client_address",
           "guarded_h11", "reset", "unsent_bytes"]

log = logging.getLogger("a2a.miner")

MAX_TRACKED_ADDRESSES = 65_536  # budgets kept at once; past it, those refilled to the full burst (else the least recent) are forgotten
# The kernel's send buffer of each connection (Linux doubles it): an answer larger than this flows
# through as the client reads; loopback autotuning would otherwise let one unread connection hold MBs.
SEND_BUFFER_BYTES = 256 * 1024


def reset(transport: asyncio.BaseTransport) -> None:
    """Close a connection by force, with a TCP reset, dropping whatever the kernel still holds to send."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def unsent_bytes(transport: asyncio.BaseTransport) -> int:
    """Bytes of a connection's answers the kernel still holds to send (Linux's SIOCOUTQ; 0 where unknown)."""
    sock = transport.get_extra_info("socket")
    try:
        return struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0" * 4))[0] if sock is not None else 0
    except OSError:
        return 0


def client_address(host: str) -> str:
    """The address a client is budgeted and shared under: its IPv4 address, or its IPv6 /64 prefix
    (an IPv4-mapped IPv6 address counts as the IPv4 one). `host` is the peer's address as text;
    anything that does not parse is its own address."""
    try:
        address = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return host
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


class AddressShares:
    """Members (connections) grouped by client address, each address's oldest first, at most
    `capacity` in all: adding past it pushes out the oldest member of the address holding the most
    (of those holding the most, the one that got there first). Every operation is O(1)."""

    def __init__(self, capacity: int):
        """capacity: the most members held at once (at least 1)."""
        self.capacity = max(1, int(capacity))
        self._members: dict[str, dict[Any, None]] = {}  # address -> its members, oldest first
        self._address_of: dict[Any, str] = {}
        self._by_count: dict[int, dict[str, None]] = {}  # count -> the addresses holding that many, in arrival order
        self._top = 0

    def __len__(self) -> int:
        return len(self._address_of)

    def __contains__(self, member: Any) -> bool:
        return member in self._address_of

    def held_by(self, address: str) -> int:
        """How many members `address` holds now."""
        return len(self._members.get(address, ()))

    def add(self, member: Any, address: str) -> list[Any]:
        """Hold `member` (not held yet) under `address`; returns the members pushed out to make room, oldest first."""
        mine = self._members.setdefault(address, {})
        mine[member] = None
        self._address_of[member] = address
        self._recount(address, len(mine) - 1, len(mine))
        pushed_out = []
        while len(self._address_of) > self.capacity:
            richest = next(iter(self._by_count[self._top]))
            victim = next(iter(self._members[richest]))
            self.discard(victim)
            pushed_out.append(victim)
        return pushed_out

    def discard(self, member: Any) -> bool:
        """Stop holding `member`; True if it was held."""
        address = self._address_of.pop(member, None)
        if address is None:
            return False
        mine = self._members[address]
        del mine[member]
        self._recount(address, len(mine) + 1, len(mine))
        if not mine:
            del self._members[address]
        return True

    def _recount(self, address: str, old: int, new: int) -> None:
        if old:
            bucket = self._by_count[old]
            del bucket[address]
            if not bucket:
                del self._by_count[old]
        if new:
            self._by_count.setdefault(new, {})[address] = None
        self._top = max(self._top, new)
        while self._top and self._top not in self._by_count:
            self._top -= 1


class KeylessBudget:
    """A token bucket per client address: what unauthenticated traffic from one address may cost.

    Each address starts with `burst` tokens and regains `rate` per second, up to `burst`. Only the
    event loop touches it.
    """

    def __init__(self, *, rate: float, burst: float, clock: Callable[[], float] = time.monotonic):
        """rate: tokens regained per second. burst: the most an address holds (and starts with).
        clock: seconds, monotonic (tests pass their own)."""
        self.rate, self.burst = float(rate), float(burst)
        self._clock = clock
        self._tokens: dict[str, tuple[float, float]] = {}  # address -> (tokens, when counted)

    def tokens(self, address: str) -> float:
        """The tokens `address` holds now."""
        held, at = self._tokens.get(address, (self.burst, 0.0))
        return min(self.burst, held + (self._clock() - at) * self.rate)

    def spend(self, address: str) -> bool:
        """Take one token from `address`; False (and nothing taken) when it has less than one."""
        held = self.tokens(address)
        if held < 1.0:
            return False
        self._set(address, held - 1.0)
        return True

    def give_back(self, address: str) -> None:
        """Return one token to `address` (its request proved itself)."""
        self._set(address, min(self.burst, self.tokens(address) + 1.0))

    def _set(self, address: str, tokens: float) -> None:
        if address not in self._tokens and len(self._tokens) >= MAX_TRACKED_ADDRESSES:
            # forget the addresses refilled to the full burst (nothing is lost), else the oldest half
            now = self._clock()
            kept = {a: (held, at) for a, (held, at) in self._tokens.items() if held + (now - at) * self.rate < self.burst}
            self._tokens = kept if len(kept) < MAX_TRACKED_ADDRESSES else dict(list(kept.items())[MAX_TRACKED_ADDRESSES // 2 :])
        self._tokens.pop(address, None)  # re-inserted last: the dict stays in order of last use
        self._tokens[address] = (tokens, self._clock())


class ConnectionGuard:
    """The unproven connections of one server, their budgets and deadlines (only the event loop touches it).

    The protocol (`guarded_h11`) reports each connection's life: `opened`, `awaiting_headers`,
    `headers_complete`, `answered`, `closed`; the application calls `prove` when a request's
    signature verifies. Counters say what was closed and why.
    """

    def __init__(self, *, headers_timeout_s: float, max_pending: int, max_unproven: int, budget: KeylessBudget,
                 send_timeout_s: float):
        """headers_timeout_s: seconds a connection may take to send its request headers (from
        connecting, or from its last answer). max_pending: connections waiting for headers at once.
        max_unproven: unproven connections at once. budget: the per-address budget.
        send_timeout_s: seconds an answer's bytes may stand still before the connection is dropped."""
        self.headers_timeout_s = float(headers_timeout_s)
        self.send_timeout_s = float(send_timeout_s)
        self.pending = AddressShares(max_pending)
        self.unproven = AddressShares(max_unproven)
        self.budget = budget
        self._headers_due: dict[Any, asyncio.TimerHandle] = {}
        self._by_client: dict[Any, Any] = {}  # (host, port) -> the connection
        self.closed_late = 0  # closed at their headers deadline
        self.closed_evicted = 0  # closed to make room for another address's connection
        self.closed_over_budget = 0  # closed on arrival, or at a further request, their address out of tokens
        self.closed_unread = 0  # answers nobody read within send_timeout_s

    def __len__(self) -> int:
        """Connections waiting for their request headers."""
        return len(self.pending)

    def opened(self, connection: Any) -> bool:
        """A new connection (with `.client` (host, port) and `.transport`); False when its address
        has no token left (the caller closes it at once)."""
        address = connection.address
        if not self.budget.spend(address):
            self.closed_over_budget += 1
            return False
        self._by_client[connection.client] = connection
        self._push_out(self.unproven.add(connection, address))
        return True

    def awaiting_headers(self, connection: Any, on_late: Callable[[], None]) -> None:
        """`connection` now waits for request headers; `on_late()` runs if they are not complete in time."""
        self.headers_complete(connection)
        if self._by_client.get(connection.client) is not connection or connection.transport.is_closing():
            return
        self._push_out(self.pending.add(connection, connection.address))
        if connection in self.pending:
            self._headers_due[connection] = asyncio.get_running_loop().call_later(self.headers_timeout_s, on_late)

    def headers_complete(self, connection: Any) -> bool:
        """`connection` no longer waits for headers (they came, or it closed); True if it was waiting."""
        timer = self._headers_due.pop(connection, None)
        if timer is not None:
            timer.cancel()
        return self.pending.discard(connection)

    def further_request(self, connection: Any) -> bool:
        """A request after the first on `connection`: it costs a token; False when none is left."""
        if self.budget.spend(connection.address):
            return True
        self.closed_over_budget += 1
        return False

    def prove(self, client: Any) -> None:
        """The request on the connection of `client` ((host, port), as the ASGI scope gives it) proved
        its signature: the connection leaves the unproven ones until its answer is sent, and its token comes back."""
        connection = self._by_client.get(tuple(client) if client else None)
        if connection is not None and self.unproven.discard(connection):
            self.budget.give_back(connection.address)

    def answered(self, connection: Any) -> None:
        """`connection`'s answer is sent: it is unproven again (a keep-alive connection waits for its next request)."""
        if connection not in self.unproven and not connection.transport.is_closing():
            self._push_out(self.unproven.add(connection, connection.address))

    def closed(self, connection: Any) -> None:
        """`connection` is gone: forget it."""
        self.headers_complete(connection)
        self.unproven.discard(connection)
        if self._by_client.get(connection.client) is connection:
            del self._by_client[connection.client]

    def _push_out(self, connections: list[Any]) -> None:
        for connection in connections:  # gone now: its connection_lost comes later, maybe after more arrivals
            self.headers_complete(connection)
            self.unproven.discard(connection)
            self.closed_evicted += 1
            reset(connection.transport)


def guarded_h11(guard: ConnectionGuard) -> type:
    """uvicorn's H11Protocol bounded by `guard` (pass it as `uvicorn.Config(http=...)`)."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class GuardedH11Protocol(H11Protocol):
        address = ""  # the client's address as the guard counts it (client_address)
        _awaiting: Any = None  # the request cycle whose successor the headers deadline waits for
        _requests = 0
        _send_due: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self.address = client_address(self.client[0]) if self.client else "-"
            if not guard.opened(self):
                reset(transport)
                return
            sock = transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)
            self._await_headers()

        def handle_events(self) -> None:
            super().handle_events()
            if self.cycle is not self._awaiting:  # a new request's headers are complete
                self._awaiting = self.cycle
                guard.headers_complete(self)
                self._requests += 1
                if self._requests > 1 and not guard.further_request(self):
                    reset(self.transport)

        def on_response_complete(self) -> None:  # the send clock runs on: the transport may still be paused
            guard.answered(self)
            super().on_response_complete()  # may start a pipelined request (handle_events)
            if not self.transport.is_closing() and (self.cycle is None or self.cycle.response_complete):
                self._await_headers()

        def connection_lost(self, exc: Exception | None) -> None:
            self._stop_send_clock()
            guard.closed(self)
            super().connection_lost(exc)

        def pause_writing(self) -> None:  # the transport's buffer is full: the client is not reading
            super().pause_writing()
            if self._send_due is None:
                self._send_due = self.loop.call_later(guard.send_timeout_s, self._unread)

        def resume_writing(self) -> None:
            self._stop_send_clock()
            super().resume_writing()

        def _stop_send_clock(self) -> None:
            if self._send_due is not None:
                self._send_due.cancel()
                self._send_due = None

        def _unread(self) -> None:
            self._send_due = None
            guard.closed_unread += 1
            log.debug("dropped a connection from %s: its answer was not read for %g s", self.client, guard.send_timeout_s)
            reset(self.transport)

        def _await_headers(self) -> None:
            self._awaiting = self.cycle
            guard.awaiting_headers(self, self._headers_late)

        def _headers_late(self) -> None:
            idle = self.cycle is self._awaiting and (self.cycle is None or self.cycle.response_complete)
            if guard.headers_complete(self) and idle and not self.transport.is_closing():
                guard.closed_late += 1
                log.debug("closed a connection from %s: no request headers within %g s", self.client, guard.headers_timeout_s)
                self._close_idle()

        def timeout_keep_alive_handler(self) -> None:  # uvicorn's idle keep-alive deadline
            if not self.transport.is_closing() and unsent_bytes(self.transport):
                reset(self.transport)
            else:
                super().timeout_keep_alive_handler()

        def _close_idle(self) -> None:
            """Close an idle connection: a reset when its client has not taken all of its last answer."""
            if unsent_bytes(self.transport):
                reset(self.transport)
            else:
                self.transport.close()

    return GuardedH11Protocol
