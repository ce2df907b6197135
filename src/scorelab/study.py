"""``scorelab run``: every family trained and judged under one protocol.

config -> population -> folds -> out-of-fold predictions -> metrics and comparisons ->
run directory. Every probability about a citizen comes from a model that never saw
that citizen; every family sees exactly the same folds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone
from threadpoolctl import threadpool_limits

from scorelab.config import ExperimentConfig, ModelSpec, config_hash, dump_config
from scorelab.data.card import render_data_card_markdown
from scorelab.data.groups import group_column
from scorelab.data.schema import Schema
from scorelab.data.synthetic import Population
from scorelab.evaluate.compare import compare_to_best, friedman_holm
from scorelab.evaluate.metrics import auc, bootstrap_intervals, metric_table
from scorelab.evaluate.splits import Fold, make_folds
from scorelab.exceptions import ConfigError
from scorelab.runs import (
    RunWriter,
    Stopwatch,
    command_line,
    frame_fingerprint,
    package_versions,
    run_id,
)
from scorelab.scale import ScoreScale, scale_from_config, society_scale

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]


@dataclass
class PreparedModel:
    """A model of the study: its spec, an unfitted estimator and its input columns."""

    spec: ModelSpec
    estimator: Any
    columns: list[str]

    @property
    def kind(self) -> str:
        from scorelab.models.registry import DEFAULT_KIND

        return self.spec.kind or DEFAULT_KIND[self.spec.family]


@dataclass
class StudyResult:
    """Everything a run produced, in memory; ``run_dir`` is set once it is written."""

    config: ExperimentConfig
    population: Population
    card: dict[str, Any]
    predictions: pd.DataFrame
    metrics: dict[str, Any]
    leaderboard: pd.DataFrame
    timings: dict[str, float] = field(default_factory=dict)
    run_dir: Path | None = None
    explanations: pd.DataFrame | None = None
    importance: dict[str, Any] | None = None
    fairness: dict[str, Any] | None = None
    fairness_by_group: pd.DataFrame | None = None


def model_inputs(schema: Schema, spec: ModelSpec) -> list[str]:
    """Feature columns, less ``drop_features``, plus the protected/prohibited columns the
    spec explicitly allows (``use_protected``). Truth columns are never inputs."""
    allowed = set(schema.with_role("protected", "prohibited"))
    features = schema.with_role("feature")
    for name in spec.use_protected:
        if name not in allowed:
            raise ConfigError(f"model '{spec.name}': use_protected: '{name}' is not a protected "
                              f"or prohibited column (valid: {', '.join(sorted(allowed))})")
    for name in spec.drop_features:
        if name not in features:
            raise ConfigError(f"model '{spec.name}': drop_features: '{name}' is not a feature "
                              f"column (valid: {', '.join(features)})")
    if spec.family == "mitigation":
        sensitive = str(spec.params.get("sensitive", "age"))
        if sensitive not in spec.use_protected:
            raise ConfigError(f"model '{spec.name}': a mitigation variant needs its sensitive "
                              f"attribute as an input: add use_protected: [{sensitive}]")
    kept = [c for c in features if c not in spec.drop_features]
    return kept + [c for c in spec.use_protected if c not in kept]


def validate_models(config: ExperimentConfig) -> None:
    """Reject a bad model list (none, repeated names, bad family/kind/params) before work."""
    from scorelab.models.registry import build_model

    if not config.models:
        raise ConfigError("models: the config lists no models; add at least one "
                          "(see configs/default.yaml)")
    names = [m.name for m in config.models]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"models: names must be unique; repeated: {', '.join(duplicates)}")
    for spec in config.models:
        build_model(spec)


_RULE_PARAMS = {("expert", "suining"): "rules", ("expert", "sesame"): "factors",
                ("hybrid", "expert_boost"): "expert"}


def skip_reason(spec: ModelSpec, real_table: bool) -> str | None:
    """Why a model cannot run on this population, or None.

    Expert rules (and the hybrid built on them) are written for the synthetic
    population's columns; on a real table they need a rule table over its own columns.
    """
    from scorelab.models.registry import DEFAULT_KIND

    key = (spec.family, spec.kind or DEFAULT_KIND[spec.family])
    if real_table and key in _RULE_PARAMS and _RULE_PARAMS[key] not in spec.params:
        return (f"skipped: expert rules are written for the synthetic population; give "
                f"params.{_RULE_PARAMS[key]} over this table's columns to run it")
    return None


def prepare_models(config: ExperimentConfig, schema: Schema,
                   real_table: bool = False) -> tuple[list[PreparedModel], dict[str, str]]:
    """Build every runnable estimator with its input columns; say why others are skipped."""
    from scorelab.models.registry import build_model

    validate_models(config)
    models, skipped = [], {}
    for spec in config.models:
        reason = skip_reason(spec, real_table)
        if reason is not None:
            skipped[spec.name] = reason
            continue
        models.append(PreparedModel(spec, build_model(spec), model_inputs(schema, spec)))
    if not models:
        raise ConfigError("models: every model was skipped on this population ("
                          + "; ".join(f"{k}: {v}" for k, v in skipped.items()) + ")")
    return models, skipped


@dataclass
class AuditPlan:
    """What the first repeat's fold models do beyond scoring their held-out citizens.

    Each fold model explains the audited citizens it held out (so a score and its
    explanation always come from the same model) and, on synthetic data, scores the
    held-out citizens' counterfactual twins.
    """

    audit: np.ndarray  # bool mask over citizens: the audit sample to explain
    audit_agnostic: np.ndarray  # its nested subsample for the model-agnostic explainer
    twin_frame: pd.DataFrame | None
    explain: Any | None  # config.Explain, or None for no explanations
    seed: int


@dataclass
class FoldOutput:
    """One fold model's outputs: held-out probabilities, twins and explanations."""

    p_test: np.ndarray
    p_twin: np.ndarray | None = None
    explained: np.ndarray | None = None  # positions of the explained citizens
    explanation: Any | None = None
    explain_seconds: float = 0.0


