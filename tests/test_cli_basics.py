"""The CLI shell: help, version, usage errors, and a start-up that stays light and fast."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from a2a_cli import __version__

# Modules a bare `--help` must never pay for: they cost from 50 ms (numpy) to seconds (torch, librosa).
# (pydantic is not listed: typer itself imports it to coerce the parameters of any subcommand.)
HEAVY_MODULES = [
    "numpy", "scipy", "torch", "librosa", "numba", "bittensor", "soundfile", "soxr",
    "fastapi", "uvicorn", "httpx", "PIL", "imageio_ffmpeg",
]


def run_a2a(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "a2a_cli", *args], capture_output=True, text=True, timeout=60, env=env)


def test_help_lists_commands_and_global_options():
    result = run_a2a("--help")
    assert result.returncode == 0, result.stderr
    for word in ("Usage", "--version", "--profile", "--config", "--debug", "config"):
        assert word in result.stdout
    assert result.stderr == ""


def test_version():
    result = run_a2a("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"a2a {__version__}"


def test_unknown_command_is_a_usage_error():
    result = run_a2a("no-such-command")
    assert result.returncode == 2
    assert "No such command" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_unknown_option_is_a_usage_error():
    result = run_a2a("--no-such-option")
    assert result.returncode == 2
    assert "No such option" in result.stderr


# Runs `a2a --help` and then `a2a COMMAND --help` for every registered command in one process,
# recording which heavy modules each step pulled in (a step is blamed for what appeared during it).
_IMPORT_PROBE = """
import json, sys
from a2a_cli.cli.app import app, main
heavy = json.loads(sys.argv[1])
def loaded():
    return {name for name in heavy if name in sys.modules}
commands = [c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands]
commands += [g.name for g in app.registered_groups]
report, seen = {}, set()
for args in [["--help"]] + [[name, "--help"] for name in commands]:
    try:
        main(args)
    except SystemExit:
        pass
    report[" ".join(args)] = sorted(loaded() - seen)
    seen |= loaded()
