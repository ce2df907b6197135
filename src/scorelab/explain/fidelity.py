"""Reason fidelity and agreement: are the reasons the true ones, and are they stable?

On the synthetic population the true risk is known term by term (data/synthetic.py)::

    log-odds(true_pd) = intercept - risk_signal * latent_reliability
                        + log(debt_to_income / 0.3) + strength * youth(age)

Latent reliability is never observed, but most inputs are its indicators (late
payments, arrears, bill regularity, credit history, ...). So the truth is split into
the part the inputs can name and the part they cannot: the latent term is projected
(least squares over the population) on the numeric inputs and their missing flags, each
input's share of the projection becomes its own true term (debt-to-income adds its
exact term, age the legitimate effect), and what the inputs cannot tell of reliability
stays in the ``latent_reliability`` column (:func:`true_terms`). The terms still add up
to the true log-odds. A declined citizen's truly largest adverse nameable term is ranked
like a SHAP reason (each term relative to the approved applicants' average) and compared
with the model's first reason; the latent remainder is left out of the ranking (and its
size reported), so every declined citizen is counted unless the largest term is an input
the model may not name (age, or an input it does not use).

Agreement of two reason lists is their Jaccard index (|A & B| / |A | B|) of top-k codes,
averaged over the citizens both declined with at least one reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from scorelab.config import SyntheticPopulation
from scorelab.core.numeric import logit
from scorelab.data.synthetic import AGE_MIN, LEGIT_AGE_FADE, SCHEMA

__all__ = ["LATENT", "jaccard", "reason_fidelity", "terms_reproduce_truth", "true_terms",
           "wilson_interval"]

LATENT = "latent_reliability"


def true_terms(frame: pd.DataFrame, cfg: SyntheticPopulation) -> pd.DataFrame:
    """The true log-odds terms of each citizen (without the intercept): one column per
    numeric input (its share of the latent term's projection on the inputs; see the
    module docstring), debt_to_income with its exact term added, age when the
    legitimate effect is planted, and latent_reliability, what the inputs cannot tell
    of the latent term. The columns add up to the true log-odds less the intercept."""
    latent = -cfg.risk_signal * frame[LATENT].to_numpy(dtype=float)
    inputs = [c for c in SCHEMA.with_role("feature") if c in frame
              and pd.api.types.is_numeric_dtype(frame[c])]
    values = frame[inputs].to_numpy(dtype=float)
    missing = np.isnan(values)
    has_missing = missing.any(axis=0)
    design = np.column_stack([np.nan_to_num(values), missing[:, has_missing],
                              np.ones(len(frame))])
    coef = np.linalg.lstsq(design, latent, rcond=None)[0]
    per_input = np.nan_to_num(values) * coef[:len(inputs)]
    per_input[:, has_missing] += missing[:, has_missing] * \
        coef[len(inputs):len(inputs) + int(has_missing.sum())]
    terms = {LATENT: latent - per_input.sum(axis=1)}
    terms.update({c: per_input[:, j] for j, c in enumerate(inputs)})
    terms["debt_to_income"] = terms.get("debt_to_income", 0.0) + np.log(
        frame["debt_to_income"].to_numpy(dtype=float) / 0.3)
    legit = cfg.causes.legitimate_age_effect
    if legit.enabled:
        age = frame["age"].to_numpy(dtype=float)
        young = np.clip((LEGIT_AGE_FADE - age) / (LEGIT_AGE_FADE - AGE_MIN), 0.0, 1.0)
        terms["age"] = legit.strength * young
    return pd.DataFrame(terms, index=frame.index)


def terms_reproduce_truth(frame: pd.DataFrame, terms: pd.DataFrame, tol: float = 1e-6
                          ) -> bool:
    """The terms add up to the population's true log-odds, up to one intercept (a
    population whose truth was made otherwise, or a changed generator, fails)."""
    rest = logit(frame["true_pd"].to_numpy(dtype=float)) - terms.to_numpy(dtype=float).sum(axis=1)
    return bool(rest.size and np.ptp(rest) <= tol * max(1.0, float(np.abs(rest).max())))


def reason_fidelity(first_reason: np.ndarray, terms: pd.DataFrame, declined: np.ndarray,
                    approved: np.ndarray, nameable: Sequence[str]) -> dict[str, Any]:
    """Share of declined citizens whose first reason is their truly largest adverse term.

    ``first_reason`` holds each citizen's first reason (input name, "" for none);
    ``terms`` their true terms (:func:`true_terms`), ``declined``/``approved`` the
    model's decisions, ``nameable`` the inputs a reason may name for this model. The
    latent remainder is not ranked (no reason can name it); ``share_latent_largest``
    says for how many of the declined it would have been the largest term.
    ``interval`` is the fidelity's 95% Wilson interval.
    """
    named = [c for c in terms.columns if c != LATENT]  # the latent remainder: no input
    values = terms[named].to_numpy(dtype=float)
    reference = values[approved].mean(axis=0) if approved.any() else values.mean(axis=0)
    relative = values[declined] - reference
    top = np.asarray(named, dtype=object)[np.argmax(relative, axis=1)]
    counted = np.isin(top, list(nameable))
    hits = counted & (np.asarray(first_reason, dtype=object)[declined] == top)
    n, k = int(declined.sum()), int(counted.sum())
    kinds, counts = np.unique(top, return_counts=True)
    out = {"fidelity": float(hits.sum() / k) if k else None,
           "interval": list(wilson_interval(int(hits.sum()), k)) if k else None,
           "n_declined": n, "n_counted": k,
           "share_not_nameable": float(1 - counted.mean()) if n else None,
           "true_top_term": {str(t): int(c) for t, c in zip(kinds, counts, strict=True)}}
    if LATENT in terms:  # how much of the declined's truth no input names
        latent = terms[LATENT].to_numpy(dtype=float)
        lat = latent[declined] - (latent[approved].mean() if approved.any() else
                                  latent.mean())
        out["share_latent_largest"] = float((lat > relative.max(axis=1)).mean()) if n \
            else None
    return out


def wilson_interval(hits: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a share (sound near 0 and 1, unlike the normal one)."""
    z = float(norm.ppf(0.5 + level / 2))
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def jaccard(a: pd.DataFrame, b: pd.DataFrame) -> dict[str, Any]:
    """Mean Jaccard index of two reason lists over the citizens both have, where at
    least one list is not empty. ``a`` and ``b`` are membership tables (citizen id x
    input, True = a reason), vectorised."""
    common = a.index.intersection(b.index)
    columns = a.columns.union(b.columns)
    x = a.reindex(index=common, columns=columns, fill_value=False).to_numpy(dtype=bool)
    y = b.reindex(index=common, columns=columns, fill_value=False).to_numpy(dtype=bool)
    union = (x | y).sum(axis=1)
    keep = union > 0
    if not keep.any():
        return {"jaccard": None, "n": 0}
    scores = (x & y).sum(axis=1)[keep] / union[keep]
    return {"jaccard": float(scores.mean()), "n": int(keep.sum())}
