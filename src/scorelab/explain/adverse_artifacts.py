"""The adverse-action stage of a run: reasons, counterfactuals, fidelity and agreement.

Reads what the earlier stages made (the audit sample's explanations, each citizen's
out-of-fold decision and the fold models) and gives every declined citizen of the audit
sample up to four principal reasons (:mod:`scorelab.explain.adverse`) and the smallest
actionable change that would have turned the decline
(:mod:`scorelab.explain.counterfactual`), both from the fold model that held the citizen
out, so reasons, counterfactual and score always agree. On synthetic data it measures
the reasons' fidelity to the true risk and, for every pair of models, their agreement
(:mod:`scorelab.explain.fidelity`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from threadpoolctl import threadpool_limits

from scorelab.config import Explain, ReasonEntry, SyntheticPopulation
from scorelab.core.scale import ScoreScale
from scorelab.data.synthetic import Population
from scorelab.engine import Fold, FoldResults, PreparedModel
from scorelab.explain.adverse import (
    ADDITIVE_KINDS,
    RankedReasons,
    additive_terms,
    approved_reference,
    barred_flags,
    membership,
    rank_reasons,
    reason_method,
)
from scorelab.explain.artifacts import explain_fold_rows
from scorelab.explain.catalogue import Catalogue, catalogue_for, value_in_words
from scorelab.explain.counterfactual import (
    BEAM,
    FOUND,
    MAX_INPUTS,
    NONE,
    Counterfactuals,
    Grid,
    additive_score,
    counterfactuals,
    search_grid,
)
from scorelab.explain.explainers import explainer_kind, is_exact
from scorelab.explain.fidelity import (
    jaccard,
    nameable_truth,
    reason_fidelity,
    terms_reproduce_truth,
)

__all__ = ["ADVERSE_REASONS_COLUMNS", "RECOURSE_COLUMNS", "AdverseResult", "adverse_action",
           "reason_rows", "recourse_summary", "recourse_text"]

ADVERSE_REASONS_COLUMNS = ["citizen_id", "model", "rank", "code", "feature", "reason",
                           "value", "gap", "shap", "method"]
RECOURSE_COLUMNS = ["citizen_id", "model", "found", "status", "change", "cost", "new_score",
                    "best_score", "bound"]
NO_CHANGE = "no actionable change found"


@dataclass
class AdverseResult:
    """What the stage writes: the reasons and recourse tables and the summary."""

    reasons: pd.DataFrame
    recourse: pd.DataFrame
    summary: dict[str, Any]
    policy_flags: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Context:
    explain: Explain
    seed: int
    frame: pd.DataFrame
    position: pd.Index  # citizen id -> row of frame
    catalogue: Catalogue
    category: dict[str, str]  # barred column -> protected | prohibited
    grids: dict[str, Grid]
    scale: ScoreScale


def _words(entry: ReasonEntry, values: np.ndarray) -> np.ndarray:
    """Each value in words: numbers formatted by numpy in one pass, other values once
    per distinct value."""
    series = pd.Series(values, dtype=object)
    numbers = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
    if not entry.labels and np.isnan(numbers).sum() == series.isna().sum():
        shown = np.where(numbers == np.round(numbers),
                         np.char.mod("%d", np.nan_to_num(numbers).astype(np.int64)),
                         np.char.mod("%.2f", numbers))
        if entry.percent:
            shown = np.char.add(np.char.mod("%.0f", 100 * np.nan_to_num(numbers)), "%")
        text = np.char.strip(np.char.add(np.char.add(shown, " "), entry.unit))
        return np.where(np.isnan(numbers), entry.missing, text).astype(object)
    table = {v: value_in_words(entry, v) for v in pd.unique(series) if v == v}
    return series.map(table).fillna(entry.missing).to_numpy(dtype=object)


def reason_rows(ranked: RankedReasons, ids: np.ndarray, columns: list[str],
                raw: pd.DataFrame, catalogue: Catalogue, model: str, method: str
                ) -> pd.DataFrame:
    """The long reasons table of one model: one row per reason (``raw`` holds each
    citizen's input values, rows aligned with ``ids``)."""
    rows, ranks = np.nonzero(ranked.index >= 0)
    feature = np.asarray(columns, dtype=object)[ranked.index[rows, ranks]]
    code = np.empty(rows.size, dtype=object)
    text = np.empty(rows.size, dtype=object)
    words = np.empty(rows.size, dtype=object)
    for col in pd.unique(feature):
        sel = feature == col
        entry = catalogue[col]
        code[sel], text[sel] = entry.code, entry.text
        words[sel] = _words(entry, raw[col].to_numpy(dtype=object)[rows[sel]])
    return pd.DataFrame({"citizen_id": ids[rows], "model": model, "rank": ranks + 1,
                         "code": code, "feature": feature, "reason": text, "value": words,
                         "gap": ranked.gap[rows, ranks], "shap": ranked.shap[rows, ranks],
                         "method": method}, columns=ADVERSE_REASONS_COLUMNS)


def recourse_text(catalogue: Catalogue, raw: pd.DataFrame, cf: Counterfactuals,
                  cutoff: np.ndarray) -> np.ndarray:
    """Each applicant's recourse in words: the change found ("<input>: <from> -> <to>"
    per changed input), the proof that none exists (:data:`NO_CHANGE` and the bound), or
    how close the search came."""
    found, columns, values = cf.found, cf.columns, cf.values
    parts = np.full((len(found), columns.shape[1]), "", dtype=object)
    for t in range(columns.shape[1]):
        for col in pd.unique(columns[found, t]):
            if col is None:
                continue
            sel = found & (columns[:, t] == col)
            entry = catalogue[col]
            before = _words(entry, raw[col].to_numpy(dtype=object)[sel])
            after = _words(entry, values[sel, t])
            name = str(col).replace("_", " ")
            parts[sel, t] = name + ": " + before + " -> " + after
    joined = parts[:, 0]
    for t in range(1, parts.shape[1]):  # over the changed inputs, never the applicants
        both = (joined != "") & (parts[:, t] != "")
        joined = np.where(both, joined + "; " + parts[:, t], joined + parts[:, t])
    cut = np.char.mod("%.0f", np.asarray(cutoff, dtype=float))
    proof = np.char.add(np.char.add(np.char.add(
        f"{NO_CHANGE}: even with every actionable input at its best the score reaches at "
        "most ", np.char.mod("%.0f", np.nan_to_num(cf.bound))), " points, below the cut-off of "),
        cut)
    reached = np.where(np.isfinite(cf.best_score), cf.best_score, np.nan)
    open_ = np.char.add(np.char.add(np.char.add(
        f"no change of up to {MAX_INPUTS} actionable inputs found in the searched space "
        "(the best reaches ", np.char.mod("%.0f", np.nan_to_num(reached))),
        " points; cut-off "), cut)
    open_ = np.char.add(open_, "); more changes might still turn the decision")
    return np.where(found, joined, np.where(cf.status == NONE, proof, open_)).astype(object)


def recourse_summary(recourse: pd.DataFrame, actionable: list[str], kind: str
                     ) -> dict[str, Any]:
    """adverse_action.json's recourse entry of one model: who has recourse, who is
    proven to have none, who is undecided, and how the space was searched."""
    n = len(recourse)
    counts = recourse["status"].value_counts()
    found, none = int(counts.get(FOUND, 0)), int(counts.get(NONE, 0))
    undecided = n - found - none
    additive = kind in ADDITIVE_KINDS
    return {
        "searched": True, "actionable_inputs": actionable, "n_declined": n,
        "method": (f"exhaustive over up to {MAX_INPUTS} actionable inputs, with an upper "
                   "bound over every actionable input (additive model)" if additive else
                   f"beam search over up to {MAX_INPUTS} actionable inputs (beam {BEAM})"),
        "n_found": found, "n_proven_none": none, "n_undecided": undecided,
        "share_found": found / n if n else None,
        "share_proven_none": none / n if n else None,
        "share_undecided": undecided / n if n else None,
        "median_cost": (float(recourse.loc[recourse["found"], "cost"].median())
                        if recourse["found"].any() else None)}


def _explained(explanations: pd.DataFrame, name: str, inputs: list[str]
               ) -> tuple[np.ndarray, list[str], np.ndarray]:
    ex = explanations[explanations["model"].astype(str) == name]
    wide = ex.pivot(index="citizen_id", columns="feature", values="shap")
    wide.columns = [str(c) for c in wide.columns]
    columns = [c for c in inputs if c in wide.columns] + \
        [c for c in wide.columns if c not in inputs]
    return wide.index.to_numpy(), columns, wide[columns].to_numpy(dtype=float)


def _gaps(kind: str, fold_models: dict[int, Any], X_all: pd.DataFrame, pos: np.ndarray,
          fold: np.ndarray, shap: np.ndarray, approved: np.ndarray) -> np.ndarray:
    """The ranking value of every explained citizen (method: by explainer kind)."""
    gap = np.empty_like(shap)
    for f in np.unique(fold):
        sel = fold == f
        if kind in ADDITIVE_KINDS:
            terms = additive_terms(fold_models[int(f)], X_all)
            gap[sel] = terms[pos[sel]] - terms.min(axis=0)
        else:
            gap[sel] = shap[sel] - approved_reference(shap[sel], approved[sel])
    return gap


def _points_of(model: Any, scale: ScoreScale):  # type: ignore[no-untyped-def]
    return lambda X: scale.points(model.predict_proba(X)[:, 1])


def _one_model(ctx: _Context, m: PreparedModel, fits: FoldResults, explanations: pd.DataFrame,
               predictions: pd.DataFrame, cutoff: float
               ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any], list, RankedReasons,
                          np.ndarray, list[str], np.ndarray]:
    cfg = ctx.explain.reasons
    ids, columns, shap = _explained(explanations, m.name, m.columns)
    pred = predictions[(predictions["model"] == m.name)
                       & (predictions["repeat"] == 0)].set_index("citizen_id").loc[ids]
    approved = pred["approved"].to_numpy(dtype=bool)
    fold = pred["fold"].to_numpy()
    # a policy may set each fold's own cut-off (predictions' cutoff column)
    cut = (pred["cutoff"].to_numpy(dtype=float) if "cutoff" in pred
           else np.full(len(ids), cutoff))
    fold_models = {f: model for (r, f), model in fits.fold_models[m.name].items() if r == 0}
    kind = explainer_kind(fold_models[int(fold[0])]) if len(fold) else "agnostic"
    if kind in ADDITIVE_KINDS and columns != m.columns:
        kind = "agnostic"  # an additive model explained on other columns: rank by SHAP
    method = reason_method(kind)
    pos = ctx.position.get_indexer(ids)
    X_all = ctx.frame[m.columns]
    barred = np.array([c in ctx.category for c in columns])
    gap = _gaps(kind, fold_models, X_all, pos, fold, shap, approved)
    ranked = rank_reasons(gap, shap, ~approved, barred, cfg.max_reasons)
    raw = ctx.frame.iloc[pos]
    reasons = reason_rows(ranked, ids, columns, raw, ctx.catalogue, m.name, method)
    flags = barred_flags(m.name, ranked, columns, ctx.category, cfg.max_reasons)
    declined = ~approved
    summary: dict[str, Any] = {
        "method": method, "explainer": kind, "n_explained": int(len(ids)),
        "n_declined": int(declined.sum()),
        "n_with_reasons": int((ranked.count > 0).sum()),
        "n_declined_without_adverse_factor": int((declined & (ranked.count == 0)).sum()),
        "first_reasons": _first_reasons(reasons),
        "barred_would_rank": {f["column"]: int(ranked.barred_top[:, columns.index(
            f["column"])].sum()) for f in flags},
    }
    recourse = pd.DataFrame(columns=RECOURSE_COLUMNS)
    if cfg.counterfactuals and declined.any():
        actionable = [c for c in m.columns if ctx.catalogue[c].actionable
                      and c not in ctx.category]
        recourse = _recourse(ctx, m.name, fold_models, X_all, ids, pos, fold, declined,
                             actionable, cut)
        summary["recourse"] = recourse_summary(recourse, actionable, kind)
    else:
        summary["recourse"] = {"searched": False, "n_declined": int(declined.sum())}
    return reasons, recourse, summary, flags, ranked, ids, columns, approved


