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
to the true log-odds. The latent remainder is never ranked: no input names it.

Fidelity (:func:`reason_fidelity`) is counted for every declined citizen. Their true
nameable terms are ranked by the same method as the model's reasons (relative to the
approved applicants' average for SHAP-ranked models, below the best term any citizen of
the population attains for points-ranked ones), over the inputs the model may name, so
that the truth explained the model's way gives the truth's own reasons (an oracle scores
100%). The projection is an estimate: its bootstrap (over citizens) gives every
difference between the largest true term and another its standard error, and the
applicant's *principal true reasons* are the adverse terms within ``z`` standard errors
of the largest. Two shares, each with a Wilson interval and its chance level (the same
share with the reasons shuffled across the declined):

* ``fidelity``: the model's first reason is a principal true reason;
* ``top_in_reasons``: a principal true reason is among the model's reasons (up to four).

Agreement of two reason lists is their Jaccard index (|A & B| / |A | B|) of top-k codes,
averaged over the citizens both declined with at least one reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from scorelab.config import SyntheticPopulation
from scorelab.core.numeric import logit
from scorelab.data.synthetic import AGE_MIN, LEGIT_AGE_FADE, SCHEMA

__all__ = ["LATENT", "REFERENCE_APPROVED", "REFERENCE_BEST", "Truth", "jaccard",
           "nameable_truth", "reason_fidelity", "terms_reproduce_truth", "true_terms",
           "wilson_interval"]

LATENT = "latent_reliability"
REFERENCE_APPROVED = "the approved applicants' average"
REFERENCE_BEST = "the best term any citizen attains"
DRAWS = 50  # bootstrap draws of the projection (its sampling tolerance)


