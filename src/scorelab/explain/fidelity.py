"""Reason fidelity and agreement: are the reasons the true ones, and are they stable?

On the synthetic population the true risk is known term by term (data/synthetic.py)::

    log-odds(true_pd) = intercept - risk_signal * latent_reliability
                        + log(debt_to_income / 0.3) + strength * youth(age)

so a declined citizen's truly largest adverse term is known. It is ranked like a SHAP
reason (each term relative to the approved applicants' average) and compared with the
model's first reason. Only the terms of inputs can be named by a reason: a citizen whose
largest term is latent reliability (never observed; spread over many indicators) or an
input the rule bars (age) is not counted in the fidelity, and the share of such citizens
is reported beside it.

Agreement of two reason lists is their Jaccard index (|A & B| / |A | B|) of top-k codes,
averaged over the citizens both declined with at least one reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from scorelab.config import SyntheticPopulation
from scorelab.core.numeric import logit
from scorelab.data.synthetic import AGE_MIN, LEGIT_AGE_FADE

__all__ = ["LATENT", "jaccard", "reason_fidelity", "terms_reproduce_truth", "true_terms"]

LATENT = "latent_reliability"


def true_terms(frame: pd.DataFrame, cfg: SyntheticPopulation) -> pd.DataFrame:
    """The true log-odds terms of each citizen (without the intercept), one column per
    term: latent_reliability, debt_to_income and, when planted, age."""
    terms = {LATENT: -cfg.risk_signal * frame[LATENT].to_numpy(dtype=float),
             "debt_to_income": np.log(frame["debt_to_income"].to_numpy(dtype=float) / 0.3)}
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
    model's decisions, ``nameable`` the inputs a reason may name for this model.
    """
    values = terms.to_numpy(dtype=float)
    reference = values[approved].mean(axis=0) if approved.any() else values.mean(axis=0)
    relative = values[declined] - reference
    top = np.asarray(terms.columns, dtype=object)[np.argmax(relative, axis=1)]
    counted = np.isin(top, list(nameable))
    hits = counted & (np.asarray(first_reason, dtype=object)[declined] == top)
    n = int(declined.sum())
    kinds, counts = np.unique(top, return_counts=True)
    return {"fidelity": float(hits.sum() / counted.sum()) if counted.any() else None,
            "n_declined": n, "n_counted": int(counted.sum()),
            "share_not_nameable": float(1 - counted.mean()) if n else None,
            "true_top_term": {str(k): int(c) for k, c in zip(kinds, counts, strict=True)}}


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
