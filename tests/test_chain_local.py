"""The sim chain (registration, stake, permits, axons, blocks, weights, several writers at once),
weight normalisation, which addresses may be advertised, and which network names open which chain.
The real chain's adapter is tested over the SDK's own types in test_chain_subtensor.py."""

from __future__ import annotations

import json
import math
import multiprocessing
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from a2a_cli.chain import RateLimited, normalize_weights, open_chain
from a2a_cli.chain.chain import check_axon_address, is_public_address
from a2a_cli.chain.local_chain import LocalChain, sim_chain_path
from a2a_cli.chain.subtensor_chain import SubtensorChain
from a2a_cli.errors import InputError, WorkError
from support.subnet_helpers import Clock, key


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def chain(tmp_path, clock):
    return LocalChain(tmp_path / "1.json", netuid=1, clock=clock, block_seconds=12.0, burn_tao=0.5, weights_rate_limit=3)


def test_registration_gives_sequential_uids_once_per_hotkey(chain):
    assert chain.burned_register(key("a")) == 0
    assert chain.burned_register(key("b")) == 1
    assert chain.burned_register(key("a")) == 0  # never twice
    graph = chain.metagraph()
    assert [(n.uid, n.hotkey, n.coldkey) for n in graph.neurons] == [(0, "hot-a", "cold-a"), (1, "hot-b", "cold-b")]
    assert chain.is_registered("hot-b") and not chain.is_registered("hot-c")
    assert chain.uid_of("hot-b") == 1 and chain.uid_of("hot-c") is None
    assert chain.burn_cost() == 0.5
    assert json.loads(chain.path.read_text())["burned_tao"] == 1.0  # two registrations, not three


def test_nothing_is_written_until_something_changes(chain):
    assert chain.metagraph().neurons == () and chain.current_block() == 0
    assert not chain.path.exists()


def test_stake_decides_validator_permits(tmp_path, clock):
    chain = LocalChain(tmp_path / "c.json", clock=clock, max_validators=2)
    for name in "abcd":
        chain.burned_register(key(name))
    for name, stake in zip("abcd", (5.0, 50.0, 0.0, 20.0)):
        chain.set_stake(f"hot-{name}", stake)
    graph = chain.metagraph()
    assert {n.hotkey: n.stake for n in graph.neurons} == {"hot-a": 5.0, "hot-b": 50.0, "hot-c": 0.0, "hot-d": 20.0}
    assert [n.hotkey for n in graph.neurons if n.validator_permit] == ["hot-b", "hot-d"]
    with pytest.raises(InputError, match="non-negative"):
        chain.set_stake("hot-a", -1)
    with pytest.raises(WorkError, match="not registered"):
        chain.set_stake("hot-zzz", 1)


def test_serve_axon_is_advertised_in_the_metagraph(chain):
    chain.burned_register(key("m"))
    assert chain.metagraph().by_hotkey("hot-m").axon_url is None
    chain.serve_axon(key("m"), "127.0.0.1", 8091)
    assert chain.metagraph().by_hotkey("hot-m").axon_url == "http://127.0.0.1:8091"
    chain.serve_axon(key("m"), "::1", 9000)
    assert chain.metagraph().by_hotkey("hot-m").axon_url == "http://[::1]:9000"
    with pytest.raises(InputError, match="cannot be advertised"):
        chain.serve_axon(key("m"), "0.0.0.0", 8091)
    with pytest.raises(InputError, match="not an IP address"):
        chain.serve_axon(key("m"), "miner.example", 8091)
    with pytest.raises(WorkError, match="a2a register --network sim"):
        chain.serve_axon(key("stranger"), "127.0.0.1", 8091)


NOT_PUBLIC = ["127.0.0.1", "::1", "10.0.0.5", "192.168.1.2", "169.254.169.254", "fe80::1", "::ffff:127.0.0.1", "224.0.0.1",
              # IPv6 forms that reach a private or link-local IPv4 address: NAT64 (64:ff9b::/96) and 6to4 (2002::/16)
              "64:ff9b::a9fe:a9fe", "64:ff9b::7f00:1", "64:ff9b::a00:5", "2002:a9fe:a9fe::1", "2002:7f00:1::", "2002:c0a8:102::5"]


