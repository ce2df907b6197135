"""``models``: the families to compare, each a family, a kind and its parameters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field, field_validator, model_validator

from scorelab.config.base import _Section, cross_error
from scorelab.core.messages import excerpt
from scorelab.models.neural import MAX_HIDDEN_LAYERS, MAX_LAYER_UNITS
from scorelab.models.registry import FAMILIES, param_maxima
from scorelab.models.tuning import SearchRange

__all__ = ["MAX_HIDDEN_LAYERS", "MAX_LAYER_UNITS", "PARAM_MAXIMA", "ModelSpec", "SearchRange"]


#: Documented upper bounds of the model parameters that set how much work a fit does,
#: wherever they appear (also inside a hybrid's components): a bigger value is refused
#: when the config is validated, instead of a run that never ends. Each family declares
#: its own (``param_maxima``). (Values too small or of the wrong type are each
#: estimator's own check, when the model is built.)
PARAM_MAXIMA: dict[str, int] = param_maxima()
#: Parameters keyed by column names, not parameter names: never searched for bounds.
_COLUMN_KEYED = frozenset({"rules", "factors", "weights", "monotone_constraints"})


class ModelSpec(_Section):
    """One model of the study: a family, a variant name and its parameters."""

    family: str = Field(
        description="Forecasting family: one of the registered families (expert, logit, "
        "trees, neural, hybrid, mitigation, and any family added to scorelab.models."
        "registry; `scorelab render-config --schema` lists them with their kinds).",
        json_schema_extra={"enum": list(FAMILIES),
                           "kinds": {f: list(kinds) for f, kinds in FAMILIES.items()}})
    name: str = Field(min_length=1, description="Unique name of this variant in the study.")
    kind: str | None = Field(
        None, description="Which model of the family (null: the family's default kind)."
    )
    params: dict[str, Any] = Field(
        default_factory=dict, description="Hyper-parameters passed to the estimator. Those "
        "that set how much work a fit does are bounded wherever they appear (also in a "
        "hybrid's components), each by its family (scorelab.config.PARAM_MAXIMA holds "
        "them all, e.g. n_estimators and max_iter at most 100,000); hidden_layer_sizes at "
        f"most {MAX_HIDDEN_LAYERS} layers of at most {MAX_LAYER_UNITS:,} units."
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

    @field_validator("family")
    @classmethod
    def _registered(cls, family: str) -> str:
        if family not in FAMILIES:
            raise ValueError(f"'{excerpt(family)}' is not a family; valid: "
                             f"{', '.join(FAMILIES)}")
        return family

    @model_validator(mode="after")
    def _bounded(self) -> ModelSpec:
        """Every size-setting parameter within PARAM_MAXIMA, so a typo like 1.0e9 trees
        fails at validation instead of running until killed."""
        for path, value in _bounded_params(self.params, "params"):
            problem = _out_of_bounds(path.rsplit(".", 1)[-1], value)
            if problem:
                raise cross_error(f"model '{excerpt(self.name)}': {path} {problem}")
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
