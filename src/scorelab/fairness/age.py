"""The age audit: score by age, the young-vs-rest cut sweep, proxies of age, SHAP of age
and its proxies by band, counterfactual age twins and the decomposition of the age gap.

Everything is vectorised over citizens (bincount, cumulative sums, group-bys).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from scorelab.data.groups import age_bands as _age_bands
from scorelab.fairness.groups import two_proportion_test

__all__ = ["AGE_PROXIES", "age_gap_decomposition", "cut_point_sweep", "proxy_audit",
           "score_by_age", "shap_by_age_band", "twin_effects"]

#: Columns the synthetic population model makes descendants of age.
AGE_PROXIES = ("credit_history_years", "employment_years", "dependents")


def _known_age(age: Any, *columns: Any) -> tuple[np.ndarray, ...]:
    """Age and the given per-citizen columns (as floats), on the citizens with an age."""
    ages = np.asarray(age, dtype=float)
    known = ~np.isnan(ages)
    return ages[known], *(np.asarray(c, dtype=float)[known] for c in columns)


def score_by_age(age: Any, points: Any, approved: Any, window: int = 5) -> pd.DataFrame:
    """Mean score and approval rate per year of age, raw and smoothed.

    Columns: age (integer years present), n, mean_score, approval_rate,
    mean_score_smooth, approval_rate_smooth. Smoothing: a centred, citizen-weighted
    moving average over ``window`` years (sum of scores over the window / citizens in
    the window), so sparse old ages borrow from their neighbours. Citizens without a
    known age are left out.
    """
    ages, pts, ok = _known_age(age, points, approved)
    years = np.floor(ages).astype(int)
    lo = years.min()
    idx = years - lo
    n = np.bincount(idx).astype(float)
    s = np.bincount(idx, weights=pts)
    a = np.bincount(idx, weights=ok)
    kernel = np.ones(max(1, int(window)))
    ns, ss, as_ = (np.convolve(v, kernel, mode="same") for v in (n, s, a))
    keep = n > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        out = pd.DataFrame({"age": np.arange(lo, lo + n.size)[keep], "n": n[keep].astype(int),
                            "mean_score": (s / n)[keep], "approval_rate": (a / n)[keep],
                            "mean_score_smooth": (ss / ns)[keep],
                            "approval_rate_smooth": (as_ / ns)[keep]})
    return out.reset_index(drop=True)


def cut_point_sweep(age: Any, approved: Any, first: int, last: int,
                    four_fifths: float = 0.8) -> pd.DataFrame:
    """Young (floor(age) <= cut) vs rest approval-rate ratio for every cut first..last.

    Columns: cut, n_young, n_rest, approval_young, approval_rest, ratio
    (young / rest), passes (ratio >= four_fifths), p_value (two-proportion z-test).
    Citizens without a known age are left out.
    """
    ages, ok = _known_age(age, approved)
    years = np.floor(ages).astype(int)
    top = max(int(years.max()), last) + 1
    n = np.bincount(np.clip(years, 0, None), minlength=top).astype(float)
    a = np.bincount(np.clip(years, 0, None), weights=ok, minlength=top)
    cn, ca = np.cumsum(n), np.cumsum(a)
    cuts = np.arange(int(first), int(last) + 1)
    ny, ay = cn[cuts], ca[cuts]
    nr, ar = n.sum() - ny, a.sum() - ay
    with np.errstate(invalid="ignore", divide="ignore"):
        py, pr = ay / ny, ar / nr
        ratio = np.where(pr > 0, py / pr, np.nan)
    pvals = [two_proportion_test(x1, n1, x2, n2) for x1, n1, x2, n2 in zip(ay, ny, ar, nr,
                                                                            strict=True)]
    return pd.DataFrame({"cut": cuts, "n_young": ny.astype(int), "n_rest": nr.astype(int),
                         "approval_young": py, "approval_rest": pr, "ratio": ratio,
                         "passes": np.isfinite(ratio) & (ratio >= four_fifths),
                         "p_value": pvals})


def _auc(score: np.ndarray, target: np.ndarray) -> float:
    n1 = int(target.sum())
    n0 = target.size - n1
    if n1 == 0 or n0 == 0:
        return np.nan
    r = rankdata(score)
    return float((r[target].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def proxy_audit(frame: pd.DataFrame, feature_columns: Sequence[str], age: Any,
                young_limit: float = 26.0) -> pd.DataFrame:
    """How well each feature predicts age, strongest first.

    Columns: feature, n_valid, spearman_rho (with age, on rows where the feature is
    present), abs_spearman, auc_young (AUC of the feature for "age < young_limit";
    oriented so that >= 0.5), missing_young, missing_rest (share missing: missingness
    itself can betray age), strength = max(abs_spearman, 2 * auc_young - 1,
    |missing_young - missing_rest|). Categorical features are scored through the mean age
    of their category (rho) and the young share of their category (AUC): an in-sample,
    best-case measure. NaN-safe: constant or empty columns give NaN, never an error.
    """
    ages = np.asarray(age, dtype=float)
    young = ages < young_limit
    rows = []
    for col in feature_columns:
        s = frame[col]
        miss = s.isna().to_numpy()
        if isinstance(s.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(s):
            codes = s.astype("category").cat.codes.to_numpy()
            valid = codes >= 0
            k = codes[valid]
            counts = np.bincount(k).astype(float)
            with np.errstate(invalid="ignore", divide="ignore"):
                mean_age = np.bincount(k, weights=ages[valid]) / counts
                young_share = np.bincount(k, weights=young[valid]) / counts
            x_rho, x_auc = mean_age[k], young_share[k]
        else:
            x = s.to_numpy(dtype=float)
            valid = ~np.isnan(x)
            x_rho = x_auc = x[valid]
        a, yv = ages[valid], young[valid]
        if x_rho.size > 2 and np.ptp(x_rho) > 0 and np.ptp(a) > 0:
            rho = float(np.corrcoef(rankdata(x_rho), rankdata(a))[0, 1])
            auc = _auc(x_auc, yv)
            auc = max(auc, 1.0 - auc) if np.isfinite(auc) else np.nan
        else:
            rho = auc = np.nan
        my = float(miss[young].mean()) if young.any() else np.nan
        mr = float(miss[~young].mean()) if (~young).any() else np.nan
        parts = [abs(rho), 2 * auc - 1, abs(my - mr)]
        finite = [v for v in parts if np.isfinite(v)]
        rows.append({"feature": col, "n_valid": int(valid.sum()), "spearman_rho": rho,
                     "abs_spearman": abs(rho), "auc_young": auc, "missing_young": my,
                     "missing_rest": mr, "strength": max(finite) if finite else np.nan})
    out = pd.DataFrame(rows)
    return out.sort_values("strength", ascending=False, na_position="last",
                           ignore_index=True)


def shap_by_age_band(explanations: pd.DataFrame, frame: pd.DataFrame,
                     age_bands: Sequence[float], columns: Sequence[str],
                     age_column: str = "age") -> pd.DataFrame:
    """Mean SHAP of age and its proxies per age band per model.

    ``explanations`` is the long table (citizen_id, model, feature, shap); bands are cut
    from ``frame[age_column]`` (citizens without an age are left out). Returns columns
    model, age_band, feature, mean_shap, mean_abs_shap, n_citizens; only the features in
    ``columns`` (e.g. age and the proxy audit's top features) are kept.
    """
    cols = ["model", "age_band", "feature", "mean_shap", "mean_abs_shap", "n_citizens"]
    ex = explanations[explanations["feature"].astype(str).isin([str(c) for c in columns])]
    if ex.empty:
        return pd.DataFrame(columns=cols)
    bands = pd.Series(_age_bands(frame[age_column], list(age_bands)),
                      index=frame["citizen_id"].to_numpy())
    ex = ex.assign(age_band=bands.reindex(ex["citizen_id"].to_numpy()).to_numpy(),
                   abs_shap=ex["shap"].abs(), model=ex["model"].astype(str),
                   feature=ex["feature"].astype(str))
    out = (ex.groupby(["model", "age_band", "feature"], observed=True, sort=True)
           .agg(mean_shap=("shap", "mean"), mean_abs_shap=("abs_shap", "mean"),
                n_citizens=("citizen_id", "nunique")).reset_index())
    out["age_band"] = out["age_band"].astype(str)
    return out[cols]


def twin_effects(factual: pd.DataFrame, twin: pd.DataFrame, age: pd.Series,
                 age_bands: Sequence[float], cutoff_score: float | None = None
                 ) -> pd.DataFrame:
    """Change of each model's score when citizens are re-drawn with an older age.

    ``factual`` and ``twin`` are long tables (citizen_id, model, p_default, score) of the
    same citizens and models, the twin predicted by the same fold model. ``age`` is the
    factual age indexed by citizen_id. Returns per model and age band (plus band "all"):
    n, mean_delta_score (twin - factual points), mean_delta_p, share_score_up,
    and share_newly_approved / share_newly_rejected when ``cutoff_score`` is given.
    """
    key = ["citizen_id", "model"]
    f = factual[key + ["p_default", "score"]].assign(model=lambda d: d["model"].astype(str))
    t = twin[key + ["p_default", "score"]].assign(model=lambda d: d["model"].astype(str))
    m = f.merge(t, on=key, suffixes=("", "_twin"), validate="one_to_one")
    m["delta_score"] = m["score_twin"] - m["score"]
    m["delta_p"] = m["p_default_twin"] - m["p_default"]
    band = pd.Series(_age_bands(age.to_numpy(), list(age_bands)).astype(str),
                     index=age.index)
    m["age_band"] = band.reindex(m["citizen_id"].to_numpy()).to_numpy()
    m["up"] = m["delta_score"] > 0
    if cutoff_score is not None:
        was, now = m["score"] >= cutoff_score, m["score_twin"] >= cutoff_score
        m["newly_approved"] = ~was & now
        m["newly_rejected"] = was & ~now
    aggs = {"n": ("delta_score", "size"), "mean_delta_score": ("delta_score", "mean"),
            "mean_delta_p": ("delta_p", "mean"), "share_score_up": ("up", "mean")}
    if cutoff_score is not None:
        aggs.update(share_newly_approved=("newly_approved", "mean"),
                    share_newly_rejected=("newly_rejected", "mean"))
    by_band = m.groupby(["model", "age_band"], sort=True).agg(**aggs).reset_index()
    overall = m.groupby("model", sort=True).agg(**aggs).reset_index().assign(age_band="all")
    return pd.concat([overall, by_band], ignore_index=True)[list(by_band.columns)]


def _gap(values: np.ndarray, young: np.ndarray) -> float:
    return float(values[young].mean() - values[~young].mean())


def age_gap_decomposition(points: Any, young: Any, true_pd: Any,
                          twin_points: Any | None = None, twin_true_pd: Any | None = None,
                          points_true_label: Any | None = None,
                          y_observed: Any | None = None, y_true: Any | None = None
                          ) -> dict[str, Any]:
    """Split the young-vs-rest gap in mean score (points) into additive parts.

    With S the model's points, L = logit(true_pd), Y the young indicator and
    gap(v) = mean(v | young) - mean(v | rest):

    * ``total = gap(S)`` (negative: the young score lower).
    * ``true_risk = b * gap(L)``, where ``b`` is the OLS slope of S on L over all
      citizens: the gap a score with the model's own sharpness would show if it tracked
      true risk only (includes any legitimate age effect on true risk).
    * ``proxy = -(mean_young(S_twin - S) - b * mean_young(L_twin - L))``: the twins are
      the young re-drawn older (age + shift through the population model; only age's
      descendants such as credit_history_years and employment_years, thin files and
      dependents change, plus true risk if the legitimate effect is on). The score
      change the twins get beyond what their change in true risk warrants is what the
      age path through the features carries; its negative is its share of the gap.
      Needs twin_points (and twin_true_pd; without it L_twin = L); NaN where a
      citizen has no twin (the mean is over the young who have one).
    * ``label_bias``: with ``points_true_label`` (the same model trained on the true
      outcome, out of fold): ``gap(S) - gap(S_true_label)``. Else, with both outcomes:
      ``b * (D_obs - D_true)``, D = logit(default rate young) - logit(default rate
      rest), the extra gap in recorded log-odds, in points. Else 0 (not estimable).
    * ``residual = total - true_risk - proxy - label_bias``: everything else (model
      error, mismatch between the shift and the age gap, interactions). The parts add
      up to ``total`` exactly by construction.

    Returns a dict: total, true_risk, proxy, label_bias, residual, slope_points_per_logit,
    unexplained (= total - true_risk), proxy_share_of_unexplained, n_young, n_rest,
    mean_score_young, mean_score_rest, and which parts were estimable ("available").
    """
    S = np.asarray(points, dtype=float)
    Y = np.asarray(young, dtype=bool)
    pd_ = np.clip(np.asarray(true_pd, dtype=float), 1e-9, 1 - 1e-9)
    L = np.log(pd_) - np.log1p(-pd_)
    Lc = L - L.mean()
    b = float((Lc * (S - S.mean())).sum() / (Lc * Lc).sum()) if (Lc * Lc).sum() > 0 else 0.0
    total = _gap(S, Y)
    true_risk = b * _gap(L, Y)
    available = {"true_risk": True, "proxy": twin_points is not None, "label_bias": False}
    proxy = 0.0
    if twin_points is not None:
        St = np.asarray(twin_points, dtype=float)
        has = Y & np.isfinite(St)  # twins may cover an audit sample only (NaN elsewhere)
        dL = 0.0
        if twin_true_pd is not None:
            tp = np.clip(np.asarray(twin_true_pd, dtype=float), 1e-9, 1 - 1e-9)
            dl = (np.log(tp) - np.log1p(-tp)) - L
            has &= np.isfinite(dl)
            dL = float(dl[has].mean()) if has.any() else 0.0
        proxy = -(float((St - S)[has].mean()) - b * dL) if has.any() else 0.0
        available["proxy"] = bool(has.any())
    label_bias = 0.0
    method = "not estimable"
    if points_true_label is not None:
        label_bias = total - _gap(np.asarray(points_true_label, dtype=float), Y)
        available["label_bias"], method = True, "model trained on the true outcome"
    elif y_observed is not None and y_true is not None:
        def d(y: np.ndarray) -> float:
            r = np.clip([y[Y].mean(), y[~Y].mean()], 1e-6, 1 - 1e-6)
            lr = np.log(r) - np.log1p(-r)
            return float(lr[0] - lr[1])
        label_bias = b * (d(np.asarray(y_observed, float)) - d(np.asarray(y_true, float)))
        available["label_bias"], method = True, "observed vs true default-rate gap"
    residual = total - true_risk - proxy - label_bias
    unexplained = total - true_risk
    return {"measure": "mean score (points), young minus rest", "total": total,
            "true_risk": true_risk, "proxy": proxy, "label_bias": label_bias,
            "residual": residual, "unexplained": unexplained,
            "proxy_share_of_unexplained": (proxy / unexplained if abs(unexplained) > 1e-9
                                           else None),
            "slope_points_per_logit": b, "label_bias_method": method,
            "available": available, "n_young": int(Y.sum()), "n_rest": int((~Y).sum()),
            "mean_score_young": float(S[Y].mean()), "mean_score_rest": float(S[~Y].mean())}


def _cut_ranges(cuts: list[int]) -> str:
    """21, 22, 23, 27 -> '21-23, 27'."""
    parts, start = [], None
    for i, c in enumerate(cuts):
        if start is None:
            start = c
        if i + 1 == len(cuts) or cuts[i + 1] != c + 1:
            parts.append(f"{start}" if start == c else f"{start}-{c}")
            start = None
    return ", ".join(parts)


def sweep_note(sweep: pd.DataFrame, subject: str) -> str:
    """Say plainly whether a four-fifths verdict hangs on where 'young' ends.

    ``sweep`` is a :func:`cut_point_sweep` table; ``subject`` names what was swept
    (e.g. "the observed good-outcome rate" or "model 'lightgbm''s approvals").
    """
    rated = sweep[np.isfinite(sweep["ratio"].to_numpy(dtype=float))]
    if rated.empty:
        return f"The cut-point sweep of {subject} could not be rated (a side was empty)."
    passing = [int(c) for c in rated.loc[rated["passes"], "cut"]]
    failing = [int(c) for c in rated.loc[~rated["passes"], "cut"]]
    low, high = float(rated["ratio"].min()), float(rated["ratio"].max())
    span = f"{int(rated['cut'].min())}-{int(rated['cut'].max())}"
    if passing and failing:
        return (f"Whether {subject} passes the four-fifths rule depends on where 'young' "
                f"ends: it fails when young means age up to {_cut_ranges(failing)} and "
                f"passes for {_cut_ranges(passing)} (ratios {low:.3f}-{high:.3f}).")
    verdict = "passes" if passing else "fails"
    return (f"The verdict does not depend on the cut-point: {subject} {verdict} the "
            f"four-fifths rule for every cut from {span} (ratios {low:.3f}-{high:.3f}).")
