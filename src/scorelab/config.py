"""The experiment config: YAML parsed into frozen pydantic models.

Unknown keys are rejected (a typo must never be silently ignored), every field
carries a description (shown by ``scorelab render-config --schema``), and a
``schema_version`` lets later versions upgrade old files.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from scorelab.exceptions import ConfigError

SCHEMA_VERSION = 1
#: Largest seed numpy and scikit-learn accept (2^32 - 1).
MAX_SEED = 2**32 - 1
#: User text quoted in a message is cut to this many characters.
EXCERPT_CHARS = 60


def excerpt(value: Any, limit: int = EXCERPT_CHARS) -> str:
    """``value`` as short one-line text for a message (text as is, others as repr), so
    that a 50 MB value gives a short error line, not a 50 MB one."""
    text = " ".join((value if isinstance(value, str) else repr(value)).split())
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"

Probability = float  # documented alias; bounds are set per field with ge/le


class _Section(BaseModel):
    # No NaN or infinity anywhere: a cut-off of .inf or a shift of .nan is a typo that
    # would otherwise surface after fitting, as a silent all-rejected or all-NaN result.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# --------------------------------------------------------------------------- population


class AgeProxyCause(_Section):
    """Credit-history length and employment years grow with age (paper, section 5)."""

    enabled: bool = Field(True, description="Plant the age proxy.")
    strength: float = Field(
        0.8,
        ge=0.0,
        le=1.0,
        description="Share of credit-history length and employment years driven by age "
        "(0 = independent of age, 1 = fully age-driven).",
    )


class ThinFilesCause(_Section):
    """The young have more missing business data."""

    enabled: bool = Field(True, description="Plant thin files for the young.")
    strength: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="Probability that an 18-year-old has no business file; decays with age.",
    )
    half_life_years: float = Field(
        5.0, gt=0.0, description="Years after 18 over which the thin-file probability halves."
    )


class EventCause(_Section):
    """Events (situational or health) that raise late payments but not true risk."""

    enabled: bool = Field(True, description="Let the events raise late payments.")
    rate: float = Field(0.15, ge=0.0, le=10.0, description="Mean events per citizen (Poisson).")
    strength: float = Field(
        0.6,
        ge=0.0,
        le=5.0,
        description="Log-multiplier of the late-payment rate per event (0 = no effect).",
    )


class FamilyFriendsCause(_Section):
    """Family and friends' scores that track the citizen's own reliability (homophily)."""

    enabled: bool = Field(True, description="Let family/friends' scores track reliability.")
    strength: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="Correlation of family/friends' scores with the citizen's reliability.",
    )


class LabelBiasGroup(_Section):
    """The group whose outcomes are recorded more harshly."""

    attribute: Literal["minority", "sex", "region", "young"] = Field(
        "minority",
        description="Protected attribute of the targeted group ('young' means age below "
        "young_below).",
    )
    value: str = Field(
        "minority",
        description="Value of the attribute that is targeted (minority: minority|majority; "
        "sex: female|male; region: urban|rural; young: ignored).",
    )
    young_below: float = Field(26.0, ge=18.0, le=80.0, description="Age limit for 'young'.")


class LabelBiasCause(_Section):
    """The observed outcome is recorded more harshly for one group than the truth."""

    enabled: bool = Field(True, description="Plant label bias.")
    flip_rate: float = Field(
        0.08,
        ge=0.0,
        le=1.0,
        description="Probability that a true non-defaulter of the targeted group is recorded "
        "as a defaulter.",
    )
    group: LabelBiasGroup = Field(
        default_factory=LabelBiasGroup, description="The targeted group."
    )


class LegitimateAgeEffect(_Section):
    """A real effect of youth on true risk, separate from any proxy."""

    enabled: bool = Field(True, description="Let youth raise true risk.")
    strength: float = Field(
        0.8,
        ge=0.0,
        le=5.0,
        description="Log-odds added to the true risk of an 18-year-old, fading linearly to "
        "0 at age 35.",
    )


class Causes(_Section):
    """The causes the seed paper names, each switchable with a strength."""

    age_proxy: AgeProxyCause = Field(default_factory=AgeProxyCause, description="Age proxies.")
    thin_files: ThinFilesCause = Field(
        default_factory=ThinFilesCause, description="Missing business data for the young."
    )
    situational_events: EventCause = Field(
        default_factory=EventCause,
        description="Natural disasters and accidents (suggestion 4): raise late payments only.",
    )
    health_events: EventCause = Field(
        default_factory=lambda: EventCause(rate=0.1, strength=0.5),
        description="Illness: raises late payments and insurance claims, not true risk.",
    )
    family_friends: FamilyFriendsCause = Field(
        default_factory=FamilyFriendsCause,
        description="Family and friends' scores (suggestions 2 and 6).",
    )
    label_bias: LabelBiasCause = Field(
        default_factory=LabelBiasCause, description="Harsher recording for one group."
    )
    legitimate_age_effect: LegitimateAgeEffect = Field(
        default_factory=LegitimateAgeEffect, description="A legitimate age effect on true risk."
    )


class Demographics(_Section):
    """Shares of the protected groups in the population."""

    female_share: float = Field(0.5, ge=0.0, le=1.0, description="Share of women.")
    minority_share: float = Field(0.15, ge=0.0, le=1.0, description="Share of the minority group.")
    rural_share: float = Field(0.35, ge=0.0, le=1.0, description="Share living in rural regions.")


class SyntheticPopulation(_Section):
    """A synthetic population drawn from scorelab's structural causal model."""

    source: Literal["synthetic"] = Field("synthetic", description="Where citizens come from.")
    n_citizens: int = Field(20_000, gt=0, le=50_000_000, description="Number of citizens.")
    true_default_rate: float = Field(
        0.2,
        gt=0.0,
        lt=1.0,
        description="Mean true default probability; the risk intercept is solved to hit it.",
    )
    risk_signal: float = Field(
        1.6,
        ge=0.0,
        le=5.0,
        description="Log-odds per standard deviation of latent reliability (sets the oracle AUC).",
    )
    demographics: Demographics = Field(
        default_factory=Demographics, description="Protected-group shares."
    )
    causes: Causes = Field(default_factory=Causes, description="The planted causes.")
    months: int = Field(
        0, ge=0, le=600, description="Application months the citizens are spread over "
        "(column application_month, 0 to months - 1; for evaluation.split: time). 0: no "
        "month column (the population is exactly as without this key).")
    drift: float = Field(
        0.0, ge=0.0, le=3.0, description="Drift of the causes over the months: by the last "
        "month the situational-event rate is multiplied by exp(drift) and debt-to-income "
        "by exp(drift / 2) (which raises true risk); 0 = no drift. Needs months >= 2.")

    @model_validator(mode="after")
    def _drift_needs_months(self) -> SyntheticPopulation:
        if self.drift > 0 and self.months < 2:
            raise _cross_error(f"population.drift: {self.drift:g} needs population.months "
                               "of at least 2 (the drift runs from the first month to the "
                               "last)")
        return self


