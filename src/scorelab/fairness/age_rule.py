"""The age rule of US lending law (Regulation B, 12 CFR 1002.6(b)(2)).

An empirically derived scoring system may use an applicant's age only if "the age of an
elderly applicant is not assigned a negative factor or value": applicants aged 62 or
older must get an age contribution at least as favourable as the most favoured of the
other age groups (the official interpretation, comment 6(b)(2)-4).

Tested per model from its own age contributions (SHAP of the age input, log-odds of
default: lower is more favourable), averaged per age group over the explained
applicants. The groups are the fairness age bands cut at 62, everything from 62 up being
one group. A model without age among its inputs is not tested ("does not apply"), and
for every model the summed contribution of age's proxies by group is shown beside it:
the rule speaks of age itself, and a proxy can carry age into a model that never sees it.

Group means of a few hundred applicants are noisy, so the margin (most favoured other
group's mean minus the 62+ group's) carries a Poisson-bootstrap interval over the
explained applicants (the fairness audit's citizen-keyed weights, so the same seed gives
the same interval). The verdict stays the sign of the margin, and says so when the
interval includes zero: the difference is then not distinguishable from zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from scorelab.core.ages import age_band_labels, age_bands
from scorelab.fairness.age import AGE_PROXIES
from scorelab.fairness.counts import bootstrap_weights

__all__ = ["ELDERLY_AGE", "age_rule", "age_rule_artifact", "margin_interval",
           "rule_groups"]

ELDERLY_AGE = 62.0
LEVEL = 0.95
MIN_GROUP = 10  # explained applicants per group below which no interval is claimed


def rule_groups(edges: Sequence[float], elderly: float = ELDERLY_AGE) -> list[float]:
    """The age-band edges below ``elderly``, then ``elderly`` itself (the last group)."""
    return [*(e for e in edges if e < elderly), elderly]


def _totals(shap: pd.DataFrame, ages: pd.Series, edges: list[float],
            features: Sequence[str]) -> pd.DataFrame:
    """Summed SHAP of ``features`` per model and citizen, with the citizen's age group."""
    part = shap[shap["feature"].astype(str).isin(list(features))]
    if part.empty:
        return pd.DataFrame(columns=["model", "citizen_id", "shap", "group"])
    total = (part.assign(model=part["model"].astype(str))
             .groupby(["model", "citizen_id"], observed=True)["shap"].sum().reset_index())
    band = pd.Series(age_bands(ages.to_numpy(dtype=float), edges), index=ages.index)
    total["group"] = band.reindex(total["citizen_id"].to_numpy()).to_numpy()
    return total.dropna(subset=["group"])


def _by_group(total: pd.DataFrame) -> pd.DataFrame:
    """Mean of :func:`_totals` per age group and model."""
    if total.empty:
        return pd.DataFrame(columns=["model", "group", "mean", "n"])
    return (total.groupby(["model", "group"], observed=True)["shap"]
            .agg(["mean", "size"]).rename(columns={"size": "n"}).reset_index())


