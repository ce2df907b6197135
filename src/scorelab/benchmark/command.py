"""``scorelab benchmark``: plan and check every cell, run the unfinished ones, then write
the results table, the manifest, the statistics and the report.

The benchmark folder (``<runs-dir>/benchmark-<name>/``) has a stable name, so running the
same config again resumes it: finished cells are found by their manifests and never
refitted, and the tables are rebuilt from every cell's run directory, so an interrupted
benchmark rerun gives the same results table as one that ran through.

```
benchmark-<name>/
  benchmark.yaml        the benchmark config as resolved
  manifest.json         versions, seeds, every cell: status, run, config hash, split hash
  results.parquet       dataset, seed, fold, model, metric, value
  statistics.json       ranks, Friedman, CD, pairwise tests, against the control, tau
  report.html report.md
  cells/<dataset>/seed-<seed>/<run directory>
```
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from scorelab.benchmark.cells import Cell, CellOutcome, plan_cells, run_cells
from scorelab.benchmark.config import METRICS, BenchmarkConfig, load_benchmark_config
from scorelab.benchmark.report import cd_diagram_svg, pareto_ranks_svg, render
from scorelab.benchmark.results import RESULT_COLUMNS, cell_results, split_hash
from scorelab.benchmark.stats import (
    FEW_DATASETS,
    against_control,
    all_rankings,
    kendall_between,
    pareto_front,
    win_tie_loss,
)
from scorelab.core.jsonable import dumps
from scorelab.core.messages import one_line
from scorelab.data.io import write_atomically
from scorelab.exceptions import ConfigError, ScorelabError
from scorelab.runs.reader import load_run
from scorelab.runs.writer import package_versions

__all__ = ["BENCHMARK_FORMAT", "BenchmarkResult", "benchmark", "benchmark_folder"]

#: Version of the benchmark folder's format (bumped on any change).
BENCHMARK_FORMAT = 1


@dataclass
class BenchmarkResult:
    """A finished (or partly failed) benchmark: its folder, cells, results, statistics."""

    folder: Path
    outcomes: list[CellOutcome]
    results: pd.DataFrame
    statistics: dict[str, Any]

    @property
    def failed(self) -> list[CellOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]


def benchmark_folder(config: BenchmarkConfig, runs_dir: str | Path | None) -> Path:
    return Path(runs_dir or "runs") / f"benchmark-{config.name}"


def benchmark(config: BenchmarkConfig | str | Path, *, jobs: int = 1,
              runs_dir: str | Path | None = None,
              on_cell: Callable[[CellOutcome, int, int], None] | None = None,
              on_plan: Callable[[list[Cell]], None] | None = None) -> BenchmarkResult:
    """Run a benchmark (see the module doc); ``on_cell(outcome, done, total)`` as each
    cell ends (or is found finished)."""
    if not isinstance(config, BenchmarkConfig):
        config = load_benchmark_config(config)
    if jobs < 1:
        raise ConfigError(f"--jobs: {jobs} is not a number of parallel cells (1 or more)")
    folder = benchmark_folder(config, runs_dir)
    cells = plan_cells(config, folder)  # every dataset checked before any cell runs
    if on_plan is not None:
        on_plan(cells)
    folder.mkdir(parents=True, exist_ok=True)
    write_atomically({folder / "benchmark.yaml": yaml.safe_dump(
        config.model_dump(mode="json"), sort_keys=False).encode()}, force=True)
    outcomes = run_cells(cells, jobs=jobs, on_cell=on_cell)
    return _conclude(config, folder, outcomes)


def _conclude(config: BenchmarkConfig, folder: Path, outcomes: list[CellOutcome]
              ) -> BenchmarkResult:
    """Read every finished cell's run directory; write results, manifest, statistics
    and the report."""
    control = config.control
    tables, cells_info, final = [], [], []
    for outcome in outcomes:
        info: dict[str, Any] = {"dataset": outcome.dataset, "seed": outcome.seed,
                                "status": outcome.status, "seconds": round(outcome.seconds, 2),
                                "error": outcome.error}
        run = None
        if outcome.run_dir is not None:
            try:
                run = load_run(outcome.run_dir)
            except ScorelabError as exc:  # found complete, but an artifact fails its contract
                info.update(status="failed", error=one_line(exc, 400))
                outcome = CellOutcome(outcome.dataset, outcome.seed, "failed", None,
                                      outcome.seconds, info["error"])
        final.append(outcome)
        if run is not None and outcome.run_dir is not None:
            tables.append(cell_results(run, outcome.dataset, outcome.seed, control))
            man = run.manifest
            info.update(run=str(outcome.run_dir.relative_to(folder)), run_id=man["run_id"],
                        config_hash=man["config_hash"],
                        data_fingerprint=man["data_fingerprint"],
                        n_citizens=man["n_citizens"], split_hash=split_hash(run),
                        fit_seconds=round(sum(man["timings_seconds"].values()), 2),
                        report=(str(outcome.run_dir.relative_to(folder) / "report.html")
                                if (outcome.run_dir / "report.html").is_file() else None))
        cells_info.append(info)
    results = (pd.concat(tables, ignore_index=True) if tables else
               pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(
                   RESULT_COLUMNS, ["object", "int64", "Int64", "object", "object",
                                    "float64"], strict=True)}))
    results = results.sort_values(["dataset", "seed", "model", "metric", "fold"],
                                  na_position="first", kind="stable").reset_index(drop=True)
    statistics = compute_statistics(config, results, cells_info)
    _write(config, folder, results, statistics, cells_info)
    return BenchmarkResult(folder, final, results, statistics)


def compute_statistics(config: BenchmarkConfig, results: pd.DataFrame,
                       cells: list[dict[str, Any]], figures: bool = True) -> dict[str, Any]:
    """Every cross-dataset statistic of the benchmark, JSON-ready (with ``figures``, the
    CD diagrams and the Pareto chart as inline SVG for the report)."""
    st = config.statistics
    rankings = all_rankings(results, list(st.metrics), st.alpha, st.posthoc) \
        if not results.empty else {}
    accuracy_name = st.metrics[0]
    accuracy = METRICS[accuracy_name]
    as_dict = {name: {**r.as_dict(), "fairness": METRICS[name].fairness}
               for name, r in rankings.items()}
    kendall, front, pareto_svg = {}, [], None
    first = rankings.get(accuracy_name)
    if first is not None:
        for name, r in rankings.items():
            if METRICS[name].fairness:
                tau = kendall_between(first, r)
                if tau is not None:
                    kendall[name] = tau
        fair = [r for n, r in rankings.items() if METRICS[n].fairness]
        if fair:
            front = pareto_front(first, fair[0])
            if figures:
                pareto_svg = pareto_ranks_svg(as_dict[accuracy_name],
                                              as_dict[fair[0].metric], front)
    for r in as_dict.values():
        r["svg"] = cd_diagram_svg(r, st.alpha) if figures else None
    versus = (against_control(results, config.control, accuracy, st.rope, st.alpha,
                              st.bayes_samples) if not results.empty else pd.DataFrame())
    wtl = win_tie_loss(results, config.control, st.alpha) if not results.empty else \
        pd.DataFrame()
    return {"name": config.name, "control": config.control, "alpha": st.alpha,
            "rope": st.rope, "accuracy": accuracy.label, "few_datasets": FEW_DATASETS,
            "seeds": list(config.seeds),
            "datasets": sorted(results["dataset"].unique().tolist()) if len(results) else [],
            "rankings": as_dict, "kendall": kendall, "pareto_front": front,
            "pareto_svg": pareto_svg,
            "against_control": versus.to_dict(orient="records"),
            "win_tie_loss": wtl.to_dict(orient="records"),
            "cells": cells, "versions": package_versions()}


def _write(config: BenchmarkConfig, folder: Path, results: pd.DataFrame,
           statistics: dict[str, Any], cells: list[dict[str, Any]]) -> None:
    manifest = {"format_version": BENCHMARK_FORMAT, "name": config.name,
                "updated": datetime.now(UTC).isoformat(timespec="seconds"),
                "versions": statistics["versions"], "seeds": list(config.seeds),
                "datasets": [d.name for d in config.datasets],
                "models": [m.name for m in config.models], "control": config.control,
                "cells": cells,
                "failed": sum(c["status"] == "failed" for c in cells)}
    plain = {**statistics, "pareto_svg": None,
             "rankings": {k: {**v, "svg": None} for k, v in statistics["rankings"].items()}}
    html, md = render(statistics, f"scorelab benchmark: {config.name}")
    buffer = _parquet_bytes(results)
    write_atomically({folder / "results.parquet": buffer,
                      folder / "manifest.json": dumps(manifest).encode(),
                      folder / "statistics.json": dumps(plain).encode(),
                      folder / "report.html": html.encode(),
                      folder / "report.md": md.encode()}, force=True)


def _parquet_bytes(frame: pd.DataFrame) -> bytes:
    import io

    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    return buf.getvalue()
