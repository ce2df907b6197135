"""Do the run's 95% intervals contain the population value?

Every interval scorelab reports about a population (AUC, the young band's approval
ratio, the parts of the age gap) is a bootstrap of the audited citizens with the models
held fixed. So its target is the value those fixed models have on the whole population
the citizens were drawn from. This module checks that, as a statistician would:

1. each configured model is trained once, on a training draw of the population model
   (and, when ``fairness.label_bias_refit`` is on, once more on the true outcome);
2. the population value of each statistic is computed on a very large draw (by default
   100 times a draw's citizens: its own sampling error is then a tenth of a draw's
   standard deviation; at 10 times it was a third, and it showed as a bias of up to 0.4
   standard deviations, which an interval of the right width then misses more often);
3. the population is re-drawn ``draws`` times (new seeds, same causal model), each draw
   is scored by the fixed models and gets its intervals exactly as a run computes them
   (:func:`scorelab.evaluate.metrics.bootstrap_intervals`,
   :func:`scorelab.fairness.groups.group_metrics`,
   :func:`scorelab.fairness.age.age_gap_decomposition`);
4. coverage is the share of draws whose interval contains the population value.

The fold spread a run adds to the fit-dependent parts does not apply here (the models
are fixed), so this checks the citizen bootstrap itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from scorelab.config import Decision, Fairness, SyntheticPopulation
from scorelab.core.ages import AgeSpec
from scorelab.core.scale import ScoreScale, decide
from scorelab.data.groups import band_name
from scorelab.data.synthetic import counterfactual_twins, generate_population
from scorelab.engine import FitSample, PreparedModel, fit_final
from scorelab.evaluate.metrics import auc, bootstrap_intervals
from scorelab.exceptions import ConfigError
from scorelab.fairness.age import DECOMPOSITION_PARTS, age_gap_decomposition
from scorelab.fairness.groups import group_metrics

__all__ = ["REFERENCE_MULTIPLE", "coverage_summary", "interval_coverage"]

#: Seed offsets of the training draw, the reference draw and the re-drawn populations.
_REFERENCE_SEED, _DRAW_SEED = 1, 1000
#: The reference draw holds this many times a draw's citizens (unless given).
REFERENCE_MULTIPLE = 100


@dataclass(frozen=True)
class _Setting:
    """What the statistics of one draw read besides the models."""

    population: SyntheticPopulation
    fairness: Fairness
    decision: Decision
    scale: ScoreScale
    age: AgeSpec


def _draw(setting: _Setting, n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A population of ``n`` citizens and their twins ``twin_age_shift`` years older."""
    pop = setting.population.model_copy(update={"n_citizens": n})
    shift = setting.fairness.twin_age_shift
    frame = generate_population(pop, seed).frame
    twin = counterfactual_twins(pop, seed, {"age": lambda a: a + shift}).frame
    return frame, twin


def _statistics(setting: _Setting, models: list[Any], fitted: dict[str, Any],
                true_fitted: dict[str, Any] | None, frame: pd.DataFrame,
                twin: pd.DataFrame, bootstrap: int, seed: int) -> list[dict[str, Any]]:
    """Each model's statistics on one draw: value and interval (bootstrap > 0)."""
    fair, scale = setting.fairness, setting.scale
    young = setting.age.young(frame["age"].to_numpy(dtype=float))
    y, y_true = frame["defaulted"].to_numpy(), frame["true_default"].to_numpy()
    rows: list[dict[str, Any]] = []
    for m in models:
        p = fitted[m.name].predict_proba(frame[m.columns])[:, 1]
        points = scale.points(p)
        twin_points = scale.points(fitted[m.name].predict_proba(twin[m.columns])[:, 1])
        approved, _ = decide(points, setting.decision)
        tl = tl_twin = None
        if true_fitted is not None:
            tl = scale.points(true_fitted[m.name].predict_proba(frame[m.columns])[:, 1])
            tl_twin = scale.points(true_fitted[m.name].predict_proba(twin[m.columns])[:, 1])
        d = age_gap_decomposition(points, young, frame["true_pd"].to_numpy(), twin_points,
                                  twin["true_pd"].to_numpy(), tl, y, y_true,
                                  bootstrap=bootstrap, seed=seed,
                                  twin_points_true_label=tl_twin,
                                  age=frame["age"].to_numpy(dtype=float),
                                  twin_age=twin["age"].to_numpy(dtype=float))
        for part in DECOMPOSITION_PARTS:
            lo, hi = (d.get("intervals") or {}).get(part, (np.nan, np.nan))
            rows.append({"model": m.name, "statistic": f"age gap: {part}", "value": d[part],
                         "low": lo, "high": hi})
        lo = hi = np.nan
        if bootstrap:
            lo, hi = bootstrap_intervals(y, p, n_boot=bootstrap, seed=seed)["auc"]
        rows.append({"model": m.name, "statistic": "auc", "value": auc(y, p),
                     "low": lo, "high": hi})
        cfg = fair.model_copy(update={"attributes": ["age"], "intersections": [],
                                      "bootstrap": bootstrap})
        table = group_metrics(y, None, p, points, approved, frame, cfg, seed=seed)
        row = table[(table["attribute"] == band_name("age"))
                    & (table["metric"] == "approval_rate")].iloc[0]  # the youngest band
        rows.append({"model": m.name, "statistic": f"approval ratio {row['group']} / "
                     f"{row['reference_group']}", "value": row["ratio"],
                     "low": row["ratio_ci_low"], "high": row["ratio_ci_high"]})
    return rows


