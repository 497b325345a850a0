"""One miner under each attack of issue 18, on loopback: what an honest validator gets, what the miner
spends, what the attacker must spend.

The miner (default settings, 200 ms generation) serves from its own process; each attack runs in a
process of its own (support/attack.py), from 127.0.0.x addresses other than the validator's
127.0.0.1; the validator's signed 10-s prompts go one after another, each on a new connection,
timed from signing to the checked answer. Every phase is bounded in time and connections.

Phases, each after a quiet baseline in the same run:
  lockout   10 connections claiming staked validators' hotkeys (2 the validator's), each sending
            all but the last byte of a 16 MiB body (a2a/1: every validator got 429)
  flood     32 workers on 32 addresses opening connections as fast as they can, sending nothing
  slow      24 slow bodies claiming the validator, 200 idle connections, 10 slowloris trickles
  unread    24 connections with a 1 KB window pipelining 200 GET /openapi.json, never reading
  stall     every connection to the miner held 12 s by a proxy (more than signature_max_age_s)

For each: the honest latency (median, worst, answers served of sent), the miner's CPU share and
its resident memory (now and peak), the attacker's connections and bytes written per second (what
it handed its kernel; a reset discards what the miner never read), and what the miner closed
(`/v1/health`'s counters). Then what an attacker must spend per second to hold each
resource, from the miner's settings.

Run: .venv/bin/python benchmarks/bench_attacks.py
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo root: a2a_cli, and support/ (shared with the tests)

import httpx  # noqa: E402

from a2a_cli.chain import protocol  # noqa: E402
from a2a_cli.chain.miner import MinerSettings  # noqa: E402
from support.attack import in_own_process  # noqa: E402
from support.subnet_helpers import local_chain_with, make_wallets, prompt_body, signed_headers  # noqa: E402

PROMPTS = 8  # honest prompts per phase
TIMEOUT_S = 60.0  # the validator's default
STALL_S = 12.0
TICKS = os.sysconf("SC_CLK_TCK")


def serve_miner(chain_path: str, wallet_root: str) -> None:
    """(the miner process) The default miner, 200 ms per generation; prints its port."""
    from a2a_cli.chain.auth import load_wallet
    from a2a_cli.chain.local_chain import LocalChain
    from a2a_cli.chain.miner import MinerService, bind_socket, serve
    from support.subnet_helpers import fast_generate

    def generate(samples, sr, duration_s, seed):
        time.sleep(0.2)
        return fast_generate(samples, sr, duration_s, seed)

    miner = load_wallet("miner", "hot", wallet_root)
    service = MinerService(settings=MinerSettings(min_stake=1.0), chain=LocalChain(chain_path), hotkey=miner.hotkey.ss58_address,
                           generate=generate, model="fast")
    sock = bind_socket("127.0.0.1", 0)
    print(sock.getsockname()[1], flush=True)
    serve(service, sock, log_level="warning")


class MinerProcess:
    """The miner's process: its CPU time and memory, read from /proc."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime

    def memory_mb(self) -> tuple[float, float]:
        """(resident now, peak resident) in MB."""
        status = dict(line.split(":", 1) for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines())
        return int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024


def honest(url: str, validator, miner, body: bytes, n: int = PROMPTS) -> list[float | str]:
    """Seconds from signing to the checked answer for `n` prompts one after another, or why one failed."""
    request = protocol.parse_request(body)
    results: list[float | str] = []
    for _ in range(n):
        transport = httpx.HTTPTransport(socket_options=protocol.CLIENT_SOCKET_OPTIONS)
        with httpx.Client(timeout=TIMEOUT_S, transport=transport) as http:
            start = time.perf_counter()
            try:
                response = http.post(url + protocol.GENERATE_PATH, content=body,
                                     headers=signed_headers(validator, body, miner.hotkey.ss58_address, timeout_s=TIMEOUT_S))
                if response.status_code != 200:
                    results.append(f"HTTP {response.status_code} {response.text[:60]}")
                    continue
                protocol.parse_response(response.content, request)
                results.append(time.perf_counter() - start)
            except httpx.HTTPError as e:
                results.append(type(e).__name__)
    return results


