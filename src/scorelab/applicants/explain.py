"""``scorelab explain``: a letter to anyone the run scored, or to a new applicant.

A citizen of the run is explained by the fold model that held them out, loaded from the
run directory, with the background rows and seed the study used, so the letter always
adds up to the citizen's out-of-fold score (the score and its explanation always
agree). Citizens of the audit sample are read from ``explanations.parquet``;
anyone else is explained on demand. A new applicant (a row of a table) is explained by
the final model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scorelab.applicants.score import (
    BACKGROUND_SIZE,
    check_applicants,
    reason_ranking,
    scale_of,
    scorer_for,
)
from scorelab.config import Explain
from scorelab.data.loaders import read_table
from scorelab.exceptions import DataError
from scorelab.explain.adverse import METHOD_POINTS, RankedReasons, reason_reference
from scorelab.explain.applicant import ApplicantReasons
from scorelab.explain.artifacts import explain_fold_rows
from scorelab.explain.catalogue import Catalogue, value_in_words
from scorelab.explain.explainers import Explanation, background_sample
from scorelab.explain.importance import explanations_table
from scorelab.explain.reasons import Reason, letter, points_of, sources_used
from scorelab.models.persist import load_model
from scorelab.runs.contract import ModelManifest
from scorelab.runs.reader import RunData, load_run

__all__ = ["Letter", "explain_applicant", "explain_citizen", "explain_row", "explanation_rows",
           "ranked_letter"]

_INT64 = (-(2**63), 2**63 - 1)


@dataclass
class Letter:
    """One explained decision: the score in whole points, the decision, and one list of
    reasons in points ranked one way (with the inputs in the applicant's favour, ranked
    the same way), beside the model's explanation in log-odds for machines."""

    rows: pd.DataFrame  # the explanation: one row per input (shap: log-odds of default)
    model: str
    citizen_id: Any
    score: float
    category: str
    approved: bool
    cutoff: float
    source: str  # "audit sample", "fold model r0fK (on demand)" or "final model"
    factor: float  # score points per unit of log-odds (pdo / ln 2)
    reasons: list[Reason] = field(default_factory=list)
    favourable: list[Reason] = field(default_factory=list)
    reference: str = "the approved applicants' average"  # what the points are against
    change: str | None = None  # the smallest change that turns the decision, or why none
    note: str | None = None  # why no reasons could be given

    @property
    def who(self) -> str:
        text = str(self.citizen_id)
        return text if text.startswith("applicant") else f"citizen {text}"

    def text(self) -> str:
        used = sources_used(self.rows["feature"].astype(str),
                            dict(zip(self.rows["feature"].astype(str),
                                     self.rows["source"].astype(str), strict=True)))
        return letter(who=self.who, model=self.model, score=self.score,
                      category=self.category, approved=self.approved, cutoff=self.cutoff,
                      reasons=self.reasons, favourable=self.favourable,
                      method=self.reference, used=used, change=self.change, note=self.note)

    def as_dict(self) -> dict[str, Any]:
        """The letter for machines: the same reasons (points, and log-odds beside them),
        and the model's whole explanation in log-odds (base value + contributions =
        output)."""
        first = self.rows.iloc[0]
        who = self.citizen_id.item() if hasattr(self.citizen_id, "item") else self.citizen_id
        return {"citizen_id": who, "model": self.model, "family": str(first["family"]),
                "score": int(round(self.score)), "score_exact": self.score,
                "category": self.category, "approved": self.approved,
                "cutoff_score": self.cutoff, "points_per_log_odds": self.factor,
                "explained_by": self.source,
                "reasons_against": self.reference,
                "reasons": [r.as_dict() for r in self.reasons],
                "favourable": [r.as_dict() for r in self.favourable],
                "change": self.change, "note": self.note,
                "explainer": str(first["method"]), "base_value": float(first["base_value"]),
                "output": float(first["output"]),
                "contributions": [{"feature": str(f), "log_odds": float(v),
                                   "points": points_of(float(v), self.factor)}
                                  for f, v in zip(self.rows["feature"], self.rows["shap"],
                                                  strict=True)]}


def _reason_list(ranked: RankedReasons, row: int, columns: Sequence[str],
                 catalogue: Catalogue, X: pd.DataFrame, sources: dict[str, str],
                 factor: float, sign: float = 1.0) -> list[Reason]:
    """The ranked reasons of applicant ``row`` (``sign`` -1: the favourable side, whose
    gaps were ranked negated)."""
    out = []
    for r in range(ranked.index.shape[1]):
        j = int(ranked.index[row, r])
        if j < 0:
            continue
        col = str(columns[j])
        entry = catalogue[col]
        gap = sign * float(ranked.gap[row, r])
        out.append(Reason(col, sources.get(col, "derived"),
                          value_in_words(entry, X[col].iloc[row]), points_of(gap, factor),
                          gap, entry.code, entry.text))
    return out


