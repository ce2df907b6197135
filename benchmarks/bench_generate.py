"""Benchmark: generate 1,000,000 citizens; print rows/s, peak memory and the ratio of the
generator's time to the time numpy takes to draw the same count of random numbers.

Run: .venv/bin/python benchmarks/bench_generate.py [N]
"""

from __future__ import annotations

import resource
import sys
import time
import tracemalloc

import numpy as np

from scorelab.config import config_from_dict
from scorelab.data.synthetic import _NORMALS, _UNIFORMS, draw_exogenous, generate_population


def _best_of(repeats: int, func) -> float:  # type: ignore[no-untyped-def]
    """Shortest wall time of ``repeats`` calls (memory reuse evens out after the first)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def main(n: int) -> None:
    cfg = config_from_dict({"seed": 1, "population": {"n_citizens": n}})
    generate_population(cfg.population.model_copy(update={"n_citizens": 1000}), 1)  # warm-up

    draws = len(_UNIFORMS) + len(_NORMALS) + 1
    rng = np.random.default_rng(0)
    def raw_draws() -> list[np.ndarray]:
        kept = [rng.random(n) for _ in _UNIFORMS] + [rng.standard_normal(n) for _ in _NORMALS]
        return [*kept, rng.beta(1.6, 2.6, n)]

    raw = _best_of(3, raw_draws)
    exo = _best_of(3, lambda: draw_exogenous(n, 1))
    gen = _best_of(3, lambda: generate_population(cfg.population, cfg.seed))

    tracemalloc.start()
    start = time.perf_counter()
    pop = generate_population(cfg.population, cfg.seed)
    total = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"citizens:                  {n:,} ({pop.frame.shape[1]} columns)")
    print(f"raw numpy draws ({draws} x n):  {raw:.2f} s (best of 3)")
    print(f"exogenous draws:           {exo:.2f} s")
    print(f"generate_population:       {gen:.2f} s  ({n / gen:,.0f} rows/s; best of 3)")
    print(f"  (traced run, slower):    {total:.2f} s")
    print(f"ratio to raw draws:        {gen / raw:.1f}x  (target <= 5x)")
    print(f"peak traced memory:        {peak / 2**30:.2f} GiB  (target < 2 GiB)")
    print(f"peak RSS of the process:   {rss / 1024:.2f} GiB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
