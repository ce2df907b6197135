"""Checks of a population against what the config asks of it, before any model is
fitted: the audit's attributes and the columns each model names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from scorelab.config import ExperimentConfig, Fairness, age_attribute, excerpt
from scorelab.data.synthetic import Population
from scorelab.exceptions import ConfigError, DataError

__all__ = ["audited_columns", "check_audited_values", "check_model_columns", "row_list"]

_ROWS_SHOWN = 5


def audited_columns(fairness: Fairness) -> list[str]:
    """Every attribute the audit groups citizens by (alone or in an intersection)."""
    return list(dict.fromkeys([*fairness.attributes,
                               *(a for group in fairness.intersections for a in group)]))


def row_list(mask: np.ndarray) -> str:
    """The rows where ``mask`` holds, for a message: 'rows 3, 17 (2 of 40)'.

    Rows count from 1 (the first applicant), as the table's own citizen ids do without
    an id column; at most a few are listed, the count says how many there are.
    """
    mask = np.asarray(mask, dtype=bool)
    rows = np.flatnonzero(mask) + 1
    shown = ", ".join(str(int(r)) for r in rows[:_ROWS_SHOWN])
    more = ", ..." if rows.size > _ROWS_SHOWN else ""
    return f"row{'s' if rows.size > 1 else ''} {shown}{more} ({rows.size:,} of {mask.size:,})"


def check_audited_values(fairness: Fairness, population: Population) -> None:
    """Raise :class:`DataError` (one line naming the column and rows) for an audited
    attribute the population lacks or never knows, or with missing values when
    ``fairness.missing_protected`` is ``error``."""
    if not fairness.enabled:
        return
    frame = population.frame
    where = population.meta.get("path", "the population")
    for column in audited_columns(fairness):
        if column not in frame.columns:
            raise DataError(f"fairness.attributes: '{column}' is not a column of '{where}'; "
                            f"its protected columns: "
                            f"{', '.join(population.schema.with_role('protected')) or 'none'}")
        missing = frame[column].isna().to_numpy()
        if missing.all():
            raise DataError(f"protected column '{column}' of '{where}' has no known value "
                            f"({missing.size} rows missing); fill it, or remove it from "
                            "population.protected and fairness")
        if missing.any() and fairness.missing_protected == "error":
            raise DataError(f"protected column '{column}' of '{where}' has {int(missing.sum())}"
                            f" missing value(s) ({row_list(missing)}) and fairness."
                            "missing_protected is error; fill or remove those rows, or set "
                            "missing_protected: group (their own group) or drop (left out "
                            "of the audit)")


def monotone_tables(node: Any, path: str = "params") -> list[tuple[str, Mapping[str, Any]]]:
    """(dotted key, mapping) of every ``monotone_constraints`` mapping in a params tree,
    also inside a hybrid's components."""
    found: list[tuple[str, Mapping[str, Any]]] = []
    items = (node.items() if isinstance(node, Mapping) else
             enumerate(node) if isinstance(node, list) else ())
    for key, value in items:
        if key == "monotone_constraints" and isinstance(value, Mapping):
            found.append((f"{path}.{key}", value))
        elif key not in ("rules", "factors", "weights"):
            found.extend(monotone_tables(value, f"{path}.{key}"))
    return found


def check_model_columns(config: ExperimentConfig, population: Population) -> None:
    """Raise :class:`ConfigError` for a column a model names that it cannot use on this
    population (``drop_features``, ``use_protected``, a monotone constraint): found now,
    not by the first fit (a raw ValueError) or after validation said "ok"."""
    from scorelab.protocol import model_inputs  # (it imports every model family)

    age_column = age_attribute(config)
    for spec in config.models:
        inputs = model_inputs(population.schema, spec, age_column)
        for where, constraints in monotone_tables(spec.params):
            unknown = [str(c) for c in constraints if c not in inputs]
            if unknown:
                shown = ", ".join(excerpt(c) for c in inputs[:12])
                more = f", ... ({len(inputs) - 12} more)" if len(inputs) > 12 else ""
                raise ConfigError(f"model '{excerpt(spec.name)}': {where}.{excerpt(unknown[0])}: "
                                  f"'{excerpt(unknown[0])}' is not an input of this model "
                                  f"(inputs: {shown}{more})")


def check_explain_budget(config: ExperimentConfig, population: Population) -> None:
    """The sampling explainer needs ``explain.max_evals`` >= one permutation of a
    model's inputs (2k + 1 evaluations): a wide table must say so before fitting, not
    fail after every model was trained."""
    from scorelab.models.registry import build_model
    from scorelab.protocol import model_inputs  # (it imports every model family)

    if not config.explain.enabled:
        return
    age_column = age_attribute(config)
    for spec in config.models:
        if getattr(build_model(spec), "explainer", "agnostic") != "agnostic":
            continue  # explained exactly (rules, linear, trees): no sampling budget
        k = len(model_inputs(population.schema, spec, age_column))
        if config.explain.max_evals < 2 * k + 1:
            raise ConfigError(f"explain.max_evals: {config.explain.max_evals} is below one "
                              f"permutation of model '{excerpt(spec.name)}''s {k} inputs; "
                              f"set it to at least {2 * k + 1}")