DataSource = Literal["administrative", "personal", "business", "organisation", "webspace"]


class TablePopulation(_Section):
    """Bring your own table: a CSV or Parquet file of applicants with a known outcome."""

    source: Literal["table"] = Field(description="Citizens come from a table on disk.")
    path: Path | None = Field(None, description="CSV or Parquet file, or a folder of "
                              "Parquet files with the same columns (relative paths: to the "
                              "config file); null only when the table is given as a "
                              "DataFrame from Python (scorelab.run(config, population=df)).")
    target: str = Field(min_length=1, description="Column holding the outcome.")
    default_value: str | int | float | bool = Field(
        description="Value of the target column that means default (bad); every other "
        "value means no default."
    )
    protected: dict[str, Literal["age", "continuous", "categorical"]] = Field(
        default_factory=dict,
        description="Protected attributes and their kind: age (the column every age "
        "analysis follows, cut into fairness.age_bands; at most one), continuous (another "
        "number, audited in quintiles, or by value when it has at most 10) or categorical. A column named exactly 'age' and "
        "declared continuous is the age attribute too. Protected columns are never model "
        "inputs unless a model lists them in use_protected.",
    )
    drop: list[str] = Field(default_factory=list, description="Columns to ignore entirely.")
    categorical: list[str] | None = Field(
        None, description="Categorical columns (null: inferred from the column types)."
    )
    sources: dict[str, DataSource] = Field(
        default_factory=dict,
        description="Optional mapping column -> one of the paper's five data sources.",
    )
    id_column: str | None = Field(None, description="Column identifying applicants, if any.")
    date_column: str | None = Field(
        None, description="Column holding the application date (a date, or text such as "
        "2021-03-15); never a model input; orders applications for evaluation.split: time.")

    @field_validator("protected")
    @classmethod
    def _one_age(cls, protected: dict[str, str]) -> dict[str, str]:
        ages = [c for c, kind in protected.items() if kind == "age"]
        if len(ages) > 1:
            raise ValueError(f"at most one column can be the age attribute; {', '.join(ages)} "
                             "are all declared age (declare the others continuous)")
        return protected

    @property
    def age_column(self) -> str | None:
        """The age attribute: the column declared ``age``, else a continuous ``age``."""
        declared = [c for c, kind in self.protected.items() if kind == "age"]
        if declared:
            return declared[0]
        return "age" if self.protected.get("age") == "continuous" else None


def _population_tag(value: Any) -> str:
    """The population kind; a mapping without ``source`` is synthetic (the default)."""
    if isinstance(value, dict):
        return str(value.get("source", "synthetic"))
    return str(getattr(value, "source", "synthetic"))


POPULATION_KINDS: dict[str, type[BaseModel]] = {"synthetic": SyntheticPopulation,
                                                "table": TablePopulation}
Population = Annotated[
    Annotated[SyntheticPopulation, Tag("synthetic")] | Annotated[TablePopulation, Tag("table")],
    Discriminator(_population_tag,
                  custom_error_type="population_source",
                  custom_error_message="population.source must be 'synthetic' or 'table'"),
]

# --------------------------------------------------------------------------- models

ModelFamily = Literal["expert", "logit", "trees", "neural", "hybrid", "mitigation"]

#: Documented upper bounds of the model parameters that set how much work a fit does,
#: wherever they appear (also inside a hybrid's components): a bigger value is refused
#: when the config is validated, instead of a run that never ends. (Values too small or
#: of the wrong type are each estimator's own check, when the model is built.)
PARAM_MAXIMA: dict[str, int] = {
    "n_estimators": 100_000,
    "max_iter": 100_000,
    "num_leaves": 131_072,
    "max_depth": 1_000,
    "inner_folds": 100,
    "max_n_bins": 1_000,
    "max_n_prebins": 10_000,
    "grid_size": 100_000,
    "n_jobs": 1_024,
    "random_state": MAX_SEED,
}
#: ``hidden_layer_sizes``: at most this many layers of at most this many units.
MAX_HIDDEN_LAYERS, MAX_LAYER_UNITS = 10, 10_000
#: Parameters keyed by column names, not parameter names: never searched for bounds.
_COLUMN_KEYED = frozenset({"rules", "factors", "weights", "monotone_constraints"})


class SearchRange(_Section):
    """One searched parameter of a model: a range or a list of choices."""

    low: int | float | None = Field(None, description="Smallest value tried.")
    high: int | float | None = Field(None, description="Largest value tried.")
    log: bool = Field(False, description="Search the range on a log scale.")
    choices: list[Any] | None = Field(None, min_length=1, description="Values tried "
                                      "(instead of low/high).")

    @model_validator(mode="after")
    def _one_form(self) -> SearchRange:
        if self.choices is not None:
            if self.low is not None or self.high is not None:
                raise ValueError("give either choices or low/high, not both")
            return self
        if self.low is None or self.high is None:
            raise ValueError("give low and high (or choices)")
        if not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        if self.log and self.low <= 0:
            raise ValueError(f"a log range needs low > 0; got {self.low:g}")
        return self


class ModelSpec(_Section):
    """One model of the study: a family, a variant name and its parameters."""

    family: ModelFamily = Field(description="Forecasting family (the paper's four, plus hybrid).")
    name: str = Field(min_length=1, description="Unique name of this variant in the study.")
    kind: str | None = Field(
        None, description="Which model of the family (e.g. suining, sesame, lightgbm, forest)."
    )
    params: dict[str, Any] = Field(
        default_factory=dict, description="Hyper-parameters passed to the estimator. Those "
        "that set how much work a fit does are bounded wherever they appear (also in a "
        "hybrid's components): n_estimators and max_iter at most 100,000, num_leaves "
        "131,072, max_depth 1,000, inner_folds 100, max_n_bins 1,000, max_n_prebins "
        "10,000, grid_size 100,000, n_jobs 1,024, random_state 2^32-1, hidden_layer_sizes "
        "at most 10 layers of at most 10,000 units."
    )
    use_protected: list[str] = Field(
        default_factory=list,
        description="Protected attributes this variant may use as inputs (e.g. [age]).",
    )
    drop_features: list[str] = Field(
        default_factory=list,
        description="Feature columns this variant must not use (e.g. an ablation that drops "
        "age proxies).",
    )
    search_space: dict[str, SearchRange] | None = Field(
        None, description="evaluation.tuning: this model's search space instead of its "
        "family's, per parameter ({low, high, log} or {choices}); parameters not listed "
        "keep the family's range.")

    @model_validator(mode="after")
    def _bounded(self) -> ModelSpec:
        """Every size-setting parameter within PARAM_MAXIMA, so a typo like 1.0e9 trees
        fails at validation instead of running until killed."""
        for path, value in _bounded_params(self.params, "params"):
            problem = _out_of_bounds(path.rsplit(".", 1)[-1], value)
            if problem:
                raise _cross_error(f"model '{excerpt(self.name)}': {path} {problem}")
        return self


