"""The validator's parts without miners on the network: moving averages and their resets, weights
(normalisation, cadence, dry run), the state file, the judge's copy and replay policy, prompts."""

from __future__ import annotations

import asyncio
import json
import os
import random
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st

from a2a_cli.audio import analyze, decode
from a2a_cli.chain import protocol
from a2a_cli.chain.local_chain import LocalChain
from a2a_cli.chain.prompts import ChallengeEndpoint, PromptLibrary
from a2a_cli.chain.state import ValidatorState, validator_state_path
from a2a_cli.chain.validator import Reply, Validator, ValidatorSettings, response_cap
from a2a_cli.errors import InputError, WorkError
from a2a_cli.examples import synth_song
from a2a_cli.motion import Motion
from a2a_cli.motion.formats import save_motion
from support.dances import beat_frames_of, plausible_dance, static_pose
from support.subnet_helpers import SR, Clock, FixedPrompts, QuietHandler, http_server, judged_on_merit, key, make_wallets

def subnet(tmp_path: Path, clock: Clock, miners: str = "abc", **params) -> LocalChain:
    chain = LocalChain(tmp_path / "chain.json", netuid=1, clock=clock, block_seconds=1.0, **params)
    chain.burned_register(key("v"))
    chain.set_stake("hot-v", 1000.0)
    for name in miners:
        chain.burned_register(key(name))
    return chain


def make_validator(tmp_path: Path, chain: LocalChain, **settings) -> Validator:
    return Validator(chain=chain, wallet=key("v"), prompts=FixedPrompts(), state_path=tmp_path / "state.json",
                     settings=ValidatorSettings(**settings))


# --- moving averages ---------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(scores=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=30), alpha=st.floats(0.01, 1.0))
def test_moving_average_is_the_exponentially_weighted_sum_from_zero(scores, alpha):
    state = ValidatorState("sim", 1, "hot-v")
    for s in scores:
        record = state.record_score(3, "hot-m", s, alpha)
    n = len(scores)
    expected = sum(alpha * (1 - alpha) ** (n - 1 - i) * s for i, s in enumerate(scores))
    assert record.ema == pytest.approx(expected, abs=1e-12)
    assert 0.0 <= record.ema <= max(scores) + 1e-12
    assert record.queries == n and record.last_score == scores[-1]


def test_scores_outside_zero_one_are_clamped_and_nan_counts_as_zero():
    state = ValidatorState("sim", 1, "hot-v")
    assert state.record_score(0, "a", 7.0, 0.5).ema == 0.5
    assert state.record_score(0, "a", float("nan"), 0.5).ema == 0.25
    assert state.record_score(0, "a", -3.0, 0.5).ema == 0.125
    with pytest.raises(InputError, match="alpha"):
        state.record_score(0, "a", 0.5, 0.0)


def test_average_resets_when_a_uid_changes_hands(tmp_path):
    clock = Clock()
    chain = subnet(tmp_path, clock, miners="ab", max_uids=3, immunity_period=2)
    state = ValidatorState("sim", 1, "hot-v")
    state.record_score(1, "hot-a", 0.8, 0.5)
    state.record_score(2, "hot-b", 0.6, 0.5)
    assert state.sync(chain.metagraph()) == []  # nothing changed: both averages kept
    clock.t += 10.0  # past the immunity period
    chain.set_stake("hot-b", 5.0)
    assert chain.burned_register(key("c")) == 1  # full subnet: the lowest stake (a, uid 1) is replaced by c
    dropped = state.sync(chain.metagraph())
    assert [(r.uid, r.hotkey, r.ema) for r in dropped] == [(1, "hot-a", 0.4)]
    assert set(state.tasks["dance"]) == {"hot-b"}
    assert state.record_score(1, "hot-c", 1.0, 0.5).ema == 0.5  # the newcomer starts from 0, not from a's 0.4


def test_a_hotkey_seen_at_another_uid_starts_again():
    state = ValidatorState("sim", 1, "hot-v")
    state.record_score(4, "hot-a", 1.0, 0.5)
    assert state.record_score(7, "hot-a", 1.0, 0.5).ema == 0.5  # registered again elsewhere: a new record


# --- weights -----------------------------------------------------------------------------------


def test_weights_are_the_averages_normalised_and_skip_zero(tmp_path):
    clock = Clock()
    chain = subnet(tmp_path, clock)
    validator = make_validator(tmp_path, chain, weights_interval_blocks=1)
    for uid, name, score in ((1, "a", 0.6), (2, "b", 0.2), (3, "c", 0.0)):
        validator.state.record_score(uid, f"hot-{name}", score, 1.0)
    weights, note = validator.maybe_set_weights(chain.metagraph())
    assert weights == pytest.approx({1: 0.75, 2: 0.25}) and "weights set" in note
    assert chain.weights()[0] == pytest.approx({1: 0.75, 2: 0.25})  # uid 3 (average 0) gets nothing


