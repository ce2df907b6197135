"""``scorelab run``: every family trained and judged under one protocol.

A short orchestrator of the stages, in the order of the data flow:
population -> folds -> fit and predict (protocol) -> metrics (evaluate) ->
explanations (explain) -> fairness -> run directory (runs, export) -> report.
Every probability about a citizen comes from a model that never saw that citizen;
every family sees exactly the same folds.
"""

from __future__ import annotations

import logging
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from scorelab.config import (
    Evaluation,
    ExperimentConfig,
    SyntheticPopulation,
    TablePopulation,
    config_hash,
    dump_config,
)
from scorelab.core.progress import step as progress_step
from scorelab.core.scale import SOCIETY_CLASSES
from scorelab.data.card import render_data_card_markdown
from scorelab.data.synthetic import Population
from scorelab.engine import (
    FitSample,
    Fold,
    FoldResults,
    PreparedModel,
    Progress,
    audit_sample,
    fit_final,
    fit_folds,
    make_folds,
    require_models,
    training_note,
    trains_on_every_row,
)
from scorelab.engine.dask.backend import DaskBackend, open_backend
from scorelab.evaluate.practice import decision_practice, policy_of
from scorelab.evaluate.summary import evaluate, predictions_table
from scorelab.evaluate.time_split import time_folds
from scorelab.exceptions import ScorelabError
from scorelab.explain.adverse_artifacts import AdverseResult, adverse_action
from scorelab.explain.artifacts import explain_folds, explanation_artifacts
from scorelab.fairness.age_rule import age_rule_artifact
from scorelab.fairness.artifacts import (
    audit_population,
    score_twins,
    true_outcome_fits,
    twin_population,
)
from scorelab.fairness.decisions import decision_counts
from scorelab.fairness.matched import matched_rate_fairness
from scorelab.models.tuning import tuning_report
from scorelab.report import build_report, report_files
from scorelab.runs.contract import (
    FORMAT_VERSION,
    FairnessReport,
    Manifest,
    ModelInfo,
    StudyInfo,
)
from scorelab.runs.interrupts import stop_on_signals
from scorelab.runs.writer import (
    RunWriter,
    Stopwatch,
    command_line,
    frame_fingerprint,
    package_versions,
    run_id,
)
from scorelab.study.export import export_models
from scorelab.study.plan import Plan
from scorelab.study.population import population_for
from scorelab.truth.planted import validity_artifact

__all__ = ["StudyResult", "TimeLimitError", "run", "run_study", "study_info"]

log = logging.getLogger(__name__)

TRUTH_SKIPPED = ("skipped: a real table has no ground truth, so the oracle AUC, AUC against "
                 "the true outcome, counterfactual twins and the label-bias split are not "
                 "computed")


class TimeLimitError(ScorelabError):
    """The run took longer than ``run.max_minutes`` (checked as each stage or fold ends)."""


@dataclass
class StudyResult:
    """Everything a run produced, in memory; ``run_dir`` is set once it is written."""

    plan: Plan
    population: Population
    card: dict[str, Any]
    models: list[PreparedModel]
    study: StudyInfo
    fits: FoldResults
    predictions: pd.DataFrame
    metrics: dict[str, Any]
    leaderboard: pd.DataFrame
    final_models: dict[str, BaseEstimator] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    run_dir: Path | None = None
    explanations: pd.DataFrame | None = None
    importance: dict[str, Any] | None = None
    fairness: FairnessReport | None = None
    fairness_by_group: pd.DataFrame | None = None
    validity: dict[str, Any] | None = None
    adverse: AdverseResult | None = None
    age_rule: dict[str, Any] | None = None

    @property
    def config(self) -> ExperimentConfig:
        return self.plan.config


def local_compute(sample: FitSample | None, models: list[PreparedModel], n: int
                  ) -> dict[str, Any] | None:
    """What study.json records of a run on this machine: which models trained on a
    seeded sample (``compute.sample_size``), when any fit had more training citizens
    than it; else nothing."""
    if sample is None or n <= sample.size or all(
            trains_on_every_row(m.estimator) for m in models):
        return None
    return {"backend": "local", "sample_size": sample.size,
            "training": {m.name: training_note(m.estimator, sample) for m in models}}


