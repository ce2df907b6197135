"""What every section of the report shares: the run, the model order and looks, the
figures to draw and the full tables to write beside the report.

Sections read the run only through this object, so facts such as "is the population
synthetic" or "which attributes were audited" are decided once, from the run itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from scorelab.report import plots
from scorelab.report.blocks import fmt, get
from scorelab.runs.reader import RunData

__all__ = ["TABLES_DIR", "ReportContext"]

#: Folder of the run directory that holds the report's full tables as CSV.
TABLES_DIR = "tables"


@dataclass
class ReportContext:
    """The run being reported and what the sections add to it while they are built."""

    run: RunData
    figures: dict[str, Callable[[], str]] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict)  # read or computed once per report

    def __post_init__(self) -> None:
        self.order = self.run.model_names  # best AUC first, the leaderboard's order
        self.styles = plots.Styles(self.order)
        board = self.run.leaderboard.set_index("model")
        self.board = board
        self.legend = {m: f"{m} (AUC {fmt(board.at[m, 'auc'])})" for m in self.order}

    # ----------------------------------------------------------------- facts of the run

    @property
    def synthetic(self) -> bool:
        return self.run.study.population.source == "synthetic"

    @property
    def truth(self) -> bool:
        """True risk is known (synthetic population): truth-based analyses exist."""
        return self.run.study.population.truth

    @property
    def people(self) -> str:
        """What the report calls the people it scores: the seed paper's citizens on a
        synthetic population, applicants on a lender's table."""
        return "citizens" if self.synthetic else "applicants"

    @property
    def society_scale(self) -> bool:
        """Whether the seed paper's social-credit society scale is shown
        (``report.society_scale``; null: on a synthetic population only)."""
        asked = get(self.run.config, "report", "society_scale")
        return self.synthetic if asked is None else bool(asked)

    @property
    def min_group_size(self) -> int | None:
        """The audit's suppression rule: a group of fewer is withheld everywhere."""
        value = get(self.fairness, "thresholds", "min_group_size")
        return int(value) if value is not None else None

    def withheld(self, n: Any) -> bool:
        """Whether a group of ``n`` people is withheld under the audit's rule."""
        limit = self.min_group_size
        try:
            return limit is not None and float(n) < limit
        except (TypeError, ValueError):
            return False

    @property
    def population_words(self) -> str:
        pop = self.run.study.population
        if pop.source == "synthetic":
            return f"{pop.n_citizens:,} synthetic citizens"
        name = Path(pop.table).name if pop.table else "given as a data frame"
        return f"{pop.n_citizens:,} rows of the table '{name}'"

    @property
    def fairness(self) -> dict[str, Any] | None:
        return self.run.fairness

    def fair_models(self) -> dict[str, dict[str, Any]]:
        """fairness.json's per-model entries in the report's model order."""
        models = get(self.fairness, "models", default={}) or {}
        return {m: models[m] for m in self.order if isinstance(models.get(m), dict)}

    @property
    def attributes(self) -> list[str]:
        """The attributes (and intersections) the audit grouped citizens by."""
        groups = self.run.fairness_by_group
        if groups is not None and len(groups):
            return [str(a) for a in dict.fromkeys(groups["attribute"].astype(str))]
        return []

    @property
    def age_column(self) -> str | None:
        return get(self.fairness, "thresholds", "age_attribute")

    @property
    def age_edges(self) -> list[float]:
        """The lower edges of the audit's age bands (``fairness.age_bands``)."""
        return [float(e) for e in get(self.run.config, "fairness", "age_bands", default=[])]

    def ages(self) -> pd.Series:
        """Every citizen's age by citizen_id (the age column alone, read once)."""
        if "ages" not in self.cache:
            column = self.age_column
            frame = pd.read_parquet(self.run.run_dir / "population.parquet",
                                    columns=["citizen_id", column])
            self.cache["ages"] = frame.set_index("citizen_id")[column]
        return self.cache["ages"]

    @property
    def four_fifths(self) -> float:
        return float(get(self.fairness, "thresholds", "four_fifths", default=0.8))

    def policy_flags(self, model: str, direct: bool) -> list[dict[str, Any]]:
        """The audit's policy flags of a model: its protected or prohibited inputs
        (``direct``) or the inputs carrying a protected attribute's weight."""
        flags = get(self.fairness, "policy_flags", default=[]) or []
        return [f for f in flags if isinstance(f, dict) and f.get("model") == model
                and (f.get("check") == "direct_input") == direct]

    def role(self, model: str) -> str:
        return next((m.role for m in self.run.study.models if m.name == model), "original")

    def metric(self, model: str, column: str) -> Any:
        board = self.board
        return board.at[model, column] if column in board.columns and \
            model in board.index else None

    # ----------------------------------------------------------------- outputs

    def add_figure(self, key: str, make: Callable[[], str]) -> str:
        self.figures[key] = make
        return key

    def add_table(self, name: str, frame: pd.DataFrame) -> str:
        """Keep a full table to write as ``tables/<name>.csv``; returns its path."""
        self.tables[name] = frame
        return f"{TABLES_DIR}/{name}.csv"
