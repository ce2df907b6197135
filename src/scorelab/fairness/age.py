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
    "true_risk": "the gap in the model's own mean points at each level of true risk (a "
                 "line spline of its points on true log-odds, fitted to every citizen): "
                 "what the gap would be if the model tracked true risk only (includes any "
                 "legitimate age difference in risk)",
    "response_beyond_true_risk": "the model's response to age through the features, "
                                 "beyond what true risk warrants: the young's twins made "
                                 "older (counterfactual), plus the rest against citizens "
                                 "of the twins' ages (the rest span more ages than the "
                                 "twins reach); negative: the young are penalised through "
                                 "age's descendants; positive: the model does not reflect "
                                 "an age difference in risk and scores the young better "
                                 "than their true risk warrants",
    "label_bias": "the extra gap beyond true risk the recorded outcomes carry: against the "
                  "same model trained on the true outcome when one was (what reaches the "
                  "scores), else the gap in the recorded default rates' log-odds (the bias "
                  "in the labels themselves)",
    "residual": "everything else: the young's twins against citizens of the same ages, "
                "beyond true risk (zero in expectation in the population model, where "
                "citizens of one age are alike whatever their factual age)",
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


#: The model's own map of points on true log-odds is a line spline with at most this
#: many knots (quantiles of true log-odds), each interval holding at least
#: ``_CITIZENS_PER_KNOT`` citizens: two knots are a straight line (a few hundred citizens).
_MAX_KNOTS = 12
_CITIZENS_PER_KNOT = 400