def _first_reasons(reasons: pd.DataFrame) -> list[dict[str, Any]]:
    first = reasons[reasons["rank"] == 1]
    counts = first.groupby(["code", "feature", "reason"], sort=False).size()
    counts = counts.sort_values(ascending=False, kind="stable")
    return [{"code": c, "feature": f, "reason": r, "n": int(n)}
            for (c, f, r), n in counts.items()]


def _recourse(ctx: _Context, name: str, fold_models: dict[int, Any], X_all: pd.DataFrame,
              ids: np.ndarray, pos: np.ndarray, fold: np.ndarray, declined: np.ndarray,
              actionable: list[str], cutoff: np.ndarray) -> pd.DataFrame:
    """Each declined citizen's recourse by the fold model that declined them: exhaustive
    with a bound where the model is additive, a beam search otherwise."""
    parts = []
    for f in np.unique(fold[declined]):
        sel = np.flatnonzero(declined & (fold == f))
        X = X_all.iloc[pos[sel]]
        model = fold_models[int(f)]
        additive = (additive_score(model, X_all, ctx.scale)
                    if explainer_kind(model) in ADDITIVE_KINDS else None)
        with threadpool_limits(1):
            cf = counterfactuals(_points_of(model, ctx.scale), X, cutoff[sel], actionable,
                                 ctx.grids, additive)
        parts.append(pd.DataFrame({
            "citizen_id": ids[sel], "model": name, "found": cf.found, "status": cf.status,
            "change": recourse_text(ctx.catalogue, ctx.frame.iloc[pos[sel]], cf, cutoff[sel]),
            "cost": cf.cost, "new_score": cf.new_score, "best_score": cf.best_score,
            "bound": cf.bound}))
    return pd.concat(parts, ignore_index=True).sort_values("citizen_id", ignore_index=True)


