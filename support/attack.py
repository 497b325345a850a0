"""Keyless pressure on one miner, for the attack tests and benchmark: everything an attacker without a
key can hold open or make the miner do on loopback, from several 127.0.0.x addresses, kept up in a
background thread until stopped.

Kinds of connection (each kept up: when the miner closes one, it comes back):
- `big_bodies`: requests that claim a staked validator's public hotkey (fresh nonce, the miner as
  receiver, the body's hash, a signature of the right length that verifies nothing), each sending
  all but the last byte of a `body_bytes` body at once and withholding the last (the two-connection
  lockout of a2a/1);
- `slow_bodies`: the same requests trickling their body a byte at a time;
- `idle` connections that never send a byte;
- `slowloris` connections that trickle their request headers a byte at a time;
- `unread`: connections with a 1 KB receive buffer that pipeline `pipelined` requests for
  /openapi.json and never read a byte of the answers (`dropped` counts those the miner cut);
- `flood`: each worker opens connections one after another as fast as it can, without waiting for
  the last to close, and sends nothing on them (a connection flood; `flood_held` counts the
  flood's connections open now).

Worker i of a kind connects from `addresses[i % len(addresses)]` and claims
`claimed_hotkeys[i % len(claimed_hotkeys)]`. Every loop is bounded in count (`max_connections`
opened in all) and time (`max_seconds`).

`in_own_process` runs an attack in a process of its own (`python -m support.attack`), as a real
attacker is: in the process of the miner it attacks, it would share its interpreter lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

__all__ = ["Attack", "KINDS", "in_own_process"]

_TCP_ESTABLISHED = 1  # the first byte of Linux's struct tcp_info: the connection's state
KINDS = ("big_body", "slow_body", "idle", "slowloris", "unread", "flood")


class Attack:
    def __init__(self, port: int, *, miner_hotkey: str = "-", claimed_hotkeys: Sequence[str] = ("-",), addresses: Sequence[str] = ("127.0.0.1",),
                 big_bodies: int = 0, slow_bodies: int = 0, idle: int = 0, slowloris: int = 0, unread: int = 0, flood: int = 0,
                 body_bytes: int = 500_000, pipelined: int = 200,
                 trickle_s: float = 0.2, max_connections: int = 5000, max_seconds: float = 60.0):
        """port: the miner's on 127.0.0.1. miner_hotkey: its ss58 hotkey (the receiver every claiming request names).
        claimed_hotkeys: the hotkeys requests claim. addresses: the loopback addresses to connect from.
        big_bodies, slow_bodies, idle, slowloris, unread: connections of each kind held at once. flood:
        workers opening connections as fast as they can. pipelined: requests each unread connection
        sends. body_bytes:
        the Content-Length the requests declare. trickle_s: seconds between two trickled bytes.
        max_connections, max_seconds: the bounds of the whole attack."""
        self.port, self.miner_hotkey = port, miner_hotkey
        self.claimed_hotkeys, self.addresses = list(claimed_hotkeys), list(addresses)
        self.counts = {"big_body": big_bodies, "slow_body": slow_bodies, "idle": idle, "slowloris": slowloris, "unread": unread}
        self.pipelined = pipelined
        self.dropped = 0  # unread connections the miner cut
        self.flood_workers = flood
        self.flood_held = 0
        self.body_bytes, self.trickle_s = body_bytes, trickle_s
        self.max_connections, self.max_seconds = max_connections, max_seconds
        self.open_now: Counter[str] = Counter()  # connections of each kind open right now
        self.opened: Counter[str] = Counter()  # connections of each kind opened in all
        self.answers: Counter[bytes] = Counter()  # status codes the miner answered attackers with
        self.sent = 0  # bytes sent (handed to the kernel), all connections together
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.started_at = 0.0

    # --- control ---------------------------------------------------------------------------------

    @contextlib.contextmanager
    def running(self, *, settle_s: float = 5.0) -> Iterator[Attack]:
        """Start every connection, wait until all are open at once (at most `settle_s`), yield, then stop."""
        self.started_at = time.monotonic()
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
                and time.monotonic() - self.started_at < self.max_seconds)

    async def _main(self) -> None:
        await asyncio.gather(*(self._keep_up(kind, i) for kind, n in self.counts.items() for i in range(n)),
                             *(self._flood(i) for i in range(self.flood_workers)))

    async def _flood(self, i: int) -> None:
        """Open connections from `addresses[i % ...]` one after another, each held until the miner closes it."""
        address, held = self.addresses[i % len(self.addresses)], set()

        async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.flood_held += 1
            try:
                while self._going() and not reader.at_eof():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(reader.read(1024), 0.2)
            except OSError:
                pass
            finally:
                self.flood_held -= 1
                writer.close()

        while self._going():
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port, local_addr=(address, 0))
            except OSError:
                await asyncio.sleep(0.01)
                continue
            self.opened["flood"] += 1
            task = asyncio.create_task(hold(reader, writer))
            held.add(task)
            task.add_done_callback(held.discard)
        await asyncio.gather(*held, return_exceptions=True)

    async def _keep_up(self, kind: str, i: int) -> None:
        """Open one connection of `kind` (worker `i`), run it until the miner closes it, open the next: while going."""
        address = self.addresses[i % len(self.addresses)]
        hotkey = self.claimed_hotkeys[i % len(self.claimed_hotkeys)]
        while self._going():
            try:
                if kind == "unread":
                    reader, writer = await self._tiny_window_connection(address)  # the "reader" is its socket
                else:
                    reader, writer = await asyncio.open_connection("127.0.0.1", self.port, local_addr=(address, 0))
            except OSError:
                await asyncio.sleep(0.05)
                continue
            self.opened[kind] += 1
            self.open_now[kind] += 1
            try:
                if kind == "unread":
                    await self._never_read(reader, writer)
                    continue
                if kind in ("big_body", "slow_body"):
                    self._write(writer, self._claiming_head(hotkey))
                if kind == "big_body":
                    self._write(writer, b" " * (self.body_bytes - 1))  # all but the last byte, at once
                trickle = {"slow_body": b" ", "slowloris": b"X-Padding-" + b"a" * 4000 + b": b\r\n"}.get(kind, b"")
                if kind == "slowloris":
                    self._write(writer, b"POST /v1/generate HTTP/1.1\r\nHost: miner\r\n")
                await self._until_closed(reader, writer, trickle)
            except (OSError, asyncio.IncompleteReadError):
                pass
            finally:
                self.open_now[kind] -= 1
                self.sent -= writer.transport.get_write_buffer_size()  # handed over but never sent: the miner cut it first
                writer.close()
            await asyncio.sleep(0.05)

    async def _tiny_window_connection(self, address: str) -> tuple[socket.socket, asyncio.StreamWriter]:
        """A connection from `address` whose receive buffer is 1 KB, so the miner's answers pile up on
        its side: (its socket, a writer on it)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
        sock.bind((address, 0))
        sock.setblocking(False)
        try:
            await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", self.port))
        except OSError:
            sock.close()
            raise
        _, writer = await asyncio.open_connection(sock=sock)
        return sock, writer

    async def _never_read(self, sock: socket.socket, writer: asyncio.StreamWriter) -> None:
        """Pipeline the requests, read nothing, and wait until the miner cuts the connection (seen in
        the kernel's TCP state, Linux's TCP_INFO: the answers stay unread)."""
        writer.transport.pause_reading()
        self._write(writer, b"GET /openapi.json HTTP/1.1\r\nHost: miner\r\n\r\n" * self.pipelined)
        while self._going():
            await asyncio.sleep(self.trickle_s)
            if writer.transport.is_closing() or sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0] != _TCP_ESTABLISHED:
                self.dropped += 1
                return

    def _write(self, writer: asyncio.StreamWriter, data: bytes) -> None:
        """Send `data` and count it (what the attack spends in bandwidth)."""
        if not writer.transport.is_closing():
            writer.write(data)
            self.sent += len(data)

    def _claiming_head(self, hotkey: str) -> bytes:
        """Request headers claiming `hotkey`, as a signed a2a/2 request's look, for a body of spaces."""
        from bittensor import http_auth

        from a2a_cli.chain import protocol
        from a2a_cli.chain.auth import BODY_SHA256_HEADER, TIMEOUT_HEADER

        digest = hashlib.sha256(b" " * self.body_bytes).hexdigest()
        headers = {"Host": "miner", "Content-Type": "application/json", "Content-Length": str(self.body_bytes),
                   http_auth.HEADER_VERSION: http_auth.VERSION, http_auth.HEADER_HOTKEY: hotkey,
                   http_auth.HEADER_RECEIVER: self.miner_hotkey, http_auth.HEADER_NONCE: str(time.time_ns()),
                   http_auth.HEADER_SIGNATURE: "0x" + "ab" * 64, BODY_SHA256_HEADER: digest, TIMEOUT_HEADER: "60000"}
        return (f"POST {protocol.GENERATE_PATH} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode()

    async def _until_closed(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, trickle: bytes) -> None:
        """Send `trickle` one byte per `trickle_s` until the miner answers or closes; note its answer."""
        for i in range(10**6):
            if not self._going():
                return
            try:
                line = await asyncio.wait_for(reader.readline(), self.trickle_s)
            except TimeoutError:
                if trickle:
                    self._write(writer, trickle[i % len(trickle): i % len(trickle) + 1])
                continue
            if line:
                self.answers[line.split(b" ", 2)[1] if line.count(b" ") >= 2 else line] += 1
            return  # answered (and, for attackers, closed) or closed


@contextlib.contextmanager
def in_own_process(port: int, **options) -> Iterator[dict]:
    """Run `Attack(port, **options)` (lists and numbers only) in a process of its own while the block
    runs; yields a dict that, once the block is left, holds the attack's `opened` and `answers`
    counts, the bytes it sent, the unread connections cut, and how long it ran."""
    repo = Path(__file__).resolve().parents[1]
    child = subprocess.Popen([sys.executable, "-m", "support.attack", str(port), json.dumps(options)], cwd=repo,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    summary: dict = {}
    try:
        if child.stdout.readline().strip() != "running":
            raise RuntimeError("the attack process did not start")
        yield summary
    finally:
        out, _ = child.communicate("", timeout=60)
        summary.update(json.loads(out or "{}"))


def _main(port: str, options: str) -> None:
    """(the attack process) Attack until stdin closes, then print what was opened and answered, as JSON."""
    attack = Attack(int(port), **json.loads(options))
    with attack.running(settle_s=0.5):
        print("running", flush=True)
        sys.stdin.read()
    print(json.dumps({"opened": dict(attack.opened), "answers": {k.decode(): n for k, n in attack.answers.items()},
                      "sent_bytes": attack.sent, "dropped": attack.dropped, "seconds": time.monotonic() - attack.started_at}), flush=True)


if __name__ == "__main__":
    _main(*sys.argv[1:])
