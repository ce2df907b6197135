"""The catalogue of families: family -> kind -> class, and ``build_model(spec)``.

``FAMILIES`` and ``DEFAULT_KIND`` describe what a config may name; ``build_model`` turns a
:class:`~scorelab.config.ModelSpec` into an unfitted estimator and reports every mistake
(unknown kind, unknown parameter, bad value) as one-line :class:`ConfigError`.

The classes live in their modules and are imported on first use (``FAMILIES`` is built
when first read), so this module imports even while a family module is being edited.

Parameter values are validated when the model is built, without data, by each class's
own explicit checks (``_validate_params_values`` for the expert, trees, neural, hybrid
and mitigation families, ``_validate_params_`` for the logit scorecard). A class
without such a hook falls back to a fit on 60 synthetic citizens, which runs its own
checks at a cost of a few milliseconds. Rules over columns a population lacks are not
an error at build time (a real table has its own columns); the fit lists them in
``ignored_rules_``.

Components of the hybrids may be written in a config as a family name or
``"family/kind"`` string, or as a mapping ``{family, kind, params}``:
``first_stage`` and ``expert`` take one, ``estimators`` (stacking) a list.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from scorelab.config import ModelSpec
from scorelab.exceptions import ConfigError

__all__ = ["DEFAULT_KIND", "FAMILIES", "all_estimators", "build_model", "model_class"]

# family -> kind -> "module:Class" (resolved lazily)
_CATALOGUE: dict[str, dict[str, str]] = {
    "expert": {"suining": "scorelab.models.expert:SuiningPoints",
               "sesame": "scorelab.models.expert:SesameScore"},
    "logit": {"scorecard": "scorelab.models.logit:LogitScorecard"},
    "trees": {"lightgbm": "scorelab.models.trees:LightGBMFamily",
              "forest": "scorelab.models.trees:RandomForestFamily"},
    "neural": {"mlp": "scorelab.models.neural:MLPFamily"},
    "hybrid": {"yim_mitchell": "scorelab.models.hybrid:YimMitchellHybrid",
               "expert_boost": "scorelab.models.hybrid:ExpertBoostHybrid",
               "stacking": "scorelab.models.hybrid:StackingHybrid",
               "hces_bag": "scorelab.models.ensemble:EnsembleSelectionHybrid"},
    "mitigation": {"exponentiated_gradient": "scorelab.models.mitigation:ReductionsMitigator",
                   "threshold_optimizer": "scorelab.models.mitigation:ThresholdMitigator"},
}

DEFAULT_KIND: dict[str, str] = {
    "expert": "suining",
    "logit": "scorecard",
    "trees": "lightgbm",
    "neural": "mlp",
    "hybrid": "yim_mitchell",
    "mitigation": "exponentiated_gradient",
}

# Parameters that hold estimators: the config may give them as specs (see module doc).
_COMPONENT_PARAMS = {"first_stage", "expert"}
_COMPONENT_LIST_PARAMS = {"estimators"}


def _load(path: str) -> type:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def model_class(family: str, kind: str) -> type:
    """The class registered as ``family/kind`` (imports its module)."""
    return _load(_CATALOGUE[family][kind])


_families_cache: dict[str, dict[str, type]] | None = None


def __getattr__(name: str) -> Any:  # PEP 562: FAMILIES is built on first access
    global _families_cache
    if name == "FAMILIES":
        if _families_cache is None:
            _families_cache = {fam: {kind: _load(path) for kind, path in kinds.items()}
                               for fam, kinds in _CATALOGUE.items()}
        return _families_cache
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --------------------------------------------------------------------------- build_model


def build_model(spec: ModelSpec) -> Any:
    """An unfitted estimator for ``spec``; every mistake is a one-line ConfigError."""
    family, name = spec.family, spec.name
    if family not in _CATALOGUE:
        raise ConfigError(f"model '{name}': unknown family '{family}'; valid: "
                          f"{', '.join(_CATALOGUE)}")
    kind = spec.kind or DEFAULT_KIND[family]
    kinds = _CATALOGUE[family]
    if kind not in kinds:
        raise ConfigError(f"model '{name}': unknown kind '{kind}' for family '{family}'; "
                          f"valid: {', '.join(kinds)}")
    cls = model_class(family, kind)
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
        _validate_values(estimator)
    except ConfigError:
        raise
    except (ValueError, TypeError) as exc:
        msg = " ".join(str(exc).split())
        raise ConfigError(f"model '{name}': invalid parameter value for {where}: {msg}; "
                          f"parameters given: {', '.join(sorted(params)) or 'none'}") from None
    return estimator


def _component(value: Any, name: str) -> Any:
    """A component given as "family", "family/kind" or {family, kind, params}."""
    if isinstance(value, str):
        family, _, kind = value.partition("/")
        return build_model(ModelSpec(family=family, name=name, kind=kind or None)) \
            if family in _CATALOGUE else _bad_component(value, name)
    if isinstance(value, Mapping):
        if "family" not in value:
            _bad_component(value, name)
        raw = dict(value)
        raw.setdefault("name", name)
        try:
            spec = ModelSpec.model_validate(raw)
        except Exception as exc:  # pydantic's ValidationError, as one line
            raise ConfigError(f"model '{name}': invalid component spec: "
                              f"{' '.join(str(exc).split())}") from None
        return build_model(spec)
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
                      f"({', '.join(_CATALOGUE)}), 'family/kind' or a mapping with "
                      f"family, kind and params; got {value!r}")


def _validate_values(estimator: Any) -> None:
    """Run the estimator's own parameter checks without real data."""
    for hook in ("_validate_params_values", "_validate_params_"):
        check = getattr(estimator, hook, None)
        if callable(check):
            check()
            return
    X, y = _tiny_population()
    estimator.__class__(**estimator.get_params(deep=False)).fit(X, y)


