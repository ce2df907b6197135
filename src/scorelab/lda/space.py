"""The candidate space of the search: every model the study can vary, from ``lda:``.

A candidate is a :class:`~scorelab.config.ModelSpec` like any configured model, so the
fold engine, the registry and the run directory treat it like one. The space is the
product of the families (``family/kind``), their hyper-parameter grids, the feature
subsets that drop the attribute's proxies (singly and together), monotone constraints
(tree families) and random seeds (model multiplicity), plus fairlearn's
exponentiated-gradient variants. The search draws from it in a seeded random order, the
uniform sampling its stopping bound assumes.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scorelab.config import ExperimentConfig, ModelSpec, age_attribute
from scorelab.data.schema import Schema
from scorelab.exceptions import ConfigError
from scorelab.fairness.age import proxy_audit
from scorelab.models.registry import DEFAULT_KIND, model_class

__all__ = ["MAX_PROXIES", "SEEDLESS", "Candidate", "candidate_space", "draw_order",
           "lda_attribute", "proxies_of", "reference_spec"]

#: At most this many derived proxies are dropped (2^k subsets would be too many).
MAX_PROXIES = 3
#: Families whose fit ignores ``random_state`` (the scorecard: optimal binning and an
#: lbfgs logistic regression are deterministic). They get one seed, not ``lda.seeds``
#: copies of the same model: copies cost fits and would count one draw several times in
#: the stopping bound (tests/lda/test_space.py checks the determinism).
SEEDLESS = frozenset({("logit", "scorecard")})


@dataclass(frozen=True)
class Candidate:
    """One point of the space: its model spec and the axes that produced it."""

    spec: ModelSpec
    seed: int | None

    @property
    def name(self) -> str:
        return self.spec.name


def reference_spec(config: ExperimentConfig, wanted: str | None) -> ModelSpec:
    """The reference model: ``wanted``, else ``lda.reference``, else the first model."""
    name = wanted or config.lda.reference
    if not config.models:
        raise ConfigError("models: the config lists no models, so the search has no "
                          "reference; add at least one")
    if name is None:
        return config.models[0]
    names = [m.name for m in config.models]
    if name not in names:
        raise ConfigError(f"lda reference: no model '{name}' in the config (models: "
                          f"{', '.join(names)})")
    return config.models[names.index(name)]


def lda_attribute(config: ExperimentConfig) -> str:
    """The protected attribute whose disparity the search reduces."""
    attribute = config.lda.attribute or age_attribute(config)
    if attribute is None:
        raise ConfigError("lda.attribute: the population has no age attribute; name the "
                          "protected attribute to search for (one of "
                          f"{', '.join(config.fairness.attributes) or 'none'})")
    if attribute not in config.fairness.attributes:
        raise ConfigError(f"lda.attribute: '{attribute}' is not an audited protected "
                          f"attribute (audited: {', '.join(config.fairness.attributes)})")
    return attribute


def proxies_of(config: ExperimentConfig, frame: pd.DataFrame, schema: Schema,
               attribute: str) -> list[str]:
    """The features dropped singly and together: ``lda.proxies``, else the strongest
    proxies of the attribute (proxy strength >= ``lda.proxy_threshold``)."""
    features = schema.with_role("feature")
    given = config.lda.proxies
    if given is not None:
        for name in given:
            if name not in features:
                raise ConfigError(f"lda.proxies: '{name}' is not a feature column (valid: "
                                  f"{', '.join(features)})")
        return list(dict.fromkeys(given))
    values = frame[attribute]
    if not pd.api.types.is_numeric_dtype(values):
        values = values.astype("category").cat.codes.astype(float).where(values.notna())
    audit = proxy_audit(frame, features, values.to_numpy(dtype=float), config.lda.young_below)
    strong = audit[audit["strength"] >= config.lda.proxy_threshold]
    return strong["feature"].head(MAX_PROXIES).tolist()


def _drop_sets(proxies: Sequence[str]) -> list[list[str]]:
    sets = [[], *([p] for p in proxies)]
    if len(proxies) > 1:
        sets.append(list(proxies))
    return sets


def _family_kind(text: str) -> tuple[str, str]:
    family, _, kind = text.partition("/")
    kind = kind or DEFAULT_KIND.get(family, "")
    try:
        model_class(family, kind)
    except KeyError:
        raise ConfigError(f"lda.families: '{text}' is not a family/kind (e.g. "
                          "trees/lightgbm, logit/scorecard, neural/mlp)") from None
    return family, kind


def _grid(config: ExperimentConfig, key: str) -> list[dict[str, object]]:
    grid = config.lda.params.get(key, {})
    names = sorted(grid)
    for name in names:
        if not grid[name]:
            raise ConfigError(f"lda.params.{key}.{name}: the list of values is empty")
    return [dict(zip(names, values, strict=True))
            for values in itertools.product(*(grid[n] for n in names))]


def candidate_space(config: ExperimentConfig, proxies: Sequence[str]) -> list[Candidate]:
    """Every candidate of the space, in a fixed order (names are positions in it)."""
    lda = config.lda
    specs: list[tuple[ModelSpec, int | None]] = []
    for text in lda.families:
        family, kind = _family_kind(text)
        seeded = ("random_state" in model_class(family, kind)().get_params(deep=False)
                  and (family, kind) not in SEEDLESS)
        seeds: list[int | None] = list(range(lda.seeds)) if seeded else [None]
        monotone = [None, dict(lda.monotone)] if lda.monotone and family == "trees" \
            else [None]
        for params, drop, mono, seed in itertools.product(
                _grid(config, text), _drop_sets(proxies), monotone, seeds):
            full = dict(params)
            if mono is not None:
                kept = {k: v for k, v in mono.items() if k not in drop}
                if not kept:  # every constrained column dropped: the plain variant again
                    continue
                full["monotone_constraints"] = kept
            if seed is not None:
                full["random_state"] = config.seed + seed
            specs.append((ModelSpec(family=family, kind=kind, name=kind, params=full,
                                    drop_features=drop), seed))
    if lda.mitigation:
        attribute = lda_attribute(config)
        for seed in range(lda.seeds):
            specs.append((ModelSpec(family="mitigation", kind="exponentiated_gradient",
                                    name="exponentiated_gradient",
                                    params={"base": "logit", "sensitive": attribute,
                                            "max_iter": 10, "random_state": config.seed + seed},
                                    use_protected=[attribute]), seed))
    if not specs:
        raise ConfigError("lda: the search space is empty (lda.families lists nothing to "
                          "train); list at least one family/kind")
    return [Candidate(spec.model_copy(update={"name": f"c{i:03d}_{spec.name}"}), seed)
            for i, (spec, seed) in enumerate(specs)]


def draw_order(n: int, seed: int) -> np.ndarray:
    """The seeded random order the search draws the space in (uniform, no repeats)."""
    return np.random.default_rng([seed, 17]).permutation(n)
