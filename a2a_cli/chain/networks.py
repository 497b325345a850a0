"""From a network name to its `Chain`: the one place that knows both implementations.

`sim` opens the file-backed `LocalChain` under the data dir; every other name (finney, test,
local, a ws:// URL) opens `SubtensorChain` over bittensor. The implementations import only the
interface (chain.py), and the interface imports neither, so the modules form no import cycle.
"""

from __future__ import annotations

import os
from typing import Any

from a2a_cli.chain.chain import SIM_NETWORK, Chain
from a2a_cli.chain.local_chain import LocalChain, sim_chain_path
from a2a_cli.chain.subtensor_chain import SubtensorChain

__all__ = ["chain_from_settings", "open_chain"]


def open_chain(network: str, netuid: int, *, data_dir: str | os.PathLike | None = None, **local_options: Any) -> Chain:
    """The chain of subnet `netuid` on `network`.

    network: "sim" for the file-backed chain on this machine, else a bittensor network name
        (finney, test, local) or a ws:// / wss:// URL.
    netuid: the subnet's uid, 0..65535.
    data_dir: the folder holding the sim chain's file (`sim_chain_path`); None means the user
        data dir. Unused off sim.
    local_options: `LocalChain` parameters (block_seconds, burn_tao, ...), applied when the sim
        chain's file is first made; only for "sim".
    """
    if network == SIM_NETWORK:
        if data_dir is None:
            from a2a_cli.config import default_data_dir

            data_dir = default_data_dir()
        return LocalChain(sim_chain_path(data_dir, netuid), netuid=netuid, **local_options)
    return SubtensorChain(network, netuid)


def chain_from_settings(settings: Any) -> Chain:
    """The chain the `chain.*` settings name (a `config.Settings`); a sim chain lives under the
    settings' data dir and takes its block time from `chain.sim_block_seconds`."""
    network = settings.get("chain.network")
    local_options = {"block_seconds": settings.get("chain.sim_block_seconds")} if network == SIM_NETWORK else {}
    return open_chain(network, settings.get("chain.netuid"), data_dir=settings.data_dir, **local_options)
