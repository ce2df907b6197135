"""Benchmark: real tables onboarded with `scorelab init`, against a like-for-like peer.

accuracy (German credit)
    `scorelab init data/real/german_credit.csv` proposes a config; its learned families
    are fitted on the config's folds, and so is a hand-written peer on the same folds:
    scikit-learn's logistic regression and random forest, LightGBM and an MLP, on the
    same inputs (protected attributes left out), numbers median-imputed and scaled,
    categories one-hot encoded. Prints each family's out-of-fold AUC against the peer
    family it matches. Aim: the best scorelab family at least 0.005 above the best peer
    family; no scorelab family more than 0.02 below its peer.

speed (a generated table)
    A table of 150,000 applicants (10 numeric features with heavy tails, a fifth of the
    incomes missing, like the "Give me some credit" table): written as CSV, onboarded
    with `scorelab init`, then run as `scorelab run` runs it (every stage: the table read
    and checked, the init config's families over its folds, final fits, metrics,
    explanations, fairness, the run directory and the report). Prints the time of each
    stage and every family's AUC. Aim: under 2 minutes on 2 cores.

Run: .venv/bin/python benchmarks/bench_tables.py [accuracy|speed|all] [--rows N] [--seed S]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
GERMAN = ROOT / "data" / "real" / "german_credit.csv"


def heavy_table(n: int = 150_000, seed: int = 0) -> pd.DataFrame:
    """A credit table like "Give me some credit": a latent risk drives ten numeric
    features with heavy tails (utilisation and debt ratios up to 10^5-10^6, past-due
    counts with 98 as a code on 0.2% of rows), a fifth of the incomes missing (and the
    debt ratio exploding where they are), and a binary target (about 6% defaults)."""
    rng = np.random.default_rng(seed)
    risk = rng.normal(size=n)
    age = np.clip(np.round(52 - 6 * risk + rng.normal(0, 13, n)), 21, 99)
    utilisation = np.exp(rng.normal(-1.2 + 0.9 * risk, 1.0, n))
    wild = rng.random(n) < 0.003
    utilisation[wild] = rng.lognormal(7, 2, wild.sum())
    income = np.exp(rng.normal(8.6 - 0.2 * risk, 0.6, n))
    debt = np.exp(rng.normal(-1.0 + 0.25 * risk, 0.8, n))
    no_income = rng.random(n) < 0.15 + 0.08 * (risk > 1)
    debt[no_income] = np.exp(rng.normal(6.5, 2.0, no_income.sum()))
    income[no_income] = np.nan
    rate = np.exp(-2.2 + 1.1 * risk)
    late30, late60, late90 = (rng.poisson(rate * k) for k in (1.0, 0.4, 0.5))
    coded = rng.random(n) < 0.002
    for late in (late30, late60, late90):
        late[coded] = 98
    lines = rng.poisson(np.exp(2.0 - 0.1 * risk))
    estate = rng.poisson(np.exp(-0.15 * risk))
    dependents = rng.poisson(0.75, n).astype(float)
    dependents[rng.random(n) < 0.026] = np.nan
    logit = -3.7 + 1.9 * risk + 0.3 * (late90 > 0) - 0.2 * np.log1p(lines)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({
        "id": np.arange(1, n + 1), "SeriousDlqin2yrs": y,
        "RevolvingUtilization": utilisation, "age": age, "Late30_59": late30,
        "DebtRatio": debt, "MonthlyIncome": income, "OpenCreditLines": lines,
        "Late90": late90, "RealEstateLoans": estate, "Late60_89": late60,
        "Dependents": dependents})


def peer_families(seed: int) -> dict[str, object]:
    """The hand-written peer: what a careful analyst writes in an afternoon."""
    from lightgbm import LGBMClassifier
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    return {"logistic": LogisticRegression(max_iter=2000),
            "random_forest": RandomForestClassifier(500, n_jobs=2, random_state=seed),
            "lightgbm": LGBMClassifier(random_state=seed, verbose=-1, n_jobs=2),
            "mlp": MLPClassifier((64,), max_iter=500, early_stopping=True,
                                 random_state=seed)}


def peer_oof(frame: pd.DataFrame, inputs: list[str], categorical: list[str],
             y: np.ndarray, folds: list, seed: int) -> dict[str, np.ndarray]:
    """Every peer family's out-of-fold P(default) on the given folds."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = [c for c in inputs if c not in categorical]
    X = frame[inputs].copy()
    for c in categorical:
        X[c] = X[c].astype(object).where(X[c].notna(), "missing")
    out = {}
    for name, model in peer_families(seed).items():
        prep = ColumnTransformer([
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
             numeric),
            ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False),
             categorical)])
        p = np.full(y.size, np.nan)
        for fold in folds:
            pipe = make_pipeline(prep, model).fit(X.iloc[fold.train], y[fold.train])
            p[fold.test] = pipe.predict_proba(X.iloc[fold.test])[:, 1]
        out[name] = p
    return out


