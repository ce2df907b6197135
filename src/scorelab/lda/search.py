"""The search: candidates trained in batches under the study's folds, scored, stopped.

Every candidate is fitted on the study's folds by the study's own fold engine (through
:mod:`scorelab.lda.engine`, which shares LightGBM's binned folds across candidates and
gives the same numbers), so its out-of-fold probabilities are comparable with the
reference's citizen by citizen (paired DeLong tests, paired bootstrap). After each
batch the stopping bound (:mod:`scorelab.lda.stopping`) is updated; the search stops when
it falls below ``lda.stop_bound``, when the budget of candidates is spent or when
``lda.max_minutes`` have passed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from scorelab.config import ExperimentConfig, ModelSpec, TablePopulation, age_attribute
from scorelab.core.jsonable import dumps
from scorelab.core.scale import decide, scale_from_config
from scorelab.data.synthetic import Population
from scorelab.engine import (
    FitSample,
    Fold,
    PreparedModel,
    Progress,
    fit_folds,
    make_folds,
)
from scorelab.evaluate.compare import delong_test
from scorelab.evaluate.costs import Costs, citizen_costs
from scorelab.evaluate.metrics import auc, ks
from scorelab.exceptions import ConfigError
from scorelab.lda.disparity import (
    ProtectedGroups,
    approve_share,
    bootstrap_weights,
    disparity_columns,
    group_approvals,
    protected_groups,
)
from scorelab.lda.engine import fit_candidates, prepare_specs
from scorelab.lda.frontier import choose, non_dominated, serves_need
from scorelab.lda.space import (
    Candidate,
    candidate_space,
    draw_order,
    lda_attribute,
    proxies_of,
    reference_spec,
)
from scorelab.lda.stopping import remaining_gain_bound
from scorelab.lda.thresholds import group_threshold_point
from scorelab.lda.truthcheck import truth_check
from scorelab.lda.verdict import (
    changes,
    decision_column,
    overall,
    simultaneous_bounds,
    verdict_of,
)
from scorelab.models.registry import build_model

__all__ = ["LdaSearch", "Setting", "check_request", "run_search"]

#: How the space names its candidates (:func:`scorelab.lda.space.candidate_space`).
CANDIDATE_NAME = re.compile(r"c\d{3,}_.+")
#: Called after each batch with (candidates trained, budget, current bound).
BatchReport = Callable[[int, int, float], None]


@dataclass
class Setting:
    """What every candidate is judged against: the data, the folds and the reference."""

    frame: pd.DataFrame
    y: np.ndarray
    folds: list[Fold]
    reference: PreparedModel
    p_ref: np.ndarray
    rate: float
    groups: ProtectedGroups
    weights: np.ndarray
    held: pd.DataFrame | None
    costs: Costs | None = None  # decision.costs: expected cost is scored too


@dataclass
class LdaSearch:
    """The search's outcome, before anything is written."""

    setting: Setting
    table: pd.DataFrame
    reference: dict[str, Any]
    choices: list[dict[str, Any]]
    stopping: dict[str, Any]
    thresholds: dict[str, Any]
    specs: dict[str, ModelSpec]
    proxies: list[str]
    oof: dict[str, np.ndarray]
    truth: dict[str, Any] | None = None
    verdict: dict[str, Any] = field(default_factory=dict)  # the best decision reached
    reference_spec: ModelSpec | None = None
    space_size: int = 0
    timings: dict[str, float] = field(default_factory=dict)


def check_request(config: ExperimentConfig, reference: str | None, budget: int | None
                  ) -> tuple[ModelSpec, int]:
    """The one-line refusals that need no data: budget, reference, attribute, space, and
    a model named like a candidate (the chosen ones join the run's models by name)."""
    if budget is not None and budget < 1:
        raise ConfigError(f"--budget: {budget} candidates; give at least 1 (lda.budget is "
                          f"{config.lda.budget})")
    for model in config.models:
        if CANDIDATE_NAME.fullmatch(model.name):
            raise ConfigError(f"models: '{model.name}' is named like a candidate of the "
                              "search (c<number>_<kind>), whose chosen ones join the run's "
                              f"models; rename it (e.g. my_{model.name})")
    spec = reference_spec(config, reference)
    lda_attribute(config)
    for candidate in candidate_space(config, config.lda.proxies or []):
        build_model(candidate.spec)  # an unknown parameter in lda.params: one line now
    return spec, budget or config.lda.budget


