"""Benchmark: score 1,000,000 new applicants with a run's final LightGBM and scorecard
models, with adverse-action reasons; print rows per second and peak memory.

A 20,000-citizen study is run first (LightGBM and the scorecard only; its models are
saved), then a fresh synthetic population of N applicants (another seed) is written to
Parquet and scored by ``scorelab score`` in a subprocess, whose peak RSS is read from
the operating system.

Run: .venv/bin/python benchmarks/bench_score.py [N] [CHUNK]
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scorelab.config import config_from_dict
from scorelab.data.synthetic import generate_population
from scorelab.study.runner import run


def main(n: int, chunk: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench_score-"))
    cfg = config_from_dict({
        "name": "bench_score", "seed": 1, "population": {"n_citizens": 20_000},
        "models": [{"family": "trees", "name": "lightgbm"},
                   {"family": "logit", "name": "scorecard"}],
        "evaluation": {"folds": 5, "bootstrap": 0, "n_jobs": 2},
        "explain": {"enabled": False}, "fairness": {"enabled": False},
        "output": {"save_models": "final"}})
    start = time.perf_counter()
    run_dir = run(cfg, runs_dir=work / "runs").run_dir
    print(f"study of 20,000 citizens: {time.perf_counter() - start:.1f} s -> {run_dir}")
    applicants = generate_population(cfg.population.model_copy(update={"n_citizens": n}), 99)
    table = work / "applicants.parquet"
    applicants.frame.drop(columns=["defaulted", "latent_reliability", "true_pd",
                                   "true_default"]).to_parquet(table, index=False)
    print(f"{n:,} applicants written ({table.stat().st_size / 2**20:.0f} MiB Parquet)")
    for model in ("lightgbm", "scorecard"):
        out = work / f"scored-{model}.parquet"
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        start = time.perf_counter()
        subprocess.run([str(Path(sys.executable).with_name("scorelab")), "score", str(run_dir),
                        str(table), "--out", str(out), "--model", model, "--reasons", "4",
                        "--chunk-size", str(chunk)], check=True, stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        print(f"{model:>10}: {n:,} rows with 4 reasons in {seconds:.1f} s "
              f"({n / seconds:,.0f} rows/s), peak RSS of the scorer "
              f"{max(peak, before) / 2**20:.2f} GiB (chunk {chunk:,} rows)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000,
         int(sys.argv[2]) if len(sys.argv) > 2 else 100_000)
