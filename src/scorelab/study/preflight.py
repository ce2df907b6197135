"""The checks before any fit: what needs both the config and the data.

The model list itself is checked when the plan is built (:mod:`scorelab.study.plan`);
here, once the population is known: the audited attributes and their missing values,
the columns each model names (dropped features, protected inputs, monotone
constraints), every rule table's columns and values, and the sampling explainer's
budget for each model's inputs. Each mistake is one line naming the key and what is
valid, before any work.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from scorelab.config import Explain, Fairness
from scorelab.core.messages import excerpt, row_list
from scorelab.data.synthetic import Population
from scorelab.engine import BuiltModel, model_inputs
from scorelab.exceptions import ConfigError, DataError

__all__ = ["audited_columns", "check_audited_values", "check_explain_budget",
           "check_model_columns", "check_rule_values", "monotone_tables"]

#: Column-keyed parameters: never searched for monotone constraints.
_COLUMN_KEYED = ("rules", "factors", "weights")


def audited_columns(fairness: Fairness) -> list[str]:
    """Every attribute the audit groups citizens by (alone or in an intersection)."""
    return list(dict.fromkeys([*fairness.attributes,
                               *(a for group in fairness.intersections for a in group)]))


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
        elif key not in _COLUMN_KEYED:
            found.extend(monotone_tables(value, f"{path}.{key}"))
    return found


def _shown(values: Sequence[str]) -> str:
    values = [excerpt(v) for v in values]
    return ", ".join(values[:12]) + (f", ... ({len(values) - 12} more)" if len(values) > 12
                                     else "")


def check_model_columns(models: Sequence[BuiltModel], population: Population,
                        age_column: str | None) -> None:
    """Raise :class:`ConfigError` for a column a model names that it cannot use on this
    population (``drop_features``, ``use_protected``, a monotone constraint): found now,
    not by the first fit (a raw ValueError) or after validation said "ok"."""
    for model in models:
        spec = model.spec
        inputs = model_inputs(population.schema, spec, age_column)
        for where, constraints in monotone_tables(spec.params):
            unknown = [str(c) for c in constraints if c not in inputs]
            if unknown:
                raise ConfigError(f"model '{excerpt(spec.name)}': {where}.{excerpt(unknown[0])}: "
                                  f"'{excerpt(unknown[0])}' is not an input of this model "
                                  f"(inputs: {_shown(inputs)})")


def check_rule_values(models: Sequence[BuiltModel], population: Population,
                      age_column: str | None) -> None:
    """Every column of a given rule table is an input of its model, and every value it
    lists occurs in that column: a rule that can never fire is a typo (or a YAML 1.1
    ``yes`` read as true), found before any fitting. The family says where its rule
    tables are (``rule_tables``)."""
    for model in models:
        spec = model.spec
        tables = type(model.estimator).rule_tables(spec.params)
        if not tables:
            continue
        inputs = model_inputs(population.schema, spec, age_column)
        for key, rules in tables:
            for column, rule in rules.items():
                where = f"model '{spec.name}': {key}.{column}"
                if column not in inputs:
                    raise ConfigError(f"{where}: '{column}' is not an input of this model "
                                      f"(inputs: {_shown(inputs)})")
                if isinstance(rule, Mapping):
                    _check_rule_keys(where, population.frame[column], list(rule))


def _check_rule_keys(where: str, column: pd.Series, keys: list[Any]) -> None:
    """Rule keys match as the expert matches them: text for categories, numbers else."""
    known = column.dropna()
    if isinstance(column.dtype, pd.CategoricalDtype) or not \
            pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        values = sorted({str(v) for v in known.unique()})
        unmatched = [k for k in keys if str(k) not in values]
    else:
        values = [f"{v:g}" for v in sorted(known.unique())]
        numbers = set(known.astype(float))

        def as_number(k: Any) -> float | None:
            try:
                return None if isinstance(k, bool) else float(k)
            except (TypeError, ValueError):
                return None
        unmatched = [k for k in keys if as_number(k) not in numbers]
    if unmatched:
        raise ConfigError(f"{where}: {unmatched[0]!r} is not a value of column "
                          f"'{column.name}', so the rule never fires (its values: "
                          f"{_shown(values)})")


def check_explain_budget(models: Sequence[BuiltModel], explain: Explain,
                         population: Population, age_column: str | None) -> None:
    """The sampling explainer needs ``explain.max_evals`` >= one permutation of a
    model's inputs (2k + 1 evaluations): a wide table must say so before fitting, not
    fail after every model was trained."""
    if not explain.enabled:
        return
    for model in models:
        if model.estimator.explainer != "agnostic":
            continue  # explained exactly (additive, linear, trees): no sampling budget
        k = len(model_inputs(population.schema, model.spec, age_column))
        if explain.max_evals < 2 * k + 1:
            raise ConfigError(f"explain.max_evals: {explain.max_evals} is below one "
                              f"permutation of model '{excerpt(model.spec.name)}''s {k} "
                              f"inputs; set it to at least {2 * k + 1}")