@dataclass
class FoldResults:
    """Everything the fold models produced, gathered per model."""

    oof: dict[str, np.ndarray]  # model -> (repeats, citizens)
    twin_oof: dict[str, np.ndarray] = field(default_factory=dict)  # model -> (citizens,)
    explanations: dict[str, list[tuple[np.ndarray, Any]]] = field(default_factory=dict)
    explain_seconds: dict[str, float] = field(default_factory=dict)


def _fit_predict(estimator: Any, X: pd.DataFrame, y: np.ndarray, fold: Fold,
                 X_twin: pd.DataFrame | None = None, audit: np.ndarray | None = None,
                 explain_cfg: Any | None = None, seed: int = 0,
                 audit_agnostic: np.ndarray | None = None) -> FoldOutput:
    """Fit a fresh clone on the training rows; score (and explain) the held-out rows."""
    import time

    with threadpool_limits(1):
        model = clone(estimator).fit(X.iloc[fold.train], y[fold.train])
        out = FoldOutput(model.predict_proba(X.iloc[fold.test])[:, 1])
        if X_twin is not None:
            out.p_twin = model.predict_proba(X_twin.iloc[fold.test])[:, 1]
        if explain_cfg is not None and audit is not None:
            from scorelab.explain.explainers import EXACT_KINDS, background_sample, explain
            from scorelab.explain.explainers import explainer_kind as kind_of

            start = time.perf_counter()
            exact = kind_of(model) in EXACT_KINDS
            mask = audit if exact or audit_agnostic is None else audit_agnostic
            rows = fold.test[mask[fold.test]]
            background = background_sample(X.iloc[fold.train], explain_cfg.background_size,
                                           seed=seed + fold.fold)
            out.explained = rows
            out.explanation = explain(model, X.iloc[rows], background,
                                      max_evals=explain_cfg.max_evals, seed=seed + fold.fold)
            out.explain_seconds = time.perf_counter() - start
        return out


def fit_folds(models: list[PreparedModel], frame: pd.DataFrame, y: np.ndarray,
              folds: list[Fold], n_jobs: int = 1, progress: Progress | None = None,
              plan: AuditPlan | None = None) -> FoldResults:
    """Fit every model on every fold in parallel; gather out-of-fold outputs."""
    tasks = [(m, f) for m in models for f in folds]

    def task(m: PreparedModel, f: Fold) -> Any:
        audited = plan is not None and f.repeat == 0
        twin = plan.twin_frame[m.columns] if audited and plan.twin_frame is not None else None
        return delayed(_fit_predict)(
            m.estimator, frame[m.columns], y, f, X_twin=twin,
            audit=plan.audit if audited else None,
            audit_agnostic=plan.audit_agnostic if audited else None,
            explain_cfg=plan.explain if audited else None,
            seed=plan.seed if plan is not None else 0)

    results = Parallel(n_jobs=n_jobs, return_as="generator")(task(m, f) for m, f in tasks)
    repeats = max(f.repeat for f in folds) + 1
    out = FoldResults({m.spec.name: np.full((repeats, y.size), np.nan) for m in models})
    for done, ((model, fold), res) in enumerate(zip(tasks, results, strict=True), start=1):
        name = model.spec.name
        out.oof[name][fold.repeat, fold.test] = res.p_test
        if res.p_twin is not None:
            out.twin_oof.setdefault(name, np.full(y.size, np.nan))[fold.test] = res.p_twin
        if res.explanation is not None:
            out.explanations.setdefault(name, []).append((res.explained, res.explanation))
            out.explain_seconds[name] = out.explain_seconds.get(name, 0.0) + res.explain_seconds
        if progress is not None:
            progress(done, len(tasks))
    return out


