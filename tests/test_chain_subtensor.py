"""The real-chain adapter over bittensor 11.3's own types: every method of `SubtensorChain`, run on
the SDK's blocking `Subtensor` whose transport alone is in memory (sdk_chain.py), so the metagraph
is the SDK's `Metagraph` of `MetagraphNeuron`s with `Balance`s in the subnet's alpha, and writes
answer the SDK's `ExtrinsicResult`. Then a miner and a validator step on such a chain."""

from __future__ import annotations

import asyncio

import bittensor as bt
import httpx
import pytest
from bittensor.balance import Balance, UnitMismatchError
from bittensor.metagraph import MetagraphNeuron
from bittensor.result import ChainError, ExtrinsicResult, RpcConnectionError

from a2a_cli.chain import RateLimited
from a2a_cli.chain.subtensor_chain import SubtensorChain, balance_amount
from a2a_cli.errors import InputError, WorkError
from sdk_chain import ChainNeuron, MemorySubstrate, SdkSubtensor
from a2a_cli.chain.miner import model_generate_fn
from support.subnet_helpers import (FixedPrompts, judged_on_merit, MinerService, MinerSettings, fast_generate, key, make_wallets, prompt_body, running_miner,
                            signed_headers)

NETUID = 7


@pytest.fixture(autouse=True)
def symbol_cache(tmp_path, monkeypatch):
    """The SDK caches token symbols on connect: in the test's folder, not the user's home."""
    monkeypatch.setenv("BTCLI_TOKEN_SYMBOLS_CACHE", str(tmp_path / "token-symbols.json"))


def sdk_chain(*neurons: ChainNeuron, **chain_state) -> tuple[SubtensorChain, SdkSubtensor]:
    client = SdkSubtensor(MemorySubstrate(netuid=NETUID, neurons=list(neurons), **chain_state))
    return SubtensorChain("test", NETUID, client=client), client


def subnet() -> tuple[SubtensorChain, SdkSubtensor]:
    return sdk_chain(
        ChainNeuron("hot-v", "cold-v", alpha_stake=1000.0, tao_stake=500.0, validator_permit=True, last_update=4960),
        ChainNeuron("hot-m", "cold-m", axon=("203.0.113.7", 8091)),
        ChainNeuron("hot-6", "cold-6", alpha_stake=2.5, axon=("2001:db8::1", 9000)),
    )


def test_the_sdk_gives_stakes_in_alpha_and_tao_of_alpha_raises():
    """What broke mining and validating on bittensor 11: a subnet neuron's stake is alpha."""
    _, client = subnet()
    neuron = client.subnets.metagraph(NETUID, commitments=False).neurons[0]
    assert isinstance(neuron, MetagraphNeuron) and isinstance(neuron.total_stake, Balance)
    assert neuron.total_stake.netuid == NETUID and neuron.tao_stake.netuid == 0
    with pytest.raises(UnitMismatchError):
        neuron.total_stake.tao


def test_metagraph_stakes_are_the_chains_stake_weight_in_alpha():
    """total_stake = alpha + TAO x tao_weight (0.18 here): 1000 + 500 x 0.18 = 1090 alpha."""
    chain, _ = subnet()
    graph = chain.metagraph()
    assert graph.netuid == NETUID and graph.block == 5000
    assert [(n.uid, n.hotkey, n.coldkey, n.stake, n.validator_permit, n.axon_url) for n in graph.neurons] == [
        (0, "hot-v", "cold-v", 1090.0, True, None),
        (1, "hot-m", "cold-m", 0.0, False, "http://203.0.113.7:8091"),
        (2, "hot-6", "cold-6", 2.5, False, "http://[2001:db8::1]:9000"),
    ]


def test_a_missing_subnet_and_a_stake_in_another_currency_are_work_errors():
    chain, client = subnet()
    missing = SubtensorChain("test", NETUID + 1, client=client)
    with pytest.raises(WorkError, match=f"subnet {NETUID + 1} does not exist on test"):
        missing.metagraph()
    assert balance_amount(Balance.from_alpha(3.5, NETUID), NETUID, "x") == 3.5
    assert balance_amount(Balance.from_tao(0.25), 0, "the burn cost") == 0.25
    with pytest.raises(WorkError, match="the stake of uid 0 came back in τ, not subnet 7's alpha"):
        balance_amount(Balance.from_tao(1000), NETUID, "the stake of uid 0")
    with pytest.raises(WorkError, match="the burn cost came back in .*, not TAO"):
        balance_amount(Balance.from_alpha(1, NETUID), 0, "the burn cost")