def _refit_agreement(ctx: _Context, m: PreparedModel, fits: FoldResults, folds: list[Fold],
                     y: np.ndarray, ranked: RankedReasons, ids: np.ndarray,
                     columns: list[str], approved: np.ndarray, cutoff: float
                     ) -> dict[str, Any] | None:
    """Jaccard of the first fold's reasons against those of refits on bootstrap samples
    of its training rows (same citizens, same method)."""
    cfg = ctx.explain.reasons
    first = next(f for f in folds if f.repeat == 0 and f.fold == 0)
    original = fits.fold_models[m.name][(0, 0)]
    kind = explainer_kind(original)
    if cfg.bootstrap_refits == 0 or not is_exact(original):
        return None
    pos = ctx.position.get_indexer(ids)
    in_fold = np.isin(pos, first.test)
    declined = in_fold & ~approved
    if not declined.any():
        return None
    X_all = ctx.frame[m.columns]
    base = membership(ranked, ids, columns)[declined]
    barred = np.array([c in ctx.category for c in columns])
    scores = []
    for b in range(cfg.bootstrap_refits):
        rng = np.random.default_rng([ctx.seed, 7919, b])
        boot = rng.choice(first.train, size=first.train.size, replace=True)
        with threadpool_limits(1):
            model = clone(m.estimator).fit(X_all.iloc[boot], y[boot])
            rows = pos[in_fold]
            e = explain_fold_rows(model, X_all, first.train, rows, ctx.explain,
                                  ctx.seed, 0)
        shap = pd.DataFrame(e.values, columns=e.columns)[columns].to_numpy(dtype=float)
        now_approved = ctx.scale.points(model.predict_proba(X_all.iloc[rows])[:, 1]) \
            >= cutoff
        gap = _gaps(kind, {0: model}, X_all, rows, np.zeros(rows.size, dtype=int), shap,
                    now_approved)
        refit = rank_reasons(gap, shap, ~approved[in_fold], barred, cfg.max_reasons)
        scores.append(jaccard(base, membership(refit, ids[in_fold], columns)))
    values = [s["jaccard"] for s in scores if s["jaccard"] is not None]
    return {"refits": cfg.bootstrap_refits, "fold": 0,
            "jaccard": float(np.mean(values)) if values else None,
            "n": int(declined.sum())}


