"""Benchmark: coverage of the 95% bootstrap intervals over re-drawn populations.

The 'all' scenario (every cause planted, label bias on the young), the scorecard and
LightGBM trained once on a training draw (and once on the true outcome); DRAWS new
populations of N citizens (new seeds, same causal model) get their intervals exactly as a
run computes them; each is set against the population value of a REF-citizen draw
(default 100 x N: its own error is then a tenth of a draw's standard deviation).
Prints coverage per statistic (aim: 0.93-0.97) with its Monte Carlo standard error and
the mean interval width, then per statistic and model the bootstrap's standard error
against the spread of the estimates over the draws and their bias (what a coverage off
0.95 comes from); every 10 draws it prints the running coverage and writes the
rows so far to OUT (default coverage_rows.csv), so a long run can be stopped and read.

Run: .venv/bin/python benchmarks/bench_coverage.py [DRAWS] [N] [REF] [OUT]
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

from scorelab.data.synthetic import SCHEMA
from scorelab.study.plan import Plan
from scorelab.study.scenarios import scenario_configs
from scorelab.truth.coverage import REFERENCE_MULTIPLE, coverage_summary, interval_coverage


def _report(rows: pd.DataFrame) -> str:
    """Coverage per statistic with its Monte Carlo standard error sqrt(p (1 - p) / n)."""
    summary = coverage_summary(rows)
    summary["mc_se"] = np.sqrt(summary["coverage"] * (1 - summary["coverage"])
                               / summary["intervals"])
    return summary.to_string(index=False, float_format=lambda v: f"{v:.3f}")


def _calibration(rows: pd.DataFrame) -> str:
    """Per statistic and model: the interval's mean half-width in standard errors against
    the spread of the estimates over the draws (se / sd: 1 when the bootstrap sees the
    sampling error the draws show; a normal interval then covers 95%) and the bias of the
    estimates against the population value, in those standard deviations."""
    rows = rows.assign(se=(rows["high"] - rows["low"]) / (2 * 1.959964))
    by = rows.groupby(["statistic", "model"], sort=False)
    sd = by["value"].std()
    out = pd.DataFrame({"draws": by.size(), "sd_over_draws": sd,
                        "mean_bootstrap_se": by["se"].mean(),
                        "bias_in_sd": (by["value"].mean() - by["population_value"].first())
                        / sd, "coverage": by["covered"].mean()})
    out["se_over_sd"] = out["mean_bootstrap_se"] / out["sd_over_draws"]
    # sd from R draws has a relative standard error of about 1 / sqrt(2 (R - 1))
    out["se_over_sd_mc"] = out["se_over_sd"] / np.sqrt(2 * (out["draws"] - 1))
    return out.to_string(float_format=lambda v: f"{v:.3f}")


def main(draws: int, n: int, ref: int, out: str) -> None:
    config = scenario_configs(["all"])["all"]
    plan = Plan.of(config)
    models, _ = plan.prepare(SCHEMA)
    start = time.perf_counter()

    def progress(rows: pd.DataFrame) -> None:
        done = int(rows["draw"].max()) + 1
        if done % 10 == 0:
            rows.to_csv(out, index=False)
            print(f"{done} draws, {time.perf_counter() - start:.0f} s: all intervals "
                  f"{rows['covered'].mean():.3f} of {len(rows)}", flush=True)

    rows = interval_coverage(
        config.population, models, fairness=plan.fairness, decision=plan.decision,
        scale=plan.scale, age=plan.age, seed=plan.seed, sample=plan.sample, draws=draws,
        n_citizens=n, reference_citizens=ref, on_draw=progress)
    rows.to_csv(out, index=False)
    print(f"{draws} draws of {n:,} citizens, population values from {ref:,} (their own "
          f"error about {np.sqrt(n / ref):.2f} of a draw's standard deviation), models "
          f"{', '.join(rows['model'].unique())}, {config.fairness.bootstrap} bootstrap "
          f"replicates; {time.perf_counter() - start:.0f} s")
    print(_report(rows))
    print(_calibration(rows))
    print(f"all intervals: {rows['covered'].mean():.3f} of {len(rows)}")


if __name__ == "__main__":
    args = sys.argv[1:]
    numbers = [int(a) for a in args[:3]]
    numbers += [100, 2000][len(numbers):]
    numbers += [REFERENCE_MULTIPLE * numbers[1]][len(numbers) - 2:]
    main(*numbers,
         args[3] if len(args) > 3 else "coverage_rows.csv")
