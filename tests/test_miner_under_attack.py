"""A miner under keyless attack on loopback still answers its staked validator, as usual.

The attackers have no key. They claim staked validators' public hotkeys, from 127.0.0.x addresses
of their own (and, where it cannot hurt, the validator's own 127.0.0.1). Each break of the attack
reports (issue 18) is repeated: the validator's signed prompts are all served within its timeout,
and its step scores the miner as it does without the attack. Then the miner's bounds one by one:
headers deadline, the pending cap, refusals before the body is read, the body's minimum rate and
deadline, the body pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
from collections import Counter

import httpx
import pytest

from a2a_cli.chain import protocol
from a2a_cli.chain.miner import BodyPool, HTTPRefusal, model_generate_fn
from a2a_cli.chain.validator import Validator, ValidatorSettings
from support.attack import Attack, in_own_process
from hypothesis import given
from hypothesis import strategies as st
from support.subnet_helpers import (FixedPrompts, judged_on_merit, MinerService, MinerSettings, fast_generate, json_detail, local_chain_with, make_wallets,
                            prompt_body, running_miner, signed_headers)

GENERATE = protocol.GENERATE_PATH
VALIDATOR_TIMEOUT_S = 20.0


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    root = tmp_path_factory.mktemp("attacked")
    validator, miner, *others = make_wallets(root / "wallets", "validator", "miner", "v1", "v2", "v3", "v4")
    chain = local_chain_with(root / "chain.json", {validator: 1000.0, **{v: 500.0 for v in others}}, [miner],
                             block_seconds=0.05, weights_rate_limit=1)
    return {"root": root, "chain": chain, "validator": validator, "miner": miner, "others": others}


def service_of(net, generate=fast_generate, model="fast", **settings) -> MinerService:
    return MinerService(settings=MinerSettings(**{"min_stake": 10.0, "metagraph_ttl_s": 0.0, **settings}), chain=net["chain"],
                        hotkey=net["miner"].hotkey.ss58_address, generate=generate, model=model)


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


# The choreo miner every attack is run against, its bounds scaled down so that the breaks of issue 18
# take less: 1 MiB requests, an 8 MiB pool (a quarter per hotkey: a2a/1's lockout needed two 1 MiB
# bodies), 16 connections waiting for headers and 32 unproven, and a keyless budget of 50 then 5 per
# second per address: a flood from one Python process (about 1,000 connections/s here) passes them
# all, as 7-9k/s passed the real ones. With a2a/1's oldest-first eviction it reset 1-3 of the 5 prompts.
# An answer that cannot move for 2 s is dropped.
CHOREO_MINER = {"max_request_bytes": 2**20, "body_pool_bytes": 8 * 2**20, "headers_timeout_s": 60.0,
                "max_pending_connections": 16, "max_connections": 32, "keyless_burst": 50, "keyless_rate": 5.0,
                "send_timeout_s": 2.0}


@pytest.fixture(scope="module")
def choreo_miner(net):
    """A choreo miner serving on 127.0.0.1, advertised on the chain, and the validator's usual score
    of its answer (the same prompt and seed, without any attack)."""
    service = service_of(net, model_generate_fn("choreo"), "choreo", **CHOREO_MINER)
    with running_miner(service) as url:
        net["chain"].serve_axon(net["miner"], "127.0.0.1", port_of(url))
        quiet = validator_step(net).answers[0]
        # choreo is procedural: realism factor ~0.2 since judge 3.0 (~0.16 here)
        assert judged_on_merit(quiet.reason) and quiet.model == "choreo" and quiet.score > 0.1, quiet
        yield {"service": service, "url": url, "quiet": quiet}


def validator_step(net):
    """One real validator step (the same prompt and seed each time, no memory of earlier answers)."""
    step = Validator(chain=net["chain"], wallet=net["validator"], prompts=FixedPrompts(), seed_source=lambda: 7,
                     state_path=net["root"] / f"state-{time.monotonic_ns()}.json", settings=ValidatorSettings(timeout_s=VALIDATOR_TIMEOUT_S))
    return asyncio.run(step.step())


def honest_prompts(net, url: str, n: int) -> list[tuple[int, float]]:
    """(status, seconds) of `n` signed prompts from the validator, one after another, each on a new connection."""
    body = prompt_body(1.0)
    results = []
    for _ in range(n):
        started = time.monotonic()
        try:
            response = httpx.post(url + GENERATE, content=body, timeout=VALIDATOR_TIMEOUT_S,
                                  headers=signed_headers(net["validator"], body, net["miner"].hotkey.ss58_address))
            results.append((response.status_code, time.monotonic() - started))
        except httpx.HTTPError as e:
            results.append((type(e).__name__, time.monotonic() - started))
    return results


@contextlib.contextmanager
def watching(read, every_s: float = 0.005):
    """The largest value `read()` took while the block ran (sampled every `every_s`), in a list of one."""
    seen, stop = [read()], threading.Event()

    def watch():
        while not stop.wait(every_s):
            seen[0] = max(seen[0], read())

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        stop.set()
        thread.join()


def assert_served_as_usual(net, choreo_miner, attack) -> None:
    """Under `attack` (an Attack, or a context manager already running one): 5 signed prompts all
    answered 200 within the validator's timeout, and the validator's step scores the miner as
    without the attack (within 0.05)."""
    with attack.running() if isinstance(attack, Attack) else attack:
        prompts = honest_prompts(net, choreo_miner["url"], 5)
        (answer,) = validator_step(net).answers
    assert all(status == 200 and took < VALIDATOR_TIMEOUT_S for status, took in prompts), prompts
    assert judged_on_merit(answer.reason) and answer.model == "choreo", answer
    assert answer.score == pytest.approx(choreo_miner["quiet"].score, abs=0.05)


def test_claiming_validators_hotkeys_with_big_bodies_holds_nothing_for_them(net, choreo_miner):
    """The two-connection lockout of a2a/1: two connections from one address claim the validator's
    hotkey and send all but the last byte of a full-size body; eight more from four addresses claim
    four other staked hotkeys. The miner refuses each at its headers (its signature cannot verify), so
    not one byte of their bodies is held, and the validator is served as usual."""
    service = choreo_miner["service"]
    attack = Attack(port_of(choreo_miner["url"]), miner_hotkey=net["miner"].hotkey.ss58_address,
                    claimed_hotkeys=[net["validator"].hotkey.ss58_address] * 2 + [w.hotkey.ss58_address for w in net["others"] for _ in (0, 1)],
                    addresses=["127.0.0.2"] * 2 + [f"127.0.0.{3 + i // 2}" for i in range(8)],
                    big_bodies=10, body_bytes=CHOREO_MINER["max_request_bytes"], max_seconds=30.0)
    with watching(lambda: service.bodies.bytes) as held:
        assert_served_as_usual(net, choreo_miner, attack)
    assert attack.opened["big_body"] >= 10 and set(attack.answers) == {b"401"}, attack.answers
    assert held[0] < 2 * protocol.MiB  # the validator's own prompts only: never an attacker's bytes


def test_a_connection_flood_from_eight_addresses_never_pushes_out_the_validator(net, choreo_miner):
    """16 workers on 8 addresses, in a process of their own, open connections as fast as they can and
    hold them, sending nothing: far more than the 16 that may wait for their headers. Each address's
    newcomers push out that address's own oldest, so the validator's connection (from another
    address) is read and served, and once an address has spent its keyless budget its connections
    are closed on arrival."""
    guard = choreo_miner["service"].guard
    evicted, over_budget = guard.closed_evicted, guard.closed_over_budget
    flood = in_own_process(port_of(choreo_miner["url"]), addresses=[f"127.0.0.{20 + i}" for i in range(8)], flood=16,
                           max_connections=40_000, max_seconds=30.0)
    with flood as attack:
        assert_served_as_usual(net, choreo_miner, contextlib.nullcontext())
    assert attack["opened"]["flood"] > 16 * CHOREO_MINER["max_connections"]  # the caps were passed many times over
    assert guard.closed_evicted - evicted > 300 and guard.closed_over_budget - over_budget > 300, (guard.closed_evicted, guard.closed_over_budget)


def test_answers_nobody_reads_are_dropped_with_a_reset(net):
    """Issue 18, break 5: 8 connections, each with a 1 KB receive buffer, pipeline 200 requests for
    /openapi.json and never read. Each is dropped once its answers have stood still for
    send_timeout_s, with a reset (a plain close left the kernel retrying the unread answers in an
    orphaned socket), and comes back to be dropped again. A keyless budget this large leaves the
    send deadline alone to do it."""
    service = service_of(net, send_timeout_s=0.5, keyless_burst=1_000_000)
    with running_miner(service) as url:
        attack = Attack(port_of(url), addresses=["127.0.0.40", "127.0.0.41"], unread=8, trickle_s=0.1, max_seconds=20.0)
        with attack.running():
            deadline = time.monotonic() + 10.0
            while attack.dropped < 16 and time.monotonic() < deadline:
                time.sleep(0.1)
            took = 10.0 - (deadline - time.monotonic())
        dropped = service.guard.closed_unread
    assert attack.dropped >= 16 and attack.opened["unread"] >= 16 and took < 8.0, (attack.dropped, dict(attack.opened), took)
    assert dropped >= 16 and service.guard.closed_over_budget == 0


def test_the_validator_is_served_while_connections_pipeline_and_never_read(net, choreo_miner):
    """The same 1 KB-window pipelines, 12 of them from 3 addresses, against the choreo miner: the
    validator is served as usual (each address's keyless budget, a token a request, cuts them first)."""
    guard = choreo_miner["service"].guard
    cut_before = guard.closed_unread + guard.closed_over_budget
    attack = Attack(port_of(choreo_miner["url"]), addresses=["127.0.0.43", "127.0.0.44", "127.0.0.45"], unread=12,
                    trickle_s=0.1, max_seconds=40.0)
    assert_served_as_usual(net, choreo_miner, attack)
    assert attack.dropped >= 12 and guard.closed_unread + guard.closed_over_budget - cut_before >= 12, attack.dropped


@contextlib.contextmanager
def delaying_proxy(port: int, delay_s: float):
    """A TCP proxy on 127.0.0.1 to `port` that holds each connection `delay_s` before forwarding a
    byte (a validator's connect queued behind a flood, a stalled route); yields its port."""
    ready, stop = threading.Event(), None
    proxy_port: list[int] = []

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while chunk := await reader.read(65536):
                writer.write(chunk)
                await writer.drain()
        writer.close()

    async def forward(client_reader, client_writer) -> None:
        await asyncio.sleep(delay_s)
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", port)
        await asyncio.gather(pipe(client_reader, upstream_writer), pipe(upstream_reader, client_writer))

    async def serve() -> None:
        nonlocal stop
        stop = asyncio.Event()
        server = await asyncio.start_server(forward, "127.0.0.1", 0)
        proxy_port.append(server.sockets[0].getsockname()[1])
        ready.set()
        async with server:
            await stop.wait()

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    ready.wait(5)
    try:
        yield proxy_port[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)


def test_a_validator_whose_requests_reach_the_miner_late_is_not_stale(net, choreo_miner):
    """Issue 18, break 3: validators sign before they connect, and a2a/1 requests went stale 10 s
    after signing however long the validator waited. Here every connection reaches a miner (whose
    signature_max_age_s is 1 s) 2.5 s late: the validator's prompts and step are served, as usual,
    because a request is fresh until the wait its validator signed."""
    service = service_of(net, model_generate_fn("choreo"), "choreo", signature_max_age_s=1.0)
    with running_miner(service) as url, delaying_proxy(port_of(url), 2.5) as proxy:
        net["chain"].serve_axon(net["miner"], "127.0.0.1", proxy)
        try:
            prompts = honest_prompts(net, f"http://127.0.0.1:{proxy}", 2)
            (answer,) = validator_step(net).answers
        finally:
            net["chain"].serve_axon(net["miner"], "127.0.0.1", port_of(choreo_miner["url"]))
    assert all(status == 200 and 2.5 <= took < VALIDATOR_TIMEOUT_S for status, took in prompts), prompts
    assert judged_on_merit(answer.reason) and answer.model == "choreo" and answer.latency_s >= 2.5, answer
    assert answer.score == pytest.approx(choreo_miner["quiet"].score, abs=0.05)


def test_slow_bodies_idle_and_slowloris_connections_while_the_validator_steps(net, caplog):
    """24 slow bodies claiming the validator's hotkey from three addresses, and 200 idle connections
    and 10 slowloris header trickles from the validator's own address, open while its step runs: the
    slow bodies are refused at their headers (and come back, again and again), the rest wait out
    their deadline, the answer scores as usual. (The slow bodies stay off the validator's address:
    refused 20 times a second each, they would spend that address's keyless budget, and with it
    the validator's.)"""
    caplog.set_level(logging.INFO, logger="a2a.miner")
    validator, miner = net["validator"], net["miner"]
    service = service_of(net, model_generate_fn("choreo"), "choreo", headers_timeout_s=60.0)  # held however slow this machine is
    with running_miner(service) as url:
        net["chain"].serve_axon(miner, "127.0.0.1", port_of(url))
        quiet = validator_step(net).answers[0]  # the usual answer, without attackers
        attack = Attack(port_of(url), claimed_hotkeys=[validator.hotkey.ss58_address], miner_hotkey=miner.hotkey.ss58_address,
                        idle=200, slowloris=10, max_seconds=25.0)
        slow = Attack(port_of(url), claimed_hotkeys=[validator.hotkey.ss58_address], miner_hotkey=miner.hotkey.ss58_address,
                      addresses=["127.0.0.7", "127.0.0.8", "127.0.0.9"], slow_bodies=24, max_seconds=25.0)
        with attack.running(), slow.running():
            held_before = dict(attack.open_now)
            result = validator_step(net)
            held_after = dict(attack.open_now)
            refused = dict(slow.answers)
    (answer,) = result.answers
    assert held_before["idle"] == 200 and held_before["slowloris"] == 10, held_before
    assert held_after["idle"] == 200 and held_after["slowloris"] == 10, held_after  # still held when the step ended
    # choreo is procedural: realism factor ~0.2 since judge 3.0 (~0.16 here)
    assert judged_on_merit(answer.reason) and answer.model == "choreo" and answer.score > 0.1, answer
    assert answer.score == pytest.approx(quiet.score, rel=0.06)  # scored as usual (latency is part of the score)
    assert set(refused) == {b"401"} and refused[b"401"] >= 24, refused  # refused at the headers, never let in
    statuses = Counter(r.getMessage().split()[1] for r in caplog.records if r.name == "a2a.miner" and r.getMessage().startswith("/v1"))
    assert statuses["200"] == 2 and set(statuses) <= {"200", "401"}, statuses


def raw_request(port: int, head: bytes, *, wait_s: float = 5.0, source: str = "127.0.0.1") -> tuple[bytes, float]:
    """Send `head` on a fresh connection from `source` and read until the miner closes it: (all it sent, seconds taken)."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=wait_s, source_address=(source, 0)) as sock:
        sock.sendall(head)
        reply = b""
        try:
            while chunk := sock.recv(4096):
                reply += chunk
        except (TimeoutError, ConnectionResetError):  # no more, or closed by force (a reset)
            pass
    return reply, time.monotonic() - started


def closed_by_miner(sock: socket.socket, wait_s: float) -> bool:
    """Whether the miner closed `sock` (an orderly close or a reset) within `wait_s`, having sent nothing."""
    sock.settimeout(wait_s)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def request_head(net, *, length: int = 400_000, **header_changes) -> bytes:
    headers = {"Host": "miner", "Content-Type": "application/json", "Content-Length": str(length),
               **signed_headers(net["validator"], b"x" * length, net["miner"].hotkey.ss58_address), **header_changes}
    return (f"POST {GENERATE} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode()


def test_headers_that_do_not_verify_are_refused_and_closed_before_the_body(net):
    """A stale nonce, another receiver, a broken or a wrong signature: 401 at once, with 400 kB of body never sent."""
    from bittensor import http_auth

    with running_miner(service_of(net)) as url:
        for change, detail in (({http_auth.HEADER_NONCE: str(time.time_ns() - 60 * 10**9)}, b"StaleRequest"),
                               ({http_auth.HEADER_RECEIVER: net["validator"].hotkey.ss58_address}, b"WrongReceiver"),
                               ({http_auth.HEADER_SIGNATURE: "0xzz"}, b"MalformedAuth"),
                               ({http_auth.HEADER_SIGNATURE: "0x" + "ab" * 64}, b"BadSignature")):
            reply, took = raw_request(port_of(url), request_head(net, **change))
            assert reply.startswith(b"HTTP/1.1 401") and detail in reply and b"connection: close" in reply.lower()
            assert took < 2.0  # answered and closed without waiting for the body


@pytest.mark.parametrize("padding_kib", [17, 60])
def test_headers_over_16_kib_are_refused_even_when_they_arrive_whole(net, padding_kib):
    """Issue 18: h11 bounds headers only while they are incomplete, so a 17 or 60 KiB block sent at
    once was accepted. 431 and close, before any signature is looked at; 15 KiB still passes."""
    with running_miner(service_of(net)) as url:
        head = request_head(net, length=10, **{"X-Padding": "a" * (padding_kib * 1024)})
        reply, _ = raw_request(port_of(url), head + b"{" * 10)
        assert reply.startswith(b"HTTP/1.1 431") and b"over 16384 bytes" in reply and b"connection: close" in reply.lower()
        fits = request_head(net, length=10, **{"X-Padding": "a" * (15 * 1024)})
        assert raw_request(port_of(url), fits + b"{" * 10)[0].startswith(b"HTTP/1.1 401")  # past the cap: to the signature (of another body)


def test_a_body_other_than_the_signed_one_is_refused_and_its_connection_closed(net):
    body = prompt_body(1.0)
    headers = signed_headers(net["validator"], body[:-2] + b" }", net["miner"].hotkey.ss58_address)  # same length, other bytes
    with running_miner(service_of(net)) as url:
        response = httpx.post(url + GENERATE, content=body, headers=headers)
    assert response.status_code == 401 and "the body does not match its signed sha256" in json_detail(response)
    assert response.headers["connection"] == "close"


def test_a_body_slower_than_the_minimum_rate_is_cut_after_the_grace(net):
    with running_miner(service_of(net, body_grace_s=0.5, body_min_rate=10_000)) as url:
        reply, took = raw_request(port_of(url), request_head(net) + b"{" * 100)  # 100 bytes, then nothing
    assert reply.startswith(b"HTTP/1.1 408") and b"slower than 10000 bytes/s" in reply
    assert 0.5 <= took < 2.5


def test_a_body_that_keeps_the_rate_but_not_the_deadline_is_cut_at_the_deadline(net):
    service = service_of(net, body_grace_s=0.3, body_min_rate=1000, body_timeout_s=1.0)
    with running_miner(service) as url, socket.create_connection(("127.0.0.1", port_of(url)), timeout=5) as sock:
        sock.sendall(request_head(net))
        started, reply = time.monotonic(), b""
        for _ in range(40):  # 2000 bytes/s, twice the minimum rate, for up to 2 s
            sock.sendall(b" " * 100)
            time.sleep(0.05)
            sock.settimeout(0.001)
            try:
                reply += sock.recv(4096)
            except (TimeoutError, BlockingIOError):
                pass
            if reply:
                break
        took = time.monotonic() - started
    assert reply.startswith(b"HTTP/1.1 408") and b"not complete within 1 s" in reply
    assert 0.9 <= took < 1.6


def test_headers_have_a_deadline_and_idle_connections_are_closed(net):
    with running_miner(service_of(net, headers_timeout_s=0.5)) as url:
        port = port_of(url)
        idle, took_idle = raw_request(port, b"")
        trickle, took_trickle = raw_request(port, b"POST /v1/generate HTTP/1.1\r\nHost: mi")
        assert (idle, trickle) == (b"", b"")  # closed without an answer
        assert 0.5 <= took_idle < 1.5 and 0.5 <= took_trickle < 1.5
        with httpx.Client() as client:  # a keep-alive connection after its answer: the same deadline for the next headers
            assert client.get(url + protocol.HEALTH_PATH).status_code == 200
            time.sleep(1.0)
            assert client.get(url + protocol.HEALTH_PATH).status_code == 200  # httpx reconnects: the old one was closed


def test_past_the_pending_cap_the_oldest_waiting_connection_is_closed(net):
    service = service_of(net, max_pending_connections=5)
    with running_miner(service) as url:
        port = port_of(url)
        socks = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(8)]
        try:
            closed, deadline = [], time.monotonic() + 5.0
            while len(closed) < 3 and time.monotonic() < deadline:
                closed += [i for i, sock in enumerate(socks) if i not in closed and closed_by_miner(sock, 0.01)]
            assert sorted(closed) == [0, 1, 2] and len(service.guard) == 5
            assert service.guard.closed_evicted == 3
            assert httpx.get(url + protocol.HEALTH_PATH).status_code == 200  # a newcomer sends its headers: served
        finally:
            for sock in socks:
                sock.close()


def test_past_the_pending_cap_the_address_holding_the_most_loses_its_oldest(net):
    """The validator's connection opened first, then 12 from another address against a cap of 5:
    the other address loses its own oldest (8 of them), the validator's waits for its headers and is served."""
    service = service_of(net, max_pending_connections=5)
    with running_miner(service) as url:
        port = port_of(url)
        mine = socket.create_connection(("127.0.0.1", port), timeout=5)
        theirs = [socket.create_connection(("127.0.0.1", port), timeout=5, source_address=("127.0.0.2", 0)) for _ in range(12)]
        try:
            deadline = time.monotonic() + 5.0
            while service.guard.closed_evicted < 8 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert service.guard.closed_evicted == 8 and service.guard.pending.held_by("127.0.0.1") == 1
            assert [closed_by_miner(sock, 0.5 if i < 8 else 0.05) for i, sock in enumerate(theirs)] == [True] * 8 + [False] * 4
            body = prompt_body(1.0)
            headers = signed_headers(net["validator"], body, net["miner"].hotkey.ss58_address)
            mine.sendall((f"POST {GENERATE} HTTP/1.1\r\nHost: m\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
                          + "\r\n").encode() + body)
            assert mine.recv(64).startswith(b"HTTP/1.1 200")
        finally:
            for sock in [mine, *theirs]:
                sock.close()


def test_an_address_out_of_keyless_budget_has_its_connections_closed_on_arrival(net):
    """A burst of 5: the sixth connection from 127.0.0.3 is closed at once; the validator, whose
    authenticated requests give their token back, is served 8 times in a row with a burst of 5 too."""
    service = service_of(net, keyless_burst=5, keyless_rate=0.1)
    with running_miner(service) as url:
        port = port_of(url)
        held = [socket.create_connection(("127.0.0.1", port), timeout=5, source_address=("127.0.0.3", 0)) for _ in range(5)]
        try:
            late, took = raw_request(port, b"", source="127.0.0.3")
            assert late == b"" and took < 0.5 and service.guard.closed_over_budget == 1
            assert [status for status, _ in honest_prompts(net, url, 8)] == [200] * 8
        finally:
            for sock in held:
                sock.close()


@given(st.lists(st.tuples(st.booleans(), st.sampled_from("abcd"), st.integers(0, 30)), max_size=60))
def test_address_shares_push_out_the_oldest_of_the_address_holding_the_most(operations):
    """Against a plain model: never over capacity, and what is pushed out is the oldest member of an
    address holding the most at that moment."""
    from a2a_cli.chain.connections import AddressShares

    shares, model, serial = AddressShares(6), {}, 0  # model: member -> (address, arrival)
    for add, address, pick in operations:
        if add:
            serial += 1
            before = dict(model)
            pushed = shares.add(serial, address)
            model[serial] = (address, serial)
            for victim in pushed:
                counts = Counter(a for a, _ in model.values())
                victim_address = model[victim][0]
                assert counts[victim_address] == max(counts.values())
                assert victim == min(m for m, (a, _) in model.items() if a == victim_address) and victim in before
                del model[victim]
        elif model:
            member = sorted(model)[pick % len(model)]
            assert shares.discard(member)
            del model[member]
        assert len(shares) == len(model) <= 6 and all(m in shares for m in model)
        assert all(shares.held_by(a) == sum(1 for x, _ in model.values() if x == a) for a in "abcd")


def test_the_keyless_budget_refills_at_its_rate_up_to_its_burst():
    from a2a_cli.chain.connections import KeylessBudget, client_address

    now = [0.0]
    budget = KeylessBudget(rate=2.0, burst=3, clock=lambda: now[0])
    assert [budget.spend("a") for _ in range(4)] == [True, True, True, False]
    assert budget.spend("b")  # another address has its own
    now[0] = 0.5
    assert budget.spend("a") and not budget.spend("a")  # one token back after half a second at 2/s
    budget.give_back("a")
    assert budget.spend("a")
    now[0] = 100.0
    assert budget.tokens("a") == 3  # never more than the burst
    assert client_address("2001:db8::1") == client_address("2001:db8::2") == "2001:db8::/64"
    assert client_address("::ffff:10.0.0.1") == "10.0.0.1" and client_address("127.0.0.5") == "127.0.0.5"


def test_the_keyless_budget_tracks_a_bounded_number_of_addresses(monkeypatch):
    from a2a_cli.chain import connections

    monkeypatch.setattr(connections, "MAX_TRACKED_ADDRESSES", 100)
    now = [0.0]
    budget = connections.KeylessBudget(rate=0.001, burst=5, clock=lambda: now[0])
    addresses = [f"10.0.{i // 256}.{i % 256}" for i in range(1000)]
    for address in addresses:  # every one still spending: none refilled
        assert budget.spend(address)
    assert sum(budget.tokens(a) < 5 for a in addresses) <= 100  # what it remembers: addresses below their burst
    assert budget.tokens("10.0.3.231") == 4  # the most recent is remembered


# --- the body pool ------------------------------------------------------------------------------


def test_the_body_pool_counts_and_weighs_per_hotkey():
    pool = BodyPool(max_requests=4, max_bytes=1000, hotkey_requests=2, hotkey_bytes=600)
    with pool.entry("hot-v") as a, pool.entry("hot-v") as b:
        with pytest.raises(HTTPRefusal, match="too many requests being received") as refused:
            with pool.entry("hot-v"):
                pass
        assert refused.value.status == 429 and refused.value.close
        a(500)
        with pytest.raises(HTTPRefusal, match="too many bytes"):
            b(101)  # the hotkey's 600 bytes
        with pool.entry("hot-w") as c:  # another hotkey has its own share
            c(400)
            with pytest.raises(HTTPRefusal, match="too many bytes"):
                c(101)  # the pool's 1000 bytes
            assert (pool.requests, pool.bytes, pool.held_by("hot-v"), pool.held_by("hot-w")) == (3, 900, 500, 400)
    assert (pool.requests, pool.bytes, pool.held_by("hot-v"), pool.held_by("hot-w")) == (0, 0, 0, 0)


@given(st.lists(st.tuples(st.sampled_from("xyz"), st.lists(st.integers(0, 400), max_size=4)), max_size=12))
def test_the_body_pool_never_passes_its_bounds_and_gives_everything_back(requests):
    pool = BodyPool(max_requests=6, max_bytes=1500, hotkey_requests=3, hotkey_bytes=700)
    with contextlib.ExitStack() as stack:
        for hotkey, chunks in requests:
            try:
                take = stack.enter_context(pool.entry(hotkey))
                for n in chunks:
                    take(n)
            except HTTPRefusal:
                pass
            assert pool.requests <= 6 and pool.bytes <= 1500 and all(pool.held_by(name) <= 700 for name in "xyz")
    assert (pool.requests, pool.bytes) == (0, 0) and all(pool.held_by(name) == 0 for name in "xyz")


def test_past_its_hotkey_share_of_the_body_pool_a_request_gets_429_and_is_closed(net):
    """A pool of 32 gives each hotkey 2 bodies at once: the validator's third is refused at once, and
    once its slow ones are cut, a signed prompt is served."""
    service = service_of(net, body_pool_requests=32, body_grace_s=1.0)
    with running_miner(service) as url:
        port = port_of(url)
        slow = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(2)]
        try:
            for sock in slow:
                sock.sendall(request_head(net) + b"{")
            deadline = time.monotonic() + 5.0
            while service.bodies.requests < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
            reply, took = raw_request(port, request_head(net) + b"{")
            assert reply.startswith(b"HTTP/1.1 429") and b"too many requests being received" in reply and took < 1.0
        finally:
            for sock in slow:
                sock.close()
        deadline = time.monotonic() + 5.0
        while service.bodies.requests and time.monotonic() < deadline:
            time.sleep(0.02)
        body = prompt_body(1.0)
        ok = httpx.post(url + GENERATE, content=body, headers=signed_headers(net["validator"], body, net["miner"].hotkey.ss58_address))
    assert ok.status_code == 200, ok.text
