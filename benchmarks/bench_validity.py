"""Benchmark: the checks against the planted truth at the size people run.

Runs a synthetic study (the default config unless another is given) at N citizens in
memory, explanations off (no check reads them), and prints how many checks held per
analysis, every check that did not, and each model's residual of the age-gap
decomposition with its interval and the two pieces of its twin-based part (the twins'
move and the rest against citizens of the twins' ages).

Run: .venv/bin/python benchmarks/bench_validity.py [N] [CONFIG] [MODEL,MODEL,...]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from scorelab.config import load_config
from scorelab.data.synthetic import generate_population
from scorelab.study.plan import Plan
from scorelab.study.runner import run_study
from scorelab.truth.planted import truth_checks, validity_summary

ROOT = Path(__file__).resolve().parents[1]


def main(n: int, config: Path, models: list[str]) -> None:
    cfg = load_config(config).with_({"population.n_citizens": n, "explain.enabled": False})
    if models:
        cfg = cfg.with_({"models": [m.model_dump(mode="json", exclude_unset=True)
                                    for m in cfg.models if m.name in models]})
    plan = Plan.of(cfg)
    start = time.perf_counter()
    population = generate_population(cfg.population, cfg.seed)
    result = run_study(plan, population, {})
    fairness = json.loads(json.dumps(result.fairness.model_dump(mode="json")))
    checks = truth_checks(cfg.name, cfg.population, population.frame, fairness,
                          seed=plan.seed, age=plan.age,
                          twin_age_shift=plan.fairness.twin_age_shift,
                          features=population.features,
                          inputs={m.name: m.columns for m in result.models})
    summary = validity_summary(cfg.name, checks)
    print(f"{config.name} at {n:,} citizens, seed {cfg.seed}, {len(fairness['models'])} "
          f"models; {time.perf_counter() - start:.0f} s")
    print(f"{summary['n_passed']} of {summary['n_checks']} checks held, "
          f"{summary['n_failed']} did not")
    for row in summary["by_analysis"]:
        print(f"  {row['analysis']}: held {row['passed']}, missed {row['failed']}, "
              f"not rated {row['unrated']}" + (f" (missed by {', '.join(row['missed_by'])})"
                                                 if row["missed_by"] else ""))
    for c in checks:
        if c.passed is False:
            print(f"  MISSED {c.model} / {c.analysis}: {c.recovered:+.2f} "
                  f"[{c.low:+.2f}, {c.high:+.2f}]; expected {c.expected}")
    print(f"{'model':26s} {'residual [95% interval]':>26s} {'twins':>7s} {'ages':>7s} "
          f"{'true risk':>9s}")
    for model, entry in fairness["models"].items():
        d = entry["age"]["decomposition"]
        lo, hi = d["intervals"]["residual"]
        parts = d.get("response_parts") or {}
        print(f"{model:26s} {d['residual']:+7.2f} [{lo:+7.2f}, {hi:+7.2f}]   "
              f"{parts.get('twins', float('nan')):+7.2f} "
              f"{parts.get('age_composition', float('nan')):+7.2f} "
              f"{d['true_risk']:+9.2f}")


if __name__ == "__main__":
    args = sys.argv[1:]
    main(int(args[0]) if args else 20_000,
         Path(args[1]) if len(args) > 1 else ROOT / "configs" / "default.yaml",
         args[2].split(",") if len(args) > 2 else [])