def _bounded_params(node: Any, path: str) -> list[tuple[str, Any]]:
    """(dotted path, value) of every bounded parameter in a params tree."""
    found: list[tuple[str, Any]] = []
    items = (node.items() if isinstance(node, Mapping) else
             enumerate(node) if isinstance(node, list) else ())
    for key, value in items:
        where = f"{path}.{key}"
        if key in PARAM_MAXIMA or key == "hidden_layer_sizes":
            found.append((where, value))
        elif key not in _COLUMN_KEYED:
            found.extend(_bounded_params(value, where))
    return found


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _out_of_bounds(name: str, value: Any) -> str | None:
    """What is wrong with a bounded parameter's value (None: nothing, or not a number or
    too small: the estimator's own checks)."""
    if name == "hidden_layer_sizes":
        return _layers_out_of_bounds([value] if _is_number(value) else value)
    if not _is_number(value) or value <= PARAM_MAXIMA[name]:
        return None
    return f"is {excerpt(value)}; at most {PARAM_MAXIMA[name]:,} (scorelab.config.PARAM_MAXIMA)"


def _layers_out_of_bounds(layers: Any) -> str | None:
    if not isinstance(layers, list):
        return None
    if len(layers) > MAX_HIDDEN_LAYERS:
        return (f"has {len(layers)} layers; at most {MAX_HIDDEN_LAYERS} are allowed "
                "(scorelab.config.MAX_HIDDEN_LAYERS)")
    big = [u for u in layers if _is_number(u) and u > MAX_LAYER_UNITS]
    return (f"has a layer of {big[0]:,} units; at most {MAX_LAYER_UNITS:,} per layer "
            "(scorelab.config.MAX_LAYER_UNITS)") if big else None


# --------------------------------------------------------------------------- the rest


class Tuning(_Section):
    """Nested hyper-parameter search: the same budget for every tunable family."""

    budget: int = Field(20, ge=1, le=10_000, description="Candidate configurations "
                        "evaluated per tunable model and outer fold (seeded Optuna TPE).")
    inner_folds: int = Field(3, ge=2, le=20, description="K of the inner stratified folds "
                             "of each outer training fold (the outer test fold is never "
                             "seen by the search).")
    metric: Literal["auc", "brier", "expected_cost"] = Field(
        "auc", description="What the search optimises; expected_cost uses decision.costs "
        "(else the cut-off as the break-even of the costs).")


class Evaluation(_Section):
    """The protocol every family is judged under."""

    folds: int = Field(5, ge=2, le=100, description="K of stratified K-fold.")
    repeats: int = Field(1, ge=1, le=100, description="Repeats of the K-fold split.")
    bootstrap: int = Field(
        200, ge=0, le=100_000, description="Bootstrap replicates for confidence intervals."
    )
    confidence: float = Field(0.95, gt=0.0, lt=1.0, description="Confidence level of intervals.")
    n_jobs: int = Field(2, ge=-1, le=1024,
                        description="Parallel jobs for families and folds (-1 = all).")
    tuning: Tuning | None = Field(
        None, description="Tune every family with a search space on inner folds of each "
        "training fold, with the same budget (null: every family with its fixed "
        "parameters).")
    split: Literal["kfold", "time"] = Field(
        "kfold", description="kfold: stratified folds of all citizens. time: out-of-time "
        "validation: the latest time_test_share of applications (by population.date_column "
        "on a table, application_month on the synthetic population) form one more fold, "
        "scored by models trained on all earlier applications; the earlier ones are "
        "cross-validated in folds as usual.")
    time_test_share: float = Field(
        0.2, gt=0.0, lt=1.0, description="split: time: share of the latest applications "
        "held out as the out-of-time fold.")


#: Built-in adverse-action reason catalogues (package data, one YAML file each).
REASON_CATALOGUES_DIR = Path(__file__).parent / "data" / "reasons"


def builtin_catalogues() -> list[str]:
    """Names of the built-in reason catalogues (``synthetic``, ``german_credit``, ...)."""
    return sorted(p.stem for p in REASON_CATALOGUES_DIR.glob("*.yaml"))


class ReasonEntry(_Section):
    """One input's adverse-action reason: its code, its text and how its value reads."""

    code: str = Field(min_length=1, max_length=20, description="Reason code (unique).")
    text: str = Field(min_length=1, max_length=200,
                      description="Plain-language reason an applicant reads.")
    actionable: bool = Field(False, description="The applicant can change it (a "
                             "counterfactual may suggest it); immutable inputs such as age "
                             "or history length are not.")
    unit: str = Field("", max_length=60, description="Unit of a number (e.g. 'years').")
    percent: bool = Field(False, description="A share 0-1 shown as a percentage.")
    labels: dict[str, str] = Field(default_factory=dict, description="Words for coded "
                                   "values (value as text -> label).")
    missing: str = Field("not on record", max_length=60, description="Words for a "
                         "missing value.")


class AdverseReasons(_Section):
    """Adverse-action reasons for declined applicants (ECOA / US Regulation B)."""

    enabled: bool = Field(True, description="Give declined applicants of the audit sample "
                          "their principal reasons, a counterfactual and the age rule.")
    max_reasons: int = Field(4, ge=1, le=4, description="Principal reasons per declined "
                             "applicant (Regulation B: no more than four).")
    catalogue: str | dict[str, ReasonEntry] = Field(
        "auto", description="Reason catalogue: 'auto' (the synthetic catalogue on the "
        "synthetic population, none on a table), the name of a built-in catalogue "
        "(synthetic, german_credit) or a mapping column -> {code, text, actionable, unit, "
        "percent, labels, missing}. An input without an entry gets code 'X-<column>', its "
        "name as text, and is not actionable.")
    counterfactuals: bool = Field(True, description="Search the smallest change of "
                                  "actionable inputs that turns each decline.")
    bootstrap_refits: int = Field(0, ge=0, le=20, description="Refits of each exact-"
                                  "explainer model on bootstrap samples of its first fold, "
                                  "to measure how stable the reasons are (Jaccard).")

    @field_validator("catalogue", mode="before")
    @classmethod
    def _entries(cls, value: Any) -> Any:
        """Each entry checked on its own, so a bad one is named by its column."""
        if not isinstance(value, Mapping):
            return value
        entries = {}
        for column, entry in value.items():
            try:
                entries[str(column)] = ReasonEntry.model_validate(entry)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(x) for x in first["loc"]) or "entry"
                raise ValueError(f"entry '{excerpt(column)}': {where}: {first['msg']} (an "
                                 "entry needs at least a code and a text)") from None
        return entries

    @field_validator("catalogue")
    @classmethod
    def _known_catalogue(cls, value: Any) -> Any:
        if isinstance(value, str) and value != "auto" and value not in builtin_catalogues():
            raise ValueError(f"catalogue '{excerpt(value)}' is not a built-in catalogue "
                             f"(valid: auto, {', '.join(builtin_catalogues())}, or a mapping "
                             "column -> {code, text})")
        if isinstance(value, Mapping):
            seen: dict[str, str] = {}
            for column, entry in value.items():
                if entry.code in seen:
                    raise ValueError(f"reason code '{excerpt(entry.code)}' is given to both "
                                     f"'{seen[entry.code]}' and '{column}'; codes must be "
                                     "unique")
                seen[entry.code] = column
        return value


