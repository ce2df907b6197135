"""The registry: one list of family classes, and everything read from it.

:data:`FAMILY_CLASSES` is the only place that lists the families. Each class describes
itself (:class:`~scorelab.models.base.ScorelabClassifier`: family, kind, description,
explainer, persisted types, parameter bounds, test settings), and from the list come
the config's family and kind names (:data:`FAMILIES`, :data:`DEFAULT_KIND`), the bounds
the config checks (:func:`param_maxima`), the types a saved model may hold
(:func:`trusted_types`), the model cards' descriptions and the common tests
(:func:`all_estimators`). Adding a family is a class and one line here.

``build_model(spec)`` turns a model spec (anything with ``family``, ``kind``, ``name``
and ``params``, such as :class:`scorelab.config.ModelSpec`) into an unfitted estimator
and reports every mistake (unknown family or kind, unknown parameter, bad value) as one
:class:`ConfigError` line, by the class's own checks of its values (no data needed).

Components of the hybrids may be written in a config as a family name or
``"family/kind"`` string, or as a mapping ``{family, kind, params}``: ``first_stage``
and ``expert`` take one, ``estimators`` (stacking, HCES-Bag) a list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from scorelab.core.messages import excerpt, one_line
from scorelab.exceptions import ConfigError
from scorelab.models.base import ScorelabClassifier, check_params
from scorelab.models.ebm import ExplainableBoostingFamily
from scorelab.models.ensemble import EnsembleSelectionHybrid
from scorelab.models.expert import SesameScore, SuiningPoints
from scorelab.models.hybrid import ExpertBoostHybrid, StackingHybrid, YimMitchellHybrid
from scorelab.models.logit import LogitScorecard
from scorelab.models.mitigation import ReductionsMitigator, ThresholdMitigator
from scorelab.models.neural import MLPFamily
from scorelab.models.trees import LightGBMFamily, RandomForestFamily

__all__ = ["DEFAULT_KIND", "FAMILIES", "FAMILY_CLASSES", "ModelRequest", "all_estimators",
           "build_model", "catalogue", "model_class", "param_maxima", "trusted_types"]

#: Every family scorelab can compare, in the order catalogues list them.
FAMILY_CLASSES: tuple[type[ScorelabClassifier], ...] = (
    SuiningPoints, SesameScore, LogitScorecard, LightGBMFamily, RandomForestFamily,
    MLPFamily, YimMitchellHybrid, ExpertBoostHybrid, StackingHybrid, EnsembleSelectionHybrid,
    ReductionsMitigator, ThresholdMitigator, ExplainableBoostingFamily,
)


def catalogue(classes: Sequence[type[ScorelabClassifier]]
              ) -> tuple[dict[str, dict[str, type[ScorelabClassifier]]], dict[str, str]]:
    """``family -> kind -> class`` and ``family -> default kind`` of ``classes``; a class
    that does not describe itself, a repeated ``family/kind`` or a family without exactly
    one default kind is a TypeError (a developer's mistake, raised at import)."""
    families: dict[str, dict[str, type[ScorelabClassifier]]] = {}
    defaults: dict[str, str] = {}
    for cls in classes:
        missing = [a for a in ("family", "kind", "description")
                   if not getattr(cls, a, "") or getattr(cls, a) == "base"]
        if missing:
            raise TypeError(f"{cls.__name__} does not set {', '.join(missing)}")
        kinds = families.setdefault(cls.family, {})
        if cls.kind in kinds:
            raise TypeError(f"{cls.family}/{cls.kind} is registered twice "
                            f"({kinds[cls.kind].__name__} and {cls.__name__})")
        kinds[cls.kind] = cls
        if cls.default_kind:
            if cls.family in defaults:
                raise TypeError(f"family {cls.family} has two default kinds: "
                                f"{defaults[cls.family]} and {cls.kind}")
            defaults[cls.family] = cls.kind
    without = sorted(set(families) - set(defaults))
    if without:
        raise TypeError(f"family {without[0]} has no default kind (set default_kind on one)")
    return families, defaults


FAMILIES, DEFAULT_KIND = catalogue(FAMILY_CLASSES)


def model_class(family: str, kind: str) -> type[ScorelabClassifier]:
    """The class registered as ``family/kind``."""
    return FAMILIES[family][kind]


def param_maxima(classes: Sequence[type[ScorelabClassifier]] = FAMILY_CLASSES
                 ) -> dict[str, int]:
    """Every bounded parameter of ``classes`` and its upper bound (one bound per name:
    two families bounding the same parameter differently is a TypeError)."""
    out: dict[str, int] = {}
    for cls in classes:
        for name, bound in cls.param_maxima.items():
            if out.setdefault(name, bound) != bound:
                raise TypeError(f"{cls.__name__} bounds {name} at {bound:,}; another family "
                                f"at {out[name]:,}")
    return dict(sorted(out.items()))


def trusted_types(classes: Sequence[type[ScorelabClassifier]] = FAMILY_CLASSES
                  ) -> tuple[str, ...]:
    """The types a saved model may hold: every family class and what it persists."""
    own = {f"{cls.__module__}.{cls.__qualname__}" for cls in classes}
    return tuple(sorted(own.union(*(cls.persisted_types for cls in classes))))


# --------------------------------------------------------------------------- build_model


class ModelSpecLike(Protocol):
    """What :func:`build_model` reads of a spec (:class:`scorelab.config.ModelSpec`)."""

    family: str
    kind: str | None
    name: str
    params: Mapping[str, Any]


@dataclass(frozen=True)
class ModelRequest:
    """A model asked for outside a config (a hybrid's component, a search candidate)."""

    family: str
    name: str
    kind: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)


