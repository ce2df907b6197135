"""``population``: the synthetic population's causes and shares, or a table on disk."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Discriminator, Field, Tag, field_validator, model_validator

from scorelab.config.base import _Section, cross_error

__all__ = ["MAX_AGE", "MIN_AGE", "POPULATION_KINDS", "SYNTHETIC_PROTECTED", "AgeProxyCause",
           "Causes", "DataSource", "Demographics", "EventCause", "FamilyFriendsCause",
           "LabelBiasCause", "LabelBiasGroup", "LegitimateAgeEffect", "PopulationConfig",
           "SyntheticPopulation", "TablePopulation", "ThinFilesCause", "protected_attributes"]

#: The ages a person can have: age bands and a table's age column stay within them.
MIN_AGE, MAX_AGE = 0, 130
#: The synthetic population's protected attributes (its schema's protected columns).
SYNTHETIC_PROTECTED = ("age", "sex", "minority", "region")


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
            raise cross_error(f"population.drift: {self.drift:g} needs population.months "
                               "of at least 2 (the drift runs from the first month to the "
                               "last)")
        return self


DataSource = Literal["administrative", "personal", "business", "organisation", "webspace"]


class TablePopulation(_Section):
    """Bring your own table: a text (CSV, TSV), Parquet or Excel file of applicants with a
    known outcome (``scorelab init TABLE`` writes a commented config for one)."""

    source: Literal["table"] = Field(description="Citizens come from a table on disk.")
    path: Path | None = Field(None, description="The table: a text file (.csv, .tsv, .txt, "
                              "each also compressed: .gz, .bz2, .zip, .xz), a Parquet file or "
                              "a folder of Parquet files with the same columns, or an Excel "
                              "workbook (.xlsx, .xlsm; the excel extra). Relative paths: to "
                              "the config file. Null only when the table is given as a "
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
    delimiter: str | None = Field(
        None, description="Field delimiter of a text table (CSV, TSV, TXT; one character, "
        "e.g. ';', '|' or \"\\t\" for a tab); null: sniffed from the file's first lines "
        "among comma, semicolon, tab and bar. Not used for Parquet or Excel.")
    sheet: str | None = Field(
        None, min_length=1, description="Excel workbook (.xlsx, .xlsm; needs the excel "
        "extra): the sheet to read, by name (null: the first sheet).")
    bad_rows: Literal["error", "drop"] = Field(
        "error", description="A text table's rows whose number of fields differs from "
        "the header's (a stray delimiter shifts every later value one column): error "
        "(refused in one line naming the first of them) or drop (read without them; the "
        "data card counts and lists them).")
    findings: Literal["warn", "error"] = Field(
        "warn", description="Data-quality findings (implausible ages or negative amounts, "
        "extreme tails, identifier-like, constant or near-constant columns, duplicated "
        "rows, a feature that alone predicts the target, an extreme default rate): warn "
        "(one line each in the data card, the report and the command's output) or error "
        "(the first is refused in one line, nothing runs; the --strict option sets it).")

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, delimiter: str | None) -> str | None:
        if delimiter is not None and (len(delimiter) != 1 or delimiter in "\"\r\n"):
            raise ValueError(f"population.delimiter must be one character such as ',', ';', "
                             f"'|' or a tab (written \"\\t\" in YAML); got {delimiter!r}")
        return delimiter

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
PopulationConfig = Annotated[
    Annotated[SyntheticPopulation, Tag("synthetic")] | Annotated[TablePopulation, Tag("table")],
    Discriminator(_population_tag,
                  custom_error_type="population_source",
                  custom_error_message="population.source must be 'synthetic' or 'table'"),
]


def protected_attributes(population: SyntheticPopulation | TablePopulation) -> list[str]:
    """The protected attributes a population has (a table: population.protected)."""
    if isinstance(population, TablePopulation):
        return list(population.protected)
    return list(SYNTHETIC_PROTECTED)
