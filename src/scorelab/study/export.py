"""Saving a study's fitted models into its run directory, each with its contract.

``models/<name>/`` holds the final model (refitted on every citizen; it scores new
applicants), the fold models (each scores and explains the citizens it held out), all in
skops format (never pickle), a ``model.json`` manifest with the input signature that
every table scored later is checked against, the model card (JSON and Markdown), and the
family's deliverable tables (a scorecard's points and binning tables, expert rules).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from pandas.api.types import is_bool_dtype, is_integer_dtype, is_numeric_dtype
from sklearn.base import BaseEstimator

from scorelab.data.schema import Schema
from scorelab.engine import FoldResults, PreparedModel
from scorelab.explain.explainers import explainer_kind
from scorelab.models.cards import card_markdown
from scorelab.models.persist import save_model
from scorelab.runs.contract import InputColumn, ModelCard, ModelManifest
from scorelab.runs.writer import RunWriter, frame_fingerprint

__all__ = ["SaveModels", "export_models", "input_signature"]

SaveModels = Literal["final", "folds", "both", "none"]

_CARD_METRICS = ("auc", "gini", "ks", "brier", "log_loss", "ece", "approval_rate",
                 "default_rate_approved")


def input_signature(frame: pd.DataFrame, columns: list[str], schema: Schema
                    ) -> list[InputColumn]:
    """Each input column's type (and known categories) as the model was trained on it."""
    out = []
    for name in columns:
        col = frame[name]
        categories = None
        if isinstance(col.dtype, pd.CategoricalDtype):
            dtype = "category"
            categories = col.cat.categories.tolist()
        elif is_bool_dtype(col):
            dtype = "boolean"
        elif is_integer_dtype(col):
            dtype = "integer"
        elif is_numeric_dtype(col):
            dtype = "numeric"
        else:
            dtype = "category"
            categories = sorted(col.dropna().unique().tolist(), key=str)
        source = schema[name].source if name in schema.names else "none"
        out.append(InputColumn(name=name, dtype=dtype, pandas_dtype=str(col.dtype),
                               categories=categories, source=source,
                               nullable=bool(col.isna().any())))
    return out


def _save_all(writer: RunWriter, models: list[PreparedModel], fits: FoldResults,
              finals: dict[str, BaseEstimator], n_jobs: int) -> dict[str, list[str]]:
    """Every fitted model saved, ``n_jobs`` at a time (skops encodes in pure Python):
    the files written under each relative ``.skops`` path, relative to the run."""
    jobs = []
    for m in models:
        base = f"models/{m.name}"
        if m.name in finals:
            jobs.append((finals[m.name], f"{base}/final.skops"))
        for (repeat, fold), fitted in sorted(fits.fold_models.get(m.name, {}).items()):
            jobs.append((fitted, f"{base}/folds/r{repeat}f{fold}.skops"))
    saved = Parallel(n_jobs=n_jobs)(delayed(save_model)(model, writer.path(relative))
                                    for model, relative in jobs)
    return {relative: [p.relative_to(writer.tmp).as_posix() for p in paths]
            for (_, relative), paths in zip(jobs, saved, strict=True)}