def test_weights_follow_the_cadence_and_the_chain_rate_limit(tmp_path):
    clock = Clock()
    chain = subnet(tmp_path, clock, weights_rate_limit=8)
    validator = make_validator(tmp_path, chain, weights_interval_blocks=5)
    assert validator.maybe_set_weights(chain.metagraph()) == (None, "no miner has a positive average yet")
    validator.state.record_score(1, "hot-a", 0.5, 1.0)
    first = chain.current_block()
    weights, _ = validator.maybe_set_weights(chain.metagraph())
    assert weights == {1: 1.0} and validator.state.last_weights_block == first
    clock.t += 4.0  # 4 blocks: the validator's own cadence says wait
    assert validator.maybe_set_weights(chain.metagraph()) == (None, "next weights in 1 block(s)")
    clock.t += 2.0  # 6 blocks: due by our cadence, but the chain wants 8; refused without a crash
    weights, note = validator.maybe_set_weights(chain.metagraph())
    assert weights is None and note.startswith("chain rate limit") and validator.state.last_weights_block == first
    clock.t += 2.0
    assert validator.maybe_set_weights(chain.metagraph())[0] == {1: 1.0}
    assert validator.state.last_weights_block == first + 8


def test_a_chain_failing_at_weight_time_costs_the_weights_not_the_step(tmp_path):
    chain = subnet(tmp_path, Clock())
    validator = make_validator(tmp_path, chain)
    metagraph = chain.metagraph()
    validator.state.record_score(1, "hot-a", 0.5, 1.0)
    chain.path.write_text("{ half a file")  # the chain cannot be read any more: current_block fails
    weights, note = validator.maybe_set_weights(metagraph)
    assert weights is None and note.startswith("weights not set: ") and "corrupt" in note
    assert validator.state.last_weights_block is None


def test_dry_run_never_sets_weights(tmp_path):
    clock = Clock()
    chain = subnet(tmp_path, clock)
    validator = make_validator(tmp_path, chain, weights_interval_blocks=1, dry_run=True)
    validator.state.record_score(1, "hot-a", 0.9, 1.0)
    for _ in range(5):
        clock.t += 3.0
        weights, note = validator.maybe_set_weights(chain.metagraph())
        assert weights == {1: 1.0} and note.startswith("dry run")
    assert chain.weights() == {} and validator.state.last_weights_block is None


def test_a_step_with_no_miners_saves_state_and_sets_nothing(tmp_path):
    clock = Clock()
    chain = subnet(tmp_path, clock, miners="")
    validator = make_validator(tmp_path, chain, weights_interval_blocks=1)
    results = []
    validator.run(steps=2, on_step=results.append, on_error=pytest.fail)
    assert [r.step for r in results] == [0, 1] and all(r.answers == [] for r in results)
    assert ValidatorState.load(tmp_path / "state.json", network="sim", netuid=1, hotkey="hot-v").step == 2
    assert chain.weights() == {}


@pytest.fixture
def counting_server():
    """An HTTP server on 127.0.0.1 that answers every POST with 500 and counts them."""
    hits = []

    class Handler(QuietHandler):
        def do_POST(self):
            hits.append(self.path)
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()

    with http_server(Handler) as server:
        yield server.server_address[1], hits


def test_off_the_local_chain_miners_advertising_non_public_addresses_are_not_called(tmp_path, counting_server):
    port, hits = counting_server
    (wallet,) = make_wallets(tmp_path / "wallets", "signer")  # real keys: the prompt is signed before any call
    chain = subnet(tmp_path, Clock())
    for name, ip in (("a", "127.0.0.1"), ("b", "169.254.169.254"), ("c", "10.0.0.5")):
        chain.serve_axon(key(name), ip, port)

    def step(network: str) -> list:
        chain.network = network
        validator = Validator(chain=chain, wallet=wallet, prompts=FixedPrompts(), state_path=tmp_path / f"{network}.json",
                              settings=ValidatorSettings(timeout_s=2.0))
        return asyncio.run(validator.step()).answers

    answers = step("finney")  # the same neurons, seen as on a public network
    assert [(a.uid, a.score) for a in answers] == [(1, 0.0), (2, 0.0), (3, 0.0)]
    assert [a.reason.split(",")[0] for a in answers] == ["advertises 127.0.0.1", "advertises 169.254.169.254",
                                                         "advertises 10.0.0.5"]
    assert all(a.reason.endswith("not a public address; not called") for a in answers) and hits == []
    reasons = {a.uid: a.reason for a in step("sim")}  # the sim subnet lives on loopback: a is called
    assert reasons[1] == "HTTP 500" and hits == [protocol.GENERATE_PATH]
    reasons = {a.uid: a.reason for a in step("local")}  # and so does a subtensor node on this machine
    assert reasons[1] == "HTTP 500" and hits == [protocol.GENERATE_PATH] * 2