def out_of_fold(models: list[PreparedModel], frame: pd.DataFrame, y: np.ndarray,
                folds: list[Fold], n_jobs: int = 1,
                progress: Progress | None = None) -> dict[str, np.ndarray]:
    """Out-of-fold P(default) per model: an array (repeats, citizens), all folds in parallel."""
    return fit_folds(models, frame, y, folds, n_jobs=n_jobs, progress=progress).oof


def decide(points: np.ndarray, config: ExperimentConfig) -> tuple[np.ndarray, float]:
    """Approval under the decision rule: a cut-off score or a target approval rate."""
    rule = config.decision
    if rule.target_approval_rate is not None:
        cutoff = float(np.quantile(points, 1.0 - rule.target_approval_rate))
    else:
        cutoff = float(rule.cutoff_score if rule.cutoff_score is not None else 600.0)
    return points >= cutoff, cutoff


def _model_metrics(name: str, p: np.ndarray, y: np.ndarray, frame: pd.DataFrame,
                   fold_of: np.ndarray, scale: ScoreScale, config: ExperimentConfig,
                   truth: bool) -> dict[str, Any]:
    """Accuracy, decision and scale figures of one model's out-of-fold probabilities."""
    ev = config.evaluation
    points = scale.points(p)
    approved, cutoff = decide(points, config)
    result: dict[str, Any] = {
        "observed": metric_table(y, p, approved),
        "intervals": {k: list(v) for k, v in bootstrap_intervals(
            y, p, approved, n_boot=ev.bootstrap, confidence=ev.confidence,
            seed=config.seed).items()} if ev.bootstrap > 0 else {},
        "decision": {"cutoff_score": cutoff, "approved": int(approved.sum())},
        "per_fold_auc": [float(auc(y[fold_of == k], p[fold_of == k]))
                         for k in range(int(fold_of.max()) + 1)],
    }
    if truth:
        result["true_outcome"] = metric_table(frame["true_default"].to_numpy(), p, approved)
        oracle = auc(y, frame["true_pd"].to_numpy())
        result["oracle_ratio"] = float(result["observed"]["auc"] / oracle)
    scale_rows = [society_scale(points).assign(attribute="all")]
    for attribute in ("age", "sex", "minority", "region"):
        if attribute in frame:
            groups = group_column(frame, attribute, config.fairness.age_bands)
            table = society_scale(points, groups)
            scale_rows.append(table[table.iloc[:, 0] != "all"].assign(attribute=str(groups.name)))
    result["society_scale"] = pd.concat(scale_rows, ignore_index=True).to_dict("records")
    return result


