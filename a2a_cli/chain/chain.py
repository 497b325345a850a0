"""The one small interface through which the subnet code touches a chain (DESIGN §7).

Two implementations: `SubtensorChain` (the real chain, over bittensor 11) and `LocalChain` (a
file-backed chain on this machine, for development, the local simulation and the tests). Miner,
validator and `a2a register` only ever see `Chain`, so everything above this line runs the same on
both. Wallets are `bittensor.Wallet` objects (or anything with `.hotkey.ss58_address` and
`.coldkeypub.ss58_address`). Costs are in TAO; a neuron's stake is in the subnet's own currency
(its alpha under dynamic TAO; TAO on the root subnet 0), as the chain weighs it for validator permits.

Networks: `sim` is the offline file chain (`LocalChain`); every other name goes to bittensor, where
`local` means a subtensor node on this machine (ws://127.0.0.1:9944), as bittensor users expect.
"""

from __future__ import annotations

import ipaddress
import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from a2a_cli.errors import InputError, WorkError

__all__ = ["LOCAL_NETWORK", "SIM_NETWORK", "Chain", "Metagraph", "Neuron", "RateLimited", "check_axon_address",
           "is_public_address", "normalize_weights", "on_this_machine"]

SIM_NETWORK = "sim"  # the file-backed chain on this machine: no subtensor, no TAO
LOCAL_NETWORK = "local"  # bittensor's name for a subtensor node on this machine (ws://127.0.0.1:9944)


class RateLimited(WorkError):
    """Weights were set too recently; `blocks_left` says how long to wait."""

    def __init__(self, message: str, blocks_left: int):
        """message: one line for the user. blocks_left: blocks until weights may be set again (> 0)."""
        super().__init__(message)
        self.blocks_left = blocks_left


@dataclass(frozen=True)
class Neuron:
    """One registered hotkey on the subnet, as the metagraph shows it."""

    uid: int
    hotkey: str
    coldkey: str
    stake: float  # the stake weight the chain uses for validator permits, in the subnet's alpha
    validator_permit: bool
    axon_ip: str | None = None
    axon_port: int | None = None

    @property
    def axon_url(self) -> str | None:
        """http://ip:port of the served miner, or None when it advertises nothing."""
        if not self.axon_ip or not self.axon_port:
            return None
        host = f"[{self.axon_ip}]" if ":" in self.axon_ip else self.axon_ip
        return f"http://{host}:{self.axon_port}"


@dataclass(frozen=True)
class Metagraph:
    """The subnet at one block: every neuron, ordered by uid."""

    netuid: int
    block: int
    neurons: tuple[Neuron, ...]

    def by_hotkey(self, hotkey: str) -> Neuron | None:
        """The neuron registered with `hotkey` (ss58), or None."""
        return next((n for n in self.neurons if n.hotkey == hotkey), None)

    @property
    def hotkeys(self) -> list[str]:
        return [n.hotkey for n in self.neurons]

    def __len__(self) -> int:
        return len(self.neurons)


class Chain(ABC):
    """Chain access for one subnet (`netuid`) on one network."""

    network: str
    netuid: int

    @abstractmethod
    def metagraph(self) -> Metagraph:
        """The subnet now: every registered neuron, with stakes and advertised addresses."""

    @abstractmethod
    def current_block(self) -> int:
        """The chain's current block number."""

    @abstractmethod
    def burn_cost(self) -> float:
        """TAO a burned registration costs right now."""

    @abstractmethod
    def burned_register(self, wallet: Any) -> int:
        """Register the wallet's hotkey by burning TAO from its coldkey; returns the UID.

        wallet: a `bittensor.Wallet` (its coldkey pays; on the real chain bittensor unlocks it).

        An already registered hotkey is not registered twice: its UID comes back unchanged.
        """

    @abstractmethod
    def serve_axon(self, wallet: Any, ip: str, port: int) -> None:
        """Advertise where the wallet's hotkey serves (the miner's HTTP address).

        wallet: a registered `bittensor.Wallet`. ip: the numeric IPv4 or IPv6 address validators
        should call (checked by `check_axon_address`). port: its TCP port, 1..65535.
        """

    @abstractmethod
    def weights_rate_limit(self) -> int:
        """Blocks that must pass between two weight settings by one hotkey."""

    @abstractmethod
    def blocks_until_weights_allowed(self, hotkey: str) -> int:
        """0 when `hotkey` (ss58, registered) may set weights now, else the blocks left to wait."""

    @abstractmethod
    def _submit_weights(self, wallet: Any, uids: list[int], weights: list[float], version_key: int) -> None: ...

    def uid_of(self, hotkey: str) -> int | None:
        """The UID of `hotkey` (ss58) on this subnet, or None when it is not registered."""
        neuron = self.metagraph().by_hotkey(hotkey)
        return None if neuron is None else neuron.uid

    def is_registered(self, hotkey: str) -> bool:
        """True when `hotkey` (ss58) holds a UID on this subnet."""
        return self.uid_of(hotkey) is not None

    def set_weights(self, wallet: Any, uids: Sequence[int], weights: Sequence[float], *, version_key: int = 0) -> None:
        """Set the wallet hotkey's weights over `uids`, normalised to sum 1.

        wallet: the validator's `bittensor.Wallet` (its hotkey signs). uids: the miners' UIDs, each
        once. weights: one non-negative number per uid, any scale. version_key: the weights'
        version (the validator's protocol major version), so validators of other versions are told apart.

        Raises RateLimited when the chain's rate limit has not passed yet (nothing is sent), and
        InputError for weights that cannot be normalised (negative, NaN, all zero).
        """
        uid_list, normalised = normalize_weights(uids, weights)
        hotkey = wallet.hotkey.ss58_address
        wait = self.blocks_until_weights_allowed(hotkey)
        if wait > 0:
            raise RateLimited(f"weights were set too recently: wait {wait} more block(s)", wait)
        self._submit_weights(wallet, uid_list, normalised, int(version_key))


