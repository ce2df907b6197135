"""The default-study timing table on a Dask LocalCluster (compute.backend: dask).

Prints, per population size, each stage's time and the run's peak memory (this
process; the workers' memory is their own), for the dask backend beside the local one.
Run: .venv/bin/python benchmarks/bench_dask.py [--sizes 20000 100000] [--workers 2]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from scorelab.config import load_config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--backends", nargs="+", default=["dask", "local"])
    parser.add_argument("--config", default="configs/default.yaml")
    args = parser.parse_args()
    from scorelab.study.runner import run

    with tempfile.TemporaryDirectory() as runs:
        for n in args.sizes:
            for backend in args.backends:
                cfg = load_config(args.config).with_({
                    "population.n_citizens": n, "compute.backend": backend,
                    "compute.dask.n_workers": args.workers})
                start = time.perf_counter()
                result = run(cfg, runs_dir=Path(runs))
                total = time.perf_counter() - start
                peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
                stages = "  ".join(f"{k} {v:.1f}" for k, v in result.timings.items())
                auc = result.metrics["models"].get("lightgbm", {}).get("observed", {})
                print(f"{backend:5s} n={n:>9,}  total {total:7.1f} s  peak RSS {peak:5.2f} GiB"
                      f"  lightgbm AUC {auc.get('auc', float('nan')):.4f}  | {stages}",
                      flush=True)


if __name__ == "__main__":
    main()
