"""What the population model planted, and whether a run's age analyses recovered it.

Every synthetic run carries its own truth: the generator re-draws the same citizens
older (counterfactual twins) and knows each citizen's true log-odds and true outcome.
:func:`planted_truth` measures what was planted from those (never a number typed by
hand):

* the age path through the features: how much the young twins' credit history and
  employment years grow, and how many of them leave a thin file, when made older;
* the age difference in true risk: ``mean_young(logit(true_pd_twin) - logit(true_pd))``;
* label bias: ``D_observed - D_true``, D the young-vs-rest gap in the log-odds of the
  recorded and of the true default rates (in points at a model's own sharpness ``b``);
* the proxies: the features the twins change most (standardised mean change, or the
  change of their missing share).

:func:`truth_checks` sets a run's ``fairness.json`` against it: one :class:`Check` per
analysis and model, with what was planted, what was recovered (with its interval), what
was expected and whether it held. The study writes them to ``validity.json``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from scorelab.config import SyntheticPopulation
from scorelab.core.ages import AgeSpec
from scorelab.core.numeric import logit
from scorelab.data.synthetic import THIN_FILE_COLUMNS, counterfactual_twins
from scorelab.exceptions import ConfigError

__all__ = ["Check", "planted_truth", "truth_checks", "validity_artifact", "validity_summary"]

#: Below these the population model planted nothing (exact zeros up to rounding).
_NOTHING = 1e-6
_AGE_PATH_COLUMNS = ("credit_history_years", "employment_years")
#: A feature counts as a planted proxy when the young twins move it by this many SDs
#: (or change its missing share by this much).
_PROXY_SHIFT = 0.25
_NOT_FEATURES = ("citizen_id", "age", "true_pd", "true_default", "defaulted",
                 "latent_reliability")


@dataclass(frozen=True)
class Check:
    """One row of the validity table: planted against recovered."""

    scenario: str
    model: str
    analysis: str
    planted: str
    planted_value: float | None
    recovered: float | None
    low: float | None
    high: float | None
    expected: str
    passed: bool | None


def planted_truth(population: SyntheticPopulation, frame: pd.DataFrame, *, seed: int,
                  age: AgeSpec, twin_age_shift: float,
                  twin: pd.DataFrame | None = None) -> dict[str, Any]:
    """What the population model planted, measured on its own twins and truth columns.

    ``frame`` is the factual population drawn from ``population`` with ``seed``; ``twin``
    the same citizens re-drawn ``twin_age_shift`` years older (drawn here when not
    given); the young are ``age``'s youngest band.
    Returns: young (mask), history_years / employment_years (mean change of the young
    twins), thin_file_drop (share of the young whose file stops being thin),
    risk_shift_logit (mean change of the young twins' true log-odds), label_gap_logit
    (D_observed - D_true), label_bias_on (a label bias is planted), label_on_age (it
    targets an age group), label_group (the group it targets), proxies (features by how
    much the twins move them, largest first, above ``_PROXY_SHIFT``).
    """
    if not isinstance(population, SyntheticPopulation):
        raise ConfigError("a planted truth needs a synthetic population (population.source:"
                          " synthetic)")
    young = age.young(frame["age"].to_numpy(dtype=float))
    if twin is None:
        twin = counterfactual_twins(population, seed,
                                    {"age": lambda a: a + twin_age_shift}).frame

    def young_change(column: str) -> float:
        d = (twin[column].to_numpy(dtype=float) - frame[column].to_numpy(dtype=float))[young]
        return float(np.nanmean(d)) if np.isfinite(d).any() else 0.0

    def missing_change(column: str) -> float:
        return float(frame[column].isna().to_numpy()[young].mean()
                     - twin[column].isna().to_numpy()[young].mean()) if young.any() else 0.0

    features = [c for c in frame.columns if c in twin.columns and c not in _NOT_FEATURES
                and pd.api.types.is_numeric_dtype(frame[c])]
    shift = {c: max(abs(young_change(c)) / (float(np.nanstd(frame[c].to_numpy(dtype=float)))
                                             or 1.0), abs(missing_change(c)))
             for c in features}

    def rate_gap(y: np.ndarray) -> float:
        r = logit([y[young].mean(), y[~young].mean()])
        return float(r[0] - r[1])

    bias = population.causes.label_bias
    return {
        "young": young,
        "history_years": young_change("credit_history_years"),
        "employment_years": young_change("employment_years"),
        "thin_file_drop": missing_change(THIN_FILE_COLUMNS[0]),
        "risk_shift_logit": float((logit(twin["true_pd"]) - logit(frame["true_pd"]))
                                  [young].mean()),
        "label_gap_logit": rate_gap(frame["defaulted"].to_numpy(dtype=float))
        - rate_gap(frame["true_default"].to_numpy(dtype=float)),
        "label_bias_on": bool(bias.enabled and bias.flip_rate > 0),
        "label_on_age": bool(bias.enabled and bias.flip_rate > 0
                             and bias.group.attribute == "young"),
        "label_group": f"{bias.group.attribute} = {bias.group.value}",
        "proxies": [c for c, v in sorted(shift.items(), key=lambda kv: -kv[1])
                    if v > _PROXY_SHIFT],
    }


def _row(scenario: str, model: str, d: dict[str, Any], key: str, analysis: str,
         planted: str, planted_value: float | None, expected: str,
         rule: Callable[[float, float, float], bool] | None) -> Check:
    """One check of a decomposition part (``rule`` None: shown, not rated)."""
    value = d.get(key)
    low, high = (d.get("intervals") or {}).get(key) or (None, None)
    ok = None if value is None or low is None or rule is None else \
        bool(rule(value, low, high))
    return Check(scenario, model, analysis, planted, planted_value, value, low, high,
                 expected, ok)


def _covers(target: float) -> Callable[[float, float, float], bool]:
    return lambda v, lo, hi: lo <= target <= hi


_SEES_AGE = "not rated: the model sees age directly, so its twins also answer to that"


def _use_of_age(age: dict[str, Any], inputs: Sequence[str] | None) -> str:
    """How a model can respond to its twins' age: ``direct`` (age is one of its inputs),
    ``ignores`` (no twin's score moved: none of the inputs the age path changes is
    used) or ``path`` (through the inputs the path changes)."""
    if inputs is not None and "age" in inputs:
        return "direct"
    deltas = [r.get("mean_delta_score") for r in age.get("twin_effects") or []]
    if deltas and all(v is not None and abs(float(v)) < 1e-9 for v in deltas):
        return "ignores"
    return "path"


def _decomposition_checks(scenario: str, model: str, d: dict[str, Any],
                          truth: dict[str, Any], shift: float, use: str) -> list[Check]:
    """The four parts of one model's age-gap decomposition against the planted truth
    (``use``: how the model can respond to age, see :func:`_use_of_age`)."""
    path = _has_path(truth)
    path_words = (f"credit history {truth['history_years']:+.1f} y, employment "
                  f"{truth['employment_years']:+.1f} y, thin files "
                  f"{-100 * truth['thin_file_drop']:+.0f} pp" if path else "none")
    b = float(d["slope_points_per_logit"])
    # What true risk alone would make the twin-based part: the young's missed age
    # difference in risk, in the model's own map of points on true risk (a run before
    # the map: the straight line at the twins' shift).
    missed = d.get("missed_risk_points")
    missed = b * truth["risk_shift_logit"] if missed is None else float(missed)
    legit = abs(truth["risk_shift_logit"]) > 0.01
    if use == "direct":
        expected, rule = _SEES_AGE, None
    elif use == "ignores":  # the twins score as before: the part is exactly the missed risk
        expected = f"interval covers {missed:+.1f} (the model uses none of the path's inputs)"
        rule = _covers(missed)
    elif path:  # the path lowers the part below what the missed risk would give
        expected, rule = (f"interval below {missed:+.1f}", lambda v, lo, hi, m=missed: hi < m)
    elif legit:  # a missed age difference; descendants of age may reflect some of it
        expected, rule = (f"interval above 0, starting at most at {missed:+.1f}",
                          lambda v, lo, hi, m=missed: 0 < lo <= m)
    else:
        expected, rule = "interval covers 0", _covers(0.0)
    row = _row(scenario, model, d, "response_beyond_true_risk",
               "response to age through the inputs, beyond true risk (twins)",
               f"age path: {path_words}; age difference in risk: {missed:+.1f} points"
               + ("" if legit else " (none)"), missed, expected, rule)
    beyond = (d.get("intervals") or {}).get("response_beyond_missed")
    exact = use == "ignores" or (use == "path" and not path and not legit)
    if exact and beyond is not None and row.recovered is not None:
        # the part must equal what true risk alone gives, which is measured on the same
        # citizens: rate the difference with its own interval, shown around the part
        # (the part's own interval ignores that the two share their noise)
        half = (beyond[1] - beyond[0]) / 2
        low, high = row.recovered - half, row.recovered + half
        why = ("the model uses none of the path's inputs" if use == "ignores" else
               "nothing planted: true risk alone on these citizens")
        row = replace(row, low=low, high=high, passed=bool(low <= missed <= high),
                      expected=f"interval covers {missed:+.1f} ({why}; the interval of "
                               "its difference from that value, measured on the same "
                               "citizens)")
    rows = [row]
    # The labels' own young/rest gap, measured on the population: a bias aimed at another
    # group (say the minority) still reaches the young as far as the two overlap.
    gap = truth["label_gap_logit"] * b
    refit = d.get("label_bias_method") == "model trained on the true outcome"
    if not truth["label_bias_on"]:
        planted, expected, rule = "none", "interval covers 0", _covers(0.0)
    else:
        planted = (f"labels' gap {gap:+.1f} points ({truth['label_gap_logit']:+.2f} logit)"
                   + ("" if truth["label_on_age"]
                      else f"; the bias targets {truth['label_group']}, not age"))
        if refit:  # the scores carry the labels' bias only as far as a model sees age
            expected = f"interval within reach of 0 to {gap:+.1f} (the labels' own gap)"
            rule = (lambda v, lo, hi, g=gap: lo <= max(0.0, g) and hi >= min(0.0, g))
        elif truth["label_on_age"]:
            expected = "interval excludes 0 and covers the planted value"
            rule = (lambda v, lo, hi, g=gap: (hi < 0 or lo > 0) and lo <= g <= hi)
        else:
            expected, rule = "interval covers the labels' own gap", _covers(gap)
    rows.append(_row(scenario, model, d, "label_bias", "label bias (young minus rest)",
                     planted, gap, expected, rule))
    rows.append(_row(scenario, model, d, "true_risk",
                     "true-risk part (legitimate age difference)",
                     f"young twins' true log-odds {truth['risk_shift_logit']:+.2f} when "
                     f"{shift:g} y older" if legit else "none", None,
                     "negative, interval excludes 0" if legit else "interval covers 0",
                     (lambda v, lo, hi: hi < 0) if legit else _covers(0.0)))
    rows.append(_row(scenario, model, d, "residual", "residual (everything else)", "none",
                     0.0, "interval covers 0", _covers(0.0)))
    return rows


def _has_path(truth: dict[str, Any]) -> bool:
    return abs(truth["history_years"]) + abs(truth["employment_years"]) > 0.5 or \
        truth["thin_file_drop"] > 0.01


def _twin_check(scenario: str, model: str, age: dict[str, Any],
                truth: dict[str, Any], use: str) -> Check | None:
    """Older twins must score no lower where an age path through the inputs was planted:
    higher for a model that uses the path's inputs, exactly the same for one that ignores
    them (a rule set without those inputs), never lower."""
    rows = [r for r in age.get("twin_effects") or [] if str(r.get("age_band")) != "all"]
    if not rows or not _has_path(truth):
        return None
    first = rows[0]  # the youngest band (bands in order)
    value = first.get("mean_delta_score")
    direct = use == "direct"
    return Check(scenario, model, "twins: score change of the youngest band made older",
                 f"age path through the inputs (credit history "
                 f"{truth['history_years']:+.1f} y)", None, value, None, None,
                 _SEES_AGE if direct else
                 "older twins score no lower (>= 0; 0 where the inputs are not used)",
                 None if value is None or direct else bool(value >= 0))


def _sweep_check(scenario: str, fairness: Mapping[str, Any], frame: pd.DataFrame,
                 truth: dict[str, Any], population: SyntheticPopulation) -> Check | None:
    """The label cut-point sweep against the same sweep of the true outcomes."""
    records = (fairness.get("label_cut_sweep") or {}).get("records") or []
    if not records or "true_default" not in frame:
        return None
    ages = np.floor(frame["age"].to_numpy(dtype=float))
    good_true = 1 - frame["true_default"].to_numpy(dtype=float)
    cuts = np.array([int(r["cut"]) for r in records])
    observed = np.array([r["ratio"] if r["ratio"] is not None else np.nan for r in records],
                        dtype=float)
    young = ages[None, :] <= cuts[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        true_ratio = (young @ good_true / young.sum(axis=1)) / \
            ((~young) @ good_true / (~young).sum(axis=1))
    diff = observed - true_ratio
    if truth["label_on_age"]:
        cut = population.causes.label_bias.group.young_below
        below = cuts < cut  # cuts inside the targeted ages
        ok = bool(np.all(diff[below] < 0)) if below.any() else None
        expected = f"recorded ratio below the true one at every cut below {cut:g}"
    elif np.array_equal(frame["defaulted"].to_numpy(), frame["true_default"].to_numpy()):
        ok, expected = bool(np.allclose(diff, 0.0)), "equal to the true ratio at every cut"
    else:
        ok, expected = None, "no planted age value (label bias targets another group)"
    return Check(scenario, "(population)", "cut-point sweep of the recorded outcomes",
                 "label bias on the young" if truth["label_on_age"] else "none", None,
                 float(np.nanmean(diff)), float(np.nanmin(diff)), float(np.nanmax(diff)),
                 expected, ok)


def _proxy_check(scenario: str, fairness: dict[str, Any], truth: dict[str, Any],
                 features: list[str] | None) -> Check | None:
    """The proxy audit must rank the planted proxies first."""
    planted = [c for c in truth["proxies"] if features is None or c in features]
    planted = [c for c in planted if c in (*_AGE_PATH_COLUMNS, *THIN_FILE_COLUMNS)][:2]
    if not _has_path(truth) or not planted:
        return None
    top = [r.get("feature") for r in fairness.get("proxy_audit", [])[:len(planted)]]
    return Check(scenario, "(population)", "proxy audit ranks the planted proxies first",
                 ", ".join(planted), None, None, None, None,
                 f"top {len(planted)}: " + ", ".join(map(str, top)), set(planted) <= set(top))


def truth_checks(scenario: str, population: SyntheticPopulation, frame: pd.DataFrame,
                 fairness: Mapping[str, Any], *, seed: int, age: AgeSpec,
                 twin_age_shift: float, twin: pd.DataFrame | None = None,
                 features: list[str] | None = None,
                 inputs: Mapping[str, Sequence[str]] | None = None) -> list[Check]:
    """Every age analysis of a run's ``fairness`` (fairness.json) against what the
    population model planted (see the module docstring). ``features`` are the schema's
    feature columns (the proxy audit's candidates); ``inputs`` each model's input
    columns (a model that sees age directly is shown, not rated, on the twin parts)."""
    truth = planted_truth(population, frame, seed=seed, age=age,
                          twin_age_shift=twin_age_shift, twin=twin)
    shift = twin_age_shift
    checks: list[Check] = []
    for model, entry in (fairness or {}).get("models", {}).items():
        analyses = entry.get("age") or {}
        use = _use_of_age(analyses, (inputs or {}).get(model))
        d = analyses.get("decomposition")
        if isinstance(d, dict):
            checks += _decomposition_checks(scenario, model, d, truth, shift, use)
        twin_row = _twin_check(scenario, model, analyses, truth, use)
        if twin_row is not None:
            checks.append(twin_row)
    for extra in (_proxy_check(scenario, fairness, truth, features),
                  _sweep_check(scenario, fairness, frame, truth, population)):
        if extra is not None:
            checks.append(extra)
    return checks


def _shared_expectation(checks: list[Check]) -> tuple[str, str]:
    """One analysis's expectation and planted value for the summary row: the kind most
    models are held to (numbers aside), shown as its first model's, with a note when the
    values are each model's own or some models are held to another kind."""
    def kind(c: Check) -> str:
        return re.sub(r"[+-]?\d+(\.\d+)?", "#", c.expected)

    counts = Counter(kind(c) for c in checks)
    main = max(counts, key=lambda k: counts[k])  # the first of the most common kinds
    shown = next(c for c in checks if kind(c) == main)
    notes = []
    if len({c.expected for c in checks if kind(c) == main}) > 1:
        notes.append(f"each model against its own value, here {shown.model}'s")
    if len(checks) > counts[main]:
        notes.append(f"{len(checks) - counts[main]} of {len(checks)} models held to "
                     "another expectation")
    suffix = f" ({'; '.join(notes)}: see every check)" if notes else ""
    return shown.expected + suffix, shown.planted


def validity_summary(scenario: str, checks: list[Check]) -> dict[str, Any]:
    """validity.json: the checks and, per analysis, how many models recovered it."""
    rows = [asdict(c) for c in checks]
    by: dict[str, dict[str, Any]] = {}
    for c in checks:
        s = by.setdefault(c.analysis, {"analysis": c.analysis, "planted": c.planted,
                                       "expected": c.expected, "passed": 0, "failed": 0,
                                       "unrated": 0, "missed_by": [], "_expected": []})
        s["_expected"].append(c)
        if c.passed is None:
            s["unrated"] += 1
        elif c.passed:
            s["passed"] += 1
        else:
            s["failed"] += 1
            s["missed_by"].append(c.model)
    for s in by.values():
        s["expected"], s["planted"] = _shared_expectation(s.pop("_expected"))
    return {"scenario": scenario, "checks": rows, "by_analysis": list(by.values()),
            "n_checks": len(rows), "n_passed": sum(r["passed"] is True for r in rows),
            "n_failed": sum(r["passed"] is False for r in rows)}


def validity_artifact(scenario: str, population: SyntheticPopulation | Any,
                      frame: pd.DataFrame, fairness: Mapping[str, Any] | None,
                      twin: pd.DataFrame | None, *, seed: int, age: AgeSpec,
                      twin_age_shift: float, features: list[str] | None = None,
                      inputs: Mapping[str, Sequence[str]] | None = None
                      ) -> dict[str, Any] | None:
    """validity.json of a run (``scenario``: the study's name): None on a real table (no
    planted truth) or when the age analyses did not run."""
    if not (isinstance(population, SyntheticPopulation) and fairness
            and (fairness.get("thresholds") or {}).get("age_attribute") == "age"):
        return None
    return validity_summary(scenario, truth_checks(
        scenario, population, frame, fairness, seed=seed, age=age,
        twin_age_shift=twin_age_shift, twin=twin, features=features, inputs=inputs))
