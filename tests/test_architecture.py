"""The code's shape: imports run one way, and no pickle anywhere.

The import graph is read from the source (module-level and function-level imports
alike), so an import hidden inside a function to dodge a cycle is still an edge.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "scorelab"

#: What the report layer (a reader of run directories) may never import.
REPORT_FORBIDDEN = ("scorelab.models", "scorelab.fairness", "scorelab.explain",
                    "scorelab.evaluate", "scorelab.study", "scorelab.protocol",
                    "scorelab.data.synthetic")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(path: Path, known: set[str]) -> set[str]:
    """The scorelab modules ``path`` imports anywhere in its body."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("scorelab")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                and node.module.startswith("scorelab"):
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in known else node.module)
    return {m for m in found if m in known}


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, set(modules)) - {name} for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, or None (depth-first search with colours)."""
    colour = dict.fromkeys(graph, 0)
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        colour[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if colour[nxt] == 1:
                return stack[stack.index(nxt):] + [nxt]
            if colour[nxt] == 0 and (found := visit(nxt)):
                return found
        stack.pop()
        colour[node] = 2
        return None

    for start in sorted(graph):
        if colour[start] == 0 and (found := visit(start)):
            return found
    return None


def _is_package_init_edge(a: str, b: str) -> bool:
    """``scorelab.x.__init__`` re-exporting its own submodules is not layering."""
    return b.startswith(a + ".")


def test_imports_have_no_cycle(graph: dict[str, set[str]]) -> None:
    layered = {a: {b for b in deps if not _is_package_init_edge(a, b)}
               for a, deps in graph.items()}
    assert _cycle(layered) is None, f"import cycle: {' -> '.join(_cycle(layered) or [])}"


def test_the_cycle_detector_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_report_reads_only_the_run_directory(graph: dict[str, set[str]]) -> None:
    report = [m for m in graph if m.startswith("scorelab.report")]
    assert report, "no report modules found"
    for module in report:
        reached = _reachable(graph, module)
        bad = sorted(m for m in reached if m.startswith(REPORT_FORBIDDEN))
        assert not bad, f"{module} imports {bad} (directly or through another module)"


def test_lower_layers_never_import_the_orchestrator(graph: dict[str, set[str]]) -> None:
    lower = ("scorelab.protocol", "scorelab.models", "scorelab.evaluate", "scorelab.explain",
             "scorelab.fairness", "scorelab.data", "scorelab.runs", "scorelab.config")
    for module, deps in graph.items():
        if module.startswith(lower):
            bad = sorted(d for d in deps if d.startswith(("scorelab.study", "scorelab.cli",
                                                         "scorelab.report")))
            assert not bad, f"{module} imports the higher layer(s) {bad}"


def test_no_pickle_in_the_code() -> None:
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n.split(".")[0] in {"pickle", "cloudpickle", "dill"} for n in names), \
                f"{path} imports pickle"
            if isinstance(node, ast.Attribute) and node.attr in {"to_pickle", "read_pickle"}:
                pytest.fail(f"{path}:{node.lineno} uses pandas {node.attr}")
