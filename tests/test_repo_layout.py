"""Tests and benchmarks share their baselines and helpers through support/, never through each other.

Read from the source: no benchmark imports a module of tests/ or names the tests/ folder (to put it
on sys.path), and no test imports a benchmark or names the benchmarks/ folder (to load one by path).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imported_modules(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def _named_folders(tree: ast.AST) -> set[str]:
    """String constants that are a folder name of this repo (how a file puts it on sys.path or loads from it)."""
    return {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and node.value in ("tests", "benchmarks")}


def _trees(folder: str) -> dict[str, ast.AST]:
    return {p.name: ast.parse(p.read_text(encoding="utf-8")) for p in sorted((ROOT / folder).glob("*.py"))}


def test_benchmarks_do_not_reach_into_tests():
    test_modules = {p.stem for p in (ROOT / "tests").glob("*.py")} | {"tests"}
    for name, tree in _trees("benchmarks").items():
        assert not _imported_modules(tree) & test_modules, f"{name} imports from tests/: move what it needs to support/"
        assert "tests" not in _named_folders(tree), f"{name} names the tests/ folder"


def test_tests_do_not_reach_into_benchmarks():
    bench_modules = {p.stem for p in (ROOT / "benchmarks").glob("*.py")} | {"benchmarks"}
    for name, tree in _trees("tests").items():
        if name == Path(__file__).name:
            continue
        assert not _imported_modules(tree) & bench_modules, f"{name} imports a benchmark: move what it needs to support/"
        assert "benchmarks" not in _named_folders(tree), f"{name} names the benchmarks/ folder"
        source = (ROOT / "tests" / name).read_text(encoding="utf-8")
        assert "spec_from_file_location" not in source, f"{name} loads a module by path"


def test_support_is_shared_and_not_shipped():
    import tomllib

    import support.dances
    import support.metrics_baseline

    assert support.metrics_baseline.smooth_random_clips(1, 4, 0)[0].shape == (1, 4, 24, 3)
    assert support.dances.__file__.startswith(str(ROOT / "support"))
    packaged = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    assert packaged == ["a2a_cli*"]


def test_every_module_says_what_it_exports():
    """Each module of a2a_cli (packages and the CLI entry point aside) has an `__all__`, and every name
    in it exists: a reader sees the public surface at a glance (issue 11)."""
    import importlib
    import pkgutil

    import a2a_cli

    without, missing = [], []
    for info in pkgutil.walk_packages(a2a_cli.__path__, "a2a_cli."):
        if info.ispkg or info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        names = getattr(module, "__all__", None)
        if names is None:
            without.append(info.name)
        else:
            missing += [f"{info.name}.{name}" for name in names if not hasattr(module, name)]
    assert without == [] and missing == [], (without, missing)


def test_ci_runs_exactly_the_readmes_test_command():
    """`.ci/run` is the README's install-and-test command, word for word (issue 19: -n auto in both)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("**Install and run the tests**", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0].strip()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]
    assert block == ci and "pytest -n auto" in ci