class Explain(_Section):
    """SHAP explanations of every family."""

    enabled: bool = Field(True, description="Compute explanations.")
    sample_size: int = Field(
        2000, ge=1, le=1_000_000,
        description="Citizens explained by the exact explainers (audit sample)."
    )
    agnostic_sample_size: int = Field(
        300, ge=1, le=100_000,
        description="Citizens of the audit sample also explained by the model-agnostic "
        "explainer (neural and hybrid families); a nested subsample, the same for every "
        "family.",
    )
    background_size: int = Field(50, ge=1, le=10_000,
                                 description="Background sample for agnostic SHAP.")
    max_evals: int = Field(
        200, ge=10, le=100_000,
        description="Masked evaluations per citizen (agnostic explainer); each "
        "evaluation scores background_size rows."
    )
    reasons: AdverseReasons = Field(
        default_factory=AdverseReasons, description="Adverse-action reasons, "
        "counterfactuals and the age rule of lending law.")


#: The ages a person can have: age bands and a table's age column stay within them.
MIN_AGE, MAX_AGE = 0, 130
ProtectedName = Literal["age", "sex", "minority", "region"]
#: The synthetic population's protected attributes (its schema's protected columns).
SYNTHETIC_PROTECTED = ("age", "sex", "minority", "region")
PROHIBITED_BY_POLICY = ["family_score", "friends_avg_score", "health_events",
                        "situational_events"]


class Fairness(_Section):
    """Group fairness and the age audit."""

    enabled: bool = Field(True, description="Compute fairness metrics.")
    attributes: list[str] = Field(
        default_factory=lambda: list(SYNTHETIC_PROTECTED),
        description="Protected attributes to audit (the age attribute is cut into "
        "age_bands). Default: every protected attribute of the population (synthetic: "
        "age, sex, minority, region; a table: the columns of population.protected). Each "
        "must be one of them.",
    )
    intersections: list[list[str]] = Field(
        default_factory=lambda: [["age", "sex"]],
        description="Groups of two or more attributes audited jointly, e.g. [[age, sex]]. "
        "Default: [[age, sex]] on the synthetic population, none on a table.",
    )
    missing_protected: Literal["group", "drop", "error"] = Field(
        "group",
        description="Citizens with a missing value of an audited attribute: group (they "
        "form the group 'missing', reported and suppressed like any small group), drop "
        "(left out of that attribute's groups and of the age analyses; still scored) or "
        "error (the run stops before any fitting, naming the column and rows).",
    )
    reference_groups: dict[str, str] = Field(
        default_factory=dict,
        description="Reference group per attribute for differences and ratios "
        "(default: the largest group).",
    )
    age_bands: list[float] = Field(
        default_factory=lambda: [18, 26, 36, 51, 66],
        description="Lower edges of the age bands (default 18-25, 26-35, 36-50, 51-65, 66+).",
    )
    min_group_size: int = Field(50, ge=1, description="Smaller groups are suppressed.")
    four_fifths: float = Field(
        0.8, gt=0.0, le=1.0, description="Approval-rate ratio below which a group fails."
    )
    bootstrap: int = Field(
        200, ge=0, le=100_000, description="Bootstrap replicates for group-metric intervals."
    )
    cut_sweep: list[int] = Field(
        default_factory=lambda: [21, 35],
        description="First and last age cut of the young-vs-rest sweep (inclusive).",
    )
    twin_age_shift: float = Field(
        20.0, description="Years added to each audited citizen's age in the counterfactual "
        "twins (ages are clipped to 18-80).",
    )
    label_bias_refit: bool = Field(
        False, description="Synthetic populations: re-train every model on the true outcome "
        "(same folds) to measure how much label bias reaches its scores (doubles the fold "
        "fits when recorded and true outcomes differ). Off: the age-gap label part is the "
        "gap in the labels' default-rate log-odds, which the scores carry only as far as a "
        "model can see age.",
    )
    prohibited: list[str] = Field(
        default_factory=lambda: list(PROHIBITED_BY_POLICY),
        description="Inputs that must not count (suggestions 2, 4, 5, 6); protected "
        "attributes are always prohibited as direct inputs.",
    )
    shap_threshold: float = Field(
        0.02, ge=0.0, le=1.0,
        description="A prohibited input whose share of a family's mean |SHAP| exceeds this "
        "is flagged.",
    )

    @field_validator("age_bands")
    @classmethod
    def _increasing(cls, edges: list[float]) -> list[float]:
        if len(edges) < 2 or any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
            raise ValueError("age_bands must be at least two strictly increasing ages")
        if not (MIN_AGE <= edges[0] and edges[-1] <= MAX_AGE):
            raise ValueError(f"age_bands must be ages from {MIN_AGE} to {MAX_AGE}; got "
                             f"{edges[0]:g} to {edges[-1]:g}")
        return edges

    @field_validator("cut_sweep")
    @classmethod
    def _sweep(cls, cuts: list[int]) -> list[int]:
        if len(cuts) != 2 or not 18 < cuts[0] <= cuts[1] < 80:
            raise ValueError("cut_sweep must be [first, last] ages with 18 < first <= last < 80")
        return cuts


class DecisionCosts(_Section):
    """What a wrong decision costs (a right one costs nothing)."""

    false_accept: float = Field(gt=0.0, le=1e6, description="Cost of approving a defaulter.")
    false_reject: float = Field(gt=0.0, le=1e6, description="Cost of rejecting a good payer.")


