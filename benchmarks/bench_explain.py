"""Benchmark: explanations of every default family, citizens explained per second.

Fits each model of configs/default.yaml once on 80% of a default population (100k
citizens by default), then explains citizens of the held-out 20% with ``explain`` (the
exact explainer where one exists: rules, linear, TreeSHAP via pred_contrib; the batched
permutation explainer otherwise, ``max_evals`` and ``background_size`` from the config).
Prints fit seconds, explain seconds, citizens per second and, for the agnostic
explainer, model evaluations per citizen.

Run: .venv/bin/python benchmarks/bench_explain.py [N_CITIZENS] [N_EXPLAIN] [N_AGNOSTIC]
(N_AGNOSTIC: citizens for the permutation explainer, default N_EXPLAIN.)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from scorelab.config import config_from_dict, load_config
from scorelab.data.synthetic import SCHEMA
from scorelab.explain import background_sample, explain, explainer_kind
from scorelab.study.population import population_for
from scorelab.study.plan import Plan

ROOT = Path(__file__).resolve().parents[1]


def main(n: int = 100_000, n_explain: int = 2000, n_agnostic: int | None = None) -> None:
    raw = load_config(ROOT / "configs" / "default.yaml").model_dump(mode="json")
    raw["population"]["n_citizens"] = n
    cfg = config_from_dict(raw)
    pop, _ = population_for(cfg)
    frame = pop.frame
    y = frame[SCHEMA.target].to_numpy().astype(np.int64)
    rng = np.random.default_rng(cfg.seed)
    order = rng.permutation(len(frame))
    cut = int(0.8 * len(frame))
    train, test = np.sort(order[:cut]), np.sort(order[cut:])
    ex = cfg.explain
    print(f"{n} citizens, fit on {train.size}; explain up to {n_explain} held-out citizens; "
          f"background {ex.background_size}, max_evals {ex.max_evals}", flush=True)
    header = (f"{'model':<14}{'family':<8}{'explainer':<14}{'fit s':>8}{'n':>6}"
              f"{'explain s':>11}{'cit/s':>10}  evals/citizen")
    rows = []
    prepared, _ = Plan.of(cfg).prepare(pop.schema)
    for m in prepared:
        X = frame[m.columns]
        t0 = time.perf_counter()
        model = m.estimator.fit(X.iloc[train], y[train])
        fit_s = time.perf_counter() - t0
        kind = explainer_kind(model)
        k = n_explain if kind != "agnostic" else (n_agnostic or n_explain)
        rows_x = X.iloc[test[:k]]
        bg = background_sample(X.iloc[train], ex.background_size, seed=cfg.seed)
        t0 = time.perf_counter()
        e = explain(model, rows_x, bg, max_evals=ex.max_evals, seed=cfg.seed)
        ex_s = time.perf_counter() - t0
        assert e.additivity_error() < 1e-6, (m.spec.name, e.additivity_error())
        if "permutation" in e.method:
            n_perm = ex.max_evals // (2 * X.shape[1] + 1)
            evals = (f"{n_perm * (2 * X.shape[1] + 1)} masked evals x {len(bg)} rows "
                     f"= {n_perm * (2 * X.shape[1] + 1) * len(bg):,} model rows")
        else:
            evals = "exact (1 pass)"
        rows.append((m.spec.name, m.spec.family, kind, fit_s, k, ex_s, k / ex_s, evals))
        print(f"{m.spec.name:<14}{m.spec.family:<8}{kind:<14}{fit_s:8.1f}{k:6d}{ex_s:11.2f}"
              f"{k / ex_s:10.1f}  {evals}", flush=True)
    print()
    print(header)
    for r in rows:
        print(f"{r[0]:<14}{r[1]:<8}{r[2]:<14}{r[3]:8.1f}{r[4]:6d}{r[5]:11.2f}{r[6]:10.1f}  "
              f"{r[7]}")
    fit_total = sum(r[3] for r in rows)
    ex_total = sum(n_explain / r[6] for r in rows)
    print(f"\ntotal fit (one fit per model, {train.size} rows): {fit_total:.1f} s; "
          f"explaining {n_explain} citizens per model (at the measured rates): "
          f"{ex_total:.1f} s")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*args)