def interval_coverage(population: SyntheticPopulation, models: list[PreparedModel], *,
                      fairness: Fairness, decision: Decision, scale: ScoreScale,
                      age: AgeSpec, seed: int, sample: FitSample | None = None,
                      draws: int = 20, n_citizens: int = 2000,
                      reference_citizens: int | None = None, bootstrap: int | None = None,
                      on_draw: Callable[[pd.DataFrame], None] | None = None
                      ) -> pd.DataFrame:
    """Intervals of ``draws`` re-drawn populations against the population values.

    ``models`` are trained once on a draw of ``population`` (and once more on the true
    outcome with ``fairness.label_bias_refit``). Returns one row per draw, model and
    statistic: draw, seed, model, statistic, value, low, high, population_value,
    covered. ``reference_citizens`` (the draw the population values come from) defaults
    to :data:`REFERENCE_MULTIPLE` times ``n_citizens``. ``bootstrap`` defaults to
    ``fairness.bootstrap``. ``on_draw`` is given the
    rows so far after each draw (a long measurement can report, and keep, as it goes).
    """
    if not isinstance(population, SyntheticPopulation):
        raise ConfigError("interval coverage needs a synthetic population (re-drawn from "
                          "its causal model)")
    if draws < 1 or n_citizens < 100:
        raise ConfigError(f"coverage needs draws >= 1 and n_citizens >= 100 (got {draws}, "
                          f"{n_citizens})")
    setting = _Setting(population, fairness, decision, scale, age)
    boot = int(fairness.bootstrap if bootstrap is None else bootstrap)
    if reference_citizens is None:
        reference_citizens = REFERENCE_MULTIPLE * n_citizens
    train, _ = _draw(setting, n_citizens, seed)
    fitted = fit_final(models, train, train["defaulted"].to_numpy().astype(np.int64),
                       n_jobs=1, sample=sample)
    true_fitted = None
    if fairness.label_bias_refit:
        true_fitted = fit_final(models, train,
                                train["true_default"].to_numpy().astype(np.int64),
                                n_jobs=1, sample=sample)
    ref_frame, ref_twin = _draw(setting, reference_citizens, seed + _REFERENCE_SEED)
    reference = {(r["model"], r["statistic"]): r["value"] for r in _statistics(
        setting, models, fitted, true_fitted, ref_frame, ref_twin, 0, 0)}
    rows = []
    for k in range(draws):
        draw_seed = seed + _DRAW_SEED + k
        frame, twin = _draw(setting, n_citizens, draw_seed)
        for r in _statistics(setting, models, fitted, true_fitted, frame, twin, boot,
                             draw_seed):
            target = reference.get((r["model"], r["statistic"]), np.nan)
            rows.append({"draw": k, "seed": draw_seed, **r, "population_value": target,
                         "covered": bool(r["low"] <= target <= r["high"])})
        if on_draw is not None:
            on_draw(pd.DataFrame(rows))
    return pd.DataFrame(rows)


def coverage_summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Coverage per statistic (pooled over models): draws, intervals, covered share."""
    out = rows.groupby("statistic", sort=False).agg(
        intervals=("covered", "size"), covered=("covered", "sum"),
        coverage=("covered", "mean"), mean_width=("high", "mean"))
    out["mean_width"] = (rows["high"] - rows["low"]).groupby(rows["statistic"],
                                                               sort=False).mean()
    return out.reset_index()

