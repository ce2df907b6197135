"""The run directory's written format: every artifact, its typed model and its columns.

A run directory is a contract between the study and everything after it (the report,
``explain``, ``score``, ``compare``): each JSON artifact has a pydantic model here and
each Parquet artifact a column list with dtypes. The writer validates every artifact
against its model before it is written and :func:`scorelab.runs.load_run` validates it
again on load, so a field can never drift between the two. ``FORMAT_VERSION`` is bumped
on any change of this module.

Layout (``<run>/``)::

    manifest.json            Manifest: format_version, status, seed, versions, timings
    config.resolved.yaml     the config with every default filled in
    study.json               StudyInfo: scale, decision rule, model roles and inputs
    data_card.json / .md     the population's data card
    population.parquet       the study's citizens (schema in the Parquet metadata)
    predictions.parquet      PREDICTIONS: citizen x model x repeat, out of fold
    metrics.json             Metrics: accuracy with intervals, paired tests, practice
                             (decision policies, costs, stability)
    leaderboard.csv          one row per model (LEADERBOARD)
    explanations.parquet     EXPLANATIONS: the audit sample's SHAP values (optional)
    importance.json          Importance: importance, agreement, additivity (optional)
    fairness.json            FairnessReport: verdicts, age analyses, policy (optional)
    fairness_by_group.parquet FAIRNESS_BY_GROUP (optional)
    validity.json            Validity: the age analyses against the planted truth
                             (synthetic populations only; optional)
    tuning.json              TuningReport: budget, chosen parameters per fold (optional)
    adverse_action.json      AdverseAction: reason methods, codes, recourse, fidelity
    adverse_reasons.parquet  ADVERSE_REASONS: up to four reasons per declined citizen
    recourse.parquet         RECOURSE: each declined citizen's counterfactual
    age_rule.json            AgeRule: Regulation B's age rule per model (all optional)
    models/<name>/           ModelManifest (model.json), final.skops, folds/r0f0.skops..,
                             card.json + card.md, and the family's deliverable tables
                             (CSV, listed in model.json: a scorecard's points_table.csv
                             and binning.csv, an expert's rules.csv, ...)
    report.html / .md / .json  the report (report.formats chooses which; listed)
    tables/*.csv             the report's full tables (rewritten with the report; not
                             listed in the manifest, like any rendering of the run)
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["EXPLANATIONS", "FAIRNESS_BY_GROUP", "FORMAT_VERSION", "JSON_ARTIFACTS",
           "LEADERBOARD", "OPTIONAL_ARTIFACTS", "PARQUET_ARTIFACTS", "PREDICTIONS",
           "REQUIRED_ARTIFACTS", "FairnessReport", "Importance", "InputColumn", "Manifest",
           "Metrics", "ModelCard", "ModelInfo", "ModelManifest", "ScaleInfo", "StudyInfo",
           "TuningReport", "Validity", "AdverseAction", "AgeRule", "ADVERSE_REASONS",
           "RECOURSE", "SCREENS", "SCREEN_BELOW", "SCREEN_NOT_ASSESSED", "SCREEN_PASS",
           "SCREEN_SIGNIFICANT"]

#: Version of this format; a reader refuses any other. 4: explainer kind ``additive``
#: (was ``rules``), model.json lists its deliverable tables.
FORMAT_VERSION = 4

Role = Literal["original", "ablation", "mitigation"]
Number = float | None  # JSON policy: a missing or undefined number is null, never NaN


class _Artifact(BaseModel):
    """An artifact: strict keys (a typo or a stale field is an error), frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Manifest(_Artifact):
    """What the run is, how it was made and what it holds."""

    format_version: int = Field(description="Version of the run-directory format.")
    status: Literal["complete"] = Field(description="Only complete runs are published.")
    run_id: str
    created: str = Field(description="UTC time the run was published (ISO 8601).")
    seed: int
    config_hash: str
    command: str
    versions: dict[str, str]
    data_fingerprint: str = Field(description="Content hash of the population table.")
    n_citizens: int
    models: list[str] = Field(description="Models that ran, in config order.")
    timings_seconds: dict[str, float]
    artifacts: list[str] = Field(description="Every file of the run, relative paths.")


class ScaleInfo(_Artifact):
    """Probability -> points -> category, as the study used it."""

    name: str
    pdo: float
    base_score: float
    base_odds: float
    factor: float = Field(description="Points per unit of log-odds (pdo / ln 2).")
    low: float
    high: float
    bands: list[tuple[float, str]]


class DecisionInfo(_Artifact):
    """The decision rule; each model's own cut-off is in metrics.json."""

    rule: Literal["cutoff", "approval_rate", "cost"]
    cutoff_score: Number
    target_approval_rate: Number


