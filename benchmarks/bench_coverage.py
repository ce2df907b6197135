"""Benchmark: coverage of the 95% bootstrap intervals over re-drawn populations.

The 'all' scenario (every cause planted, label bias on the young), the scorecard and
LightGBM trained once on a training draw (and once on the true outcome); DRAWS new
populations of N citizens (new seeds, same causal model) get their intervals exactly as a
run computes them; each is set against the population value of a REF-citizen draw.
Prints coverage per statistic (aim: 0.93-0.97) and the mean interval width.

Run: .venv/bin/python benchmarks/bench_coverage.py [DRAWS] [N] [REF]
"""

from __future__ import annotations

import sys
import time

from scorelab.study.scenarios import interval_coverage
from scorelab.truth.coverage import coverage_summary
from scorelab.study.scenarios import scenario_configs


def main(draws: int, n: int, ref: int) -> None:
    config = scenario_configs(["all"])["all"]
    start = time.perf_counter()
    rows = interval_coverage(config, draws=draws, n_citizens=n, reference_citizens=ref)
    summary = coverage_summary(rows)
    print(f"{draws} draws of {n:,} citizens, population values from {ref:,}, models "
          f"{', '.join(rows['model'].unique())}, {config.fairness.bootstrap} bootstrap "
          f"replicates; {time.perf_counter() - start:.0f} s")
    print(summary.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"all intervals: {rows['covered'].mean():.3f} of {len(rows)}")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*(args + [100, 2000, 200_000][len(args):]))