def closed_counts(url: str) -> dict:
    return httpx.get(url + protocol.HEALTH_PATH, timeout=30).json()["closed_connections"]


def delaying_proxy(port: int, delay_s: float) -> tuple[int, threading.Event]:
    """A TCP proxy to `port` holding each connection `delay_s` before forwarding; (its port, its stop)."""
    import asyncio

    ready, stop, where = threading.Event(), threading.Event(), []

    async def pipe(reader, writer):
        try:
            while chunk := await reader.read(65536):
                writer.write(chunk)
                await writer.drain()
        except OSError:
            pass
        writer.close()

    async def forward(reader, writer):
        await asyncio.sleep(delay_s)
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def main():
        server = await asyncio.start_server(forward, "127.0.0.1", 0)
        where.append(server.sockets[0].getsockname()[1])
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.1)
        server.close()

    threading.Thread(target=lambda: asyncio.run(main()), daemon=True).start()
    ready.wait(5)
    return where[0], stop


def report(name: str, results: list, cpu: float, seconds: float, memory: tuple[float, float], attack: dict, closed: dict,
           usual: float) -> None:
    times = [r for r in results if isinstance(r, float)]
    failed = [r for r in results if not isinstance(r, float)]
    worst = max(times) if times else float("nan")
    median = statistics.median(times) if times else float("nan")
    opened = sum(attack.get("opened", {}).values())
    rate = opened / attack["seconds"] if attack.get("seconds") else 0.0
    sent = attack.get("sent_bytes", 0) / attack["seconds"] / 1e6 if attack.get("seconds") else 0.0
    print(f"{name:9s} served {len(times)}/{len(results)}  median {median * 1000:7.0f} ms  worst {worst * 1000:7.0f} ms  "
          f"(quiet median {usual * 1000:.0f} ms)  miner CPU {100 * cpu / seconds:3.0f} %  RSS {memory[0]:.0f} MB (peak {memory[1]:.0f})")
    if attack:
        print(f"{'':9s} attacker: {opened} connections ({rate:.0f}/s), {sent:.2f} MB/s written; answers {attack.get('answers', {})}"
              f"{'; unread cut ' + str(attack['dropped']) if attack.get('dropped') else ''}")
    print(f"{'':9s} miner closed: {closed}{'   FAILED: ' + repr(failed[:3]) if failed else ''}")


def phase(name: str, miner: MinerProcess, url: str, validator, wallet, body: bytes, usual: float | None, attack_options: dict | None,
          target_url: str | None = None, n: int = PROMPTS, lead_s: float = 2.0) -> tuple[list, float, dict]:
    """Run one phase and report it: (the honest results, the miner's CPU seconds per second, the attack's summary).
    lead_s: seconds the attack runs at full strength before the validator comes."""
    before_closed = closed_counts(url)
    cpu0, t0 = miner.cpu_s(), time.monotonic()
    if attack_options is None:
        results, summary = honest(target_url or url, validator, wallet, body, n), {}
    else:
        with in_own_process(int(url.rsplit(":", 1)[1]), **attack_options) as summary:
            time.sleep(lead_s)
            results = honest(target_url or url, validator, wallet, body, n)
    seconds = time.monotonic() - t0
    cpu = miner.cpu_s() - cpu0
    after = closed_counts(url)
    closed = {k: after[k] - before_closed[k] for k in after if after[k] - before_closed[k]}
    times = [r for r in results if isinstance(r, float)]
    report(name, results, cpu, seconds, miner.memory_mb(), summary, closed, usual or statistics.median(times))
    return results, cpu / seconds, summary


