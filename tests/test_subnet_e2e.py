"""The whole subnet on loopback with the sim chain: one honest miner, eight cheats, one validator.

The honest miner is the real service with the default generator. The cheats are small servers
registered on the same chain: a static pose, noise, a proxy that copies the honest miner's
answer, one that dances the public model's dance for the prompt's seed delayed by 4 to 60 frames
and mirrored (issue 18's copy), garbage JSON, a wrong frame count, an answer after the timeout, a 100 MB body, and one
that closes the connection. Then the validator as a subprocess (`a2a validate --network sim`)
is killed with SIGKILL mid-run, twice, and restarted: its averages continue from the last saved
step.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
import soundfile as sf
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response, StreamingResponse

from a2a_cli.chain import protocol
from a2a_cli.chain.local_chain import sim_chain_path
from a2a_cli.chain.miner import model_generate_fn
from a2a_cli.chain.prompts import PromptLibrary
from a2a_cli.chain.state import ValidatorState
from a2a_cli.chain.validator import Validator, ValidatorSettings
from a2a_cli.examples import synth_song
from support.dances import static_pose, white_noise
from support.subnet_helpers import (MinerService, judged_on_merit, MinerSettings, fast_generate, local_chain_with, make_wallets, running_app,
                            running_miner, signed_headers)

TIMEOUT_S = 5.0  # generous: the honest miner answers in well under 1 s, even on a loaded machine
CHEATS = ("static", "noise", "copy", "delayed", "garbage", "wrong_frames", "late", "huge", "closer")
DELAYS = (4, 15, 30, 60)  # frames the "delayed" cheat holds the public model's dance back, one per step in turn


def write_library(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, bpm, seed in (("funk", 118.0, 1), ("house", 124.0, 2)):
        sf.write(folder / f"{name}.wav", synth_song(bpm, 18.0, sr=22050, seed=seed), 22050)
    return folder


def honest_service(chain, wallet) -> MinerService:
    return MinerService(settings=MinerSettings(min_stake=10.0, timeout_s=30.0), chain=chain, hotkey=wallet.hotkey.ss58_address,
                        generate=model_generate_fn("choreo"), model="choreo")


def motion_response(motion, model: str) -> Response:
    payload = protocol.encode_motion_payload(motion)
    return Response(protocol.GenerateResponse(motion=payload, model=model, generation_s=0.01).model_dump_json(),
                    media_type="application/json")


def delayed_and_mirrored(motion, frames: int):
    """`motion` held back `frames` frames (its first pose held meanwhile, its end cut) and mirrored left
    for right, with its length kept: a copy a fixed-instant fingerprint misses."""
    import numpy as np

    from a2a_cli.motion import Motion

    swap = [0, 2, 1, 3, 5, 4, 6, 8, 7, 9, 11, 10, 12, 14, 13, 15, 17, 16, 19, 18, 21, 20, 23, 22]
    poses = np.concatenate([np.repeat(motion.poses[:1], frames, 0), motion.poses[:-frames]])[:, swap] * np.array([1, -1, -1], np.float32)
    trans = np.concatenate([np.repeat(motion.trans[:1], frames, 0), motion.trans[:-frames]]) * np.array([-1, 1, 1], np.float32)
    return Motion(poses=poses, trans=trans, fps=motion.fps)


def cheat_app(kind: str, *, wallet=None, honest=None) -> FastAPI:
    """A miner that answers a2a/2 prompts with one trick (it checks no signatures: it only cheats)."""
    app = FastAPI()
    steps = iter(range(10**6))

    @app.post(protocol.GENERATE_PATH)
    async def generate(request: Request):
        body = await request.body()
        prompt = protocol.parse_request(body)
        n = prompt.expected_frames
        if kind == "static":
            return motion_response(static_pose(n), "statue")
        if kind == "noise":
            return motion_response(white_noise(n, seed=prompt.seed % 1000), "noise")
        if kind == "copy":  # ask the honest miner the same question, signed as itself, and pass the answer off as its own
            import httpx

            url, hotkey = honest
            async with httpx.AsyncClient(timeout=30.0, trust_env=False) as client:
                answer = await client.post(url + protocol.GENERATE_PATH, content=body, headers=signed_headers(wallet, body, hotkey))
            await asyncio.sleep(0.2)  # a copier's own overhead: it always answers after its source
            return Response(answer.content, status_code=answer.status_code, media_type="application/json")
        if kind == "delayed":  # the public model's own dance for this prompt and seed, delayed and mirrored
            samples, sr = protocol.decode_wav(prompt.audio)
            motion = await asyncio.to_thread(model_generate_fn("choreo"), samples[: int(round(prompt.duration_s * sr))], sr,
                                             prompt.duration_s, prompt.seed)
            await asyncio.sleep(0.5)  # after its source, which answers in well under that
            return motion_response(delayed_and_mirrored(motion, DELAYS[next(steps) % len(DELAYS)]), "delayed")
        if kind == "garbage":
            return PlainTextResponse('{"motion": {"encoding": "npz-base64", "data": "AAAA', media_type="application/json")
        if kind == "wrong_frames":
            return motion_response(fast_generate(None, 0, prompt.duration_s - 0.25, prompt.seed), "short")
        if kind == "late":
            await asyncio.sleep(TIMEOUT_S + 1.0)
            return motion_response(fast_generate(None, 0, prompt.duration_s, prompt.seed), "late")
        if kind == "huge":
            async def hundred_mb():
                chunk = b"x" * (1 << 20)
                yield b'{"motion": {"encoding": "bvh", "data": "'
                for _ in range(100):
                    yield chunk
            return StreamingResponse(hundred_mb(), media_type="application/json")
        raise AssertionError(kind)

    return app


@contextmanager
def connection_closer():
    """A 'miner' that accepts each connection and closes it at once."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            conn.close()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()


