"""The real chain, over bittensor 11's `Subtensor` (blocking mode), imported on first use.

Mapping to the SDK (bittensor 11.3): metagraph -> `subnets.metagraph(netuid, commitments=False)`;
UID -> `neurons.uid(hotkey, netuid)`; burn cost -> `subnets.burn(netuid)`; block -> `.block`;
rate limit -> `hyperparameters.weights_rate_limit(netuid)` and `epochs.blocks_since_last_update`;
registration, serving and weights are the intents `BurnedRegister`, `ServeAxon` and `SetWeights`
run with `execute(intent, wallet)` (SetWeights itself clips, u16-quantises and picks plaintext or
commit-reveal).

Units (dynamic TAO): every amount the SDK gives is a `Balance` tagged with its currency, and
`.tao` of a subnet's alpha raises `UnitMismatchError`. A neuron's stake is read from the
metagraph's `total_stake`: the stake weight the chain itself computes for validator permits
(the hotkey's alpha stake plus its TAO stake times the chain's TAO weight), in the subnet's alpha.
`balance_amount` is the one place where a Balance becomes a float, checking its currency. Every
SDK call, and every conversion of what it returns, runs inside `_call`: any failure there is one
WorkError line, never an SDK exception reaching the miner or the validator loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from a2a_cli.chain.chain import Chain, Metagraph, Neuron, check_axon_address
from a2a_cli.errors import WorkError

__all__ = ["TAO_NETUID", "SubtensorChain", "balance_amount"]

TAO_NETUID = 0  # a Balance's netuid names its currency: 0 is TAO, any other the alpha of that subnet


def balance_amount(balance: Any, netuid: int, what: str) -> float:
    """The float amount of an SDK `Balance` (`balance`) that must be in subnet `netuid`'s currency (TAO for 0).

    `what` names the amount in the error. A Balance in another currency is refused (WorkError)
    rather than mixed up: an alpha amount is not a TAO amount.
    """
    unit = getattr(balance, "netuid", None)
    if unit != netuid:
        expected = "TAO" if netuid == TAO_NETUID else f"subnet {netuid}'s alpha"
        raise WorkError(f"{what} came back in {getattr(balance, 'unit', unit)!s}, not {expected}")
    return float(balance.amount)


class SubtensorChain(Chain):
    """A subnet on a real chain (finney, test, a local subtensor node), through the bittensor SDK."""

    def __init__(self, network: str, netuid: int, *, client: Any = None):
        """network: a bittensor network name (finney, test, local) or a ws:// / wss:// URL.
        netuid: the subnet, 0..65535. client: a ready `bittensor.Subtensor` (any object with its
        namespaces); by default one for `network` is made (cold: it connects on the first call)."""
        self.network = network
        self.netuid = int(netuid)
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            import bittensor as bt

            self._client = self._call("connect", lambda _: bt.Subtensor(self.network), connect=False)
        return self._client

    def metagraph(self) -> Metagraph:
        return self._call("read the metagraph", self._read_metagraph)

    def _read_metagraph(self, client: Any) -> Metagraph:
        graph = client.subnets.metagraph(self.netuid, commitments=False)
        if graph is None:
            raise WorkError(f"subnet {self.netuid} does not exist on {self.network}")
        neurons = tuple(
            Neuron(uid=int(n.uid), hotkey=n.hotkey, coldkey=n.coldkey,
                   stake=balance_amount(n.total_stake, self.netuid, f"the stake of uid {n.uid}"),
                   validator_permit=bool(n.validator_permit), **_split_axon(n.axon))
            for n in graph.neurons
        )
        return Metagraph(netuid=self.netuid, block=int(graph.block), neurons=neurons)

    def uid_of(self, hotkey: str) -> int | None:
        uid = self._call("look up the hotkey", lambda c: c.neurons.uid(hotkey, self.netuid))
        return None if uid is None else int(uid)

    def current_block(self) -> int:
        return self._call("read the block number", lambda c: int(c.block))

    def burn_cost(self) -> float:
        return self._call("read the burn cost", lambda c: balance_amount(c.subnets.burn(self.netuid), TAO_NETUID, "the burn cost"))

    def weights_rate_limit(self) -> int:
        return self._call("read the weights rate limit", lambda c: int(c.hyperparameters.weights_rate_limit(self.netuid)))

    def blocks_until_weights_allowed(self, hotkey: str) -> int:
        uid = self.uid_of(hotkey)
        if uid is None:
            raise WorkError(f"hotkey {hotkey} is not registered on netuid {self.netuid} ({self.network})")
        since = self._call("read the last weights update", lambda c: c.epochs.blocks_since_last_update(self.netuid, uid))
        if since is None:
            return 0
        return max(0, self.weights_rate_limit() - int(since))

    def burned_register(self, wallet: Any) -> int:
        import bittensor as bt

        hotkey = wallet.hotkey.ss58_address
        uid = self.uid_of(hotkey)
        if uid is not None:
            return uid
        self._execute("register", bt.BurnedRegister(netuid=self.netuid), wallet)
        uid = self.uid_of(hotkey)
        if uid is None:
            raise WorkError(f"the registration was accepted but {hotkey} has no UID on netuid {self.netuid} yet; check again shortly")
        return uid

    def serve_axon(self, wallet: Any, ip: str, port: int) -> None:
        import bittensor as bt

        check_axon_address(ip, port, self.network)
        self._execute("serve the axon", bt.ServeAxon(netuid=self.netuid, ip=str(ip), port=int(port)), wallet)

    def _submit_weights(self, wallet: Any, uids: list[int], weights: list[float], version_key: int) -> None:
        import bittensor as bt

        intent = bt.SetWeights(netuid=self.netuid, uids=uids, weights=weights, version_key=version_key)
        self._execute("set weights", intent, wallet)

    def _execute(self, what: str, intent: Any, wallet: Any) -> None:
        """Run one intent; an `ExtrinsicResult` that did not succeed is a WorkError with its message."""
        result = self._call(what, lambda c: c.execute(intent, wallet))
        if not getattr(result, "success", False):
            raise WorkError(f"could not {what} on {self.network}: {getattr(result, 'message', None) or 'the extrinsic failed'}")

    def _call(self, what: str, fn: Callable[[Any], Any], *, connect: bool = True) -> Any:
        """`fn(client)`, with any SDK, transport or decoding failure turned into one WorkError line."""
        try:
            return fn(self.client if connect else None)
        except WorkError:
            raise
        except Exception as e:  # bittensor's own hierarchy, UnitMismatchError, OSError/TimeoutError from the transport
            message = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise WorkError(f"could not {what} on {self.network} (netuid {self.netuid}): {message}") from None


def _split_axon(axon: str | None) -> dict[str, Any]:
    """The SDK gives "ip:port" (or "[v6]:port"), None when nothing is served."""
    if not axon:
        return {"axon_ip": None, "axon_port": None}
    host, _, port = axon.rpartition(":")
    try:
        port_number = int(port)
    except ValueError:
        return {"axon_ip": None, "axon_port": None}
    host = host.strip("[]")
    if not host or host in ("0.0.0.0", "::") or port_number == 0:
        return {"axon_ip": None, "axon_port": None}
    return {"axon_ip": host, "axon_port": port_number}
