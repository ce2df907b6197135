"""Benchmark: the fairness audit alone (no fitting), at growing population sizes.

Eleven stand-in models (true log-odds plus noise, two of them rounded to few distinct
values like the expert families) on the default config's population; times
``fairness_audit`` (group metrics with 200 bootstrap replicates for both outcomes, the
age audit and its decomposition; no twins, no explanations) and prints the process's
peak RSS (population and predictions included).
Run: .venv/bin/python benchmarks/bench_fairness.py [SIZES]   (default 20000,100000)
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from scorelab.config import config_from_dict, load_config
from scorelab.data import generate_population
from scorelab.fairness.audit import fairness_audit
from scorelab.study.plan import Plan
from scorelab.core.scale import scale_from_config

ROOT = Path(__file__).resolve().parents[1]


def main(n: int) -> None:
    raw = load_config(ROOT / "configs" / "default.yaml").model_dump(mode="json")
    raw["population"]["n_citizens"] = n
    cfg = config_from_dict(raw)
    frame = generate_population(cfg.population, cfg.seed).frame
    scale = scale_from_config(cfg.scale)
    rng = np.random.default_rng(0)
    logit = np.log(frame["true_pd"] / (1 - frame["true_pd"])).to_numpy()
    parts = []
    for k in range(11):
        p = 1 / (1 + np.exp(-(logit + rng.normal(0, 0.5 + 0.1 * k, n))))
        if k < 2:
            p = np.round(p, 2).clip(0.005, 0.995)
        parts.append(pd.DataFrame({"citizen_id": frame["citizen_id"], "model": f"m{k}",
                                   "repeat": 0, "fold": rng.integers(0, 5, n),
                                   "p_default": p, "score": scale.points(p)}))
    predictions = pd.concat(parts, ignore_index=True)
    inputs = {f"m{k}": ["income", "credit_history_years"] for k in range(11)}
    start = time.perf_counter()
    plan = Plan.of(cfg)
    fairness_audit(frame, predictions, fairness=plan.fairness, decision=plan.decision,
                   scale=plan.scale, age=plan.age, seed=plan.seed, model_inputs=inputs)
    took = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"{n:>10,} citizens: fairness audit of 11 models {took:7.1f} s, "
          f"peak RSS {peak:.2f} GiB", flush=True)


if __name__ == "__main__":
    for size in (sys.argv[1] if len(sys.argv) > 1 else "20000,100000").split(","):
        main(int(size))