class ModelInfo(_Artifact):
    """One model of the study: what it is, what it saw, what part it plays."""

    name: str
    family: str
    kind: str
    role: Role
    inputs: list[str]
    dropped_features: list[str]
    params: dict[str, Any]


class PopulationInfo(_Artifact):
    source: Literal["synthetic", "table"]
    n_citizens: int
    target: str
    truth: bool = Field(description="Truth columns (true_pd, true_default) are present.")
    table: str | None = None


class StudyInfo(_Artifact):
    """What every reader needs to know of the study, so none re-parses the config."""

    name: str
    title: str
    population: PopulationInfo
    scale: ScaleInfo
    decision: DecisionInfo
    society_classes: dict[str, str]
    models: list[ModelInfo]
    skipped_models: dict[str, str]
    folds: int
    repeats: int
    compute: dict[str, Any] | None = Field(
        None, description="How the models trained: on the Dask backend the cluster, "
        "workers, partitions and how each model trained; on this machine (backend: local) "
        "which models trained on a seeded sample (compute.sample_size) when any fit had "
        "more training citizens; null = this machine, every model on every row.")


class ModelMetrics(_Artifact):
    family: str
    kind: str
    role: Role
    inputs: list[str]
    observed: dict[str, Number]
    intervals: dict[str, list[Number]]
    decision: dict[str, float | int]
    per_fold_auc: list[Number]
    true_outcome: dict[str, Number] | None = None
    oracle_ratio: Number = None
    society_scale: list[dict[str, Any]]


class Metrics(_Artifact):
    models: dict[str, ModelMetrics]
    n_citizens: int
    default_rate: float
    comparison_to_best: list[dict[str, Any]]
    fold_ranks: dict[str, Any]
    fold_auc: list[dict[str, Any]]
    oracle: dict[str, Number] | None = None
    skipped_models: dict[str, str]
    truth_analyses: str | None = None
    practice: dict[str, Any] | None = Field(
        None, description="Decision policies (fixed cut-off, matched approval rate, "
        "cost-minimising cut-offs chosen on training folds), expected costs with "
        "intervals, cost curves, and score and input stability between training and "
        "test folds (scorelab.evaluate.practice).")


class Importance(_Artifact):
    scale: str
    models: dict[str, dict[str, Any]]
    agreement: dict[str, Any]
    true_drivers: dict[str, float] | None
    additivity: dict[str, dict[str, Any]]
    explain_seconds: dict[str, float]
    n_citizens: int


#: The four-fifths screen of a disparity row of fairness.json (``screen``), worst first:
#: a ratio below the screen is significant or not after Holm across models and
#: attributes (see ``scorelab.fairness.screen``).
SCREEN_SIGNIFICANT = "fail (significant)"
SCREEN_BELOW = "below the screen, not significant"
SCREEN_PASS = "pass"
SCREEN_NOT_ASSESSED = "not assessed"
SCREENS = (SCREEN_SIGNIFICANT, SCREEN_BELOW, SCREEN_PASS, SCREEN_NOT_ASSESSED)


class FairnessReport(_Artifact):
    thresholds: dict[str, Any]
    definitions: dict[str, str]
    models: dict[str, dict[str, Any]]
    proxy_audit: list[dict[str, Any]]
    policy_flags: list[dict[str, Any]]
    shap_by_age_band: list[dict[str, Any]] | None = None
    label_cut_sweep: dict[str, Any] | None = None
    matched_rate: dict[str, Any] | None = Field(
        None, description="Disparities when every model approves the same share "
        "(scorelab.fairness.matched).")


class InputColumn(_Artifact):
    """One input of a saved model: its type and, for a category, the values it knows."""

    name: str
    dtype: Literal["numeric", "integer", "category", "boolean"]
    pandas_dtype: str = Field(description="The column's pandas dtype in training (a scored "
                              "table is cast back to it).")
    categories: list[str | int | float | bool] | None = Field(
        None, description="The values a categorical input knew in training, in their type.")
    source: str
    nullable: bool = Field(description="Training had missing values in this column; if "
                           "not, a missing value in a scored table is refused.")


class ModelManifest(_Artifact):
    """How to load and use one saved model (like MLflow's MLmodel file)."""

    name: str
    family: str
    kind: str
    role: Role
    format: Literal["skops"]
    final: str | None = Field(description="The model refitted on every citizen.")
    folds: dict[str, str] = Field(description="'r<repeat>f<fold>' -> file of that fold model.")
    boosters: list[str] = Field(description="LightGBM native text copies of the boosters.")
    inputs: list[InputColumn]
    cutoff_score: float
    explainer: str
    training_fingerprint: str
    deliverables: list[str] = Field(
        default_factory=list, description="The family's deliverable tables beside the "
        "model (CSV file names in this folder: a scorecard's points and binning tables, "
        "an expert's rules, ...).")