def test_the_scalar_reads():
    chain, _ = subnet()
    assert chain.uid_of("hot-6") == 2 and chain.uid_of("nobody") is None
    assert chain.is_registered("hot-m") and not chain.is_registered("nobody")
    assert chain.current_block() == 5000
    assert chain.burn_cost() == 0.25  # TAO: the SDK's Balance on netuid 0
    assert chain.weights_rate_limit() == 100
    assert chain.blocks_until_weights_allowed("hot-v") == 60  # last update 40 blocks ago
    assert chain.blocks_until_weights_allowed("hot-m") == 0  # never set: 5000 blocks ago
    with pytest.raises(WorkError, match="hotkey nobody is not registered on netuid 7 \\(test\\)"):
        chain.blocks_until_weights_allowed("nobody")


def test_registration_serving_and_weights_are_the_sdks_intents():
    chain, client = subnet()
    assert chain.burned_register(key("new")) == 3  # the registration appended uid 3 on chain
    assert chain.burned_register(key("new")) == 3  # already registered: nothing more is sent
    chain.serve_axon(key("new"), "93.184.216.34", 8091)
    with pytest.raises(InputError, match="not a public address"):
        chain.serve_axon(key("new"), "169.254.169.254", 8091)
    with pytest.raises(RateLimited, match="wait 60 more"):
        chain.set_weights(key("v"), [1, 2], [1.0, 1.0])
    client.substrate.neurons[0].last_update = 4900
    chain.set_weights(key("v"), [1, 2], [3.0, 1.0], version_key=7)
    (register, _), (serve, _), (weights, wallet) = client.executed
    assert isinstance(register, bt.BurnedRegister) and register.netuid == NETUID
    assert isinstance(serve, bt.ServeAxon) and (serve.ip, serve.port, serve.netuid) == ("93.184.216.34", 8091, NETUID)
    assert isinstance(weights, bt.SetWeights) and weights.uids == [1, 2] and weights.weights == [0.75, 0.25]
    assert weights.version_key == 7 and wallet.hotkey.ss58_address == "hot-v"


def test_a_failed_extrinsic_is_a_work_error_with_the_chains_message():
    chain, client = subnet()
    client.result = ExtrinsicResult(success=False, message="NotEnoughBalanceToStake", error=ChainError("NotEnoughBalanceToStake"))
    with pytest.raises(WorkError, match="^could not register on test: NotEnoughBalanceToStake$"):
        chain.burned_register(key("new"))
    client.execute = lambda intent, wallet, **kwargs: ExtrinsicResult(success=True, message="Success")  # yet no UID shows up
    with pytest.raises(WorkError, match="the registration was accepted but hot-late has no UID"):
        chain.burned_register(key("late"))


@pytest.mark.parametrize("failure", [RpcConnectionError("endpoint unreachable\nretry later"), ConnectionResetError("reset"),
                                     TimeoutError("timed out"), ChainError("StorageDecodeFailed")])
def test_every_sdk_failure_in_every_method_is_one_work_error_line(failure):
    chain, client = subnet()
    client.substrate.fail_with = failure
    client.execute_raises = failure
    first_line = str(failure).splitlines()[0]
    calls = {
        "read the metagraph": chain.metagraph, "look up the hotkey": lambda: chain.uid_of("hot-v"),
        "read the block number": chain.current_block, "read the burn cost": chain.burn_cost,
        "read the weights rate limit": chain.weights_rate_limit,
    }
    for what, call in calls.items():
        with pytest.raises(WorkError) as raised:
            call()
        assert str(raised.value) == f"could not {what} on test (netuid {NETUID}): {first_line}"
    client.substrate.fail_with = None
    for call in (lambda: chain.burned_register(key("new")), lambda: chain.serve_axon(key("m"), "93.184.216.34", 1),
                 lambda: chain._submit_weights(key("v"), [1], [1.0], 0)):
        with pytest.raises(WorkError, match=f": {first_line}$"):
            call()


def test_the_default_client_is_bittensors_own_and_cold():
    chain = SubtensorChain("local", NETUID)
    client = chain.client
    assert isinstance(client, bt.Subtensor) and client.endpoint == "ws://127.0.0.1:9944"
    assert "cold" in repr(client)  # nothing connected yet


# --- a miner and a validator step on a chain made of MetagraphNeurons ---------------------------