#: scorelab family -> the peer family it is compared with.
MATCHED = {"scorecard": "logistic", "lightgbm": "lightgbm", "random_forest": "random_forest",
           "mlp": "mlp", "yim_mitchell": "mlp", "stacking": "lightgbm", "ebm": "lightgbm"}


def accuracy(seed: int | None = None) -> None:
    from scorelab.core.numeric import auc
    from scorelab.engine import fit_folds, make_folds
    from scorelab.study.onboard import propose_config
    from scorelab.study.plan import Plan

    with tempfile.TemporaryDirectory() as tmp:
        made = propose_config(GERMAN, Path(tmp) / "german_credit.yaml")
    config, pop = made.config, made.population
    if seed is not None:  # other folds (and model seeds) than the init config's
        config = config.with_(seed=seed)
    frame, schema = pop.frame, pop.schema
    y = frame[schema.target].to_numpy().astype(np.int64)
    ev = config.evaluation
    folds = make_folds(y, ev.folds, ev.repeats, config.seed)
    plan = Plan.of(config)
    models, _ = plan.prepare(schema, n_rows=len(frame))
    start = time.perf_counter()
    fits = fit_folds(models, frame, y, folds, n_jobs=ev.n_jobs)
    ours = {name: auc(y, p[0]) for name, p in fits.oof.items()}
    seconds = time.perf_counter() - start
    inputs = list(schema.with_role("feature"))
    categorical = [c for c in inputs if isinstance(frame[c].dtype, pd.CategoricalDtype)]
    start = time.perf_counter()
    peers = {name: auc(y, p) for name, p in
             peer_oof(frame, inputs, categorical, y, folds, config.seed).items()}
    peer_seconds = time.perf_counter() - start
    print(f"German credit: {len(frame):,} rows, {len(inputs)} inputs (protected left out), "
          f"{ev.folds} folds (seed {config.seed}); scorelab {seconds:.0f} s, peer "
          f"{peer_seconds:.0f} s")
    print(f"{'scorelab (init config)':24} {'AUC':>6}   {'peer':14} {'AUC':>6}  difference")
    for name, value in sorted(ours.items(), key=lambda kv: -kv[1]):
        peer = MATCHED[name]
        print(f"{name:24} {value:6.3f}   {peer:14} {peers[peer]:6.3f}  "
              f"{value - peers[peer]:+.3f}")
    best, best_peer = max(ours.values()), max(peers.values())
    worst = min((ours[n] - peers[MATCHED[n]], n) for n in ours
                if MATCHED[n] in ("logistic", "random_forest", "lightgbm", "mlp")
                and n in ("scorecard", "random_forest", "lightgbm", "mlp"))
    print(f"best scorelab {best:.3f} vs best peer {best_peer:.3f}: {best - best_peer:+.3f} "
          f"(aim >= +0.005); a family against its own peer family at worst: "
          f"{worst[1]} {worst[0]:+.3f} (aim >= -0.020)")


def speed(rows: int) -> None:
    import scorelab
    from scorelab.study.onboard import init_config

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        table = folder / "heavy.csv"
        heavy_table(rows).to_csv(table, index=False)
        start = time.perf_counter()
        made = init_config(table, folder / "heavy.yaml")
        init_seconds = time.perf_counter() - start
        print(f"table: {rows:,} rows, {table.stat().st_size / 2**20:.0f} MiB CSV; init "
              f"{init_seconds:.1f} s; {made.config.evaluation.folds} folds; findings: "
              f"{len(made.findings)}")
        for finding in made.findings:
            print(f"  {finding.message[:150]}")
        stages: list[tuple[str, float]] = []
        start = time.perf_counter()
        run = scorelab.run(made.config, runs_dir=folder / "runs",
                           on_stage=lambda name, s: stages.append((name, s)))
        total = time.perf_counter() - start
    for name, seconds in stages:
        print(f"  {name:16} {seconds:7.1f} s")
    print(f"  {'run in all':16} {total:7.1f} s (aim < 120 s); with init "
          f"{total + init_seconds:.1f} s")
    board = run.leaderboard[["model", "auc"]]
    print("  " + ", ".join(f"{r.model} {r.auc:.3f}" for r in board.itertuples()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", nargs="?", default="all", choices=("accuracy", "speed", "all"))
    parser.add_argument("--rows", type=int, default=150_000)
    parser.add_argument("--seed", type=int, default=None, help="accuracy: the folds' seed "
                        "(default: the init config's, 0)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    if args.part in ("accuracy", "all"):
        accuracy(args.seed)
    if args.part in ("speed", "all"):
        speed(args.rows)


if __name__ == "__main__":
    sys.exit(main())