class Decision(_Section):
    """How a score becomes an approval."""

    cutoff_score: float | None = Field(
        600.0, description="Approve citizens whose score is at least this (score scale)."
    )
    target_approval_rate: float | None = Field(
        None, gt=0.0, lt=1.0, description="Alternative to the cut-off: approve this share "
        "(then cutoff_score must be null or absent)."
    )
    policy: Literal["cutoff", "approval_rate", "cost"] | None = Field(
        None, description="Which rule decides the run's approvals: cutoff (cutoff_score), "
        "approval_rate (target_approval_rate) or cost (each fold's cost-minimising cut-off, "
        "chosen on its training citizens; needs costs). null: approval_rate when "
        "target_approval_rate is set, else cutoff. The other rules are reported beside it."
    )
    costs: DecisionCosts | None = Field(
        None, description="Misclassification costs, e.g. {false_accept: 5, false_reject: 1} "
        "(German credit's matrix): expected cost per applicant, the cost curve and the "
        "cost-minimising cut-offs are reported when set."
    )
    matched_approval_rate: float | None = Field(
        None, gt=0.0, lt=1.0, description="The share every model approves in the matched "
        "comparison (like-with-like fairness); null: target_approval_rate when set, else "
        "the observed share of good payers."
    )

    @model_validator(mode="before")
    @classmethod
    def _one_rule(cls, data: Any) -> Any:
        """One rule, never both (which would win was a silent guess); a target rate given
        alone replaces the default cut-off."""
        if isinstance(data, Mapping) and data.get("target_approval_rate") is not None:
            if data.get("cutoff_score") is not None:
                raise _cross_error(
                    f"decision: cutoff_score ({excerpt(data['cutoff_score'])}) and "
                    f"target_approval_rate ({excerpt(data['target_approval_rate'])}) are "
                    "both set; give one rule and set the other to null")
            data = {**data, "cutoff_score": None}
        return data

    @model_validator(mode="after")
    def _policy_has_its_rule(self) -> Decision:
        """The chosen policy has what it needs, and no rule of another policy is set."""
        if self.policy == "cost" and self.costs is None:
            raise _cross_error("decision.policy: cost needs decision.costs, e.g. "
                               "{false_accept: 5, false_reject: 1} (the cost of approving a "
                               "defaulter and of rejecting a good payer)")
        if self.policy == "approval_rate" and self.target_approval_rate is None:
            raise _cross_error("decision.policy: approval_rate needs "
                               "decision.target_approval_rate (the share to approve, e.g. 0.7)")
        if self.policy in ("cutoff", "cost") and self.target_approval_rate is not None:
            raise _cross_error(f"decision.policy: {self.policy} does not use "
                               f"target_approval_rate ({self.target_approval_rate:g}); set "
                               "policy: approval_rate, or remove target_approval_rate")
        return self


class Scale(_Section):
    """Probability -> points -> category."""

    preset: Literal["sesame", "suining"] = Field(
        "sesame", description="Score range and bands: sesame 350-950, suining 0-1000+ (A-D)."
    )
    pdo: float | None = Field(
        None, gt=0.0, description="Points to double the odds (good:bad); null = the preset's."
    )
    base_score: float | None = Field(
        None, description="Score at the base odds; null = the preset's."
    )
    base_odds: float | None = Field(
        None, gt=0.0, description="Good:bad odds that earn the base score; null = the preset's."
    )


class Report(_Section):
    """The rendered report."""

    formats: list[Literal["html", "md", "json"]] = Field(
        default_factory=lambda: ["html", "md", "json"], description="Report formats to write."
    )
    title: str = Field("scorelab study", description="Title of the report.")


class Output(_Section):
    """Where artifacts go."""

    runs_dir: Path = Field(Path("runs"), description="Parent folder of run directories.")
    save_models: Literal["final", "folds", "both", "none"] = Field(
        "both", description="Models saved under models/<name>/: the final model refitted on "
        "every citizen (scores new applicants), the fold models (score and explain any "
        "citizen of the run out of fold), both, or none.")


class Lda(_Section):
    """The search for less discriminatory alternatives (``scorelab lda``)."""

    reference: str | None = Field(
        None, description="The model whose disparity the search tries to reduce (a model "
        "name of models:); null = the first model. --reference overrides it.")
    attribute: str | None = Field(
        None, description="Protected attribute the search reduces disparity for; null = "
        "the age attribute. Disparity is reported for every audited attribute.")
    young_below: float = Field(
        26.0, ge=1.0, le=130.0, description="For the age attribute: the protected group is "
        "citizens younger than this; the rest is the comparison group.")
    tolerances: list[float] = Field(
        default_factory=lambda: [0.005, 0.01], min_length=1,
        description="Business-necessity tolerances: largest AUC loss against the reference "
        "(judged by a paired DeLong test) for which an alternative still serves the need.")
    alpha: float = Field(0.05, gt=0.0, lt=0.5, description="Level of the DeLong test and of "
                         "the simultaneous disparity intervals.")
    families: list[str] = Field(
        default_factory=lambda: ["logit/scorecard", "trees/lightgbm"], min_length=1,
        description="Families searched, as 'family/kind' (e.g. trees/lightgbm).")
    params: dict[str, dict[str, list[Any]]] = Field(
        default_factory=lambda: {"trees/lightgbm": {"num_leaves": [7, 15],
                                                    "n_estimators": [150, 300]}},
        description="Hyper-parameter grids per 'family/kind': parameter -> values tried.")
    proxies: list[str] | None = Field(
        None, description="Features dropped singly and together; null = the features whose "
        "proxy strength for the attribute reaches proxy_threshold (at most three).")
    proxy_threshold: float = Field(0.3, gt=0.0, le=1.0, description="Proxy strength "
                                   "(fairness proxy audit) from which a feature is an "
                                   "age proxy the search drops.")
    monotone: dict[str, int] = Field(
        default_factory=dict, description="Monotone constraints (column -> +1/-1) tried as "
        "a variant of the tree families; empty = no monotone variants.")
    mitigation: bool = Field(True, description="Also search fairlearn's exponentiated-"
                             "gradient variants (demographic parity on the attribute).")
    seeds: int = Field(3, ge=1, le=100, description="Random seeds per configuration "
                       "(model multiplicity).")
    budget: int = Field(60, ge=1, le=100_000, description="Most candidates trained. "
                        "--budget overrides it.")
    max_minutes: float | None = Field(None, gt=0.0, description="Stop the search after the "
                                      "batch during which this many minutes passed.")
    batch_size: int = Field(8, ge=1, le=1000, description="Candidates per batch; the "
                            "stopping rule is checked after each batch.")
    stop_bound: float = Field(
        0.01, gt=0.0, le=1.0, description="Stop once, with probability confidence, a further "
        "batch could reduce |1 - approval ratio| by at most this much.")
    confidence: float = Field(0.9, gt=0.0, lt=1.0, description="Probability with which the "
                              "stopping bound holds (over all checks of the search).")
    bootstrap: int = Field(200, ge=20, le=100_000, description="Bootstrap replicates of the "
                           "disparity intervals.")
    truth_seed: int | None = Field(None, ge=0, le=MAX_SEED, description="Seed of the fresh "
                                   "population of the truth check; null = seed + 1.")
    holdout: float = Field(0.3, gt=0.0, lt=0.9, description="Real tables: share of rows held "
                           "out of the search for the check.")

    @field_validator("tolerances")
    @classmethod
    def _tolerances(cls, values: list[float]) -> list[float]:
        if any(not 0.0 < v <= 0.5 for v in values):
            raise ValueError("tolerances must be AUC losses in (0, 0.5]")
        return sorted(set(values))

    @field_validator("monotone")
    @classmethod
    def _signs(cls, signs: dict[str, int]) -> dict[str, int]:
        bad = [k for k, v in signs.items() if v not in (-1, 1)]
        if bad:
            raise ValueError(f"monotone: the sign of '{bad[0]}' must be +1 or -1")
        return signs

    @model_validator(mode="after")
    def _grids(self) -> Lda:
        """An empty list of values would make the search space empty: refuse it here (a
        grid of the default params for a family not listed is simply not used)."""
        for key, grid in self.params.items():
            if key not in self.families and "params" in self.model_fields_set:
                raise ValueError(f"params: '{key}' is not one of lda.families "
                                 f"({', '.join(self.families)})")
            empty = [name for name, values in grid.items() if not values]
            if empty:
                raise ValueError(f"params.{key}.{empty[0]}: the list of values is empty, so "
                                 "the search space is empty; give at least one value")
        return self