def adverse_action(population: Population, models: list[PreparedModel], fits: FoldResults,
                   folds: list[Fold], predictions: pd.DataFrame, explanations: pd.DataFrame,
                   cutoffs: dict[str, float], *, explain: Explain, prohibited: Sequence[str],
                   scale: ScoreScale, seed: int,
                   synthetic: SyntheticPopulation | None = None) -> AdverseResult:
    """Reasons, recourse and the summary (adverse_action.json) of every model.

    ``explain`` sets the reasons (catalogue, how many, recourse, refits) and the
    explainers' budget, ``prohibited`` the inputs that must never be a reason;
    ``synthetic`` (the population's causal model, None for a table) lets the reasons'
    fidelity be measured against the planted truth."""
    frame = population.frame
    schema = population.schema
    features = sorted({c for m in models for c in m.columns})
    category = {c: "prohibited" for c in prohibited}
    category.update({c: "prohibited" for c in schema.with_role("prohibited")})
    category.update({c: "protected" for c in schema.with_role("protected")})
    catalogue = catalogue_for(explain.reasons, features, synthetic is not None)
    ctx = _Context(explain, seed, frame, pd.Index(frame["citizen_id"].to_numpy()),
                   catalogue, category,
                   search_grid(frame, features, {c: catalogue[c].direction for c in features}),
                   scale)
    truth = nameable_truth(frame, synthetic, seed=seed) \
        if synthetic is not None and "true_pd" in frame else None
    fidelity_note = None
    if truth is not None and not terms_reproduce_truth(frame, truth.terms):
        truth, fidelity_note = None, ("not measured: the population's true_pd does not "
                                      "follow the generator's terms")
    y = frame[schema.target].to_numpy().astype(np.int64)
    reasons, recourse, flags, per_model, members = [], [], [], {}, {}
    for m in models:
        if not (explanations["model"].astype(str) == m.name).any():
            per_model[m.name] = {"method": None, "n_explained": 0,
                                 "note": "no explanations for this model"}
            continue
        r, c, summary, f, ranked, ids, columns, approved = _one_model(
            ctx, m, fits, explanations, predictions, float(cutoffs[m.name]))
        if truth is not None:
            given = np.where(ranked.index >= 0, np.asarray(columns, dtype=object)[
                np.maximum(ranked.index, 0)], "")
            summary["fidelity"] = reason_fidelity(
                given, truth, ctx.position.get_indexer(ids), ~approved, approved,
                [c for c in columns if c not in category])
        elif fidelity_note:
            summary["fidelity"] = {"fidelity": None, "note": fidelity_note}
        summary["bootstrap"] = _refit_agreement(ctx, m, fits, folds, y, ranked, ids, columns,
                                                approved, float(cutoffs[m.name]))
        reasons.append(r)
        recourse.append(c)
        flags.extend(f)
        per_model[m.name] = summary
        members[m.name] = membership(ranked, ids, columns)[~approved]
    agreement = [{"a": a, "b": b, **jaccard(members[a], members[b])}
                 for a, b in combinations(members, 2)]
    summary_all = {
        "max_reasons": explain.reasons.max_reasons,
        "methods": {"additive": reason_method("additive"), "shap": reason_method("tree")},
        "catalogue": (explain.reasons.catalogue
                      if isinstance(explain.reasons.catalogue, str) else "config"),
        "codes": {c: {"code": e.code, "reason": e.text, "actionable": e.actionable}
                  for c, e in ctx.catalogue.items()},
        "barred": category, "truth": truth is not None, "models": per_model,
        "agreement": agreement, "policy_flags": flags}
    table = (pd.concat(reasons, ignore_index=True) if reasons
             else pd.DataFrame(columns=ADVERSE_REASONS_COLUMNS))
    recourse_table = (pd.concat(recourse, ignore_index=True) if recourse
                      else pd.DataFrame(columns=RECOURSE_COLUMNS))
    return AdverseResult(table, recourse_table, summary_all, flags)
