"""Is one model really better than another? Significance tests for model comparisons.

* :func:`delong_test`: paired DeLong test of two AUCs on the same citizens, in the
  fast O(n log n) form of Sun & Xu (2014) with midranks (ties count one half).
* :func:`compare_to_best`: every model against the one with the highest AUC, with
  Holm's correction across the comparisons and a plain-language verdict.
* :func:`friedman_holm`: models scored on several folds (Demsar 2006): mean ranks,
  Friedman's test, and all pairwise rank comparisons with Holm's correction.
* :func:`holm` (from ``core.numeric``): Holm's step-down adjusted p-values.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from scorelab.core.numeric import holm
from scorelab.evaluate.metrics import _as_probabilities, _check
from scorelab.exceptions import DataError

__all__ = ["compare_to_best", "delong_test", "friedman_holm", "holm"]

ALPHA = 0.05  # significance level of the verdicts


def _fmt_p(p: float) -> str:
    return "<0.001" if p < 0.001 else f"{p:.3f}" if p < 0.01 else f"{p:.2f}"


# --------------------------------------------------------------------------- DeLong


def _delong_components(y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                                      np.ndarray]:
    """AUCs and structural components of ``k`` score rows (Sun & Xu 2014).

    ``scores`` is ``(k, n)``; positives are the defaulters (y == 1). Returns the
    AUCs ``(k,)`` and the placement values ``V10 (k, m)`` of the defaulters and
    ``V01 (k, n0)`` of the non-defaulters.
    """
    pos, neg = scores[:, y == 1], scores[:, y == 0]
    m, n0 = pos.shape[1], neg.shape[1]
    tx = stats.rankdata(pos, axis=1)  # midranks among defaulters
    ty = stats.rankdata(neg, axis=1)  # midranks among non-defaulters
    tz = stats.rankdata(np.hstack([pos, neg]), axis=1)  # midranks among everyone
    v10 = (tz[:, :m] - tx) / n0  # share of non-defaulters below each defaulter
    v01 = 1.0 - (tz[:, m:] - ty) / m  # share of defaulters above each non-defaulter
    aucs = v10.mean(axis=1)
    return aucs, v10, v01


def delong_test(y: Any, p_a: Any, p_b: Any) -> dict[str, float]:
    """Paired DeLong test of H0: AUC(p_a) == AUC(p_b) on the same citizens.

    Returns auc_a, auc_b, diff (a - b), se (of diff), z and the two-sided p_value.
    Identical (or identically ranking) predictions give diff 0, z 0 and p_value 1.
    """
    yy, pa = _check(y, p_a, both_classes=True)
    pb = _as_probabilities(p_b, "p_b")
    if pb.shape != pa.shape:
        raise DataError(f"Length mismatch: p_a has {pa.size} citizens, p_b has {pb.size}.")
    return _delong_pair(*_delong_components(yy, np.vstack([pa, pb])))


def _delong_pair(aucs: np.ndarray, v10: np.ndarray, v01: np.ndarray) -> dict[str, float]:
    """The DeLong test of rows 0 and 1 of the components (see :func:`delong_test`)."""
    m, n0 = v10.shape[1], v01.shape[1]
    s10 = np.cov(v10) if m > 1 else np.zeros((2, 2))
    s01 = np.cov(v01) if n0 > 1 else np.zeros((2, 2))
    cov = s10 / m + s01 / n0
    var = max(float(cov[0, 0] + cov[1, 1] - 2.0 * cov[0, 1]), 0.0)
    diff = float(aucs[0] - aucs[1])
    se = float(np.sqrt(var))
    if se > 1e-12 * max(1.0, abs(diff)):
        z = diff / se
        p_value = float(2.0 * stats.norm.sf(abs(z)))
    elif abs(diff) < 1e-12:
        z, p_value = 0.0, 1.0
    else:  # a difference with no sampling variability at all
        z, p_value = float(np.copysign(np.inf, diff)), 0.0
    return {"auc_a": float(aucs[0]), "auc_b": float(aucs[1]), "diff": diff, "se": se,
            "z": float(z), "p_value": p_value}


def compare_to_best(y: Any, predictions: Mapping[str, Any]) -> pd.DataFrame:
    """Compare every model with the one of highest AUC (paired DeLong, Holm-corrected).

    One row per model, best first: model, auc, diff_to_best (<= 0), p_value (raw
    DeLong), p_holm (Holm-adjusted over the comparisons with the best), significant
    (p_holm < 0.05) and a plain-language verdict. The best model's row has NaN
    p-values and ``significant`` False.
    """
    if len(predictions) < 1:
        raise DataError("predictions is empty: give at least one model.")
    names = list(predictions)
    yy = _check(y, predictions[names[0]], both_classes=True)[0]
    checked = []
    for k in names:
        try:
            checked.append(_check(yy, predictions[k], both_classes=True)[1])
        except DataError as exc:
            raise DataError(f"Model {k!r}: {exc}") from exc
    # every model ranked once: each pair's test reads its two rows of the components
    auc_values, v10, v01 = _delong_components(yy, np.vstack(checked))
    aucs = dict(zip(names, auc_values.tolist(), strict=True))
    best = max(names, key=lambda k: aucs[k])  # first of the tied best, in input order
    others = [k for k in names if k != best]
    b = names.index(best)
    tests = {k: _delong_pair(auc_values[[i, b]], v10[[i, b]], v01[[i, b]])
             for i, k in enumerate(names) if k != best}
    adjusted = dict(zip(others, holm([tests[k]["p_value"] for k in others]), strict=True))
    rows = []
    for k in names:
        if k == best:
            rows.append({"model": k, "auc": aucs[k], "diff_to_best": 0.0,
                         "p_value": np.nan, "p_holm": np.nan, "significant": False,
                         "verdict": f"best model (AUC={aucs[k]:.3f})"})
            continue
        p_adj = float(adjusted[k])
        significant = bool(p_adj < ALPHA)
        verdict = (f"significantly worse than the best (Holm-adjusted p={_fmt_p(p_adj)})"
                   if significant else
                   f"not significantly different from the best "
                   f"(Holm-adjusted p={_fmt_p(p_adj)})")
        rows.append({"model": k, "auc": aucs[k], "diff_to_best": aucs[k] - aucs[best],
                     "p_value": tests[k]["p_value"], "p_holm": p_adj,
                     "significant": significant, "verdict": verdict})
    frame = pd.DataFrame(rows)
    frame["_best"] = frame["model"] == best
    frame = frame.sort_values(["_best", "auc"], ascending=[False, False], kind="stable")
    return frame.drop(columns="_best").reset_index(drop=True)


# --------------------------------------------------------------------------- Friedman


def friedman_holm(fold_scores: pd.DataFrame) -> dict[str, Any]:
    """Compare models over folds by ranks (Demsar 2006); higher scores are better.

    ``fold_scores`` has one row per fold and one column per model. In every fold the
    best model gets rank 1 (ties share the mean rank). Returns a dict with
    ``mean_ranks`` (pandas Series, best first), ``n_folds``, ``n_models``, the omnibus
    ``test`` name with its ``statistic`` and ``p_value`` (Friedman's chi-square for 3
    or more models; for 2 models Friedman's test does not apply and an exact two-sided
    sign test on the per-fold wins is used instead, ties dropped), ``critical_z``
    and ``pairwise``: a DataFrame of every pair with mean ranks, the z-statistic
    ``(R_a - R_b) / sqrt(k (k + 1) / (6 N))``, raw and Holm-adjusted p-values,
    ``significant`` (p_holm < 0.05) and a verdict string.
    """
    if not isinstance(fold_scores, pd.DataFrame):
        raise DataError("fold_scores must be a pandas DataFrame (rows folds, columns models).")
    n, k = fold_scores.shape
    if k < 2:
        raise DataError(f"Need at least 2 models (columns) to compare, got {k}.")
    if n < 2:
        raise DataError(f"Need at least 2 folds (rows) to compare, got {n}.")
    try:
        values = fold_scores.to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError("fold_scores must hold numbers only.") from exc
    if not np.isfinite(values).all():
        raise DataError("fold_scores contains NaN or infinite values.")
    models = [str(c) for c in fold_scores.columns]
    if len(set(models)) != k:
        raise DataError("fold_scores has duplicate model (column) names.")
    ranks = stats.rankdata(-values, axis=1)  # rank 1 = best in the fold
    mean_ranks = pd.Series(ranks.mean(axis=0), index=models, name="mean_rank")
    if k >= 3:
        test = "friedman"
        res = stats.friedmanchisquare(*values.T)
        statistic, p_value = float(res.statistic), float(res.pvalue)
        if not np.isfinite(p_value):  # every fold ranks all models equal
            statistic, p_value = 0.0, 1.0
    else:
        test = "sign test"
        wins = int((values[:, 0] > values[:, 1]).sum())
        losses = int((values[:, 0] < values[:, 1]).sum())
        statistic = float(wins)
        p_value = (float(stats.binomtest(wins, wins + losses, 0.5).pvalue)
                   if wins + losses else 1.0)
    se = np.sqrt(k * (k + 1) / (6.0 * n))
    pairs = list(combinations(range(k), 2))
    z = np.array([(mean_ranks.iloc[i] - mean_ranks.iloc[j]) / se for i, j in pairs])
    p_raw = 2.0 * stats.norm.sf(np.abs(z))
    p_adj = holm(p_raw)
    rows = []
    for (i, j), zz, pr, pa in zip(pairs, z, p_raw, p_adj, strict=True):
        a, b = models[i], models[j]
        ra, rb = float(mean_ranks.iloc[i]), float(mean_ranks.iloc[j])
        significant = bool(pa < ALPHA)
        if significant:
            better, worse = (a, b) if ra < rb else (b, a)
            verdict = (f"{better} ranks significantly better than {worse} "
                       f"(mean rank {min(ra, rb):.2f} vs {max(ra, rb):.2f}, "
                       f"Holm-adjusted p={_fmt_p(pa)})")
        else:
            verdict = (f"no significant difference between {a} and {b} "
                       f"(mean rank {ra:.2f} vs {rb:.2f}, Holm-adjusted p={_fmt_p(pa)})")
        rows.append({"model_a": a, "model_b": b, "mean_rank_a": ra, "mean_rank_b": rb,
                     "z": float(zz), "p_value": float(pr), "p_holm": float(pa),
                     "significant": significant, "verdict": verdict})
    pairwise = pd.DataFrame(rows, columns=["model_a", "model_b", "mean_rank_a", "mean_rank_b",
                                           "z", "p_value", "p_holm", "significant",
                                           "verdict"])
    return {
        "mean_ranks": mean_ranks.sort_values(kind="stable"),
        "n_folds": n,
        "n_models": k,
        "test": test,
        "statistic": statistic,
        "p_value": p_value,
        "critical_z": float(stats.norm.isf(ALPHA / 2)),
        "pairwise": pairwise,
    }