# --- the state file ----------------------------------------------------------------------------


def test_state_round_trips_and_refuses_another_validators_file(tmp_path):
    path = tmp_path / "s.json"
    state = ValidatorState("sim", 1, "hot-v", step=7, last_weights_block=42)
    state.record_score(2, "hot-b", 0.3, 0.5, reason="ok", latency_s=0.25)
    state.save(path)
    again = ValidatorState.load(path, network="sim", netuid=1, hotkey="hot-v")
    assert again == state
    with pytest.raises(InputError, match="belongs to hotkey hot-v on sim netuid 1"):
        ValidatorState.load(path, network="sim", netuid=2, hotkey="hot-v")
    assert ValidatorState.load(tmp_path / "none.json", network="sim", netuid=1, hotkey="hot-v").step == 0


def test_a_validator_continues_from_the_state_saved_before_it_took_the_lock(tmp_path):
    chain = subnet(tmp_path, Clock(), miners="")
    early = make_validator(tmp_path, chain)  # reads the file (step 0) now, runs later
    make_validator(tmp_path, chain).run(steps=2, on_error=pytest.fail)
    results = []
    early.run(steps=1, on_step=results.append, on_error=pytest.fail)
    assert [r.step for r in results] == [2]
    assert ValidatorState.load(tmp_path / "state.json", network="sim", netuid=1, hotkey="hot-v").step == 3


@pytest.mark.parametrize("text, message", [
    ('{"version": 1, "network": "sim"', "corrupt"),
    ('{"version": 9}', "unknown format"),
    ('{"version": 1, "network": "sim", "netuid": 1, "hotkey": "h", "step": 0, "last_weights_block": null, '
     '"miners": [{"uid": 1, "hotkey": "a", "ema": 5.0}]}', "out of"),
    ('{"version": 1, "network": "sim", "netuid": 1, "hotkey": "h", "step": 0, "last_weights_block": null, '
     '"miners": [{"uid": 1, "hotkey": "a", "stolen": 1}]}', "malformed"),
    *(('{"version": 1, "network": "sim", "netuid": 1, "hotkey": "h", "step": 0, "last_weights_block": %s, '
       '"miners": []}' % block, f"last_weights_block {shown} is not a block number")
      for block, shown in (('"12"', "'12'"), ("1.5", "1.5"), ("true", "True"), ("-3", "-3"), ("[1]", r"\[1\]"))),
])
def test_a_damaged_state_file_is_a_clear_error(tmp_path, text, message):
    path = tmp_path / "s.json"
    path.write_text(text)
    with pytest.raises(WorkError, match=message):
        ValidatorState.load(path, network="sim", netuid=1, hotkey="h")


