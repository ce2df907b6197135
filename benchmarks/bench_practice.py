"""Time the credit-practice kernels at scale: the cost curve, the cost-minimising cut-off,
the bootstrap interval of the expected cost, the PSI of a score and of 20 inputs.

Run: ``.venv/bin/python benchmarks/bench_practice.py [n]`` (default 1,000,000 citizens).
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

from scorelab.evaluate.costs import Costs, cost_curve, cost_interval, min_cost_cutoff
from scorelab.evaluate.stability import characteristic_stability, psi
from scorelab.core.scale import approve_share


def _timed(label: str, work) -> object:
    start = time.perf_counter()
    value = work()
    print(f"{label:44s} {time.perf_counter() - start:7.3f} s")
    return value


def main(n: int = 1_000_000) -> None:
    rng = np.random.default_rng(0)
    z = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(z - 1.5)))).astype(np.int8)
    points = np.round(600 - 50 * z + rng.normal(0, 20, n), 1)
    costs = Costs(5.0, 1.0)
    print(f"n={n:,} citizens")
    _timed("cost curve (121 cut-offs)", lambda: cost_curve(y, points, costs,
                                                          np.arange(350, 955, 5.0)))
    cut = _timed("cost-minimising cut-off (every distinct score)",
                 lambda: min_cost_cutoff(y, points, costs))
    approved = points >= cut
    low, high = _timed("expected cost interval (200 replicates)",
                       lambda: cost_interval(y, approved, costs, 200, 0.95, 0))
    _timed("matched approval share (exact, ties broken)", lambda: approve_share(points, 0.7))
    value = _timed("score PSI", lambda: psi(points[: n // 2], points[n // 2:] + 10))
    frame = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(16)} |
                         {f"c{i}": rng.choice(list("abcde"), n) for i in range(4)})
    shifted = frame.assign(x0=frame["x0"] + 0.5)
    table = _timed("input stability (16 numeric + 4 categorical)",
                   lambda: characteristic_stability(frame, shifted, list(frame.columns)))
    print(f"cut-off {cut:.1f}; expected cost interval [{low:.4f}, {high:.4f}]; "
          f"score PSI (+10 points) {value:.3f}; x0 (+0.5 sd) PSI {table['psi'].iloc[0]:.3f} "
          f"{table['light'].iloc[0]}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
