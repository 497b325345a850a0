"""The subnet's two tasks (issue 20, item 4): weights by task shares, the state file per task (and
the one from before tasks), prompts that know their task, which miner is asked what, and the whole
subnet on one machine with a dance-only miner and a miner serving dance and gesture.

The gesture path runs the real gesture pieces (a2a_cli.audio.speech.analyze_speech,
a2a_cli.examples.synth_speech, the `orator` generator, a2a_cli.scoring.gesture.score_gestures)
where a test says so; the others replace the gesture reading where no answer is ever judged.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import random
import threading
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from hypothesis import example, given, settings
from hypothesis import strategies as st

from a2a_cli.chain import protocol, tasks_service
from a2a_cli.chain.chain import Metagraph, Neuron
from a2a_cli.chain.prompts import SPEECH_FOLDER, ChallengeEndpoint, Prompt, PromptLibrary
from a2a_cli.chain.state import STATE_VERSION, ValidatorState
from a2a_cli.chain.validator import Validator, ValidatorSettings
from a2a_cli.errors import InputError, WorkError
from a2a_cli.examples import synth_song
from a2a_cli.tasks import TASKS
from support.subnet_helpers import SR, Clock, FixedPrompts, QuietHandler, http_server, key, make_wallets

SHARES = {"dance": 0.7, "gesture": 0.3}


def metagraph(*hotkeys: str) -> Metagraph:
    return Metagraph(netuid=1, block=1, neurons=tuple(Neuron(uid=i, hotkey=h, coldkey="c", stake=0.0, validator_permit=False)
                                                      for i, h in enumerate(hotkeys)))


# --- one home for what differs by task -----------------------------------------------------------


def test_every_task_has_its_row_and_its_share_setting():
    from a2a_cli.config import SCHEMA

    assert tuple(tasks_service.TASK_KINDS) == TASKS
    assert [k for k in SCHEMA["validator"] if k.endswith("_share")] == [f"{t}_share" for t in TASKS]
    assert SCHEMA["miner"]["tasks"].choices == TASKS
    assert ValidatorSettings().task_shares == SHARES
    with pytest.raises(InputError, match="task"):
        tasks_service.analyse_prompt("juggling", np.zeros(10, np.float32), 16000)


# --- weights by task shares ----------------------------------------------------------------------


def test_each_task_pays_its_share_split_by_average():
    """A (dance only), B (dance and gesture), C (gesture only): dance's 0.7 is split by the dance
    averages, gesture's 0.3 by the gesture averages, whatever the two judges' scales."""
    state = ValidatorState("sim", 1, "v")
    for uid, hotkey, task, score in ((0, "A", "dance", 0.5), (1, "B", "dance", 0.5), (1, "B", "gesture", 0.2),
                                     (2, "C", "gesture", 0.6)):
        state.record_score(uid, hotkey, score, 1.0, task=task)  # alpha 1: the average is the score
    graph = metagraph("A", "B", "C")
    parts = state.weight_parts(graph, SHARES)
    assert parts["dance"] == pytest.approx({0: 0.35, 1: 0.35})
    assert parts["gesture"] == pytest.approx({1: 0.3 * 0.2 / 0.8, 2: 0.3 * 0.6 / 0.8})
    uids, weights = state.weights(graph, SHARES)
    assert uids == [0, 1, 2] and weights == pytest.approx([0.35, 0.425, 0.225])
    # a validator that does not prompt for gesture pays dance alone; B's gesture average counts for nothing there
    assert state.weights(graph, {"dance": 0.7}) == ([0, 1], pytest.approx([0.5, 0.5]))
    assert state.weights(graph, {"dance": 0.7, "gesture": 0.0}) == ([0, 1], pytest.approx([0.5, 0.5]))
    # nobody has earned in gesture yet: its share goes to the tasks someone earned in
    state.tasks["gesture"].clear()
    assert state.weights(graph, SHARES) == ([0, 1], pytest.approx([0.5, 0.5]))


@settings(max_examples=60, deadline=None)
@given(emas=st.lists(st.tuples(st.floats(0.0, 1.0), st.floats(0.0, 1.0)), min_size=1, max_size=8),
       shares=st.tuples(st.floats(0.0, 1.0), st.floats(0.0, 1.0)).filter(lambda s: max(s) > 0))
@example(emas=[(1.0, 5e-324)], shares=(1.0, 1.0))  # found by hypothesis: a share times a subnormal average underflowed
def test_task_pools_are_their_shares_of_the_weights(emas, shares):
    state = ValidatorState("sim", 1, "v")
    hotkeys = [f"m{i}" for i in range(len(emas))]
    for uid, (hotkey, (dance, gesture)) in enumerate(zip(hotkeys, emas)):
        state.record_score(uid, hotkey, dance, 1.0, task="dance")
        state.record_score(uid, hotkey, gesture, 1.0, task="gesture")
    share = dict(zip(TASKS, shares))
    parts = state.weight_parts(metagraph(*hotkeys), share)
    earning = [t for t in TASKS if share[t] > 0 and any(e[TASKS.index(t)] > 0 for e in emas)]
    assert sorted(parts) == sorted(earning)
    for task, pool in parts.items():
        assert sum(pool.values()) == pytest.approx(share[task] / sum(share[t] for t in earning))
        column = TASKS.index(task)
        for uid, part in pool.items():  # within a task, in proportion to the average
            assert part == pytest.approx(sum(pool.values()) * (emas[uid][column] / sum(e[column] for e in emas)))
    uids, weights = state.weights(metagraph(*hotkeys), share)
    assert (sum(weights) == pytest.approx(1.0)) if earning else (uids == [])


def test_the_shares_are_settings(tmp_path, monkeypatch):
    from a2a_cli.config import load_settings

    for name in [n for n in __import__("os").environ if n.startswith("A2A_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    assert ValidatorSettings.from_settings(load_settings()).task_shares == SHARES
    monkeypatch.setenv("A2A_VALIDATOR_GESTURE_SHARE", "0.5")
    assert ValidatorSettings.from_settings(load_settings()).task_shares == {"dance": 0.7, "gesture": 0.5}
    monkeypatch.setenv("A2A_VALIDATOR_GESTURE_SHARE", "1.5")
    with pytest.raises(InputError, match="gesture_share: expected a number <= 1"):
        load_settings()
    with pytest.raises(InputError, match="at least one above 0"):
        ValidatorSettings(task_shares={"dance": 0.0, "gesture": 0.0})
    chain_path = tmp_path / "chain.json"
    from a2a_cli.chain.local_chain import LocalChain

    with pytest.raises(InputError, match="nothing to validate: the prompts are for dance, whose shares are 0"):
        Validator(chain=LocalChain(chain_path, netuid=1), wallet=key("v"), prompts=FixedPrompts(), state_path=tmp_path / "s.json",
                  settings=ValidatorSettings(task_shares={"dance": 0.0, "gesture": 1.0}))


# --- the state file ------------------------------------------------------------------------------

# What the release before tasks wrote (STATE_VERSION 1): one dance record per miner.
STATE_V1 = {"version": 1, "network": "sim", "netuid": 1, "hotkey": "v", "step": 12, "last_weights_block": 40,
            "miners": [{"uid": 3, "hotkey": "A", "ema": 0.25, "last_score": 0.3, "last_reason": "ok", "last_latency_s": 0.5,
                        "queries": 11, "last_step": 11, "recent_styles": [[0.5, 0.25]]}]}


def test_a_state_file_from_before_tasks_loads_as_dance_and_is_saved_per_task(tmp_path):
    path = tmp_path / "state.json"
    path.write_text(json.dumps(STATE_V1))
    state = ValidatorState.load(path, network="sim", netuid=1, hotkey="v")
    assert (state.step, state.last_weights_block) == (12, 40) and state.tasks["gesture"] == {}
    record = state.tasks["dance"]["A"]
    assert (record.uid, record.ema, record.queries, record.recent_styles) == (3, 0.25, 11, [[0.5, 0.25]])
    state.record_score(3, "A", 0.5, 0.5, task="gesture", reason="ok")
    state.save(path)
    saved = json.loads(path.read_text())
    assert saved["version"] == STATE_VERSION == 2 and "miners" not in saved
    assert [r["hotkey"] for r in saved["tasks"]["dance"]] == ["A"] and saved["tasks"]["gesture"][0]["ema"] == 0.25
    assert ValidatorState.load(path, network="sim", netuid=1, hotkey="v") == state


@pytest.mark.parametrize("change, message", [
    ({"tasks": {"juggling": []}}, "not among dance, gesture"),
    ({"tasks": [["dance", []]]}, "not among"),
    ({"tasks": {"gesture": [{"uid": 1, "hotkey": "a", "ema": 2.0}]}}, "out of"),
    ({"tasks": {"gesture": "A"}}, "malformed"),
    ({"version": True}, "unknown format"),  # true is not version 1
])
def test_a_damaged_state_file_of_either_version_is_a_clear_error(tmp_path, change, message):
    doc = {k: v for k, v in STATE_V1.items() if k != "miners"} | {"version": 2, "tasks": {}} | change
    path = tmp_path / "s.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(WorkError, match=message):
        ValidatorState.load(path, network="sim", netuid=1, hotkey="v")


# --- prompts that know their task ----------------------------------------------------------------


@pytest.fixture(scope="module")
def mixed_library(tmp_path_factory) -> Path:
    """Two songs, and two 'speech' files in speech/ (any audio: the library reads no content)."""
    folder = tmp_path_factory.mktemp("mixed")
    (folder / SPEECH_FOLDER).mkdir()
    for name, seed in (("a", 1), ("b", 2)):
        sf.write(folder / f"song-{name}.wav", synth_song(110.0, 8.0, sr=SR, seed=seed), SR)
        sf.write(folder / SPEECH_FOLDER / f"talk-{name}.wav", synth_song(90.0, 8.0, sr=SR, seed=seed + 9), SR)
    return folder


def test_a_library_holds_speech_prompts_beside_music(mixed_library, tmp_path):
    library = PromptLibrary(mixed_library)
    assert library.tasks == TASKS and len(library) == 4
    for seed in range(6):
        speech, music = library.sample(random.Random(seed), "gesture"), library.sample(random.Random(seed), "dance")
        assert speech.task == "gesture" and speech.source.startswith("speech/talk-") and speech.reference is None
        assert music.task == "dance" and music.source.startswith("song-")
        assert 5.0 <= speech.duration_s <= 8.0 and speech.samples.size == round(speech.duration_s * SR)
    speech_only = tmp_path / "speech-only"
    (speech_only / SPEECH_FOLDER).mkdir(parents=True)
    sf.write(speech_only / SPEECH_FOLDER / "t.wav", synth_song(90.0, 3.0, sr=SR, seed=3), SR)
    assert PromptLibrary(speech_only).tasks == ("gesture",)
    with pytest.raises(InputError, match="has no dance prompts"):
        PromptLibrary(speech_only).sample(random.Random(0), "dance")
    music_only = tmp_path / "music-only"
    music_only.mkdir()
    sf.write(music_only / "m.wav", synth_song(90.0, 3.0, sr=SR, seed=3), SR)
    assert PromptLibrary(music_only).tasks == ("dance",)  # every library from before tasks
    with pytest.raises(InputError, match=r"has no gesture prompts \(speech goes in speech/\)"):
        PromptLibrary(music_only).sample(random.Random(0), "gesture")
    (tmp_path / "empty" / SPEECH_FOLDER).mkdir(parents=True)
    with pytest.raises(InputError, match="holds no audio"):
        PromptLibrary(tmp_path / "empty")


class _Challenges(QuietHandler):
    """A challenge endpoint: music at /c, speech at /c?task=gesture; `wrong` answers music to both."""

    paths: list[str] = []
    wrong = False

    def do_GET(self):  # noqa: N802 (the http.server API)
        self.paths.append(self.path)
        task = "gesture" if self.path.endswith("task=gesture") and not self.wrong else "dance"
        audio = protocol.encode_wav(synth_song(100.0, 5.0, sr=SR, seed=1), SR)
        body = json.dumps({"audio": audio.model_dump(), **({"task": task} if task != "dance" else {})}).encode()
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_a_challenge_endpoint_is_asked_for_each_task_and_must_answer_that_task(monkeypatch):
    monkeypatch.setattr(_Challenges, "paths", [])
    with http_server(_Challenges) as server:
        url = f"http://127.0.0.1:{server.server_address[1]}/c"
        endpoint = ChallengeEndpoint(url)
        assert endpoint.sample(random.Random(0)).task == "dance" and endpoint.sample(random.Random(0), "gesture").task == "gesture"
        assert ChallengeEndpoint(url + "?k=1").sample(random.Random(0), "gesture").task == "gesture"
        assert _Challenges.paths == ["/c", "/c?task=gesture", "/c?k=1&task=gesture"]
        monkeypatch.setattr(_Challenges, "wrong", True)  # an endpoint from before tasks: music, whatever is asked
        with pytest.raises(WorkError, match="it is a dance challenge; gesture was asked for"):
            endpoint.sample(random.Random(0), "gesture")


# --- who is asked what ---------------------------------------------------------------------------


class TwoTasks:
    """A prompt source with one fixed clip per task."""

    tasks = TASKS

    def __init__(self, duration_s: float = 2.0):
        self.clips = {t: Prompt(f"p-{t}", synth_song(120.0, duration_s, sr=SR, seed=i), SR, duration_s, task=t)
                      for i, t in enumerate(TASKS)}

    def sample(self, rng, task="dance"):
        return self.clips[task]


@pytest.fixture
def fake_miners():
    """HTTP 'miners' on 127.0.0.1: GET /v1/health answers each one's `health` (a status and bytes);
    every POST is recorded with the task its body names (None: none) and refused with 500."""
    health: dict[int, tuple[int, bytes]] = {}
    log = {"health": [], "posts": []}
    lock = threading.Lock()

    class Handler(QuietHandler):
        def do_GET(self):  # noqa: N802
            port = self.server.server_address[1]
            with lock:
                log["health"].append(port)
            status, body = health[port]
            self.send_response(status)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            with lock:
                log["posts"].append((self.server.server_address[1], body.get("task")))
            self.send_response(500)
            self.send_header("content-length", "0")
            self.end_headers()

    servers = []
    try:
        for _ in range(4):
            servers.append(http_server(Handler))
        ports = [cm.__enter__().server_address[1] for cm in servers]
        yield ports, health, log
    finally:
        for cm in servers:
            cm.__exit__(None, None, None)


def test_each_miner_is_asked_only_the_tasks_it_says_it_serves(tmp_path, fake_miners, monkeypatch):
    from a2a_cli.chain.local_chain import LocalChain

    # no answer is judged here (every miner refuses): the gesture prompt need not be read as speech
    monkeypatch.setitem(tasks_service.TASK_KINDS, "gesture",
                        dataclasses.replace(tasks_service.TASK_KINDS["gesture"], analyse=lambda samples, sr: None))
    ports, health, log = fake_miners
    both, old, talker, garbled = ports
    health.update({both: (200, b'{"tasks": ["dance", "gesture"]}'), old: (404, b"{}"), talker: (200, b'{"tasks": ["gesture"]}'),
                   garbled: (200, b"\xff\xfe")})
    (wallet,) = make_wallets(tmp_path / "wallets", "v")
    chain = LocalChain(tmp_path / "chain.json", netuid=1, clock=Clock(), block_seconds=1.0)
    chain.burned_register(wallet)
    chain.set_stake(wallet.hotkey.ss58_address, 1000.0)
    for name, port in zip("abcd", ports):
        chain.burned_register(key(name))
        chain.serve_axon(key(name), "127.0.0.1", port)
    uid = dict(zip(ports, range(1, 5)))

    def step() -> list:
        validator = Validator(chain=chain, wallet=wallet, prompts=TwoTasks(), state_path=tmp_path / "state.json",
                              settings=ValidatorSettings(timeout_s=3.0))
        results = [asyncio.run(validator.step()) for _ in range(2)]  # the second step remembers what each serves
        assert [p.task for p in results[0].prompts] == ["dance", "gesture"]
        return results

    results = step()
    assert sorted(log["health"]) == sorted(ports)  # asked once each, in the first step only
    assert Counter(log["posts"]) == Counter([(both, None), (both, "gesture"), (old, None), (talker, "gesture"), (garbled, None)] * 2)
    rows = [(a.uid, a.task, a.reason) for a in results[1].answers]
    assert rows == [(uid[both], "dance", "HTTP 500"), (uid[both], "gesture", "HTTP 500"), (uid[old], "dance", "HTTP 500"),
                    (uid[talker], "gesture", "HTTP 500"), (uid[garbled], "dance", "HTTP 500")]

    # `both` stops serving gesture: its gesture average falls without a query; `talker` cannot be read: asked as before
    health.update({both: (200, b'{"tasks": ["dance"]}'), talker: (503, b"")})
    log["posts"].clear()
    results = step()
    assert set(log["posts"]) == {(both, None), (old, None), (talker, "gesture"), (garbled, None)}
    lapsed = [a for a in results[0].answers if a.uid == uid[both] and a.task == "gesture"]
    assert [(a.score, a.reason, a.latency_s) for a in lapsed] == [(0.0, "no longer serves gesture", None)]


def chain_with_one_miner(tmp_path, port: int):
    """(a LocalChain, the validator's wallet): a staked validator and one miner ("a") serving on `port`."""
    from a2a_cli.chain.local_chain import LocalChain

    (wallet,) = make_wallets(tmp_path / "wallets", "v")
    chain = LocalChain(tmp_path / "chain.json", netuid=1, clock=Clock(), block_seconds=1.0)
    chain.burned_register(wallet)
    chain.set_stake(wallet.hotkey.ss58_address, 1000.0)
    chain.burned_register(key("a"))
    chain.serve_axon(key("a"), "127.0.0.1", port)
    return chain, wallet


def test_a_dance_only_validator_asks_no_miner_what_it_serves(tmp_path, fake_miners):
    ports, health, log = fake_miners
    chain, wallet = chain_with_one_miner(tmp_path, ports[0])
    health[ports[0]] = (200, b'{"tasks": ["dance", "gesture"]}')
    validator = Validator(chain=chain, wallet=wallet, prompts=FixedPrompts(), state_path=tmp_path / "state.json",
                          settings=ValidatorSettings(timeout_s=3.0))
    assert validator.tasks == ("dance",)
    result = asyncio.run(validator.step())
    assert log["health"] == [] and log["posts"] == [(ports[0], None)]
    assert [(p.task, p.prompt_id) for p in result.prompts] == [("dance", "p")]


# --- the whole subnet on one machine -------------------------------------------------------------

# The fields of a request before tasks: what a miner from then accepted (it refused any other).
PRE_TASK_FIELDS = {"protocol", "prompt_id", "audio", "fps", "duration_s", "seed", "judge_version"}


def reseeded(generate, offset: int):
    """`generate` (a GenerateFn) drawing with seed + `offset`: the same model, another dance, as two
    miners of one public model must give to be two contributions and not one (the copy policy)."""
    return lambda samples, sr, duration_s, seed: generate(samples, sr, duration_s, (seed + offset) % 2**32)


def veteran_app():
    """A miner from before tasks: no health route, and any field it does not know is refused."""
    from a2a_cli.chain.miner import model_generate_fn

    app = FastAPI()
    dance = reseeded(model_generate_fn("choreo"), 2)

    @app.post(protocol.GENERATE_PATH)
    async def generate(request: Request):
        raw = await request.body()
        unknown = set(json.loads(raw)) - PRE_TASK_FIELDS
        if unknown:
            return JSONResponse({"detail": f"unknown fields {sorted(unknown)}"}, status_code=422)
        prompt = protocol.parse_request(raw)
        samples, sr = protocol.decode_wav(prompt.audio)
        motion = await asyncio.to_thread(dance, samples[: int(round(prompt.duration_s * sr))], sr, prompt.duration_s, prompt.seed)
        payload = protocol.encode_motion_payload(motion)
        return JSONResponse(protocol.GenerateResponse(motion=payload, model="veteran", generation_s=0.1).model_dump())

    return app


@pytest.mark.heavy
def test_a_subnet_with_a_dance_only_miner_and_a_miner_of_both_tasks(tmp_path):
    """`a2a validate --network sim` (synthetic songs and voices: no library) against a dance-only
    miner, a miner serving dance and gesture (the real `orator`), and a miner from before tasks.
    Runs the real gesture pieces: analyze_speech, synth_speech, orator, score_gestures."""
    import os
    import subprocess
    import sys

    from a2a_cli.chain.local_chain import sim_chain_path
    from a2a_cli.chain.miner import MinerService, MinerSettings, ServedModel, model_generate_fn
    from support.subnet_helpers import judged_on_merit, local_chain_with, running_app, running_miner

    data_dir, wallet_path = tmp_path / "data", tmp_path / "wallets"
    names = ("validator", "dancer", "both", "veteran")
    wallets = dict(zip(names, make_wallets(wallet_path, *names)))
    chain = local_chain_with(sim_chain_path(data_dir, 1), {wallets["validator"]: 1000.0}, [wallets[n] for n in names[1:]],
                             block_seconds=0.05, weights_rate_limit=1)
    uid = {name: chain.uid_of(w.hotkey.ss58_address) for name, w in wallets.items()}
    config = MinerSettings(min_stake=10.0, timeout_s=30.0)
    choreo = model_generate_fn("choreo")
    dancer = MinerService(settings=config, chain=chain, hotkey=wallets["dancer"].hotkey.ss58_address, generate=choreo, model="choreo")
    both = MinerService(settings=config, chain=chain, hotkey=wallets["both"].hotkey.ss58_address, served={
        "dance": ServedModel("choreo+1", reseeded(choreo, 1)), "gesture": ServedModel("orator", model_generate_fn("orator"))})
    command = [sys.executable, "-m", "a2a_cli", "validate", "--network", "sim", "--netuid", "1", "--wallet", "validator",
               "--hotkey", "hot", "--wallet-path", str(wallet_path), "--state", str(tmp_path / "state.json"), "--timeout", "30",
               "--alpha", "0.5", "--weights-interval", "1", "--interval", "0", "--steps", "2", "--json"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("A2A_")} | {"A2A_GENERAL_DATA_DIR": str(data_dir)}
    with running_miner(dancer) as dancer_url, running_miner(both) as both_url, running_app(veteran_app()) as veteran_url:
        for name, url in (("dancer", dancer_url), ("both", both_url), ("veteran", veteran_url)):
            chain.serve_axon(wallets[name], "127.0.0.1", int(url.rsplit(":", 1)[1]))
        done = subprocess.run(command, env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "synthetic songs and voices" in done.stderr
    steps = [json.loads(line) for line in done.stdout.splitlines()]
    assert [s["step"] for s in steps] == [0, 1]
    for result in steps:
        assert [p["task"] for p in result["prompts"]] == ["dance", "gesture"] and result["notes"] == []
        assert all(p["source"].startswith("synthetic") and 5.0 <= p["duration_s"] <= 15.0 for p in result["prompts"])
        asked = {(a["uid"], a["task"]): a for a in result["answers"]}
        # only dance to the dance-only miners (the veteran would refuse a task field); both tasks to `both`
        assert sorted(asked) == sorted([(uid["dancer"], "dance"), (uid["both"], "dance"), (uid["both"], "gesture"),
                                        (uid["veteran"], "dance")])
        for key_, answer in asked.items():  # every answer judged on merit: dances by the dance judge, gestures by the gesture judge
            assert judged_on_merit(answer["reason"]) and answer["score"] > 0.0, answer
        for name in ("dancer", "both", "veteran"):
            assert asked[(uid[name], "dance")]["score"] > 0.1, asked  # choreo: realism factor ~0.15-0.2 since judge 3.0
        assert asked[(uid["both"], "gesture")]["model"] == "orator" and asked[(uid["both"], "dance")]["model"] == "choreo+1"
        assert asked[(uid["veteran"], "dance")]["model"] == "veteran"

    # the weights: dance's 0.7 split by the dance averages, gesture's 0.3 all to `both` (the only one serving it)
    final = {(a["uid"], a["task"]): a["ema"] for a in steps[-1]["answers"]}
    dance_total = sum(final[(uid[n], "dance")] for n in ("dancer", "both", "veteran"))
    expected = {uid[n]: 0.7 * final[(uid[n], "dance")] / dance_total for n in ("dancer", "veteran")}
    expected[uid["both"]] = 0.7 * final[(uid["both"], "dance")] / dance_total + 0.3
    weights = chain.weights()[uid["validator"]]
    assert weights == pytest.approx(expected, abs=1e-3), (weights, expected)
    assert weights[uid["both"]] > 0.3  # the whole gesture pool is its own, on top of its part of dance's (which varies by prompt)
    saved = ValidatorState.load(tmp_path / "state.json", network="sim", netuid=1, hotkey=wallets["validator"].hotkey.ss58_address)
    assert saved.step == 2 and set(saved.tasks["gesture"]) == {wallets["both"].hotkey.ss58_address}
    assert set(saved.tasks["dance"]) == {wallets[n].hotkey.ss58_address for n in ("dancer", "both", "veteran")}


def test_a_task_whose_prompt_cannot_be_read_is_left_out_of_the_step_alone(tmp_path, fake_miners, monkeypatch):
    def refuse(samples, sr):
        raise InputError("no voice in this audio")

    monkeypatch.setitem(tasks_service.TASK_KINDS, "gesture", dataclasses.replace(tasks_service.TASK_KINDS["gesture"], analyse=refuse))
    ports, health, log = fake_miners
    health[ports[0]] = (200, b'{"tasks": ["dance", "gesture"]}')
    chain, wallet = chain_with_one_miner(tmp_path, ports[0])
    validator = Validator(chain=chain, wallet=wallet, prompts=TwoTasks(), state_path=tmp_path / "state.json",
                          settings=ValidatorSettings(timeout_s=3.0))
    result = asyncio.run(validator.step())
    assert result.notes == ["gesture prompt could not be read: no voice in this audio; its answers were not judged"]
    assert [(a.task, a.reason) for a in result.answers] == [("dance", "HTTP 500")]
    assert validator.state.tasks["gesture"] == {}
    with pytest.raises(InputError, match="no voice"):  # a validator of gesture alone: the step fails as a whole
        only_gesture = ValidatorSettings(timeout_s=3.0, task_shares={"dance": 0.0, "gesture": 1.0})
        asyncio.run(Validator(chain=chain, wallet=wallet, prompts=TwoTasks(), state_path=tmp_path / "g.json",
                              settings=only_gesture).step())


def test_the_validator_judges_a_prompts_answers_as_one_batch_and_isolates_an_answer_that_trips_the_judge(monkeypatch):
    """The answers to one prompt go to the task's judge together (score_motions: the same numbers as
    one at a time); should the batch raise, each answer is judged alone, so only the answer that
    trips the judge scores 0 ("scoring failed") and the others keep their scores."""
    from a2a_cli.audio import analyze
    from a2a_cli.generation import get_generator
    from a2a_cli.scoring import score_motion

    song = analyze(synth_song(120.0, 6.0, SR, seed=4), SR)
    choreo = get_generator("choreo")
    dances = [choreo.generate(song, 6.0, seed) for seed in range(3)]
    pending = [(i, dance, 0.5 + i, f"model-{i}") for i, dance in enumerate(dances)]
    batches = []
    kind = tasks_service.TASK_KINDS["dance"]

    def judge(motions, analysis, reference, latencies):
        batches.append(len(motions))
        if any(m is dances[1] for m in motions):
            raise FloatingPointError("a hostile answer")
        return kind.judge(motions, analysis, reference, latencies)

    monkeypatch.setitem(tasks_service.TASK_KINDS, "dance", dataclasses.replace(kind, judge=judge))
    verdicts = Validator._score("dance", pending[::2], song, None)  # the good answers: one batch
    assert batches == [2]
    for i in (0, 2):
        expected = score_motion(dances[i], song, latency_s=0.5 + i)
        assert verdicts[i].score == pytest.approx(expected.validator_score, abs=1e-12) and verdicts[i].model == f"model-{i}"
    batches.clear()
    verdicts = Validator._score("dance", pending, song, None)
    assert batches == [3, 1, 1, 1]  # the batch failed: each alone
    assert verdicts[1].score == 0.0 and verdicts[1].reason == "scoring failed: FloatingPointError"
    assert verdicts[0].score > 0.0 and verdicts[2].score > 0.0


def test_gesture_prompts_are_long_enough_to_show_timing(tmp_path):
    """A gesture prompt is at least 8 s (tasks_service.TaskKind.min_prompt_s): every synthetic 8-s voice has the
    4 stresses gesture judge 1.1 needs to time gesture (judge 1.0 needed 12 s); dance prompts keep their 5-15 s."""
    from a2a_cli.chain.prompts import SyntheticPrompts
    from a2a_cli.examples import synth_speech

    (tmp_path / SPEECH_FOLDER).mkdir()
    voice = synth_speech(20.0, seed=1)
    sf.write(tmp_path / SPEECH_FOLDER / "talk.wav", voice.samples, voice.sr)
    sf.write(tmp_path / "song.wav", synth_song(120.0, 20.0, SR, seed=1), SR)
    library, synthetic, rng = PromptLibrary(tmp_path), SyntheticPrompts(max_window_s=13.0), random.Random(5)
    gesture = [library.sample(rng, "gesture").duration_s for _ in range(12)]
    dance = [library.sample(rng, "dance").duration_s for _ in range(12)]
    assert min(gesture) >= 8.0 and min(gesture) < 12.0 and max(gesture) <= 15.0 and min(dance) < 8.0 and max(dance) <= 15.0
    assert all(8.0 <= synthetic.sample(rng, "gesture").duration_s <= 13.0 for _ in range(3))
