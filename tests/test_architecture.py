"""The code's shape: layers as packages, imports one way, and no pickle anywhere.

:data:`LAYERS` is the architecture, lowest first: a package may import its own modules,
the packages of lower layers and nothing else (packages of one layer are independent of
each other). The import graph is read from the source, module-level and function-level
imports alike, so an import hidden inside a function to dodge a cycle is still an edge.
The negative controls plant a cycle and an upward import and check that they are found.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "scorelab"

#: The layers, lowest first; packages of one layer may not import each other.
LAYERS: list[set[str]] = [
    {"exceptions"},                        # the foundation: errors,
    {"core"},                              # numbers, scale, JSON, messages, progress
    {"models"},                            # the families: plain estimators
    {"config"},                            # the experiment config (family names: models)
    {"data", "runs"},                      # populations; the run directory (contract, store)
    {"engine"},                            # folds, the fold engine, Dask
    {"evaluate", "explain", "fairness"},   # the stages (they return the contract's types)
    {"truth"},                             # checks against the planted truth
    {"report", "applicants"},              # readers of a run directory
    {"study"},                             # the plan, the checks before fitting, the run
    {"lda", "benchmark"},                  # built on the study: a search; many datasets
    {"tracking"},                          # runs logged to MLflow; models as MLflow models
    {"serve"},                             # the local web app over a runs folder
    {"api"},                               # the Python API
    {"cli"},                               # the command line
    {"__main__"},                          # the entry point
]
#: The command line reaches the library only through the API (and the foundation).
CLI_MAY_IMPORT = {"api", "exceptions", "core", "cli"}
#: At most these modules sit at the top of the package.
TOP_LEVEL = {"__init__", "__main__", "api", "exceptions"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(path: Path, known: set[str]) -> set[tuple[str, str]]:
    """(module, imported name) of every scorelab import anywhere in ``path``."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {(a.name, "") for a in node.names if a.name.startswith("scorelab")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                and node.module.startswith("scorelab"):
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add((sub, "") if sub in known else (node.module, alias.name))
    return {(m, name) for m, name in found if m in known}


@pytest.fixture(scope="module")
def imports() -> dict[str, set[tuple[str, str]]]:
    modules = _modules()
    return {name: _imports(path, set(modules)) for name, path in modules.items()}


@pytest.fixture(scope="module")
def graph(imports: dict[str, set[tuple[str, str]]]) -> dict[str, set[str]]:
    return {name: {m for m, _ in found} - {name} for name, found in imports.items()}


def package_of(module: str) -> str:
    """The layer package of a module: ``scorelab.fairness.age`` -> ``fairness``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Package -> the other packages it imports."""
    out: dict[str, set[str]] = {}
    for module, deps in graph.items():
        own = package_of(module)
        out.setdefault(own, set()).update(package_of(d) for d in deps)
    return {p: deps - {p} for p, deps in out.items()}


def layer_violations(packages: dict[str, set[str]], layers: list[set[str]]) -> list[str]:
    """Every import of a package by a package of the same or a lower layer."""
    rank = {p: i for i, layer in enumerate(layers) for p in layer}
    problems = []
    for package, deps in sorted(packages.items()):
        if package == "__init__":
            continue
        for dep in sorted(deps - {"__init__"}):
            if package not in rank or dep not in rank:
                problems.append(f"{package} -> {dep}: a package outside LAYERS")
            elif rank[dep] >= rank[package]:
                problems.append(f"{package} -> {dep}: imports a package of "
                                f"{'the same' if rank[dep] == rank[package] else 'a higher'} "
                                "layer")
    return problems


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, or None (depth-first search with colours)."""
    colour = dict.fromkeys(graph, 0)
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        colour[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if colour.get(nxt, 2) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if colour.get(nxt, 2) == 0 and (found := visit(nxt)):
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


# --------------------------------------------------------------------------- the rules


def test_every_package_is_a_layer() -> None:
    on_disk = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    top = {p.stem for p in PACKAGE.glob("*.py")}
    layered = set().union(*LAYERS)
    assert on_disk <= layered, f"packages not in LAYERS: {sorted(on_disk - layered)}"
    assert top <= TOP_LEVEL, f"modules at the top of scorelab/: {sorted(top - TOP_LEVEL)}"
    stray = [p for p in PACKAGE.iterdir() if p.is_dir() and not (p / "__init__.py").exists()
             and any(p.rglob("*.py"))]
    assert not stray, f"folders of code without an __init__.py: {stray}"


def test_no_module_cycle(graph: dict[str, set[str]]) -> None:
    layered = {a: {b for b in deps if not _is_package_init_edge(a, b)}
               for a, deps in graph.items()}
    assert _cycle(layered) is None, f"import cycle: {' -> '.join(_cycle(layered) or [])}"


def test_no_package_cycle(graph: dict[str, set[str]]) -> None:
    packages = package_graph(graph)
    assert _cycle(packages) is None, f"package cycle: {' -> '.join(_cycle(packages) or [])}"


def test_each_layer_imports_only_lower_layers(graph: dict[str, set[str]]) -> None:
    assert layer_violations(package_graph(graph), LAYERS) == []


def test_the_cli_reaches_the_library_only_through_the_api(
        graph: dict[str, set[str]]) -> None:
    cli = {d for m, deps in graph.items() if package_of(m) == "cli" for d in deps}
    assert {package_of(d) for d in cli} <= CLI_MAY_IMPORT, sorted(
        d for d in cli if package_of(d) not in CLI_MAY_IMPORT)


def test_no_private_name_is_imported_across_packages(
        imports: dict[str, set[tuple[str, str]]]) -> None:
    crossing = sorted(f"{module} imports {target}{'.' + name if name else ''}"
                      for module, found in imports.items() for target, name in found
                      if package_of(target) != package_of(module)
                      and any(part.startswith("_") and not part.startswith("__")
                              for part in [*target.split("."), name] if part))
    assert crossing == []


def test_every_package_says_its_job_and_what_it_may_import() -> None:
    for init in PACKAGE.glob("*/__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        assert len(doc) > 80 and "import" in doc.lower(), f"{init} needs a docstring saying its " \
            "job and which layers it may import"


# --------------------------------------------------------------------------- negative controls


def test_the_cycle_detector_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_a_planted_package_cycle_is_found() -> None:
    graph = {"scorelab.data.checks": {"scorelab.engine.protocol"},
             "scorelab.engine.protocol": {"scorelab.data.schema"},
             "scorelab.data.schema": set()}
    assert _cycle(package_graph(graph)) in (["data", "engine", "data"],
                                            ["engine", "data", "engine"])


def test_a_planted_upward_import_is_found() -> None:
    graph = {"scorelab.fairness.counts": {"scorelab.evaluate.metrics", "scorelab.core.numeric"},
             "scorelab.data.checks": {"scorelab.models.registry", "scorelab.study.plan"},
             "scorelab.models.registry": set(), "scorelab.core.numeric": set(),
             "scorelab.evaluate.metrics": set(), "scorelab.study.plan": set()}
    assert layer_violations(package_graph(graph), LAYERS) == [
        "data -> study: imports a package of a higher layer",
        "fairness -> evaluate: imports a package of the same layer"]


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
