"""The miner over real HTTP on 127.0.0.1: every refusal code, the queue, the deadline, audio URLs,
one log line per request, and no wallet secret anywhere in what it logs or answers."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest
from bittensor import http_auth
from hypothesis import given
from hypothesis import strategies as st

from a2a_cli.chain import protocol
from a2a_cli.chain.miner import AdmissionQueue, HTTPRefusal, MinerService, MinerSettings, ServedModel
from support.subnet_helpers import (QuietHandler, fast_generate, http_server, json_detail, local_chain_with, make_wallets, prompt_body,
                            running_miner, signed_headers)

GENERATE = protocol.GENERATE_PATH


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    """Wallets and a local chain: a rich and a modest validator, a validator without permit, a miner, a stranger."""
    root = tmp_path_factory.mktemp("subnet")
    rich, modest, no_permit, miner, stranger = make_wallets(root / "wallets", "rich", "modest", "nopermit", "miner", "stranger")
    chain = local_chain_with(root / "chain.json", {rich: 1000.0, modest: 50.0, no_permit: 20.0}, [miner],
                             max_validators=2)
    return {"rich": rich, "modest": modest, "no_permit": no_permit, "miner": miner, "stranger": stranger, "chain": chain}


def make_service(net, generate=fast_generate, **settings) -> MinerService:
    config = MinerSettings(**{"min_stake": 10.0, "metagraph_ttl_s": 0.0, **settings})
    return MinerService(settings=config, chain=net["chain"], hotkey=net["miner"].hotkey.ss58_address, generate=generate, model="fast")


def post(url: str, net, wallet_name: str = "rich", body: bytes | None = None, **kwargs) -> httpx.Response:
    body = prompt_body(1.0) if body is None else body
    headers = signed_headers(net[wallet_name], body, net["miner"].hotkey.ss58_address)
    return httpx.post(url + GENERATE, content=body, headers=headers, timeout=30, **kwargs)


def test_a_signed_prompt_gets_a_dance_with_exactly_the_frames_asked_for(net):
    with running_miner(make_service(net)) as url:
        body = prompt_body(2.5, seed=3)
        response = post(url, net, body=body)
        assert response.status_code == 200, response.text
        answer, motion = protocol.parse_response(response.content, protocol.parse_request(body))
        assert motion.n_frames == 75 and answer.model == "fast" and answer.generation_s >= 0
        health = httpx.get(url + protocol.HEALTH_PATH).json()
        assert health["protocol"] == "a2a/2" and health["hotkey"] == net["miner"].hotkey.ss58_address
        assert (health["active"], health["waiting"], health["receiving"]) == (0, 0, 0)
        assert health["pending_connections"] <= 1  # the POST's connection, if the miner has not seen it close yet


def test_a_miner_refuses_a_task_it_does_not_serve_and_says_which_it_serves(net):
    calls = []
    service = make_service(net, generate=lambda *args: calls.append(args) or fast_generate(*args))
    with running_miner(service) as url:
        response = post(url, net, body=prompt_body(1.0, task="gesture"))
        assert response.status_code == 422 and json_detail(response) == "this miner does not serve task 'gesture'; it serves dance"
        assert calls == []  # refused before its audio was decoded or anything generated
        assert post(url, net).status_code == 200 and len(calls) == 1  # a dance request (no task field) is served
        health = httpx.get(url + protocol.HEALTH_PATH).json()
        assert health["tasks"] == ["dance"] and health["models"] == {"dance": "fast"} and health["model"] == "fast"
        assert protocol.parse_capabilities(httpx.get(url + protocol.HEALTH_PATH).content) == ("dance",)


def test_a_miner_serving_both_tasks_answers_each_with_its_model(net):
    tasks_seen = []

    def gesture(samples, sr, duration_s, seed):
        tasks_seen.append("gesture")
        return fast_generate(samples, sr, duration_s, seed)

    served = {"gesture": ServedModel("talker", gesture), "dance": ServedModel("fast", fast_generate)}
    service = MinerService(settings=MinerSettings(min_stake=10.0, metagraph_ttl_s=0.0), chain=net["chain"],
                           hotkey=net["miner"].hotkey.ss58_address, served=served)
    with running_miner(service) as url:
        for task, model in (("gesture", "talker"), ("dance", "fast")):
            body = prompt_body(1.5, task=task)
            response = post(url, net, body=body)
            assert response.status_code == 200, response.text
            answer, motion = protocol.parse_response(response.content, protocol.parse_request(body))
            assert answer.model == model and motion.n_frames == 45
        assert tasks_seen == ["gesture"]
        health = httpx.get(url + protocol.HEALTH_PATH).json()
        assert health["tasks"] == ["dance", "gesture"] and health["models"] == {"dance": "fast", "gesture": "talker"}
    with pytest.raises(ValueError, match="either generate and model"):
        MinerService(settings=MinerSettings(), chain=net["chain"], hotkey="h", generate=fast_generate, model="fast", served=served)
    with pytest.raises(ValueError, match="served must map"):
        MinerService(settings=MinerSettings(), chain=net["chain"], hotkey="h", served={"juggling": served["dance"]})


def test_the_openapi_schema_describes_the_prompt_and_the_answer(net):
    with running_miner(make_service(net)) as url:
        schema = httpx.get(url + "/openapi.json").json()
    operation = schema["paths"][GENERATE]["post"]
    assert operation["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/GenerateRequest"}
    components = schema["components"]["schemas"]
    assert set(components["GenerateRequest"]["required"]) >= {"prompt_id", "audio", "duration_s"}
    assert components["AudioPayload"]["properties"]["encoding"]["enum"] == ["wav-base64", "url"]
    assert {"200", "401", "403", "413", "422", "429", "504"} <= set(operation["responses"])
    assert "GenerateResponse" in json.dumps(operation["responses"]["200"])


def _unsigned(net, body):
    return {"content-type": "application/json"}


def _bad_signature(net, body):
    headers = signed_headers(net["rich"], body, net["miner"].hotkey.ss58_address)
    return {**headers, http_auth.HEADER_NONCE: str(int(headers[http_auth.HEADER_NONCE]) + 1)}


def _another_body(net, body):
    return signed_headers(net["rich"], body[:-2] + b" }", net["miner"].hotkey.ss58_address)  # same length, other bytes


def _stale(net, body):
    return signed_headers(net["rich"], body, net["miner"].hotkey.ss58_address, timeout_s=30.0, nonce_ns=time.time_ns() - 60 * 10**9)


def _wrong_receiver(net, body):
    return signed_headers(net["rich"], body, net["stranger"].hotkey.ss58_address)


@pytest.mark.parametrize("make_headers, detail", [
    (_unsigned, "not signed"), (_bad_signature, "BadSignature: signature does not verify"),
    (_another_body, "BadSignature: the body does not match its signed sha256"), (_stale, "StaleRequest"),
    (_wrong_receiver, "WrongReceiver"),
])
def test_unauthenticated_requests_get_401(net, make_headers, detail):
    body = prompt_body(1.0)
    with running_miner(make_service(net)) as url:
        response = httpx.post(url + GENERATE, content=body, headers=make_headers(net, body))
    assert response.status_code == 401 and detail in json_detail(response)


def test_a_replayed_request_gets_401(net):
    body = prompt_body(1.0)
    headers = signed_headers(net["rich"], body, net["miner"].hotkey.ss58_address)
    with running_miner(make_service(net)) as url:
        first = httpx.post(url + GENERATE, content=body, headers=headers)
        again = httpx.post(url + GENERATE, content=body, headers=headers)
    assert first.status_code == 200
    assert again.status_code == 401 and "ReplayedRequest" in json_detail(again)


@pytest.mark.parametrize("caller, settings, detail", [
    ("stranger", {}, "not registered"),
    ("modest", {"min_stake": 100.0}, "below this miner's minimum of 100 alpha"),
    ("no_permit", {"require_validator_permit": True}, "no validator permit"),
])
def test_blacklisted_callers_get_403(net, caller, settings, detail):
    with running_miner(make_service(net, **settings)) as url:
        response = post(url, net, caller)
    assert response.status_code == 403 and detail in json_detail(response)


def test_a_low_stake_validator_is_told_why_and_logged_by_its_hotkey(net, caplog):
    """Issue 18: the miner logged the reason with caller=-, the validator saw only HTTP 403. The
    caller is authenticated before its stake is weighed now: the log names it, the answer says why."""
    caplog.set_level(logging.INFO, logger="a2a.miner")
    with running_miner(make_service(net, min_stake=100.0)) as url:
        response = post(url, net, "modest")
    assert response.status_code == 403
    assert json_detail(response) == "caller stake 50 alpha is below this miner's minimum of 100 alpha"
    (line,) = [r.getMessage() for r in caplog.records if r.name == "a2a.miner" and " 403 " in r.getMessage()]
    assert f"caller={net['modest'].hotkey.ss58_address}" in line and "below this miner's minimum" in line


def test_the_validator_permit_is_only_required_when_configured(net):
    with running_miner(make_service(net)) as url:
        assert post(url, net, "no_permit").status_code == 200


def test_a_declared_oversize_body_gets_413_before_it_is_sent(net):
    """Only the headers and 10 bytes of a '100 MB' body are ever sent; the 413 comes back anyway."""
    with running_miner(make_service(net, max_request_bytes=1_000_000)) as url:
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(f"POST {GENERATE} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         f"Content-Length: {100 * 2**20}\r\n\r\n{{\"a\": 1234".encode())
            reply = b""
            while b"limit" not in reply and (chunk := sock.recv(4096)):
                reply += chunk
    reply = reply.decode("latin-1")
    assert reply.startswith("HTTP/1.1 413") and "over the 1000000-byte limit" in reply


def test_a_body_without_a_content_length_gets_411_and_none_of_it_is_read(net):
    sent = []

    def chunks():
        for _ in range(400):  # up to 25 MB if nobody stopped us
            sent.append(65536)
            yield b" " * 65536

    headers = signed_headers(net["rich"], b"whatever", net["miner"].hotkey.ss58_address)
    del headers["Content-Length"]
    with running_miner(make_service(net, max_request_bytes=1_000_000)) as url:
        try:
            response = httpx.post(url + GENERATE, content=chunks(), headers=headers, timeout=30)
        except httpx.HTTPError:  # the miner closed the connection while we were still sending: also a refusal
            response = None
    if response is not None:
        assert response.status_code == 411 and "needs a Content-Length" in json_detail(response)
    assert sum(sent) < 8 * 2**20  # the miner closed the connection long before the 25 MB


def test_a_full_queue_gets_429_and_stake_takes_priority(net):
    gate = threading.Event()

    def blocked(samples, sr, duration_s, seed):
        gate.wait(20)
        return fast_generate(samples, sr, duration_s, seed)

    service = make_service(net, generate=blocked, max_concurrency=1, max_queue=1)
    with running_miner(service) as url, ThreadPoolExecutor(4) as pool:
        def wait_for(active, waiting):
            deadline = time.monotonic() + 10
            while (service.admission.active, service.admission.waiting) != (active, waiting):
                assert time.monotonic() < deadline, "the miner never reached the expected load"
                time.sleep(0.02)

        running = pool.submit(post, url, net, "modest")
        wait_for(1, 0)
        queued_modest = pool.submit(post, url, net, "modest")
        wait_for(1, 1)
        refused = post(url, net, "modest")  # queue full, and no richer than the one waiting
        assert refused.status_code == 429 and "capacity" in json_detail(refused)
        queued_rich = pool.submit(post, url, net, "rich")  # richer: takes the modest waiter's place
        bumped = queued_modest.result(10)
        assert bumped.status_code == 429 and "more stake" in json_detail(bumped)
        gate.set()
        assert running.result(10).status_code == 200
        assert queued_rich.result(10).status_code == 200
        wait_for(0, 0)


def test_the_deadline_gives_504_and_the_slot_frees_when_the_work_ends(net):
    def slow(samples, sr, duration_s, seed):
        time.sleep(1.5)
        return fast_generate(samples, sr, duration_s, seed)

    service = make_service(net, generate=slow, timeout_s=0.5, max_concurrency=1)
    with running_miner(service) as url:
        started = time.monotonic()
        response = post(url, net)
        elapsed = time.monotonic() - started
        assert response.status_code == 504 and elapsed < 1.4
        assert service.admission.active == 1  # the thread still runs: its slot is not given away yet
        time.sleep(1.5)
        assert service.admission.active == 0


def test_a_generator_bug_is_a_500_that_never_reaches_the_validator_as_an_answer(net):
    def wrong_length(samples, sr, duration_s, seed):
        return fast_generate(samples, sr, duration_s + 1.0, seed)

    with running_miner(make_service(net, generate=wrong_length)) as url:
        response = post(url, net)
    assert response.status_code == 500 and json_detail(response) == "internal error while generating"


def _url_prompt(url: str) -> bytes:
    return json.dumps({"protocol": "a2a/2", "prompt_id": "u1", "audio": {"encoding": "url", "data": url},
                       "fps": 30, "duration_s": 1.0, "seed": 0}).encode()


@pytest.mark.parametrize("body, settings, detail", [
    (b"{not json", {}, "not a valid a2a/2 prompt"),
    (_url_prompt("http://127.0.0.1:9/song.wav"), {}, "does not accept audio URLs"),
    (_url_prompt("file:///etc/passwd"), {"allow_audio_urls": True}, "must be http:// or https://"),
    (_url_prompt("http://127.0.0.1:9/song.wav"), {"allow_audio_urls": True}, "private, loopback or reserved"),
    (_url_prompt("http://[::1]:9/song.wav"), {"allow_audio_urls": True}, "private, loopback or reserved"),
    (_url_prompt("http://10.1.2.3/song.wav"), {"allow_audio_urls": True}, "private, loopback or reserved"),
    (_url_prompt("http://example.com:99999/song.wav"), {"allow_audio_urls": True}, "malformed"),
    (_url_prompt("http://127.0.0.1:99999/song.wav"), {"allow_audio_urls": True, "allow_private_urls": True}, "malformed"),
    (_url_prompt("http://[::1/song.wav"), {"allow_audio_urls": True}, "malformed"),
    (json.dumps({**json.loads(prompt_body(1.0)), "duration_s": 600}).encode(), {}, "duration_s 600 is longer than the audio (1.00 s)"),
    (json.dumps({**json.loads(prompt_body(1.0)), "duration_s": True}).encode(), {}, "duration_s: Input should be a valid number"),
    (json.dumps({**json.loads(prompt_body(1.0)), "audio": {"encoding": "wav-base64", "data": "UklGRi4uLi5XQVZFanVuaw=="}}).encode(),
     {}, "audio is not a readable WAV: Error in WAV file. No 'data' chunk marker."),
])
def test_invalid_prompts_and_refused_urls_get_422(net, body, settings, detail):
    with running_miner(make_service(net, **settings)) as url:
        response = post(url, net, body=body)
    assert response.status_code == 422 and detail in json_detail(response)
    assert " at 0x" not in json_detail(response)


@pytest.fixture
def audio_server():
    """Serves a 1-s WAV at /song.wav, a 20-s one at /long.wav and 3 MB of zeros at /big on 127.0.0.1."""
    import base64

    files = {name: base64.b64decode(protocol.encode_wav(np.zeros(seconds * 16000, np.float32), 16000).data)
             for name, seconds in (("/song.wav", 1), ("/long.wav", 20))}

    class Handler(QuietHandler):
        def do_GET(self):
            data = files.get(self.path, b"\0" * 3_000_000)
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    with http_server(Handler) as server:
        yield f"http://127.0.0.1:{server.server_address[1]}"


def test_audio_by_url_is_fetched_when_allowed_and_capped_in_size(net, audio_server):
    settings = {"allow_audio_urls": True, "allow_private_urls": True, "url_max_bytes": 1_000_000}
    with running_miner(make_service(net, **settings)) as url:
        ok = post(url, net, body=_url_prompt(audio_server + "/song.wav"))
        big = post(url, net, body=_url_prompt(audio_server + "/big"))
    assert ok.status_code == 200, ok.text
    assert big.status_code == 422 and "over the 1000000-byte limit" in json_detail(big)


def test_the_miner_decodes_only_the_seconds_it_will_dance(net, audio_server, monkeypatch):
    """20 s of audio for a 1-s prompt, inline and by URL: at most duration + 1 s is decoded."""
    decoded = []
    decode_wav_bytes = protocol.decode_wav_bytes

    def counted(raw, **kwargs):
        samples, sr = decode_wav_bytes(raw, **kwargs)
        decoded.append(samples.size / sr)
        return samples, sr

    monkeypatch.setattr(protocol, "decode_wav_bytes", counted)
    inline = protocol.GenerateRequest(prompt_id="long", audio=protocol.encode_wav(np.zeros(20 * 16000, np.float32), 16000),
                                      duration_s=1.0, seed=0).model_dump_json().encode()
    settings = {"allow_audio_urls": True, "allow_private_urls": True}
    with running_miner(make_service(net, **settings)) as url:
        assert post(url, net, body=inline).status_code == 200
        assert post(url, net, body=_url_prompt(audio_server + "/long.wav")).status_code == 200
    assert decoded == [2.0, 2.0]


def test_audio_urls_are_fetched_directly_whatever_proxy_the_environment_names(net, audio_server, monkeypatch):
    proxied = []

    class Proxy(QuietHandler):
        def do_GET(self):
            proxied.append(self.path)
            self.send_response(502)
            self.send_header("Content-Length", "0")
            self.end_headers()

    with http_server(Proxy) as proxy:
        for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.setenv(name, f"http://127.0.0.1:{proxy.server_address[1]}")
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        with running_miner(make_service(net, allow_audio_urls=True, allow_private_urls=True)) as url:
            response = post(url, net, body=_url_prompt(audio_server + "/song.wav"), trust_env=False)
    assert response.status_code == 200, response.text
    assert proxied == []


def _secrets(wallet) -> list[str]:
    keyfile = json.loads(open(wallet.hotkey_file.path).read())
    values = [keyfile["privateKey"], keyfile["secretSeed"]]
    secrets = [v.removeprefix("0x") for v in values] + [keyfile["secretPhrase"]]
    cold = json.loads(open(wallet.coldkey_file.path).read())
    return secrets + [cold["privateKey"].removeprefix("0x"), cold["secretSeed"].removeprefix("0x"), cold["secretPhrase"]]


def test_one_log_line_per_request_and_no_secret_anywhere(net, caplog):
    caplog.set_level(logging.DEBUG)
    bodies = []
    with running_miner(make_service(net)) as url:
        for caller in ("rich", "stranger", "modest"):
            bodies.append(post(url, net, caller).text)
        bodies.append(httpx.post(url + GENERATE, content=b"{}", headers=_bad_signature(net, b"{}")).text)
        bodies.append(post(url, net, body=b"{broken").text)
    lines = [r.getMessage() for r in caplog.records if r.name == "a2a.miner"]
    assert len(lines) == 5
    assert [line.split()[1] for line in lines] == ["200", "403", "200", "401", "422"]
    assert f"caller={net['rich'].hotkey.ss58_address}" in lines[0]
    everything = "\n".join([caplog.text, *bodies, *lines])
    secrets = [s for name in ("rich", "stranger", "modest", "miner") for s in _secrets(net[name])]
    assert len(secrets) == 24 and all(len(s) > 20 for s in secrets)
    assert not [s for s in secrets if s.lower() in everything.lower()]


def _query(net, wallet_name: str, url: str, **options):
    """The validator's own query of the miner at `url`, signed by `wallet_name`: its Reply."""
    from a2a_cli.chain.chain import Neuron
    from a2a_cli.chain.validator import query_miner

    host, port = url.removeprefix("http://").rsplit(":", 1)
    neuron = Neuron(uid=3, hotkey=net["miner"].hotkey.ss58_address, coldkey="", stake=0.0, validator_permit=False,
                    axon_ip=host, axon_port=int(port))

    async def ask():
        async with httpx.AsyncClient(trust_env=False) as client:
            return await query_miner(client, net[wallet_name], neuron, prompt_body(1.0), timeout_s=30, max_bytes=1 << 20)

    return asyncio.run(ask())