def _holdout(y: np.ndarray, share: float, seed: int) -> np.ndarray:
    """A stratified held-out mask (real tables: the check's rows, never searched)."""
    rng = np.random.default_rng([seed, 29])
    hold = np.zeros(y.size, dtype=bool)
    for value in (0, 1):
        rows = np.flatnonzero(y == value)
        hold[rng.choice(rows, round(share * rows.size), replace=False)] = True
    return hold


def _prepare(config: ExperimentConfig, specs: list[ModelSpec], population: Population,
             real_table: bool) -> list[PreparedModel]:
    return prepare_specs(config, specs, population.schema)


def _setting(config: ExperimentConfig, population: Population, ref_spec: ModelSpec,
             reference_oof: np.ndarray | None, progress: Progress | None) -> Setting:
    real_table = isinstance(config.population, TablePopulation)
    frame = population.frame
    y_all = frame[population.schema.target].to_numpy().astype(np.int64)
    held = None
    if real_table:  # the check's rows are held out of the whole search
        hold = _holdout(y_all, config.lda.holdout, config.seed)
        held = frame[hold].reset_index(drop=True)
        frame = frame[~hold].reset_index(drop=True)
        reference_oof = None
    y = frame[population.schema.target].to_numpy().astype(np.int64)
    ev = config.evaluation
    folds = make_folds(y, ev.folds, ev.repeats, config.seed)
    reference = _prepare(config, [ref_spec], population, real_table)[0]
    if reference_oof is None:
        reference_oof = fit_folds([reference], frame, y, folds, ev.n_jobs, progress,
                                  sample=FitSample.of(config.compute.sample_size, config.seed)).oof[reference.name]
    p_ref = np.nanmean(np.atleast_2d(reference_oof), axis=0)
    scale = scale_from_config(config.scale)
    approved, _ = decide(scale.points(p_ref), config.decision)
    rate = float(np.mean(approved))
    good = (frame["true_default"] if "true_default" in frame else
            frame[population.schema.target]).to_numpy() == 0
    attribute = lda_attribute(config)
    groups = protected_groups(frame, list(config.fairness.attributes), attribute,
                              age_attribute(config), config.lda.young_below,
                              approve_share(p_ref, rate)[0], good,
                              config.fairness.min_group_size)
    if attribute not in groups.masks or groups.masks[attribute].all() \
            or not groups.masks[attribute].any():
        raise ConfigError(f"lda.attribute: '{attribute}' has no protected group and "
                          "comparison group in this population (lda.young_below: "
                          f"{config.lda.young_below:g})")
    weights = bootstrap_weights(y.size, config.lda.bootstrap, config.seed)
    given = config.decision.costs
    costs = None if given is None else Costs(given.false_accept, given.false_reject)
    return Setting(frame, y, folds, reference, p_ref, rate, groups, weights, held, costs)


def _score(s: Setting, names: list[str], p: np.ndarray) -> pd.DataFrame:
    """Accuracy and disparity of candidate rows ``p`` (k, n), paired with the reference."""
    approved = approve_share(p, s.rate)
    columns = disparity_columns(p, approved, s.groups)
    primary = s.groups.primary
    rows = []
    truth = s.frame["true_default"].to_numpy() if "true_default" in s.frame else None
    for i, name in enumerate(names):
        test = delong_test(s.y, s.p_ref, p[i])
        row = {"candidate": name, "auc": test["auc_b"], "ks": ks(s.y, p[i]),
               "auc_loss": test["diff"], "auc_loss_se": test["se"],
               "auc_true": auc(truth, p[i]) if truth is not None else np.nan}
        row.update({k: float(v[i]) for k, v in columns.items()})
        rows.append(row)
    table = pd.DataFrame(rows)
    table["disparity"] = (1.0 - table[f"air_{primary}"]).abs()
    if s.costs is not None:
        _expected_costs(s, approved, table)
    return table