def advertise(chain, wallet, url: str) -> None:
    chain.serve_axon(wallet, "127.0.0.1", int(url.rsplit(":", 1)[1]))


@pytest.fixture(scope="module")
def subnet(tmp_path_factory):
    root = tmp_path_factory.mktemp("subnet")
    names = ("validator", "honest", *CHEATS)
    wallets = dict(zip(names, make_wallets(root / "wallets", *names)))
    chain = local_chain_with(root / "chain.json", {wallets["validator"]: 1000.0}, [wallets[n] for n in ("honest", *CHEATS)],
                             block_seconds=0.05, weights_rate_limit=1)
    chain.set_stake(wallets["copy"].hotkey.ss58_address, 20.0)  # enough for the honest miner to serve the copier
    with ExitStack() as stack:
        honest_url = stack.enter_context(running_miner(honest_service(chain, wallets["honest"])))
        advertise(chain, wallets["honest"], honest_url)
        for kind in CHEATS:
            if kind == "closer":
                url = stack.enter_context(connection_closer())
            else:
                app = cheat_app(kind, wallet=wallets[kind], honest=(honest_url, wallets["honest"].hotkey.ss58_address))
                url = stack.enter_context(running_app(app))
            advertise(chain, wallets[kind], url)
        yield {"root": root, "chain": chain, "wallets": wallets, "library": write_library(root / "library")}


@pytest.mark.heavy
def test_the_honest_miner_earns_the_weight_and_every_cheat_nothing(subnet):
    chain, wallets = subnet["chain"], subnet["wallets"]
    uid = {name: chain.uid_of(w.hotkey.ss58_address) for name, w in wallets.items()}
    validator = Validator(chain=chain, wallet=wallets["validator"], prompts=PromptLibrary(subnet["library"]),
                          state_path=subnet["root"] / "state.json",
                          settings=ValidatorSettings(sample_size=32, timeout_s=TIMEOUT_S, alpha=0.3, weights_interval_blocks=1))
    results, errors = [], []
    started = time.monotonic()
    validator.run(steps=2, on_step=results.append, on_error=errors.append)
    elapsed = time.monotonic() - started

    assert errors == [] and [r.step for r in results] == [0, 1]
    assert elapsed < 2 * (TIMEOUT_S + 4.0)  # the late and the 100 MB miners never hold a step beyond its deadline
    for result in results:
        by_uid = {a.uid: a for a in result.answers}
        assert len(by_uid) == 1 + len(CHEATS)
        honest = by_uid[uid["honest"]]
        # judged on merit (choreo is procedural: realism factor ~0.2 since judge 3.0, ~0.15), every cheat 0
        assert judged_on_merit(honest.reason) and honest.score > 0.1, honest
        assert all(by_uid[uid[kind]].score == 0.0 for kind in CHEATS), {k: by_uid[uid[k]].reason for k in CHEATS}
        reasons = {kind: by_uid[uid[kind]].reason for kind in CHEATS}
        assert reasons["copy"] == reasons["delayed"] == f"copy of uid {uid['honest']}'s answer"
        assert reasons["garbage"].startswith("invalid: response is not a valid a2a/2 answer")
        assert "frames;" in reasons["wrong_frames"] and "expected" in reasons["wrong_frames"]
        assert reasons["late"] == f"no answer within {TIMEOUT_S:g} s"
        assert reasons["huge"].startswith("answer over the") and reasons["closer"].startswith("connection failed")
        assert reasons["static"] != "ok" and reasons["noise"] != "ok"

    weights = chain.weights()[uid["validator"]]
    assert weights[uid["honest"]] == max(weights.values()) and weights[uid["honest"]] > 0.99
    assert all(weights.get(uid[kind], 0.0) < 0.01 for kind in CHEATS)
    saved = ValidatorState.load(subnet["root"] / "state.json", network="sim", netuid=1,
                                hotkey=wallets["validator"].hotkey.ss58_address)
    assert saved.step == 2 and saved.tasks["dance"][wallets["honest"].hotkey.ss58_address].ema == pytest.approx(
        results[-1].answers[[a.uid for a in results[-1].answers].index(uid["honest"])].ema)