def costs(flood: tuple[float, dict]) -> None:
    """What holding each resource costs an attacker per second, from the miner's default settings and
    `flood`: (the miner's CPU share, the attack's summary) in the flood phase."""
    s = MinerSettings()
    cpu_share, summary = flood
    per_connection_us = 1e6 * cpu_share / (sum(summary["opened"].values()) / summary["seconds"])
    print(f"\nmeasured: the miner spends {per_connection_us:.0f} us of CPU per keyless connection (flood phase)")
    print("what an attacker must spend to hold each resource (default settings)")
    rows = [
        ("body bytes, body pool", "nothing to hold: a body is read only after its headers' signature verifies (a validator's key)"),
        ("generation slots, queue", "a registered hotkey with min_stake, and its signature on every request"),
        ("pending-header places", f"{s.max_pending_connections} in all, pushed out oldest-first from the address holding the most: "
                                  f"1 connection per {s.headers_timeout_s:g} s per place, and more addresses than places "
                                  f"to reach a validator's; per address at most {s.keyless_burst} at once, then {s.keyless_rate:g}/s"),
        ("unproven connections", f"{s.max_connections} in all, the same fair push-out; idle ones go after {s.keep_alive_s:g} s "
                                 f"(keep-alive) or {s.headers_timeout_s:g} s (headers)"),
        ("miner CPU", f"per address at most {s.keyless_rate:g} connections or unsigned requests a second after a burst of "
                      f"{s.keyless_burst}; past it, connections are reset on arrival"),
        ("send buffers", f"256 KiB of kernel buffer per connection that does not read, for at most {s.send_timeout_s:g} s, "
                         "then a reset; each pipelined request costs its address a token"),
        ("freshness", f"none: a request is fresh until the wait its validator signed (capped by timeout_s {s.timeout_s:g} s) "
                      f"plus signature_max_age_s {s.signature_max_age_s:g} s"),
    ]
    for resource, cost in rows:
        print(f"  {resource:26s} {cost}")


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="a2a-bench-attacks-"))
    validator, miner, *others = make_wallets(root / "wallets", "validator", "miner", "v1", "v2", "v3", "v4")
    local_chain_with(root / "chain.json", {validator: 1000.0, **{v: 500.0 for v in others}}, [miner])
    body = prompt_body(10.0)
    proc = subprocess.Popen([sys.executable, __file__, "--serve-miner", str(root / "chain.json"), str(root / "wallets")],
                            stdout=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{int(proc.stdout.readline())}"
    process = MinerProcess(proc)
    miner_hotkey, validator_hotkey = miner.hotkey.ss58_address, validator.hotkey.ss58_address
    try:
        honest(url, validator, miner, body, 2)  # warm-up
        print("miner: default settings, 200 ms generation, 10-s prompts; validator on 127.0.0.1, attackers on other 127.0.0.x\n")
        quiet, _, _ = phase("quiet", process, url, validator, miner, body, None, None)
        usual = statistics.median(quiet)
        phases = {
            "lockout": {"miner_hotkey": miner_hotkey, "claimed_hotkeys": [validator_hotkey] * 2 + [o.hotkey.ss58_address for o in others for _ in (0, 1)],
                        "addresses": ["127.0.0.2"] * 2 + [f"127.0.0.{3 + i // 2}" for i in range(8)], "big_bodies": 10,
                        "body_bytes": 16 * protocol.MiB, "max_seconds": 120.0, "max_connections": 100_000},
            "flood": {"addresses": [f"127.0.0.{20 + i}" for i in range(32)], "flood": 32, "max_seconds": 120.0, "max_connections": 2_000_000},
            "slow": {"miner_hotkey": miner_hotkey, "claimed_hotkeys": [validator_hotkey], "addresses": [f"127.0.0.{60 + i}" for i in range(8)],
                     "slow_bodies": 24, "idle": 200, "slowloris": 10, "max_seconds": 120.0, "max_connections": 100_000},
            "unread": {"addresses": [f"127.0.0.{80 + i}" for i in range(6)], "unread": 24, "trickle_s": 0.2, "max_seconds": 120.0,
                       "max_connections": 100_000},
        }
        measured = {}
        for name, options in phases.items():
            lead_s = MinerSettings().send_timeout_s + 2.0 if name == "unread" else 2.0  # long enough for answers to stand still
            _, cpu_share, summary = phase(name, process, url, validator, miner, body, usual, options, lead_s=lead_s)
            measured[name] = (cpu_share, summary)
        proxy_port, stop = delaying_proxy(int(url.rsplit(":", 1)[1]), STALL_S)
        try:
            phase("stall", process, url, validator, miner, body, usual, None, target_url=f"http://127.0.0.1:{proxy_port}", n=3)
        finally:
            stop.set()
    finally:
        proc.terminate()
        proc.wait(30)
    costs(measured["flood"])


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--serve-miner":
        serve_miner(*sys.argv[2:])
    else:
        main()
