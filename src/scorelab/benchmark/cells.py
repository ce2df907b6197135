"""The cells of a benchmark: one ordinary study per dataset and seed.

Every cell is planned (its study config, and the table when it comes from a package)
and checked before any cell runs, so that a wrong column or a missing extra stops the
benchmark in one line at once, not after an hour of fitting. A cell lives in its own
folder (``cells/<dataset>/seed-<seed>/``) where the study runner publishes an ordinary
run directory; a cell is finished when that folder holds a complete run whose manifest
and resolved config say it is this cell's study (:func:`finished_run`), and such a cell
is never refitted.
"""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from scorelab.benchmark.config import BenchmarkConfig, DatasetEntry
from scorelab.config import (
    ExperimentConfig,
    TablePopulation,
    apply_overrides,
    config_from_dict,
    config_hash,
    load_config,
)
from scorelab.core.messages import one_line
from scorelab.data.datasets import DATASETS, PACKAGED, find_repository_root, load_packaged
from scorelab.exceptions import ConfigError, ScorelabError
from scorelab.runs.contract import FORMAT_VERSION, Manifest
from scorelab.runs.housekeeping import INCOMPLETE_PREFIX, remove_stale
from scorelab.study.plan import Plan
from scorelab.study.population import population_for
from scorelab.study.runner import run as run_study

__all__ = ["Cell", "CellOutcome", "finished_run", "plan_cells", "run_cells"]


@dataclass(frozen=True, eq=False)
class Cell:
    """One study of the benchmark: a dataset, a seed, its config and where it lives."""

    dataset: str
    seed: int
    config: ExperimentConfig
    folder: Path
    frame: pd.DataFrame | None = None  # a packaged table, given to the study as a frame

    @property
    def key(self) -> str:
        return f"{self.dataset}/seed-{self.seed}"

    @property
    def identity(self) -> str:
        """The study this cell is, whatever ``--jobs`` or the folder it was run in."""
        return study_identity(self.config)


@dataclass(frozen=True)
class CellOutcome:
    """What became of a cell: done (fitted now), finished (found, not refitted) or
    failed (with its one-line error)."""

    dataset: str
    seed: int
    status: str
    run_dir: Path | None = None
    seconds: float = 0.0
    error: str | None = None


def study_identity(config: ExperimentConfig) -> str:
    """The config hash with the settings that change no number (parallel jobs, the runs
    folder) set to one value."""
    raw = config.model_dump(mode="json")
    raw["evaluation"]["n_jobs"] = 1
    raw["output"]["runs_dir"] = "runs"
    return config_hash(config_from_dict(raw))


