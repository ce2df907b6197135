"""Benchmark: reason fidelity on the default population, per model, with its interval.

Runs the default study (or CONFIG) at N citizens with explanations and adverse-action
reasons on, and prints for each model the share of the declined (in the audit sample)
whose first reason is their truly largest adverse nameable term (see
:mod:`scorelab.explain.fidelity`), its 95% Wilson interval, how many were counted, and
for how many the latent remainder no input names would have been larger.

Run: .venv/bin/python benchmarks/bench_fidelity.py [N] [MODEL,MODEL,...] [CONFIG]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from scorelab.config import load_config
from scorelab.data.synthetic import generate_population
from scorelab.study.runner import run_study

ROOT = Path(__file__).resolve().parents[1]


def main(n: int, models: list[str], config: Path) -> None:
    cfg = load_config(config).with_({"population.n_citizens": n})
    if models:
        cfg = cfg.with_({"models": [m.model_dump(mode="json", exclude_unset=True)
                                    for m in cfg.models if m.name in models]})
    start = time.perf_counter()
    result = run_study(cfg, generate_population(cfg.population, cfg.seed), {})
    print(f"{config.name} at {n:,} citizens, seed {cfg.seed}; "
          f"{time.perf_counter() - start:.0f} s")
    print(f"{'model':26s} {'fidelity [95%]':>22s} {'counted':>13s} {'latent larger':>13s}  "
          "true top terms")
    for model, summary in (result.adverse.summary["models"] if result.adverse else {}).items():
        f = summary.get("fidelity") or {}
        if f.get("fidelity") is None:
            print(f"{model:26s} {'-':>22s} {f.get('note', '')}")
            continue
        lo, hi = f["interval"]
        top = sorted(f["true_top_term"].items(), key=lambda kv: -kv[1])[:3]
        print(f"{model:26s} {f['fidelity']:7.1%} [{lo:5.1%}, {hi:5.1%}] "
              f"{f['n_counted']:5d} of {f['n_declined']:5d} "
              f"{f.get('share_latent_largest', float('nan')):12.1%}  "
              + ", ".join(f"{k} {v}" for k, v in top))


if __name__ == "__main__":
    args = sys.argv[1:]
    main(int(args[0]) if args else 20_000,
         args[1].split(",") if len(args) > 1 and args[1] else [],
         Path(args[2]) if len(args) > 2 else ROOT / "configs" / "default.yaml")
