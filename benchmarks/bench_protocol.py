"""Protocol overhead and load: what a2a/2 costs beyond generation, and one miner under 32 validators.

1. A 10-second prompt, step by step in one process (sign, encode, verify, decode on both sides),
   then end to end over HTTP on 127.0.0.1 against a miner in its own process with a trivial
   generator: client wall time minus the generation time the miner reports. Target: < 50 ms.
   Baseline, same run: a bare FastAPI endpoint in its own process that takes the same request
   bytes and returns the same answer bytes with no auth, no parsing and no codecs (HTTP alone).
2. 32 validators (each its own registered wallet) send 8 prompts each at once to one miner with
   2 generation slots and a queue of 16; generation takes 20 ms. Errors other than 429 must be 0.
(A miner under attack: benchmarks/bench_attacks.py.)

Run: .venv/bin/python benchmarks/bench_protocol.py
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo root: a2a_cli, and support/ (shared with the tests)

import httpx  # noqa: E402

from a2a_cli.chain import protocol  # noqa: E402
from a2a_cli.chain.auth import RequestVerifier, sign_request  # noqa: E402
from support.subnet_helpers import fast_generate, local_chain_with, make_wallets, prompt_body, signed_headers  # noqa: E402

DURATION_S = 10.0
ROUNDS = 40


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.2f} ms"


def timed(fn, rounds: int = ROUNDS) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def dance_sized(samples, sr, duration_s: float, seed: int):
    """The trivial sway plus small jitter on every joint: an answer as large and as incompressible
    as a real dance's (about 108 kB per 10 s), produced in well under a millisecond."""
    import numpy as np

    motion = fast_generate(samples, sr, duration_s, seed)
    motion.poses += 0.05 * np.random.default_rng(seed).standard_normal(motion.poses.shape).astype(np.float32)
    return motion


def steps(validator, miner, body: bytes) -> None:
    """Each protocol step alone, median of ROUNDS."""
    receiver = miner.hotkey.ss58_address
    path = protocol.GENERATE_PATH
    verifier = RequestVerifier(receiver, max_timeout_s=60.0)
    request = protocol.parse_request(body)
    samples, sr = protocol.decode_wav(request.audio)
    motion = dance_sized(samples, sr, DURATION_S, 0)
    answer = protocol.GenerateResponse(motion=protocol.encode_motion_payload(motion), model="fast", generation_s=0.0)
    answer_bytes = answer.model_dump_json().encode()
    sign = lambda: sign_request(validator, method="POST", path=path, body=body, receiver_hotkey=receiver, timeout_s=30.0)  # noqa: E731
    sign_s = timed(sign)
    rows = [
        ("validator: encode wav + request", timed(lambda: protocol.request_body(protocol.GenerateRequest(
            prompt_id="p", audio=protocol.encode_wav(samples, sr), duration_s=DURATION_S)))),
        ("validator: sign", sign_s),
        ("miner: verify", timed(lambda: verifier.verify(sign(), body, method="POST", path=path)) - sign_s),
        ("miner: parse request + wav", timed(lambda: protocol.decode_wav(protocol.parse_request(body).audio))),
        ("miner: encode motion npz-b64", timed(lambda: protocol.encode_motion_payload(motion))),
        ("validator: parse + check answer", timed(lambda: protocol.parse_response(answer_bytes, request))),
    ]
    print(f"request {len(body) / 1e6:.2f} MB, answer {len(answer_bytes) / 1e3:.1f} kB ({request.expected_frames} frames)")
    for name, seconds in rows:
        print(f"  {name:32s} {ms(seconds)}")
    print(f"  {'sum of the steps':32s} {ms(sum(s for _, s in rows))}")


def start_server(mode: str, *args: str) -> tuple[subprocess.Popen, str]:
    """A server in its own process, as deployed: a server thread inside the client's process adds
    ~40 ms of scheduling delay per request on this machine, which would swamp what is measured."""
    proc = subprocess.Popen([sys.executable, __file__, mode, *args], stdout=subprocess.PIPE, text=True)
    port = int(proc.stdout.readline())
    return proc, f"http://127.0.0.1:{port}"


def serve_miner(chain_path: str, wallet_root: str, generation_delay_s: str) -> None:
    from a2a_cli.chain.auth import load_wallet
    from a2a_cli.chain.local_chain import LocalChain
    from a2a_cli.chain.miner import MinerService, MinerSettings, bind_socket, serve

    def generate(samples, sr, duration_s, seed):
        time.sleep(float(generation_delay_s))
        return dance_sized(samples, sr, duration_s, seed)

    miner = load_wallet("miner", "hot", wallet_root)
    settings = MinerSettings(min_stake=1.0, max_concurrency=2, max_queue=16, timeout_s=30)
    service = MinerService(settings=settings, chain=LocalChain(chain_path), hotkey=miner.hotkey.ss58_address,
                           generate=generate, model="fast")
    sock = bind_socket("127.0.0.1", 0)
    print(sock.getsockname()[1], flush=True)
    serve(service, sock, log_level="warning")