sys.stderr.write("PROBE" + json.dumps(report) + "\\n")
"""


def test_help_imports_nothing_heavy():
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE, json.dumps(HEAVY_MODULES)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stderr.rsplit("PROBE", 1)[1])
    assert "config --help" in report  # the probe really walked the registered commands
    assert {args: modules for args, modules in report.items() if modules} == {}


def test_config_show_imports_nothing_heavy(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("A2A_")}
    env.update(HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "xdg"))
    probe = (
        "import json, sys\n"
        "from a2a_cli.cli.app import main\n"
        "try:\n    main(['config', 'show', '--json'])\nexcept SystemExit as e:\n    code = e.code\n"
        f"sys.stderr.write('PROBE' + json.dumps([code, sorted(set({HEAVY_MODULES!r}) & set(sys.modules))]))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    code, heavy = json.loads(result.stderr.rsplit("PROBE", 1)[1])
    assert code == 0 and heavy == []
    assert json.loads(result.stdout)["settings"]["generate.model"]["value"] == "library"


def test_a_missing_optional_package_names_the_extra_to_install(monkeypatch, capsys):
    """`a2a mine` without the subnet extra: an install instruction and exit 1, not a traceback."""
    import builtins

    from a2a_cli.cli.app import main

    real_import = builtins.__import__

    def no_fastapi(name, *args, **kwargs):
        if name == "fastapi" or name.startswith("fastapi."):
            raise ModuleNotFoundError("No module named 'fastapi'", name="fastapi")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_fastapi)
    for name in [n for n in sys.modules if n == "a2a_cli.chain.miner" or n.startswith("a2a_cli.chain.miner.")]:
        monkeypatch.delitem(sys.modules, name)  # the package and its modules, as in a process that never had fastapi
    with pytest.raises(SystemExit) as exit_info:
        main(["mine", "--network", "sim"])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "pip install 'a2a[subnet]'" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "raised, code, message",
    [(EOFError("no data left in file"), 1, "unexpected EOFError: no data left in file"), (KeyboardInterrupt(), 130, "interrupted")],
)
def test_eof_and_interrupts_inside_a_command_are_reported_as_such(monkeypatch, capsys, raised, code, message):
    """typer turns an EOFError from library code into Abort ("aborted") and Ctrl-C into a silent Exit(130)."""
    from a2a_cli.cli import common
    from a2a_cli.cli.app import main

    def fail(**flags):
        raise raised

    monkeypatch.setattr(common, "settings", fail)
    with pytest.raises(SystemExit) as exit_info:
        main(["config", "show"])
    assert exit_info.value.code == code
    err = capsys.readouterr().err
    assert message in err and "aborted" not in err and "Traceback" not in err


@pytest.mark.parametrize("command", [[], ["generate"], ["score"], ["render"], ["example"], ["config", "show"],
                                     ["config", "init"], ["mine"], ["validate"], ["register"]])
def test_help_shows_natural_metavars_not_python_types(command, capsys, monkeypatch):
    from a2a_cli.cli.app import main

    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    # No <bool> after flags, no <list[Path]>, <str> or <int range>: flags show nothing, values their kind.
    assert "<" not in text.replace("<=", "") and "list[" not in text and "{" not in text, text
    if command == ["generate"]:
        assert "generate [OPTIONS] AUDIO..." in text
        assert re.search(r"--seed\s+INTEGER \[x>=0\]", text) and re.search(r"--force\s+Overwrite", text)
        assert re.search(r"--format\s+-f\s+TEXT", text)
    if command == []:
        assert re.search(r"--version\s+Show the version", text) and re.search(r"--config\s+PATH", text)


# Every command that does work; `config` is a group (its own help has no examples to give).
LEAF_COMMANDS = [["generate"], ["score"], ["render"], ["example"], ["download-weights"], ["train"], ["mine"], ["validate"],
                 ["register"]]


@pytest.mark.parametrize("command", LEAF_COMMANDS)
def test_help_at_80_columns_cuts_no_word_and_gives_examples(command, capsys, monkeypatch):
    """At 80 columns a long word (validator.weights_interval_blocks) folds onto the next line
    instead of ending in "…", and every command's help has the same "Examples:" heading (issue 19, 17)."""
    from a2a_cli.cli.app import main

    monkeypatch.setenv("COLUMNS", "80")
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "…" not in text, text
    assert re.search(r"^ Examples", text, re.MULTILINE), text
    words = "".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())  # every cell's text, folded lines joined
    if command == ["validate"]:
        assert "(default:validator.weights_interval_blocks)" in words


def test_render_help_names_the_mesh_extra(capsys, monkeypatch):
    """The extra's brackets are text, not Rich markup: "pip install 'a2a[mesh]'", not "'a2a'" (issue 19, 9)."""
    from a2a_cli.cli.app import main

    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit):
        main(["render", "--help"])
    assert "needs pip install 'a2a[mesh]'." in capsys.readouterr().out


@pytest.mark.parametrize("label, natural", [("<bool>", "BOOLEAN"), ("<list[Path]>", "PATH"), ("<int range>", "INTEGER"),
                                            ("<float range>", "NUMBER"), ("<str>", "TEXT"), ("<npy|npz|bvh>", "npy|npz|bvh"),
                                            ("<list[npy|npz]>", "npy|npz"), (None, None)])
def test_natural_metavar(label, natural):
    from a2a_cli.cli.help_format import natural_metavar

    assert natural_metavar(label) == natural


def test_tables_show_enough_digits_to_tell_small_numbers_apart():
    """A PFC of 1e-12 and one of 7e-4 are not both "0.00" (issue 11)."""
    from a2a_cli.cli.common import number

    assert number(7e-4) == "0.0007" and number(1e-12) == "1e-12" and number(0.0) == "0.000"
    assert number(0.8123) == "0.812" and number(4000.0) == "4000" and number(None) == "-"