def dask_compute(backend: DaskBackend, plan: Plan, models: list[PreparedModel],
                 predictions: pd.DataFrame, frame: pd.DataFrame) -> dict[str, Any]:
    """What study.json records of a run on a Dask cluster: how each model trained, and
    the decision rates counted partition by partition on the workers."""
    fair = plan.fairness
    return {**backend.info(models), "decision_counts": decision_counts(
        predictions, frame, attributes=fair.attributes, age_bands=plan.age.bands,
        age_column=plan.age.column, missing=fair.missing_protected,
        map_partitions=backend.map_partitions)}


def study_info(plan: Plan, population: Population, models: list[PreparedModel],
               skipped: dict[str, str], compute: dict[str, Any] | None = None) -> StudyInfo:
    """What every reader of the run needs to know of the study (study.json)."""
    config, scale = plan.config, plan.scale
    table = config.population if isinstance(config.population, TablePopulation) else None
    decision = config.decision
    return StudyInfo.model_validate({
        "name": config.name, "title": config.report.title,
        "population": {"source": "table" if table else "synthetic",
                       "n_citizens": len(population.frame),
                       "target": population.schema.target,
                       "truth": "true_pd" in population.frame,
                       "table": (str(table.path) if table.path else "a DataFrame")
                       if table else None},
        "scale": {"name": scale.name, "pdo": scale.pdo, "base_score": scale.base_score,
                  "base_odds": scale.base_odds, "factor": scale.factor, "low": scale.low,
                  "high": scale.high, "bands": [list(b) for b in scale.bands]},
        "decision": {"rule": policy_of(decision),
                     "cutoff_score": decision.cutoff_score,
                     "target_approval_rate": decision.target_approval_rate},
        "society_classes": SOCIETY_CLASSES,
        "models": [ModelInfo(name=m.name, family=m.spec.family, kind=m.kind, role=m.role,
                             inputs=m.columns, dropped_features=list(m.spec.drop_features),
                             params=m.spec.model_dump(mode="json")["params"])
                   for m in models],
        "skipped_models": skipped, "compute": compute,
        "folds": config.evaluation.folds + (config.evaluation.split == "time"),
        "repeats": config.evaluation.repeats,
    })


