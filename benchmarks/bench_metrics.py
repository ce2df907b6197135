"""Time the vectorised bootstrap of every metric: 100,000 citizens x 200 replicates.

Run: ``.venv/bin/python benchmarks/bench_metrics.py [n] [n_boot]``.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from scorelab.evaluate import bootstrap_intervals, delong_test, metric_table
from scorelab.evaluate.metrics import BOOTSTRAP_MAX_GROUPS


def main(n: int = 100_000, n_boot: int = 200) -> None:
    """Print the time of the point metrics, the bootstrap intervals and a DeLong test."""
    rng = np.random.default_rng(0)
    y = (rng.random(n) < 0.2).astype(int)
    z = rng.normal(size=n)
    p = 1 / (1 + np.exp(-(z + 1.2 * y - 1.5)))
    p_b = 1 / (1 + np.exp(-(0.7 * z + rng.normal(size=n) + y - 1.5)))
    approved = p < 0.3

    t0 = time.perf_counter()
    metric_table(y, p, approved)
    t1 = time.perf_counter()
    ci = bootstrap_intervals(y, p, approved, n_boot=n_boot, seed=0)
    t2 = time.perf_counter()
    delong_test(y, p, p_b)
    t3 = time.perf_counter()
    exact = bootstrap_intervals(y, p, approved, n_boot=n_boot, seed=0, max_groups=None)
    t4 = time.perf_counter()
    print(f"n={n:,} citizens, n_boot={n_boot}")
    print(f"metric_table:        {t1 - t0:6.3f} s")
    print(f"bootstrap_intervals: {t2 - t1:6.3f} s (rank metrics on "
          f"{BOOTSTRAP_MAX_GROUPS:,} rank groups when more distinct scores)")
    print(f"  every distinct score: {t4 - t3:6.3f} s")
    print(f"delong_test:         {t3 - t2:6.3f} s")
    print("  metric                 interval (grouped)   largest endpoint shift vs exact")
    for key, (low, high) in ci.items():
        shift = max(abs(low - exact[key][0]), abs(high - exact[key][1]))
        print(f"  {key:22s} [{low:.4f}, {high:.4f}]   {shift:.1e}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