# --- kill -9 and restart -------------------------------------------------------------------------


def validate_process(data_dir: Path, wallet_path: Path, library: Path, state: Path, *, steps: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "a2a_cli", "validate", "--network", "sim", "--netuid", "1", "--wallet", "validator",
               "--hotkey", "hot", "--wallet-path", str(wallet_path), "--library", str(library), "--state", str(state),
               "--timeout", "20", "--alpha", "0.5", "--weights-interval", "1", "--interval", "0", "--steps", str(steps), "--json"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("A2A_")} | {"A2A_GENERAL_DATA_DIR": str(data_dir)}
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
                            cwd=str(data_dir))


def step_lines(process: subprocess.Popen) -> queue.Queue:
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(json.loads(line)) for line in process.stdout], daemon=True).start()
    return lines


@pytest.mark.heavy
def test_a_killed_validator_continues_from_its_last_saved_step(tmp_path, subnet):
    data_dir, wallet_path = tmp_path / "data", tmp_path / "wallets"
    names = ("validator", "honest", "sway")
    wallets = dict(zip(names, make_wallets(wallet_path, *names)))
    chain = local_chain_with(sim_chain_path(data_dir, 1), {wallets["validator"]: 1000.0}, [wallets["honest"], wallets["sway"]],
                             block_seconds=0.05, weights_rate_limit=1)
    sway = MinerService(settings=MinerSettings(min_stake=10.0), chain=chain, hotkey=wallets["sway"].hotkey.ss58_address,
                        generate=fast_generate, model="sway")
    state_path = tmp_path / "state.json"
    hotkey = wallets["validator"].hotkey.ss58_address
    rng = random.Random(0)
    with running_miner(honest_service(chain, wallets["honest"])) as honest_url, running_miner(sway) as sway_url:
        advertise(chain, wallets["honest"], honest_url)
        advertise(chain, wallets["sway"], sway_url)
        for _ in range(2):  # run until at least one more step is saved, then SIGKILL at a random moment
            before = ValidatorState.load(state_path, network="sim", netuid=1, hotkey=hotkey).step
            process = validate_process(data_dir, wallet_path, subnet["library"], state_path, steps=0)
            lines = step_lines(process)
            try:
                first = lines.get(timeout=30)
                assert first["step"] == before  # numbering continues from the file
                time.sleep(rng.uniform(0.0, 0.6))
            finally:
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=10)
            saved = ValidatorState.load(state_path, network="sim", netuid=1, hotkey=hotkey)  # whole, never half-written
            assert saved.step >= before + 1

        process = validate_process(data_dir, wallet_path, subnet["library"], state_path, steps=1)
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    assert result["step"] == saved.step
    assert {a["uid"] for a in result["answers"]} == {saved.tasks["dance"][w.hotkey.ss58_address].uid for w in (wallets["honest"], wallets["sway"])}
    for answer in result["answers"]:
        old = saved.tasks["dance"][answer["hotkey"]].ema
        assert answer["ema"] == pytest.approx(0.5 * answer["score"] + 0.5 * old)  # the average carried on from the file
    honest, sway = result["answers"]  # honest (uid 1) dances (choreo: realism factor ~0.2 since judge 3.0); sway repeats itself
    assert honest["score"] > 0.1 and honest["score"] > sway["score"], result["answers"]
    final = ValidatorState.load(state_path, network="sim", netuid=1, hotkey=hotkey)
    assert final.step == saved.step + 1