def run_study(plan: Plan | ExperimentConfig, population: Population, card: dict[str, Any],
              progress: Progress | None = None, clock: Stopwatch | None = None,
              backend: DaskBackend | None = None) -> StudyResult:
    """Train every configured model on the same folds and measure them (no I/O).

    ``plan`` is the study's :class:`Plan` (or its config, unpacked here); each stage is
    given the sections and values it uses, never the whole config."""
    plan = Plan.of(plan)
    clock = clock or Stopwatch()
    models, skipped = plan.prepare(population.schema, n_rows=len(population.frame))
    frame = population.frame
    y = frame[population.schema.target].to_numpy().astype(np.int64)
    ev, scale, age, seed = plan.evaluation, plan.scale, plan.age, plan.seed
    with clock.stage("splits"):
        folds = _folds(ev, seed, population, y)
    with clock.stage("fit_predict"):
        fits = (backend.fit_folds(models, frame, y, folds, population.schema.target, progress)
                if backend else fit_folds(models, frame, y, folds, n_jobs=ev.n_jobs,
                                          progress=progress, train_scores=True,
                                          sample=plan.sample))
    finals: dict[str, BaseEstimator] = {}
    if plan.config.output.save_models in ("final", "both"):
        with clock.stage("fit_final"):
            finals = (backend.fit_final(models, frame, y, population.schema.target)
                      if backend else fit_final(models, frame, y, n_jobs=ev.n_jobs,
                                                sample=plan.sample))
    with clock.stage("metrics"):
        practice = decision_practice(
            models, fits, frame, y, folds, decision=plan.decision, evaluation=ev,
            scale=scale, seed=seed,
            stability_columns=list(dict.fromkeys(c for m in models for c in m.columns)))
        fits.train_p.clear()  # read by the practice stage only (models x folds x rows)
        fold_cuts = practice.cutoffs or {}
        metrics, board = evaluate(
            models, fits.oof, y, frame, folds, evaluation=ev, decision=plan.decision,
            fairness=plan.fairness, scale=scale, age=age, seed=seed,
            cutoffs={name: (cuts[0], practice.reported_cutoffs[name])
                     for name, cuts in fold_cuts.items()})
        metrics["practice"] = practice.summary
        board = board.merge(practice.board, on="model", how="left")
        metrics["skipped_models"] = skipped
        if "true_pd" not in frame:
            metrics["truth_analyses"] = TRUTH_SKIPPED
        outcomes = {"defaulted": y.astype(np.int8)}
        if "true_default" in frame:
            outcomes["true_default"] = frame["true_default"].to_numpy(dtype=np.int8)
        cutoffs = {name: fold_cuts.get(name, m["decision"]["cutoff_score"])
                   for name, m in metrics["models"].items()}
        predictions = predictions_table(models, fits.oof, folds, frame["citizen_id"].to_numpy(),
                                        scale, cutoffs, outcomes)
    result = StudyResult(plan, population, card, models,
                         study_info(plan, population, models, skipped,
                                    dask_compute(backend, plan, models, predictions, frame)
                                    if backend else local_compute(plan.sample, models, y.size)),
                         fits, predictions, metrics, board, finals, clock.seconds)
    if plan.explain.enabled:
        with clock.stage("explanations"):
            n = len(frame)
            explained, seconds = explain_folds(
                models, fits, frame, folds, audit_sample(n, plan.explain.sample_size, seed),
                audit_sample(n, min(plan.explain.agnostic_sample_size,
                                    plan.explain.sample_size), seed),
                plan.explain, seed, n_jobs=ev.n_jobs, progress=progress_step)
            result.explanations, result.importance = explanation_artifacts(
                models, explained, fits.oof, population, seconds)
    if plan.fairness.enabled:
        with clock.stage("fairness"):
            _fairness(result, folds, y)
    if plan.explain.enabled and plan.explain.reasons.enabled:
        with clock.stage("adverse_action"):
            _adverse_action(result, folds)
    return result


def _fairness(result: StudyResult, folds: list[Fold], y: np.ndarray) -> None:
    """The audit with the twins and the true-outcome models, the matched-rate audit and
    the checks against the planted truth."""
    plan, population, models = result.plan, result.population, result.models
    fair, frame, n_jobs = plan.fairness, population.frame, plan.evaluation.n_jobs
    twin_frame = twin_population(plan.config.population, plan.seed, fair.twin_age_shift,
                                 frame)
    twin_oof = (score_twins(models, result.fits, twin_frame, folds, n_jobs)
                if twin_frame is not None else {})
    true_fits = (true_outcome_fits(population, models, result.fits, folds, n_jobs=n_jobs,
                                   sample=plan.sample) if fair.label_bias_refit else None)
    true_label = None if true_fits is None else (
        {name: p[0] for name, p in true_fits.oof.items()},
        score_twins(models, true_fits, twin_frame, folds, n_jobs)
        if twin_frame is not None else {})
    audit = audit_population(population, models, result.predictions, fairness=fair,
                             decision=plan.decision, scale=plan.scale, age=plan.age,
                             seed=plan.seed, twin_oof=twin_oof, twin_frame=twin_frame,
                             explanations=result.explanations, true_label=true_label)
    result.validity = validity_artifact(
        plan.config.name, plan.config.population, frame,
        audit.report.model_dump(mode="json", exclude_unset=True), twin_frame, seed=plan.seed,
        age=plan.age, twin_age_shift=fair.twin_age_shift, features=population.features,
        inputs={m.name: m.columns for m in models})
    first = result.predictions[result.predictions["repeat"] == 0]
    matched, matched_columns = matched_rate_fairness(
        frame.assign(defaulted=y), first,
        result.metrics["practice"]["matched_approval_rate"], fairness=fair, age=plan.age,
        seed=plan.seed)
    result.fairness = audit.report.model_copy(update={"matched_rate": matched})
    result.fairness_by_group = audit.by_group
    result.leaderboard = result.leaderboard.merge(audit.columns, on="model", how="left").merge(
        matched_columns, on="model", how="left")