def margin_interval(total: pd.DataFrame, elderly_label: str, n_boot: int, seed: int
                    ) -> list[float] | None:
    """Percentile interval (``LEVEL``) of the margin of one model's age contributions:
    lowest mean of the groups under 62 minus the 62+ mean, recomputed in every replicate
    of the Poisson bootstrap over its citizens (None without replicates, or when a group
    has fewer than ``MIN_GROUP`` applicants: a bootstrap of a handful says nothing)."""
    if n_boot <= 0 or total.empty or total["group"].value_counts().min() < MIN_GROUP:
        return None
    w = bootstrap_weights(total["citizen_id"].to_numpy(), n_boot, seed)[:, 1:].astype(float)
    values = total["shap"].to_numpy(dtype=float)
    group = total["group"].astype(str).to_numpy()
    labels = list(dict.fromkeys(group))
    with np.errstate(invalid="ignore", divide="ignore"):  # an empty group: NaN
        means = np.stack([values[group == g] @ w[group == g] / w[group == g].sum(axis=0)
                          for g in labels])  # (groups, replicates)
    elderly = means[labels.index(elderly_label)]
    others = np.delete(means, labels.index(elderly_label), axis=0)
    margin = others.min(axis=0) - elderly
    margin = margin[np.isfinite(margin)]
    if margin.size < max(10, n_boot // 2):
        return None
    tail = (1 - LEVEL) / 2
    return [float(q) for q in np.quantile(margin, [tail, 1 - tail])]


def _verdict(groups: pd.DataFrame, elderly_label: str, interval: list[float] | None,
             factor: float) -> dict[str, Any]:
    """Pass / fail of one model's age contributions by group (see the module docstring)."""
    table = [{"group": str(g), "mean_age_contribution": float(m), "n": int(n)}
             for g, m, n in groups[["group", "mean", "n"]].itertuples(index=False)]
    old = groups[groups["group"].astype(str) == elderly_label]
    others = groups[groups["group"].astype(str) != elderly_label]
    if old.empty or others.empty:
        missing = "aged 62 or older" if old.empty else "younger than 62"
        return {"verdict": "not tested", "groups": table,
                "evidence": f"no explained applicant is {missing}, so the groups cannot be "
                            "compared"}
    elderly = float(old["mean"].iloc[0])
    best = others.loc[others["mean"].idxmin()]
    margin = float(best["mean"]) - elderly  # >= 0: the elderly are at least as favoured
    passed = margin >= 0
    distinct = None if interval is None else bool(interval[0] > 0 or interval[1] < 0)
    return {
        "verdict": "pass" if passed else "fail", "groups": table,
        "elderly_mean": elderly, "most_favoured_other": str(best["group"]),
        "most_favoured_other_mean": float(best["mean"]), "margin": margin,
        "margin_interval": interval, "distinguishable_from_zero": distinct,
        "evidence": (f"applicants aged 62+ get a mean age contribution of "
                     f"{_points(elderly, factor)}, the most favoured other group "
                     f"({best['group']}) {_points(float(best['mean']), factor)}: "
                     + ("at least as favourable" if passed else
                        f"less favourable by {-margin * factor:.1f} points")
                     + _interval_words(margin, interval, distinct, factor))}


def _points(log_odds: float, factor: float) -> str:
    """A contribution to the score in words: positive log-odds of default lower it."""
    return f"{0.0 - log_odds * factor:+.1f} points"


def _interval_words(margin: float, interval: list[float] | None, distinct: bool | None,
                    factor: float) -> str:
    """The margin (in points: positive, the elderly are favoured) and its interval."""
    if interval is None:
        return (" (no bootstrap interval: fairness.bootstrap is 0 or an age group has "
                f"fewer than {MIN_GROUP} explained applicants)")
    span = (f" (margin {margin * factor:+.1f} points, {LEVEL:.0%} interval "
            f"{interval[0] * factor:+.1f} to {interval[1] * factor:+.1f}")
    if distinct:
        return span + ")"
    return span + ": the difference is not distinguishable from zero)"


def age_rule(explanations: pd.DataFrame, ages: pd.Series,
             model_inputs: Mapping[str, Sequence[str]], age_column: str,
             edges: Sequence[float], proxies: Sequence[str], n_boot: int = 200,
             seed: int = 0, *, factor: float) -> dict[str, Any]:
    """The age rule for every model (JSON-ready).

    ``explanations`` is the long table (citizen_id, model, feature, shap); ``ages`` the
    applicants' ages indexed by citizen id; ``model_inputs`` each model's input columns;
    ``n_boot`` replicates (seeded by ``seed``) give the margin its interval; ``factor``
    (score points per log-odds, pdo / ln 2) puts the evidence a person reads in points,
    while the numbers stay in log-odds of default.
    Returns {"elderly_age", "groups", "proxies", "models": {name: {"applies", "verdict",
    "evidence", "groups", "proxy_groups", ...}}}.
    """
    cut = rule_groups(edges)
    labels = age_band_labels(cut)
    elderly_label = labels[-1]
    age_total = _totals(explanations, ages, cut, [age_column])
    age_part = _by_group(age_total)
    proxy_part = _by_group(_totals(explanations, ages, cut, proxies))
    models: dict[str, Any] = {}
    for name, inputs in model_inputs.items():
        proxy_rows = proxy_part[proxy_part["model"] == name]
        entry: dict[str, Any] = {
            "applies": age_column in inputs,
            "proxy_groups": [{"group": str(g), "mean_proxy_contribution": float(m),
                              "n": int(n)}
                             for g, m, n in proxy_rows[["group", "mean", "n"]]
                             .itertuples(index=False)]}
        if not entry["applies"]:
            entry.update(verdict="does not apply",
                         evidence=f"'{age_column}' is not an input of this model, so the "
                                  "rule on age contributions does not apply; its proxies' "
                                  "contribution by age group is shown beside it")
        else:
            mine = age_total[age_total["model"] == name]
            entry.update(_verdict(age_part[age_part["model"] == name], elderly_label,
                                  margin_interval(mine, elderly_label, n_boot, seed),
                                  factor))
        models[str(name)] = entry
    return {"elderly_age": ELDERLY_AGE, "age_attribute": age_column, "groups": labels,
            "proxies": list(proxies), "interval_level": LEVEL, "bootstrap": n_boot,
            "models": models}


def age_rule_artifact(age_column: str | None, frame: pd.DataFrame,
                      model_inputs: Mapping[str, Sequence[str]], explanations: pd.DataFrame,
                      edges: Sequence[float], proxy_audit: Any = None, n_boot: int = 200,
                      seed: int = 0, *, factor: float) -> dict[str, Any]:
    """age_rule.json: :func:`age_rule` with the proxies the fairness audit names (the
    known age proxies among the inputs and the audit's three strongest), or a plain note
    when the population has no age."""
    if age_column is None or age_column not in frame:
        return {"elderly_age": None, "age_attribute": None, "groups": [], "proxies": [],
                "models": {}, "note": "the population has no age attribute, so the age rule "
                                      "cannot be tested"}
    inputs = {c for cols in model_inputs.values() for c in cols}
    audit = pd.DataFrame(proxy_audit if proxy_audit is not None else [])
    strongest = audit["feature"].head(3).tolist() if "feature" in audit else []
    proxies = [c for c in dict.fromkeys([*AGE_PROXIES, *strongest])
               if c in inputs and c != age_column]
    ages = frame.set_index("citizen_id")[age_column]
    return age_rule(explanations, ages, model_inputs, age_column, edges, proxies, n_boot,
                    seed, factor=factor)
