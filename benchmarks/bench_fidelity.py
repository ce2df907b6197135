"""Benchmark: reason fidelity on the default population, per model, with its interval.

Runs the default study (or CONFIG) at N citizens with explanations and adverse-action
reasons on, and prints for each model (see :mod:`scorelab.explain.fidelity`), over every
declined citizen of the audit sample:

* fidelity: the share whose first reason is a principal true reason (a true adverse
  nameable term within the projection's sampling tolerance of the largest);
* top in reasons: the share for whom a principal true reason is among the reasons given
  (up to four);

each with its 95% Wilson interval and its chance level (the reasons shuffled across the
declined), the mean number of principal true reasons, the share for whom the latent
remainder no input names would have been larger than every named term, and the most
frequent true top terms. Then two diagnostics of the truth itself: how often the largest
and second-largest true terms lie within 0.1 log-odds, and what an oracle (a model
scoring exactly the true terms) would get if its reasons were ranked by points below the
best term any citizen attains (the points method) rather than against the approved
applicants' average.

Run: .venv/bin/python benchmarks/bench_fidelity.py [N] [MODEL,MODEL,...] [CONFIG]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from scorelab.config import load_config
from scorelab.data.synthetic import generate_population
from scorelab.explain.fidelity import REFERENCE_BEST, nameable_truth, reason_fidelity
from scorelab.study.runner import run_study

ROOT = Path(__file__).resolve().parents[1]


def _pct(share: float | None) -> str:
    return "   -" if share is None else f"{share:5.1%}"


def _oracle(truth, rows: np.ndarray, approved: np.ndarray, k: int = 4) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The oracle's reasons by the points method: true terms below the population's best."""
    gap = truth.values(rows) - truth.best
    gap = np.where(gap > 0, gap, -np.inf)
    order = np.argsort(-gap, axis=1)[:, :k]
    names = np.asarray(truth.named, dtype=object)[order]
    names[~np.isfinite(np.take_along_axis(gap, order, axis=1))] = ""
    names[approved] = ""
    return names


def main(n: int, models: list[str], config: Path) -> None:
    cfg = load_config(config).with_({"population.n_citizens": n})
    if models:
        cfg = cfg.with_({"models": [m.model_dump(mode="json", exclude_unset=True)
                                    for m in cfg.models if m.name in models]})
    start = time.perf_counter()
    population = generate_population(cfg.population, cfg.seed)
    result = run_study(cfg, population, {})
    print(f"{config.name} at {n:,} citizens, seed {cfg.seed}; "
          f"{time.perf_counter() - start:.0f} s")
    print(f"{'model':24s} {'fidelity [95%]':>21s} {'chance':>6s} {'top in reasons':>21s} "
          f"{'chance':>6s} {'declined':>8s} {'princ.':>6s} {'latent':>6s}  true top terms")
    for model, summary in (result.adverse.summary["models"] if result.adverse else {}).items():
        f = summary.get("fidelity") or {}
        if f.get("fidelity") is None:
            print(f"{model:24s} {'-':>21s} {f.get('note', '')}")
            continue
        lo, hi = f["interval"]
        lo4, hi4 = f["top_in_reasons_interval"]
        top = sorted(f["true_top_term"].items(), key=lambda kv: -kv[1])[:3]
        print(f"{model:24s} {_pct(f['fidelity'])} [{_pct(lo)}, {_pct(hi)}] "
              f"{_pct(f['chance']['fidelity'])} {_pct(f['top_in_reasons'])} "
              f"[{_pct(lo4)}, {_pct(hi4)}] {_pct(f['chance']['top_in_reasons'])} "
              f"{f['n_counted']:5d}/{f['n_declined']:<5d} "
              f"{f['tolerance']['mean_principal']:6.2f} "
              f"{_pct(f.get('share_latent_largest'))}  "
              + ", ".join(f"{k} {v}" for k, v in top))
    if result.adverse is None or not result.adverse.summary.get("truth"):
        return
    # diagnostics of the truth, on the first model's declined
    truth = nameable_truth(population.frame, cfg.population, draws=0)
    pred = result.predictions
    ids_all = population.frame["citizen_id"].to_numpy()
    explained = result.adverse.reasons["citizen_id"].unique()
    for model in result.adverse.summary["models"]:
        p = pred[(pred["model"] == model) & (pred["repeat"] == 0)].set_index("citizen_id")
        ids = np.intersect1d(p.index.to_numpy(), result.explanations.loc[
            result.explanations["model"].astype(str) == model, "citizen_id"].unique())
        if not ids.size or not np.isin(ids, explained).any():
            continue
        approved = p.loc[ids, "approved"].to_numpy(dtype=bool)
        rows = np.searchsorted(ids_all, ids) if np.all(np.diff(ids_all) > 0) else \
            np.array([np.flatnonzero(ids_all == i)[0] for i in ids])
        values = truth.values(rows)
        rel = np.sort(values[~approved] - values[approved].mean(axis=0), axis=1)
        close = float(np.mean(rel[:, -1] - rel[:, -2] < 0.1))
        oracle = reason_fidelity(_oracle(truth, rows, approved), truth, rows, ~approved,
                                 approved, truth.named)
        same = reason_fidelity(_oracle(truth, rows, approved), truth, rows, ~approved,
                               approved, truth.named, reference=REFERENCE_BEST)
        print(f"truth on {model}'s {int((~approved).sum())} declined: largest and second "
              f"true terms within 0.1 log-odds for {close:.1%}; an oracle ranked by points "
              f"below the best: fidelity {oracle['fidelity']:.1%}, top in reasons "
              f"{oracle['top_in_reasons']:.1%} against the approved average "
              f"({same['fidelity']:.1%} against the same best; true top term there: "
              + ", ".join(f"{k} {v}" for k, v in sorted(
                  same["true_top_term"].items(), key=lambda kv: -kv[1])[:2]) + ")")
        break


if __name__ == "__main__":
    args = sys.argv[1:]
    main(int(args[0]) if args else 20_000,
         args[1].split(",") if len(args) > 1 and args[1] else [],
         Path(args[2]) if len(args) > 2 else ROOT / "configs" / "default.yaml")