def _expected_costs(s: Setting, approved: np.ndarray, table: pd.DataFrame) -> None:
    """Expected cost per applicant of each candidate's decisions (the reference's approval
    rate, observed outcome), with a 95% percentile interval from the shared bootstrap
    weights (so that candidates are compared on the same resamples)."""
    cost = np.vstack([citizen_costs(s.y, row, s.costs) for row in approved])  # (k, n)
    replicates = (s.weights @ cost.T) / s.weights.sum(axis=1, keepdims=True)  # (B, k)
    low, high = np.quantile(replicates, [0.025, 0.975], axis=0)
    table["expected_cost"] = cost.mean(axis=1)
    table["expected_cost_low"], table["expected_cost_high"] = low, high


def _replicate_disparity(s: Setting, p: np.ndarray) -> np.ndarray:
    """Bootstrap replicates (B, k) of ``|1 - AIR|`` of the search's attribute."""
    mask = s.groups.masks[s.groups.primary]
    inside, outside = group_approvals(approve_share(p, s.rate), mask, s.weights)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.abs(1.0 - inside / outside)


def _stop_values(table: pd.DataFrame, reference: float, tolerance: float, alpha: float
                 ) -> np.ndarray:
    ok = serves_need(table["auc_loss"], table["auc_loss_se"], tolerance, alpha)
    return np.where(ok, table["disparity"].to_numpy(), reference)


def run_search(config: ExperimentConfig, population: Population, reference: str | None = None,
               budget: int | None = None, reference_oof: np.ndarray | None = None,
               progress: Progress | None = None, on_batch: BatchReport | None = None
               ) -> LdaSearch:
    """Search the space of ``config.lda`` for less discriminatory alternatives (no I/O)."""
    lda = config.lda
    ref_spec, budget = check_request(config, reference, budget)
    start = time.monotonic()
    s = _setting(config, population, ref_spec, reference_oof, progress)
    proxies = proxies_of(config, s.frame, population.schema, s.groups.primary)
    space = candidate_space(config, proxies)
    order = draw_order(len(space), config.seed)[:budget]
    ref_row = _score(s, [ref_spec.name], s.p_ref[None, :]).iloc[0].to_dict()
    ref_reps = _replicate_disparity(s, s.p_ref[None, :])[:, 0]
    tables, reductions, history = [], [], []
    oof: dict[str, np.ndarray] = {}
    stopped = "budget"
    for check, first in enumerate(range(0, len(order), lda.batch_size), start=1):
        batch = [space[i] for i in order[first:first + lda.batch_size]]
        models = _prepare(config, [c.spec for c in batch], population, s.held is not None)
        fits = fit_candidates(models, s.frame, s.y, s.folds, config.evaluation.n_jobs,
                              progress, FitSample.of(config.compute.sample_size, config.seed))
        p = np.vstack([np.nanmean(fits.oof[m.name], axis=0) for m in models])
        table = _score(s, [m.name for m in models], p)
        oof.update(zip([m.name for m in models], p, strict=True))
        table["batch"] = check
        table["fit_seconds"] = [fits.fit_seconds[m.name] for m in models]
        tables.append(table)
        reductions.append(ref_reps[:, None] - _replicate_disparity(s, p))
        seen = pd.concat(tables, ignore_index=True)
        bound = max(remaining_gain_bound(
            _stop_values(seen, ref_row["disparity"], t, lda.alpha), ref_row["disparity"],
            lda.batch_size, check, lda.confidence) for t in lda.tolerances)
        history.append({"candidates": len(seen), "bound": bound})
        if on_batch is not None:
            on_batch(len(seen), len(order), bound)
        if bound <= lda.stop_bound:
            stopped = "bound"
            break
        if len(seen) == len(space):
            stopped = "space"
            break
        if lda.max_minutes is not None and time.monotonic() - start > 60 * lda.max_minutes:
            stopped = "time"
            break
    table = pd.concat(tables, ignore_index=True)
    reps = np.hstack(reductions)
    table["frontier"] = non_dominated(table["auc"].to_numpy(), table["disparity"].to_numpy())
    by_name = {c.name: c for c in space}
    _describe(table, by_name, ref_spec, lda.tolerances, lda.alpha)
    table["reduction_low"], table["reduction_high"] = simultaneous_bounds(reps, lda.alpha)
    choices = [choose(table, ref_row, t, lda.alpha) for t in lda.tolerances]
    best = min((c["reduction"] for c in choices if c["chosen"]), default=None)
    target = ref_row["disparity"] - best if best is not None else 0.0
    thresholds = group_threshold_point(s.y, s.p_ref, s.groups.masks[s.groups.primary],
                                       s.rate, target)
    chosen = {}
    for choice in choices:
        if choice["chosen"] and choice["chosen"] not in chosen:
            spec = by_name[choice["chosen"]].spec
            chosen[choice["chosen"]] = (spec, choice["tolerance"])
    truth = truth_check(config, population, s.frame, s.held, ref_spec, chosen,
                        s.groups.member)
    verdicts = _verdicts(table, choices, ref_row["disparity"], truth, by_name, ref_spec)
    return LdaSearch(
        setting=s, table=table, truth=truth, verdict=overall(verdicts),
        reference_spec=ref_spec,
        reference={"name": ref_spec.name, **{k: _plain(v) for k, v in ref_row.items()
                                             if k != "candidate"}},
        choices=choices,
        stopping={"bound": history[-1]["bound"], "stop_bound": lda.stop_bound,
                  "confidence": lda.confidence, "batch_size": lda.batch_size,
                  "stopped_because": stopped, "budget": budget, "space_size": len(space),
                  "history": history},
        thresholds=thresholds, specs={c.name: c.spec for c in space}, proxies=proxies, oof=oof,
        space_size=len(space), timings={"search": time.monotonic() - start})