def evaluate(models: list[PreparedModel], oof: dict[str, np.ndarray], y: np.ndarray,
             frame: pd.DataFrame, folds: list[Fold],
             config: ExperimentConfig) -> tuple[dict[str, Any], pd.DataFrame]:
    """Metrics per model (first repeat pooled), paired tests and fold ranks."""
    scale = scale_from_config(config.scale)
    truth = "true_pd" in frame and "true_default" in frame
    fold_of = np.empty(y.size, dtype=np.int64)
    for f in folds:
        if f.repeat == 0:
            fold_of[f.test] = f.fold
    first = {name: p[0] for name, p in oof.items()}
    per_model = {m.spec.name: {"family": m.spec.family, "kind": m.kind, "inputs": m.columns,
                               **_model_metrics(m.spec.name, first[m.spec.name], y, frame,
                                                fold_of, scale, config, truth)}
                 for m in models}
    fold_scores = pd.DataFrame({
        name: [auc(y[f.test], p[f.repeat, f.test]) for f in folds] for name, p in oof.items()},
        index=[f"r{f.repeat}f{f.fold}" for f in folds])
    metrics: dict[str, Any] = {
        "models": per_model,
        "n_citizens": int(y.size),
        "default_rate": float(y.mean()),
        "comparison_to_best": (_records(compare_to_best(y, first)) if len(first) > 1 else []),
        "fold_ranks": _fold_ranks(fold_scores) if len(first) > 1 and len(folds) > 1 else {},
        "fold_auc": fold_scores.reset_index(names="split").to_dict("records"),
    }
    if truth:
        metrics["oracle"] = {"auc": float(auc(y, frame["true_pd"].to_numpy())),
                             "auc_true_outcome": float(auc(frame["true_default"].to_numpy(),
                                                           frame["true_pd"].to_numpy()))}
    return metrics, leaderboard(metrics)


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts (NaN -> None)."""
    return [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
            for row in table.to_dict("records")]


def _fold_ranks(fold_scores: pd.DataFrame) -> dict[str, Any]:
    """Friedman mean ranks with Holm pairwise tests, JSON-ready, with a plain summary."""
    ranks = friedman_holm(fold_scores)
    pairwise = ranks["pairwise"]
    ranks["mean_ranks"] = {str(k): float(v) for k, v in ranks["mean_ranks"].items()}
    ranks["pairwise"] = _records(pairwise)
    n_pairs = len(pairwise)
    n_sig = int(pairwise["significant"].sum()) if n_pairs else 0
    ranks["summary"] = (
        f"Fold ranks ({ranks['test']}, p={ranks['p_value']:.3g}): {n_sig} of {n_pairs} "
        f"pairwise differences are significant after Holm correction; "
        f"{n_pairs - n_sig} are not.")
    return ranks


def _nan_if_none(value: Any) -> float:
    return np.nan if value is None else float(value)


def leaderboard(metrics: dict[str, Any]) -> pd.DataFrame:
    """One row per model, best AUC first, with intervals and the test against the best."""
    rows = []
    tests = {r["model"]: r for r in metrics["comparison_to_best"]}
    ranks = metrics.get("fold_ranks", {}).get("mean_ranks", {})
    for name, m in metrics["models"].items():
        obs, ci = m["observed"], m["intervals"]
        row = {"model": name, "family": m["family"], "kind": m["kind"],
               "auc": obs["auc"], "auc_low": ci.get("auc", [np.nan, np.nan])[0],
               "auc_high": ci.get("auc", [np.nan, np.nan])[1], "gini": obs["gini"],
               "ks": obs["ks"], "brier": obs["brier"], "log_loss": obs["log_loss"],
               "ece": obs["ece"], "h_measure": obs["h_measure"],
               "approval_rate": obs.get("approval_rate", np.nan),
               "default_rate_approved": obs.get("default_rate_approved", np.nan)}
        if "true_outcome" in m:
            row["auc_true"] = m["true_outcome"]["auc"]
            row["oracle_ratio"] = m["oracle_ratio"]
        test = tests.get(name, {})
        row["p_vs_best"] = _nan_if_none(test.get("p_value"))
        row["p_vs_best_holm"] = _nan_if_none(test.get("p_holm"))
        row["significant_vs_best"] = bool(test.get("significant", False))
        row["verdict"] = test.get("verdict", "")
        row["mean_rank"] = ranks.get(name, np.nan)
        rows.append(row)
    return pd.DataFrame(rows).sort_values("auc", ascending=False, ignore_index=True)


def predictions_table(models: list[PreparedModel], oof: dict[str, np.ndarray],
                      folds: list[Fold], citizen_id: np.ndarray,
                      scale: ScoreScale, outcomes: dict[str, np.ndarray]) -> pd.DataFrame:
    """The long table: citizen, model, family, repeat, fold, p_default, score, category,
    and the outcomes (observed ``defaulted``; ``true_default`` on synthetic data), so a
    report can draw ROC and calibration curves from the run directory alone."""
    fold_index = np.empty((max(f.repeat for f in folds) + 1, citizen_id.size), dtype=np.int16)
    for f in folds:
        fold_index[f.repeat, f.test] = f.fold
    parts = []
    for m in models:
        p = oof[m.spec.name]
        for repeat in range(p.shape[0]):
            points = scale.points(p[repeat])
            parts.append(pd.DataFrame({
                "citizen_id": citizen_id, "model": m.spec.name, "family": m.spec.family,
                "kind": m.kind, "repeat": np.int16(repeat), "fold": fold_index[repeat],
                "p_default": p[repeat], "score": points,
                "category": pd.Categorical(scale.category(points)), **outcomes}))
    table = pd.concat(parts, ignore_index=True)
    for col in ("model", "family", "kind", "category"):
        table[col] = table[col].astype("category")
    return table


def run_study(config: ExperimentConfig, population: Population, card: dict[str, Any],
              progress: Progress | None = None, clock: Stopwatch | None = None) -> StudyResult:
    """Train every configured model on the same folds and measure them (no I/O)."""
    from scorelab.analyses import audit_plan, explanation_artifacts, fairness_artifacts

    clock = clock or Stopwatch()
    real_table = population.meta.get("source") == "table"
    models, skipped = prepare_models(config, population.schema, real_table=real_table)
    frame = population.frame
    y = frame[population.schema.target].to_numpy().astype(np.int64)
    ev = config.evaluation
    with clock.stage("splits"):
        folds = make_folds(y, ev.folds, ev.repeats, config.seed)
        plan = audit_plan(config, population)
    with clock.stage("fit_predict"):
        fits = fit_folds(models, frame, y, folds, n_jobs=ev.n_jobs, progress=progress,
                         plan=plan)
    with clock.stage("metrics"):
        metrics, board = evaluate(models, fits.oof, y, frame, folds, config)
        metrics["skipped_models"] = skipped
        if "true_pd" not in frame:
            metrics["truth_analyses"] = ("skipped: a real table has no ground truth, so the "
                                         "oracle AUC, AUC against the true outcome, "
                                         "counterfactual twins and the label-bias split are "
                                         "not computed")
        outcomes = {"defaulted": y.astype(np.int8)}
        if "true_default" in frame:
            outcomes["true_default"] = frame["true_default"].to_numpy(dtype=np.int8)
        predictions = predictions_table(models, fits.oof, folds, frame["citizen_id"].to_numpy(),
                                        scale_from_config(config.scale), outcomes)
    result = StudyResult(config, population, card, predictions, metrics, board, clock.seconds)
    if fits.explanations:
        with clock.stage("explanations"):
            result.explanations, result.importance = explanation_artifacts(
                models, fits, population)
    if config.fairness.enabled:
        with clock.stage("fairness"):
            result.fairness, result.fairness_by_group, columns = fairness_artifacts(
                config, population, models, predictions, fits, plan, result.explanations)
            result.leaderboard = board.merge(columns, on="model", how="left")
    return result


def run(config: ExperimentConfig, runs_dir: Path | None = None,
        progress: Progress | None = None) -> StudyResult:
    """The whole study: population, protocol, metrics, and the run directory.

    The run folder is claimed first (so an unwritable location fails before any work)
    and published only when every artifact is written; on any failure it is removed.
    """
    from scorelab.generate import population_for

    validate_models(config)  # a bad model spec fails before any work or folder
    digest = config_hash(config)
    clock = Stopwatch()
    writer = RunWriter(runs_dir or config.output.runs_dir, run_id(config.name, digest))
    try:
        with clock.stage("generate"):
            population, card = population_for(config)
        result = run_study(config, population, card, progress=progress, clock=clock)
        with clock.stage("write"):
            _write_artifacts(writer, result, digest)
        with clock.stage("report"):
            from scorelab.report import build_report

            build_report(writer.tmp)  # the report reads only the (unpublished) run folder
        result.run_dir = writer.publish()
    except BaseException:
        writer.discard()
        raise
    return result


def _write_artifacts(writer: RunWriter, result: StudyResult, digest: str) -> None:
    config = result.config
    writer.write_text("config.yaml", dump_config(config))
    writer.write_json("data_card.json", result.card)
    writer.write_text("data_card.md", render_data_card_markdown(result.card))
    writer.write_parquet("predictions.parquet", result.predictions)
    writer.write_json("metrics.json", result.metrics)
    result.leaderboard.to_csv(writer.path("leaderboard.csv"), index=False)
    if result.explanations is not None:
        writer.write_parquet("explanations.parquet", result.explanations)
        writer.write_json("importance.json", result.importance)
    if result.fairness is not None:
        writer.write_json("fairness.json", result.fairness)
        writer.write_parquet("fairness_by_group.parquet", result.fairness_by_group)
    writer.write_json("manifest.json", {
        "run_id": writer.final.name, "seed": config.seed, "config_hash": digest,
        "command": command_line(), "versions": package_versions(),
        "data_fingerprint": frame_fingerprint(result.population.frame),
        "n_citizens": int(len(result.population.frame)),
        "models": [m.name for m in config.models], "timings_seconds": result.timings,
        "artifacts": sorted([p.name for p in writer.tmp.iterdir()] + ["manifest.json"]),
    })