def test_validator_settings_defaults_are_the_config_schemas(tmp_path, monkeypatch):
    """One home for each default: every field that is a `validator.*` setting defaults to the schema's,
    and `from_settings` reads exactly those."""
    from dataclasses import fields

    from a2a_cli.config import SCHEMA, load_settings

    for name in [n for n in os.environ if n.startswith("A2A_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no ./a2a.toml of the developer's
    shared = [f.name for f in fields(ValidatorSettings) if f.name in SCHEMA["validator"]]
    assert shared == ["sample_size", "timeout_s", "alpha", "weights_interval_blocks", "dry_run"]
    assert {name: getattr(ValidatorSettings(), name) for name in shared} == {name: SCHEMA["validator"][name].default for name in shared}
    assert ValidatorSettings.from_settings(load_settings()) == ValidatorSettings()
    monkeypatch.setenv("A2A_VALIDATOR_SAMPLE_SIZE", "3")
    monkeypatch.setenv("A2A_VALIDATOR_DRY_RUN", "1")
    configured = ValidatorSettings.from_settings(load_settings())
    assert (configured.sample_size, configured.dry_run, configured.alpha) == (3, True, SCHEMA["validator"]["alpha"].default)


def test_validator_state_path_is_file_safe(tmp_path):
    path = validator_state_path(tmp_path, "ws://127.0.0.1:9944", 25, "5Hot")
    assert path.parent == tmp_path / "validator" and path.name == "ws___127.0.0.1_9944-25-5Hot.json"


# --- the judge ---------------------------------------------------------------------------------


# Above this, the fixture's dance was judged on merit: it scores ~0.13, being procedural (realism
# factor ~0.2 since judge 3.0); a copy or a repeat scores 0.
ON_MERIT = 0.1


@pytest.fixture(scope="module")
def song():
    duration = 6.0
    samples = synth_song(120.0, duration, sr=SR, seed=1)
    request = protocol.GenerateRequest(prompt_id="p", audio=protocol.encode_wav(samples, SR), duration_s=duration, seed=1)
    dance = plausible_dance(beat_frames_of(120.0, duration), request.expected_frames, seed=2)
    return request, analyze(samples, SR), dance


def body_of(motion: Motion, model: str = "m") -> bytes:
    payload = protocol.encode_motion_payload(motion)
    return protocol.GenerateResponse(motion=payload, model=model, generation_s=0.1).model_dump_json().encode()


def reply(uid: int, body: bytes | None, arrived: float, error: str | None = None) -> Reply:
    neuron = SimpleNamespace(uid=uid, hotkey=f"hot-{uid}")
    return Reply(neuron, body, error, 0.5, arrived)


def moved_and_turned(motion: Motion, seed: int = 0) -> Motion:
    """The same dance 2 m away, facing 90 degrees further, with 2 mm of noise: still a copy."""
    from a2a_cli.motion.rotations import axis_angle_to_matrix, matrix_to_axis_angle

    turn = axis_angle_to_matrix(np.array([0.0, np.pi / 2, 0.0]))
    poses = motion.poses.copy()
    poses[:, 0] = matrix_to_axis_angle(turn @ axis_angle_to_matrix(poses[:, 0]))
    trans = motion.trans @ turn.T + np.array([2.0, 0.0, -1.0])
    noise = np.random.default_rng(seed).normal(0, 0.002, poses.shape)
    return Motion(poses=(poses + noise).astype(np.float32), trans=trans.astype(np.float32), fps=motion.fps)


def test_the_earliest_of_identical_answers_keeps_the_credit(tmp_path, song):
    request, analysis, dance = song
    validator = make_validator(tmp_path, subnet(tmp_path, Clock()))
    replies = [reply(2, body_of(moved_and_turned(dance)), arrived=2.0), reply(1, body_of(dance), arrived=1.0),
               reply(3, body_of(dance), arrived=3.0)]
    verdicts = validator.judge(request, analysis, None, replies)
    assert verdicts[1].score > ON_MERIT and judged_on_merit(verdicts[1].reason)
    assert (verdicts[0].score, verdicts[0].reason) == (0.0, "copy of uid 1's answer")
    assert (verdicts[2].score, verdicts[2].reason) == (0.0, "copy of uid 1's answer")


def test_a_delayed_and_mirrored_copy_of_an_earlier_answer_scores_zero(tmp_path, song):
    """Issue 18: the same dance held back 30 frames and mirrored left for right escaped the fixed-instant
    fingerprint and scored as much as its source; a different dance to the same prompt keeps its score."""
    request, analysis, dance = song
    swap = [0, 2, 1, 3, 5, 4, 6, 8, 7, 9, 11, 10, 12, 14, 13, 15, 17, 16, 19, 18, 21, 20, 23, 22]
    held = np.concatenate([np.repeat(dance.poses[:1], 30, 0), dance.poses[:-30]])[:, swap] * np.array([1, -1, -1], np.float32)
    trans = np.concatenate([np.repeat(dance.trans[:1], 30, 0), dance.trans[:-30]]) * np.array([-1, 1, 1], np.float32)
    copy = Motion(poses=held, trans=trans, fps=30)
    other = plausible_dance(beat_frames_of(120.0, 6.0), request.expected_frames, seed=9)
    validator = make_validator(tmp_path, subnet(tmp_path, Clock()))
    verdicts = validator.judge(request, analysis, None, [reply(1, body_of(dance), 1.0), reply(2, body_of(copy), 2.0),
                                                         reply(3, body_of(other), 3.0)])
    assert verdicts[0].score > 0.1 and verdicts[2].score > 0.1  # procedural dances: realism factor ~0.2 since judge 3.0
    assert (verdicts[1].score, verdicts[1].reason) == (0.0, "copy of uid 1's answer")


def test_a_copy_that_arrives_first_takes_the_credit_from_its_source(tmp_path, song):
    request, analysis, dance = song
    validator = make_validator(tmp_path, subnet(tmp_path, Clock()))
    verdicts = validator.judge(request, analysis, None, [reply(1, body_of(dance), 2.0), reply(2, body_of(dance), 1.0)])
    assert verdicts[1].score > ON_MERIT and verdicts[0].reason == "copy of uid 2's answer"


def test_an_answer_repeated_from_an_earlier_prompt_scores_zero(tmp_path, song):
    request, analysis, dance = song
    validator = make_validator(tmp_path, subnet(tmp_path, Clock()))
    assert validator.judge(request, analysis, None, [reply(1, body_of(dance), 1.0)])[0].score > ON_MERIT
    other = plausible_dance(beat_frames_of(120.0, 6.0), request.expected_frames, seed=9)
    later = validator.judge(request, analysis, None, [reply(1, body_of(dance), 1.0), reply(2, body_of(other), 1.5)])
    assert (later[0].score, later[0].reason) == (0.0, "repeats an answer to an earlier prompt")
    assert later[1].score > ON_MERIT  # a different dance to the same prompt is not a repeat


@settings(max_examples=40, deadline=None)
@given(sigmas=st.lists(st.floats(0.0, 0.05), min_size=0, max_size=12), seed=st.integers(0, 2**16))
def test_replay_search_finds_the_first_answer_within_tolerance(sigmas, seed):
    from a2a_cli.chain.validator import _first_within
    from a2a_cli.scoring import fingerprint_distance

    rng = np.random.default_rng(seed)
    fingerprint = rng.normal(0, 0.3, (64, 24, 3)).astype(np.float32)
    others = np.stack([fingerprint + rng.normal(0, s, fingerprint.shape) for s in sigmas]).astype(np.float32) if sigmas \
        else np.empty((0, 64, 24, 3), np.float32)
    expected = next((i for i, o in enumerate(others) if fingerprint_distance(fingerprint, o) < 0.03), None)
    assert _first_within(fingerprint, others, 0.03) == expected


def test_replay_search_finds_a_copy_whose_changes_sit_where_the_coarse_pass_looks():
    from a2a_cli.chain.validator import _first_within
    from a2a_cli.scoring import fingerprint_distance

    fingerprint = np.random.default_rng(0).normal(0, 0.3, (64, 24, 3)).astype(np.float32)
    copy = fingerprint.copy()
    copy[::4, ::3, 0] += 0.12  # every change on the instants and joints the coarse pass samples
    assert fingerprint_distance(fingerprint, copy) < 0.03  # a copy by the full measure
    assert _first_within(copy, fingerprint[None], 0.03) == 0


def test_broken_answers_score_zero_with_their_reason(tmp_path, song):
    request, analysis, dance = song
    validator = make_validator(tmp_path, subnet(tmp_path, Clock()))
    short = Motion(poses=dance.poses[:-3], trans=dance.trans[:-3], fps=30)
    nan = Motion(poses=np.full_like(dance.poses, np.nan), trans=dance.trans, fps=30)
    replies = [reply(1, b"{not json", 1.0), reply(2, body_of(short), 1.0), reply(3, None, 1.0, error="HTTP 500"),
               reply(4, body_of(static_pose(request.expected_frames)), 1.0), reply(5, b"x" * (response_cap(6.0) + 1), 1.0),
               reply(6, body_of(dance).replace(b'"model":"m"', b'"model":"m","extra":1'), 1.0), reply(7, body_of(nan), 1.0)]
    verdicts = validator.judge(request, analysis, None, replies)
    assert all(v.score == 0.0 for v in verdicts)
    reasons = [v.reason for v in verdicts]
    assert reasons[0].startswith("invalid: response is not a valid a2a/2 answer")
    assert "177 frames; 180 expected" in reasons[1]
    assert reasons[2] == "HTTP 500"
    assert reasons[3].startswith("gate moves failed")  # a static pose: the report says which gate
    assert "exceeds the" in reasons[4]
    assert "extra" in reasons[5]
    assert reasons[6].startswith("invalid: motion does not decode") or "finite" in reasons[6]


def test_a_miners_text_reaches_the_operators_terminal_without_control_characters(tmp_path, song):
    request, analysis, dance = song
    validator = make_validator(tmp_path, subnet(tmp_path, Clock()))
    escape_code = "\x1b]0;pwned\x07\x1b[2J"
    named = body_of(dance, model=f"m{escape_code}")
    extra = body_of(dance).replace(b'"model":"m"', b'"model":"m","\\u001b[2J\\u009b":1')
    verdicts = validator.judge(request, analysis, None, [reply(1, named, 1.0), reply(2, extra, 2.0)])
    assert judged_on_merit(verdicts[0].reason) and verdicts[0].model.startswith("m")
    assert "extra" in verdicts[1].reason.lower() or "invalid" in verdicts[1].reason
    shown = verdicts[0].model + verdicts[1].reason
    assert not [c for c in shown if not c.isprintable()], repr(shown)


# --- prompts -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    folder = tmp_path_factory.mktemp("library")
    sf.write(folder / "song.wav", synth_song(110.0, 20.0, sr=22050, seed=4), 22050)
    n = 20 * 30
    poses = np.zeros((n, 24, 3), np.float32)
    poses[:, 0, 0] = np.arange(n) / 1000.0  # each frame says its own index
    save_motion(Motion(poses=poses, trans=np.zeros((n, 3), np.float32)), folder / "song.npz")
    sf.write(folder / "short.flac", synth_song(90.0, 3.0, sr=22050, seed=5), 22050)
    return folder


def test_library_prompts_are_random_windows_with_their_reference_slice(library):
    prompts = PromptLibrary(library)
    assert len(prompts) == 2
    seen = set()
    for seed in range(12):
        prompt = prompts.sample(random.Random(seed))
        frames = round(prompt.duration_s * 30)
        assert prompt.duration_s == frames / 30 and prompt.sr == SR and prompt.samples.size == frames * 512
        assert len(prompt.prompt_id) == 16 and "song" not in prompt.prompt_id
        if prompt.source.startswith("short"):
            assert prompt.reference is None and prompt.duration_s == 3.0  # the whole of a short file
            continue
        assert 5.0 <= prompt.duration_s <= 15.0
        start = int(round(prompt.reference.poses[0, 0, 0] * 1000))
        assert np.allclose(prompt.reference.poses[:, 0, 0] * 1000, np.arange(start, start + frames), atol=1e-3)
        whole, _ = decode(library / "song.wav")
        cut = whole[start * 512 : (start + frames) * 512]
        assert np.allclose(prompt.samples[2048:-2048], cut[2048:-2048], atol=1e-5)  # audio and dance agree (resampler edges aside)
        seen.add(prompt.source)
    assert len(seen) >= 3
    again = prompts.sample(random.Random(5)), prompts.sample(random.Random(5))
    assert again[0].source == again[1].source and again[0].prompt_id == again[1].prompt_id


def test_library_refuses_a_reference_dance_that_is_not_30_fps(tmp_path):
    sf.write(tmp_path / "song.wav", synth_song(110.0, 6.0, sr=22050, seed=4), 22050)
    n = 12 * 60
    dance = Motion(poses=np.zeros((n, 24, 3), np.float32), trans=np.zeros((n, 3), np.float32), fps=60)
    save_motion(dance, tmp_path / "song.npz")
    with pytest.raises(InputError, match=r"^prompt library reference song.npz is at 60 fps; references must be 30 fps$"):
        PromptLibrary(tmp_path)
    save_motion(Motion(poses=dance.poses[::2], trans=dance.trans[::2], fps=30), tmp_path / "song.npz")
    assert PromptLibrary(tmp_path).sample(random.Random(1)).reference.fps == 30


def test_library_refuses_what_it_cannot_use(tmp_path):
    with pytest.raises(InputError, match="not a folder"):
        PromptLibrary(tmp_path / "missing")
    with pytest.raises(InputError, match="holds no audio"):
        PromptLibrary(tmp_path)
    (tmp_path / "bad.wav").write_bytes(b"RIFF nonsense")
    with pytest.raises(InputError, match="bad.wav cannot be read"):
        PromptLibrary(tmp_path)


class _ChallengeServer(QuietHandler):
    answer: tuple[int, bytes] = (200, b"")
    extra_headers: dict[str, str] = {}
    asked_encodings: list[str | None] = []

    def do_GET(self):  # noqa: N802 (the http.server API)
        self.asked_encodings.append(self.headers.get("accept-encoding"))
        status, body = self.answer
        self.send_response(status)
        for name, value in self.extra_headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def challenge_server():
    with http_server(_ChallengeServer) as server:
        yield server, f"http://127.0.0.1:{server.server_address[1]}/challenge"


def test_challenge_endpoint_prompts(challenge_server):
    server, url = challenge_server
    audio = protocol.encode_wav(synth_song(120.0, 5.0, sr=SR, seed=6), SR)
    _ChallengeServer.answer = (200, json.dumps({"audio": audio.model_dump(), "duration_s": 4.5}).encode())
    prompt = ChallengeEndpoint(url).sample(random.Random(0))
    assert prompt.duration_s == 4.5 and prompt.samples.size == 135 * 512 and prompt.reference is None
    _ChallengeServer.answer = (200, json.dumps({"audio": audio.model_dump()}).encode())
    assert ChallengeEndpoint(url).sample(random.Random(0)).duration_s == 5.0  # no duration: the whole clip
    _ChallengeServer.answer = (503, b"busy")
    with pytest.raises(WorkError, match="HTTP 503"):
        ChallengeEndpoint(url).sample(random.Random(0))
    _ChallengeServer.answer = (200, b'{"audio": 1}')
    with pytest.raises(WorkError, match="invalid challenge"):
        ChallengeEndpoint(url).sample(random.Random(0))
    _ChallengeServer.answer = (200, b"x" * 5000)
    with pytest.raises(WorkError, match="over the 4096-byte limit"):
        ChallengeEndpoint(url, max_bytes=4096).sample(random.Random(0))
    with pytest.raises(InputError, match="http"):
        ChallengeEndpoint("ftp://example.org/c")


def test_a_challenge_endpoint_answering_compressed_content_is_refused(challenge_server, monkeypatch):
    import gzip

    server, url = challenge_server
    audio = protocol.encode_wav(synth_song(120.0, 5.0, sr=SR, seed=6), SR)
    monkeypatch.setattr(_ChallengeServer, "extra_headers", {"content-encoding": "gzip"})
    monkeypatch.setattr(_ChallengeServer, "asked_encodings", [])
    _ChallengeServer.answer = (200, gzip.compress(json.dumps({"audio": audio.model_dump()}).encode()))
    with pytest.raises(WorkError, match="^challenge endpoint answered compressed content; only identity is accepted$"):
        ChallengeEndpoint(url).sample(random.Random(0))
    assert _ChallengeServer.asked_encodings == ["identity"]


# --- the command -------------------------------------------------------------------------------


def run_cli(monkeypatch, capsys, tmp_path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    from a2a_cli.cli.app import main

    for name in [n for n in os.environ if n.startswith("A2A_")]:
        monkeypatch.delenv(name)
    for name, value in {"A2A_GENERAL_DATA_DIR": str(tmp_path / "data"), **(env or {})}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(["validate", "--network", "sim", "--netuid", "1", "--wallet-path", str(tmp_path / "w"), *args])
    return exit_info.value.code, capsys.readouterr().err


def test_validate_command_refuses_bad_setups_in_one_line(monkeypatch, capsys, tmp_path, library):
    from a2a_cli.chain.auth import create_wallet

    code, err = run_cli(monkeypatch, capsys, tmp_path, "--network", "test")  # off this machine: no synthetic prompts
    assert code == 2 and "no prompts: pass --library FOLDER or --challenge-url URL" in err
    code, err = run_cli(monkeypatch, capsys, tmp_path, "--library", str(library), "--challenge-url", "http://127.0.0.1:1/c")
    assert code == 2 and "either --library or --challenge-url" in err
    code, err = run_cli(monkeypatch, capsys, tmp_path, "--library", str(tmp_path / "nope"))
    assert code == 2 and "is not a folder" in err
    create_wallet("default", "default", tmp_path / "w")
    code, err = run_cli(monkeypatch, capsys, tmp_path, "--library", str(library))
    assert code == 1 and "is not registered on netuid 1 (sim)" in err and "a2a register" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) <= 3  # one message (wrapped at most)


def test_validate_command_names_its_own_flags_and_refuses_a_state_folder(monkeypatch, capsys, tmp_path, library):
    from a2a_cli.chain.auth import create_wallet

    code, err = run_cli(monkeypatch, capsys, tmp_path, "--library", str(library), "--timeout", "-1")
    assert code == 2 and "from --timeout\n" in err and "--timeout-s" not in err, err
    code, err = run_cli(monkeypatch, capsys, tmp_path, "--library", str(library), "--weights-interval", "0")
    assert code == 2 and "from --weights-interval\n" in err and "--weights-interval-blocks" not in err, err
    LocalChain(tmp_path / "data" / "sim-chain" / "1.json").burned_register(create_wallet("default", "default", tmp_path / "w"))
    code, err = run_cli(monkeypatch, capsys, tmp_path, "--library", str(library), "--state", str(tmp_path))
    assert code == 2 and f"validator state {tmp_path} is a folder" in err and "Traceback" not in err, err


def test_validate_takes_the_configured_challenge_url_unless_given_a_library(monkeypatch, capsys, tmp_path, library):
    env = {"A2A_VALIDATOR_CHALLENGE_URL": "ftp://challenges.example/next"}
    code, err = run_cli(monkeypatch, capsys, tmp_path, env=env)
    assert code == 2 and "challenge endpoint must be an http:// or https:// URL, got 'ftp://" in err
    code, err = run_cli(monkeypatch, capsys, tmp_path, "--library", str(tmp_path / "nope"), env=env)
    assert code == 2 and "is not a folder" in err  # the --library flag beats the configured endpoint


def test_a_symlinked_state_file_is_the_same_file_and_keeps_its_link(tmp_path):
    """Issue 18, break 7: a second validator given a symlink to the first one's state took a lock of
    its own and its saves replaced the link with a file. Locks and saves follow the link now."""
    from a2a_cli.chain.state import exclusive_state

    real = tmp_path / "real" / "state.json"
    real.parent.mkdir()
    ValidatorState("sim", 1, "hot-v", step=3).save(real)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    with exclusive_state(real):
        with pytest.raises(WorkError, match="another validator is already running"):
            with exclusive_state(link):
                pass
    ValidatorState("sim", 1, "hot-v", step=4).save(link)
    assert link.is_symlink() and ValidatorState.load(real, network="sim", netuid=1, hotkey="hot-v").step == 4
    validator = make_validator(tmp_path, subnet(tmp_path, Clock()))
    assert Validator(chain=validator.chain, wallet=validator.wallet, prompts=validator.prompts, state_path=link).state_path == real


def test_one_validator_per_state_file_and_killed_saves_leave_no_litter(tmp_path):
    from a2a_cli.chain.state import exclusive_state

    path = tmp_path / "state.json"
    with exclusive_state(path):
        with pytest.raises(WorkError, match="another validator is already running"):
            with exclusive_state(path):
                pass
    with exclusive_state(path):  # released on exit
        pass
    ValidatorState("sim", 1, "hot-v", step=3).save(path)
    litter = tmp_path / ".state.json.abc123.part.json"  # what a save killed before its rename leaves
    litter.write_text('{"version": 1, "net')
    with exclusive_state(path):
        assert not litter.exists() and path.exists()
        # a save in flight in the validator that holds the file is not another process's to remove
        in_flight = tmp_path / ".state.json.def456.part.json"
        in_flight.write_text('{"version": 1, "net')
        assert ValidatorState.load(path, network="sim", netuid=1, hotkey="hot-v").step == 3
        with pytest.raises(WorkError, match="another validator is already running"):
            with exclusive_state(path):
                pass
        assert in_flight.exists()


def test_honest_gesture_answers_to_one_voice_are_judged_on_merit_not_called_copies(tmp_path):
    """Standing speakers at rest look alike to the dance copy detector (it called 11 of 24 honest orator
    answers to one voice, different seeds, copies), so gesture answers are compared by the gesture
    profile (the arms where a hand moves): each honest one is judged on merit, an answer meant for
    another voice is worth nothing by the judge's timing, and a moved, turned, noised copy of an answer is a copy."""
    from a2a_cli.audio.speech import analyze_speech
    from a2a_cli.examples import synth_speech
    from a2a_cli.generation import get_generator

    voice, other = synth_speech(12.0, 2), synth_speech(12.0, 1)  # voice 2: the copy detector called 4 of 6 honest answers copies
    request = protocol.GenerateRequest(task="gesture", prompt_id="g", audio=protocol.encode_wav(voice.samples, voice.sr),
                                       duration_s=12.0, seed=1)
    speech, elsewhere = analyze_speech(voice.samples, voice.sr), analyze_speech(other.samples, other.sr)
    orator = get_generator("orator")
    answers = [orator.generate(speech, 12.0, seed) for seed in range(4)] + [orator.generate(elsewhere, 12.0, 0)]
    answers.append(moved_and_turned(answers[1]))  # a colluder's copy of uid 2's answer, moved, turned and noised
    validator = make_validator(tmp_path, subnet(tmp_path, Clock()))
    verdicts = validator.judge(request, speech, None, [reply(i + 1, body_of(m), float(i)) for i, m in enumerate(answers)])
    assert all(v.score >= 0.8 and judged_on_merit(v.reason) for v in verdicts[:4]), verdicts
    assert verdicts[4].score < 0.2 and "timing" in verdicts[4].reason
    assert verdicts[5].score == 0.0 and verdicts[5].reason == "copy of uid 2's answer", verdicts[5]
    assert len(validator._recent) == 0  # the dance replay history (whole-body fingerprints) keeps no speaker