def _verdicts(table: pd.DataFrame, choices: list[dict[str, Any]], reference: float,
              truth: dict[str, Any], by_name: dict[str, Candidate], ref_spec: ModelSpec
              ) -> list[dict[str, Any]]:
    """Each tolerance's decision (:func:`scorelab.lda.verdict.verdict_of`), written into its
    choice (frontier.json) and into the candidates table's ``decision_<t>`` column, so
    the two cannot disagree."""
    checked = {r["model"]: r for r in truth["rows"][1:]}
    rows = table.set_index("candidate", drop=False)
    verdicts = []
    for choice in choices:
        name, t = choice["chosen"], choice["tolerance"]
        verdict = verdict_of(t, None if name is None else rows.loc[name].to_dict(), reference,
                         choice["serving"], len(table), checked.get(name), truth["on"])
        choice.update(decision=verdict["decision"], reason=verdict["reason"],
                      statement=verdict["statement"], bound=verdict["bound"],
                      auc_loss=verdict["auc_loss"],
                      changes=None if name is None else changes(by_name[name].spec, ref_spec))
        column = decision_column(t)
        table[column] = ""
        if name is not None:
            table.loc[table["candidate"] == name, column] = verdict["decision"]
        verdicts.append(verdict)
    return verdicts


def _describe(table: pd.DataFrame, by_name: dict[str, Candidate], ref_spec: ModelSpec,
              tolerances: list[float], alpha: float) -> None:
    """The axes of each candidate, and what it changed against the reference, as columns
    of the candidates table."""
    specs = [by_name[n].spec for n in table["candidate"]]
    table["family"] = [s.family for s in specs]
    table["kind"] = [s.kind for s in specs]
    table["dropped"] = [",".join(s.drop_features) for s in specs]
    table["changes"] = ["; ".join(changes(s, ref_spec)) for s in specs]
    table["seed"] = [by_name[n].seed if by_name[n].seed is not None else -1
                     for n in table["candidate"]]
    table["params"] = [dumps(s.params, indent=None, sort_keys=True) for s in specs]
    for t in tolerances:
        table[f"serves_{t:g}"] = serves_need(table["auc_loss"], table["auc_loss_se"], t, alpha)


def _plain(value: Any) -> Any:
    return float(value) if isinstance(value, np.floating | float | int) else value
