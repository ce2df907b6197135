"""``scorelab run``: every family trained and judged under one protocol.

A short orchestrator of the stages, in the order of design.md's data flow:
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

from scorelab.compute.backend import DaskBackend, open_backend
from scorelab.config import (
    ExperimentConfig,
    TablePopulation,
    age_attribute,
    config_hash,
    dump_config,
)
from scorelab.data.card import render_data_card_markdown
from scorelab.data.synthetic import Population
from scorelab.evaluate.practice import decision_practice, policy_of
from scorelab.evaluate.summary import evaluate, predictions_table
from scorelab.evaluate.time_split import time_folds
from scorelab.exceptions import ScorelabError
from scorelab.explain.adverse_artifacts import AdverseResult, adverse_action
from scorelab.explain.artifacts import explain_folds, explanation_artifacts
from scorelab.export import export_models
from scorelab.fairness.artifacts import (
    fairness_artifacts,
    score_twins,
    true_outcome_fits,
    twin_population,
)
from scorelab.fairness.age_rule import age_rule_artifact
from scorelab.fairness.planted import validity_artifact
from scorelab.fairness.matched import matched_rate_fairness
from scorelab.generate import population_for
from scorelab.models.tuning import tuning_report
from scorelab.progress import step as progress_step
from scorelab.protocol import (
    FitSample,
    Fold,
    FoldResults,
    PreparedModel,
    Progress,
    audit_sample,
    fit_final,
    fit_folds,
    make_folds,
    prepare_models,
    training_note,
    trains_on_every_row,
    validate_models,
)
from scorelab.report import build_report, report_files
from scorelab.runs.contract import FORMAT_VERSION, Manifest, ModelInfo, StudyInfo
from scorelab.runs.interrupts import stop_on_signals
from scorelab.runs.writer import (
    RunWriter,
    Stopwatch,
    command_line,
    frame_fingerprint,
    package_versions,
    run_id,
)
from scorelab.scale import SOCIETY_CLASSES, scale_from_config

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

    config: ExperimentConfig
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
    fairness: dict[str, Any] | None = None
    fairness_by_group: pd.DataFrame | None = None
    validity: dict[str, Any] | None = None
    adverse: AdverseResult | None = None
    age_rule: dict[str, Any] | None = None


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


def study_info(config: ExperimentConfig, population: Population,
               models: list[PreparedModel], skipped: dict[str, str],
               compute: dict[str, Any] | None = None) -> StudyInfo:
    """What every reader of the run needs to know of the study (study.json)."""
    scale = scale_from_config(config.scale)
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
        "decision": {"rule": policy_of(config),
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


def run_study(config: ExperimentConfig, population: Population, card: dict[str, Any],
              progress: Progress | None = None, clock: Stopwatch | None = None,
              backend: DaskBackend | None = None) -> StudyResult:
    """Train every configured model on the same folds and measure them (no I/O)."""
    clock = clock or Stopwatch()
    real_table = population.meta.get("source") == "table"
    models, skipped = prepare_models(config, population.schema, real_table=real_table)
    frame = population.frame
    y = frame[population.schema.target].to_numpy().astype(np.int64)
    ev = config.evaluation
    with clock.stage("splits"):
        folds = _folds(config, population, y)
    sample = FitSample.of(config)
    with clock.stage("fit_predict"):
        fits = (backend.fit_folds(models, frame, y, folds, population.schema.target, progress)
                if backend else fit_folds(models, frame, y, folds, n_jobs=ev.n_jobs,
                                          progress=progress, train_scores=True,
                                          sample=sample))
    finals: dict[str, BaseEstimator] = {}
    if config.output.save_models in ("final", "both"):
        with clock.stage("fit_final"):
            finals = (backend.fit_final(models, frame, y, population.schema.target)
                      if backend else fit_final(models, frame, y, n_jobs=ev.n_jobs,
                                                sample=sample))
    with clock.stage("metrics"):
        practice = decision_practice(models, fits, frame, y, folds, config, list(
            dict.fromkeys(c for m in models for c in m.columns)))
        fits.train_p.clear()  # read by the practice stage only (models x folds x rows)
        fold_cuts = practice.cutoffs or {}
        metrics, board = evaluate(models, fits.oof, y, frame, folds, config, {
            name: (cuts[0], practice.reported_cutoffs[name]) for name, cuts in fold_cuts.items()})
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
                                        config, cutoffs, outcomes)
    result = StudyResult(config, population, card, models,
                         study_info(config, population, models, skipped,
                                    backend.info(models, predictions, frame) if backend
                                    else local_compute(sample, models, y.size)), fits,
                         predictions,
                         metrics, board, finals, clock.seconds)
    if config.explain.enabled:
        with clock.stage("explanations"):
            n = len(frame)
            explained, seconds = explain_folds(
                models, fits, frame, folds, audit_sample(n, config.explain.sample_size,
                                                         config.seed),
                audit_sample(n, min(config.explain.agnostic_sample_size,
                                    config.explain.sample_size), config.seed),
                config.explain, config.seed, n_jobs=ev.n_jobs, progress=progress_step)
            result.explanations, result.importance = explanation_artifacts(
                models, explained, fits.oof, population, seconds)
    if config.fairness.enabled:
        with clock.stage("fairness"):
            twin_frame = twin_population(config, population)
            twin_oof = (score_twins(models, fits, twin_frame, folds, ev.n_jobs)
                        if twin_frame is not None else {})
            true_fits = true_outcome_fits(config, population, models, fits, folds, ev.n_jobs)
            true_label = None if true_fits is None else (
                {name: p[0] for name, p in true_fits.oof.items()},
                score_twins(models, true_fits, twin_frame, folds, ev.n_jobs)
                if twin_frame is not None else {})
            result.fairness, result.fairness_by_group, columns = fairness_artifacts(
                config, population, models, predictions, twin_oof, twin_frame,
                result.explanations, true_label)
            result.validity = validity_artifact(config, frame, result.fairness, twin_frame,
                                                population.features,
                                                {m.name: m.columns for m in models})
            first = predictions[predictions["repeat"] == 0]
            matched, matched_columns = matched_rate_fairness(
                config, frame.assign(defaulted=y), first,
                practice.summary["matched_approval_rate"])
            result.fairness["matched_rate"] = matched
            result.leaderboard = board.merge(columns, on="model", how="left").merge(
                matched_columns, on="model", how="left")
    if config.explain.enabled and config.explain.reasons.enabled:
        with clock.stage("adverse_action"):
            _adverse_action(result, folds)
    return result


def _adverse_action(result: StudyResult, folds: list[Fold]) -> None:
    """Adverse-action reasons and recourse (explain) and the age rule (fairness); a
    barred input that would rank among the reasons joins the policy flags."""
    config, population = result.config, result.population
    cutoffs = {n: m["decision"]["cutoff_score"] for n, m in result.metrics["models"].items()}
    result.adverse = adverse_action(config, population, result.models, result.fits, folds,
                                    result.predictions, result.explanations, cutoffs,
                                    scale_from_config(config.scale))
    result.age_rule = age_rule_artifact(
        age_attribute(config), population.frame, {m.name: m.columns for m in result.models},
        result.explanations, config.fairness.age_bands,
        (result.fairness or {}).get("proxy_audit"), config.fairness.bootstrap, config.seed)
    if result.fairness is not None and result.adverse.policy_flags:
        result.fairness["policy_flags"] = [*result.fairness["policy_flags"],
                                           *result.adverse.policy_flags]
        if "n_policy_flags" in result.leaderboard:
            extra = pd.Series([f["model"] for f in result.adverse.policy_flags]).value_counts()
            result.leaderboard["n_policy_flags"] += result.leaderboard["model"].map(
                extra).fillna(0).astype(int)


def _folds(config: ExperimentConfig, population: Population, y: np.ndarray) -> list[Fold]:
    """Stratified folds, or (evaluation.split: time) folds of the earlier applications
    plus the out-of-time fold of the latest ones."""
    ev = config.evaluation
    if ev.split != "time":
        return make_folds(y, ev.folds, ev.repeats, config.seed)
    (date_column,) = population.schema.with_role("date")
    return time_folds(y, population.frame[date_column].to_numpy(), ev.folds, ev.repeats,
                      config.seed, ev.time_test_share, date_column)


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
    validate_models(config)  # a bad model spec fails before any work or folder
    digest = config_hash(config)
    on_stage, progress = _time_limit(config, on_stage, progress)
    clock = Stopwatch(on_stage)
    # The cluster (compute.backend: dask) opens first: an unreachable one claims no folder.
    with open_backend(config) as backend, stop_on_signals() as guard:
        writer = RunWriter(runs_dir or config.output.runs_dir, run_id(config.name, digest))
        try:
            guard.cleanups.append(writer.discard)
            with clock.stage("generate"):
                people, card = population_for(config, frame=population,
                                              generator=backend.generate if backend else None)
            result = run_study(config, people, card, progress=progress, clock=clock,
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
            writer.discard()
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
        writer.write_json("fairness.json", result.fairness)
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
                      result.fairness, result.study.population.source,
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
