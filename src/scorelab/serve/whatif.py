"""Letters and what-ifs for the workbench: a citizen of a run by the fold model that held
them out (as ``scorelab explain`` gives it), a new applicant by the final model (as
``scorelab score`` and ``explain --table`` give it), edited inputs re-scored and
re-explained, and the age sweep.

Every number goes through the run's saved models, its scale and its reasons' ranking;
the checks of an edited value are ``score``'s own (:func:`check_applicants`), plus the
bounds of what the model saw in training. A fold model, its explainer's background and
its reasons' ranking are kept ready once loaded (a published run never changes).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from scorelab.applicants.explain import (
    Letter,
    explain_citizen,
    explanation_rows,
    ranked_letter,
)
from scorelab.applicants.score import (
    BACKGROUND_SIZE,
    check_applicants,
    reason_ranking,
    scale_of,
    scorer_for,
)
from scorelab.config import Explain
from scorelab.exceptions import DataError
from scorelab.explain.applicant import ApplicantReasons
from scorelab.explain.catalogue import Catalogue, catalogue_for
from scorelab.explain.explainers import Explanation, background_sample, explain
from scorelab.explain.reasons import Reason
from scorelab.models.persist import load_model
from scorelab.runs.contract import ModelManifest
from scorelab.runs.reader import RunData
from scorelab.serve.catalog import NotFound

__all__ = ["AGE_PROXIES", "AgePath", "Case", "InputSpec", "Outcome", "Sweep", "Workbench",
           "parse_edits"]

#: The synthetic population's inputs that grow with age (its planted age proxies). On a
#: table the population model is unknown: a sweep moves age alone and says so.
AGE_PROXIES = ("credit_history_years", "employment_years")
#: Years the age-flip rate looks ahead, and the declined citizens it follows per model.
FLIP_YEARS = 20
FLIP_SAMPLE = 400
_READY_FOLDS = 24


@dataclass(frozen=True)
class InputSpec:
    """One input of the editor: its type, the values the model saw, whether it is locked."""

    name: str
    dtype: str
    source: str
    text: str
    actionable: bool
    categories: list[Any] | None = None
    low: float | None = None
    high: float | None = None

    @property
    def step(self) -> str:
        return "1" if self.dtype == "integer" else "any"


@dataclass
class AgePath:
    """The population's own age path of each proxy: its median at each whole age."""

    column: str
    ages: np.ndarray
    low: float
    high: float
    medians: dict[str, np.ndarray] = field(default_factory=dict)

    def move(self, frame: pd.DataFrame, new_age: np.ndarray,
             bounds: Mapping[str, tuple[float, float]]) -> pd.DataFrame:
        """``frame`` (one row per new age) moved to ``new_age``: the age column set, each
        proxy shifted by its path's change between the old and the new age, kept within
        what the model saw (a missing proxy stays missing)."""
        out = frame.copy()
        old = out[self.column].to_numpy(dtype=float)
        new = np.clip(np.asarray(new_age, dtype=float), self.low, self.high)
        for proxy, path in self.medians.items():
            shift = self._at(path, new) - self._at(path, old)
            low, high = bounds.get(proxy, (-np.inf, np.inf))
            out[proxy] = np.clip(out[proxy].to_numpy(dtype=float) + shift, low, high)
        out[self.column] = new
        return out

    def _at(self, path: np.ndarray, ages: np.ndarray) -> np.ndarray:
        return np.interp(np.floor(ages), self.ages, path)

    @property
    def words(self) -> str:
        if not self.medians:
            return (f"{self.column} alone moves (on a table the population's age proxies "
                    "are not known, so none is moved with it)")
        return (f"{self.column} moves with the population's own age path of "
                f"{', '.join(self.medians)} (each shifted by its median's change between "
                "the two ages)")


@dataclass
class Outcome:
    """A what-if's answer: the letter of the edited applicant and its change from the
    original decision (as the run recorded it, or the unedited row's score)."""

    letter: Letter
    original_score: float
    original_approved: bool
    edits: dict[str, str]

    @property
    def delta(self) -> float:
        return float(self.letter.score - self.original_score)

    def as_dict(self) -> dict[str, Any]:
        letter = self.letter
        return {"score": round(letter.score), "score_exact": letter.score,
                "category": letter.category, "approved": letter.approved,
                "decision": "approved" if letter.approved else "declined",
                "cutoff": letter.cutoff, "original_score": round(self.original_score),
                "original_approved": self.original_approved,
                "delta": round(self.delta, 2),
                "flipped": letter.approved != self.original_approved,
                "explained_by": letter.source,
                "reasons": [_reason(r) for r in letter.reasons],
                "favourable": [_reason(r) for r in letter.favourable],
                "note": letter.note, "edits": self.edits}


