"""A real `bittensor.Subtensor` over an in-memory chain, for tests of the real-chain adapter.

Only the transport is fake: `MemorySubstrate` implements the read half of bittensor's `Substrate`
contract (storage items and the `get_metagraph` runtime call, answered from Python values as the
RPC decoder would give them). Everything above it is the installed SDK: its read registry, the
metagraph builder (`MetagraphNeuron`, `Balance` tagged with the subnet's netuid), the namespaces
and the blocking facade. Writes go through `SdkSubtensor.execute`, which records the SDK intent
it is given and answers the SDK's own `ExtrinsicResult`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import bittensor as bt
from bittensor.balance import Balance
from bittensor.result import ExtrinsicResult

RAO = 10**9


@dataclass
class ChainNeuron:
    """One neuron as the chain stores it; stakes in alpha (the subnet's) and TAO, as floats."""

    hotkey: str
    coldkey: str
    alpha_stake: float = 0.0
    tao_stake: float = 0.0
    validator_permit: bool = False
    axon: tuple[str, int] | None = None  # (ip, port) served, None when nothing is
    last_update: int = 0


@dataclass
class MemorySubstrate:
    """The chain state the SDK reads: block, burn, rate limit, TAO weight and the neurons of one subnet."""

    netuid: int
    neurons: list[ChainNeuron]
    block: int = 5000
    burn_rao: int = RAO // 4
    weights_rate_limit: int = 100
    tao_weight: float = 0.18  # the chain's TaoWeight: how much a TAO stake counts beside alpha
    fail_with: Exception | None = None  # raised by every read, as a broken connection would
    token_symbols: dict[int, str] = field(default_factory=dict)

    def balance(self, rao: int, netuid: int = 0) -> Balance:
        return Balance.from_rao(rao, netuid, self.token_symbols.get(netuid))

    async def connect(self) -> None:
        pass

    async def close(self) -> None:
        pass

    def _check(self) -> None:
        if self.fail_with is not None:
            raise self.fail_with

    async def block_hash(self, block: int | None = None) -> str:
        self._check()
        return f"0x{block or self.block:064x}"

    async def block_number(self) -> int:
        self._check()
        return self.block

    async def query(self, module: str, name: str, params: list | None = None, *, block_hash: str | None = None) -> Any:
        self._check()
        params = params or []
        if name == "Burn":
            return self.burn_rao
        if name == "WeightsSetRateLimit":
            return self.weights_rate_limit
        if name == "Uids":
            netuid, hotkey = params
            if netuid != self.netuid:
                return None
            return next((uid for uid, n in enumerate(self.neurons) if n.hotkey == hotkey), None)
        if name == "LastUpdate":
            return [n.last_update for n in self.neurons] if params == [self.netuid] else []
        raise AssertionError(f"the adapter read {module}.{name}, which this chain does not model")

    async def query_map(self, module: str, name: str, params: list | None = None, *, block_hash: str | None = None) -> list:
        self._check()
        return []  # token symbols (read on connect): none registered

    async def runtime_call(self, api: str, method: str, params: list, *, block_hash: str | None = None) -> Any:
        self._check()
        assert method == "get_metagraph", method
        if params != [self.netuid]:
            return None
        return self.metagraph_record()

    def metagraph_record(self) -> dict:
        """The decoded `SubnetInfoRuntimeApi.get_metagraph` record, as the chain computes it: the
        stake weight (`total_stake`) is alpha + TAO x tao_weight, in alpha rao."""
        n = self.neurons
        return {
            "netuid": self.netuid, "name": "a2a", "symbol": "", "block": self.block, "tempo": 360, "last_step": self.block - 10,
            "blocks_since_last_step": 10, "owner_hotkey": n[0].hotkey if n else "", "owner_coldkey": n[0].coldkey if n else "",
            "network_registered_at": 1, "num_uids": len(n), "max_uids": 256, "tao_in": 1000 * RAO, "alpha_in": 4000 * RAO,
            "hotkeys": [x.hotkey for x in n], "coldkeys": [x.coldkey for x in n], "active": [True] * len(n),
            "validator_permit": [x.validator_permit for x in n], "last_update": [x.last_update for x in n],
            "block_at_registration": [1] * len(n),
            "alpha_stake": [round(x.alpha_stake * RAO) for x in n], "tao_stake": [round(x.tao_stake * RAO) for x in n],
            "total_stake": [round((x.alpha_stake + x.tao_stake * self.tao_weight) * RAO) for x in n],
            "axons": [{"ip": _ip_number(x.axon[0]), "port": x.axon[1], "ip_type": 6 if ":" in x.axon[0] else 4}
                      if x.axon else {"ip": 0, "port": 0, "ip_type": 4} for x in n],
        }


def _ip_number(ip: str) -> int:
    import ipaddress

    return int(ipaddress.ip_address(ip))


class SdkSubtensor(bt.Subtensor):
    """The SDK's own blocking `Subtensor` on a `MemorySubstrate`; `execute` records each intent and
    answers `result` (an `ExtrinsicResult`), or raises `execute_raises`."""

    def __init__(self, substrate: MemorySubstrate):
        super().__init__("local", substrate=substrate)
        self.substrate = substrate
        self.executed: list[Any] = []
        self.result = ExtrinsicResult(success=True, message="Success", block_hash="0x01")
        self.execute_raises: Exception | None = None

    def execute(self, intent: Any, wallet: Any, **kwargs: Any) -> ExtrinsicResult:
        self.executed.append((intent, wallet))
        if self.execute_raises is not None:
            raise self.execute_raises
        if self.result.success and isinstance(intent, bt.BurnedRegister):
            self.substrate.neurons.append(ChainNeuron(hotkey=wallet.hotkey.ss58_address, coldkey=wallet.coldkeypub.ss58_address))
        return self.result