def explanation_rows(explanation: Explanation, ids: np.ndarray, name: str, family: str,
                     X: pd.DataFrame, manifest: ModelManifest) -> pd.DataFrame:
    """A letter's explanation: one row per input with its data source ('derived' for
    an input the manifest does not list)."""
    table = explanations_table(ids, name, family, explanation, X, None)
    sources = {c.name: c.source for c in manifest.inputs}
    table["source"] = table["feature"].astype(str).map(sources).fillna("derived")
    return table


def _population_label(run: RunData) -> str:
    """How a message names the run's population (a damaged column is named in it)."""
    return f"run directory '{run.run_dir}': population.parquet"


def _run(run: RunData | str | Path) -> RunData:
    return run if isinstance(run, RunData) else load_run(run)


def explain_citizen(run: RunData | str | Path, citizen_id: int,
                    model: str | None = None, *, final: bool = False) -> Letter:
    """The letter of a citizen of the run, from the fold model that held them out.

    A declined citizen of the audit sample gets the study's own adverse-action reasons
    (the report's); anyone else the same ranking computed now, by that fold model.
    ``final``: explained by the final model instead, exactly as ``scorelab score`` and
    a letter to a new applicant would score and explain the same row."""
    run = _run(run)
    name = run.resolve_model(model)
    if final:
        population = run.population()
        mine = population[population["citizen_id"] == citizen_id] \
            if _INT64[0] <= citizen_id <= _INT64[1] else population.iloc[:0]
        if mine.empty:
            ids = population["citizen_id"]
            raise DataError(f"citizen {citizen_id} is not in this run (citizen ids "
                            f"{ids.min()}-{ids.max()})")
        return explain_row(run, mine, name, label=_population_label(run),
                           applicant_id=citizen_id)
    pred = run.predictions
    mine = pred[(pred["model"].astype(str) == name) & (pred["repeat"] == 0)]
    # ids are 64-bit integers: a bigger number is no citizen (and no comparison with one)
    row = mine[mine["citizen_id"] == citizen_id] if _INT64[0] <= citizen_id <= _INT64[1] \
        else mine.iloc[:0]
    if row.empty:
        ids = mine["citizen_id"]
        raise DataError(f"citizen {citizen_id} is not in this run (citizen ids "
                        f"{ids.min()}-{ids.max()})")
    first = row.iloc[0]
    cutoff = float(run.metrics["models"][name]["decision"]["cutoff_score"])
    scale = scale_of(run)
    decision = {"score": float(first["score"]), "category": str(first["category"]),
                "approved": bool(first["approved"]), "cutoff": cutoff,
                "factor": scale.factor}
    manifest = run.model_manifest(name)
    saved = _saved_letter(run, name, citizen_id, decision, manifest)
    if saved is not None:
        return saved
    fold = int(first["fold"])
    key = f"r0f{fold}"
    if key not in manifest.folds:
        raise DataError(f"run directory '{run.run_dir}': model '{name}' has no saved fold "
                        f"model {key} (output.save_models was 'final'); citizen {citizen_id} "
                        "can only be explained from the audit sample")
    fitted = load_model(run.run_dir / manifest.folds[key])
    population = run.population()
    X = check_applicants(population, manifest.inputs, _population_label(run))
    position = int(np.flatnonzero(population["citizen_id"].to_numpy() == citizen_id)[0])
    held_out = mine.set_index("citizen_id")["fold"].reindex(population["citizen_id"]).to_numpy()
    train = np.flatnonzero(held_out != fold)
    info = next(m for m in run.study.models if m.name == name)
    explanation = explain_fold_rows(fitted, X, train, np.array([position]),
                                    Explain.model_validate(run.config["explain"]),
                                    int(run.manifest["seed"]), fold)
    rows = explanation_rows(explanation, np.array([citizen_id]), name, info.family,
                 X.iloc[[position]], manifest)
    background = background_sample(X, BACKGROUND_SIZE, seed=int(run.manifest["seed"]))
    ranking = reason_ranking(run, fitted, manifest, X, background, 4)
    return ranked_letter(rows, name, citizen_id, f"fold model {key} (on demand)", decision,
                          ranking, fitted, X.iloc[[position]], explanation, manifest)


