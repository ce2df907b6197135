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

Every value and interval comes from the counts kernel of :mod:`scorelab.fairness.counts`
(one pass over the citizens for all attributes, groups, outcomes and replicates at once,
mergeable across chunks; fairlearn's metrics are its reference in the tests). Intervals
are a seeded Poisson bootstrap: each citizen's weight in a replicate is a Poisson(1)
draw keyed by (seed, citizen id, replicate), the same replicates for every attribute,
outcome, metric and model: percentile intervals for a group's own metric, and for a
ratio to the reference group a normal interval on the log scale from the replicates'
standard deviation (stable with a few hundred replicates, where the percentile interval
of a ratio covered 0.926 of 800 at 20,000 citizens against 0.944 for this one:
docs/truth.md). The group AUC
is read from a P(default) histogram of at most 512 bins, exact when the model has that
few distinct values (see :func:`scorelab.fairness.counts.auc_binning_bound`).

Suppression: a group smaller than ``min_group_size`` has every metric suppressed; a group
without defaulters has tpr/fnr/auc suppressed, without non-defaulters fpr/auc. A
suppressed value (and its interval, difference and ratio) is NaN, never 0 or 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from scorelab.data.groups import band_name, group_column
from scorelab.fairness.counts import (
    bootstrap_weights,
    by_outcome,
    count_groups,
    group_rates,
    score_edges,
)

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


# --------------------------------------------------------------------------- bootstrap


def _ratio_intervals(ratio: np.ndarray, reps: np.ndarray, alpha: float
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Interval of every ratio (columns of ``(replicates, columns)``): ``ratio *
    exp(+/- z * sd(log replicates))``, a ratio's sampling error being close to normal on
    the log scale; the percentile interval where a ratio or a replicate is 0 or
    infinite (no log); NaN as :func:`_intervals` where too few replicates are finite."""
    lo, hi = _intervals(reps, alpha)
    positive = np.isfinite(reps) & (reps > 0)
    logs = np.all(np.isnan(reps) | positive, axis=0) & np.isfinite(ratio) & (ratio > 0)
    if logs.any():
        sd = np.nanstd(np.log(reps[:, logs]), axis=0, ddof=1)  # NaN (undefined) left out
        z = float(norm.ppf(1 - alpha / 2))
        spread = np.exp(z * sd)
        ok = np.isfinite(lo[logs])  # the same "enough replicates" rule
        lo[logs] = np.where(ok, ratio[logs] / spread, np.nan)
        hi[logs] = np.where(ok, ratio[logs] * spread, np.nan)
    return lo, hi


def _intervals(reps: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of every column of ``(replicates, columns)``; NaN where fewer
    than max(10, half the replicates) are finite (the metric is mostly undefined)."""
    ranked = np.sort(np.where(np.isfinite(reps), reps, np.nan), axis=0)  # NaN sorts last
    m = np.isfinite(reps).sum(axis=0)
    bounds = []
    for q in (alpha / 2, 1 - alpha / 2):  # numpy's default ("linear") quantile, per column
        at = q * np.maximum(m - 1, 0)
        i = np.floor(at).astype(np.int64)
        below = np.take_along_axis(ranked, i[None], axis=0)[0]
        above = np.take_along_axis(ranked, np.minimum(i + 1, np.maximum(m - 1, 0))[None],
                                   axis=0)[0]
        bounds.append(below + (above - below) * (at - i))
    enough = m >= max(10, reps.shape[0] // 2)
    return np.where(enough, bounds[0], np.nan), np.where(enough, bounds[1], np.nan)


# --------------------------------------------------------------------------- the table


def group_metrics(y_observed: Any, y_true: Any | None, p_default: Any, points: Any,
                  approved: Any, frame: pd.DataFrame, fairness_cfg: Any, seed: int = 0,
                  confidence: float = 0.95, age_column: str | None = "age", *,
                  groups: list[tuple[str, pd.Series]] | None = None,
                  weights: np.ndarray | None = None) -> pd.DataFrame:
    """The long table of group metrics (see the module docstring for definitions).

    One row per (outcome, attribute, group, metric) with columns: outcome (observed |
    true), attribute (e.g. age_band, sex, "age_band x sex"), group, metric, value,
    ci_low, ci_high (bootstrap percentile, ``fairness_cfg.bootstrap`` replicates; NaN when
    0), n, n_positive, n_negative (defaulters / non-defaulters of that outcome),
    reference_group, difference (value - reference's), ratio (value / reference's),
    ratio_ci_low, ratio_ci_high (bootstrap, normal on the log scale), suppressed,
    suppressed_reason.
    The reference is ``fairness_cfg.reference_groups[attribute]`` (keys may name the
    attribute as in the table or the raw attribute, e.g. ``age``) or else the largest
    unsuppressed group. ``age_column`` is the population's age attribute (banded).

    ``groups`` (from :func:`attribute_groups`) and ``weights`` (from
    :func:`~scorelab.fairness.counts.bootstrap_weights` of ``frame.citizen_id``) may be
    given to share them between models; they are computed when not.
    """
    p = np.asarray(p_default, dtype=float)
    outcomes = [("observed", np.asarray(y_observed, dtype=np.int64))]
    if y_true is not None:
        outcomes.append(("true", np.asarray(y_true, dtype=np.int64)))
    n_boot = int(fairness_cfg.bootstrap)
    alpha = 1.0 - confidence
    if groups is None:
        groups = attribute_groups(frame, fairness_cfg, age_column)
    if weights is None:
        ids = frame["citizen_id"].to_numpy() if "citizen_id" in frame else np.arange(p.size)
        weights = bootstrap_weights(ids, n_boot, seed)
    names, codes, offset = [], [], 0
    for _, labels in groups:
        names.append([str(c) for c in labels.cat.categories])
        c = labels.cat.codes.to_numpy().astype(np.int64)
        codes.append(np.where(c >= 0, c + offset, -1))
        offset += len(names[-1])
    counts = count_groups(np.column_stack(codes) if codes else np.empty((p.size, 0), int),
                          offset, [y for _, y in outcomes], np.asarray(approved, dtype=bool),
                          p, points, weights, score_edges(p))
    per_outcome = []
    for j, (outcome, _) in enumerate(outcomes):
        pos, neg = (x.sum(axis=-1) for x in by_outcome(counts.cells[0], j, counts.n_outcomes))
        per_outcome.append((outcome, group_rates(counts, j), pos, neg))
    tables, start = [], 0
    for (attribute, _), labels in zip(groups, names, strict=True):
        cols = np.arange(start, start + len(labels))
        start += len(labels)
        tables += [_attribute_table(outcome, attribute, labels, cols, rates, pos[cols],
                                    neg[cols], n_boot, alpha, fairness_cfg, age_column)
                   for outcome, rates, pos, neg in per_outcome]
    if not tables:
        return pd.DataFrame(columns=_COLUMNS)
    return pd.concat(tables, ignore_index=True)[_COLUMNS]


def _attribute_table(outcome: str, attribute: str, labels: list[str], cols: np.ndarray,
                     rates: dict[str, np.ndarray], n_pos: np.ndarray, n_neg: np.ndarray,
                     n_boot: int, alpha: float, cfg: Any, age_column: str | None
                     ) -> pd.DataFrame:
    """The rows of one attribute against one outcome (metric-major within each group)."""
    n = (n_pos + n_neg).astype(int)
    present = n > 0
    labels = [g for g, keep in zip(labels, present, strict=True) if keep]
    cols, n, n_pos = cols[present], n[present], n_pos[present].astype(int)
    G, M = len(labels), len(METRICS)
    small = n < cfg.min_group_size
    reason = np.full((G, M), "", dtype=object)
    for k, metric in enumerate(METRICS):
        reason[(n_pos == 0) & (metric in _NEEDS_POS), k] = "no defaulters in the group"
        reason[(n_pos == n) & (metric in _NEEDS_NEG), k] = "no non-defaulters in the group"
    reason[small, :] = np.array([f"group smaller than min_group_size ({v} < "
                                 f"{cfg.min_group_size})" for v in n[small]], dtype=object
                                )[:, None] if small.any() else ""
    suppressed = reason != ""
    value = np.column_stack([rates[m][0, cols] for m in METRICS])
    value[suppressed] = np.nan
    lo = np.full((G, M), np.nan)
    hi = lo.copy()
    if n_boot > 0 and G:
        for k, m in enumerate(METRICS):
            lo[:, k], hi[:, k] = _intervals(rates[m][1:, cols], alpha)
        lo[suppressed] = hi[suppressed] = np.nan
    size = dict(zip(labels, n.tolist(), strict=True))
    unsuppressed = [g for g, s in zip(labels, suppressed[:, 0], strict=True) if not s]
    ref = _reference(attribute, labels, size, unsuppressed, cfg, age_column)
    diff = np.full((G, M), np.nan)
    ratio = diff.copy()
    r_lo, r_hi = diff.copy(), diff.copy()
    if ref is not None:
        r = labels.index(ref)
        base = value[r]
        with np.errstate(invalid="ignore", divide="ignore"):
            diff = value - base
            ratio = np.where(base != 0, value / base, np.nan)
        if n_boot > 0:
            for k, m in enumerate(METRICS):
                reps = rates[m][1:, cols]
                with np.errstate(invalid="ignore", divide="ignore"):
                    rr = np.where(reps[:, [r]] != 0, reps / reps[:, [r]], np.nan)
                r_lo[:, k], r_hi[:, k] = _ratio_intervals(ratio[:, k], rr, alpha)
        r_lo[r], r_hi[r] = 1.0, 1.0
        r_lo[~np.isfinite(ratio)] = r_hi[~np.isfinite(ratio)] = np.nan
    table = pd.DataFrame({
        "outcome": outcome, "attribute": attribute, "group": np.repeat(labels, M),
        "metric": np.tile(METRICS, G), "value": value.ravel(), "ci_low": lo.ravel(),
        "ci_high": hi.ravel(), "n": np.repeat(n, M), "n_positive": np.repeat(n_pos, M),
        "n_negative": np.repeat(n - n_pos, M), "reference_group": ref,
        "difference": diff.ravel(), "ratio": ratio.ravel(), "ratio_ci_low": r_lo.ravel(),
        "ratio_ci_high": r_hi.ravel(), "suppressed": suppressed.ravel(),
        "suppressed_reason": reason.ravel().astype(str)})
    return table


def _reference(attribute: str, present: list[str], size: dict[str, int],
               unsuppressed: list[str], cfg: Any, age_column: str | None) -> str | None:
    refs = dict(cfg.reference_groups)
    raw = attribute.replace(band_name(age_column), age_column) if age_column else attribute
    for key in (attribute, raw):
        if key in refs and str(refs[key]) in present:
            return str(refs[key])
    if not unsuppressed:
        return None
    return max(unsuppressed, key=lambda g: size[g])


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
        metric = live["metric"].to_numpy()
        wide = {m: pd.Series(live["value"].to_numpy()[metric == m],
                             index=live["group"].to_numpy()[metric == m])
                for m in ("approval_rate", "tpr", "fpr")}  # group -> value (a cheap pivot)
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
