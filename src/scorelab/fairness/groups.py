"""Group metrics of decisions and scores, by protected group, with bootstrap intervals.

Conventions (stated once, used everywhere in scorelab's fairness tables):

* **positive = default** (label 1). A decision "predicts default" when it **rejects**.
  So ``tpr`` is the share of defaulters that are rejected (the model *catches* them),
  ``fpr`` the share of non-defaulters wrongly rejected (good payers refused credit),
  ``fnr = 1 - tpr`` the share of defaulters approved.
* ``approval_rate`` is the selection rate of *approval* (share approved).
* ``auc`` ranks P(default) against the outcome; ``mean_p`` is the mean predicted
  P(default); ``default_rate`` the rate of the row's outcome (observed or true);
  ``calibration_gap = mean_p - default_rate`` (positive: the group is predicted riskier
  than it turned out); ``mean_score`` the mean points.
* ``outcome`` is ``observed`` (the recorded label) or ``true`` (synthetic truth): a gap
  against the observed outcome that vanishes against the true one is label bias.

Point estimates come from fairlearn's :class:`~fairlearn.metrics.MetricFrame`; intervals
from a seeded, stratified bootstrap (citizens resampled within their group, the same
replicates for both outcomes and every metric), vectorised as multinomial count
matrices (replicates x citizens of the group); no loop over citizens.

Suppression: a group smaller than ``min_group_size`` has every metric suppressed; a group
without defaulters has tpr/fnr/auc suppressed, without non-defaulters fpr/auc. A
suppressed value (and its interval, difference and ratio) is NaN, never 0 or 1.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from scorelab.data.groups import band_name, group_column

__all__ = ["METRICS", "approval_ratio", "attribute_groups", "disparities", "group_metrics", "two_proportion_test"]

METRICS = ("approval_rate", "tpr", "fpr", "fnr", "auc", "mean_p", "default_rate",
           "calibration_gap", "mean_score")
_NEEDS_POS = {"tpr", "fnr", "auc"}
_NEEDS_NEG = {"fpr", "auc"}
_COLUMNS = ["outcome", "attribute", "group", "metric", "value", "ci_low", "ci_high", "n",
            "n_positive", "n_negative", "reference_group", "difference", "ratio",
            "ratio_ci_low", "ratio_ci_high", "suppressed", "suppressed_reason"]


# --------------------------------------------------------------------------- groups


def attribute_groups(frame: pd.DataFrame, fairness_cfg: Any, age_column: str | None = "age"
                     ) -> list[tuple[str, pd.Series]]:
    """(attribute name, group label per citizen) for every audited attribute and
    intersection present in ``frame``; the age attribute is banded (name ``age_band``, or
    ``AGE_band`` for a table's ``AGE``), intersections are named ``"age_band x sex"`` with
    labels ``"18-25 x female"``. A missing value is the group "missing" or NaN (no group),
    as ``fairness_cfg.missing_protected`` says."""
    edges = list(fairness_cfg.age_bands)
    missing = getattr(fairness_cfg, "missing_protected", "group")
    single: dict[str, pd.Series] = {}
    for attr in dict.fromkeys([*fairness_cfg.attributes,
                               *[a for inter in fairness_cfg.intersections for a in inter]]):
        if attr in frame.columns:
            single[attr] = group_column(frame, attr, edges, age_column, missing)
    out = [(str(single[a].name), single[a]) for a in fairness_cfg.attributes if a in single]
    for inter in fairness_cfg.intersections:
        if not inter or any(a not in single for a in inter):
            continue
        parts = [single[a] for a in inter]
        name = " x ".join(str(p.name) for p in parts)
        label = parts[0].astype(str)
        for p in parts[1:]:
            label = label + " x " + p.astype(str)  # not a category if a value was dropped
        cats = [" x ".join(c) for c in pd.MultiIndex.from_product(
            [list(p.cat.categories.astype(str)) for p in parts])]
        out.append((name, pd.Series(pd.Categorical(label, categories=cats), index=frame.index,
                                    name=name)))
    return out


# --------------------------------------------------------------------------- point metrics


def _rate(num: float, den: float) -> float:
    return float(num / den) if den > 0 else np.nan


def _approval(y: np.ndarray, rejected: np.ndarray) -> float:
    return 1.0 - float(np.mean(rejected))


def _tpr(y: np.ndarray, rejected: np.ndarray) -> float:
    return _rate(np.sum(rejected * y), np.sum(y))


def _fpr(y: np.ndarray, rejected: np.ndarray) -> float:
    return _rate(np.sum(rejected * (1 - y)), np.sum(1 - y))


def _fnr(y: np.ndarray, rejected: np.ndarray) -> float:
    return _rate(np.sum((1 - rejected) * y), np.sum(y))


def _auc(y: np.ndarray, p: np.ndarray) -> float:
    y = np.asarray(y)
    n1 = int(y.sum())
    n0 = y.size - n1
    if n1 == 0 or n0 == 0:
        return np.nan
    from scipy.stats import rankdata

    ranks = rankdata(p)
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def _mean_pred(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean(p))


def _default_rate(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean(y))


def _calibration_gap(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean(p) - np.mean(y))


def _point_estimates(y: np.ndarray, p: np.ndarray, points: np.ndarray, rejected: np.ndarray,
                     labels: pd.Series) -> pd.DataFrame:
    """group x metric via fairlearn's MetricFrame.

    MetricFrame is given citizens' positions as y_true / y_pred and one metric that
    returns every metric of the group at once (looked up from the positions): fairlearn
    converts each array passed to it element by element, so passing positions once
    instead of y, P, points and decisions once per metric keeps it fast.
    """
    from fairlearn.metrics import MetricFrame

    fns = {"approval_rate": _approval, "tpr": _tpr, "fpr": _fpr, "fnr": _fnr}
    score_fns = {"auc": _auc, "mean_p": _mean_pred, "default_rate": _default_rate,
                 "calibration_gap": _calibration_gap}

    def every_metric(pos: np.ndarray, _: np.ndarray) -> tuple[float, ...]:
        pos = np.asarray(pos, dtype=np.int64)
        yy, rr = y[pos], rejected[pos]
        return (*(f(yy, rr) for f in fns.values()),
                *(f(yy, p[pos]) for f in score_fns.values()),
                _mean_pred(yy, points[pos]))

    known = labels.notna().to_numpy()  # fairlearn refuses missing groups: a dropped value
    positions = np.flatnonzero(known)   # belongs to no group
    # fairlearn also reduces the per-group results (min/max) at once; a group without
    # both outcomes holds NaN there, which numpy warns about on every real table. The NaN
    # is the right answer (the metric is undefined) and is suppressed downstream.
    with np.errstate(invalid="ignore"):
        frame = MetricFrame(metrics={"all": every_metric}, y_true=positions,
                            y_pred=positions,
                            sensitive_features=labels[known].astype(str).to_numpy())
    by_group = frame.by_group["all"]
    table = pd.DataFrame([list(v) for v in by_group.to_numpy()],
                         index=by_group.index.astype(str),
                         columns=[*fns, *score_fns, "mean_score"])
    return table.astype(float)


# --------------------------------------------------------------------------- bootstrap


def _resample_counts(rng: np.random.Generator, n: int, n_boot: int) -> np.ndarray:
    """(n_boot, n) float matrix: how often each citizen is drawn in each replicate."""
    draws = rng.integers(0, n, size=(n_boot, n)) + (np.arange(n_boot) * n)[:, None]
    return np.bincount(draws.ravel(), minlength=n_boot * n).reshape(n_boot, n) \
        .astype(np.float64)


def _weighted_auc(W: np.ndarray, y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """AUC of every replicate (rows of count matrix W), ties counted half."""
    order = np.argsort(p, kind="mergesort")
    ps, ys, Ws = p[order], y[order], W[:, order]
    starts = np.flatnonzero(np.r_[True, ps[1:] != ps[:-1]])
    P = np.add.reduceat(Ws * ys, starts, axis=1)
    N = np.add.reduceat(Ws * (1 - ys), starts, axis=1)
    below = np.cumsum(N, axis=1) - N
    n1, n0 = P.sum(axis=1), N.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((n1 > 0) & (n0 > 0),
                        (P * (below + 0.5 * N)).sum(axis=1) / (n1 * n0), np.nan)


def _replicates(W: np.ndarray, y: np.ndarray, p: np.ndarray, points: np.ndarray,
                rejected: np.ndarray) -> dict[str, np.ndarray]:
    n = W.sum(axis=1).astype(float)
    pos = W @ y
    neg = n - pos
    with np.errstate(invalid="ignore", divide="ignore"):
        tpr = np.where(pos > 0, (W @ (y * rejected)) / pos, np.nan)
        fpr = np.where(neg > 0, (W @ ((1 - y) * rejected)) / neg, np.nan)
    mean_p = (W @ p) / n
    return {"approval_rate": 1.0 - (W @ rejected) / n, "tpr": tpr, "fpr": fpr,
            "fnr": 1.0 - tpr, "auc": _weighted_auc(W, y, p), "mean_p": mean_p,
            "default_rate": pos / n, "calibration_gap": mean_p - pos / n,
            "mean_score": (W @ points) / n}


def _quantiles(reps: np.ndarray, alpha: float) -> tuple[float, float]:
    finite = reps[np.isfinite(reps)]
    if finite.size < max(10, reps.size // 2):
        return np.nan, np.nan
    lo, hi = np.quantile(finite, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


# --------------------------------------------------------------------------- the table


def group_metrics(y_observed: Any, y_true: Any | None, p_default: Any, points: Any,
                  approved: Any, frame: pd.DataFrame, fairness_cfg: Any, seed: int = 0,
                  confidence: float = 0.95, age_column: str | None = "age") -> pd.DataFrame:
    """The long table of group metrics (see the module docstring for definitions).

    One row per (outcome, attribute, group, metric) with columns: outcome (observed |
    true), attribute (e.g. age_band, sex, "age_band x sex"), group, metric, value,
    ci_low, ci_high (bootstrap percentile, ``fairness_cfg.bootstrap`` replicates; NaN when
    0), n, n_positive, n_negative (defaulters / non-defaulters of that outcome),
    reference_group, difference (value - reference's), ratio (value / reference's),
    ratio_ci_low, ratio_ci_high (bootstrap), suppressed, suppressed_reason.
    The reference is ``fairness_cfg.reference_groups[attribute]`` (keys may name the
    attribute as in the table or the raw attribute, e.g. ``age``) or else the largest
    unsuppressed group. ``age_column`` is the population's age attribute (banded).
    """
    p = np.asarray(p_default, dtype=float)
    pts = np.asarray(points, dtype=float)
    rejected = 1.0 - np.asarray(approved, dtype=float)
    outcomes = [("observed", np.asarray(y_observed, dtype=float))]
    if y_true is not None:
        outcomes.append(("true", np.asarray(y_true, dtype=float)))
    n_boot = int(fairness_cfg.bootstrap)
    alpha = 1.0 - confidence
    rows: list[dict[str, Any]] = []
    for attribute, labels in attribute_groups(frame, fairness_cfg, age_column):
        lab = labels.astype(str).to_numpy()  # a dropped value is NaN: in no group
        present = [str(g) for g in labels.cat.categories if (lab == str(g)).any()]
        index = {g: np.flatnonzero(lab == g) for g in present}
        rng = np.random.default_rng([int(seed), zlib.crc32(attribute.encode())])
        weights = {g: (_resample_counts(rng, idx.size, n_boot) if n_boot > 0 and idx.size
                       else None) for g, idx in index.items()}
        for outcome, y in outcomes:
            point = _point_estimates(y, p, pts, rejected, labels)
            reps = {g: (_replicates(W, y[index[g]], p[index[g]], pts[index[g]],
                                    rejected[index[g]]) if W is not None else None)
                    for g, W in weights.items()}
            attr_rows = []
            for g in present:
                idx = index[g]
                n, npos = int(idx.size), int(y[idx].sum())
                for metric in METRICS:
                    reason = ""
                    if n < fairness_cfg.min_group_size:
                        reason = f"group smaller than min_group_size ({n} < " \
                                 f"{fairness_cfg.min_group_size})"
                    elif metric in _NEEDS_POS and npos == 0:
                        reason = "no defaulters in the group"
                    elif metric in _NEEDS_NEG and npos == n:
                        reason = "no non-defaulters in the group"
                    value = np.nan if reason else float(point.loc[g, metric])
                    lo, hi = (np.nan, np.nan) if reason or reps[g] is None else \
                        _quantiles(reps[g][metric], alpha)
                    attr_rows.append({"outcome": outcome, "attribute": attribute, "group": g,
                                      "metric": metric, "value": value, "ci_low": lo,
                                      "ci_high": hi, "n": n, "n_positive": npos,
                                      "n_negative": n - npos, "suppressed": bool(reason),
                                      "suppressed_reason": reason})
            ref = _reference(attribute, present, index, attr_rows, fairness_cfg, age_column)
            _add_reference(attr_rows, ref, reps)
            rows.extend(attr_rows)
    table = pd.DataFrame(rows, columns=_COLUMNS)
    return table


def _reference(attribute: str, present: list[str], index: dict[str, np.ndarray],
               attr_rows: list[dict[str, Any]], cfg: Any, age_column: str | None
               ) -> str | None:
    refs = dict(cfg.reference_groups)
    raw = attribute.replace(band_name(age_column), age_column) if age_column else attribute
    for key in (attribute, raw):
        if key in refs and str(refs[key]) in present:
            return str(refs[key])
    unsuppressed = {r["group"] for r in attr_rows if not r["suppressed"]}
    candidates = [g for g in present if g in unsuppressed]
    if not candidates:
        return None
    return max(candidates, key=lambda g: index[g].size)


def _add_reference(attr_rows: list[dict[str, Any]], ref: str | None,
                   reps: dict[str, dict[str, np.ndarray] | None]) -> None:
    values = {(r["group"], r["metric"]): r["value"] for r in attr_rows}
    for r in attr_rows:
        r["reference_group"] = ref
        base = values.get((ref, r["metric"]), np.nan) if ref is not None else np.nan
        v = r["value"]
        r["difference"] = v - base if np.isfinite(v) and np.isfinite(base) else np.nan
        r["ratio"] = v / base if np.isfinite(v) and np.isfinite(base) and base != 0 else np.nan
        lo = hi = np.nan
        if np.isfinite(r["ratio"]) and ref is not None and reps.get(r["group"]) is not None \
                and reps.get(ref) is not None and r["group"] != ref:
            num, den = reps[r["group"]][r["metric"]], reps[ref][r["metric"]]
            with np.errstate(invalid="ignore", divide="ignore"):
                ratio = np.where(den != 0, num / den, np.nan)
            lo, hi = _quantiles(ratio, 0.05)
        elif r["group"] == ref and np.isfinite(r["ratio"]):
            lo = hi = 1.0
        r["ratio_ci_low"], r["ratio_ci_high"] = lo, hi


# --------------------------------------------------------------------------- disparities


def two_proportion_test(x1: float, n1: float, x2: float, n2: float) -> float:
    """Two-sided p-value of the pooled two-proportion z-test (NaN if undefined)."""
    if n1 <= 0 or n2 <= 0:
        return np.nan
    pooled = (x1 + x2) / (n1 + n2)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0 if x1 / n1 == x2 / n2 else 0.0
    z = (x1 / n1 - x2 / n2) / se
    return float(2 * norm.sf(abs(z)))


def disparities(table: pd.DataFrame, four_fifths: float = 0.8) -> pd.DataFrame:
    """Per (outcome, attribute): the worst disparities of the unsuppressed groups.

    Columns: outcome, attribute, n_groups, n_suppressed, lowest_group, highest_group,
    approval_low, approval_high, worst_approval_ratio (min/max approval rate),
    approval_difference (max - min), p_value_approval (two-proportion z-test lowest vs
    highest group), reference_group, worst_ratio_to_reference (min over groups of
    approval rate / reference's), worst_ratio_group, four_fifths,
    four_fifths_verdict ("pass" | "fail" on worst_approval_ratio; "not assessed" with
    fewer than two unsuppressed groups), equalized_odds_difference (fairlearn's
    definition: max of the between-group ranges of TPR and FPR, positive = default,
    predicted positive = rejected), eod_component (tpr | fpr), eod_groups,
    p_value_eod (z-test of that component between its two extreme groups).
    p-values are nominal: the compared pair is the extreme one (not corrected for
    that selection).
    """
    rows = []
    for (outcome, attribute), part in table.groupby(["outcome", "attribute"], sort=False):
        live = part[~part["suppressed"]]
        wide = live.pivot_table(index="group", columns="metric", values="value",
                                aggfunc="first")
        sizes = part.drop_duplicates("group").set_index("group")
        row: dict[str, Any] = {"outcome": outcome, "attribute": attribute,
                               "n_groups": int(part["group"].nunique()),
                               "n_suppressed": int(part[part["metric"] == "approval_rate"]
                                                   ["suppressed"].sum()),
                               "reference_group": part["reference_group"].iloc[0],
                               "four_fifths": float(four_fifths)}
        appr = wide["approval_rate"].dropna() if "approval_rate" in wide else pd.Series()
        if appr.size >= 2:
            lo_g, hi_g = appr.idxmin(), appr.idxmax()
            ratio = float(appr[lo_g] / appr[hi_g]) if appr[hi_g] > 0 else np.nan
            n_lo, n_hi = sizes.loc[lo_g, "n"], sizes.loc[hi_g, "n"]
            ref_ratios = live[live["metric"] == "approval_rate"].set_index("group")["ratio"]
            ref_ratios = ref_ratios.dropna()
            row.update(lowest_group=lo_g, highest_group=hi_g, approval_low=float(appr[lo_g]),
                       approval_high=float(appr[hi_g]), worst_approval_ratio=ratio,
                       approval_difference=float(appr[hi_g] - appr[lo_g]),
                       p_value_approval=two_proportion_test(appr[lo_g] * n_lo, n_lo,
                                                            appr[hi_g] * n_hi, n_hi),
                       worst_ratio_to_reference=(float(ref_ratios.min()) if ref_ratios.size
                                                 else np.nan),
                       worst_ratio_group=(ref_ratios.idxmin() if ref_ratios.size else None),
                       four_fifths_verdict=("fail" if np.isfinite(ratio) and
                                            ratio < four_fifths else "pass"))
        else:
            row.update(lowest_group=None, highest_group=None, approval_low=np.nan,
                       approval_high=np.nan, worst_approval_ratio=np.nan,
                       approval_difference=np.nan, p_value_approval=np.nan,
                       worst_ratio_to_reference=np.nan, worst_ratio_group=None,
                       four_fifths_verdict="not assessed")
        best: tuple[float, str, str, str, float] | None = None
        for comp, count in (("tpr", "n_positive"), ("fpr", "n_negative")):
            vals = wide[comp].dropna() if comp in wide else pd.Series()
            if vals.size < 2:
                continue
            lo_g, hi_g = vals.idxmin(), vals.idxmax()
            diff = float(vals[hi_g] - vals[lo_g])
            n_lo, n_hi = sizes.loc[lo_g, count], sizes.loc[hi_g, count]
            pval = two_proportion_test(vals[lo_g] * n_lo, n_lo, vals[hi_g] * n_hi, n_hi)
            if best is None or diff > best[0]:
                best = (diff, comp, lo_g, hi_g, pval)
        if best is None:
            row.update(equalized_odds_difference=np.nan, eod_component=None, eod_groups=None,
                       p_value_eod=np.nan)
        else:
            row.update(equalized_odds_difference=best[0], eod_component=best[1],
                       eod_groups=f"{best[2]} vs {best[3]}", p_value_eod=best[4])
        rows.append(row)
    return pd.DataFrame(rows)


def approval_ratio(approved: Any, young: Any) -> float:
    """Approval rate of the ``young`` citizens over that of everyone else."""
    a = np.asarray(approved, dtype=float)
    m = np.asarray(young, dtype=bool)
    rest = a[~m].mean() if (~m).any() else np.nan
    return float(a[m].mean() / rest) if m.any() and rest > 0 else np.nan
