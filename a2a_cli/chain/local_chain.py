"""The sim chain: a chain on this machine, the subnet's state in one JSON file that every local process shares.

`a2a register`, `a2a mine` and `a2a validate` started with `--network sim` all open the same
file (`<data dir>/sim-chain/<netuid>.json`), so a whole subnet runs on one machine with nothing
else installed (no subtensor: bittensor's `local` network is a subtensor node, see chain.py).
Writers take an exclusive `flock` on a sibling lock file, read, change and replace
the file atomically; readers need no lock because they only ever see a whole file. Blocks advance
with wall time (`block_seconds`, 12 s like finney; tests use a few milliseconds).

Deliberately simple, and documented where it differs from subtensor: there are no balances (a
registration records the TAO it burns), stakes are set directly (`set_stake`, a development
helper), the `max_validators` highest stakes hold validator permits, and a registration on a full
subnet takes the UID of the lowest-stake neuron past its `immunity_period` (oldest first), so UIDs
change hands as on the real chain.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from a2a_cli.chain.chain import SIM_NETWORK, Chain, Metagraph, Neuron, RateLimited, check_axon_address
from a2a_cli.errors import InputError, WorkError
from a2a_cli.fileio import atomic_write, exclusive_lock, parse_versioned_json

__all__ = ["DEFAULTS", "STATE_VERSION", "LocalChain", "sim_chain_path", "wallet_addresses"]

STATE_VERSION = 1
DEFAULTS = {
    "block_seconds": 12.0,
    "burn_tao": 1.0,
    "weights_rate_limit": 10,
    "max_uids": 256,
    "max_validators": 64,
    "immunity_period": 10,
}


def sim_chain_path(data_dir: str | os.PathLike, netuid: int) -> Path:
    """Where the sim chain of subnet `netuid` (an int) lives: <data_dir>/sim-chain/<netuid>.json.

    data_dir: the a2a data dir (`config.Settings.data_dir`); a leading ~ is expanded.
    """
    return Path(data_dir).expanduser() / "sim-chain" / f"{int(netuid)}.json"


def wallet_addresses(wallet: Any) -> tuple[str, str]:
    """(hotkey ss58, coldkey ss58) of a `bittensor.Wallet`, reading only public keys where it can;
    InputError when a key file is missing or unreadable."""
    try:
        hotkey = wallet.hotkey.ss58_address
        coldkey = wallet.coldkeypub.ss58_address
    except Exception as e:  # a missing or unreadable keyfile; the message names the file, never key material
        raise InputError(f"cannot read wallet {getattr(wallet, 'name', wallet)!r}: {type(e).__name__}: {e}") from None
    return hotkey, coldkey


class LocalChain(Chain):
    """The file-backed chain. Parameters apply when the file is first created; after that the
    file's own values rule, so every process sees the same block clock (change them with `configure`)."""

    network = SIM_NETWORK

    def __init__(self, path: str | os.PathLike, netuid: int = 1, *, clock: Callable[[], float] = time.time, **params: Any):
        """path: the chain's JSON file (`sim_chain_path`); made on the first write. netuid: the subnet.
        clock: the wall clock in seconds (tests pass their own). params: `DEFAULTS` names (block_seconds
        in s, burn_tao in TAO, weights_rate_limit and immunity_period in blocks, max_uids, max_validators)."""
        _check_params(params)
        self.path = Path(path)
        self.netuid = int(netuid)
        self._clock = clock
        self._initial = {**DEFAULTS, **params}

    # --- reads -----------------------------------------------------------------------------------

    def current_block(self) -> int:
        return self._block(self._read())

    def metagraph(self) -> Metagraph:
        state = self._read()
        permits = _permit_holders(state)
        neurons = tuple(
            Neuron(
                uid=n["uid"],
                hotkey=n["hotkey"],
                coldkey=n["coldkey"],
                stake=float(n["stake"]),
                validator_permit=n["uid"] in permits,
                axon_ip=n.get("axon_ip"),
                axon_port=n.get("axon_port"),
            )
            for n in sorted(state["neurons"], key=lambda n: n["uid"])
        )
        return Metagraph(netuid=self.netuid, block=self._block(state), neurons=neurons)

    def burn_cost(self) -> float:
        return float(self._read()["burn_tao"])

    def weights_rate_limit(self) -> int:
        return int(self._read()["weights_rate_limit"])

    def blocks_until_weights_allowed(self, hotkey: str) -> int:
        state = self._read()
        neuron = _find(state, hotkey)
        if neuron is None:
            raise WorkError(f"hotkey {hotkey} is not registered on sim netuid {self.netuid}")
        last = neuron.get("last_update")
        if last is None:
            return 0
        return max(0, last + int(state["weights_rate_limit"]) - self._block(state))

    def weights(self) -> dict[int, dict[int, float]]:
        """Every validator's last weights: {validator uid: {uid: weight}}."""
        state = self._read()
        return {int(v): dict(zip(row["uids"], row["weights"])) for v, row in state["weights"].items()}

    # --- writes ----------------------------------------------------------------------------------

    def burned_register(self, wallet: Any) -> int:
        hotkey, coldkey = wallet_addresses(wallet)
        with self._update() as state:
            existing = _find(state, hotkey)
            if existing is not None:
                return int(existing["uid"])
            block = self._block(state)
            neurons = state["neurons"]
            if len(neurons) < int(state["max_uids"]):
                uid = len(neurons)
            else:  # full: past their immunity, the lowest stake, then the oldest registration, gives up its UID
                immune_until = block - int(state["immunity_period"])
                candidates = [n for n in neurons if n["registered_block"] < immune_until] or neurons
                evicted = min(candidates, key=lambda n: (n["stake"], n["registered_block"], n["uid"]))
                uid = evicted["uid"]
                neurons.remove(evicted)
                state["weights"].pop(str(uid), None)
            neurons.append({"uid": uid, "hotkey": hotkey, "coldkey": coldkey, "stake": 0.0, "axon_ip": None,
                            "axon_port": None, "registered_block": block, "last_update": None})
            state["burned_tao"] = float(state["burned_tao"]) + float(state["burn_tao"])
            return uid

    def serve_axon(self, wallet: Any, ip: str, port: int) -> None:
        check_axon_address(ip, port, self.network)
        hotkey, _ = wallet_addresses(wallet)
        with self._update() as state:
            neuron = self._registered(state, hotkey)
            neuron["axon_ip"], neuron["axon_port"] = str(ip), int(port)

    def _submit_weights(self, wallet: Any, uids: list[int], weights: list[float], version_key: int) -> None:
        hotkey, _ = wallet_addresses(wallet)
        with self._update() as state:
            neuron = self._registered(state, hotkey)
            block = self._block(state)
            last = neuron.get("last_update")
            if last is not None and block - last < int(state["weights_rate_limit"]):
                # re-checked under the lock: two processes of one validator cannot both get through
                wait = last + int(state["weights_rate_limit"]) - block
                raise RateLimited(f"weights were set too recently: wait {wait} more block(s)", wait)
            if neuron["uid"] not in _permit_holders(state):
                raise WorkError(f"hotkey {hotkey} has no validator permit on sim netuid {self.netuid}")
            neuron["last_update"] = block
            state["weights"][str(neuron["uid"])] = {"block": block, "uids": uids, "weights": weights, "version_key": version_key}

    def set_stake(self, hotkey: str, alpha: float) -> None:
        """Development helper: give a registered hotkey `alpha` of stake (the real chain has staking for this)."""
        if not alpha >= 0:
            raise InputError(f"stake must be a non-negative amount of alpha, got {alpha}")
        with self._update() as state:
            self._registered(state, hotkey)["stake"] = float(alpha)

    def configure(self, **params: Any) -> None:
        """Change the chain's parameters (block_seconds, burn_tao, ...); the block number carries on."""
        _check_params(params)
        with self._update() as state:
            if "block_seconds" in params:
                state["genesis_block"], state["genesis_time"] = self._block(state), self._clock()
            state.update(params)

    # --- the file --------------------------------------------------------------------------------

    def _block(self, state: dict) -> int:
        elapsed = max(0.0, self._clock() - float(state["genesis_time"]))
        return int(state["genesis_block"]) + int(elapsed // float(state["block_seconds"]))

    def _registered(self, state: dict, hotkey: str) -> dict:
        neuron = _find(state, hotkey)
        if neuron is None:
            raise WorkError(f"hotkey {hotkey} is not registered on sim netuid {self.netuid}; run `a2a register --network sim`")
        return neuron

    def _fresh_state(self) -> dict:
        return {"version": STATE_VERSION, "netuid": self.netuid, "genesis_time": self._clock(), "genesis_block": 0,
                "burned_tao": 0.0, **self._initial, "neurons": [], "weights": {}}

    def _read(self) -> dict:
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return self._fresh_state()
        except OSError as e:
            raise WorkError(f"cannot read the sim chain {self.path}: {e.strerror or e}") from None
        return parse_versioned_json(text, STATE_VERSION, f"the sim chain {self.path}")

    @contextlib.contextmanager
    def _update(self) -> Iterator[dict]:
        """Read-modify-write under an exclusive lock; the new state replaces the file atomically."""
        with exclusive_lock(self.path, what="sim chain"):
            state = self._read()
            yield state
            atomic_write(self.path, json.dumps(state, indent=1))


def _check_params(params: dict) -> None:
    """Known names only, and a block clock that advances (block numbers divide by block_seconds)."""
    unknown = set(params) - set(DEFAULTS)
    if unknown:
        raise InputError(f"unknown sim chain parameter(s): {', '.join(sorted(unknown))}")
    if "block_seconds" in params:
        seconds = params["block_seconds"]
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds) or seconds <= 0:
            raise InputError(f"sim chain block_seconds must be a positive number of seconds, got {seconds!r}")


def _find(state: dict, hotkey: str) -> dict | None:
    return next((n for n in state["neurons"] if n["hotkey"] == hotkey), None)


def _permit_holders(state: dict) -> set[int]:
    staked = sorted((n for n in state["neurons"] if n["stake"] > 0), key=lambda n: (-n["stake"], n["uid"]))
    return {n["uid"] for n in staked[: int(state["max_validators"])]}