#: Parameters that hold estimators: the config may give them as specs (see module doc).
_COMPONENT_PARAMS = {"first_stage", "expert"}
_COMPONENT_LIST_PARAMS = {"estimators"}
_COMPONENT_KEYS = ("family", "kind", "name", "params")


def build_model(spec: ModelSpecLike) -> ScorelabClassifier:
    """An unfitted estimator for ``spec``; every mistake is a one-line ConfigError."""
    family, name = spec.family, spec.name
    if family not in FAMILIES:
        raise ConfigError(f"model '{name}': unknown family '{family}'; valid: "
                          f"{', '.join(FAMILIES)}")
    kind = spec.kind or DEFAULT_KIND[family]
    kinds = FAMILIES[family]
    if kind not in kinds:
        raise ConfigError(f"model '{name}': unknown kind '{kind}' for family '{family}'; "
                          f"valid: {', '.join(kinds)}")
    cls = kinds[kind]
    where = f"{family}/{kind}"
    valid = sorted(cls().get_params(deep=False))
    params = dict(spec.params)
    for key in params:
        if key not in valid:
            raise ConfigError(f"model '{name}': unknown parameter '{key}' for {where}; "
                              f"valid: {', '.join(valid)}")
    for key in _COMPONENT_PARAMS & params.keys():
        params[key] = _component(params[key], f"{name}.{key}")
    for key in _COMPONENT_LIST_PARAMS & params.keys():
        params[key] = _component_list(params[key], f"{name}.{key}")
    try:
        estimator = cls(**params)
        check_params(estimator)
    except ConfigError:
        raise
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"model '{name}': invalid parameter value for {where}: "
                          f"{one_line(exc)}; parameters given: "
                          f"{', '.join(sorted(params)) or 'none'}") from None
    return estimator


def _component(value: Any, name: str) -> Any:
    """A component given as "family", "family/kind" or {family, kind, params}."""
    if isinstance(value, str):
        family, _, kind = value.partition("/")
        return build_model(ModelRequest(family, name, kind or None)) \
            if family in FAMILIES else _bad_component(value, name)
    if isinstance(value, Mapping):
        if "family" not in value:
            _bad_component(value, name)
        unknown = sorted(str(k) for k in value if k not in _COMPONENT_KEYS)
        if unknown:
            raise ConfigError(f"model '{name}': invalid component spec: unknown key "
                              f"'{excerpt(unknown[0])}'; valid keys: "
                              f"{', '.join(_COMPONENT_KEYS)}")
        params = value.get("params") or {}
        kind = value.get("kind")
        if not isinstance(params, Mapping) or not isinstance(kind, str | None):
            raise ConfigError(f"model '{name}': invalid component spec: kind must be text "
                              f"and params a mapping; got {excerpt(dict(value))}")
        return build_model(ModelRequest(str(value["family"]), str(value.get("name") or name),
                                        kind, dict(params)))
    if value is None or hasattr(value, "fit"):
        return value
    return _bad_component(value, name)


def _component_list(value: Any, name: str) -> Any:
    if value is None:
        return None
    if isinstance(value, str | Mapping) or not hasattr(value, "__iter__"):
        raise ConfigError(f"model '{name}': must be a list of components (each a family, "
                          f"'family/kind' or {{family, kind, params}}); got {value!r}")
    out = []
    for i, item in enumerate(value):
        if isinstance(item, tuple) and len(item) == 2:  # already (name, estimator)
            out.append(item)
            continue
        if isinstance(item, Mapping):
            label = item.get("name") or "_".join(
                str(item[k]) for k in ("family", "kind") if item.get(k))
        elif isinstance(item, str):
            label = item.replace("/", "_")
        else:
            label = ""
        label = str(label or f"base{i}")
        if label in {n for n, _ in out}:
            label = f"{label}_{i}"
        out.append((label, _component(item, f"{name}[{i}]")))
    return out


def _bad_component(value: Any, name: str) -> Any:
    raise ConfigError(f"model '{name}': a component must be a family name "
                      f"({', '.join(FAMILIES)}), 'family/kind' or a mapping with "
                      f"family, kind and params; got {value!r}")


# --------------------------------------------------------------------------- all_estimators


def all_estimators(classes: Sequence[type[ScorelabClassifier]] = FAMILY_CLASSES
                   ) -> list[tuple[str, ScorelabClassifier]]:
    """Every registered class as ``("family/kind", instance)`` with its own small, fast
    test settings (:meth:`~scorelab.models.base.ScorelabClassifier.test_params`)."""
    return [(f"{cls.family}/{cls.kind}", cls(**cls.test_params())) for cls in classes]
