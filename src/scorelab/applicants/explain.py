"""``scorelab explain``: a letter to anyone the run scored, or to a new applicant.

A citizen of the run is explained by the fold model that held them out, loaded from the
run directory, with the background rows and seed the study used, so the letter always
adds up to the citizen's out-of-fold score (the score and its explanation always
agree). Citizens of the audit sample are read from ``explanations.parquet``;
anyone else is explained on demand. A new applicant (a row of a table) is explained by
the final model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scorelab.applicants.score import (
    BACKGROUND_SIZE,
    check_applicants,
    load_final_model,
    reason_ranking,
    scale_of,
)
from scorelab.config import Explain
from scorelab.data.loaders import read_table
from scorelab.exceptions import DataError
from scorelab.explain.artifacts import explain_fold_rows
from scorelab.explain.catalogue import value_in_words
from scorelab.explain.explainers import Explanation, background_sample, explain
from scorelab.explain.importance import explanations_table
from scorelab.explain.reasons import letter, reason_codes
from scorelab.models.persist import load_model
from scorelab.runs.contract import ModelManifest
from scorelab.runs.reader import RunData, load_run

__all__ = ["Letter", "explain_applicant", "explain_citizen", "explain_row"]

_INT64 = (-(2**63), 2**63 - 1)


@dataclass
class Letter:
    """One explained decision: the explanation rows and the decision they explain."""

    rows: pd.DataFrame
    model: str
    citizen_id: Any
    score: float
    category: str
    approved: bool
    cutoff: float
    source: str  # "audit sample", "fold model r0fK (on demand)" or "final model"
    #: Adverse-action notice of a declined applicant: "reasons" [(code, text, value)],
    #: "change" (counterfactual or why none), or "note" when none could be given.
    adverse: dict[str, Any] | None = None

    def text(self) -> str:
        body = letter(self.rows, score=self.score, category=self.category,
                      approved=self.approved, cutoff=self.cutoff, model=self.model,
                      citizen_id=self.citizen_id)
        if self.approved or self.adverse is None:
            return body
        lines = ["", "Principal reasons for the decision (adverse action):"]
        lines += [f"  {i}. [{code}] {reason}: {value}" for i, (code, reason, value)
                  in enumerate(self.adverse.get("reasons", []), start=1)]
        if "note" in self.adverse:
            lines.append(f"  {self.adverse['note']}")
        if self.adverse.get("change"):
            lines.append(f"Smallest change that would have turned the decision: "
                         f"{self.adverse['change']}")
        return body + "\n".join(lines) + "\n"

    def as_dict(self, k: int = 4) -> dict[str, Any]:
        codes = reason_codes(self.rows, self.citizen_id, self.model, k=k)
        return {**codes, "score": self.score, "category": self.category,
                "approved": self.approved, "cutoff_score": self.cutoff,
                "explained_by": self.source,
                "adverse_action": None if self.approved else self.adverse}


def _rows(explanation: Explanation, ids: np.ndarray, name: str, family: str,
          X: pd.DataFrame, manifest: ModelManifest) -> pd.DataFrame:
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
                    model: str | None = None) -> Letter:
    """The letter of a citizen of the run, from the fold model that held them out."""
    run = _run(run)
    name = run.resolve_model(model)
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
    decision = {"score": float(first["score"]), "category": str(first["category"]),
                "approved": bool(first["approved"]), "cutoff": cutoff}
    expl = run.explanations
    if expl is not None:
        saved = expl[(expl["citizen_id"] == citizen_id) & (expl["model"].astype(str) == name)]
        if not saved.empty:
            return Letter(saved, name, citizen_id, source="audit sample", **decision,
                          adverse=_saved_adverse(run, name, citizen_id))
    manifest = run.model_manifest(name)
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
    rows = _rows(explanation, np.array([citizen_id]), name, info.family,
                 X.iloc[[position]], manifest)
    return Letter(rows, name, citizen_id, source=f"fold model {key} (on demand)", **decision,
                  adverse={"note": "adverse-action reasons are kept for the audit sample's "
                                   "declined applicants; this citizen is not in it"})


def _saved_adverse(run: RunData, name: str, citizen_id: int) -> dict[str, Any] | None:
    """The citizen's reasons and counterfactual as the study wrote them."""
    reasons = run.adverse_reasons()
    if reasons is None:
        return None
    mine = reasons[(reasons["model"].astype(str) == name)
                   & (reasons["citizen_id"] == citizen_id)].sort_values("rank")
    out: dict[str, Any] = {"reasons": list(zip(mine["code"], mine["reason"], mine["value"],
                                               strict=True))}
    if mine.empty:
        out["note"] = "no input raised the risk above the reference (no adverse factor)"
    recourse = run.recourse()
    if recourse is not None:
        row = recourse[(recourse["model"].astype(str) == name)
                       & (recourse["citizen_id"] == citizen_id)]
        if not row.empty:
            out["change"] = str(row["change"].iloc[0])
    return out


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
    """The letter of one new applicant (a one-row frame), from the final model."""
    run = _run(run)
    if len(applicant) != 1:
        raise DataError(f"{label}: explain one applicant at a time (got {len(applicant)} rows)")
    name = run.resolve_model(model)
    manifest, fitted = load_final_model(run, name)
    X = check_applicants(applicant, manifest.inputs, label)
    population = check_applicants(run.population(), manifest.inputs, _population_label(run))
    background = background_sample(population, BACKGROUND_SIZE, seed=int(run.manifest["seed"]))
    explain_cfg = Explain.model_validate(run.config["explain"])
    explanation = explain(fitted, X, background, max_evals=explain_cfg.max_evals,
                          seed=int(run.manifest["seed"]))
    p = float(fitted.predict_proba(X)[:, 1][0])
    scale = scale_of(run)
    points = float(scale.points(np.array([p]))[0])
    info = next(m for m in run.study.models if m.name == name)
    if applicant_id is None:
        applicant_id = applicant.index[0]
    rows = _rows(explanation, np.array([applicant_id]), name, info.family, X, manifest)
    rows["citizen_id"] = applicant_id
    approved = points >= manifest.cutoff_score
    adverse = None
    if not approved:
        ranking = reason_ranking(run, fitted, manifest, population, background, 4)
        found = ranking.rank(fitted, X, explanation, np.array([False]))
        adverse = {"reasons": [
            (found[f"reason_{j}_code"][0], found[f"reason_{j}_text"][0],
             value_in_words(ranking.catalogue[found[f"reason_{j}"][0]],
                            X[found[f"reason_{j}"][0]].iloc[0]))
            for j in range(1, ranking.k + 1) if found[f"reason_{j}"][0] is not None]}
    return Letter(rows, name, applicant_id, points, str(scale.category(np.array([points]))[0]),
                  approved, manifest.cutoff_score, "final model", adverse)
