"""Start-up time of the CLI: `a2a --help` in a fresh process, against a bare interpreter.

Usage: python benchmarks/bench_startup.py [RUNS]
A CLI is a fresh process every time, so whatever the package imports at start-up is paid on every
call. The issue's target: `a2a --help` under 0.3 s. The baseline, `python -c pass`, is measured in
the same run, so the ratio says how much the package adds on top of the interpreter itself.
Exits 1 when the median misses the target.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 0.3


def median_wall_s(argv: list[str], runs: int, env: dict[str, str], cwd: str) -> float:
    """Median wall time of `argv` over `runs` fresh processes (after one untimed warm-up for the OS cache)."""
    subprocess.run(argv, capture_output=True, env=env, cwd=cwd, check=True)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, env=env, cwd=cwd, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(runs: int) -> int:
    python = sys.executable
    script = Path(python).with_name("a2a")
    cases = {
        "python -c pass (baseline)": [python, "-c", "pass"],
        "python -c 'import typer, rich'": [python, "-c", "import typer, rich.console"],
        "python -m a2a_cli --help": [python, "-m", "a2a_cli", "--help"],
        "a2a --version": [python, "-m", "a2a_cli", "--version"],
        "a2a config show --json": [python, "-m", "a2a_cli", "config", "show", "--json"],
    }
    if script.exists():
        cases["a2a --help (console script)"] = [str(script), "--help"]
    with tempfile.TemporaryDirectory() as home:
        # A clean environment: no user config, no A2A_* settings, the same for every case.
        env = {k: v for k, v in os.environ.items() if not k.startswith("A2A_")}
        env.update(HOME=home, XDG_CONFIG_HOME=home)
        results = {name: median_wall_s(argv, runs, env, home) for name, argv in cases.items()}

    baseline = results["python -c pass (baseline)"]
    print(f"start-up, median of {runs} fresh processes each ({os.cpu_count()} cores)")
    print(f"{'case':<34} {'median ms':>10} {'x baseline':>11} {'added ms':>9}")
    for name, seconds in results.items():
        print(f"{name:<34} {seconds * 1000:>10.0f} {seconds / baseline:>11.1f} {(seconds - baseline) * 1000:>9.0f}")
    help_s = results["python -m a2a_cli --help"]
    verdict = "meets" if help_s < TARGET_S else "MISSES"
    print(f"`a2a --help`: {help_s * 1000:.0f} ms, {verdict} the target of {TARGET_S * 1000:.0f} ms")
    return 0 if help_s < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 15))
