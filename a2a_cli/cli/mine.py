"""`a2a mine`: serve dances (and, when asked to, gestures) to the subnet's validators over signed HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from a2a_cli.cli import common
from a2a_cli.cli.chain_options import NETWORK_HELP, chain_settings, registered_uid
from a2a_cli.tasks import DANCE, GESTURE, TASKS

__all__ = ["mine"]

# The setting that names the model served for each task (`--model` sets dance's, as for `a2a generate`).
MODEL_SETTINGS = {DANCE: "generate.model", GESTURE: "generate.gesture_model"}


def mine(
    network: Optional[str] = typer.Option(None, "--network", help=NETWORK_HELP),
    netuid: Optional[int] = typer.Option(None, "--netuid", help="Subnet to mine on."),
    wallet: Optional[str] = typer.Option(None, "--wallet", help="Wallet (coldkey) name."),
    hotkey: Optional[str] = typer.Option(None, "--hotkey", help="Hotkey name inside the wallet; it signs and is paid."),
    wallet_path: Optional[Path] = typer.Option(None, "--wallet-path", help="Folder holding the wallets."),
    tasks: Optional[list[str]] = typer.Option(None, "--task", help="Task to serve: dance or gesture; repeat for both (default: miner.tasks, dance)."),
    model: Optional[str] = typer.Option(None, "--model", help="Dance generator to serve: choreo, library or edge (default: generate.model)."),
    gesture_model: Optional[str] = typer.Option(None, "--gesture-model", help="Gesture generator to serve with --task gesture: orator or dsg (default: generate.gesture_model)."),
    library: Optional[Path] = typer.Option(None, "--library", help="Motion library of the library model: a folder of real dance or an index .npz (default: generate.library, else the shipped one)."),
    weights: Optional[Path] = typer.Option(None, "--weights", help="Checkpoint of the learned dance model (edge; default: generate.weights, else the downloaded one)."),
    gesture_weights: Optional[Path] = typer.Option(None, "--gesture-weights", help="Checkpoint of the learned gesture model (dsg; default: generate.gesture_weights, else the downloaded one)."),
    device: Optional[str] = typer.Option(None, "--device", help="Where a learned model runs: cpu or cuda[:N] (default: generate.device)."),
    host: Optional[str] = typer.Option(None, "--host", help="Address to bind (default: miner.host)."),
    port: Optional[int] = typer.Option(None, "--port", help="Port to serve on; 0 picks a free one (default: miner.port)."),
    external_ip: Optional[str] = typer.Option(None, "--external-ip", help="Address validators should call, advertised on chain (default: miner.external_ip, else the bound host; 127.0.0.1 on sim and local)."),
    min_stake: Optional[float] = typer.Option(None, "--min-stake", help="Refuse callers with less stake, in the subnet's alpha (the chain's validator-permit stake weight; default: miner.min_stake)."),
) -> None:
    """Serve the chosen generators to validators until interrupted (Ctrl-C).

    Checks that the hotkey is registered, advertises its address on chain, then answers signed a2a/2 prompts on POST /v1/generate: dances to music, and gestures to speech when it serves gesture (health, with the tasks served: GET /v1/health; schema: /openapi.json).

    Examples:

      [bold]a2a mine --network sim --wallet miner1 --port 8091[/bold]

      [bold]a2a mine --network sim --wallet miner2 --port 8092 --task dance --task gesture[/bold]
    """
    import ipaddress
    import logging

    from rich.markup import escape

    from a2a_cli.chain.auth import wallet_from_settings
    from a2a_cli.chain.chain import on_this_machine
    from a2a_cli.chain.miner import MinerService, MinerSettings, ServedModel, bind_socket, model_generate_fn, serve
    from a2a_cli.chain.networks import chain_from_settings
    from a2a_cli.errors import InputError
    from a2a_cli.generation.base import generator_task

    settings = chain_settings(network, netuid, wallet, hotkey, wallet_path, flag_names={"miner.tasks": "--task"}, **{
        "miner.tasks": tasks or None, "generate.gesture_model": gesture_model,
        "generate.model": model, "generate.weights": None if weights is None else str(weights), "generate.device": device,
        "generate.gesture_weights": None if gesture_weights is None else str(gesture_weights),
        "generate.library": None if library is None else str(library),
        "miner.host": host, "miner.port": port, "miner.min_stake": min_stake,
        "miner.external_ip": external_ip,
    })
    config = MinerSettings.from_settings(settings)
    chain = chain_from_settings(settings)
    keys = wallet_from_settings(settings)
    hotkey_ss58 = keys.hotkey.ss58_address
    uid = registered_uid(chain, hotkey_ss58)
    if not config.tasks:
        raise InputError("miner.tasks is empty: a miner serves at least one task (dance, gesture)")
    served = {}
    for task in (t for t in TASKS if t in config.tasks):
        model_name = settings.get(MODEL_SETTINGS[task])
        if generator_task(model_name) != task:
            raise InputError(f"model {model_name!r} is a {generator_task(model_name)} model, not a {task} model; "
                             f"set {MODEL_SETTINGS[task]} to a {task} model")
        served[task] = ServedModel(model_name, model_generate_fn(model_name, settings))

    if config.external_ip:
        advertised = config.external_ip
        try:
            ipaddress.ip_address(advertised)
        except ValueError:
            raise InputError(f"external ip {advertised!r} is not an IP address") from None
    else:
        advertised = _reachable_host(config.host, local=on_this_machine(chain.network))

    sock = bind_socket(config.host, config.port)
    bound_port = sock.getsockname()[1]
    chain.serve_axon(keys, advertised, bound_port)

    level = settings.get("general.log_level").upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    common.err.print(
        f"mining on {escape(chain.network)} netuid {chain.netuid} as UID {uid} ({escape(hotkey_ss58)}): "
        f"{escape(', '.join(f'{task} with {s.model}' for task, s in served.items()))}, listening on {escape(config.host)}:{bound_port}, advertised {escape(advertised)}:{bound_port}"
    )
    service = MinerService(settings=config, chain=chain, hotkey=hotkey_ss58, served=served)
    serve(service, sock, log_level=level.lower())


def _reachable_host(host: str, *, local: bool) -> str:
    """The address to advertise when no external ip is given: the bound host's own address (a name
    such as localhost is resolved: the chain holds numbers); for a wildcard bind, loopback on sim and local."""
    import ipaddress
    import socket

    from a2a_cli.errors import InputError

    if host in ("0.0.0.0", "::", ""):
        if local:
            return "127.0.0.1"
        raise InputError(f"the miner binds {host or 'every address'}; pass --external-ip (or set miner.external_ip) "
                         "with the address validators should call")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        return socket.getaddrinfo(host, None, family=socket.AF_INET, type=socket.SOCK_STREAM)[0][4][0]  # as bind_socket binds a name
    except (OSError, UnicodeError):
        raise InputError(f"the miner's host {host!r} does not resolve to an address; pass --host with an IP address "
                         "(or --external-ip with the address validators should call)") from None
