"""The models of a study, built once: each spec's estimator, tuning plan and inputs.

:func:`build_models` turns the config's model specs into estimators (every mistake one
:class:`ConfigError` line, before any data is read); :func:`prepare_models` gives each
its input columns once the population's schema is known. The fold engines take the
prepared models.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sklearn.base import BaseEstimator, clone

from scorelab.config import Decision, ModelSpec, Tuning
from scorelab.core.messages import problems_line
from scorelab.core.scale import ScoreScale
from scorelab.data.schema import Schema
from scorelab.exceptions import ConfigError
from scorelab.models.registry import DEFAULT_KIND, build_model, model_class
from scorelab.models.tuning import TuningPlan, plan_for, tune_ensemble

__all__ = ["ROLES", "BuiltModel", "PreparedModel", "build_models", "mitigation_sensitive",
           "model_inputs", "prepare_models", "require_models", "skip_reason", "table_sized",
           "tuning_threshold"]

#: Roles a model plays in a study: an original family, an ablation (the same family with
#: features dropped) or a fairness-mitigation variant.
ROLES = ("original", "ablation", "mitigation")


@dataclass
class PreparedModel:
    """A model of the study: its spec, an unfitted estimator and its input columns."""

    spec: ModelSpec
    estimator: BaseEstimator
    columns: list[str]
    tuning: TuningPlan | None = None  # searched on each training fold (evaluation.tuning)
    #: An ensemble selection in a tuned study: seeded on each fold as the families'
    #: searches are (from this study seed), so that it reuses their searches of that fold.
    fold_seed: int | None = None
    #: The parameters it took from the size of the table (its config did not set them;
    #: ``ScorelabClassifier.sized_params``), and that size; empty on a synthetic study.
    sized: dict[str, Any] = field(default_factory=dict)
    sized_for: int | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def kind(self) -> str:
        return self.spec.kind or DEFAULT_KIND[self.spec.family]

    @property
    def role(self) -> str:
        """original, ablation (features dropped) or mitigation (a fairness variant)."""
        if self.spec.family == "mitigation":
            return "mitigation"
        return "ablation" if self.spec.drop_features else "original"


def model_inputs(schema: Schema, spec: ModelSpec, age_column: str | None = "age"
                 ) -> list[str]:
    """Feature columns, less ``drop_features``, plus the protected/prohibited columns the
    spec explicitly allows (``use_protected``). Truth columns are never inputs.

    ``age_column`` is the population's age attribute: a mitigation variant's default
    sensitive column."""
    allowed = set(schema.with_role("protected", "prohibited"))
    features = schema.with_role("feature")
    for name in spec.use_protected:
        if name not in allowed:
            raise ConfigError(f"model '{spec.name}': use_protected: '{name}' is not a protected "
                              f"or prohibited column (valid: {', '.join(sorted(allowed))})")
    for name in spec.drop_features:
        if name not in features:
            raise ConfigError(f"model '{spec.name}': drop_features: '{name}' is not a feature "
                              f"column (valid: {', '.join(features)})")
    if spec.family == "mitigation":
        sensitive = mitigation_sensitive(spec, age_column)
        if sensitive not in spec.use_protected:
            raise ConfigError(f"model '{spec.name}': a mitigation variant needs its sensitive "
                              f"attribute as an input: list '{sensitive}' in its use_protected")
    kept = [c for c in features if c not in spec.drop_features]
    return kept + [c for c in spec.use_protected if c not in kept]


def mitigation_sensitive(spec: ModelSpec, age_column: str | None) -> str:
    """The column a mitigation variant equalises: ``params.sensitive``, else the age
    attribute (a table without one must name it)."""
    if "sensitive" in spec.params:
        return str(spec.params["sensitive"])
    if age_column is None:
        raise ConfigError(f"model '{spec.name}': the population has no age attribute, so "
                          "a mitigation variant needs params.sensitive (a protected column "
                          "it also lists in use_protected); or declare one population."
                          "protected column as age")
    return age_column


def tuning_threshold(tuning: Tuning | None, decision: Decision, scale: ScoreScale
                     ) -> float | None:
    """The P(default) above which the expected-cost metric rejects: the cost-minimising
    cut-off of ``decision.costs``, else the cut-off score as the costs' break-even.

    None when tuning does not optimise expected cost."""
    if tuning is None or tuning.metric != "expected_cost":
        return None
    if decision.costs is not None:
        return decision.costs.false_reject / (decision.costs.false_accept
                                              + decision.costs.false_reject)
    if decision.cutoff_score is None:
        raise ConfigError("evaluation.tuning.metric: expected_cost needs decision.costs "
                          "(e.g. {false_accept: 5, false_reject: 1}) or a "
                          "decision.cutoff_score (its break-even); or use auc or brier")
    return float(scale.probability(decision.cutoff_score))


def skip_reason(spec: ModelSpec, real_table: bool) -> str | None:
    """Why a model cannot run on this population, or None.

    An expert's default rules (and a hybrid's built on them) are written for the
    synthetic population's columns; on a real table it needs its own over the table's
    columns (the family names the parameter: ``synthetic_default``).
    """
    param = model_class(spec.family, spec.kind or DEFAULT_KIND[spec.family]).synthetic_default
    if real_table and param is not None and param not in spec.params:
        return (f"skipped: expert rules are written for the synthetic population; give "
                f"params.{param} over this table's columns to run it")
    return None


@dataclass(frozen=True)
class BuiltModel:
    """A model of the study before its data: the spec, the validated unfitted estimator
    (on the run's score scale), how it is tuned, and why it is skipped (if it is)."""

    spec: ModelSpec
    estimator: BaseEstimator
    tuning: TuningPlan | None
    #: An ensemble selection in a tuned study: seeded on each fold as the families'
    #: searches are, so that it reuses their searches of that fold.
    fold_seed: int | None
    skipped: str | None


def build_models(specs: Sequence[ModelSpec], *, scale: ScoreScale, tuning: Tuning | None,
                 threshold: float | None, seed: int, age_column: str | None,
                 real_table: bool) -> list[BuiltModel]:
    """Every spec built and checked once, before any data: a repeated name, an unknown
    family, kind or parameter, a bad value, a search space without tuning, a mitigation
    variant that cannot see its sensitive column: one :class:`ConfigError` line naming
    every model's problem (the first ``MAX_PROBLEMS``)."""
    names = [m.name for m in specs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    problems = []
    if duplicates:
        problems.append(f"models: names must be unique; repeated: {', '.join(duplicates)}")
    built = []
    for spec in specs:
        try:
            built.append(_built(spec, scale=scale, tuning=tuning, threshold=threshold,
                                seed=seed, age_column=age_column, real_table=real_table))
        except ConfigError as exc:
            problems.append(str(exc))
    if problems:
        raise ConfigError(problems_line(problems))
    return built


def _built(spec: ModelSpec, *, scale: ScoreScale, tuning: Tuning | None,
           threshold: float | None, seed: int, age_column: str | None,
           real_table: bool) -> BuiltModel:
    """One spec built and checked (see :func:`build_models`)."""
    estimator = build_model(spec)
    own = {param: getattr(scale, field)  # its deliverable table on the run's scale
           for param, field in estimator.scale_params.items()}
    estimator.set_params(**{k: v for k, v in own.items() if k not in spec.params})
    if spec.family == "mitigation":
        sensitive = mitigation_sensitive(spec, age_column)
        if sensitive not in spec.use_protected:
            raise ConfigError(f"model '{spec.name}': a mitigation variant needs its "
                              f"sensitive attribute as an input: list '{sensitive}' in "
                              "its use_protected")
    plan = _tuning_plan(spec, estimator, tuning, threshold, seed)
    ensemble = tuning is not None and "budget" in estimator.get_params(deep=False)
    return BuiltModel(spec, estimator, plan, seed if ensemble else None,
                      skip_reason(spec, real_table))


def require_models(specs: Sequence[ModelSpec]) -> None:
    """A study compares at least one model (drawing a population needs none)."""
    if not specs:
        raise ConfigError("models: the config lists no models; add at least one "
                          "(see configs/default.yaml)")


def _tuning_plan(spec: ModelSpec, estimator: BaseEstimator, tuning: Tuning | None,
                 threshold: float | None, seed: int) -> TuningPlan | None:
    """How ``spec`` is tuned (None: not searched); an ensemble gets the study's budget."""
    if tuning is None:
        if spec.search_space:
            raise ConfigError(f"model '{spec.name}': search_space is given but "
                              "evaluation.tuning is not set; add evaluation.tuning: "
                              "{budget: N} or remove search_space")
        return None
    if "budget" in estimator.get_params(deep=False):  # ensemble selection tunes inside
        if spec.search_space:
            raise ConfigError(f"model '{spec.name}': search_space does not apply to an "
                              "ensemble (its candidates are tuned with evaluation.tuning; "
                              "params.spaces sets a candidate's space)")
        tune_ensemble(estimator, tuning, spec.params, threshold)
        return None
    if spec.family == "mitigation":
        return None
    overrides = {k: v.model_dump() for k, v in (spec.search_space or {}).items()}
    return plan_for(spec.name, estimator, tuning, overrides, seed, threshold)


def table_sized(estimator: BaseEstimator, spec: ModelSpec, n_rows: int) -> dict[str, Any]:
    """The parameters ``estimator`` takes from a table of ``n_rows`` rows: its family's
    ``sized_params`` that its config does not set (tuples as lists, as a config writes
    them)."""
    sized = getattr(type(estimator), "sized_params", None)
    own = estimator.get_params(deep=False)
    return {k: list(v) if isinstance(v, tuple) else v
            for k, v in (sized(n_rows) if sized else {}).items()
            if k in own and k not in spec.params}


def prepare_models(built: Sequence[BuiltModel], schema: Schema, *, age_column: str | None,
                   n_rows: int | None = None) -> tuple[list[PreparedModel], dict[str, str]]:
    """Each runnable model with its input columns (a fresh clone of its estimator; a
    mitigation variant equalises the population's own age column), and why the others
    are skipped. With ``n_rows`` (a table's rows) each takes the parameters sized to it
    that its config does not set (:func:`table_sized`)."""
    require_models([b.spec for b in built])
    models, skipped = [], {}
    for b in built:
        if b.skipped is not None:
            skipped[b.spec.name] = b.skipped
            continue
        estimator = clone(b.estimator)
        if b.spec.family == "mitigation":
            own = {"sensitive": mitigation_sensitive(b.spec, age_column),
                   "protected": tuple(schema.with_role("protected"))}
            estimator.set_params(**{k: v for k, v in own.items() if k not in b.spec.params})
        sized = table_sized(estimator, b.spec, n_rows) if n_rows is not None else {}
        if sized:
            estimator.set_params(**{k: tuple(v) if isinstance(v, list) else v
                                    for k, v in sized.items()})
        models.append(PreparedModel(b.spec, estimator, model_inputs(schema, b.spec, age_column),
                                    b.tuning, b.fold_seed, sized,
                                    n_rows))
    if not models:
        raise ConfigError("models: every model was skipped on this population ("
                          + "; ".join(f"{k}: {v}" for k, v in skipped.items()) + ")")
    return models, skipped