def ranked_letter(rows: pd.DataFrame, name: str, who: Any, source: str,
                   decision: dict[str, Any], ranking: ApplicantReasons, model: Any,
                   X: pd.DataFrame, explanation: Explanation,
                   manifest: ModelManifest) -> Letter:
    """A letter whose reasons are ranked now, by ``ranking`` (the final model's, or a
    fold model's), both sides the same way; ``decision``: score, category, approved,
    cutoff and factor (points per log-odds). One home for the wording, which ``explain``
    and the workbench's what-if letters share."""
    sources = {c.name: c.source for c in manifest.inputs}
    against, favour = ranking.both_sides(model, X, explanation)
    reasons = _reason_list(against, 0, ranking.columns, ranking.catalogue, X, sources,
                           decision["factor"])
    favourable = _reason_list(favour, 0, ranking.columns, ranking.catalogue, X, sources,
                              decision["factor"], sign=-1.0)
    return Letter(rows, name, who, source=source, reasons=reasons, favourable=favourable,
                  reference=ranking.reference_words, **decision,
                  note=None if reasons else "no input raised the risk above the reference "
                                            "(no adverse factor)")


def _saved_letter(run: RunData, name: str, citizen_id: int, decision: dict[str, Any],
                  manifest: ModelManifest) -> Letter | None:
    """A declined audit-sample citizen's letter as the study wrote its reasons and
    counterfactual (None: not one of them)."""
    expl, reasons = run.explanations, run.adverse_reasons()
    if decision["approved"] or expl is None or reasons is None:
        return None
    rows = expl[(expl["citizen_id"] == citizen_id) & (expl["model"].astype(str) == name)]
    if rows.empty:
        return None
    mine = reasons[(reasons["model"].astype(str) == name)
                   & (reasons["citizen_id"] == citizen_id)].sort_values("rank")
    sources = {c.name: c.source for c in manifest.inputs}
    factor = decision["factor"]
    listed = [Reason(str(r.feature), sources.get(str(r.feature), "derived"), str(r.value),
                     points_of(float(r.gap), factor), float(r.gap), str(r.code),
                     str(r.reason))
              for r in mine.itertuples()]
    method = str(mine["method"].iloc[0]) if len(mine) else ""
    change = None
    recourse = run.recourse()
    if recourse is not None:
        row = recourse[(recourse["model"].astype(str) == name)
                       & (recourse["citizen_id"] == citizen_id)]
        if not row.empty:
            change = str(row["change"].iloc[0])
    return Letter(rows, name, citizen_id, source="audit sample", **decision, reasons=listed,
                  reference=(reason_reference("additive") if method == METHOD_POINTS
                             else reason_reference("agnostic")), change=change,
                  note=None if listed else "no input raised the risk above the reference "
                                           "(no adverse factor)")


def explain_applicant(run: RunData | str | Path, table: str | Path, row: int,
                      model: str | None = None) -> Letter:
    """The letter of row ``row`` (1-based) of a table of new applicants (final model)."""
    frame = read_table(table, what="table")
    if not 1 <= row <= len(frame):
        raise DataError(f"--row {row} is outside table '{table}' (rows 1-{len(frame)})")
    return explain_row(run, frame.iloc[[row - 1]], model, label=f"table '{table}'",
                       applicant_id=f"applicant row {row}")


def explain_row(run: RunData | str | Path, applicant: pd.DataFrame, model: str | None = None,
                *, label: str = "applicant", applicant_id: Any = None) -> Letter:
    """The letter of one new applicant (a one-row frame), from the final model: the same
    reasons, in the same order, as ``scorelab score`` gives that applicant."""
    run = _run(run)
    if len(applicant) != 1:
        raise DataError(f"{label}: explain one applicant at a time (got {len(applicant)} rows)")
    name = run.resolve_model(model)
    scorer = scorer_for(run, name, 4)
    X = check_applicants(applicant, scorer.manifest.inputs, label)
    explanation = scorer.explain(X)
    p = float(scorer.model.predict_proba(X)[:, 1][0])
    points = float(scorer.scale.points(np.array([p]))[0])
    info = next(m for m in run.study.models if m.name == name)
    if applicant_id is None:
        applicant_id = applicant.index[0]
    rows = explanation_rows(explanation, np.array([applicant_id]), name, info.family, X,
                 scorer.manifest)
    rows["citizen_id"] = applicant_id
    decision = {"score": points,
                "category": str(scorer.scale.category(np.array([points]))[0]),
                "approved": bool(points >= scorer.manifest.cutoff_score),
                "cutoff": scorer.manifest.cutoff_score, "factor": scorer.scale.factor}
    assert scorer.ranking is not None
    return ranked_letter(rows, name, applicant_id, "final model", decision, scorer.ranking,
                          scorer.model, X, explanation, scorer.manifest)