def export_models(writer: RunWriter, models: list[PreparedModel], fits: FoldResults,
                  finals: dict[str, BaseEstimator], frame: pd.DataFrame, schema: Schema,
                  metrics: dict[str, Any], fairness: dict[str, Any] | None,
                  data_source: str, n_jobs: int = 1) -> None:
    """Write ``models/<name>/`` for every model (what was fitted: final and/or folds)."""
    fingerprint = frame_fingerprint(frame)
    saved = _save_all(writer, models, fits, finals, n_jobs)
    for m in models:
        base = f"models/{m.name}"
        written: list[str] = []
        final = None
        if m.name in finals:
            written = saved[f"{base}/final.skops"]
            final = written[0]
        folds = {}
        for (repeat, fold) in sorted(fits.fold_models.get(m.name, {})):
            files = saved[f"{base}/folds/r{repeat}f{fold}.skops"]
            folds[f"r{repeat}f{fold}"] = files[0]
            written += files
        reference = finals.get(m.name) or fits.fold_models[m.name][(0, 0)]
        signature = input_signature(frame, m.columns, schema)
        entry = metrics["models"][m.name]
        tables = reference.deliverable_tables()
        for file_name, table in tables.items():
            table.to_csv(writer.path(f"{base}/{file_name}"), index=False)
        writer.write_json(f"{base}/model.json", ModelManifest(
            name=m.name, family=m.spec.family, kind=m.kind, role=m.role, format="skops",
            final=final, folds=folds, boosters=[p for p in written if p.endswith(".txt")],
            inputs=signature, cutoff_score=float(entry["decision"]["cutoff_score"]),
            explainer=explainer_kind(reference), training_fingerprint=fingerprint,
            deliverables=list(tables)))
        card = _card(m, entry, signature, fairness, len(frame), fingerprint, data_source)
        writer.write_json(f"{base}/card.json", card.model_dump(mode="json"))
        writer.write_text(f"{base}/card.md", card_markdown(card.model_dump(mode="json")))


def _card(m: PreparedModel, entry: dict[str, Any], signature: list[InputColumn],
          fairness: dict[str, Any] | None, n: int, fingerprint: str,
          data_source: str) -> ModelCard:
    verdicts = ((fairness or {}).get("models", {}).get(m.name, {}).get("verdicts") or {})
    observed = entry["observed"]
    limits = [
        "Scores are estimates from historical outcomes; a shift in the population or in "
        "how outcomes are recorded changes them (check stability before use).",
        "Out-of-fold metrics describe this study's population only.",
    ]
    if m.role == "ablation":
        limits.append(f"Ablation: trained without {', '.join(m.spec.drop_features)}.")
    if m.sized:
        limits.append(f"Sized to the table ({m.sized_for:,} rows): "
                      + ", ".join(f"{k} = {_plain(v)}" for k, v in m.sized.items())
                      + " (the config does not set them; scorelab takes them from the "
                      "table's size; set them in params to override).")
    if getattr(m, "tuning", None) is not None:
        limits.append(f"Tuned: {', '.join(m.tuning.space)} were searched on each training "
                      "fold (the parameters above are the configured ones; the chosen ones "
                      "are in tuning.json and in the saved models).")
    if any(v == "fail" for v in verdicts.values()):
        failed = sorted(k for k, v in verdicts.items() if v == "fail")
        limits.append(f"Fails the four-fifths rule for {', '.join(failed)}: review before "
                      "any lending use.")
    return ModelCard(
        name=m.name, family=m.spec.family, kind=m.kind, role=m.role,
        description=type(m.estimator).description,
        # every parameter it was built with: its config's, those sized to the table and
        # its family's defaults (so a comparison of runs can show a defaulted value)
        parameters={k: _plain(v) for k, v in m.estimator.get_params(deep=False).items()},
        inputs=[{"name": c.name, "source": c.source, "dtype": c.dtype} for c in signature],
        training_data={"citizens": n, "source": data_source, "fingerprint": fingerprint},
        out_of_fold_metrics={k: _number(observed.get(k)) for k in _CARD_METRICS},
        fairness_verdicts={k: str(v) for k, v in verdicts.items()},
        intended_use=("Comparing credit-scoring approaches and auditing their fairness in a "
                      "study; scoring new applicants drawn from the same population. Not a "
                      "lending decision on its own."),
        limits=limits)


def _number(value: Any) -> float | None:
    if value is None:
        return None
    f = float(value)
    return f if np.isfinite(f) else None


def _plain(value: Any) -> Any:
    """A parameter as JSON holds it: lists for tuples (as a config writes
    hidden_layer_sizes: [16]), containers element by element, anything else (a member
    estimator) as its text."""
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value if isinstance(value, str | int | float | bool) or value is None \
        else str(value)
