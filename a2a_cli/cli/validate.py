"""`a2a validate`: prompt the subnet's miners, judge their dances (and gestures), keep moving averages, set weights."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from a2a_cli.cli import common
from a2a_cli.cli.chain_options import NETWORK_HELP, chain_settings, registered_uid

__all__ = ["validate"]


def validate(
    network: Optional[str] = typer.Option(None, "--network", help=NETWORK_HELP),
    netuid: Optional[int] = typer.Option(None, "--netuid", help="Subnet to validate."),
    wallet: Optional[str] = typer.Option(None, "--wallet", help="Wallet (coldkey) name."),
    hotkey: Optional[str] = typer.Option(None, "--hotkey", help="Hotkey name inside the wallet; it signs prompts and sets weights."),
    wallet_path: Optional[Path] = typer.Option(None, "--wallet-path", help="Folder holding the wallets."),
    library: Optional[Path] = typer.Option(None, "--library", help="Folder of prompt music, with optional reference dances of the same stem, and speech in speech/ (default: validator.library)."),
    challenge_url: Optional[str] = typer.Option(None, "--challenge-url", help="Fetch each prompt from this endpoint instead of a library (default: validator.challenge_url)."),
    sample_size: Optional[int] = typer.Option(None, "--sample-size", help="Miners queried per step (default: validator.sample_size)."),
    timeout: Optional[float] = typer.Option(None, "--timeout", help="Seconds a miner has to answer (default: validator.timeout_s)."),
    alpha: Optional[float] = typer.Option(None, "--alpha", help="Weight of the newest score in each moving average (default: validator.alpha)."),
    weights_interval: Optional[int] = typer.Option(None, "--weights-interval", help="Blocks between two weight settings (default: validator.weights_interval_blocks)."),
    state: Optional[Path] = typer.Option(None, "--state", help="State file of the moving averages (default: validator.state_path, else in the data dir)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Score miners but never set weights."),
    steps: int = typer.Option(0, "--steps", min=0, help="Stop after this many steps (0: run until interrupted)."),
    interval: float = typer.Option(12.0, "--interval", min=0.0, help="Seconds from the start of one step to the start of the next."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object per step (one line each) instead of the table."),
) -> None:
    """Validate the subnet: prompt miners, score their answers, keep averages, set weights.

    Each step sends a random 5-15 s clip of the library (or a fetched challenge) to a sample of miners, one per task each serves (music to dance to; speech, from the library's speech/ folder, to gesture to), scores every answer with its task's judge, and saves the moving averages after the step, so a restart carries on where the last step ended. Weights pay each task its share (validator.dance_share, validator.gesture_share). On sim and local, without a library, prompts are synthetic songs and voices.

    Examples:

      [bold]a2a validate --network sim --wallet validator --library prompts/ --dry-run[/bold]
    """
    import json
    import sys

    from rich.live import Live
    from rich.markup import escape

    from a2a_cli.chain.auth import wallet_from_settings
    from a2a_cli.chain.chain import on_this_machine
    from a2a_cli.chain.networks import chain_from_settings
    from a2a_cli.chain.prompts import ChallengeEndpoint, PromptLibrary, SyntheticPrompts
    from a2a_cli.chain.state import validator_state_path
    from a2a_cli.chain.validator import Validator, ValidatorSettings
    from a2a_cli.errors import InputError

    flag_names = {"validator.timeout_s": "--timeout", "validator.weights_interval_blocks": "--weights-interval"}
    settings = chain_settings(network, netuid, wallet, hotkey, wallet_path, flag_names=flag_names, **{
        "validator.library": str(library) if library else None, "validator.sample_size": sample_size,
        "validator.timeout_s": timeout, "validator.alpha": alpha, "validator.weights_interval_blocks": weights_interval,
        "validator.state_path": str(state) if state else None, "validator.dry_run": True if dry_run else None,
        "validator.challenge_url": challenge_url,
    })
    options = settings.section("validator")
    if challenge_url and library:
        raise InputError("give either --library or --challenge-url, not both")
    challenge_url = None if library else options["challenge_url"]  # a --library flag beats a configured endpoint
    if challenge_url:
        prompts = ChallengeEndpoint(challenge_url, timeout_s=options["timeout_s"])
        prompt_note = f"challenges from {challenge_url}"
    elif options["library"]:
        prompts = PromptLibrary(options["library"])
        prompt_note = f"{len(prompts)} prompt file(s) in {prompts.folder} ({', '.join(prompts.tasks)})"
    elif on_this_machine(settings.get("chain.network")):
        prompts = SyntheticPrompts()
        prompt_note = "synthetic songs and voices (no --library given)"
    else:
        raise InputError("no prompts: pass --library FOLDER or --challenge-url URL (or set validator.library or validator.challenge_url)")

    chain = chain_from_settings(settings)
    keys = wallet_from_settings(settings)
    hotkey_ss58 = keys.hotkey.ss58_address
    uid = registered_uid(chain, hotkey_ss58)
    state_path = Path(options["state_path"]).expanduser() if options["state_path"] else validator_state_path(
        settings.data_dir, chain.network, chain.netuid, hotkey_ss58)
    validator = Validator(chain=chain, wallet=keys, prompts=prompts, state_path=state_path, settings=ValidatorSettings.from_settings(settings))

    common.err.print(
        f"validating {escape(chain.network)} netuid {chain.netuid} as UID {uid} ({escape(hotkey_ss58)}): {escape(prompt_note)}; "
        f"state {escape(str(state_path))} (step {validator.state.step}){'; dry run, no weights are set' if options['dry_run'] else ''}"
    )

    def on_error(e: Exception) -> None:
        common.err.print(f"[yellow]step failed:[/yellow] {escape(str(e))}", soft_wrap=True)

    run = lambda on_step: validator.run(steps=steps or None, interval_s=interval, on_step=on_step, on_error=on_error)  # noqa: E731
    if json_output:
        def emit(result) -> None:
            sys.stdout.write(json.dumps(result.to_dict()) + "\n")
            sys.stdout.flush()
        run(emit)
    elif common.err.is_terminal:
        with Live(_table(validator, None), console=common.err, refresh_per_second=2) as live:
            run(lambda result: live.update(_table(validator, result)))
    else:
        run(lambda result: common.out.print(_summary(result), soft_wrap=True))


def _prompts_line(result) -> str:
    """The step's prompts, one phrase each: "dance: funk.wav 2.00-9.50 s"."""
    return "; ".join(f"{p.task}: {p.source}" for p in result.prompts) or "no prompt"


def _table(validator, result):
    """Every miner this validator knows in each task, best average first, with the last step's outcome
    and its part of the weights the averages make now (what the next weight setting sends)."""
    from rich.markup import escape
    from rich.table import Table

    title = "waiting for the first step" if result is None else (
        f"step {result.step}: {escape(_prompts_line(result))}, {result.elapsed_s:.1f} s; {escape(result.weights_note)}"
        + "".join(f"; {escape(note)}" for note in result.notes))
    table = Table(title=title, title_justify="left")
    for name, justify in (("uid", "right"), ("hotkey", "left"), ("task", "left"), ("model", "left"), ("last", "right"),
                          ("average", "right"), ("share", "right"), ("latency", "right"), ("outcome", "left")):
        table.add_column(name, justify=justify)
    answered = {} if result is None else {(a.hotkey, a.task): a for a in result.answers}
    parts = validator.state.weight_parts(None, validator.shares) if result is not None else {}
    rows = [(task, record) for task, records in validator.state.tasks.items() for record in records.values()]
    for task, record in sorted(rows, key=lambda row: (-row[1].ema, row[1].uid, row[0])):
        answer = answered.get((record.hotkey, task))
        part = parts.get(task, {}).get(record.uid)
        table.add_row(
            str(record.uid), escape(record.hotkey[:12]) + "…", task, escape((answer.model if answer else None) or "-"),
            "-" if record.last_score is None else f"{record.last_score:.3f}", f"{record.ema:.3f}",
            "-" if part is None else f"{part:.3f}",
            "-" if record.last_latency_s is None else f"{record.last_latency_s:.2f} s",
            escape(record.last_reason) if answer else f"[dim]{escape(record.last_reason)}[/dim]",
        )
    return table


def _summary(result) -> str:
    from rich.markup import escape

    best = max(result.answers, key=lambda a: a.ema, default=None)
    lead = f"best uid {best.uid} average {best.ema:.3f} ({best.task})" if best else "no miners to query"
    notes = "".join(f"; {escape(note)}" for note in result.notes)
    return (f"step {result.step}: {escape(_prompts_line(result))}, {len(result.answers)} answer(s), "
            f"{sum(a.score > 0 for a in result.answers)} scored above 0, {lead}; {escape(result.weights_note)}{notes}")