def _merge(into: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """``into`` with the nested mapping ``new`` merged in (new wins)."""
    out = copy.deepcopy(into)
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _base_config(bench: BenchmarkConfig, entry: DatasetEntry, where: str
                 ) -> tuple[ExperimentConfig, pd.DataFrame | None]:
    """The dataset's own study (before the benchmark's models and overrides)."""
    if entry.config is not None:
        path = entry.config if entry.config.is_absolute() else bench.base_dir / entry.config
        return load_config(path), None
    if entry.table is not None:
        table = dict(entry.table)
        if table.get("path") is not None and not Path(str(table["path"])).is_absolute():
            table["path"] = str(bench.base_dir / str(table["path"]))
        raw = _merge(bench.defaults, {"name": entry.name,
                                      "population": {"source": "table", **table}})
        return config_from_dict(raw, f"{where}.table"), None
    name = str(entry.dataset)
    if name in PACKAGED:
        spec = PACKAGED[name]
        spec.require(where)
        raw = _merge(bench.defaults, {"name": entry.name, "population": {
            "source": "table", "target": spec.target, "default_value": spec.default_value,
            "protected": dict(spec.protected),
            **({"categorical": list(spec.categorical)} if spec.categorical else {})}})
        if not spec.protected:  # nothing to audit (anonymised attributes)
            raw = _merge(raw, {"fairness": {"enabled": False}})
        return config_from_dict(raw, where), load_packaged(name, where)
    if name in DATASETS:
        root = find_repository_root()
        rel = DATASETS[name]["config"]
        if root is None or rel is None or not (root / rel).is_file():
            raise ConfigError(f"{where}.dataset: '{name}' ships in the repository's data/ "
                              "folder, which is not found from here (run from a checkout)")
        return load_config(root / rel), None
    valid = ", ".join([*DATASETS, *PACKAGED])
    raise ConfigError(f"{where}.dataset: unknown dataset '{name}' (valid: {valid}; or give "
                      "config: or table:)")


def _cell_config(bench: BenchmarkConfig, entry: DatasetEntry, base: ExperimentConfig,
                 where: str) -> ExperimentConfig:
    """The dataset's study with the benchmark's models, overrides and the cell's name."""
    models = []
    for spec in bench.models:
        raw = spec.model_dump(mode="json", exclude_unset=True)
        change = entry.models.get(spec.name, {})
        params = {**raw.get("params", {}), **change.get("params", {})}
        raw = {**raw, **change, **({"params": params} if params else {})}
        models.append(raw)
    raw = base.model_dump(mode="json", exclude_unset=False)
    raw["models"] = models
    raw["name"] = f"{bench.name}-{entry.name}"[:60]
    config = config_from_dict(raw, where)
    overrides = {**bench.overrides, **entry.overrides}
    return apply_overrides(config, overrides, source=f"{where} (with overrides)") \
        if overrides else config


def plan_cells(bench: BenchmarkConfig, folder: Path) -> list[Cell]:
    """Every cell of the benchmark, checked before any runs (one line naming the dataset
    and what is wrong: a missing extra, a wrong column, a bad model or override)."""
    cells: list[Cell] = []
    for entry in bench.datasets:
        where = f"benchmark dataset '{entry.name}'"
        try:
            base, frame = _base_config(bench, entry, where)
            config = _cell_config(bench, entry, base, where)
            plan = Plan.of(config)
            if isinstance(config.population, TablePopulation):
                population_for(plan, frame=frame)  # reads the table: columns, values, rules
        except ScorelabError as exc:
            message = str(exc)
            if not message.startswith(where):
                message = f"{where}: {message}"
            raise type(exc)(message) from None
        for seed in bench.seeds:
            cells.append(Cell(entry.name, seed, apply_overrides(config, {"seed": seed}),
                              folder / "cells" / entry.name / f"seed-{seed}", frame))
    return cells


def finished_run(cell: Cell) -> Path | None:
    """The complete run directory of this cell's study in its folder, if there is one
    (the newest when several are): its manifest is complete and of this format, and its
    resolved config is this cell's study."""
    if not cell.folder.is_dir():
        return None
    for run_dir in sorted(cell.folder.iterdir(), reverse=True):
        if run_dir.name.startswith((INCOMPLETE_PREFIX, ".")) or not run_dir.is_dir():
            continue
        try:
            manifest = Manifest.model_validate_json((run_dir / "manifest.json").read_text())
            resolved = yaml.safe_load((run_dir / "config.resolved.yaml").read_text())
            identity = study_identity(config_from_dict(resolved))
        except (OSError, ValueError, yaml.YAMLError):
            continue  # not a complete run of this format: the cell is run again
        if manifest.format_version == FORMAT_VERSION and identity == cell.identity:
            return run_dir
    return None


def _run_cell(cell: Cell, n_jobs: int | None) -> CellOutcome:
    """Run one cell's study; a failure is its one-line error, never a stop."""
    start = time.perf_counter()
    config = cell.config if n_jobs is None else \
        apply_overrides(cell.config, {"evaluation.n_jobs": n_jobs})
    try:
        cell.folder.mkdir(parents=True, exist_ok=True)
        remove_stale(cell.folder)  # the unfinished run of a killed benchmark
        result = run_study(config, runs_dir=cell.folder, population=cell.frame)
    except ScorelabError as exc:
        error = one_line(exc, 400)
    except Exception as exc:  # noqa: BLE001 - a cell's failure must not stop the others
        error = one_line(f"{type(exc).__name__}: {exc}", 400)
    else:
        return CellOutcome(cell.dataset, cell.seed, "done", result.run_dir,
                           time.perf_counter() - start)
    return CellOutcome(cell.dataset, cell.seed, "failed", None,
                       time.perf_counter() - start, error)


def run_cells(cells: list[Cell], jobs: int = 1,
              on_cell: Callable[[CellOutcome, int, int], None] | None = None
              ) -> list[CellOutcome]:
    """Run the unfinished cells (``jobs`` at a time, within the machine's cores) and
    return every cell's outcome in cell order; ``on_cell(outcome, done, total)`` as
    each one ends."""
    outcomes: dict[str, CellOutcome] = {}
    todo: list[Cell] = []
    for cell in cells:
        found = finished_run(cell)
        if found is not None:
            outcomes[cell.key] = CellOutcome(cell.dataset, cell.seed, "finished", found)
        else:
            todo.append(cell)
    total = len(cells)
    for outcome in outcomes.values():
        if on_cell is not None:
            on_cell(outcome, len(outcomes), total)
    jobs = max(1, min(jobs, os.cpu_count() or 1, len(todo) or 1))
    for outcome in _execute(todo, jobs):
        outcomes[f"{outcome.dataset}/seed-{outcome.seed}"] = outcome
        if on_cell is not None:
            on_cell(outcome, len(outcomes), total)
    return [outcomes[c.key] for c in cells]


def _execute(todo: list[Cell], jobs: int) -> Iterator[CellOutcome]:
    """The cells' outcomes as they end: in this process, or ``jobs`` worker processes
    (each cell then fits on one core, so cells never fight over cores)."""
    if jobs == 1:
        for cell in todo:
            yield _run_cell(cell, None)
        return
    from joblib import Parallel, delayed

    parallel = Parallel(n_jobs=jobs, backend="loky", return_as="generator_unordered")
    yield from parallel(delayed(_run_cell)(cell, 1) for cell in todo)