#: Units of a memory size (compute.dask.memory_limit), in bytes.
_MEMORY_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
                 "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
#: A Dask worker below this much memory cannot hold a partition and LightGBM's data.
MIN_WORKER_MEMORY = 256 * 2**20


def memory_bytes(text: str) -> int:
    """``"2GiB"``, ``"512 MB"`` or ``"1e9"`` as bytes (ValueError naming the valid units)."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([a-z]*)\s*", text.lower())
    if not match or match.group(2) not in _MEMORY_UNITS:
        raise ValueError(f"{text!r} is not a memory size; give a number with a unit "
                         "(e.g. 2GiB, 512MiB, 4GB)")
    return int(float(match.group(1)) * _MEMORY_UNITS[match.group(2)])


class DaskCompute(_Section):
    """The Dask cluster of a ``backend: dask`` study."""

    address: str | None = Field(
        None, pattern=r"^(tcp|tls|inproc|ucx)://\S+$",
        description="Scheduler of a running cluster (tcp://host:port); null = scorelab "
        "starts a LocalCluster on this machine (loopback only) and stops it at the end.")
    connect_timeout: float = Field(5.0, gt=0.0, le=300.0, description="Seconds to wait for "
                                   "the scheduler at address before giving up.")
    n_workers: int = Field(2, ge=1, le=1024, description="Worker processes of the "
                           "LocalCluster.")
    threads_per_worker: int = Field(1, ge=1, le=256, description="Threads per worker.")
    memory_limit: str = Field("2GiB", description="Memory per worker of the LocalCluster "
                              "(e.g. 2GiB, 512MiB); at least 256MiB.")
    partitions: int | None = Field(
        None, ge=1, le=100_000, description="Partitions of the population (citizen-id "
        "ranges); null = two per worker.")
    @model_validator(mode="before")
    @classmethod
    def _moved_sample_size(cls, data: Any) -> Any:
        if isinstance(data, dict) and "sample_size" in data:
            raise ValueError("compute.dask.sample_size moved to compute.sample_size (it "
                             "applies on this machine too); write it there")
        return data

    @field_validator("memory_limit")
    @classmethod
    def _enough_memory(cls, value: str) -> str:
        if memory_bytes(value) < MIN_WORKER_MEMORY:
            raise ValueError(f"memory_limit {value!r} is too small; a worker needs at least "
                             "256MiB")
        return value


class Compute(_Section):
    """Where the study runs: this process (local) or a Dask cluster."""

    backend: Literal["local", "dask"] = Field(
        "local", description="local: this machine; dask: population, tree families and "
        "scoring on a Dask cluster (needs the extra: pip install 'scorelab[dask]').")
    sample_size: int | None = Field(
        50_000, ge=100, le=50_000_000, description="Families that gain little from more "
        "rows (scorecard binning, MLP, expert calibrators, hybrids, mitigation variants, "
        "the calibrated forest) train on a seeded sample of at most this many of each "
        "fold's training citizens and score every held-out citizen; LightGBM and the "
        "forest train on all of them. Below it nothing is sampled. null = every row.")
    dask: DaskCompute = Field(default_factory=DaskCompute, description="The Dask cluster.")


class RunLimits(_Section):
    """Resource guards of a run."""

    max_minutes: float | None = Field(
        None, gt=0.0, description="Stop the run (one line naming this key, nothing kept) once "
        "its wall time exceeds this many minutes; checked between stages and between fold "
        "fits. null = no limit.")


class ExperimentConfig(_Section):
    """A whole study: population, models, protocol, analyses and outputs."""

    schema_version: Literal[1] = Field(1, description="Version of this config schema.")
    name: str = Field(
        "study",
        min_length=1,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="Name of the study (letters, digits, _ . -); used in run directory names.",
    )
    seed: int = Field(0, ge=0, le=MAX_SEED, description="Seed of every random draw of the "
                      "study (0 to 2^32 - 1, numpy's range).")
    population: Population = Field(
        default_factory=SyntheticPopulation,
        description="The citizens: synthetic (source: synthetic) or a table (source: table).",
    )
    models: list[ModelSpec] = Field(default_factory=list, description="Models to compare.")
    evaluation: Evaluation = Field(default_factory=Evaluation, description="Protocol.")
    explain: Explain = Field(default_factory=Explain, description="Explanations.")
    fairness: Fairness = Field(default_factory=Fairness, description="Fairness audit.")
    decision: Decision = Field(default_factory=Decision, description="Decision rule.")
    scale: Scale = Field(default_factory=Scale, description="Score scale.")
    report: Report = Field(default_factory=Report, description="Report.")
    output: Output = Field(default_factory=Output, description="Output locations.")
    run: RunLimits = Field(default_factory=RunLimits, description="Resource guards of a run.")
    compute: Compute = Field(default_factory=Compute, description="Where the study "
                             "runs: local or on a Dask cluster.")
    lda: Lda = Field(default_factory=Lda, description="The search for less "
                     "discriminatory alternatives (scorelab lda).")

    @model_validator(mode="after")
    def _audited_attributes(self) -> ExperimentConfig:
        """A table audits its own protected columns by default, and never one it lacks."""
        table = isinstance(self.population, TablePopulation)
        fair = self.fairness
        unset = set(_DERIVED_FAIRNESS) - fair.model_fields_set
        if table and unset:
            values = {**dict(fair), **{k: _DERIVED_FAIRNESS[k](self.population)
                                       for k in unset}}
            fair = Fairness.model_construct(_fields_set=set(fair.model_fields_set), **values)
            object.__setattr__(self, "fairness", fair)  # frozen: set once, while validating
        _check_audited(fair, self.population)
        return self

    @model_validator(mode="after")
    def _time_split_has_dates(self) -> ExperimentConfig:
        """An out-of-time split needs the applications' dates."""
        if self.evaluation.split != "time":
            return self
        population = self.population
        if isinstance(population, TablePopulation) and population.date_column is None:
            raise _cross_error("evaluation.split: time needs population.date_column (the "
                               "column holding each application's date)")
        if isinstance(population, SyntheticPopulation) and population.months < 2:
            raise _cross_error("evaluation.split: time needs population.months of at least "
                               "2 (the synthetic application months)")
        return self

    @model_validator(mode="after")
    def _on_the_scale(self) -> ExperimentConfig:
        """The cut-off and the base score lie on the score scale: a cut-off of 5000 on a
        350-950 scale would silently reject everyone."""
        from scorelab.exceptions import DataError
        from scorelab.scale import scale_from_config

        try:
            scale = scale_from_config(self.scale)
        except DataError as exc:
            raise _cross_error(f"scale: {exc}") from None
        span = f"the {scale.name} scale runs from {scale.low:g} to {scale.high:g}"
        cutoff = self.decision.cutoff_score
        if cutoff is not None and not scale.low <= cutoff <= scale.high:
            raise _cross_error(f"decision.cutoff_score: {cutoff:g} is off the score scale "
                               f"({span}); give a score within it, or a "
                               "target_approval_rate instead")
        if not scale.low <= scale.base_score <= scale.high:
            raise _cross_error(f"scale.base_score: {scale.base_score:g} is off the score "
                               f"scale ({span})")
        return self

    def with_(self, overrides: Mapping[str, Any] | None = None, /,
              **kwargs: Any) -> ExperimentConfig:
        """A copy with some values changed, validated like a file.

        Keys are dotted paths (``{"population.n_citizens": 5000}``, ``"models.0.params.
        n_estimators"``); as keyword arguments, ``__`` stands for the dot
        (``population__n_citizens=5000``).

        Raises
        ------
        ConfigError
            One line naming the key that does not exist or the value that is not valid.
        """
        return apply_overrides(self, {**(overrides or {}), **kwargs})


