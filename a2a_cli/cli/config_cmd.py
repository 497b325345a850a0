"""`a2a config show|init`: the effective settings and where each came from, and a starter file."""

from __future__ import annotations

from pathlib import Path

import typer

from a2a_cli.cli import common

__all__ = ["init", "show"]

app = typer.Typer(
    help="Show the effective settings, or write a commented starter a2a.toml.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)


@app.command("show")
def show(json_output: bool = typer.Option(False, "--json", help="Print the settings as JSON.")) -> None:
    """Print every setting, its value and its source (default, file and table, env var or flag).

    Every profile of the file is checked, not only the one in use: a mistake anywhere is an error.

    Choose a profile or file with the global options: [bold]a2a --profile gpu config show[/bold].
    """
    from rich.markup import escape
    from rich.table import Table

    from a2a_cli.config import toml_literal
    from a2a_cli.errors import InputError

    settings = common.settings(warn=False)
    if settings.other_profile_problems:  # checking the file is what `show` is for: every profile counts
        raise InputError(settings.other_profile_problems[0])
    path = str(settings.path) if settings.path else None
    if json_output:
        common.print_json({
            "config_file": path,
            "profile": settings.profile,
            "settings": {key: {"value": value, "source": source} for key, value, source in settings.items()},
        })
        return
    title = f"config file: {path or 'none found'}   profile: {settings.profile or 'none'}"
    table = Table(title=escape(title), title_justify="left")
    table.add_column("key", style="bold")
    table.add_column("value")
    table.add_column("source", style="dim")
    for key, value, source in settings.items():
        table.add_row(key, escape(toml_literal(value)), escape(source))
    common.out.print(table)


@app.command("init")
def init(
    path: Path = typer.Argument(Path("a2a.toml"), help="Where to write the file."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write a commented starter config file (every key at its default, commented out)."""
    from rich.markup import escape

    from a2a_cli.config import write_starter_config

    written = write_starter_config(path, force=force)
    common.out.print(f"wrote {escape(str(written))}: edit it, then check it with [bold]a2a config show[/bold]")
