"""Speed of ``scorelab benchmark``: configs/benchmark.yaml (German, Australian, the
Romanian data and three synthetic scenarios at 5,000 citizens, three seeds, the German
config's families that need no table-specific rules), timed per cell. Prints figures;
asserts nothing. Aim: under 30 minutes on 2 cores.

    .venv/bin/python benchmarks/bench_benchmark.py [--reduced] [--jobs N] [--out DIR]

``--reduced`` runs one seed, three families (scorecard, LightGBM, EBM), 2,000 synthetic
citizens and 3 folds: the same cells' shape in a few minutes. A second run over the same
folder resumes (every cell finished): that time is the benchmark's own overhead (reading
the runs, the statistics and the report). The machine's load average is printed at the
start and the end: on a shared machine the figures are only as good as the CPU it gave.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import yaml

from scorelab import api
from scorelab.benchmark.config import benchmark_from_dict

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "benchmark.yaml"


def _load() -> str:
    return "load average " + ", ".join(f"{x:.1f}" for x in os.getloadavg()) \
        + f" on {os.cpu_count()} CPUs"


def _config(reduced: bool) -> object:
    raw = yaml.safe_load(CONFIG.read_text())
    if reduced:
        raw["seeds"] = [1]
        raw["models"] = [m for m in raw["models"] if m["name"] in
                         ("scorecard", "lightgbm", "ebm")]
        for entry in raw["datasets"]:
            if "config" in entry:
                entry["overrides"] = {**entry.get("overrides", {}),
                                      "population.n_citizens": 2000}
        raw["overrides"] = {**raw.get("overrides", {}), "evaluation.folds": 3,
                            "evaluation.bootstrap": 50, "fairness.bootstrap": 50}
        raw["name"] = "credit_families_reduced"
    return benchmark_from_dict(raw, str(CONFIG), CONFIG.parent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reduced", action="store_true")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="scorelab-bench-benchmark-"))
    config = _config(args.reduced)
    print(_load(), flush=True)

    def cell(outcome: object, done: int, total: int) -> None:
        line = f"{outcome.dataset:22s} seed {outcome.seed}  {outcome.status:8s}"
        if outcome.status != "finished":
            line += f" {outcome.seconds:7.1f} s"
        if outcome.error:
            line += f"  {outcome.error}"
        print(f"{done:3d}/{total}  {line}", flush=True)

    start = time.perf_counter()
    result = api.benchmark(config, jobs=args.jobs, runs_dir=out, on_cell=cell)
    took = time.perf_counter() - start
    fitted = [c for c in result.statistics["cells"] if c.get("fit_seconds")]
    print(f"benchmark: {len(result.outcomes)} cells in {took:.1f} s with --jobs "
          f"{args.jobs} ({len(result.failed)} failed)")
    for c in fitted:
        print(f"  {c['dataset']:22s} seed {c['seed']}  {c['n_citizens']:6d} rows  "
              f"run's own stages {c['fit_seconds']:7.1f} s")
    start = time.perf_counter()
    api.benchmark(config, jobs=args.jobs, runs_dir=out)
    print(f"rerun (every cell finished, nothing refitted): {time.perf_counter() - start:.1f} s")
    for ranking in result.statistics["rankings"].values():
        ranks = ", ".join(f"{m} {r:.2f}" for m, r in sorted(
            ranking["average_ranks"].items(), key=lambda kv: kv[1]))
        print(f"{ranking['label']}: {ranks}")
    print(f"report: {result.folder / 'report.html'}")
    print(_load(), flush=True)


if __name__ == "__main__":
    main()