def risk_knots(log_odds: np.ndarray) -> np.ndarray:
    """Knots of the map of points on true log-odds: quantiles of ``log_odds``, as many as
    the citizens allow (see ``_MAX_KNOTS``), never fewer than two."""
    k = int(np.clip(log_odds.size // _CITIZENS_PER_KNOT, 2, _MAX_KNOTS))
    knots = np.unique(np.quantile(log_odds, np.linspace(0.0, 1.0, k)))
    return knots if knots.size >= 2 else np.array([knots[0], knots[0] + 1.0])


def hat_basis(log_odds: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """Line-spline basis (n x K): each citizen's two weights on the knots either side of
    their true log-odds, summing to one (straight on past the end knots), so a map is
    linear in its K knot values and every sum the bootstrap needs is a weighted sum."""
    x = np.asarray(log_odds, dtype=float)
    j = np.clip(np.searchsorted(knots, x, side="right") - 1, 0, knots.size - 2)
    t = (x - knots[j]) / (knots[j + 1] - knots[j])
    basis = np.zeros((x.size, knots.size))
    rows = np.arange(x.size)
    basis[rows, j] = 1.0 - t
    basis[rows, j + 1] = t
    return basis


def age_match_weights(age: Any, twin_age: Any) -> np.ndarray:
    """Weights that give the citizens the twins' ages: citizen i weighs (twins in i's year
    of age) / (citizens in that year), so the weighted citizens are as many as the twins
    and aged as they are, year by year (NaN: no twin / no age)."""
    def years(v: Any) -> np.ndarray:
        a = np.asarray(v, dtype=float)
        return np.where(np.isfinite(a), np.floor(a), -1).astype(np.int64) + 1

    own, twins = years(age), years(twin_age)
    size = int(max(own.max(initial=0), twins.max(initial=0))) + 1
    n_own = np.bincount(own, minlength=size).astype(float)
    n_twin = np.bincount(twins, minlength=size).astype(float)
    n_own[0] = n_twin[0] = 0.0  # bin 0: no age or no twin
    with np.errstate(invalid="ignore", divide="ignore"):
        per_year = np.where(n_own > 0, n_twin / n_own, 0.0)
    return per_year[own]


def _map_values(sums: np.ndarray, cols: dict[str, int], k: int, name: str) -> np.ndarray:
    """Knot values of the least-squares line spline on true log-odds of the points
    (``name`` BS) or of their difference from the true-outcome model's (BD), one row per
    weighting, from the Gram sums (tridiagonal, K x K)."""
    diag = sums[:, cols["G0"]:cols["G0"] + k]
    off = sums[:, cols["G1"]:cols["G1"] + k - 1]
    gram = np.zeros((sums.shape[0], k, k))
    idx = np.arange(k)
    gram[:, idx, idx] = diag + 1e-10 * diag.mean(axis=1, keepdims=True)
    gram[:, idx[:-1], idx[1:]] = off
    gram[:, idx[1:], idx[:-1]] = off
    return np.linalg.solve(gram, sums[:, cols[name]:cols[name] + k, None])[..., 0]


def _decomposition_parts(sums: np.ndarray, cols: dict[str, int], k: int,
                         fixed: dict[str, np.ndarray] | None = None
                         ) -> dict[str, np.ndarray]:
    """The parts from weighted sums (one row per weighting: the data, then replicates).

    Each weighting fits its own map of points on true log-odds (K knot values), or uses
    the ``fixed`` maps (``S``, ``T``: knot values; ``b``: the straight-line slope)."""
    def s(name: str) -> np.ndarray:
        return sums[:, cols[name]]

    def block(name: str) -> np.ndarray:
        return sums[:, cols[name]:cols[name] + k]

    def rate(a: np.ndarray | str, b: np.ndarray | str) -> np.ndarray:
        num, den = (s(v) if isinstance(v, str) else v for v in (a, b))
        with np.errstate(invalid="ignore", divide="ignore"):
            return num / den

    n_young, n_rest = s("young"), s("rest")
    n = n_young + n_rest
    sxx = s("LL") - s("L") ** 2 / n
    sxy = s("LS") - s("L") * s("S") / n
    with np.errstate(invalid="ignore", divide="ignore"):
        b = np.where(sxx > 0, sxy / sxx, 0.0) if fixed is None else \
            np.full(n.shape, fixed["b"])
    own = _map_values(sums, cols, k, "BS") if fixed is None else \
        np.broadcast_to(fixed["S"], (sums.shape[0], k))
    refit = "BD" in cols  # the map of S - S' (zero, exactly, when the two agree)
    apart = np.zeros_like(own) if not refit else (
        _map_values(sums, cols, k, "BD") if fixed is None else
        np.broadcast_to(fixed["D"], (sums.shape[0], k)))
    other = own - apart
    with np.errstate(invalid="ignore", divide="ignore"):
        risk_gap = block("By") / n_young[:, None] - block("Br") / n_rest[:, None]
    total = rate("S_young", "young") - rate("S_rest", "rest")
    true_risk = (own * risk_gap).sum(axis=1)
    response = np.zeros_like(total)
    warranted = missed = composition = np.zeros_like(total)
    if "twin" in cols:
        responder = other if "twin_refit" in cols else own
        has = s("twin") > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            shift = (block("Bt") - block("Bf")) / s("twin")[:, None]
        warranted = missed = np.where(has, (responder * shift).sum(axis=1), 0.0)
        response = np.where(has, -(rate("dS", "twin") - warranted), 0.0)
        if "match" in cols:  # the rest against citizens of the twins' ages, beyond risk
            risk_rest = rate((responder * block("Br")).sum(axis=1), "rest")
            risk_match = rate((responder * block("Bm")).sum(axis=1), "match")
            composition = np.where(has, -(rate("R_rest", "rest") - rate("R_match", "match")
                                          - (risk_rest - risk_match)), 0.0)
            response = response + composition
            # true risk alone, on the same citizens: the twins' warranted change plus the
            # rest's warranted difference from citizens of the twins' ages
            missed = np.where(has, warranted + risk_rest - risk_match, 0.0)
    label = np.zeros_like(total)
    if refit:
        label = (rate("D_young", "young") - rate("D_rest", "rest")
                 - (apart * risk_gap).sum(axis=1))
    elif "yo_young" in cols:
        def d(prefix: str) -> np.ndarray:
            lr = logit(np.stack([rate(f"{prefix}_young", "young"),
                                 rate(f"{prefix}_rest", "rest")]))
            return lr[0] - lr[1]
        label = b * (d("yo") - d("yt"))
    return {"total": total, "true_risk": true_risk, "response_beyond_true_risk": response,
            "label_bias": label, "residual": total - true_risk - response - label,
            "slope": b, "map": own, "map_refit": other, "warranted": warranted,
            "missed": missed, "composition": composition,
            "response_beyond_missed": response - missed}


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


def _fold_spread(X: np.ndarray, cols: dict[str, int], k: int, folds: Any, part: str,
                 fixed: dict[str, np.ndarray], citizen_var: float
                 ) -> tuple[float, list[float]]:
    """How much a part depends on the particular fit: a delete-a-group jackknife over
    the K fold models.

    Each fold model was trained without one fold and scored the citizens it held out;
    the part computed fold by fold (with the all-citizen maps ``fixed``) gives K values
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
    theta = _decomposition_parts(onehot @ X[ok], cols, k, fixed)[part]
    theta = theta[np.isfinite(theta)]
    groups = theta.size
    if groups < 2:
        return 0.0, [float(v) for v in theta]
    excess = max(0.0, float(theta.var(ddof=1)) - groups * citizen_var)
    return (groups - 1) ** 2 / groups * excess, [float(v) for v in theta]


def age_gap_decomposition(points: Any, young: Any, true_pd: Any,
                          twin_points: Any | None = None, twin_true_pd: Any | None = None,
                          points_true_label: Any | None = None,
                          y_observed: Any | None = None, y_true: Any | None = None,
                          bootstrap: int = 0, seed: int = 0, level: float = 0.95,
                          folds: Any | None = None,
                          twin_points_true_label: Any | None = None,
                          weights: np.ndarray | None = None, age: Any | None = None,
                          twin_age: Any | None = None) -> dict[str, Any]:
    """Split the young-vs-rest gap in mean score (points) into additive parts.

    With S the model's points, L = logit(true_pd), Y the young indicator,
    gap(v) = mean(v | young) - mean(v | rest) and h the model's own map of points on
    true risk (the least-squares line spline of S on L, knots at quantiles of L: the
    model's mean points at each level of true risk; see :func:`risk_knots`):

    * ``total = gap(S)`` (negative: the young score lower).
    * ``true_risk = gap(h(L))``: the gap a score would show if it gave every citizen the
      model's mean points for their true risk (includes any legitimate age effect on
      true risk). A straight line (``b * gap(L)``, the two-knot case) leaves the
      curvature of points in true log-odds out; it moved the default study's residuals
      by less than 1.4 points (docs/truth.md).
    * ``response_beyond_true_risk`` (alias ``proxy``, kept for older readers), with
      E = S - h(L) the points beyond true risk: ``-(mean_young(E_twin - E))``, the
      twins being the young re-drawn older (age + shift through the population model;
      only age's descendants such as credit_history_years and employment_years, thin
      files and dependents change, plus true risk if the legitimate effect is on), plus,
      with ``age`` and ``twin_age``, ``-(mean_rest(E) - mean_matched(E))``: the rest
      against the citizens reweighted to the twins' ages year by year
      (:func:`age_match_weights`). The twins move the young by the shift only (18-25 ->
      38-45), while the rest span 26-80; without the second term the gap between the two
      stayed in the residual (-1.3 to -5.9 points at 5,000 citizens, -5.1 at 100,000 for
      a logistic model; docs/truth.md). Negative: the young are penalised through age's
      descendants (a proxy effect). Positive: the model does not reflect an age
      difference in true risk (it scores the young better than their risk warrants),
      which is not a proxy favouring the young. ``missed_risk_points`` is the value
      true risk alone would give it on the same citizens (``twin_true_risk_points`` =
      mean_young(h(L_twin) - h(L)), plus mean_rest(h(L)) - mean_matched(h(L)) when
      matched; about -gap(h(L))). Needs twin_points (and
      twin_true_pd; without it L_twin = L); NaN where a citizen has no twin (the mean is
      over the young who have one).
    * ``label_bias``: with ``points_true_label`` (S', the same model trained on the true
      outcome, out of fold, with its own map h'): ``gap(S - h(L)) - gap(S' - h'(L))``,
      what the recorded labels add to the gap beyond true risk. Else, with both
      outcomes: ``b * (D_obs - D_true)``, D = logit(default rate young) - logit(default
      rate rest), b the straight-line slope of S on L: the bias in the labels, which
      reaches the scores only as far as the model can see the targeted group. Else 0
      (not estimable). With ``twin_points_true_label`` too (the twins scored by the
      true-outcome model), the twin-based part is that model's, in its own map h': what
      the recorded labels add through age's descendants is then counted once, under
      ``label_bias``.
    * ``residual = total - true_risk - response_beyond_true_risk - label_bias``:
      everything else; matched, it is mean_young(E_twin) - mean_matched(E), the twins
      against citizens of their ages, which the population model makes zero in
      expectation (a citizen's exogenous draws do not depend on age). The parts add up
      to ``total`` exactly by construction.

    With ``bootstrap`` > 0 every part gets a normal interval at ``level`` from a seeded
    Poisson bootstrap of the citizens (each replicate re-weights the citizens and refits
    the maps h and h', so their sampling error is in every interval; computed from
    weighted sums, vectorised). The models are held fixed: the interval is the sampling
    uncertainty of the audited population; the parts that depend on a fit (the twin
    part, the label part from a re-trained model, the residual) add the fold models'
    disagreement (``folds``, see :func:`_fold_spread`). ``weights`` (citizens x
    (1 + bootstrap), column 0 all ones) are given bootstrap weights, shared between
    models (:func:`scorelab.fairness.counts.bootstrap_weights`), instead of drawing. A part
    whose interval covers zero is reported as not distinguishable from zero. The map is
    fitted to all audited citizens, not out of fold: it has at most ``_MAX_KNOTS``
    values against thousands of citizens, and the bootstrap refits it.

    Returns a dict: total, true_risk, response_beyond_true_risk, proxy (alias),
    label_bias, residual, slope_points_per_logit, true_risk_map {log_odds, points},
    twin_true_risk_points, missed_risk_points, response_parts {twins, age_composition,
    matched_ages}, unexplained (= total - true_risk),
    proxy_share_of_unexplained, n_young, n_rest, mean_score_young, mean_score_rest,
    which parts were estimable ("available"), what each part measures ("parts",
    "aliases") and, with a bootstrap, "intervals" {part: [low, high]},
    "distinguishable_from_zero" {part: bool}, "reading" (of the twin-based part) and
    "bootstrap" {replicates, level, seed, method}.
    """
    S = np.asarray(points, dtype=float)
    Y = np.asarray(young, dtype=bool)
    L = logit(true_pd)
    knots = risk_knots(L)
    k = knots.size
    basis = hat_basis(L, knots)
    columns: dict[str, np.ndarray] = {
        "young": Y, "rest": ~Y, "S_young": S * Y, "S_rest": S * ~Y, "L": L, "S": S,
        "LL": L * L, "LS": L * S}
    blocks: dict[str, np.ndarray] = {
        "G0": basis ** 2, "G1": basis[:, :-1] * basis[:, 1:], "BS": basis * S[:, None],
        "By": basis * Y[:, None], "Br": basis * ~Y[:, None]}
    available = {"true_risk": True, "proxy": False, "response_beyond_true_risk": False,
                 "label_bias": False}
    response_model = "the model itself"
    if twin_points is not None:
        dS = np.asarray(twin_points, dtype=float) - S
        responder = S
        if points_true_label is not None and twin_points_true_label is not None:
            responder = np.asarray(points_true_label, dtype=float)
            dS = np.asarray(twin_points_true_label, dtype=float) - responder
            response_model = "the same model trained on the true outcome"
            columns["twin_refit"] = np.zeros_like(S)  # marks whose map the twins use
        has = Y & np.isfinite(dS)  # twins may cover an audit sample only (NaN elsewhere)
        L_twin = L
        if twin_true_pd is not None:
            L_twin = logit(twin_true_pd)
            has &= np.isfinite(L_twin)
        columns.update(twin=has, dS=np.where(has, dS, 0.0))
        blocks.update(Bt=hat_basis(np.where(has, L_twin, L), knots) * has[:, None],
                      Bf=basis * has[:, None])
        if age is not None and twin_age is not None:
            match = age_match_weights(age, np.where(has, twin_age, np.nan))
            columns.update(match=match, R_match=responder * match, R_rest=responder * ~Y)
            blocks["Bm"] = basis * match[:, None]
        available["proxy"] = available["response_beyond_true_risk"] = bool(has.any())
    method = "not estimable"
    if points_true_label is not None:
        St = np.asarray(points_true_label, dtype=float)
        columns.update(D_young=(S - St) * Y, D_rest=(S - St) * ~Y)
        blocks["BD"] = basis * (S - St)[:, None]
        available["label_bias"], method = True, "model trained on the true outcome"
    elif y_observed is not None and y_true is not None:
        yo, yt = np.asarray(y_observed, float), np.asarray(y_true, float)
        columns.update(yo_young=yo * Y, yo_rest=yo * ~Y, yt_young=yt * Y, yt_rest=yt * ~Y)
        available["label_bias"], method = True, "observed vs true default-rate gap"
    cols = {name: i for i, name in enumerate(columns)}
    start = len(columns)
    for name, values in blocks.items():  # a block of K columns starts at cols[name]
        cols[name], start = start, start + values.shape[1]
    X = np.column_stack([np.asarray(v, dtype=float) for v in columns.values()]
                        + list(blocks.values()))
    sums = _weighted_sums(X, max(0, int(bootstrap)), seed, weights)
    parts = _decomposition_parts(sums, cols, k)
    point = {key: float(v[0]) for key, v in parts.items() if v.ndim == 1}
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
        "slope_points_per_logit": point["slope"],
        "true_risk_map": {"log_odds": [float(v) for v in knots],
                          "points": [float(v) for v in parts["map"][0]]},
        "twin_true_risk_points": point["warranted"] if available["proxy"] else None,
        "missed_risk_points": point["missed"] if available["proxy"] else None,
        "response_parts": ({"twins": response - point["composition"],
                            "age_composition": point["composition"],
                            "matched_ages": "match" in cols}
                           if available["proxy"] else None),
        "label_bias_method": method, "response_model": response_model,
        "available": available, "parts": DECOMPOSITION_PARTS,
        "aliases": DECOMPOSITION_ALIASES, "n_young": int(Y.sum()), "n_rest": int((~Y).sum()),
        "mean_score_young": float(S[Y].mean()), "mean_score_rest": float(S[~Y].mean())}
    if sums.shape[0] > 1:
        z = float(norm.ppf(0.5 + level / 2))
        key = "response_beyond_true_risk"
        fitted = [key, "residual", "response_beyond_missed"] + (
            ["label_bias"] if "BD" in cols else [])
        fixed = {"S": parts["map"][0], "D": parts["map"][0] - parts["map_refit"][0],
                 "b": point["slope"]}
        spread = {p: _fold_spread(X, cols, k, folds, p, fixed,
                                  float(np.nanvar(parts[p][1:], ddof=1))) for p in fitted}
        train, by_fold = spread[key]
        intervals = {}
        for p in (*DECOMPOSITION_PARTS, "response_beyond_missed"):
            fit = spread[p][0] if p in spread else 0.0
            se = float(np.sqrt(np.nanvar(parts[p][1:], ddof=1) + fit))
            intervals[p] = [point[p] - z * se, point[p] + z * se]
        intervals["proxy"] = intervals["response_beyond_true_risk"]
        estimable = {"total": True, "true_risk": True, "residual": True, **available}
        # how far the twin-based part is from what true risk alone gives, with its own
        # interval (the two share the citizens): what a model that ignores age is held to
        out["response_beyond_missed"] = point["response_beyond_missed"] \
            if available["proxy"] else None
        out["intervals"] = intervals
        out["distinguishable_from_zero"] = {
            p: bool(estimable.get(p, True) and (lo > 0 or hi < 0))
            for p, (lo, hi) in intervals.items()}
        out["reading"] = {"response_beyond_true_risk": response_reading(
            response, intervals["response_beyond_true_risk"])}
        out["bootstrap"] = {
            "replicates": int(bootstrap), "level": level, "seed": int(seed),
            "fit_se_twin_part": float(np.sqrt(train)), "twin_part_by_fold": by_fold,
            "fit_se": {p: float(np.sqrt(v[0])) for p, v in spread.items()},
            "method": "normal intervals from a Poisson bootstrap of the citizens (models "
                      "held fixed, the map of points on true risk refitted in every "
                      "replicate); the parts that depend on a fit (the twin-based part, "
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
