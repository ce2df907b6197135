"""Explanations as a table, global importance per feature and data source, agreement.

Artifact formats
----------------
``explanations_table`` (one row per citizen x feature; written as Parquet by the run):
    citizen_id (int64), model, family, feature, source (one of the paper's five sources,
    or "derived" for a column that is not in the schema), value (str, readable: "4",
    "0.312", "married", "missing"), shap (float, log-odds; > 0 = raised the risk),
    base_value (float), output (float, the model's log-odds), method (str).

``global_importance`` (JSON):
    {"scale": "log-odds of default",
     "models": {model: {"family", "method", "n_citizens",
                        "features": {feature: mean |SHAP|},       (descending)
                        "feature_share": {feature: share},        (sums to 1)
                        "sources": {source: sum of its features' mean |SHAP|},
                        "source_share": {source: share}}}}        (sums to 1)
    ``sources`` always lists the five sources (0 when unused), then any other
    (e.g. "derived").

``agreement`` (JSON):
    {"method": "spearman", "features": [...],
     "pairs": [{"a", "b", "spearman"}], "matrix": {a: {b: rho}},
     "vs_truth": {model: rho} (only when ``truth`` is given)}
    rho is None when a ranking is constant (undefined correlation).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from scorelab.core.numeric import logit
from scorelab.data.schema import SOURCES, Schema
from scorelab.explain.explainers import SCALE, Explanation

__all__ = ["SOURCE_ORDER", "agreement", "explanations_table", "format_values",
           "global_importance", "true_drivers"]

SOURCE_ORDER: tuple[str, ...] = SOURCES
DERIVED = "derived"
TABLE_COLUMNS = ["citizen_id", "model", "family", "feature", "source", "value", "shap",
                 "base_value", "output", "method"]


def format_values(series: pd.Series) -> np.ndarray:
    """Readable strings: integers without decimals, floats to 3 significant decimals,
    categories as their label, missing as "missing"."""
    missing = series.isna().to_numpy()
    if isinstance(series.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(
            series) or pd.api.types.is_bool_dtype(series):
        out = series.astype(object).astype(str).to_numpy(dtype=object)
    else:
        v = series.to_numpy(dtype=float, na_value=np.nan)
        finite = v[~missing]
        if finite.size and np.all(finite == np.round(finite)) and np.all(np.abs(finite) < 1e15):
            out = np.array([str(int(x)) if not np.isnan(x) else "" for x in v], dtype=object)
        else:
            out = np.array([f"{x:.3g}" if abs(x) < 1000 else f"{x:,.0f}" for x in v],
                           dtype=object)
    out[missing] = "missing"
    return out


def _source(feature: str, schema: Schema | None) -> str:
    if schema is None:
        return DERIVED
    try:
        source = schema[feature].source
    except KeyError:
        return DERIVED
    return source if source in SOURCES else DERIVED


def explanations_table(citizen_ids: Sequence[Any] | np.ndarray, model_name: str, family: str,
                       explanation: Explanation, X: pd.DataFrame,
                       schema: Schema | None) -> pd.DataFrame:
    """The long table of one model's explanation (format: module docstring).

    ``X`` holds the explained rows (same order as the explanation); a feature of the
    explanation that is not a column of ``X`` (e.g. a derived column) gets value "".
    """
    ids = np.asarray(citizen_ids)
    n, k = explanation.values.shape
    if ids.shape[0] != n or len(X) != n:
        raise ValueError(f"explanations_table: {n} explained rows, {ids.shape[0]} citizen ids "
                         f"and {len(X)} rows of X")
    features = list(explanation.columns)
    values = np.empty((n, k), dtype=object)
    for j, f in enumerate(features):
        values[:, j] = format_values(X[f]) if f in X.columns else ""
    table = pd.DataFrame({
        "citizen_id": np.repeat(ids, k),
        "model": model_name,
        "family": family,
        "feature": np.tile(np.asarray(features, dtype=object), n),
        "source": np.tile(np.asarray([_source(f, schema) for f in features], dtype=object), n),
        "value": values.ravel(),
        "shap": explanation.values.ravel().astype(float),
        "base_value": np.repeat(explanation.base.astype(float), k),
        "output": np.repeat(explanation.output.astype(float), k),
        "method": explanation.method,
    })
    for col in ("model", "family", "feature", "source", "method"):
        table[col] = table[col].astype("category")
    table["value"] = table["value"].astype(object)
    return table[TABLE_COLUMNS]


def _shares(d: dict[str, float]) -> dict[str, float]:
    total = float(sum(d.values()))
    return {k: (v / total if total > 0 else 0.0) for k, v in d.items()}


def global_importance(table: pd.DataFrame) -> dict[str, Any]:
    """Mean |SHAP| per model per feature and per data source (format: module docstring)."""
    out: dict[str, Any] = {"scale": SCALE, "models": {}}
    t = table.assign(abs_shap=table["shap"].abs())
    for model, part in t.groupby("model", observed=True, sort=False):
        per_feature = part.groupby("feature", observed=True)["abs_shap"].mean()
        per_feature = per_feature.sort_values(ascending=False, kind="stable")
        source_of = part.drop_duplicates("feature").set_index("feature")["source"].astype(str)
        sources: dict[str, float] = dict.fromkeys(SOURCES, 0.0)
        for f, v in per_feature.items():
            s = source_of[f]
            sources[s] = sources.get(s, 0.0) + float(v)
        features = {str(f): float(v) for f, v in per_feature.items()}
        out["models"][str(model)] = {
            "family": str(part["family"].iloc[0]),
            "method": str(part["method"].iloc[0]),
            "n_citizens": int(part["citizen_id"].nunique()),
            "features": features,
            "feature_share": _shares(features),
            "sources": sources,
            "source_share": _shares(sources),
        }
    return out


def _spearman(a: np.ndarray, b: np.ndarray) -> float | None:
    if a.size < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return None
    ra = pd.Series(a).rank().to_numpy()
    rb = pd.Series(b).rank().to_numpy()
    return float(np.corrcoef(ra, rb)[0, 1])


def agreement(importance: dict[str, Any], truth: dict[str, float] | None = None
              ) -> dict[str, Any]:
    """Spearman rank correlation of the feature importances of every pair of models
    (and of each model with ``truth``), over the union of their features (absent = 0)."""
    models = importance["models"]
    names = list(models)
    features = sorted({f for m in models.values() for f in m["features"]}
                      | (set(truth) if truth else set()))
    vec = {m: np.array([models[m]["features"].get(f, 0.0) for f in features]) for m in names}
    matrix: dict[str, dict[str, float | None]] = {m: {} for m in names}
    pairs = []
    for i, a in enumerate(names):
        matrix[a][a] = 1.0 if _spearman(vec[a], vec[a]) is not None else None
        for b in names[i + 1:]:
            rho = _spearman(vec[a], vec[b])
            matrix[a][b] = matrix[b][a] = rho
            pairs.append({"a": a, "b": b, "spearman": rho})
    out: dict[str, Any] = {"method": "spearman", "features": features, "pairs": pairs,
                           "matrix": matrix}
    if truth is not None:
        t = np.array([float(truth.get(f, 0.0)) for f in features])
        out["vs_truth"] = {m: _spearman(vec[m], t) for m in names}
    return out


def true_drivers(population: Any, features: Sequence[str] | None = None, *,
                 max_rows: int = 20_000, seed: int = 0) -> dict[str, float]:
    """What really drives risk, per feature: mean |TreeSHAP| (log-odds) of a LightGBM
    regressor fitted to the TRUE log-odds ``log(true_pd / (1 - true_pd))`` on the
    features (default: the population's feature columns).

    Definition: the *honest predictive share* of each feature in the true risk, i.e.
    the explanation of ``E[true log-odds | features]``, the best any model could learn
    from these features with noise-free, unbiased labels. It is not a causal effect:
    the true risk depends on latent reliability (never observed), debt-to-income and,
    if planted, youth; a feature correlated with reliability (late payments, history)
    gets the share of risk it can predict, and a proxy of age gets the share of the
    legitimate age effect it carries. Label bias and noise are absent from the target,
    and a column unrelated to true risk (e.g. situational or health events, if a config
    makes them inputs) gets about 0. Sorted by importance, descending.
    """
    import lightgbm as lgb

    frame = population.frame
    cols = list(features) if features is not None else list(population.features)
    if len(frame) > max_rows:
        frame = frame.sample(n=max_rows, random_state=seed)
    target = logit(frame["true_pd"].to_numpy(dtype=float))
    X = frame[cols]
    model = lgb.LGBMRegressor(n_estimators=300, learning_rate=0.05, num_leaves=15,
                              min_child_samples=50, subsample=0.8, subsample_freq=1,
                              random_state=seed, n_jobs=1, verbose=-1)
    model.fit(X, target)
    contrib = np.asarray(model.booster_.predict(X, pred_contrib=True), dtype=float)[:, :-1]
    imp = np.abs(contrib).mean(axis=0)
    order = np.argsort(-imp, kind="stable")
    return {str(cols[j]): float(imp[j]) for j in order}