def _reason(r: Reason) -> dict[str, Any]:
    return {"feature": r.feature, "text": r.text or r.feature, "code": r.code,
            "value": r.value, "source": r.source, "points": round(r.points, 1)}


@dataclass
class Sweep:
    """The score of one applicant along age, and where its decision flips."""

    ages: np.ndarray
    scores: np.ndarray
    approved: np.ndarray
    age: float
    cutoff: float
    words: str

    @property
    def flips(self) -> list[float]:
        """The ages at which the decision changes (from the age before)."""
        change = np.flatnonzero(self.approved[1:] != self.approved[:-1]) + 1
        return [float(self.ages[i]) for i in change]

    def as_dict(self) -> dict[str, Any]:
        return {"ages": self.ages.tolist(), "scores": np.round(self.scores, 1).tolist(),
                "approved": self.approved.tolist(), "age": self.age, "cutoff": self.cutoff,
                "flips": self.flips, "path": self.words}


@dataclass
class _Fold:
    """A fold model ready to score and explain (or the final model: ``fold`` None)."""

    run: RunData
    name: str
    family: str
    fold: int | None
    model: Any
    manifest: ModelManifest
    background: pd.DataFrame
    max_evals: int
    seed: int
    _ranking: ApplicantReasons | None = None
    _make_ranking: Callable[[], ApplicantReasons] | None = None

    @property
    def source(self) -> str:
        return "final model" if self.fold is None else f"fold model r0f{self.fold} (on demand)"

    @property
    def ranking(self) -> ApplicantReasons:
        if self._ranking is None:
            assert self._make_ranking is not None
            self._ranking = self._make_ranking()
        return self._ranking

    def explain(self, X: pd.DataFrame) -> Explanation:
        return explain(self.model, X, self.background, max_evals=self.max_evals,
                       seed=self.seed)


@dataclass
class Case:
    """Whom a what-if edits: a citizen of the run (by id) or a new applicant (a row)."""

    run_id: str
    model: str
    raw: pd.DataFrame  # one row: the population's columns (or the pasted row's)
    citizen_id: int | None = None
    fold: int | None = None

    @property
    def who(self) -> Any:
        return self.citizen_id if self.citizen_id is not None else "applicant"


def parse_edits(query: Mapping[str, str], names: set[str]) -> tuple[dict[str, str], set[str]]:
    """Edited inputs (``set.<input>=value``) and unlocked ones (``unlock=<input>``) of a
    query; a key naming no input is one line that lists the inputs."""
    edits, unlocked = {}, set()
    for key, value in query.items():
        if key.startswith("set."):
            name = key[4:]
            if name not in names:
                raise DataError(f"what-if: no input '{name}' (inputs: "
                                f"{', '.join(sorted(names))})")
            edits[name] = value
    for name in str(query.get("unlock", "")).split(","):
        if name:
            unlocked.add(name)
    return edits, unlocked


