"""The age audit: score by age, the young-vs-rest cut sweep, proxies of age, SHAP of age
and its proxies by band, counterfactual age twins and the decomposition of the age gap.

Everything is vectorised over citizens (bincount, cumulative sums, group-bys).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm, rankdata

from scorelab.core.ages import age_bands as _age_bands
from scorelab.core.numeric import auc as auc_of
from scorelab.core.numeric import logit
from scorelab.fairness.groups import two_proportion_test

__all__ = ["AGE_PROXIES", "DECOMPOSITION_PARTS", "READ_MISSES", "READ_PENALISES", "READ_ZERO",
           "age_gap_decomposition", "cut_point_sweep", "proxy_audit", "response_reading",
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
            auc = auc_of(yv, x_auc)
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


#: What each part of the age-gap decomposition measures, in words (fairness.json carries
#: these so the report never has to guess what a key means).
DECOMPOSITION_PARTS = {
    "total": "the gap in mean score, young minus rest",
    "true_risk": "the gap a score with the model's own sharpness would show if it tracked "
                 "true risk only (includes any legitimate age difference in risk)",
    "response_beyond_true_risk": "the model's response to age through the features, "
                                 "beyond what true risk warrants (counterfactual twins); "
                                 "negative: the young are penalised through age's "
                                 "descendants; positive: the model does not reflect an age "
                                 "difference in risk and scores the young better than their "
                                 "true risk warrants",
    "label_bias": "the extra gap the recorded outcomes carry beyond the true outcomes: "
                  "against the same model trained on the true outcome when one was "
                  "(what reaches the scores), else the gap in the recorded default rates' "
                  "log-odds (the bias in the labels themselves)",
    "residual": "everything else (model error, interactions, the twins' shift against the "
                "age gap)",
}
#: ``proxy`` is kept as an alias of ``response_beyond_true_risk`` for older readers.
DECOMPOSITION_ALIASES = {"proxy": "response_beyond_true_risk"}
#: Readings of the twin-based part, by the sign of an interval that excludes zero.
READ_PENALISES = "penalises the young through age's descendants beyond true risk"
READ_MISSES = ("does not reflect an age difference in risk: scores the young better than "
               "their true risk warrants")
READ_ZERO = "not distinguishable from zero"
#: Citizens x replicates held in memory at once by the bootstrap (chunks of replicates).
_BOOT_CELLS = 4_000_000


def _decomposition_parts(sums: np.ndarray, cols: dict[str, int],
                         slope: float | None = None) -> dict[str, np.ndarray]:
    """The parts from weighted sums (one row per weighting: the data, then replicates),
    at their own slope of points on true log-odds or at a given ``slope``."""
    def s(name: str) -> np.ndarray:
        return sums[:, cols[name]]

    def rate(a: str, b: str) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return s(a) / s(b)

    n = s("young") + s("rest")
    sxx = s("LL") - s("L") ** 2 / n
    sxy = s("LS") - s("L") * s("S") / n
    with np.errstate(invalid="ignore", divide="ignore"):
        b = np.where(sxx > 0, sxy / sxx, 0.0) if slope is None else np.full(n.shape, slope)
    total = rate("S_young", "young") - rate("S_rest", "rest")
    true_risk = b * (rate("L_young", "young") - rate("L_rest", "rest"))
    response = np.zeros_like(total)
    if "twin" in cols:
        has = s("twin") > 0
        response = np.where(has, -(rate("dS", "twin") - b * rate("dL", "twin")), 0.0)
    label = np.zeros_like(total)
    if "Stl_young" in cols:
        label = total - (rate("Stl_young", "young") - rate("Stl_rest", "rest"))
    elif "yo_young" in cols:
        def d(prefix: str) -> np.ndarray:
            lr = logit(np.stack([rate(f"{prefix}_young", "young"),
                                 rate(f"{prefix}_rest", "rest")]))
            return lr[0] - lr[1]
        label = b * (d("yo") - d("yt"))
    return {"total": total, "true_risk": true_risk, "response_beyond_true_risk": response,
            "label_bias": label, "residual": total - true_risk - response - label,
            "slope": b}


def _weighted_sums(X: np.ndarray, replicates: int, seed: int,
                   weights: np.ndarray | None = None) -> np.ndarray:
    """Column sums of ``X`` under weight 1, then under ``replicates`` Poisson(1) bootstrap
    weightings of the citizens (chunks of replicates: bounded memory, no loop over
    citizens). ``weights`` ((n, 1 + replicates), column 0 all ones, as
    :func:`scorelab.fairness.counts.bootstrap_weights` draws them once for every model)
    replaces the draws."""
    if weights is not None:
        step = max(1, _BOOT_CELLS // weights.shape[1])
        sums = np.zeros((weights.shape[1], X.shape[1]))
        for i in range(0, X.shape[0], step):  # chunks of citizens: bounded memory
            sums += weights[i:i + step].T.astype(float) @ X[i:i + step]
        return sums
    out = [X.sum(axis=0, keepdims=True)]
    rng = np.random.default_rng(seed)
    step = max(1, _BOOT_CELLS // max(1, X.shape[0]))
    for start in range(0, replicates, step):
        w = rng.poisson(1.0, size=(min(step, replicates - start), X.shape[0]))
        out.append(w.astype(float) @ X)
    return np.concatenate(out)


def _fold_spread(X: np.ndarray, cols: dict[str, int], folds: Any, part: str,
                 slope: float, citizen_var: float) -> tuple[float, list[float]]:
    """How much a part depends on the particular fit: a delete-a-group jackknife over
    the K fold models.

    Each fold model was trained without one fold and scored the citizens it held out;
    the part computed fold by fold (at the all-citizen ``slope``) gives K values
    theta_k. Their spread s^2 holds the held-out citizens' sampling noise (about K times
    ``citizen_var``, the bootstrap variance of the all-citizen part) and how much the
    fits differ (e.g. a weight a model gave by chance to a descendant of age, which the
    citizen bootstrap cannot see). The excess, scaled as the jackknife scales it, is the
    variance returned: (K - 1)^2 / K * max(0, s^2 - K * citizen_var), conservative (the
    jackknife overstates the variance of unstable learners such as boosted trees).
    Returns it with the K values (0 and [] without folds or with fewer than two).
    """
    if folds is None:
        return 0.0, []
    f = np.asarray(folds, dtype=float)
    ok = np.isfinite(f)
    labels, idx = np.unique(f[ok], return_inverse=True)
    if labels.size < 2:
        return 0.0, []
    onehot = np.zeros((labels.size, int(ok.sum())))
    onehot[idx.ravel(), np.arange(idx.size)] = 1.0
    theta = _decomposition_parts(onehot @ X[ok], cols, slope)[part]
    theta = theta[np.isfinite(theta)]
    k = theta.size
    if k < 2:
        return 0.0, [float(v) for v in theta]
    excess = max(0.0, float(theta.var(ddof=1)) - k * citizen_var)
    return (k - 1) ** 2 / k * excess, [float(v) for v in theta]


def age_gap_decomposition(points: Any, young: Any, true_pd: Any,
                          twin_points: Any | None = None, twin_true_pd: Any | None = None,
                          points_true_label: Any | None = None,
                          y_observed: Any | None = None, y_true: Any | None = None,
                          bootstrap: int = 0, seed: int = 0, level: float = 0.95,
                          folds: Any | None = None,
                          twin_points_true_label: Any | None = None,
                          weights: np.ndarray | None = None) -> dict[str, Any]:
    """Split the young-vs-rest gap in mean score (points) into additive parts.

    With S the model's points, L = logit(true_pd), Y the young indicator and
    gap(v) = mean(v | young) - mean(v | rest):

    * ``total = gap(S)`` (negative: the young score lower).
    * ``true_risk = b * gap(L)``, where ``b`` is the OLS slope of S on L over all
      citizens: the gap a score with the model's own sharpness would show if it tracked
      true risk only (includes any legitimate age effect on true risk).
    * ``response_beyond_true_risk = -(mean_young(S_twin - S) - b * mean_young(L_twin -
      L))`` (alias ``proxy``, kept for older readers): the twins are the young re-drawn
      older (age + shift through the population model; only age's descendants such as
      credit_history_years and employment_years, thin files and dependents change, plus
      true risk if the legitimate effect is on). The score change the twins get beyond
      what their change in true risk warrants is the model's response to age through the
      features; its negative is its share of the gap. Negative: the young are penalised
      through age's descendants (a proxy effect). Positive: the model does not reflect an
      age difference in true risk (it scores the young better than their risk warrants),
      which is not a proxy favouring the young. Needs twin_points (and twin_true_pd;
      without it L_twin = L); NaN where a citizen has no twin (the mean is over the young
      who have one).
    * ``label_bias``: with ``points_true_label`` (the same model trained on the true
      outcome, out of fold): ``gap(S) - gap(S_true_label)``. Else, with both outcomes:
      ``b * (D_obs - D_true)``, D = logit(default rate young) - logit(default rate
      rest), the extra gap in recorded log-odds, in points: the bias in the labels, which
      reaches the scores only as far as the model can see the targeted group. Else 0
      (not estimable). With ``twin_points_true_label`` too (the twins scored by the
      true-outcome model), the twin-based part is that model's: what the recorded labels
      add through age's descendants is then counted once, under ``label_bias``.
    * ``residual = total - true_risk - response_beyond_true_risk - label_bias``:
      everything else. The parts add up to ``total`` exactly by construction.

    With ``bootstrap`` > 0 every part gets a percentile interval at ``level`` from a
    seeded Poisson bootstrap of the citizens (each replicate re-weights the citizens;
    computed from weighted sums, vectorised). The models are held fixed: the interval is
    the sampling uncertainty of the audited population; the parts that depend on a fit
    (the twin part, the label part from a re-trained model, the residual) add the fold
    models' disagreement (``folds``, see :func:`_fold_spread`). ``weights`` (citizens x
    (1 + bootstrap), column 0 all ones) are given bootstrap weights, shared between
    models (:func:`scorelab.fairness.counts.bootstrap_weights`), instead of drawing. A part
    whose interval covers zero is reported as not distinguishable from zero.

    Returns a dict: total, true_risk, response_beyond_true_risk, proxy (alias),
    label_bias, residual, slope_points_per_logit, unexplained (= total - true_risk),
    proxy_share_of_unexplained, n_young, n_rest, mean_score_young, mean_score_rest,
    which parts were estimable ("available"), what each part measures ("parts",
    "aliases") and, with a bootstrap, "intervals" {part: [low, high]},
    "distinguishable_from_zero" {part: bool}, "reading" (of the twin-based part) and
    "bootstrap" {replicates, level, seed, method}.
    """
    S = np.asarray(points, dtype=float)
    Y = np.asarray(young, dtype=bool)
    L = logit(true_pd)
    columns: dict[str, np.ndarray] = {
        "young": Y, "rest": ~Y, "S_young": S * Y, "S_rest": S * ~Y, "L_young": L * Y,
        "L_rest": L * ~Y, "L": L, "S": S, "LL": L * L, "LS": L * S}
    available = {"true_risk": True, "proxy": False, "response_beyond_true_risk": False,
                 "label_bias": False}
    response_model = "the model itself"
    if twin_points is not None:
        dS = np.asarray(twin_points, dtype=float) - S
        if points_true_label is not None and twin_points_true_label is not None:
            dS = np.asarray(twin_points_true_label, dtype=float) - \
                np.asarray(points_true_label, dtype=float)
            response_model = "the same model trained on the true outcome"
        has = Y & np.isfinite(dS)  # twins may cover an audit sample only (NaN elsewhere)
        dL = np.zeros_like(S)
        if twin_true_pd is not None:
            dL = logit(twin_true_pd) - L
            has &= np.isfinite(dL)
        columns.update(twin=has, dS=np.where(has, dS, 0.0), dL=np.where(has, dL, 0.0))
        available["proxy"] = available["response_beyond_true_risk"] = bool(has.any())
    method = "not estimable"
    if points_true_label is not None:
        St = np.asarray(points_true_label, dtype=float)
        columns.update(Stl_young=St * Y, Stl_rest=St * ~Y)
        available["label_bias"], method = True, "model trained on the true outcome"
    elif y_observed is not None and y_true is not None:
        yo, yt = np.asarray(y_observed, float), np.asarray(y_true, float)
        columns.update(yo_young=yo * Y, yo_rest=yo * ~Y, yt_young=yt * Y, yt_rest=yt * ~Y)
        available["label_bias"], method = True, "observed vs true default-rate gap"
    cols = {name: i for i, name in enumerate(columns)}
    X = np.column_stack([np.asarray(v, dtype=float) for v in columns.values()])
    sums = _weighted_sums(X, max(0, int(bootstrap)), seed, weights)
    parts = _decomposition_parts(sums, cols)
    point = {k: float(v[0]) for k, v in parts.items()}
    total, true_risk = point["total"], point["true_risk"]
    response = point["response_beyond_true_risk"]
    unexplained = total - true_risk
    out: dict[str, Any] = {
        "measure": "mean score (points), young minus rest", "total": total,
        "true_risk": true_risk, "response_beyond_true_risk": response, "proxy": response,
        "label_bias": point["label_bias"], "residual": point["residual"],
        "unexplained": unexplained,
        "proxy_share_of_unexplained": (response / unexplained if abs(unexplained) > 1e-9
                                       else None),
        "slope_points_per_logit": point["slope"], "label_bias_method": method,
        "response_model": response_model,
        "available": available, "parts": DECOMPOSITION_PARTS,
        "aliases": DECOMPOSITION_ALIASES, "n_young": int(Y.sum()), "n_rest": int((~Y).sum()),
        "mean_score_young": float(S[Y].mean()), "mean_score_rest": float(S[~Y].mean())}
    if sums.shape[0] > 1:
        z = float(norm.ppf(0.5 + level / 2))
        key = "response_beyond_true_risk"
        fitted = [key, "residual"] + (["label_bias"] if "Stl_young" in cols else [])
        spread = {k: _fold_spread(X, cols, folds, k, point["slope"],
                                  float(np.nanvar(parts[k][1:], ddof=1))) for k in fitted}
        train, by_fold = spread[key]
        intervals = {}
        for k in DECOMPOSITION_PARTS:
            fit = spread[k][0] if k in spread else 0.0
            se = float(np.sqrt(np.nanvar(parts[k][1:], ddof=1) + fit))
            intervals[k] = [point[k] - z * se, point[k] + z * se]
        intervals["proxy"] = intervals["response_beyond_true_risk"]
        estimable = {"total": True, "true_risk": True, "residual": True, **available}
        out["intervals"] = intervals
        out["distinguishable_from_zero"] = {
            k: bool(estimable.get(k, True) and (lo > 0 or hi < 0))
            for k, (lo, hi) in intervals.items()}
        out["reading"] = {"response_beyond_true_risk": response_reading(
            response, intervals["response_beyond_true_risk"])}
        out["bootstrap"] = {
            "replicates": int(bootstrap), "level": level, "seed": int(seed),
            "fit_se_twin_part": float(np.sqrt(train)), "twin_part_by_fold": by_fold,
            "fit_se": {k: float(np.sqrt(v[0])) for k, v in spread.items()},
            "method": "normal intervals from a Poisson bootstrap of the citizens (models "
                      "held fixed); the parts that depend on a fit (the twin-based part, "
                      "the residual and a label part from a re-trained model) add a "
                      "delete-a-group jackknife over the K fold models"}
    return out


def response_reading(value: float, interval: Sequence[float]) -> str:
    """What the twin-based part says, by the sign of an interval that excludes zero."""
    lo, hi = interval
    if not (lo > 0 or hi < 0) or abs(value) < 1e-9:
        return READ_ZERO
    return READ_PENALISES if value < 0 else READ_MISSES


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