@lru_cache(maxsize=1)
def _tiny_population() -> tuple[Any, Any]:
    from scorelab.config import config_from_dict
    from scorelab.data import generate_population

    cfg = config_from_dict({"seed": 0, "population": {"n_citizens": 60}})
    pop = generate_population(cfg.population, cfg.seed)
    return pop.frame[pop.features], pop.frame["defaulted"].to_numpy()


# --------------------------------------------------------------------------- all_estimators


def all_estimators() -> list[tuple[str, Any]]:
    """Every registered class as ``("family/kind", instance)`` with small, fast settings.

    For the common scikit-learn checks: the expert rules are pointed at the generic
    column names the checks use (``x0``... for arrays, ``col_0``... for frames), since
    the default rules name population columns; hybrids get small components.
    """
    from sklearn.linear_model import LogisticRegression

    fam = __getattr__("FAMILIES")
    rules = {"x0": -20.0, "x1": 30.0, "col_0": -20.0, "col_1": 30.0, "0": -20.0, "1": 30.0}
    factors = {"a": {"x0": 1.0, "col_0": 1.0, "0": 1.0},
               "b": {"x1": -1.0, "col_1": -1.0, "1": -1.0}}
    suining = fam["expert"]["suining"](rules=rules)

    def logistic() -> Any:  # a fast stand-in for the logit scorecard inside hybrids
        return LogisticRegression()

    small_lgbm = {"n_estimators": 20, "num_leaves": 7, "min_child_samples": 5}
    small_net = {"hidden_layer_sizes": (16,), "max_iter": 300, "learning_rate_init": 1e-2}
    settings: dict[tuple[str, str], dict[str, Any]] = {
        ("expert", "suining"): {"rules": rules},
        ("expert", "sesame"): {"factors": factors},
        ("logit", "scorecard"): {"max_n_bins": 4, "max_n_prebins": 8},
        ("trees", "lightgbm"): small_lgbm,
        ("trees", "forest"): {"n_estimators": 10, "num_leaves": 15, "min_child_samples": 5},
        ("neural", "mlp"): small_net,
        ("hybrid", "yim_mitchell"): {"first_stage": logistic(), "inner_folds": 3,
                                     **small_net},
        ("hybrid", "expert_boost"): {"expert": suining, **small_lgbm},
        ("hybrid", "stacking"): {
            "estimators": [("lr", logistic()),
                           ("lightgbm", fam["trees"]["lightgbm"](**small_lgbm))],
            "inner_folds": 3},
        ("hybrid", "hces_bag"): {  # no search space in the candidates: one trial each
            "estimators": [("lr", logistic()), ("lr_strong", LogisticRegression(C=0.01))],
            "inner_folds": 2, "bags": 1},
        # the common checks' data has no age column: band the first column instead
        ("mitigation", "exponentiated_gradient"): {"sensitive": 0, "age_bands": (-1e9, 0.0),
                                                   "max_iter": 5},
        ("mitigation", "threshold_optimizer"): {"sensitive": 0, "age_bands": (-1e9, 0.0),
                                                "grid_size": 50},
    }
    return [(f"{family}/{kind}", cls(**settings.get((family, kind), {})))
            for family, kinds in fam.items() for kind, cls in kinds.items()]