def test_a_validator_with_too_little_stake_hears_why_and_the_miner_log_names_it(net, caplog):
    """A low-stake validator saw only "HTTP 403", and the miner's log line said caller=- (issue 19, 14)."""
    caplog.set_level(logging.INFO)
    with running_miner(make_service(net, min_stake=100.0)) as url:
        reply = _query(net, "modest", url)
    assert reply.body is None and reply.error == "HTTP 403: caller stake 50 alpha is below this miner's minimum of 100 alpha"
    [line] = [r.getMessage() for r in caplog.records if r.name == "a2a.miner"]
    # a2a/2 checks the signature from the headers first: the refused caller is a verified one
    assert line.startswith(f"{GENERATE} 403 caller={net['modest'].hotkey.ss58_address} ")


@pytest.mark.parametrize("body, reason", [
    (json.dumps({"detail": "busy\x1b[2J\nnow"}).encode(), "HTTP 429: busy?[2J now"),  # no escape sequence reaches a terminal
    (json.dumps({"detail": "x" * 5000}).encode(), "HTTP 429"),  # longer than the part read: no reason
    (json.dumps({"detail": "y" * 1000}).encode(), "HTTP 429: " + "y" * 200),
    (b"<html>nope</html>", "HTTP 429"),
    (b'["detail"]', "HTTP 429"),
])
def test_a_refusal_reason_is_read_bounded_and_printable(net, body, reason):
    class Refusing(QuietHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(429)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with http_server(Refusing) as server:
        assert _query(net, "rich", f"http://127.0.0.1:{server.server_address[1]}").error == reason


@given(st.lists(st.binary(max_size=40), max_size=12), st.integers(0, 300))
def test_read_capped_joins_what_fits_and_stops_at_the_first_chunk_past_the_cap(chunks, cap):
    pulled = []

    async def stream():
        for chunk in chunks:
            pulled.append(chunk)
            yield chunk

    body = b"".join(chunks)
    if len(body) <= cap:
        assert asyncio.run(protocol.read_capped(stream(), cap, HTTPRefusal(413, "over"))) == body
    else:
        with pytest.raises(HTTPRefusal):
            asyncio.run(protocol.read_capped(stream(), cap, HTTPRefusal(413, "over")))
        assert sum(map(len, pulled[:-1])) <= cap < sum(map(len, pulled))  # nothing read past the chunk that crossed it


def test_admission_serves_the_highest_stake_first():
    async def scenario():
        queue = AdmissionQueue(slots=1, max_waiting=3)
        order = []
        await queue.acquire(1.0)  # the slot is taken

        async def waiter(stake):
            await queue.acquire(stake)
            order.append(stake)
            queue.release()

        tasks = [asyncio.create_task(waiter(s)) for s in (5.0, 50.0, 20.0)]
        await asyncio.sleep(0.01)
        with pytest.raises(HTTPRefusal) as refused:
            await queue.acquire(4.0)  # full, and poorer than every waiter
        assert refused.value.status == 429
        queue.release()
        await asyncio.gather(*tasks)
        assert order == [50.0, 20.0, 5.0] and queue.active == 0 and queue.waiting == 0

    asyncio.run(scenario())


def test_a_waiter_that_times_out_leaves_the_queue_clean():
    async def scenario():
        queue = AdmissionQueue(slots=1, max_waiting=1)
        await queue.acquire(1.0)
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await queue.acquire(2.0)
        assert queue.waiting == 0
        queue.release()
        assert queue.active == 0
        await queue.acquire(3.0)  # the slot is free again
        assert queue.active == 1

    asyncio.run(scenario())


@pytest.mark.heavy
def test_schemathesis_finds_no_500_in_signed_or_unsigned_requests(net):
    """Fuzz POST /v1/generate from the miner's own OpenAPI schema (valid and schema-violating
    bodies, signed by a staked validator or not): every answer is a 2xx or a 4xx, never a 500."""
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from schemathesis.core import NotSet

    with running_miner(make_service(net)) as url:
        schema = schemathesis.openapi.from_dict(httpx.get(url + "/openapi.json").json())
        operation = schema[GENERATE]["POST"]
        modes = [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
        cases = st.one_of(*(operation.as_strategy(generation_mode=mode) for mode in modes))
        seen = Counter()

        @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
        @given(case=cases, signed=st.booleans())
        def fuzz(case, signed):
            if isinstance(case.body, NotSet | bytes):
                body = b"" if isinstance(case.body, NotSet) else case.body
            else:
                body = json.dumps(case.body).encode()
            headers = signed_headers(net["rich"], body, net["miner"].hotkey.ss58_address) if signed else {}
            response = httpx.post(url + GENERATE, content=body, headers=headers, timeout=30)
            seen[response.status_code] += 1
            assert response.status_code < 500, response.text
            if response.status_code == 200:
                protocol.parse_response(response.content, protocol.parse_request(body))

        fuzz()
    assert seen[401] > 0 and seen[422] > 0  # both the signature and the schema were exercised


@pytest.fixture
def clean_env(tmp_path, monkeypatch):
    """No A2A_* variable and no ./a2a.toml: only what a test sets reaches the settings."""
    for name in [n for n in os.environ if n.startswith("A2A_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


@pytest.mark.parametrize("name, text, field, value", [
    ("A2A_MINER_ALLOW_PRIVATE_URLS", "1", "allow_private_urls", True),
    ("A2A_MINER_URL_MAX_BYTES", "4096", "url_max_bytes", 4096),
    ("A2A_MINER_URL_TIMEOUT_S", "3", "url_timeout_s", 3.0),
    ("A2A_MINER_EXTERNAL_IP", "198.51.100.4", "external_ip", "198.51.100.4"),
    ("A2A_MINER_METAGRAPH_TTL_S", "7", "metagraph_ttl_s", 7.0),
    ("A2A_MINER_MAX_QUEUE", "3", "max_queue", 3),
])
def test_miner_settings_come_from_the_miner_section(clean_env, name, text, field, value):
    from a2a_cli.config import load_settings

    assert getattr(MinerSettings.from_settings(load_settings()), field) != value
    clean_env.setenv(name, text)
    assert getattr(MinerSettings.from_settings(load_settings()), field) == value


def test_the_miner_binds_loopback_on_this_machines_chains_and_every_address_elsewhere(clean_env):
    from a2a_cli.config import load_settings

    for network in ("sim", "local", "ws://127.0.0.1:9944"):
        assert MinerSettings.from_settings(load_settings(flags={"chain.network": network})).host == "127.0.0.1"
    assert MinerSettings.from_settings(load_settings(flags={"chain.network": "finney"})).host == "0.0.0.0"
    explicit = {"chain.network": "sim", "miner.host": "0.0.0.0"}
    assert MinerSettings.from_settings(load_settings(flags=explicit)).host == "0.0.0.0"


def test_miner_settings_defaults_are_the_config_schemas_resolved_for_this_machines_chains(clean_env):
    """One home for each default: the dataclass's are the schema's, the automatic ones as on sim."""
    from dataclasses import fields

    from a2a_cli.config import SCHEMA, load_settings

    defaults = MinerSettings()
    assert {f.name for f in fields(MinerSettings)} == {*SCHEMA["miner"], "motion_encoding"}
    assert defaults == MinerSettings.from_settings(load_settings(flags={"chain.network": "sim"}))
    automatic = {"host": "127.0.0.1", "metagraph_ttl_s": 2.0}
    assert {name: getattr(defaults, name) for name in SCHEMA["miner"]} == {
        name: automatic.get(name, tuple(key.default) if key.type is list else key.default) for name, key in SCHEMA["miner"].items()}
    assert all(not SCHEMA["miner"][name].default for name in automatic)  # "" and 0 mean automatic in the schema


def test_metagraph_ttl_zero_is_short_on_the_local_chain_and_a_minute_elsewhere(clean_env):
    from a2a_cli.config import load_settings

    assert MinerSettings.from_settings(load_settings(flags={"chain.network": "sim"})).metagraph_ttl_s == 2.0
    assert MinerSettings.from_settings(load_settings(flags={"chain.network": "finney"})).metagraph_ttl_s == 60.0
    clean_env.setenv("A2A_MINER_METAGRAPH_TTL_S", "0.5")
    assert MinerSettings.from_settings(load_settings(flags={"chain.network": "sim"})).metagraph_ttl_s == 0.5


def test_the_configured_signature_age_reaches_the_verifier(net, clean_env):
    from a2a_cli.config import load_settings

    clean_env.setenv("A2A_MINER_SIGNATURE_MAX_AGE_S", "42")
    service = MinerService(settings=MinerSettings.from_settings(load_settings()), chain=net["chain"],
                           hotkey=net["miner"].hotkey.ss58_address, generate=fast_generate, model="fast")
    assert service.verifier.max_age_s == 42.0


def test_a2a_mine_advertises_the_configured_external_ip(tmp_path, clean_env, capsys):
    """miner.external_ip is what `a2a mine` checks and advertises; the flag overrides it."""
    from a2a_cli.cli.app import main

    (miner,) = make_wallets(tmp_path / "wallets", "miner")
    local_chain_with(tmp_path / "data" / "sim-chain" / "1.json", {}, [miner])
    for name, value in (("GENERAL_DATA_DIR", tmp_path / "data"), ("CHAIN_WALLET_PATH", tmp_path / "wallets"),
                        ("CHAIN_WALLET_HOTKEY", "hot"), ("MINER_EXTERNAL_IP", "not-an-address")):
        clean_env.setenv("A2A_" + name, str(value))
    command = ["mine", "--network", "sim", "--netuid", "1", "--wallet", "miner", "--host", "127.0.0.1", "--port", "0"]
    for extra, shown in (([], "'not-an-address'"), (["--external-ip", "also-not-one"], "'also-not-one'")):
        with pytest.raises(SystemExit) as exit_info:
            main([*command, *extra])
        err = capsys.readouterr().err
        assert exit_info.value.code == 2 and f"external ip {shown} is not an IP address" in err, err


def test_a2a_mine_serves_a_model_per_task_and_refuses_a_model_of_another_task(tmp_path, clean_env, capsys):
    """--task (miner.tasks) picks the tasks; --model names dance's generator, --gesture-model gesture's
    (the real `orator`, registered by a2a_cli.generation)."""
    import a2a_cli.chain.miner as miner_module
    from a2a_cli.cli.app import main

    (miner,) = make_wallets(tmp_path / "wallets", "miner")
    local_chain_with(tmp_path / "data" / "sim-chain" / "1.json", {}, [miner])
    for name, value in (("GENERAL_DATA_DIR", tmp_path / "data"), ("CHAIN_WALLET_PATH", tmp_path / "wallets"),
                        ("CHAIN_WALLET_HOTKEY", "hot")):
        clean_env.setenv("A2A_" + name, str(value))
    services = []
    clean_env.setattr(miner_module, "serve", lambda service, sock, **kwargs: services.append(service) or sock.close())
    command = ["mine", "--network", "sim", "--netuid", "1", "--wallet", "miner", "--host", "127.0.0.1", "--port", "0"]
    for extra, message in ((["--task", "gesture", "--gesture-model", "choreo"], "model 'choreo' is a dance model, not a gesture model"),
                           (["--task", "dance", "--model", "orator"], "model 'orator' is a gesture model, not a dance model"),
                           (["--task", "singing"], "expected one of dance, gesture, got 'singing' from --task")):
        with pytest.raises(SystemExit) as exit_info:
            main([*command, *extra])
        err = capsys.readouterr().err
        assert exit_info.value.code == 2 and message in err, err
    assert services == []
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--task", "gesture", "--task", "dance"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 0 and "dance with library, gesture with orator" in err, err  # generate.model's default
    (service,) = services
    assert {task: served.model for task, served in service.served.items()} == {"dance": "library", "gesture": "orator"}
    clean_env.setenv("A2A_MINER_TASKS", "gesture")  # the setting, without the flag
    with pytest.raises(SystemExit):
        main(command)
    assert list(services[-1].served) == ["gesture"]


def test_a2a_mine_advertises_the_address_its_host_name_resolves_to(tmp_path, clean_env, capsys):
    """--host localhost binds and advertises 127.0.0.1 (no complaint about an external ip nobody gave);
    a host that does not resolve is named as such."""
    import a2a_cli.chain.miner as miner_module
    from a2a_cli.cli.app import main

    (miner,) = make_wallets(tmp_path / "wallets", "miner")
    chain = local_chain_with(tmp_path / "data" / "sim-chain" / "1.json", {}, [miner])
    for name, value in (("GENERAL_DATA_DIR", tmp_path / "data"), ("CHAIN_WALLET_PATH", tmp_path / "wallets"),
                        ("CHAIN_WALLET_HOTKEY", "hot")):
        clean_env.setenv("A2A_" + name, str(value))
    served = []
    clean_env.setattr(miner_module, "serve", lambda service, sock, **kwargs: served.append(sock.getsockname()) or sock.close())
    command = ["mine", "--network", "sim", "--netuid", "1", "--wallet", "miner", "--port", "0"]
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--host", "localhost"])
    assert exit_info.value.code == 0, capsys.readouterr().err
    (host, port), = served
    assert host == "127.0.0.1" and chain.metagraph().by_hotkey(miner.hotkey.ss58_address).axon_url == f"http://127.0.0.1:{port}"
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--host", "no-such-host.invalid"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "the miner's host 'no-such-host.invalid' does not resolve" in err, err
    assert "external ip" not in err.split("does not resolve")[0]


def test_a2a_mine_serves_the_default_generator_and_advertises_itself(tmp_path):
    """The real command in its own process, on the local chain, with the default model."""
    import os
    import re
    import signal
    import subprocess
    import sys

    from a2a_cli.chain.local_chain import LocalChain

    validator, miner = make_wallets(tmp_path / "wallets", "validator", "miner")
    chain = local_chain_with(tmp_path / "data" / "sim-chain" / "5.json", {validator: 500.0}, [miner])
    chain = LocalChain(chain.path, netuid=5)
    env = {**os.environ, "A2A_GENERAL_DATA_DIR": str(tmp_path / "data"), "A2A_CHAIN_NETWORK": "sim",
           "A2A_CHAIN_NETUID": "5", "A2A_CHAIN_WALLET_PATH": str(tmp_path / "wallets"), "A2A_CHAIN_WALLET_HOTKEY": "hot",
           "A2A_GENERAL_CACHE_DIR": str(tmp_path / "cache"), "COLUMNS": "300"}
    command = [sys.executable, "-m", "a2a_cli", "mine", "--host", "127.0.0.1", "--port", "0"]
    unregistered = subprocess.run([*command, "--wallet", "validator", "--netuid", "6"], env=env, cwd=tmp_path,
                                  capture_output=True, text=True, timeout=60)
    assert unregistered.returncode == 1 and "is not registered on netuid 6" in unregistered.stderr

    # A suite started as a background job (`cmd &`) ignores SIGINT, and a child inherits that: the miner
    # would shut down on uvicorn's handler, then re-raise an ignored signal and exit 0. Give it Ctrl-C back.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        proc = subprocess.Popen([*command, "--wallet", "miner"], env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    finally:
        signal.signal(signal.SIGINT, previous)
    try:
        line = proc.stderr.readline()
        while "listening on" not in line:
            assert line, "a2a mine exited before listening"
            line += proc.stderr.readline()
        port = int(re.search(r"listening on 127\.0\.0\.1:(\d+)", line).group(1))
        neuron = chain.metagraph().by_hotkey(miner.hotkey.ss58_address)
        assert neuron.axon_url == f"http://127.0.0.1:{port}"
        body = prompt_body(4.0, seed=2)
        response = httpx.post(neuron.axon_url + GENERATE, content=body, timeout=60,
                              headers=signed_headers(validator, body, miner.hotkey.ss58_address))
        assert response.status_code == 200, response.text
        answer, motion = protocol.parse_response(response.content, protocol.parse_request(body))
        assert answer.model == "library" and motion.n_frames == 120  # the default dancer, as `a2a generate`'s
        assert np.ptp(motion.joints[:, :, 1]) > 0.05  # it moves
    finally:
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "Traceback" not in stderr  # Ctrl-C: uvicorn shuts down, then the CLI exits 130
    assert "Application shutdown complete" in stderr
    assert f"/v1/generate 200 caller={validator.hotkey.ss58_address}" in stderr
    assert not [s for s in _secrets(miner) + _secrets(validator) if s in line + stderr]