#: Fairness keys whose default depends on the population (a table: its own columns).
_DERIVED_FAIRNESS: dict[str, Any] = {
    "attributes": lambda population: list(population.protected),
    "intersections": lambda population: [],
}


def protected_attributes(population: SyntheticPopulation | TablePopulation) -> list[str]:
    """The protected attributes a population has (a table: population.protected)."""
    if isinstance(population, TablePopulation):
        return list(population.protected)
    return list(SYNTHETIC_PROTECTED)


def age_attribute(config: ExperimentConfig) -> str | None:
    """The column every age analysis follows (None: the population has no age)."""
    if isinstance(config.population, TablePopulation):
        return config.population.age_column
    return "age"


def _cross_error(message: str) -> PydanticCustomError:
    return PydanticCustomError("cross_section", message)  # type: ignore[arg-type]


def _check_audited(fair: Fairness, population: SyntheticPopulation | TablePopulation) -> None:
    """Every audited attribute, intersection member and reference group is one the
    population has, so a misnamed one fails at validation, not after fitting."""
    valid = protected_attributes(population)
    where = ("population.protected declares: " + (", ".join(valid) or "none")
             if isinstance(population, TablePopulation)
             else "valid: " + ", ".join(valid))
    for name in fair.attributes:
        if name not in valid:
            raise _cross_error(f"fairness.attributes: '{name}' is not a protected attribute "
                               f"of the population ({where})")
    for group in fair.intersections:
        for name in group:
            if name not in valid:
                raise _cross_error(f"fairness.intersections: '{name}' (in {' x '.join(group)})"
                                   f" is not a protected attribute of the population ({where})")
        if len(set(group)) < 2:
            raise _cross_error(f"fairness.intersections: '{' x '.join(group)}' needs at least "
                               "two different attributes")
    audited = [*fair.attributes, *(a for g in fair.intersections for a in g)]
    names = {*audited, *(f"{a}_band" for a in audited)}
    for key in fair.reference_groups:
        if key not in names:
            shown = ", ".join(dict.fromkeys(audited)) or "none"
            raise _cross_error(f"fairness.reference_groups: '{key}' is not an audited "
                               f"attribute (audited: {shown})")


# --------------------------------------------------------------------------- loading


def load_config(path: str | Path, overrides: Mapping[str, Any] | None = None, /,
                **kwargs: Any) -> ExperimentConfig:
    """Read and validate a YAML config, with optional dotted overrides.

    Parameters
    ----------
    path : the YAML file.
    overrides, **kwargs : values that replace the file's, by dotted key
        (``{"population.n_citizens": 5000}``; as keywords, ``population__n_citizens``).

    Raises
    ------
    ConfigError
        One clear line: the file, the key and what would be valid.
    """
    config = _load_file(Path(path))
    changes = {**(overrides or {}), **kwargs}
    return apply_overrides(config, changes, source=f"{path} (with overrides)") if changes \
        else config


def apply_overrides(config: ExperimentConfig, overrides: Mapping[str, Any],
                    source: str = "config (with overrides)") -> ExperimentConfig:
    """``config`` with dotted-key ``overrides`` applied and validated again."""
    raw = config.model_dump(mode="json")
    touched = [str(k).replace("__", ".") for k in overrides]
    for key in set(_DERIVED_FAIRNESS) - config.fairness.model_fields_set:
        if not any(t.startswith(f"fairness.{key}.") for t in touched):
            raw["fairness"].pop(key)  # derived from the population: derive it again
    for key, value in overrides.items():
        _set_dotted(raw, str(key).replace("__", "."), value)
    _override_rule(raw, touched)
    return config_from_dict(raw, source=source)


def _override_rule(raw: dict[str, Any], touched: list[str]) -> None:
    """An override that sets one decision rule replaces the file's other rule: the
    command line wins, as everywhere, instead of "both rules set"."""
    decision = raw.get("decision")
    rules = ("cutoff_score", "target_approval_rate")
    if not isinstance(decision, dict):
        return
    for rule, other in (rules, rules[::-1]):
        if f"decision.{rule}" in touched and f"decision.{other}" not in touched \
                and decision.get(rule) is not None:
            decision[other] = None


