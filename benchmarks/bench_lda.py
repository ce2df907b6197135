"""Speed of ``scorelab lda``: candidates per minute on the 20k default population and the
time to a certificate at the default tolerance. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bench_lda.py [n_citizens] [budget]

The space is the default one (scorecard and a 2x2 LightGBM grid, the age proxies dropped
singly and together) with six seeds per LightGBM configuration, so that it holds 100
candidates (4 feature sets x (1 scorecard + 4 LightGBM x 6 seeds)); the stopping target
is set out of reach so that the whole budget is trained, and the time at which the bound
first fell below the default ``lda.stop_bound`` is reported as the time to a certificate.
The machine's load average is printed at the start and the end: on a shared machine the
figures are only as good as the CPU it gave.
"""

from __future__ import annotations

import os
import sys
import time

from scorelab.config import Lda, load_config
from scorelab.study.population import population_for
from scorelab.lda import run_search

#: The certificate the default config asks for.
DEFAULT_STOP = Lda.model_fields["stop_bound"].default


def _load() -> str:
    return "load average " + ", ".join(f"{x:.1f}" for x in os.getloadavg()) \
        + f" on {os.cpu_count()} CPUs"


def main(n: int = 20_000, budget: int = 100) -> None:
    config = load_config("configs/scenarios/age_proxy.yaml",
                         {"population.n_citizens": n, "lda.budget": budget, "lda.seeds": 6,
                          "lda.stop_bound": 1e-9, "lda.mitigation": False})
    print(_load(), flush=True)
    population, _ = population_for(config)
    start = time.perf_counter()
    first_certificate: list[tuple[float, int]] = []

    def batch(done: int, total: int, bound: float) -> None:
        took = time.perf_counter() - start
        if bound <= DEFAULT_STOP and not first_certificate:
            first_certificate.append((took, done))
        print(f"{done:4d}/{total} candidates  {took:7.1f} s  bound {bound:.4f}", flush=True)

    result = run_search(config, population, budget=budget, on_batch=batch)
    took = time.perf_counter() - start
    trained = len(result.table)
    fits = result.table["fit_seconds"].sum()
    print(f"{trained} candidates (space {result.space_size}) on {n:,} citizens in {took:.1f} s "
          f"(search, reference and truth check): {60 * trained / took:.1f} candidates per "
          f"minute; fold fits took {fits:.0f} s of worker time")
    print(f"time to a certificate at bound {DEFAULT_STOP:g}: "
          + (f"{first_certificate[0][0]:.1f} s after {first_certificate[0][1]} candidates"
             if first_certificate else "not reached"))
    print(_load(), flush=True)


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