@dataclass(frozen=True)
class Truth:
    """The true terms of every citizen (:func:`true_terms`) and, when known, how the
    projection was made: ``design`` (citizens x projection columns: input values and
    missing flags), ``owner`` (the column of ``terms`` each projection column feeds),
    ``coef`` the projection and ``draws`` its bootstrap replicates (draws x columns).
    Without them the terms are taken as exact (no sampling tolerance)."""

    terms: pd.DataFrame
    design: np.ndarray | None = None
    owner: np.ndarray | None = None
    coef: np.ndarray | None = None
    draws: np.ndarray | None = None

    @property
    def named(self) -> list[str]:
        """The terms an input names (every column but the latent remainder)."""
        return [str(c) for c in self.terms.columns if c != LATENT]

    def values(self, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
        """The named terms of ``rows`` (positions), citizens x named terms."""
        return self.terms[self.named].to_numpy(dtype=float)[rows]

    def _shift(self, rows: np.ndarray | slice) -> np.ndarray | None:
        """Per draw, how the named terms of ``rows`` move when the projection is
        re-estimated: draws x citizens x named terms (None: exact terms)."""
        if self.draws is None or self.design is None or self.owner is None \
                or self.coef is None:
            return None
        to_term = np.zeros((self.owner.size, len(self.named)))
        to_term[np.arange(self.owner.size), self.owner] = 1.0
        x = self.design[rows]
        return np.stack([(x * (c - self.coef)) @ to_term for c in self.draws])

    def replicates(self, rows: np.ndarray) -> np.ndarray | None:
        """The named terms of ``rows`` under each bootstrap draw of the projection."""
        shift = self._shift(rows)
        return None if shift is None else self.values(rows)[None] + shift

    @cached_property
    def best(self) -> np.ndarray:
        """Each named term's best (lowest) value over the population."""
        return self.values().min(axis=0)

    @cached_property
    def best_replicates(self) -> np.ndarray | None:
        """:attr:`best` under each bootstrap draw (draws x named terms)."""
        if self.draws is None:
            return None
        values, out = self.values(), []
        for b in range(len(self.draws)):  # one draw at a time: all at once is draws x n x k
            one = Truth(self.terms, self.design, self.owner, self.coef, self.draws[b:b + 1])
            out.append((values + one._shift(slice(None))[0]).min(axis=0))
        return np.array(out)


def nameable_truth(frame: pd.DataFrame, cfg: SyntheticPopulation, draws: int = DRAWS,
                   seed: int = 0) -> Truth:
    """The true terms (:func:`true_terms`) with the projection's ``draws`` bootstrap
    replicates (citizens resampled, seeded by ``seed``)."""
    latent = -cfg.risk_signal * frame[LATENT].to_numpy(dtype=float)
    inputs, design = _design(frame)
    coef = _project(design, latent)
    terms = _terms(frame, cfg, latent, inputs, design, coef)
    named = [c for c in terms.columns if c != LATENT]
    has_missing = np.isnan(frame[inputs].to_numpy(dtype=float)).any(axis=0)
    owner = np.array([named.index(c) for c in inputs] +
                     [named.index(c) for c, m in zip(inputs, has_missing, strict=True) if m])
    rng = np.random.default_rng([seed, 30])
    n = len(frame)
    boot = np.array([_project(design[idx], latent[idx])
                     for idx in (rng.integers(0, n, n) for _ in range(draws))]) \
        if draws else None
    return Truth(terms, design, owner, coef, boot)


def _design(frame: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    """The projection's inputs and columns: every numeric input (missing as 0) and the
    missing flag of each input that has missing values."""
    inputs = [c for c in SCHEMA.with_role("feature") if c in frame
              and pd.api.types.is_numeric_dtype(frame[c])]
    values = frame[inputs].to_numpy(dtype=float)
    missing = np.isnan(values)
    return inputs, np.column_stack([np.nan_to_num(values),
                                    missing[:, missing.any(axis=0)]]).astype(float)


def _project(design: np.ndarray, latent: np.ndarray) -> np.ndarray:
    """Least-squares coefficients of the latent term on ``design`` (with an intercept,
    which is dropped)."""
    full = np.column_stack([design, np.ones(len(design))])
    return np.linalg.lstsq(full, latent, rcond=None)[0][:-1]


def _terms(frame: pd.DataFrame, cfg: SyntheticPopulation, latent: np.ndarray,
           inputs: list[str], design: np.ndarray, coef: np.ndarray) -> pd.DataFrame:
    per_input = design[:, :len(inputs)] * coef[:len(inputs)]
    has_missing = np.isnan(frame[inputs].to_numpy(dtype=float)).any(axis=0)
    per_input[:, has_missing] += design[:, len(inputs):] * coef[len(inputs):]
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


def true_terms(frame: pd.DataFrame, cfg: SyntheticPopulation) -> pd.DataFrame:
    """The true log-odds terms of each citizen (without the intercept): one column per
    numeric input (its share of the latent term's projection on the inputs; see the
    module docstring), debt_to_income with its exact term added, age when the
    legitimate effect is planted, and latent_reliability, what the inputs cannot tell
    of the latent term. The columns add up to the true log-odds less the intercept."""
    return nameable_truth(frame, cfg, draws=0).terms


def terms_reproduce_truth(frame: pd.DataFrame, terms: pd.DataFrame, tol: float = 1e-6
                          ) -> bool:
    """The terms add up to the population's true log-odds, up to one intercept (a
    population whose truth was made otherwise, or a changed generator, fails)."""
    rest = logit(frame["true_pd"].to_numpy(dtype=float)) - terms.to_numpy(dtype=float).sum(axis=1)
    return bool(rest.size and np.ptp(rest) <= tol * max(1.0, float(np.abs(rest).max())))


def _share(hits: np.ndarray, level: float) -> dict[str, Any]:
    n = int(hits.size)
    return {"share": float(hits.mean()) if n else None,
            "interval": list(wilson_interval(int(hits.sum()), n, level)) if n else None}


def reason_fidelity(reasons: np.ndarray, truth: Truth | pd.DataFrame, rows: np.ndarray,
                    declined: np.ndarray, approved: np.ndarray, nameable: Sequence[str],
                    *, reference: str = REFERENCE_APPROVED, level: float = 0.95
                    ) -> dict[str, Any]:
    """How often the model's reasons are the applicant's principal true reasons.

    ``reasons`` holds each citizen's reasons in order (citizens x up to k input names,
    "" for none; a 1-D array is the first reason only); ``rows`` their positions in
    ``truth`` (:func:`nameable_truth`; a frame of terms is taken as exact);
    ``declined``/``approved`` the model's decisions; ``nameable`` the inputs a reason
    may name for this model; ``reference`` the model's reason method
    (:data:`REFERENCE_APPROVED` or :data:`REFERENCE_BEST`), by which the true terms are
    ranked too. Every declined citizen is counted (see the module docstring); the
    latent remainder is not ranked, and ``share_latent_largest`` says for how many of
    the declined it would have been larger than every named term.
    """
    if isinstance(truth, pd.DataFrame):
        truth = Truth(truth)
    if reference not in (REFERENCE_APPROVED, REFERENCE_BEST):
        raise ValueError(f"unknown reference {reference!r}: expected "
                         f"{REFERENCE_APPROVED!r} or {REFERENCE_BEST!r}")
    reasons = np.asarray(reasons, dtype=object)
    reasons = reasons[:, None] if reasons.ndim == 1 else reasons
    declined, approved = np.asarray(declined, dtype=bool), np.asarray(approved, dtype=bool)
    rows = np.asarray(rows)
    named = truth.named
    allowed = np.isin(np.asarray(named, dtype=object), list(nameable))
    values = truth.values(rows)
    replicates = truth.replicates(rows)
    pool = approved if approved.any() else np.ones_like(approved)
    if reference == REFERENCE_BEST:
        ref = truth.best
        ref_b = truth.best_replicates
    else:
        ref = values[pool].mean(axis=0)
        ref_b = None if replicates is None else replicates[:, pool].mean(axis=1)
    relative = values[declined] - ref
    n = int(declined.sum())
    ranked = np.where(allowed, relative, -np.inf)
    top = np.argmax(ranked, axis=1) if n else np.zeros(0, dtype=int)
    rows_d = np.arange(n)
    shortfall = ranked[rows_d, top][:, None] - ranked
    z = float(norm.ppf(0.5 + level / 2))
    if replicates is not None and ref_b is not None:
        rel_b = replicates[:, declined] - ref_b[:, None, :]
        se = (rel_b[:, rows_d, top][:, :, None] - rel_b).std(axis=0)
    else:
        se = np.zeros_like(relative)
    principal = allowed & (relative > 0) & (shortfall <= z * se + 1e-12)
    given = reasons[declined]
    pos = pd.Index(named).get_indexer(given.ravel()).reshape(given.shape)  # -1: none
    member = np.zeros((n, len(named)), dtype=bool)
    for r in range(pos.shape[1]):
        ok = pos[:, r] >= 0
        member[rows_d[ok], pos[ok, r]] = True
    first = np.zeros((n, len(named)), dtype=bool)
    ok = pos[:, 0] >= 0 if pos.size else np.zeros(n, dtype=bool)
    first[rows_d[ok], pos[ok, 0]] = True
    none_given = ~member.any(axis=1)
    none_true = ~principal.any(axis=1)
    # nothing adverse to name and no reason given agrees with the truth
    hit_first = (first & principal).any(axis=1) | (none_true & none_given)
    hit_any = (member & principal).any(axis=1) | (none_true & none_given)
    # chance: citizen i judged by citizen j's reasons, over every pair
    p, both_none = principal.astype(float), np.outer(none_true, none_given)
    chance_first = float(((p @ first.T.astype(float) > 0) | both_none).mean()) if n else None
    chance_any = float(((p @ member.T.astype(float) > 0) | both_none).mean()) if n else None
    overall = np.argmax(relative, axis=1) if n else np.zeros(0, dtype=int)
    kinds, counts = np.unique(np.asarray(named, dtype=object)[top], return_counts=True)
    f, t = _share(hit_first, level), _share(hit_any, level)
    out: dict[str, Any] = {
        "fidelity": f["share"], "interval": f["interval"],
        "top_in_reasons": t["share"], "top_in_reasons_interval": t["interval"],
        "chance": {"fidelity": chance_first, "top_in_reasons": chance_any},
        "reference": reference, "n_declined": n, "n_counted": n,
        "tolerance": {"z": z, "draws": 0 if truth.draws is None else len(truth.draws),
                      "mean_principal": float(principal.sum(axis=1).mean()) if n else None},
        "share_not_nameable": float((~allowed[overall]).mean()) if n else None,
        "true_top_term": {str(k): int(c) for k, c in zip(kinds, counts, strict=True)}}
    if LATENT in truth.terms:  # how much of the declined's truth no input names
        latent = truth.terms[LATENT].to_numpy(dtype=float)[rows]
        lat = latent[declined] - latent[pool].mean()
        rel = values[declined] - values[pool].mean(axis=0)  # both against the approved
        out["share_latent_largest"] = float((lat > rel.max(axis=1)).mean()) if n else None
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
