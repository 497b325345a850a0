"""`a2a register`: burn TAO to give a hotkey a UID on the subnet, after showing what it costs."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from a2a_cli.cli import common
from a2a_cli.cli.chain_options import NETWORK_HELP, chain_settings

__all__ = ["register"]


def register(
    network: Optional[str] = typer.Option(None, "--network", help=NETWORK_HELP),
    netuid: Optional[int] = typer.Option(None, "--netuid", help="Subnet to register on."),
    wallet: Optional[str] = typer.Option(None, "--wallet", help="Wallet (coldkey) name."),
    hotkey: Optional[str] = typer.Option(None, "--hotkey", help="Hotkey name inside the wallet."),
    wallet_path: Optional[Path] = typer.Option(None, "--wallet-path", help="Folder holding the wallets."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Register without asking for confirmation."),
    stake: Optional[float] = typer.Option(None, "--stake", help="Sim chain only: give the hotkey this much stake (alpha), e.g. for a validator."),
    json_output: bool = typer.Option(False, "--json", help="Print the outcome as JSON."),
) -> None:
    """Register the wallet's hotkey on the subnet (burned registration) and print its UID.

    Shows the network, subnet, wallet, hotkey and burn cost, and asks before spending. An already registered hotkey is reported, never registered twice.

    Examples:

      [bold]a2a register --network sim --wallet miner1 --yes[/bold]
    """
    import click
    from rich.markup import escape
    from rich.table import Table

    from a2a_cli.chain.auth import wallet_from_settings
    from a2a_cli.chain.chain import SIM_NETWORK
    from a2a_cli.chain.networks import chain_from_settings
    from a2a_cli.errors import InputError

    settings = chain_settings(network, netuid, wallet, hotkey, wallet_path)
    network_name = settings.get("chain.network")
    if stake is not None and network_name != SIM_NETWORK:
        raise InputError("--stake only works on the sim chain; on a real network (local included), stake with btcli")
    chain = chain_from_settings(settings)
    keys = wallet_from_settings(settings)
    hotkey_ss58 = keys.hotkey.ss58_address
    uid = chain.uid_of(hotkey_ss58)
    cost = chain.burn_cost()
    facts = {"network": network_name, "netuid": chain.netuid, "wallet": settings.get("chain.wallet_name"),
             "hotkey_name": settings.get("chain.wallet_hotkey"), "hotkey": hotkey_ss58, "burn_cost_tao": cost}

    if not json_output:
        table = Table(show_header=False, box=None)
        for label, value in (("network", network_name), ("netuid", chain.netuid),
                             ("wallet", f"{facts['wallet']} / {facts['hotkey_name']}"), ("hotkey", hotkey_ss58),
                             ("burn cost", f"{cost:.9g} TAO")):
            table.add_row(f"[bold]{label}[/bold]", escape(str(value)))
        common.err.print(table)

    already = uid is not None
    if not already:
        if not yes:
            try:
                confirmed = typer.confirm(f"Burn {cost:.9g} TAO to register this hotkey on netuid {chain.netuid}?", default=False, err=True)
            except (click.exceptions.Abort, typer.Abort, EOFError):  # no answer could be read (stdin closed or not interactive)
                raise InputError("no confirmation could be read; pass --yes to register without asking") from None
            if not confirmed:
                common.err.print("not registered")
                raise typer.Exit(1)
        uid = chain.burned_register(keys)
    if stake is not None:
        chain.set_stake(hotkey_ss58, stake)

    if json_output:
        common.print_json({**facts, "uid": uid, "already_registered": already, **({"stake_alpha": stake} if stake is not None else {})})
    elif already:
        common.out.print(f"hotkey {escape(hotkey_ss58)} is already registered on netuid {chain.netuid}: UID {uid}")
    else:
        common.out.print(f"registered {escape(hotkey_ss58)} on netuid {chain.netuid}: UID {uid}")