def _adverse_action(result: StudyResult, folds: list[Fold]) -> None:
    """Adverse-action reasons and recourse (explain) and the age rule (fairness); a
    barred input that would rank among the reasons joins the policy flags."""
    plan, population = result.plan, result.population
    cutoffs = {n: m["decision"]["cutoff_score"] for n, m in result.metrics["models"].items()}
    synthetic = plan.config.population
    result.adverse = adverse_action(
        population, result.models, result.fits, folds, result.predictions,
        result.explanations, cutoffs, explain=plan.explain,
        prohibited=plan.fairness.prohibited, scale=plan.scale, seed=plan.seed,
        synthetic=synthetic if isinstance(synthetic, SyntheticPopulation) else None)
    result.age_rule = age_rule_artifact(
        plan.age.column, population.frame, {m.name: m.columns for m in result.models},
        result.explanations, plan.age.bands,
        result.fairness.proxy_audit if result.fairness is not None else None,
        plan.fairness.bootstrap, plan.seed, factor=plan.scale.factor)
    if result.fairness is not None and result.adverse.policy_flags:
        result.fairness = result.fairness.model_copy(update={"policy_flags": [
            *result.fairness.policy_flags, *result.adverse.policy_flags]})
        if "n_policy_flags" in result.leaderboard:
            extra = pd.Series([f["model"] for f in result.adverse.policy_flags]).value_counts()
            result.leaderboard["n_policy_flags"] += result.leaderboard["model"].map(
                extra).fillna(0).astype(int)


def _folds(ev: Evaluation, seed: int, population: Population, y: np.ndarray) -> list[Fold]:
    """Stratified folds, or (evaluation.split: time) folds of the earlier applications
    plus the out-of-time fold of the latest ones."""
    if ev.split != "time":
        return make_folds(y, ev.folds, ev.repeats, seed)
    (date_column,) = population.schema.with_role("date")
    return time_folds(y, population.frame[date_column].to_numpy(), ev.folds, ev.repeats,
                      seed, ev.time_test_share, date_column)


def run(config: ExperimentConfig, runs_dir: Path | None = None,
        progress: Progress | None = None, population: pd.DataFrame | None = None,
        on_stage: Callable[[str, float], None] | None = None,
        after_study: Callable[[RunWriter, StudyResult], None] | None = None) -> StudyResult:
    """The whole study: population, protocol, metrics, and the run directory.

    ``population`` is a table study's table given as a DataFrame (instead of a file).
    ``after_study(writer, result)`` adds artifacts of a command built on the study (e.g.
    ``scorelab lda``) before the manifest is written, inside the same guards.

    The run folder is claimed first (so an unwritable location fails before any work)
    and published only when every artifact is written; on any failure, on SIGINT or
    SIGTERM (:mod:`scorelab.runs.interrupts`) or past ``run.max_minutes`` it is removed.
    """
    require_models(config.models)  # a bad model spec fails before any work or folder
    plan = Plan.of(config)
    digest = config_hash(config)
    on_stage, progress = _time_limit(config, on_stage, progress)
    clock = Stopwatch(on_stage)
    # The cluster (compute.backend: dask) opens first: an unreachable one claims no folder.
    with open_backend(config.compute, config.seed) as backend, stop_on_signals() as guard:
        writer: RunWriter | None = None

        def discard() -> None:  # registered first: a signal at any point leaves nothing
            if writer is not None:
                writer.discard()

        guard.cleanups.append(discard)
        try:
            writer = RunWriter(runs_dir or config.output.runs_dir, run_id(config.name, digest))
            with clock.stage("generate"):
                people, card = population_for(plan, frame=population,
                                              generator=backend.generate if backend else None)
            result = run_study(plan, people, card, progress=progress, clock=clock,
                               backend=backend)
            with clock.stage("write"):
                _write_artifacts(writer, result)
            if after_study is not None:
                after_study(writer, result)
            _write_manifest(writer, result, digest)
            with clock.stage("report"):
                build_report(writer.tmp, unpublished=True)  # reads only the unpublished folder
            result.run_dir = writer.publish()
            guard.committed = True
        except BaseException as exc:
            discard()
            if isinstance(exc, TimeLimitError):
                _cancel_fits(exc)
            raise
    return result