class ModelCard(_Artifact):
    """The model card: what a reader of one model needs before trusting it."""

    name: str
    family: str
    kind: str
    role: Role
    description: str
    parameters: dict[str, Any]
    inputs: list[dict[str, str]]
    training_data: dict[str, Any]
    out_of_fold_metrics: dict[str, Number]
    fairness_verdicts: dict[str, str]
    intended_use: str
    limits: list[str]


class Validity(_Artifact):
    """The run's age analyses checked against what the population model planted."""

    scenario: str
    checks: list[dict[str, Any]]
    by_analysis: list[dict[str, Any]]
    n_checks: int
    n_passed: int
    n_failed: int


class TuningReport(_Artifact):
    """How every model was tuned: the shared budget, each model's status (tuned,
    ensemble or untuned and why), its space and the parameters chosen per outer fold."""

    enabled: bool = Field(description="evaluation.tuning was set.")
    budget: int | None
    inner_folds: int | None
    metric: str | None
    sampler: str
    models: dict[str, dict[str, Any]]


class AdverseAction(_Artifact):
    """Adverse-action reasons of the audit sample's declined citizens, per model: the
    ranking method, first reasons, recourse, fidelity to the truth and agreement."""

    max_reasons: int
    methods: dict[str, str]
    catalogue: str
    codes: dict[str, dict[str, Any]] = Field(description="input -> code, reason, actionable.")
    barred: dict[str, str] = Field(description="input -> protected | prohibited.")
    truth: bool = Field(description="Fidelity measured against the population's truth.")
    models: dict[str, dict[str, Any]]
    agreement: list[dict[str, Any]]
    policy_flags: list[dict[str, Any]]


class AgeRule(_Artifact):
    """Regulation B's age rule: the elderly's age contribution per model."""

    elderly_age: float | None
    age_attribute: str | None
    groups: list[str]
    proxies: list[str]
    models: dict[str, dict[str, Any]]
    note: str | None = None
    interval_level: float | None = None  # of each margin's bootstrap interval
    bootstrap: int | None = None  # replicates behind it (0: no interval)


JSON_ARTIFACTS: dict[str, type[_Artifact]] = {
    "manifest.json": Manifest, "study.json": StudyInfo, "metrics.json": Metrics,
    "importance.json": Importance, "fairness.json": FairnessReport,
    "validity.json": Validity, "tuning.json": TuningReport,
    "adverse_action.json": AdverseAction, "age_rule.json": AgeRule,
}

# Parquet artifacts: column -> dtype kind ("i" int, "f" float, "b" bool, "O" text or
# category). Optional columns are listed in the second mapping.
PREDICTIONS = ({"citizen_id": "i", "model": "O", "family": "O", "kind": "O", "repeat": "i",
                "fold": "i", "p_default": "f", "score": "f", "category": "O",
                "approved": "b", "defaulted": "i"},
               {"true_default": "i", "cutoff": "f"})
EXPLANATIONS = ({"citizen_id": "i", "model": "O", "family": "O", "feature": "O",
                 "source": "O", "value": "O", "shap": "f", "base_value": "f", "output": "f",
                 "method": "O"}, {})
FAIRNESS_BY_GROUP = ({"model": "O", "outcome": "O", "attribute": "O", "group": "O",
                      "metric": "O", "value": "f", "ci_low": "f", "ci_high": "f", "n": "i",
                      "suppressed": "b"}, {})
POPULATION = ({"citizen_id": "i"}, {})
ADVERSE_REASONS = ({"citizen_id": "i", "model": "O", "rank": "i", "code": "O", "feature": "O",
                    "reason": "O", "value": "O", "gap": "f", "shap": "f", "method": "O"}, {})
RECOURSE = ({"citizen_id": "i", "model": "O", "found": "b", "change": "O", "cost": "f",
             "new_score": "f"},
            {"status": "O", "best_score": "f", "bound": "f"})  # found | none | undecided
PARQUET_ARTIFACTS = {"predictions.parquet": PREDICTIONS,
                     "explanations.parquet": EXPLANATIONS,
                     "fairness_by_group.parquet": FAIRNESS_BY_GROUP,
                     "population.parquet": POPULATION,
                     "adverse_reasons.parquet": ADVERSE_REASONS,
                     "recourse.parquet": RECOURSE}
LEADERBOARD = ("model", "family", "kind", "auc")

#: Deliverable tables a model folder may hold (CSV).

REQUIRED_ARTIFACTS = ("manifest.json", "config.resolved.yaml", "study.json", "metrics.json",
                      "leaderboard.csv", "predictions.parquet", "population.parquet",
                      "data_card.json")
OPTIONAL_ARTIFACTS = ("explanations.parquet", "importance.json", "fairness.json",
                      "validity.json", "tuning.json", "adverse_action.json",
                      "adverse_reasons.parquet", "recourse.parquet", "age_rule.json",
                      "fairness_by_group.parquet")
