"""Keyless pressure on one miner, for the attack test and benchmark: everything an attacker without a
key or stake can hold open on 127.0.0.1, kept up in a background thread until stopped.

- `slow_bodies` signed-looking requests that claim a staked validator's public hotkey (fresh nonce,
  the miner as receiver, a signature of the right length that verifies nothing), each declaring a
  500 kB body and trickling it a byte at a time; when the miner cuts one, it comes back;
- `idle` connections that never send a byte; when closed, they come back;
- `slowloris` connections that trickle their request headers a byte at a time; they come back too.

Every loop is bounded in count (`max_connections` opened in all) and time (`max_seconds`).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import Counter
from collections.abc import Iterator

from bittensor import http_auth

from a2a_cli.chain import protocol

SLOW_BODY_BYTES = 500_000


class Attack:
    def __init__(self, port: int, *, claimed_hotkey: str, miner_hotkey: str, slow_bodies: int = 24, idle: int = 200,
                 slowloris: int = 10, trickle_s: float = 0.2, max_connections: int = 5000, max_seconds: float = 60.0):
        self.port = port
        self.claimed_hotkey, self.miner_hotkey = claimed_hotkey, miner_hotkey
        self.counts = {"slow_body": slow_bodies, "idle": idle, "slowloris": slowloris}
        self.trickle_s = trickle_s
        self.max_connections, self.max_seconds = max_connections, max_seconds
        self.open_now: Counter[str] = Counter()  # connections of each kind open right now
        self.opened: Counter[str] = Counter()  # connections of each kind opened in all
        self.answers: Counter[bytes] = Counter()  # status lines the miner answered attackers with
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started_at = 0.0

    # --- control ---------------------------------------------------------------------------------

    @contextlib.contextmanager
    def running(self, *, settle_s: float = 5.0) -> Iterator[Attack]:
        """Start every connection, wait until all are open at once (at most `settle_s`), yield, then stop."""
        self._started_at = time.monotonic()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)
        self._thread.start()
        deadline = time.monotonic() + settle_s
        while not self.all_open() and time.monotonic() < deadline:
            time.sleep(0.02)
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join(timeout=15)

    def all_open(self) -> bool:
        return all(self.open_now[kind] >= n for kind, n in self.counts.items())

    # --- the connections -------------------------------------------------------------------------

    def _going(self) -> bool:
        return (not self._stop.is_set() and sum(self.opened.values()) < self.max_connections
                and time.monotonic() - self._started_at < self.max_seconds)

    async def _main(self) -> None:
        kinds = {"slow_body": self._slow_body, "idle": self._idle, "slowloris": self._slowloris}
        await asyncio.gather(*(self._keep_up(kind, kinds[kind]) for kind, n in self.counts.items() for _ in range(n)))

    async def _keep_up(self, kind: str, one) -> None:
        """Open one connection of `kind`, run it until the miner closes it, open the next: while going."""
        while self._going():
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            self.opened[kind] += 1
            self.open_now[kind] += 1
            try:
                await one(reader, writer)
            except (OSError, asyncio.IncompleteReadError):
                pass
            finally:
                self.open_now[kind] -= 1
                writer.close()
            await asyncio.sleep(0.05)

    async def _until_closed(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, trickle: bytes) -> None:
        """Send `trickle` one byte per `trickle_s` until the miner answers or closes; note its answer."""
        for i in range(10**6):
            if not self._going():
                return
            try:
                line = await asyncio.wait_for(reader.readline(), self.trickle_s)
            except TimeoutError:
                if trickle:
                    writer.write(trickle[i % len(trickle): i % len(trickle) + 1])
                continue
            if line:
                self.answers[line.split(b" ", 2)[1] if line.count(b" ") >= 2 else line] += 1
            return  # answered (and, for attackers, closed) or closed

    async def _slow_body(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        headers = {"Host": "miner", "Content-Type": "application/json", "Content-Length": str(SLOW_BODY_BYTES),
                   http_auth.HEADER_VERSION: http_auth.VERSION, http_auth.HEADER_HOTKEY: self.claimed_hotkey,
                   http_auth.HEADER_RECEIVER: self.miner_hotkey, http_auth.HEADER_NONCE: str(time.time_ns()),
                   http_auth.HEADER_SIGNATURE: "0x" + "ab" * 64}
        head = f"POST {protocol.GENERATE_PATH} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        writer.write(head.encode() + b'{"protocol": "a2a/1", "prompt_id": "')
        await self._until_closed(reader, writer, b"x")

    async def _idle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await self._until_closed(reader, writer, b"")

    async def _slowloris(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(f"POST {protocol.GENERATE_PATH} HTTP/1.1\r\nHost: miner\r\n".encode())
        await self._until_closed(reader, writer, b"X-Padding-" + b"a" * 4000 + b": b\r\n")