def normalize_weights(uids: Sequence[int], weights: Sequence[float]) -> tuple[list[int], list[float]]:
    """(uids, weights) checked and normalised to sum 1; zero weights are dropped (the chain treats them as absent).

    uids: UIDs in 0..65535, each once. weights: one finite, non-negative number per uid, not all zero.
    InputError otherwise.
    """
    uid_list = [int(u) for u in uids]
    values = [float(w) for w in weights]
    if len(uid_list) != len(values):
        raise InputError(f"{len(uid_list)} uids but {len(values)} weights")
    if len(set(uid_list)) != len(uid_list):
        raise InputError("each uid may appear only once in a weight setting")
    if any(u < 0 or u > 65535 for u in uid_list):
        raise InputError("uids must be in 0..65535")
    if any(not math.isfinite(w) or w < 0 for w in values):
        raise InputError("weights must be finite and non-negative")
    total = sum(values)
    if total <= 0:
        raise InputError("weights are all zero; there is nothing to set")
    kept = [(u, share) for u, share in ((u, w / total) for u, w in zip(uid_list, values)) if share > 0]
    return [u for u, _ in kept], [w for _, w in kept]


def is_public_address(ip: str) -> bool:
    """True for a global unicast address: off this machine's chains, the only kind a validator calls, so
    an advertised loopback, private or link-local address (169.254.169.254 is a cloud metadata
    service) cannot point validators at their own machine or network. An IPv6 address that embeds an
    IPv4 one (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::a.b.c.d, 6to4 2002:aabb:ccdd::) is judged by
    the IPv4 address it reaches. `ip` is the address as text; anything else is not public."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    if address.version == 6:
        embedded = address.ipv4_mapped or address.sixtofour or _nat64_embedded(address)
        if embedded is not None:
            address = embedded
    return address.is_global and not address.is_multicast


_NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052's well-known prefix


def _nat64_embedded(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address a NAT64 well-known-prefix address translates to, or None."""
    if address in _NAT64_PREFIX:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def on_this_machine(network: str) -> bool:
    """True for chains whose whole subnet runs on this machine (the `sim` file chain, bittensor's
    `local` node, a ws:// URL on loopback): there miners advertise loopback and validators call it.
    `network` is a network name or ws:// / wss:// URL, as `chain.network` takes it."""
    if network in (SIM_NETWORK, LOCAL_NETWORK):
        return True
    from urllib.parse import urlsplit

    try:
        host = urlsplit(network).hostname if network.startswith(("ws://", "wss://")) else None
        return host is not None and (host == "localhost" or ipaddress.ip_address(host).is_loopback)
    except ValueError:
        return False


def check_axon_address(ip: str, port: int, network: str) -> None:
    """Refuse an address no validator could reach (a typo, or 0.0.0.0 advertised by mistake), and,
    off this machine's chains, any address that is not public (validators would refuse to call it).

    ip: the numeric address to advertise, as text. port: the TCP port, 1..65535. network: the
    chain's network name or URL (see `on_this_machine`). InputError names what is wrong.
    """
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        raise InputError(f"{ip!r} is not an IP address; advertise the numeric address validators should call") from None
    if address.is_unspecified:
        raise InputError(f"{ip} cannot be advertised; give the miner's reachable address (miner external ip)")
    if not on_this_machine(network) and not is_public_address(ip):
        raise InputError(f"{ip} is not a public address and validators on {network} will not call it; "
                         "give the miner's public address (miner external ip)")
    if not 1 <= int(port) <= 65535:
        raise InputError(f"port {port} is out of range 1-65535")
