"""Benchmark: the default study on 100k citizens, stage by stage.

Prints wall time and peak memory per stage (generate, fit + predict of every family
over all folds, metrics), so the slowest stage is visible.
Run: .venv/bin/python benchmarks/bench_run.py [N_CITIZENS] [CONFIG]
"""

from __future__ import annotations

import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

from scorelab.config import config_from_dict, load_config
from scorelab.data.synthetic import SCHEMA
from scorelab.study.plan import Plan
from scorelab.engine import make_folds
from scorelab.study.population import population_for
from scorelab.evaluate.summary import evaluate
from scorelab.engine import fit_folds

ROOT = Path(__file__).resolve().parents[1]


def _rss_gib() -> float:
    """Peak RSS of this process (joblib's loky workers live on and are not counted)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def main(n: int, config_path: Path) -> None:
    raw = load_config(config_path).model_dump(mode="json")
    raw["population"]["n_citizens"] = n
    cfg = config_from_dict(raw)
    rows = []

    tracemalloc.start()
    start = time.perf_counter()
    pop, _ = population_for(cfg)
    rows.append(("generate", time.perf_counter() - start, tracemalloc.get_traced_memory()[1]))
    tracemalloc.reset_peak()

    y = pop.frame["defaulted"].to_numpy().astype(np.int64)
    folds = make_folds(y, cfg.evaluation.folds, cfg.evaluation.repeats, cfg.seed)
    plan = Plan.of(cfg)
    models, _ = plan.prepare(SCHEMA)
    oof = {}
    for model in models:
        start = time.perf_counter()
        oof.update(fit_folds([model], pop.frame, y, folds, n_jobs=cfg.evaluation.n_jobs).oof)
        rows.append((f"fit+predict {model.spec.name}", time.perf_counter() - start,
                     tracemalloc.get_traced_memory()[1]))
        tracemalloc.reset_peak()

    start = time.perf_counter()
    metrics, _ = evaluate(models, oof, y, pop.frame, folds, evaluation=plan.evaluation,
                          decision=plan.decision, fairness=plan.fairness, scale=plan.scale,
                          age=plan.age, seed=plan.seed)
    rows.append(("metrics (all families, bootstrap "
                 f"{cfg.evaluation.bootstrap})", time.perf_counter() - start,
                 tracemalloc.get_traced_memory()[1]))

    total = sum(r[1] for r in rows)
    print(f"default study, {n:,} citizens, {cfg.evaluation.folds} folds x "
          f"{cfg.evaluation.repeats}, n_jobs={cfg.evaluation.n_jobs}")
    print(f"{'stage':<44} {'wall s':>8} {'share':>6} {'peak MiB (main)':>16}")
    for name, seconds, peak in rows:
        print(f"{name:<44} {seconds:8.2f} {seconds / total:6.1%} {peak / 2**20:16.0f}")
    print(f"{'total':<44} {total:8.2f}")
    print(f"peak RSS of the main process: {_rss_gib():.2f} GiB (workers not included)")
    print("AUC: " + ", ".join(f"{k} {v['observed']['auc']:.3f}"
                              for k, v in metrics["models"].items()))

    # The whole study as `scorelab run` does it: explanations and the fairness audit too.
    from scorelab.runs import Stopwatch
    from scorelab.study.runner import run_study

    clock = Stopwatch()
    start = time.perf_counter()
    pop, card = population_for(cfg)
    result = run_study(cfg, pop, card, clock=clock)
    print(f"\nwhole study (scorelab run without writing): {time.perf_counter() - start:.1f} s")
    for stage, seconds in clock.seconds.items():
        print(f"  {stage:<14} {seconds:8.2f} s")
    if result.importance is not None:
        print("  explain seconds per model (summed over workers): " + ", ".join(
            f"{k} {v:.1f}" for k, v in result.importance["explain_seconds"].items()))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000,
         Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "configs" / "default.yaml")