@pytest.mark.parametrize("ip", NOT_PUBLIC)
def test_off_this_machines_chains_only_public_addresses_can_be_advertised(ip):
    for network in ("sim", "local", "ws://127.0.0.1:9944"):  # the whole subnet lives on this machine: they are kept
        check_axon_address(ip, 8091, network)
    for network in ("finney", "ws://node.example:9944"):
        with pytest.raises(InputError, match=f"not a public address and validators on {network} will not call it"):
            check_axon_address(ip, 8091, network)


@pytest.mark.parametrize("ip", NOT_PUBLIC)
def test_is_public_address_refuses_every_non_public_form(ip):
    assert not is_public_address(ip)


@pytest.mark.parametrize("ip", ["8.8.8.8", "2001:4860:4860::8888", "64:ff9b::808:808", "2002:808:808::1", "::ffff:8.8.8.8"])
def test_is_public_address_accepts_public_addresses_in_every_form(ip):
    assert is_public_address(ip)


def test_a_public_address_can_be_advertised_anywhere():
    for network in ("sim", "local", "finney", "ws://node:9944"):
        check_axon_address("8.8.8.8", 8091, network)
        check_axon_address("2001:4860:4860::8888", 8091, network)


def test_blocks_advance_with_wall_time(chain, clock):
    chain.burned_register(key("a"))  # creates the file: genesis now
    assert chain.current_block() == 0
    clock.t += 12 * 5 + 1
    assert chain.current_block() == 5
    chain.configure(block_seconds=1.0)  # the block number carries on at the new pace
    assert chain.current_block() == 5
    clock.t += 3.5
    assert chain.current_block() == 8


@pytest.mark.parametrize("seconds", [0, 0.0, -1.0, float("nan"), float("inf"), "12", True])
def test_the_block_clock_must_advance(tmp_path, chain, seconds):
    with pytest.raises(InputError, match="block_seconds must be a positive number of seconds"):
        LocalChain(tmp_path / "other.json", block_seconds=seconds)
    chain.burned_register(key("a"))
    with pytest.raises(InputError, match="block_seconds must be a positive number of seconds"):
        chain.configure(block_seconds=seconds)
    assert chain.current_block() == 0  # the file kept its clock


def test_writes_killed_before_their_rename_are_cleared_by_the_next_writer_under_the_lock(chain):
    chain.burned_register(key("a"))
    leftover = chain.path.with_name(f".{chain.path.name}.k1ll3d.part{chain.path.suffix}")
    leftover.write_text("{half")
    chain.metagraph()  # a reader holds no lock: it leaves it alone (it might be a write in flight)
    assert leftover.exists()
    chain.set_stake("hot-a", 5.0)
    assert not leftover.exists() and chain.metagraph().by_hotkey("hot-a").stake == 5.0


def test_weights_are_normalised_rate_limited_and_need_a_permit(chain, clock):
    for name in ("v", "m1", "m2", "poor"):
        chain.burned_register(key(name))
    chain.set_stake("hot-v", 100.0)
    chain.set_weights(key("v"), [1, 2], [3.0, 1.0])
    assert chain.weights() == {0: {1: 0.75, 2: 0.25}}
    assert chain.blocks_until_weights_allowed("hot-v") == 3
    with pytest.raises(RateLimited, match="wait 3 more block") as raised:
        chain.set_weights(key("v"), [1], [1.0])
    assert raised.value.blocks_left == 3
    clock.t += 12 * 3
    assert chain.blocks_until_weights_allowed("hot-v") == 0
    chain.set_weights(key("v"), [1, 2, 3], [0.0, 2.0, 2.0])
    assert chain.weights() == {0: {2: 0.5, 3: 0.5}}
    with pytest.raises(WorkError, match="no validator permit"):
        chain.set_weights(key("poor"), [1], [1.0])


def test_a_full_subnet_gives_the_lowest_stake_uid_to_the_newcomer(tmp_path, clock):
    chain = LocalChain(tmp_path / "c.json", clock=clock, max_uids=3, weights_rate_limit=0, immunity_period=2)
    for name in "abc":
        chain.burned_register(key(name))
    chain.set_stake("hot-a", 10.0)
    chain.set_stake("hot-c", 5.0)
    chain.set_weights(key("a"), [1], [1.0])
    chain.set_weights(key("c"), [0], [1.0])
    clock.t += 12 * 3  # a, b, c are past their immunity
    assert chain.burned_register(key("d")) == 1  # b has the least stake
    assert chain.burned_register(key("e")) == 2  # d is immune, so c (5 TAO) goes, not d (0 TAO)
    graph = chain.metagraph()
    assert sorted(graph.hotkeys) == ["hot-a", "hot-d", "hot-e"]
    assert 2 not in chain.weights()  # the weights of the UID's previous owner are gone


