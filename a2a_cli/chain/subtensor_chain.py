"""The real chain, over bittensor 11's `Subtensor` (blocking mode), imported on first use.

Mapping to the SDK (bittensor 11.3): metagraph -> `subnets.metagraph(netuid, commitments=False)`;
UID -> `neurons.uid(hotkey, netuid)`; burn cost -> `subnets.burn(netuid)`; block -> `.block`;
rate limit -> `hyperparameters.weights_rate_limit(netuid)` and `epochs.blocks_since_last_update`;
registration, serving and weights are the intents `BurnedRegister`, `ServeAxon` and `SetWeights`
run with `execute(intent, wallet)` (SetWeights itself clips, u16-quantises and picks plaintext or
commit-reveal). Every SDK failure becomes a one-line WorkError.
"""

from __future__ import annotations

from typing import Any

from a2a_cli.chain.chain import Chain, Metagraph, Neuron, check_axon_address
from a2a_cli.errors import WorkError


class SubtensorChain(Chain):
    def __init__(self, network: str, netuid: int, *, client: Any = None):
        """`client` is a ready `bittensor.Subtensor`-like object; by default one for `network` is
        made (cold: it connects on the first call)."""
        self.network = network
        self.netuid = int(netuid)
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            import bittensor as bt

            self._client = bt.Subtensor(self.network)
        return self._client

    def metagraph(self) -> Metagraph:
        graph = self._call("read the metagraph", lambda c: c.subnets.metagraph(self.netuid, commitments=False))
        if graph is None:
            raise WorkError(f"subnet {self.netuid} does not exist on {self.network}")
        neurons = tuple(
            Neuron(uid=int(n.uid), hotkey=n.hotkey, coldkey=n.coldkey, stake=float(n.total_stake.tao),
                   validator_permit=bool(n.validator_permit), **_split_axon(n.axon))
            for n in graph.neurons
        )
        return Metagraph(netuid=self.netuid, block=int(graph.block), neurons=neurons)

    def uid_of(self, hotkey: str) -> int | None:
        uid = self._call("look up the hotkey", lambda c: c.neurons.uid(hotkey, self.netuid))
        return None if uid is None else int(uid)

    def current_block(self) -> int:
        return int(self._call("read the block number", lambda c: c.block))

    def burn_cost(self) -> float:
        return float(self._call("read the burn cost", lambda c: c.subnets.burn(self.netuid)).tao)

    def weights_rate_limit(self) -> int:
        return int(self._call("read the weights rate limit", lambda c: c.hyperparameters.weights_rate_limit(self.netuid)))

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
        result = self._call(what, lambda c: c.execute(intent, wallet))
        if not getattr(result, "success", False):
            raise WorkError(f"could not {what} on {self.network}: {getattr(result, 'message', None) or 'the extrinsic failed'}")

    def _call(self, what: str, fn: Any) -> Any:
        """Run one SDK call; any SDK or connection failure becomes one WorkError line."""
        try:
            return fn(self.client)
        except WorkError:
            raise
        except Exception as e:  # bittensor raises its own hierarchy plus OSError/TimeoutError from the transport
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
