"""`a2a download-weights [NAME]...`: fetch model weights into the data dir, checked; `--list` the zoo."""

from __future__ import annotations

from typing import Optional

import typer

from a2a_cli.cli import common

__all__ = ["download_weights"]


def download_weights(
    names: Optional[list[str]] = typer.Argument(None, metavar="NAME", help="Models to fetch (default: every model of the zoo)."),
    list_models: bool = typer.Option(False, "--list", help="Show the models, their sizes and licences, and what is downloaded."),
    url: Optional[str] = typer.Option(None, "--url", metavar="URL", help="Fetch from this mirror (or a local file) instead of the manifest's sources."),
    sha256: Optional[str] = typer.Option(None, "--sha256", metavar="HEX", help="The sha256 the file of --url must have (default: the manifest's)."),
    force: bool = typer.Option(False, "--force", help="Fetch again even when present; the old file stays until the new one is checked."),
    json_output: bool = typer.Option(False, "--json", help="Print machine-readable JSON."),
) -> None:
    """Download model weights into the data dir, each file checked against its sha256 before it is used.

    Hub files honour HF_ENDPOINT (a mirror), HF_HUB_OFFLINE and HF_TOKEN; an interrupted download of a plain URL resumes where it stopped on the next run. --url also takes a file you fetched by hand.

    Examples:

      [bold]a2a download-weights --list[/bold]

      [bold]a2a download-weights edge[/bold]

      [bold]a2a download-weights edge --url https://my.mirror/checkpoint.pt --sha256 28ca4ce1...[/bold]

      [bold]a2a download-weights edge --url ~/Downloads/checkpoint.pt[/bold]
    """
    from rich.markup import escape

    from a2a_cli import zoo
    from a2a_cli.errors import InputError

    data_dir = common.settings().data_dir
    if list_models:
        if url is not None or sha256 is not None or force:
            raise InputError("--list only lists: leave out --url, --sha256 and --force")
        _print_list([zoo.model_card(name) for name in names] if names else zoo.models(), data_dir, json_output)
        return
    for card in [zoo.model_card(name) for name in dict.fromkeys(names)] if names else zoo.models():
        if card.notice:
            common.err.print(f"[yellow]note:[/yellow] {escape(card.name)}: {escape(card.notice)}", soft_wrap=True)
    with common.ProgressBar("downloading", in_bytes=True) as bar:
        def progress(label: str, done: int, total: int | None) -> None:
            bar.update(description=label, completed=done, total=total)

        def notice(text: str) -> None:
            common.err.print(f"note: {escape(text)}", soft_wrap=True)

        fetched = zoo.download(names or [], data_dir, url=url, sha256=sha256, force=force, progress=progress, notice=notice)
    if json_output:
        common.print_json([{"model": f.model, "file": f.file, "path": f.path, "sha256": f.sha256, "verified": f.verified,
                            "source": f.source, "already_present": f.already_present} for f in fetched])
        return
    for f in fetched:
        _print_fetched(f)


def _print_fetched(f) -> None:
    from rich.markup import escape

    name = f"{f.model}/{f.file}"
    if f.already_present:
        common.out.print(f"{name}: already downloaded, {escape(str(f.path))} (--force fetches it again)")
    elif f.verified:
        common.out.print(f"{name}: downloaded from {escape(f.source)}, sha256 verified: {escape(str(f.path))}")
    else:
        common.out.print(f"{name}: downloaded from {escape(f.source)}: {escape(str(f.path))}")
        common.err.print(f"[yellow]warning:[/yellow] {name} is not verified: no sha256 is known for it. Its sha256 is "
                         f"{f.sha256}; compare it with one you trust, and pin it with --sha256.", soft_wrap=True)


def _status(file, state) -> str:
    from rich.filesize import decimal

    if state.present:
        if state.verified:
            return "downloaded, verified" if state.sha256 == file.sha256 else f"downloaded, another file (--sha256 {state.sha256[:12]}…)"
        return "downloaded, unverified" if state.sha256 else "present (not fetched by a2a)"
    if state.partial_bytes:
        return f"partial: {decimal(state.partial_bytes)} (resumes)"
    return "not downloaded"


def _print_list(cards, data_dir, json_output: bool) -> None:
    from rich.filesize import decimal
    from rich.markup import escape
    from rich.table import Table

    from a2a_cli import zoo

    rows = [(card, file, zoo.file_state(card, file, data_dir)) for card in cards for file in card.files]
    if json_output:
        common.print_json([{
            "model": card.name, "title": card.title, "architecture": card.architecture, "parameters": card.parameters,
            "feature_type": card.feature_type, "licence": card.licence, "licence_notes": card.licence_notes,
            "file": file.name, "format": file.format, "size": file.size, "approx_size": file.approx_size,
            "sha256": file.sha256, "sha256_origin": file.sha256_origin,
            "sources": [source.label for source in file.sources], "path": state.path, "downloaded": state.present,
            "verified": state.verified, "sha256_on_disk": state.sha256, "size_on_disk": state.size, "partial_bytes": state.partial_bytes,
        } for card, file, state in rows])
        return
    table = Table(title="a2a model zoo", title_justify="left")
    for column in ("model", "file", "size", "licence", "features", "status"):
        table.add_column(column, justify="right" if column == "size" else "left")
    for card, file, state in rows:
        size = file.shown_size
        shown = "?" if size is None else (decimal(size) if file.size is not None else f"~{decimal(size)}")
        table.add_row(escape(card.name), escape(file.name), shown, escape(card.licence), escape(card.feature_type), _status(file, state))
    common.out.print(table)
    common.out.print(f"weights live in {escape(str(data_dir / 'models'))}")
