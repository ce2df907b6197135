"""Every age analysis checked against the planted truth (issue 19).

A scenario is a synthetic config with some causes planted (``configs/scenarios/``). For
each scenario, :func:`validate_scenario` runs the study in memory, reads the age-gap
decomposition of ``fairness.json`` and sets it against what the population model itself
planted, measured on the generator's own counterfactual twins and true log-odds (never a
number typed by hand):

* the age path through the features: how much the young twins' credit history and
  employment years grow, and how many of them leave a thin file, when made older;
* the age difference in true risk: ``mean_young(logit(true_pd_twin) - logit(true_pd))``,
  in points at the model's own sharpness (``b``, points per logit);
* label bias: ``b * (D_observed - D_true)``, D the young-vs-rest gap in the log-odds of
  the recorded and of the true default rates;
* the proxies: the features the twins change most (standardised mean change).

Each row says what was planted, what the analysis recovered (with its interval), what
was expected and whether it held.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scorelab.config import ExperimentConfig, SyntheticPopulation, load_config
from scorelab.data.synthetic import THIN_FILE_COLUMNS, counterfactual_twins, \
    generate_population
from scorelab.exceptions import ConfigError
from scorelab.study import run_study

__all__ = ["SCENARIO_DIR", "Check", "planted_truth", "scenario_configs", "validate",
           "validate_scenario"]

#: The scenario matrix shipped with the repository.
SCENARIO_DIR = Path(__file__).resolve().parents[2] / "configs" / "scenarios"
#: Below these the population model planted nothing (exact zeros up to rounding).
_NOTHING = 1e-6
_AGE_PATH_COLUMNS = ("credit_history_years", "employment_years")


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


def scenario_configs(names: Sequence[str] | None = None,
                     directory: Path = SCENARIO_DIR) -> dict[str, ExperimentConfig]:
    """The scenario configs by name (file stem), all of them when ``names`` is empty."""
    files = {p.stem: p for p in sorted(Path(directory).glob("*.yaml"))}
    wanted = list(names) if names else list(files)
    unknown = [n for n in wanted if n not in files]
    if unknown:
        raise ConfigError(f"unknown scenario(s) {', '.join(unknown)}; known: "
                          f"{', '.join(files) or '(none in ' + str(directory) + ')'}")
    return {n: load_config(files[n]) for n in wanted}


def _logit(p: Any) -> np.ndarray:
    q = np.clip(np.asarray(p, dtype=float), 1e-9, 1 - 1e-9)
    return np.log(q) - np.log1p(-q)


def planted_truth(config: ExperimentConfig, frame: pd.DataFrame) -> dict[str, Any]:
    """What the population model planted, measured on its own twins and truth columns.

    ``frame`` is the factual population of ``config`` (``generate_population``). The
    twins are the same citizens re-drawn ``fairness.twin_age_shift`` years older.
    Returns: young (mask), history_years / employment_years (mean change of the young
    twins), thin_file_drop (share of the young whose file stops being thin),
    risk_shift_logit (mean change of the young twins' true log-odds), label_gap_logit
    (D_observed - D_true), proxies (features by standardised mean change, largest first).
    """
    if not isinstance(config.population, SyntheticPopulation):
        raise ConfigError("validate-truth needs a synthetic population (a planted truth)")
    fair = config.fairness
    edges = list(fair.age_bands)
    young = np.floor(frame["age"].to_numpy(dtype=float)) < float(edges[1])
    twin = counterfactual_twins(config.population, config.seed,
                                {"age": lambda a: a + fair.twin_age_shift}).frame

    def young_change(column: str) -> float:
        d = (twin[column].to_numpy(dtype=float) - frame[column].to_numpy(dtype=float))[young]
        return float(np.nanmean(d)) if np.isfinite(d).any() else 0.0

    thin_f = frame[THIN_FILE_COLUMNS[0]].isna().to_numpy()[young]
    thin_t = twin[THIN_FILE_COLUMNS[0]].isna().to_numpy()[young]
    features = [c for c in frame.columns if c in twin.columns and c != "age"
                and pd.api.types.is_numeric_dtype(frame[c])
                and c not in ("citizen_id", "true_pd", "true_default", "defaulted",
                              "latent_reliability")]
    shift = {c: abs(young_change(c)) / (float(np.nanstd(frame[c].to_numpy(dtype=float)))
                                        or 1.0) for c in features}

    def rate_gap(y: np.ndarray) -> float:
        r = np.clip([y[young].mean(), y[~young].mean()], 1e-6, 1 - 1e-6)
        return float(_logit(r[0]) - _logit(r[1]))

    return {
        "young": young,
        "history_years": young_change("credit_history_years"),
        "employment_years": young_change("employment_years"),
        "thin_file_drop": float(thin_f.mean() - thin_t.mean()) if young.any() else 0.0,
        "risk_shift_logit": float((_logit(twin["true_pd"]) - _logit(frame["true_pd"]))
                                  [young].mean()),
        "label_gap_logit": rate_gap(frame["defaulted"].to_numpy(dtype=float))
        - rate_gap(frame["true_default"].to_numpy(dtype=float)),
        "proxies": [c for c, v in sorted(shift.items(), key=lambda kv: -kv[1])
                    if v > _NOTHING],
    }


def _row(scenario: str, model: str, d: dict[str, Any], key: str, analysis: str,
         planted: str, planted_value: float | None, expected: str,
         rule: Callable[[float, float, float], bool]) -> Check:
    value = d.get(key)
    low, high = (d.get("intervals") or {}).get(key) or (None, None)
    ok = None if value is None or low is None else bool(rule(value, low, high))
    return Check(scenario, model, analysis, planted, planted_value, value, low, high,
                 expected, ok)


def _covers(target: float) -> Callable[[float, float, float], bool]:
    return lambda v, lo, hi: lo <= target <= hi


def validate_scenario(name: str, config: ExperimentConfig) -> list[Check]:
    """Run one scenario in memory and check each age analysis against the planted truth."""
    population = generate_population(config.population, config.seed)
    result = run_study(config, population, {})
    truth = planted_truth(config, population.frame)
    path = abs(truth["history_years"]) + abs(truth["employment_years"]) > 0.5 or \
        truth["thin_file_drop"] > 0.01
    path_words = (f"credit history {truth['history_years']:+.1f} y, employment "
                  f"{truth['employment_years']:+.1f} y, thin files "
                  f"{-100 * truth['thin_file_drop']:+.0f} pp" if path else "none")
    checks: list[Check] = []
    for model, entry in (result.fairness or {}).get("models", {}).items():
        d = (entry.get("age") or {}).get("decomposition")
        if not isinstance(d, dict):
            continue
        b = float(d["slope_points_per_logit"])
        missed = b * truth["risk_shift_logit"]  # what true risk warrants for the twins
        legit = abs(truth["risk_shift_logit"]) > 0.01
        if path:  # the path lowers the part below what the missed risk would give
            expected, rule = (f"interval below {missed:+.1f}",
                              lambda v, lo, hi, m=missed: hi < m)
        elif legit:  # a missed age difference; descendants of age may reflect some of it
            expected, rule = (f"interval above 0, starting at most at {missed:+.1f}",
                              lambda v, lo, hi, m=missed: 0 < lo <= m)
        else:
            expected, rule = "interval covers 0", _covers(0.0)
        checks.append(_row(
            name, model, d, "response_beyond_true_risk",
            "response to age through the inputs, beyond true risk (twins)",
            f"age path: {path_words}; age difference in risk: {missed:+.1f} points"
            + ("" if legit else " (none)"), missed, expected, rule))
        gap = truth["label_gap_logit"] * b
        labelled = abs(truth["label_gap_logit"]) > 0.02
        checks.append(_row(
            name, model, d, "label_bias", "label bias (young minus rest)",
            f"{gap:+.1f} points ({truth['label_gap_logit']:+.2f} logit)" if labelled else
            "none", gap, "interval excludes 0 and covers the planted value" if labelled else
            "interval covers 0",
            (lambda v, lo, hi, g=gap: (hi < 0 or lo > 0) and lo <= g <= hi) if labelled
            else _covers(0.0)))
        checks.append(_row(
            name, model, d, "true_risk", "true-risk part (legitimate age difference)",
            f"young twins' true log-odds {truth['risk_shift_logit']:+.2f} when "
            f"{config.fairness.twin_age_shift:g} y older" if legit else "none", None,
            "negative, interval excludes 0" if legit else "interval covers 0",
            (lambda v, lo, hi: hi < 0) if legit else _covers(0.0)))
        checks.append(_row(name, model, d, "residual", "residual (everything else)", "none",
                           0.0, "interval covers 0", _covers(0.0)))
    top = [r.get("feature") for r in (result.fairness or {}).get("proxy_audit", [])[:2]]
    planted_proxies = [c for c in truth["proxies"] if c in _AGE_PATH_COLUMNS][:2]
    if path and planted_proxies:
        checks.append(Check(name, "(population)", "proxy audit ranks the planted proxies "
                            "first", ", ".join(planted_proxies), None, None, None, None,
                            "top 2: " + ", ".join(map(str, top)),
                            set(planted_proxies) <= set(top)))
    return checks


def validate(names: Sequence[str] | None = None, directory: Path = SCENARIO_DIR,
             overrides: dict[str, Any] | None = None,
             on_scenario: Callable[[str], None] | None = None) -> pd.DataFrame:
    """Validate each scenario; one row per check (see :class:`Check`).

    ``overrides`` (dotted keys, e.g. ``{"population.n_citizens": 4000, "seed": 3}``)
    apply to every scenario.
    """
    rows: list[dict[str, Any]] = []
    for name, config in scenario_configs(names, directory).items():
        if on_scenario is not None:
            on_scenario(name)
        if overrides:
            config = config.with_(overrides)
        rows += [asdict(c) for c in validate_scenario(name, config)]
    return pd.DataFrame(rows, columns=[f for f in Check.__dataclass_fields__])
