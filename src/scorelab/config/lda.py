"""``lda``: the search for less discriminatory alternatives (``scorelab lda``)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator, model_validator

from scorelab.config.base import MAX_SEED, _Section

__all__ = ["Lda"]


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
