"""No import cycles in `a2a_cli`: a module never imports, directly or through others, a module that imports it.

The graph is read from the source (nothing is imported): every `import` statement of a module,
at module level or inside a function (a lazy import still ties the two modules together), except
those under `if TYPE_CHECKING:` (never run). `from a2a_cli.x import y` is an edge to module
`a2a_cli.x.y` when that is a module, else to `a2a_cli.x`. Run as a script it prints the cycles:
`python tests/test_import_cycles.py`.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = "a2a_cli"
PACKAGE_DIR = Path(__file__).resolve().parents[1] / PACKAGE


def module_files(package_dir: Path = PACKAGE_DIR) -> dict[str, Path]:
    """{dotted module name: its .py file} for every module of the package (a package is its __init__)."""
    modules = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = path.relative_to(package_dir.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement of a module's tree, skipping the bodies of `if TYPE_CHECKING:`."""
    found, stack = [], [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        children = list(ast.iter_child_nodes(node))
        if isinstance(node, ast.If) and _is_type_checking(node):
            children = node.orelse
        stack.extend(children)
    return found


def import_graph(package_dir: Path = PACKAGE_DIR) -> dict[str, set[str]]:
    """{module: the package's modules it imports}, read from the source files under `package_dir`."""
    modules = module_files(package_dir)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        targets = set()
        for node in _imports(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
                continue
            base = node.module or ""
            if node.level:  # relative: resolved against this module's package
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                targets.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted: every one is a cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(graph)))
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(components)


def test_the_walker_finds_a_cycle_through_a_lazy_import_and_ignores_type_checking(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("from pkg.sub.a import thing\n")
    (package / "sub" / "a.py").write_text("import pkg.sub.b\nthing = 1\n")
    (package / "sub" / "b.py").write_text("def f():\n    from pkg.sub import c\n")
    (package / "sub" / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.sub import a\n")
    graph = import_graph(package)
    assert graph["pkg.sub.b"] == {"pkg.sub.c"} and graph["pkg.sub.c"] == set() and graph["pkg.sub"] == {"pkg.sub.a"}
    assert import_cycles(graph) == []
    (package / "sub" / "c.py").write_text("def g():\n    from .a import thing\n")
    assert import_cycles(import_graph(package)) == [["pkg.sub.a", "pkg.sub.b", "pkg.sub.c"]]


def test_the_package_has_no_import_cycles():
    graph = import_graph()
    assert len(graph) > 50 and "a2a_cli.chain.chain" in graph  # the walk really read the package
    assert import_cycles(graph) == []


if __name__ == "__main__":
    found = import_cycles(import_graph())
    for cycle in found:
        print(" <-> ".join(cycle))
    print(f"{len(found)} cycle(s)")
