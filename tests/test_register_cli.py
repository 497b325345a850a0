"""`a2a register --network sim` end to end in a real process: confirmation, --yes, already registered."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from a2a_cli.chain.local_chain import LocalChain
from support.subnet_helpers import make_wallets


@pytest.fixture
def env(tmp_path):
    make_wallets(tmp_path / "wallets", "alice", "bob")
    environment = {**os.environ, "A2A_GENERAL_DATA_DIR": str(tmp_path / "data"), "A2A_CHAIN_NETWORK": "sim",
                   "A2A_CHAIN_NETUID": "4", "A2A_CHAIN_WALLET_PATH": str(tmp_path / "wallets"), "A2A_CHAIN_WALLET_HOTKEY": "hot",
                   "COLUMNS": "200"}
    environment.pop("A2A_CONFIG", None)
    environment.pop("A2A_PROFILE", None)
    return environment


def chain(env) -> LocalChain:
    return LocalChain(os.path.join(env["A2A_GENERAL_DATA_DIR"], "sim-chain", "4.json"), netuid=4)


def a2a(env, *args, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "a2a_cli", "register", *args], input=stdin, capture_output=True,
                          text=True, timeout=60, env=env, cwd=env["A2A_GENERAL_DATA_DIR"].rsplit("/", 1)[0])


def test_register_shows_the_facts_asks_and_prints_the_uid(env):
    result = a2a(env, "--wallet", "alice", stdin="y\n")
    assert result.returncode == 0, result.stderr
    hotkey = chain(env).metagraph().neurons[0].hotkey
    for fact in ("sim", "4", "alice / hot", hotkey, "1 TAO", "Burn 1 TAO to register"):
        assert fact in result.stderr
    assert result.stdout.strip() == f"registered {hotkey} on netuid 4: UID 0"


def test_answering_no_registers_nothing(env):
    result = a2a(env, "--wallet", "alice", stdin="n\n")
    assert result.returncode == 1 and "not registered" in result.stderr
    assert len(chain(env).metagraph()) == 0


def test_without_a_terminal_or_yes_it_refuses(env):
    result = a2a(env, "--wallet", "alice", stdin="")
    assert result.returncode == 2
    assert "no confirmation could be read; pass --yes" in result.stderr and "Traceback" not in result.stderr
    assert len(chain(env).metagraph()) == 0


def test_yes_registers_without_asking_and_a_second_run_reports_the_uid(env):
    first = a2a(env, "--wallet", "alice", "--yes")
    second = a2a(env, "--wallet", "bob", "--yes", "--json")
    again = a2a(env, "--wallet", "alice", stdin="")  # no question: nothing would be spent
    assert first.returncode == 0 and "Burn" not in first.stderr
    facts = json.loads(second.stdout)
    assert facts["uid"] == 1 and facts["already_registered"] is False and facts["burn_cost_tao"] == 1.0
    assert again.returncode == 0, again.stderr
    assert "already registered on netuid 4: UID 0" in again.stdout
    graph = chain(env).metagraph()
    assert len(graph) == 2 and json.loads((chain(env).path).read_text())["burned_tao"] == 2.0


def test_stake_for_development_on_the_sim_chain(env):
    result = a2a(env, "--wallet", "alice", "--yes", "--stake", "250", "--json")
    assert result.returncode == 0, result.stderr
    neuron = chain(env).metagraph().by_hotkey(json.loads(result.stdout)["hotkey"])
    assert neuron.stake == 250.0 and neuron.validator_permit


def test_stake_is_refused_on_a_real_network_before_anything_connects(env):
    result = a2a(env, "--wallet", "alice", "--yes", "--stake", "5", "--network", "finney")
    assert result.returncode == 2 and "--stake only works on the sim chain" in result.stderr


def test_a_missing_wallet_is_a_clear_error(env):
    result = a2a(env, "--wallet", "carol", "--yes")
    assert result.returncode == 2
    assert "no hotkey 'hot' in wallet 'carol'" in result.stderr and "Traceback" not in result.stderr