def test_a_corrupt_state_file_is_a_clear_error(tmp_path):
    path = tmp_path / "1.json"
    path.write_text("{ half a file")
    with pytest.raises(WorkError, match="is corrupt .* delete it"):
        LocalChain(path).metagraph()


def test_sim_chain_path_and_open_chain(tmp_path):
    assert sim_chain_path(tmp_path, 7) == tmp_path / "sim-chain" / "7.json"
    chain = open_chain("sim", 7, data_dir=tmp_path)
    assert isinstance(chain, LocalChain) and chain.path == tmp_path / "sim-chain" / "7.json"
    assert isinstance(open_chain("test", 7), SubtensorChain)  # cold: nothing connects until used
    local = open_chain("local", 7, data_dir=tmp_path)  # bittensor's local: a subtensor node on this machine
    assert isinstance(local, SubtensorChain) and local.network == "local"


def test_chain_from_settings_gives_the_local_chain_its_block_time(tmp_path, monkeypatch):
    from a2a_cli.chain.networks import chain_from_settings
    from a2a_cli.config import load_settings

    monkeypatch.chdir(tmp_path)  # no ./a2a.toml of the developer's
    monkeypatch.setenv("A2A_CHAIN_SIM_BLOCK_SECONDS", "0.25")
    settings = load_settings(flags={"chain.network": "sim", "chain.netuid": 3, "general.data_dir": str(tmp_path)})
    chain = chain_from_settings(settings)
    assert isinstance(chain, LocalChain) and chain.path == tmp_path / "sim-chain" / "3.json"
    chain.burned_register(key("a"))  # the first write fixes the chain's parameters in its file
    assert json.loads(chain.path.read_text())["block_seconds"] == 0.25
    monkeypatch.setenv("A2A_CHAIN_SIM_BLOCK_SECONDS", "60")
    assert chain_from_settings(load_settings(flags={"chain.network": "test"})).network == "test"  # only the sim chain has one


def _register_many(path: str, worker: int, count: int) -> None:
    chain = LocalChain(Path(path), block_seconds=0.001)
    for i in range(count):
        chain.burned_register(key(f"{worker}-{i}"))
        chain.set_stake(f"hot-{worker}-{i}", float(worker * 100 + i))


def test_several_processes_writing_at_once_lose_nothing(tmp_path):
    path = tmp_path / "shared.json"
    workers, count = 4, 15
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_register_many, args=(str(path), w, count)) for w in range(workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    graph = LocalChain(path).metagraph()
    assert sorted(n.uid for n in graph.neurons) == list(range(workers * count))
    assert {n.hotkey: n.stake for n in graph.neurons} == {
        f"hot-{w}-{i}": float(w * 100 + i) for w in range(workers) for i in range(count)}
    assert not list(tmp_path.glob("*.part*"))  # no temporary file left behind


@given(st.lists(st.tuples(st.integers(0, 65535), st.floats(0, 1e6)), min_size=1, max_size=50, unique_by=lambda t: t[0]))
def test_normalised_weights_sum_to_one_and_keep_proportions(pairs):
    uids, weights = [u for u, _ in pairs], [w for _, w in pairs]
    if sum(weights) <= 0:
        with pytest.raises(InputError, match="all zero"):
            normalize_weights(uids, weights)
        return
    out_uids, out = normalize_weights(uids, weights)
    assert math.isclose(sum(out), 1.0, rel_tol=1e-9)
    assert all(w > 0 for w in out)
    total = sum(weights)
    assert out_uids == [u for u, w in pairs if w / total > 0]  # shares that underflow to 0 are dropped too
    for u, w in zip(out_uids, out):
        assert math.isclose(w, dict(pairs)[u] / total, rel_tol=1e-9)


@pytest.mark.parametrize("uids, weights, message", [
    ([1, 2], [1.0], "2 uids but 1 weights"),
    ([1, 1], [1.0, 1.0], "only once"),
    ([1], [-1.0], "non-negative"),
    ([1], [float("nan")], "finite"),
    ([70000], [1.0], "0..65535"),
])
def test_unusable_weights_are_refused(uids, weights, message):
    with pytest.raises(InputError, match=message):
        normalize_weights(uids, weights)
