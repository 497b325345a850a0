"""The `a2a` Typer app and the entry point that maps errors to exit codes (DESIGN §8)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from a2a_cli import __version__
from a2a_cli.cli import common, help_format
from a2a_cli.errors import A2AError

__all__ = ["main"]

help_format.install()

app = typer.Typer(
    name="a2a",
    help="Audio-to-Animation: generate dances from music and score them.\n\n"
    "Examples:\n\n  a2a generate song.mp3 --preview song.mp4\n\n  a2a score song.npy --audio song.mp3",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        common.out.print(f"a2a {__version__}")
        raise typer.Exit()


@app.callback()
def _global_options(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version and exit."),
    debug: bool = typer.Option(False, "--debug", help="Also show an error's full traceback (the exit code stays the same)."),
    profile: Optional[str] = typer.Option(None, "--profile", envvar="A2A_PROFILE", help="Settings profile from the config file."),
    config: Optional[Path] = typer.Option(None, "--config", envvar="A2A_CONFIG", help="Config file (default: ./a2a.toml, then the user config dir)."),
) -> None:
    common.options.debug = debug
    common.options.profile = profile
    common.options.config = config


def _register_commands() -> None:
    # Each command module imports only typer at module level; heavy work is imported inside commands.
    # Registration order is the order of `a2a --help`: the everyday commands first, then the subnet's.
    from a2a_cli.cli import config_cmd, download_weights, example, generate, mine, register, render, score, train, validate

    app.command("generate")(generate.generate)
    app.command("score")(score.score)
    app.command("render")(render.render)
    app.command("example")(example.example)
    app.command("download-weights")(download_weights.download_weights)
    app.command("train")(train.train)
    app.add_typer(config_cmd.app, name="config")
    app.command("mine")(mine.mine)
    app.command("validate")(validate.validate)
    app.command("register")(register.register)


_register_commands()


# Packages of the optional extras in pyproject.toml, so a missing one is an instruction, not a crash.
_OPTIONAL_PACKAGES = {"bittensor": "subnet", "fastapi": "subnet", "uvicorn": "subnet", "httpx": "subnet", "torch": "models",
                      "huggingface_hub": "models", "accelerate": "models", "smplx": "mesh"}


def _describe_unexpected(e: Exception) -> str:
    if isinstance(e, ModuleNotFoundError) and e.name in _OPTIONAL_PACKAGES:
        return f"this needs the '{e.name}' package: pip install 'a2a[{_OPTIONAL_PACKAGES[e.name]}]'"
    return f"unexpected {type(e).__name__}: {e} (run with --debug for details)"


def _traceback_if_debugging(e: BaseException) -> None:
    """With --debug, the error's full traceback on stderr. It only adds the traceback: the one-line
    error and the exit code that follow are those of a run without --debug."""
    if common.options.debug:
        import traceback

        common.err.print("".join(traceback.format_exception(e)), end="", markup=False, highlight=False, soft_wrap=True)


class _Terminated(KeyboardInterrupt):
    """SIGTERM (what `kill`, `timeout` and `docker stop` send), raised where the program is, as Ctrl-C's
    KeyboardInterrupt is: every cleanup that runs on Ctrl-C (half-written files removed, ffmpeg
    stopped, temporary folders deleted) runs on it too."""


_terminated = False  # SIGTERM arrived: typer reports a KeyboardInterrupt only as exit code 130


def _on_sigterm(signum: int, frame: object) -> None:
    global _terminated
    _terminated = True
    raise _Terminated()


def _stop_word_and_code() -> tuple[str, int]:
    """What an interrupted run says and its exit code: 130 for Ctrl-C, 143 (128 + 15) for SIGTERM."""
    return ("terminated", 143) if _terminated else ("interrupted", 130)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI: 0 success, 1 the work failed, 2 bad usage or input, 130 Ctrl-C, 143 SIGTERM (both
    cleaned up alike); no traceback unless --debug (which adds it, keeping the exit code)."""
    global _terminated
    import signal

    _terminated = False
    try:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread: signals are not ours to take
        previous = None
    try:
        _run(argv)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _run(argv: list[str] | None) -> None:
    try:
        code = app(args=argv, standalone_mode=False)
        if code == 130:  # typer turns Ctrl-C inside a command into a silent exit code 130
            word, code = _stop_word_and_code()
            common.err.print(word)
    # typer >= 0.2x vendors click: catch typer's exception classes, not the separate `click` package's.
    # typer also turns an EOFError escaping a command into Abort (a prompt's own Abort has no cause).
    except typer.Exit as e:
        code = e.exit_code
    except typer.Abort as e:
        if isinstance(e.__cause__, EOFError):
            _traceback_if_debugging(e.__cause__)
            common.err.print(f"[red]error:[/red] {escape(_describe_unexpected(e.__cause__))}", soft_wrap=True)
        else:
            common.err.print("aborted")
        code = 1
    except typer.TyperException as e:  # usage errors (unknown command or option, bad value): exit 2
        e.show()
        code = e.exit_code
    except A2AError as e:
        _traceback_if_debugging(e)
        common.err.print(f"[red]error:[/red] {escape(str(e))}", soft_wrap=True)
        code = e.exit_code
    except KeyboardInterrupt:
        word, code = _stop_word_and_code()
        common.err.print(word)
    except Exception as e:  # a bug, or a failure no layer anticipated: one line, never a traceback
        _traceback_if_debugging(e)
        common.err.print(f"[red]error:[/red] {escape(_describe_unexpected(e))}", soft_wrap=True)
        code = 1
    sys.exit(code if isinstance(code, int) else 0)