def test_a_miner_and_a_validator_step_on_the_sdks_metagraph(tmp_path):
    """Stakes are alpha + TAO x tao_weight: a validator with 10 alpha and 1000 TAO staked (190) is
    let in by a miner asking 100; one with 50 alpha and nothing else is refused, in alpha."""
    from a2a_cli.chain.validator import Validator, ValidatorSettings

    validator, poor, miner = make_wallets(tmp_path / "wallets", "validator", "poor", "miner")
    chain_neurons = [ChainNeuron(validator.hotkey.ss58_address, validator.coldkeypub.ss58_address, alpha_stake=10.0,
                                 tao_stake=1000.0, validator_permit=True),
                     ChainNeuron(poor.hotkey.ss58_address, poor.coldkeypub.ss58_address, alpha_stake=50.0),
                     ChainNeuron(miner.hotkey.ss58_address, miner.coldkeypub.ss58_address)]
    chain, client = sdk_chain(*chain_neurons)
    chain.network = "local"  # a subtensor node on this machine: miners on loopback are called
    service = MinerService(settings=MinerSettings(min_stake=100.0, metagraph_ttl_s=0.0), chain=chain,
                           hotkey=miner.hotkey.ss58_address, generate=model_generate_fn("choreo"), model="choreo")
    with running_miner(service) as url:
        client.substrate.neurons[2].axon = ("127.0.0.1", int(url.rsplit(":", 1)[1]))
        step = Validator(chain=chain, wallet=validator, prompts=FixedPrompts(), state_path=tmp_path / "state.json",
                         settings=ValidatorSettings(timeout_s=20.0), seed_source=lambda: 1)  # one prompt seed: no luck either way
        result = asyncio.run(step.step())
        body = b'{"protocol": "a2a/2"}'
        refused = httpx.post(url + "/v1/generate", content=body, headers=signed_headers(poor, body, miner.hotkey.ss58_address))
    (answer,) = result.answers
    # an honest choreo answer is judged on its merits and earns something
    assert answer.uid == 2 and answer.score > 0.1 and judged_on_merit(answer.reason), answer
    assert answer.model == "choreo" and answer.latency_s is not None
    assert refused.status_code == 403 and "below this miner's minimum of 100 alpha" in refused.json()["detail"]
    (weights, _), = client.executed  # the step set weights through the SDK's SetWeights
    assert isinstance(weights, bt.SetWeights) and weights.uids == [2] and weights.weights == [1.0]


def test_an_unreachable_chain_fails_validator_steps_and_the_loop_goes_on(tmp_path):
    from a2a_cli.chain.validator import Validator

    chain, client = subnet()
    client.substrate.fail_with = RpcConnectionError("endpoint unreachable")
    results, errors = [], []
    validator = Validator(chain=chain, wallet=key("v"), prompts=FixedPrompts(), state_path=tmp_path / "state.json")
    validator.run(steps=3, on_step=results.append, on_error=errors.append)
    assert results == [] and [str(e) for e in errors] == ["could not read the metagraph on test (netuid 7): endpoint unreachable"] * 3
    assert not (tmp_path / "state.json").exists()  # a failed step leaves the state as it was


def test_a_miner_whose_chain_is_unreachable_answers_503_then_serves_when_it_is_back(tmp_path):
    validator, miner = make_wallets(tmp_path / "wallets", "validator", "miner")
    chain, client = sdk_chain(ChainNeuron(validator.hotkey.ss58_address, "cold-v", alpha_stake=500.0, validator_permit=True),
                              ChainNeuron(miner.hotkey.ss58_address, "cold-m"))
    client.substrate.fail_with = RpcConnectionError("endpoint unreachable")
    service = MinerService(settings=MinerSettings(min_stake=100.0, metagraph_ttl_s=0.0), chain=chain,
                           hotkey=miner.hotkey.ss58_address, generate=fast_generate, model="fast")

    def post() -> httpx.Response:
        body = prompt_body(1.0)
        return httpx.post(url + "/v1/generate", content=body, headers=signed_headers(validator, body, miner.hotkey.ss58_address))

    with running_miner(service) as url:
        down = post()
        client.substrate.fail_with = None
        up = post()
    assert down.status_code == 503 and down.json()["detail"] == "miner cannot read the chain yet"
    assert up.status_code == 200, up.text


def test_an_unknown_network_name_is_one_work_error_line():
    with pytest.raises(WorkError, match=r"^could not connect on finnney \(netuid 7\): Unknown network 'finnney'"):
        SubtensorChain("finnney", NETUID).metagraph()


@pytest.mark.parametrize("axon, ip, port", [
    ("203.0.113.7:8091", "203.0.113.7", 8091), ("[2001:db8::1]:9000", "2001:db8::1", 9000), (None, None, None),
    ("0.0.0.0:8091", None, None), ("[::]:8091", None, None), ("203.0.113.7:0", None, None), ("203.0.113.7:http", None, None),
])
def test_served_axons_are_split_and_unusable_ones_dropped(axon, ip, port):
    from a2a_cli.chain.subtensor_chain import _split_axon

    assert _split_axon(axon) == {"axon_ip": ip, "axon_port": port}