def _cancel_fits(exc: BaseException) -> None:
    """Stop the fold fits still in flight now, not whenever the traceback is collected.

    The limit is checked between fold results, outside joblib, so the parallel fit is
    left suspended; dropping the traceback's frames closes it (joblib cancels the rest,
    and would warn that it did: that is the point here).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        traceback.clear_frames(exc.__traceback__)


def _time_limit(config: ExperimentConfig, on_stage: Callable[[str, float], None] | None,
                progress: Progress | None) -> tuple[Callable[[str, float], None] | None,
                                                    Progress | None]:
    """The stage and fold callbacks, also checking ``run.max_minutes`` as each one ends.

    A fit or a stage itself is never cut short (no safe point inside native code): the
    run stops at the next stage or fold boundary, like a failure, leaving nothing.
    """
    limit = config.run.max_minutes
    if limit is None:
        return on_stage, progress
    deadline = time.monotonic() + 60 * limit

    def check(after: str) -> None:
        if time.monotonic() > deadline:
            raise TimeLimitError(f"run.max_minutes: the run took longer than {limit:g} "
                                 f"minute(s) and was stopped after {after}; nothing was kept "
                                 "(raise the limit or make the study smaller)")

    def stage_ended(name: str, seconds: float) -> None:
        if on_stage is not None:
            on_stage(name, seconds)
        check(f"stage '{name}'")

    def fold_ended(done: int, total: int) -> None:
        if progress is not None:
            progress(done, total)
        check(f"{done} of {total} fold fits")

    return stage_ended, fold_ended


def _write_artifacts(writer: RunWriter, result: StudyResult) -> None:
    config = result.config
    writer.write_text("config.resolved.yaml", dump_config(config))
    writer.write_json("study.json", result.study)
    writer.write_json("data_card.json", result.card)
    writer.write_text("data_card.md", render_data_card_markdown(result.card))
    writer.write_parquet("population.parquet", result.population.frame)
    writer.write_parquet("predictions.parquet", result.predictions)
    writer.write_json("metrics.json", result.metrics)
    result.leaderboard.to_csv(writer.path("leaderboard.csv"), index=False)
    if result.explanations is not None:
        writer.write_parquet("explanations.parquet", result.explanations)
        writer.write_json("importance.json", result.importance)
    if result.fairness is not None:
        writer.write_json("fairness.json",
                          result.fairness.model_dump(mode="json", exclude_unset=True))
        writer.write_parquet("fairness_by_group.parquet", result.fairness_by_group)
    if result.validity is not None:
        writer.write_json("validity.json", result.validity)
    if result.adverse is not None:
        writer.write_json("adverse_action.json", result.adverse.summary)
        writer.write_parquet("adverse_reasons.parquet", result.adverse.reasons)
        writer.write_parquet("recourse.parquet", result.adverse.recourse)
    if result.age_rule is not None:
        writer.write_json("age_rule.json", result.age_rule)
    tuning = tuning_report(result.models, result.fits, config.evaluation.tuning)
    if tuning is not None:
        writer.write_json("tuning.json", tuning)
    if config.output.save_models != "none":
        fits = result.fits
        if config.output.save_models == "final":
            fits = FoldResults(fits.oof)
        export_models(writer, result.models, fits, result.final_models,
                      result.population.frame, result.population.schema, result.metrics,
                      result.fairness.models if result.fairness is not None else None,
                      result.study.population.source,
                      n_jobs=config.evaluation.n_jobs)


def _write_manifest(writer: RunWriter, result: StudyResult, digest: str) -> None:
    """Written last: a run with a manifest is a complete run."""
    writer.write_json("manifest.json", Manifest(
        format_version=FORMAT_VERSION, status="complete", run_id=writer.final.name,
        created=datetime.now(UTC).isoformat(timespec="seconds"), seed=result.config.seed,
        config_hash=digest, command=command_line(), versions=package_versions(),
        data_fingerprint=frame_fingerprint(result.population.frame),
        n_citizens=int(len(result.population.frame)), models=[m.name for m in result.models],
        timings_seconds=result.timings,
        artifacts=sorted([*writer.files(), "manifest.json",
                          *report_files(result.config.report.formats)])))
