"""What the subnet commands (register, mine, validate) share: their chain and wallet flags, read
into settings the same way, and the check that a hotkey is registered before it serves or judges."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from a2a_cli.cli import common

__all__ = ["NETWORK_HELP", "WALLET_FLAG_NAMES", "chain_settings", "registered_uid"]

NETWORK_HELP = "finney, test, local (a subtensor node at ws://127.0.0.1:9944), a ws:// URL, or sim (a2a's offline chain: the whole subnet on this machine, no TAO)."

# The wallet flags, which are shorter than their keys' names (for settings error messages).
WALLET_FLAG_NAMES = {"chain.wallet_name": "--wallet", "chain.wallet_hotkey": "--hotkey"}


def chain_settings(network: str | None, netuid: int | None, wallet: str | None, hotkey: str | None,
                   wallet_path: Path | None, *, flag_names: dict[str, str] | None = None, **flags: Any):
    """`common.settings` with the shared chain/wallet flags plus the command's own dotted `flags`."""
    return common.settings(flag_names={**WALLET_FLAG_NAMES, **(flag_names or {})}, **{
        "chain.network": network, "chain.netuid": netuid, "chain.wallet_name": wallet,
        "chain.wallet_hotkey": hotkey, "chain.wallet_path": str(wallet_path) if wallet_path else None,
        **flags,
    })


def registered_uid(chain: Any, hotkey_ss58: str) -> int:
    """The hotkey's UID, or a one-line error telling how to register it."""
    from a2a_cli.errors import WorkError

    uid = chain.uid_of(hotkey_ss58)
    if uid is None:
        raise WorkError(f"hotkey {hotkey_ss58} is not registered on netuid {chain.netuid} ({chain.network}); "
                        f"run `a2a register --network {chain.network} --netuid {chain.netuid}` first")
    return uid