def _set_dotted(raw: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    node: Any = raw
    for depth, part in enumerate(parts[:-1]):
        where = ".".join(parts[:depth + 1])
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ConfigError(f"override '{key}': '{where}' needs a list index "
                                  f"0-{len(node) - 1}")
            node = node[int(part)]
        elif isinstance(node, dict):
            if part not in node:
                raise ConfigError(f"override '{key}': unknown key '{where}'; valid keys here: "
                                  f"{', '.join(sorted(node))}")
            node = node[part]
        else:
            raise ConfigError(f"override '{key}': '{'.'.join(parts[:depth])}' is a value, "
                              "not a section")
        if node is None and depth < len(parts) - 2:
            raise ConfigError(f"override '{key}': '{where}' is empty (null); set it whole")
    last = parts[-1]
    if isinstance(node, list):
        if not last.isdigit() or int(last) >= len(node):
            raise ConfigError(f"override '{key}': the last part needs a list index "
                              f"0-{len(node) - 1}")
        node[int(last)] = value
    elif isinstance(node, dict):
        node[last] = value  # an unknown key is rejected by validation, naming valid keys
    else:
        raise ConfigError(f"override '{key}': '{'.'.join(parts[:-1])}' is a value, "
                          "not a section")


#: A config file is at most this big (the largest bundled one is a few kB).
MAX_CONFIG_BYTES = 1_000_000
#: A config holds at most this many values once its aliases are expanded: an "alias
#: bomb" (billion laughs) of a few lines would otherwise expand to billions.
MAX_CONFIG_VALUES = 100_000


class ConfigLoader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2 booleans: only true/false are booleans.

    Under YAML 1.1 ``yes``/``no``/``on``/``off`` are booleans, so a rule table
    ``Records: {yes: -100}`` would become ``{True: -100}`` and never match the value
    "yes"; here they stay text (a boolean field still accepts them: pydantic reads
    "yes" as true).

    Two more refusals: a key repeated in one mapping (PyYAML keeps the last one
    silently) and a document whose aliases expand to more than ``MAX_CONFIG_VALUES``.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> Any:
        _refuse_duplicate_keys(node)
        return super().construct_mapping(node, deep=deep)

    def get_single_data(self) -> Any:
        node = self.get_single_node()
        if node is None:
            return None
        _refuse_expansion(node)
        return self.construct_document(node)


class RefusedYAML(yaml.constructor.ConstructorError):
    """Valid YAML that a config must not be: a repeated key, an alias bomb."""


def _refuse_duplicate_keys(node: yaml.MappingNode) -> None:
    first: dict[tuple[str, str], int] = {}
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
            continue
        key = (key_node.tag, key_node.value)
        line = key_node.start_mark.line + 1
        if key in first:
            raise RefusedYAML(None, None, f"duplicate key '{excerpt(key_node.value)}' at line "
                              f"{line} (first at line {first[key]}); each key may appear once "
                              "in a section (YAML would silently keep the last)",
                              key_node.start_mark)
        first[key] = line


def _refuse_expansion(root: yaml.Node) -> None:
    """Count the values the document expands to (each alias as often as it is used),
    stopping as soon as there are too many, and refuse a recursive alias."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: yaml.Node) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        if id(node) in open_nodes:
            raise RefusedYAML(None, None, f"line {node.start_mark.line + 1}: an alias refers "
                              "to itself (a recursive value)", node.start_mark)
        open_nodes.add(id(node))
        children = ([c for pair in node.value for c in pair]
                    if isinstance(node, yaml.MappingNode) else
                    node.value if isinstance(node, yaml.SequenceNode) else [])
        total = 1
        for child in children:
            total += size(child)
            if total > MAX_CONFIG_VALUES:
                raise RefusedYAML(None, None, f"line {node.start_mark.line + 1}: the config "
                                  f"holds more than {MAX_CONFIG_VALUES:,} values once its "
                                  "aliases are expanded (an alias bomb?)", node.start_mark)
        open_nodes.discard(id(node))
        sizes[id(node)] = total
        return total

    size(root)


ConfigLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
ConfigLoader.add_implicit_resolver("tag:yaml.org,2002:bool",
                                   re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                   list("tTfF"))


def _load_file(path: Path) -> ExperimentConfig:
    """Read and validate a YAML config; raise :class:`ConfigError` with one clear line."""
    raw = _read_yaml(path)
    if raw is None:
        raise ConfigError(f"{path}: the config is empty; it needs at least a 'models:' list "
                          "(see configs/default.yaml)")
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections, got "
                          f"{type(raw).__name__}")
    if raw.get("models") == []:
        raise ConfigError(f"{path}: models: the list is empty; list at least one model "
                          "(see configs/default.yaml)")
    config = config_from_dict(raw, source=str(path))
    population = config.population
    if isinstance(population, TablePopulation) and population.path is not None \
            and not population.path.is_absolute():
        # a table path is relative to the config file, wherever the command runs from
        resolved = (path.parent / population.path).resolve()
        config = config.model_copy(update={"population": population.model_copy(
            update={"path": resolved})})
    return config


def _read_yaml(path: Path) -> Any:
    """The YAML document in ``path``, or one :class:`ConfigError` line saying why not."""
    if path.is_dir():
        raise ConfigError(f"config file '{path}' is a folder (give the path of a YAML file)")
    if not path.is_file():
        raise ConfigError(f"config file '{path}' not found (give the path of a YAML file)")
    size = path.stat().st_size
    if size > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: the file is {size / 1e6:,.1f} MB; a config is at most "
                          f"{MAX_CONFIG_BYTES / 1e6:g} MB (is it the right file?)")
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=ConfigLoader)  # noqa: S506
    except RefusedYAML as exc:
        raise ConfigError(f"{path}: {exc.problem}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None)
        raise ConfigError(f"{path}: not valid YAML{where}"
                          + (f": {excerpt(problem, 120)}" if problem else "")) from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid YAML: nested too deeply") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.__class__.__name__})") from None


def config_from_dict(raw: dict[str, Any], source: str = "config") -> ExperimentConfig:
    """Validate a mapping as an experiment config; raise :class:`ConfigError` on error."""
    try:
        return ExperimentConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {format_validation_error(exc)}") from None


#: Problems of one config listed in its error line at most.
MAX_PROBLEMS = 5


def format_validation_error(exc: ValidationError) -> str:
    """One line per problem, joined: the dotted key, what is wrong and what is valid."""
    parts = []
    for err in exc.errors():
        shown_loc = [p for i, p in enumerate(err["loc"])
                     if not (i > 0 and err["loc"][i - 1] == "population" and p in POPULATION_KINDS)]
        loc = ".".join(str(p) for p in shown_loc) or "(top level)"
        if err["type"] == "cross_section":  # the message names its own keys
            parts.append(err["msg"])
        elif err["type"] == "extra_forbidden":
            valid = _valid_keys(err["loc"][:-1])
            hint = f"; valid keys here: {', '.join(valid)}" if valid else ""
            parts.append(f"unknown key '{excerpt(loc)}'{hint}")
        else:
            got = err.get("input")
            shown = f" (got {excerpt(got)!r})" if isinstance(got, str) else \
                f" (got {excerpt(got)})" if not isinstance(got, dict | list) else ""
            parts.append(f"{excerpt(loc)}: {excerpt(err['msg'], 200)}{shown}")
    if len(parts) > MAX_PROBLEMS:
        parts[MAX_PROBLEMS:] = [f"... ({len(parts) - MAX_PROBLEMS} more problems)"]
    return "; ".join(parts)


def _valid_keys(loc: tuple[Any, ...]) -> list[str]:
    """Field names of the model found by walking ``loc`` from the top-level config."""
    model: Any = ExperimentConfig
    for part in loc:
        if isinstance(part, int):
            continue
        if part in POPULATION_KINDS and model is not ExperimentConfig:
            model = POPULATION_KINDS[part]
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        model = _model_of(field.annotation)
        if model is None:
            return []
    return list(getattr(model, "model_fields", {}))


def _model_of(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) is not None:
        for arg in get_args(annotation):
            found = _model_of(arg)
            if found is not None:
                return found
    return None


def dump_config(config: ExperimentConfig) -> str:
    """The fully resolved config as YAML, in field order."""
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False, allow_unicode=True)


def config_hash(config: ExperimentConfig) -> str:
    """A short, stable fingerprint of the resolved config."""
    import hashlib
    import json

    payload = json.dumps(config.model_dump(mode="json"), sort_keys=True).encode()
    return hashlib.sha256(payload).hexdigest()[:10]