def serve_bare(answer_path: str) -> None:
    import uvicorn
    from fastapi import FastAPI, Request, Response

    from a2a_cli.chain.miner import bind_socket

    answer = Path(answer_path).read_bytes()
    app = FastAPI()

    @app.post(protocol.GENERATE_PATH)
    async def echo(request: Request):
        await request.body()
        return Response(answer, media_type="application/json")

    sock = bind_socket("127.0.0.1", 0)
    print(sock.getsockname()[1], flush=True)
    uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False)).run(sockets=[sock])


def client(**kwargs) -> httpx.Client:
    return httpx.Client(timeout=30, transport=httpx.HTTPTransport(socket_options=protocol.CLIENT_SOCKET_OPTIONS), **kwargs)


def end_to_end(validator, miner, url: str, body: bytes) -> tuple[float, float, bytes]:
    """Median and p95 of (client wall time - reported generation time), signing included."""
    request = protocol.parse_request(body)
    overheads = []
    with client() as http:
        for i in range(ROUNDS + 3):
            start = time.perf_counter()
            headers = signed_headers(validator, body, miner.hotkey.ss58_address)
            response = http.post(url + protocol.GENERATE_PATH, content=body, headers=headers)
            answer, _ = protocol.parse_response(response.content, request)
            if i >= 3:  # warm-up excluded
                overheads.append(time.perf_counter() - start - answer.generation_s)
    return statistics.median(overheads), sorted(overheads)[int(0.95 * len(overheads))], response.content


def bare_http(url: str, body: bytes) -> float:
    times = []
    with client() as http:
        for i in range(ROUNDS + 3):
            start = time.perf_counter()
            http.post(url + protocol.GENERATE_PATH, content=body).read()
            if i >= 3:
                times.append(time.perf_counter() - start)
    return statistics.median(times)


async def load(validators, miner, url: str, per_validator: int = 8) -> None:
    body = prompt_body(2.0)
    statuses: Counter = Counter()
    errors: Counter = Counter()

    async def one_validator(wallet, http):
        for _ in range(per_validator):
            try:
                response = await http.post(url + protocol.GENERATE_PATH, content=body,
                                           headers=signed_headers(wallet, body, miner.hotkey.ss58_address))
                statuses[response.status_code] += 1
            except httpx.HTTPError as e:
                errors[type(e).__name__] += 1

    transport = httpx.AsyncHTTPTransport(socket_options=protocol.CLIENT_SOCKET_OPTIONS, limits=httpx.Limits(max_connections=len(validators)))
    async with httpx.AsyncClient(timeout=60, transport=transport) as http:
        start = time.perf_counter()
        await asyncio.gather(*(one_validator(w, http) for w in validators))
        wall = time.perf_counter() - start
    other = sum(n for code, n in statuses.items() if code not in (200, 429)) + sum(errors.values())
    print(f"{len(validators)} validators x {per_validator} prompts = {len(validators) * per_validator} requests in {wall:.2f} s: "
          f"status counts {dict(sorted(statuses.items()))}, transport errors {dict(errors) or 0}")
    print(f"  errors other than 429: {other}   {'OK' if other == 0 else 'FAIL'}")


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="a2a-bench-protocol-"))
    wallets = make_wallets(root / "wallets", "miner", *[f"v{i}" for i in range(32)])
    miner, validators = wallets[0], wallets[1:]
    local_chain_with(root / "chain.json", {v: 100.0 for v in validators}, [miner])
    body = prompt_body(DURATION_S)

    print("== protocol steps, one 10-s prompt (median) ==")
    steps(validators[0], miner, body)

    print("\n== end to end over loopback HTTP, miner in its own process, trivial generator ==")
    proc, url = start_server("--serve-miner", str(root / "chain.json"), str(root / "wallets"), "0")
    try:
        median, p95, answer = end_to_end(validators[0], miner, url, body)
    finally:
        proc.terminate()
        proc.wait(10)
    (root / "answer.json").write_bytes(answer)
    proc, url = start_server("--serve-bare", str(root / "answer.json"))
    try:
        baseline = bare_http(url, body)
    finally:
        proc.terminate()
        proc.wait(10)
    print(f"  {protocol.PROTOCOL_VERSION} overhead beyond generation  median {ms(median)}  p95 {ms(p95)}   target < 50 ms: {'OK' if median < 0.05 else 'FAIL'}")
    print(f"  baseline: bare HTTP, same bytes   median {ms(baseline)}   {protocol.PROTOCOL_VERSION} adds {ms(median - baseline)} ({median / baseline:.1f}x)")

    print("\n== one miner (2 slots, queue 16, 20 ms generation), 32 concurrent validators ==")
    proc, url = start_server("--serve-miner", str(root / "chain.json"), str(root / "wallets"), "0.02")
    try:
        asyncio.run(load(validators, miner, url))
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--serve-miner":
        serve_miner(*sys.argv[2:])
    elif len(sys.argv) > 1 and sys.argv[1] == "--serve-bare":
        serve_bare(*sys.argv[2:])
    else:
        main()