class Workbench:
    """What-ifs over the runs of a runs folder, with the costly parts kept ready."""

    def __init__(self, run_of: Callable[[str], RunData]) -> None:
        self._run_of = run_of
        self._lock = threading.RLock()
        self._folds: OrderedDict[tuple[str, str, int | None], _Fold] = OrderedDict()
        self._populations: OrderedDict[str, tuple[pd.DataFrame, dict[int, int]]] = \
            OrderedDict()
        self._letters: OrderedDict[tuple[str, str, int], Letter] = OrderedDict()
        self._specs: dict[tuple[str, str], list[InputSpec]] = {}
        self._checked: dict[tuple[str, str], pd.DataFrame] = {}
        self._decisions: dict[tuple[str, str], pd.DataFrame] = {}
        self._paths: dict[str, AgePath | None] = {}
        self._flips: dict[str, dict[str, dict[str, Any]]] = {}

    # ------------------------------------------------------------------ the run's parts
    def population(self, run_id: str) -> tuple[pd.DataFrame, dict[int, int]]:
        """The run's citizens and each citizen id's row (the last few runs kept)."""
        with self._lock:
            if run_id in self._populations:
                self._populations.move_to_end(run_id)
                return self._populations[run_id]
        frame = self._run_of(run_id).population()
        where = {int(c): i for i, c in enumerate(frame["citizen_id"].to_numpy())}
        with self._lock:
            self._populations[run_id] = (frame, where)
            while len(self._populations) > 3:
                self._populations.popitem(last=False)
        return frame, where

    def model(self, run_id: str, model: str | None) -> str:
        """A model of the run by name (or family); NotFound names the valid ones."""
        run = self._run_of(run_id)
        try:
            return run.resolve_model(model)
        except DataError as exc:
            raise NotFound(str(exc)) from None

    def checked(self, run_id: str, model: str) -> pd.DataFrame:
        """The run's citizens as the model's inputs, checked and typed (kept)."""
        key = (run_id, model)
        if key not in self._checked:
            run = self._run_of(run_id)
            frame, _ = self.population(run_id)
            self._checked[key] = check_applicants(
                frame, run.model_manifest(model).inputs,
                f"run directory '{run.run_dir}': population.parquet")
        return self._checked[key]

    def catalogue(self, run: RunData, columns: list[str]) -> Catalogue:
        return catalogue_for(Explain.model_validate(run.config["explain"]).reasons, columns,
                             run.study.population.source == "synthetic")

    def inputs(self, run_id: str, model: str) -> list[InputSpec]:
        """The model's inputs as the editor shows them, bounded to training's values."""
        key = (run_id, model)
        if key in self._specs:
            return self._specs[key]
        run = self._run_of(run_id)
        manifest = run.model_manifest(model)
        X = self.checked(run_id, model)
        catalogue = self.catalogue(run, [c.name for c in manifest.inputs])
        specs = []
        for column in manifest.inputs:
            entry = catalogue[column.name]
            low = high = None
            if column.dtype in ("numeric", "integer"):
                values = X[column.name].to_numpy(dtype=float)
                if np.isfinite(values).any():
                    low, high = float(np.nanmin(values)), float(np.nanmax(values))
            specs.append(InputSpec(column.name, column.dtype, column.source, entry.text,
                                   entry.actionable, column.categories, low, high))
        self._specs[key] = specs
        return specs

    def age_path(self, run_id: str) -> AgePath | None:
        """The population's age path of its proxies (None: the population has no age)."""
        if run_id in self._paths:
            return self._paths[run_id]
        run = self._run_of(run_id)
        frame, _ = self.population(run_id)
        column = "age" if "age" in frame.columns else None
        path = None
        if column is not None and pd.api.types.is_numeric_dtype(frame[column]):
            age = np.floor(frame[column].to_numpy(dtype=float))
            known = np.isfinite(age)
            ages = np.arange(np.nanmin(age), np.nanmax(age) + 1)
            path = AgePath(column, ages, float(np.nanmin(age)), float(np.nanmax(age)))
            if run.study.population.source == "synthetic":
                for proxy in AGE_PROXIES:
                    if proxy in frame.columns:
                        path.medians[proxy] = _median_path(age[known], frame[proxy].to_numpy(
                            dtype=float)[known], ages)
        self._paths[run_id] = path
        return path

    def _fold(self, run_id: str, model: str, fold: int | None) -> _Fold:
        key = (run_id, model, fold)
        with self._lock:
            if key in self._folds:
                self._folds.move_to_end(key)
                return self._folds[key]
        run = self._run_of(run_id)
        info = next(m for m in run.study.models if m.name == model)
        explain_cfg = Explain.model_validate(run.config["explain"])
        seed = int(run.manifest["seed"])
        if fold is None:
            scorer = scorer_for(run, model, 4)
            assert scorer.background is not None
            ready = _Fold(run, model, info.family, None, scorer.model, scorer.manifest,
                          scorer.background, scorer.max_evals, scorer.seed,
                          _ranking=scorer.ranking)
        else:
            manifest = run.model_manifest(model)
            if f"r0f{fold}" not in manifest.folds:
                raise DataError(f"run '{run_id}': model '{model}' has no saved fold model "
                                f"r0f{fold} (output.save_models was "
                                f"'{run.config['output']['save_models']}'); a what-if of a "
                                "citizen needs the fold model that held them out")
            fitted = load_model(run.run_dir / manifest.folds[f"r0f{fold}"])
            frame, _ = self.population(run_id)
            X = self.checked(run_id, model)
            held_out = self._held_out(run, model, frame)
            train = np.flatnonzero(held_out != fold)
            # the background explain_fold_rows draws: the fold's training rows, seed + fold
            background = background_sample(X.iloc[train], explain_cfg.background_size,
                                           seed=seed + fold)
            ranking_background = background_sample(X, BACKGROUND_SIZE, seed=seed)
            ready = _Fold(run, model, info.family, fold, fitted, manifest, background,
                          explain_cfg.max_evals, seed + fold,
                          _make_ranking=lambda: reason_ranking(run, fitted, manifest, X,
                                                               ranking_background, 4))
        with self._lock:
            self._folds[key] = ready
            while len(self._folds) > _READY_FOLDS:
                self._folds.popitem(last=False)
        return ready

    @staticmethod
    def _held_out(run: RunData, model: str, frame: pd.DataFrame) -> np.ndarray:
        pred = run.predictions
        mine = pred[(pred["model"].astype(str) == model) & (pred["repeat"] == 0)]
        return mine.set_index("citizen_id")["fold"].reindex(frame["citizen_id"]).to_numpy()

    # ------------------------------------------------------------------ cases
    def citizen(self, run_id: str, model: str, citizen_id: int) -> Case:
        """A citizen of the run, with the fold that held them out (NotFound: no such id)."""
        frame, where = self.population(run_id)
        position = where.get(citizen_id)
        if position is None:
            ids = frame["citizen_id"]
            raise NotFound(f"citizen {citizen_id} is not in run '{run_id}' (citizen ids "
                           f"{ids.min()}-{ids.max()})")
        fold = int(self.decisions(run_id, model).at[citizen_id, "fold"])
        return Case(run_id, model, frame.iloc[[position]], citizen_id, fold)

    def applicant(self, run_id: str, model: str, row: pd.DataFrame) -> Case:
        """A new applicant (a one-row frame), scored by the final model."""
        return Case(run_id, model, row.reset_index(drop=True))

    def letter(self, case: Case) -> Letter:
        """The case's letter exactly as ``scorelab explain`` gives it (kept for citizens).

        A declined citizen of the audit sample gets the study's own letter (its reasons
        and recourse as written); anyone else the on-demand letter of the fold model that
        held them out, with that model, background and ranking kept ready (the tests
        hold it equal to :func:`explain_citizen`, reason by reason)."""
        if case.citizen_id is None:
            return self.outcome(case, {}, set()).letter
        key = (case.run_id, case.model, case.citizen_id)
        with self._lock:
            if key in self._letters:
                self._letters.move_to_end(key)
                return self._letters[key]
        run = self._run_of(case.run_id)
        if self._audited_decline(run, case):
            letter = explain_citizen(run, case.citizen_id, case.model)
        else:
            ready = self._fold(case.run_id, case.model, case.fold)
            letter = self._letter(ready, self.edited(case, {}, set()), case.citizen_id,
                                  recorded=self._recorded(run, case))
        with self._lock:
            self._letters[key] = letter
            while len(self._letters) > 256:
                self._letters.popitem(last=False)
        return letter

    def decisions(self, run_id: str, model: str) -> pd.DataFrame:
        """The model's first-repeat predictions indexed by citizen id (kept): a request
        looks one citizen up without scanning the whole table."""
        key = (run_id, model)
        if key not in self._decisions:
            pred = self._run_of(run_id).predictions
            mine = pred[(pred["model"].astype(str) == model) & (pred["repeat"] == 0)]
            self._decisions[key] = mine[["citizen_id", "fold", "score", "category",
                                         "approved"]].set_index("citizen_id")
        return self._decisions[key]

    def _recorded(self, run: RunData, case: Case) -> dict[str, Any]:
        """The citizen's decision as predictions.parquet records it."""
        row = self.decisions(case.run_id, case.model).loc[case.citizen_id]
        return {"score": float(row["score"]), "category": str(row["category"]),
                "approved": bool(row["approved"])}

    def _audited_decline(self, run: RunData, case: Case) -> bool:
        """A declined citizen whose letter the study wrote (the audit sample)."""
        expl = run.explanations
        if expl is None or not (run.run_dir / "adverse_reasons.parquet").is_file():
            return False
        mine = expl[(expl["citizen_id"] == case.citizen_id)
                    & (expl["model"].astype(str) == case.model)]
        return not mine.empty and not self._recorded(run, case)["approved"]

    def edited(self, case: Case, edits: Mapping[str, str], unlocked: set[str]
               ) -> pd.DataFrame:
        """The case's row with ``edits`` applied and checked as ``score`` checks a table:
        immutable inputs only when unlocked, values within what the model saw; an edit
        of age moves its proxies along the population's age path."""
        specs = {s.name: s for s in self.inputs(case.run_id, case.model)}
        path = self.age_path(case.run_id)
        row = case.raw.copy()
        age_edit = None
        for name, value in edits.items():
            if path is not None and name == path.column and name not in specs:
                age_edit = value
                continue
            spec = specs.get(name)
            if spec is None:
                raise DataError(f"what-if: no input '{name}' (inputs: "
                                f"{', '.join(sorted(specs))})")
            if not spec.actionable and name not in unlocked:
                raise DataError(f"what-if: '{name}' cannot be changed by the applicant "
                                "(immutable); unlock it to edit it anyway")
            row[name] = pd.Series([value if value != "" else None], index=row.index,
                                  dtype=object)
        if age_edit is not None and path is not None:
            if path.column not in unlocked:
                raise DataError(f"what-if: '{path.column}' cannot be changed by the "
                                "applicant (immutable); unlock it to edit it anyway")
            try:
                age = float(age_edit)
            except ValueError:
                raise DataError(f"what-if: column '{path.column}' must be a number; got "
                                f"{age_edit!r}") from None
            if not path.low <= age <= path.high:
                raise DataError(f"what-if: {path.column} {age:g} is outside the "
                                f"population's ages ({path.low:g}-{path.high:g})")
            bounds = {s.name: (s.low, s.high) for s in specs.values() if s.low is not None}
            row = path.move(row.astype({p: float for p in path.medians}), np.array([age]),
                            bounds)
        manifest = self._run_of(case.run_id).model_manifest(case.model)
        X = check_applicants(row, manifest.inputs, "what-if")
        for name in edits:
            spec = specs.get(name)
            if spec is None or spec.low is None or spec.high is None:
                continue
            value = X[name].iloc[0]
            if pd.notna(value) and not spec.low <= float(value) <= spec.high:
                raise DataError(f"what-if: {name} {float(value):g} is outside what the "
                                f"model saw in training ({spec.low:g}-{spec.high:g})")
        return X

    def outcome(self, case: Case, edits: Mapping[str, str], unlocked: set[str]) -> Outcome:
        """The letter of the edited case, by the same model as its original letter, and
        its change from the original decision."""
        ready = self._fold(case.run_id, case.model, case.fold)
        X = self.edited(case, edits, unlocked)
        letter = self._letter(ready, X, case.who)
        if case.citizen_id is not None:
            recorded = self._recorded(self._run_of(case.run_id), case)
            return Outcome(letter, recorded["score"], recorded["approved"], dict(edits))
        if not edits:
            return Outcome(letter, letter.score, letter.approved, {})
        scale = scale_of(ready.run)
        p = ready.model.predict_proba(self.edited(case, {}, set()))[:, 1]
        points = float(scale.points(p)[0])
        return Outcome(letter, points, bool(points >= letter.cutoff), dict(edits))

    def _letter(self, ready: _Fold, X: pd.DataFrame, who: Any,
                recorded: dict[str, Any] | None = None) -> Letter:
        """A letter of one row by ``ready``'s model, ranked as ``scorelab explain`` ranks
        an on-demand letter (both sides the same way); ``recorded``: the decision as the
        run recorded it (an unedited citizen), else the model scores the row now."""
        run, scale = ready.run, scale_of(ready.run)
        cutoff = float(run.metrics["models"][ready.name]["decision"]["cutoff_score"])
        if recorded is None:
            p = float(ready.model.predict_proba(X)[:, 1][0])
            points = float(scale.points(np.array([p]))[0])
            recorded = {"score": points, "approved": bool(points >= cutoff),
                        "category": str(scale.category(np.array([points]))[0])}
        explanation = ready.explain(X)
        rows = explanation_rows(explanation, np.array([who], dtype=object), ready.name,
                                ready.family, X, ready.manifest)
        decision = {**recorded, "cutoff": cutoff, "factor": scale.factor}
        return ranked_letter(rows, ready.name, who, ready.source, decision, ready.ranking,
                             ready.model, X, explanation, ready.manifest)

    # ------------------------------------------------------------------ age
    def sweep(self, case: Case, edits: Mapping[str, str], unlocked: set[str]) -> Sweep:
        """The edited case's score at every age of the population, its proxies moved
        along the population's age path."""
        path = self.age_path(case.run_id)
        if path is None:
            raise DataError(f"run '{case.run_id}': the population has no age column, so "
                            "there is no age to sweep")
        ready = self._fold(case.run_id, case.model, case.fold)
        base = self.edited(case, edits, unlocked)
        if path.column not in case.raw.columns and path.column not in edits:
            raise DataError(f"what-if: the applicant has no '{path.column}' column, so "
                            "there is no age to sweep from")
        age = float(case.raw[path.column].iloc[0]) if path.column in case.raw else 0.0
        if path.column in edits:
            age = float(edits[path.column])
        ages = path.ages.astype(float)
        frame = pd.concat([base] * len(ages), ignore_index=True)
        frame[path.column] = age
        specs = self.inputs(case.run_id, case.model)
        bounds = {s.name: (s.low, s.high) for s in specs if s.low is not None}
        moved = path.move(frame.astype({p: float for p in path.medians if p in frame}),
                          ages, bounds)
        X = moved[base.columns].astype(base.dtypes.to_dict())
        scale = scale_of(ready.run)
        points = scale.points(ready.model.predict_proba(X)[:, 1])
        cutoff = float(ready.run.metrics["models"][ready.name]["decision"]["cutoff_score"])
        return Sweep(ages, points, points >= cutoff, age, cutoff, path.words)

    def age_flip_rates(self, run_id: str) -> dict[str, dict[str, Any]]:
        """Per model: the share of declined citizens whose decision flips to approved
        within +20 years of age (their fold model; a sample of at most 400 per model)."""
        if run_id in self._flips:
            return self._flips[run_id]
        run = self._run_of(run_id)
        path = self.age_path(run_id)
        if path is None:
            raise DataError(f"run '{run_id}': the population has no age column")
        frame, where = self.population(run_id)
        scale = scale_of(run)
        out: dict[str, dict[str, Any]] = {}
        for model in run.model_names:
            manifest = run.model_manifest(model)
            if not manifest.folds:
                out[model] = {"rate": None, "declined": 0, "flipped": 0,
                              "note": "no fold models saved"}
                continue
            pred = run.predictions
            mine = pred[(pred["model"].astype(str) == model) & (pred["repeat"] == 0)
                        & ~pred["approved"]]
            if len(mine) > FLIP_SAMPLE:
                mine = mine.iloc[np.linspace(0, len(mine) - 1, FLIP_SAMPLE).astype(int)]
            cutoff = float(run.metrics["models"][model]["decision"]["cutoff_score"])
            flipped = 0
            specs = self.inputs(run_id, model)
            bounds = {s.name: (s.low, s.high) for s in specs if s.low is not None}
            for fold, part in mine.groupby("fold", sort=True):
                ready = self._fold(run_id, model, int(fold))
                rows = frame.iloc[[where[int(c)] for c in part["citizen_id"]]]
                steps = np.arange(1, FLIP_YEARS + 1, dtype=float)
                many = rows.loc[rows.index.repeat(len(steps))].reset_index(drop=True)
                new_age = many[path.column].to_numpy(dtype=float) + np.tile(steps, len(rows))
                moved = path.move(many.astype({p: float for p in path.medians}), new_age,
                                  bounds)
                X = check_applicants(moved, manifest.inputs, "age sweep")
                points = scale.points(ready.model.predict_proba(X)[:, 1])
                flipped += int((points >= cutoff).reshape(len(rows), -1).any(axis=1).sum())
            n = len(mine)
            out[model] = {"rate": flipped / n if n else None, "declined": n,
                          "flipped": flipped, "note": ""}
        self._flips[run_id] = out
        return out


def _median_path(age: np.ndarray, values: np.ndarray, ages: np.ndarray) -> np.ndarray:
    """The median of ``values`` at each whole age (a 5-year window; gaps interpolated)."""
    out = np.full(len(ages), np.nan)
    known = np.isfinite(values)
    for i, a in enumerate(ages):
        near = known & (np.abs(age - a) <= 2)
        if near.sum() >= 5:
            out[i] = np.median(values[near])
    have = np.isfinite(out)
    if not have.any():
        return np.zeros(len(ages))
    return np.interp(ages, ages[have], out[have])

