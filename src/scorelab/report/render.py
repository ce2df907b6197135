"""Render a run directory as ``report.html``, ``report.md`` and ``report.json``.

The report never trains anything: it reads the run directory through
:func:`scorelab.runs.load_run`, turns it into sections of plain blocks (text, tables, figures), and renders the same blocks
twice: HTML (one self-contained file, Jinja2 with autoescaping, inline SVG figures)
and Markdown (for terminals and diffs, no figures, no timestamps or paths). The
blocks themselves go to ``report.json``.

Every section opens with a one-paragraph summary written for an auditor. Sections
whose artifacts are absent (explanations, fairness) say so instead of failing.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from scorelab.exceptions import DataError, OutputError
from scorelab.jsonable import dumps
from scorelab.report import plots
from scorelab.runs.reader import RunData, load_run

__all__ = ["REPORT_FILES", "ReportPaths", "build_report", "md_escape", "render_html",
           "render_markdown", "report_data"]

REPORT_FILES = ("report.html", "report.md", "report.json")
NO_EXPLANATIONS = ("This run has no explanations: explain.enabled was false or the run "
                   "predates explanations.")
NO_FAIRNESS = ("This run has no fairness audit: fairness.enabled was false or the run "
               "predates the fairness layer.")

# Plain-language descriptions of the families for the model cards.
FAMILY_CARDS: dict[str, dict[str, str]] = {
    "expert": {
        "what": "a points system written by experts (rules from the config); points are "
                "mapped to a probability of default by a calibrator fitted on the "
                "training folds",
        "use": "a transparent baseline and a stand-in for rule-based social-credit "
               "systems such as Suining's; every point can be traced to a rule",
        "limits": "rules are fixed by hand and do not learn interactions; their fairness "
                  "depends entirely on which behaviours the rules reward or punish",
    },
    "logit": {
        "what": "a logistic-regression scorecard on binned (weight-of-evidence) inputs, "
                "with a points table",
        "use": "the traditional economic model of credit scoring; every bin's points "
               "can be published and audited",
        "limits": "additive in the bins, so interactions are missed; binned proxies "
                  "(credit-history length) can still carry age",
    },
    "trees": {
        "what": "tree ensembles (random forest, gradient boosting) on the raw inputs",
        "use": "accurate scoring of tabular data; explained exactly by TreeSHAP",
        "limits": "learns proxies and interactions freely, so unequal treatment can hide "
                  "in combinations of inputs; check the fairness and age sections",
    },
    "neural": {
        "what": "a multilayer perceptron on standardised inputs",
        "use": "the artificial-intelligence family of the paper; flexible non-linear "
               "scoring",
        "limits": "explained only approximately (a sampling explainer with a budget); "
                  "sensitive to scaling and seeds",
    },
    "hybrid": {
        "what": "combinations of families (a scorecard's output fed to a network, rules "
                "plus boosting, stacking), fitted without leakage on inner folds",
        "use": "squeezing the last accuracy out of complementary models",
        "limits": "the hardest to explain and audit; any proxy learned by a component "
                  "is inherited by the whole",
    },
    "mitigation": {
        "what": "a variant trained or post-processed to reduce a group disparity "
                "(fairlearn reductions or thresholds, or proxies dropped)",
        "use": "showing what fairness costs in accuracy on the same folds",
        "limits": "fixes the constrained metric for the constrained attribute only; "
                  "other metrics and intersections can get worse",
    },
}

LIGHTS = {"pass": "● pass", "warn": "▲ warn", "fail": "■ fail", "n/a": "– n/a"}


# --------------------------------------------------------------------------- formatting

def _finite(value: Any) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def fmt(value: Any, spec: str = ".3f") -> str:
    """A number for a table cell; '-' for None/NaN; other values as text."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)) and spec == ".3f":
        return f"{int(value):,}"
    if _finite(value):
        return format(float(value), spec)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return str(value)


def pct(value: Any, digits: int = 1) -> str:
    return fmt(value, f".{digits}%")


def fmt_p(p: Any) -> str:
    if not _finite(p):
        return "-"
    return "<0.001" if float(p) < 0.001 else f"{float(p):.3f}"


def interval(value: Any, low: Any, high: Any, spec: str = ".3f") -> str:
    if not _finite(low) or not _finite(high):
        return fmt(value, spec)
    return f"{fmt(value, spec)} [{fmt(low, spec)}, {fmt(high, spec)}]"


def md_escape(text: Any) -> str:
    """Text safe inside a Markdown table cell: no pipes, tags, code spans or newlines."""
    s = str(text)
    for ch in ("\\", "|", "<", ">", "`", "*", "[", "]"):
        s = s.replace(ch, "\\" + ch)
    return " ".join(s.split())


# --------------------------------------------------------------------------- blocks

def text(body: str) -> dict[str, Any]:
    return {"kind": "text", "text": body}


def bullets(items: Sequence[str], title: str | None = None) -> dict[str, Any]:
    return {"kind": "list", "title": title, "items": [str(i) for i in items]}


def table(columns: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None,
          align: Sequence[str] | None = None, caption: str | None = None) -> dict[str, Any]:
    """A table block; a cell is text or ``{"text": ..., "status": pass|warn|fail|n/a}``."""
    cells = [[c if isinstance(c, dict) else {"text": str(c)} for c in row] for row in rows]
    if align is None:
        align = ["left"] + ["right"] * (len(columns) - 1)
    return {"kind": "table", "title": title, "caption": caption, "columns": list(columns),
            "align": list(align), "rows": cells}


def figure(key: str, title: str) -> dict[str, Any]:
    return {"kind": "figure", "key": key, "title": title}


def light(status: str, detail: str = "") -> dict[str, str]:
    status = status if status in LIGHTS else "n/a"
    label = LIGHTS[status]
    return {"text": f"{label} {detail}".strip(), "status": status}


@dataclass
class Section:
    id: str
    number: int
    title: str
    summary: str
    blocks: list[dict[str, Any]]
    available: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "number": self.number, "title": self.title,
                "summary": self.summary, "available": self.available, "blocks": self.blocks}


# --------------------------------------------------------------------------- helpers

def _get(mapping: Any, *keys: str, default: Any = None) -> Any:
    for key in keys:
        if not isinstance(mapping, Mapping) or key not in mapping:
            return default
        mapping = mapping[key]
    return mapping


def _records(value: Any) -> list[dict[str, Any]]:
    """A list of row dicts from a list of dicts, a dict of dicts or a DataFrame."""
    if isinstance(value, pd.DataFrame):
        return value.to_dict("records")
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    if isinstance(value, dict):
        rows = []
        for key, v in value.items():
            if isinstance(v, dict):
                rows.append({"name": key, **v})
            else:
                rows.append({"name": key, "value": v})
        return rows
    return []


def generic_table(rows: Sequence[Mapping[str, Any]], title: str | None = None,
                  max_rows: int = 60, columns: Sequence[str] | None = None) -> dict[str, Any]:
    """Any list of records as a table (numbers to 3 decimals, nested values as JSON)."""
    if columns is None:
        seen: dict[str, None] = {}
        for row in rows:
            for key, v in row.items():
                if not isinstance(v, (dict, list)):
                    seen.setdefault(str(key), None)
        columns = list(seen)
    body = []
    for row in list(rows)[:max_rows]:
        body.append([_cell(row.get(c)) for c in columns])
    caption = (f"first {max_rows} of {len(rows)} rows" if len(rows) > max_rows else None)
    align = ["right" if rows and all(_finite(r.get(c)) or r.get(c) is None for r in rows)
             and not isinstance(rows[0].get(c), bool) else "left" for c in columns]
    return table(columns, body, title=title, align=align, caption=caption)


def _cell(value: Any) -> Any:
    if isinstance(value, dict) and "status" in value:
        return light(str(value["status"]), str(value.get("text", "")))
    if isinstance(value, float):
        return fmt(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str)[:120]
    return fmt(value)


def _status(value: Any) -> str:
    """Map the many spellings of a verdict to pass / warn / fail / n/a."""
    s = str(value).lower()
    if s in {"pass", "ok", "green", "true", "passed", "fair"}:
        return "pass"
    if s in {"warn", "warning", "amber", "yellow", "borderline"}:
        return "warn"
    if s in {"fail", "failed", "red", "false", "unfair", "flag", "flagged"}:
        return "fail"
    return "n/a"


# --------------------------------------------------------------------------- section 1

def section_study(run: RunData) -> Section:
    cfg, man, card = run.config, run.manifest, run.data_card
    ev = cfg.get("evaluation", {})
    pop = cfg.get("population", {})
    models = cfg.get("models", [])
    families = sorted({str(m.get("family")) for m in models})
    n = card.get("n_citizens", man.get("n_citizens"))
    summary = (
        f"This study compares {len(models)} credit-scoring models from {len(families)} "
        f"families ({', '.join(families)}) on {fmt(n)} "
        f"{'synthetic ' if pop.get('source', 'synthetic') == 'synthetic' else ''}citizens. "
        f"Every model was trained and tested on exactly the same "
        f"{ev.get('folds', '?')}-fold split (repeated {ev.get('repeats', 1)} time(s)), and "
        f"every score of a citizen comes from a model that never saw that citizen. "
        f"The observed default rate is {pct(card.get('observed_default_rate'))}"
        + (f"; because the population is synthetic its true risk is known, and the best "
           f"possible AUC (the oracle) is {fmt(card.get('oracle_auc'))}."
           if _finite(card.get("oracle_auc")) else ".")
        + " The seed, versions and hashes below identify the run exactly.")
    blocks: list[dict[str, Any]] = []
    facts = [("study", cfg.get("name", "")), ("citizens", fmt(n)),
             ("observed default rate", pct(card.get("observed_default_rate")))]
    if "true_default_rate" in card:
        facts += [("true default rate", pct(card.get("true_default_rate"))),
                  ("oracle AUC (true risk vs observed outcome)", fmt(card.get("oracle_auc"))),
                  ("oracle AUC (true risk vs true outcome)",
                   fmt(card.get("oracle_auc_true_outcome")))]
    facts += [("protocol", f"stratified {ev.get('folds', '?')}-fold x "
                           f"{ev.get('repeats', 1)} repeat(s), same folds for every family"),
              ("bootstrap replicates", fmt(ev.get("bootstrap"))),
              ("confidence level", pct(ev.get("confidence"), 0)),
              ("decision rule", _decision_text(cfg)),
              ("score scale", _scale_text(cfg)),
              ("seed", str(man.get("seed", cfg.get("seed", "")))),
              ("config hash", str(man.get("config_hash", ""))),
              ("data fingerprint", str(man.get("data_fingerprint", ""))),
              ("run id", str(man.get("run_id", run.run_dir.name)))]
    blocks.append(table(["item", "value"], facts, title="The study", align=["left", "left"]))
    blocks.append(table(
        ["model", "family", "kind", "inputs", "protected inputs allowed"],
        [[m.get("name", ""), m.get("family", ""),
          _get(run.metrics, "models", str(m.get("name")), "kind", default=m.get("kind") or ""),
          fmt(len(_get(run.metrics, "models", str(m.get("name")), "inputs", default=[]))),
          ", ".join(map(str, m.get("use_protected") or [])) or "none"] for m in models],
        title="Families and models", align=["left", "left", "left", "right", "left"]))
    skipped = run.metrics.get("skipped_models") or {}
    if skipped:
        blocks.append(bullets([f"{name} was not run: {reason}"
                               for name, reason in skipped.items()]))
    if run.metrics.get("truth_analyses"):
        blocks.append(text(f"Truth-based analyses {run.metrics['truth_analyses']}."))
    for attribute, rows in (card.get("groups") or {}).items():
        has_true = any("true_default_rate" in r for r in rows)
        cols = [str(attribute), "citizens", "share", "observed default rate"]
        cols += ["true default rate"] if has_true else []
        blocks.append(table(cols, [
            [r.get("group"), fmt(r.get("n")), pct(r.get("share")),
             pct(r.get("observed_default_rate"))]
            + ([pct(r.get("true_default_rate"))] if has_true else []) for r in rows],
            title=f"Data card: default rates by {attribute}"))
    causes = card.get("causes") or _get(pop, "causes", default={})
    if causes:
        blocks.append(bullets([f"{name}: " + ", ".join(f"{k}={v}" for k, v in setting.items()
                                                      if not isinstance(v, dict))
                               if isinstance(setting, dict) else f"{name}: {setting}"
                               for name, setting in causes.items()],
                              title="Planted causes (synthetic population)"))
    versions = man.get("versions") or {}
    if versions:
        blocks.append(table(["package", "version"], sorted(versions.items()),
                            title="Package versions", align=["left", "left"]))
    return Section("study", 1, "The study", summary, blocks)


def _decision_text(cfg: Mapping[str, Any]) -> str:
    d = cfg.get("decision", {}) or {}
    if d.get("target_approval_rate") is not None:
        return f"approve the best-scoring {pct(d['target_approval_rate'])} of citizens"
    return f"approve citizens scoring at least {fmt(d.get('cutoff_score', 600), 'g')}"


def _scale_text(cfg: Mapping[str, Any]) -> str:
    s = cfg.get("scale", {}) or {}
    parts = [str(s.get("preset", "sesame"))]
    for key in ("pdo", "base_score", "base_odds"):
        if s.get(key) is not None:
            parts.append(f"{key}={fmt(s[key], 'g')}")
    return ", ".join(parts)


# --------------------------------------------------------------------------- section 2

def section_accuracy(run: RunData, figures: dict[str, Callable[[], str]]) -> Section:
    board, metrics = run.leaderboard, run.metrics
    best = board.iloc[0]
    comparison = metrics.get("comparison_to_best") or []
    tied = [r["model"] for r in comparison if r.get("p_holm") is not None
            and not r.get("significant")]
    worse = [r["model"] for r in comparison if r.get("significant")]
    ranks = metrics.get("fold_ranks") or {}
    summary = (
        f"The most accurate model on this population is {best['model']} ({best['family']}), "
        f"with an out-of-fold AUC of {interval(best['auc'], best.get('auc_low'), best.get('auc_high'))} "
        f"(1 = perfect ranking of defaulters, 0.5 = chance). "
        + (f"{len(tied)} model(s) are not significantly different from it "
           f"({', '.join(map(str, tied))}) and {len(worse)} are significantly worse "
           f"(paired DeLong test, Holm-corrected). " if comparison else "")
        + "Small AUC differences inside overlapping intervals should not decide a "
          "choice of model. The curves show the same ranking and whether predicted "
          "probabilities can be taken at face value (calibration); the society scale "
          "counts the share of citizens scoring 600 or more, overall and per group.")
    truth = "auc_true" in board.columns
    cols = ["#", "model", "family", "AUC [CI]", "KS", "Brier", "ECE", "approved",
            "bad rate approved"]
    cols += ["AUC vs true outcome", "/ oracle"] if truth else []
    cols += ["mean fold rank", "vs best (Holm p)"]
    rows = []
    for i, r in enumerate(board.to_dict("records")):
        row = [str(i + 1), r["model"], r["family"],
               interval(r["auc"], r.get("auc_low"), r.get("auc_high")), fmt(r.get("ks")),
               fmt(r.get("brier")), fmt(r.get("ece")), pct(r.get("approval_rate")),
               pct(r.get("default_rate_approved"))]
        if truth:
            row += [fmt(r.get("auc_true")), fmt(r.get("oracle_ratio"))]
        row.append(fmt(r.get("mean_rank"), ".2f"))
        if i == 0:
            row.append("best")
        elif not _finite(r.get("p_vs_best_holm")):
            row.append("-")
        else:
            word = "worse" if bool(r.get("significant_vs_best")) else "not significant"
            shown = fmt_p(r.get("p_vs_best_holm"))
            row.append(f"{word} (p{'' if shown.startswith('<') else '='}{shown})")
        rows.append(row)
    align = ["right", "left", "left"] + ["right"] * (len(cols) - 3)
    blocks: list[dict[str, Any]] = [table(cols, rows, title="Leaderboard", align=align,
                                          caption="out-of-fold, first repeat pooled; "
                                                  "intervals are bootstrap intervals")]
    notes = []
    if "oracle" in metrics:
        notes.append(f"Oracle AUC (true default probability against the observed outcome): "
                     f"{fmt((metrics.get('oracle') or {}).get('auc'))}.")
    for r in comparison:
        if r.get("verdict"):
            notes.append(f"{r['model']}: {r['verdict']}.")
    if ranks.get("summary"):
        notes.append(str(ranks["summary"]))
    if notes:
        blocks.append(bullets(notes, title="Significance of the differences"))
    sig_pairs = [p for p in ranks.get("pairwise", []) if p.get("significant")]
    if sig_pairs:
        blocks.append(table(["model A", "model B", "mean rank A", "mean rank B", "Holm p"],
                            [[p["model_a"], p["model_b"], fmt(p.get("mean_rank_a"), ".2f"),
                              fmt(p.get("mean_rank_b"), ".2f"), fmt_p(p.get("p_holm"))]
                             for p in sig_pairs],
                            title="Fold-rank differences that are significant",
                            align=["left", "left", "right", "right", "right"]))
    blocks += _curves(run, figures)
    blocks += _society(run)
    return Section("accuracy", 2, "Accuracy: leaderboard, curves and the society scale",
                   summary, blocks)


def _first_repeat(run: RunData) -> pd.DataFrame:
    pred = run.predictions
    return pred[pred["repeat"] == pred["repeat"].min()]


def _curves(run: RunData, figures: dict[str, Callable[[], str]]) -> list[dict[str, Any]]:
    from sklearn.metrics import roc_curve

    first = _first_repeat(run)
    order = run.model_names
    cutoff = _get(run.metrics, "models", order[0], "decision", "cutoff_score")
    scores = {m: first.loc[first["model"] == m, "score"].to_numpy() for m in order}
    figures["scores"] = lambda: plots.hist_svg(scores, "score", "Score distributions",
                                               cutoff=cutoff if _finite(cutoff) else None)
    blocks = []
    roc, calib, calib_rows = {}, {}, []
    for m in order:
        part = first[first["model"] == m]
        yy = part["defaulted"].to_numpy(dtype=int)  # each prediction carries its outcome
        p = part["p_default"].to_numpy()
        if yy.size == 0 or yy.min() == yy.max():
            continue
        fpr, tpr, _ = roc_curve(yy, p)
        keep = np.unique(np.linspace(0, fpr.size - 1, min(fpr.size, 200)).astype(int))
        roc[m] = (fpr[keep], tpr[keep])
        bins = pd.qcut(p, 10, labels=False, duplicates="drop")
        grouped = pd.DataFrame({"p": p, "y": yy, "b": bins}).groupby("b")
        mean_p, rate = grouped["p"].mean().to_numpy(), grouped["y"].mean().to_numpy()
        calib[m] = (mean_p, rate)
        calib_rows.append([m, fmt(mean_p[0]), fmt(rate[0]), fmt(mean_p[-1]),
                           fmt(rate[-1])])
    if roc:
        figures["roc"] = lambda: plots.roc_svg(roc)
        figures["calibration"] = lambda: plots.calibration_svg(calib)
        blocks += [figure("roc", "ROC curves"), figure("calibration", "Calibration curves")]
        blocks.append(table(["model", "lowest decile: predicted", "observed",
                             "highest decile: predicted", "observed"], calib_rows,
                            title="Calibration at the extremes (deciles of P(default))"))
    blocks.append(figure("scores", "Score distributions"))
    return blocks


def _society(run: RunData) -> list[dict[str, Any]]:
    order = run.model_names
    overall, by_group = [], {}
    for m in order:
        rows = _get(run.metrics, "models", m, "society_scale", default=[]) or []
        share_key = next((k for r in rows for k in r if str(k).startswith("share_above")),
                         "share_above_600")
        for r in rows:
            if r.get("attribute") == "all":
                overall.append([m, pct(r.get(share_key)), r.get("class", ""),
                                r.get("class_description", "")])
            else:
                key = (str(r.get("attribute")), str(r.get("group")))
                by_group.setdefault(key, {"n": r.get("n")})[m] = (
                    f"{pct(r.get(share_key))} {r.get('class', '')}")
    blocks: list[dict[str, Any]] = [
        table(["class", "meaning"], list(run.study.society_classes.items()),
              title="The society scale (table 1 of the seed paper)", align=["left", "left"]),
        table(["model", "share scoring >= 600", "class", "meaning"], overall,
              title="Society scale of the whole population",
              align=["left", "right", "left", "left"])]
    if by_group:
        blocks.append(table(["attribute", "group", "citizens"] + order,
                            [[a, g, fmt(v.get("n"))] + [v.get(m, "-") for m in order]
                             for (a, g), v in by_group.items()],
                            title="Society scale by group (share scoring >= 600, class)",
                            align=["left", "left"] + ["right"] * (len(order) + 1)))
    return blocks


# --------------------------------------------------------------------------- section 3

def _importance_frame(run: RunData) -> pd.DataFrame | None:
    """Mean |SHAP| per model, family, feature and source, as importance.json holds it."""
    if run.importance is None:
        return None
    rows = []
    for model, entry in run.importance["models"].items():
        source_of = {}
        if run.explanations is not None:
            part = run.explanations[run.explanations["model"].astype(str) == model]
            source_of = dict(zip(part["feature"].astype(str), part["source"].astype(str),
                                 strict=False))
        rows += [{"model": model, "family": entry["family"], "feature": feature,
                  "source": source_of.get(feature, "-"), "mean_abs_shap": value}
                 for feature, value in entry["features"].items()]
    return pd.DataFrame(rows) if rows else None


def section_explanations(run: RunData, figures: dict[str, Callable[[], str]]) -> Section:
    title = "Explanations: why each model scores citizens as it does"
    imp = _importance_frame(run)
    if imp is None:
        return Section("explanations", 3, title, NO_EXPLANATIONS, [text(NO_EXPLANATIONS)],
                       available=False)
    order = [m for m in run.model_names if m in set(imp["model"].astype(str))]
    imp["model"] = imp["model"].astype(str)
    top_feature = imp.groupby("feature")["mean_abs_shap"].mean().sort_values(ascending=False)
    blocks: list[dict[str, Any]] = []
    # global importance: top features across models
    features = [str(f) for f in top_feature.index[:12]]
    pivot = imp.pivot_table(index="feature", columns="model", values="mean_abs_shap",
                            aggfunc="sum", observed=True)
    shown = order[:4]
    figures["importance"] = lambda: plots.bar_svg(
        features, {m: [float(pivot.at[f, m]) if f in pivot.index and m in pivot.columns
                       and _finite(pivot.at[f, m]) else 0.0 for f in features]
                   for m in shown},
        "mean |SHAP| (log-odds of default)", "Global importance of the top features")
    blocks.append(figure("importance", "Global importance of the top features"))
    blocks.append(table(["feature"] + order,
                        [[f] + [fmt(pivot.at[f, m]) if f in pivot.index and m in pivot.columns
                                else "-" for m in order] for f in features],
                        title="Mean |SHAP| per feature (log-odds of default)"))
    if "source" in imp.columns:
        by_source = imp.groupby(["model", "source"], observed=True)["mean_abs_shap"].sum()
        totals = by_source.groupby(level=0).sum()
        sources = sorted({str(s) for s in imp["source"]})
        blocks.append(table(["model"] + sources,
                            [[m] + [pct(by_source.get((m, s), 0.0) / totals[m])
                                    if totals.get(m) else "-" for s in sources]
                             for m in order],
                            title="Share of each data source in each model's importance"))
    agreement = _agreement(run, pivot, order)
    if agreement is not None:
        blocks.append(agreement)
    blocks += _reason_codes(run)
    top = features[0] if features else "-"
    summary = (
        f"Explanations are SHAP values on the log-odds of default: how much each input "
        f"pushed a citizen's risk up (a lower score) or down, computed by the same fold "
        f"model that produced the citizen's score, so a score and its explanation agree. "
        f"Across the {len(order)} explained models the most influential input is "
        f"'{top}'. The tables show which data sources each model relies on, how far the "
        f"families agree on what matters, and, for three example citizens, the reasons "
        f"that lowered their score (the paper's suggestion 1: a citizen should see why "
        f"their credit was reduced).")
    return Section("explanations", 3, title, summary, blocks)


def _agreement(run: RunData, pivot: pd.DataFrame, order: list[str]) -> dict[str, Any] | None:
    agree = (run.importance or {}).get("agreement")
    rows = _records(agree)
    if rows:
        return generic_table(rows, title="Agreement between models (rank correlation of "
                                         "feature importance)")
    if len(order) < 2:
        return None
    corr = pivot[order].fillna(0.0).rank().corr()
    return table(["model"] + order, [[a] + [fmt(corr.at[a, b], ".2f") for b in order]
                                     for a in order],
                 title="Agreement between models (Spearman correlation of feature importance)")


def _reason_codes(run: RunData) -> list[dict[str, Any]]:
    expl = run.explanations
    if expl is None or not {"citizen_id", "model", "feature", "shap"} <= set(expl.columns):
        return [text("Reason codes need explanations.parquet, which this run does not have.")]
    model = next((m for m in run.model_names if m in set(expl["model"].astype(str))), None)
    if model is None:
        return []
    part = expl[expl["model"].astype(str) == model]
    first = _first_repeat(run)
    scores = (first[first["model"] == model].set_index("citizen_id")["score"]
              .reindex(part["citizen_id"].unique()).dropna().sort_values())
    if scores.empty:
        return []
    picks = {"lowest score": scores.index[0], "median score": scores.index[len(scores) // 2],
             "highest score": scores.index[-1]}
    factor = _points_per_logodds(run)
    blocks: list[dict[str, Any]] = [text(
        f"Reason codes of three example citizens, from the best explained model "
        f"({model}): the inputs that lowered each citizen's score most, with their data "
        f"source and an approximate cost in points.")]
    for label, cid in picks.items():
        rows = part[part["citizen_id"] == cid].sort_values("shap", ascending=False)
        reasons = rows[rows["shap"] > 0].head(4)
        body = [[r["feature"], str(r.get("source", "-")), fmt(r.get("value")),
                 fmt(r["shap"]), fmt(-r["shap"] * factor, ".0f")]
                for r in reasons.to_dict("records")]
        if not body:
            body = [["no input lowered this score", "-", "-", "-", "-"]]
        blocks.append(table(["input", "source", "value", "SHAP (log-odds)", "points"], body,
                            title=f"Citizen {cid} ({label}: {fmt(scores[cid], '.0f')} points)",
                            align=["left", "left", "right", "right", "right"]))
    return blocks


def _points_per_logodds(run: RunData) -> float:
    return run.study.scale.factor


# --------------------------------------------------------------------------- sections 4-6

def _fair(run: RunData, *keys: str) -> Any:
    return _get(run.fairness, *keys)


def _fair_models(run: RunData) -> dict[str, dict[str, Any]]:
    models = _fair(run, "models")
    return {str(k): v for k, v in models.items() if isinstance(v, dict)} \
        if isinstance(models, dict) else {}


def _ordered(run: RunData, names: Sequence[str]) -> list[str]:
    first = [m for m in run.model_names if m in names]
    return first + [m for m in names if m not in first]


def section_fairness(run: RunData) -> Section:
    title = "Fairness: who is treated unequally"
    if run.fairness is None and run.fairness_by_group is None:
        return Section("fairness", 4, title, NO_FAIRNESS, [text(NO_FAIRNESS)], available=False)
    fcfg = run.config.get("fairness", {}) or {}
    fair = run.fairness or {}
    thresholds = fair.get("thresholds") or {k: fcfg.get(k) for k in
                                            ("four_fifths", "min_group_size")}
    four = thresholds.get("four_fifths", fcfg.get("four_fifths", 0.8))
    blocks: list[dict[str, Any]] = [
        bullets([f"{k}: {v}" for k, v in thresholds.items()],
                title="Thresholds (from the config's fairness section)")]
    per_model = _fair_models(run)
    names = _ordered(run, list(per_model))
    keys = list(dict.fromkeys(k for m in names for k in (per_model[m].get("verdicts") or {})))
    n_fail = 0
    if keys:
        rows = []
        for m in names:
            verdicts = per_model[m].get("verdicts") or {}
            cells = []
            for k in keys:
                status = _status(verdicts.get(k))
                n_fail += status == "fail"
                cells.append(light(status, "" if status != "n/a" else str(verdicts.get(k, "-"))))
            rows.append([m] + cells)
        blocks.append(table(["model"] + keys, rows, title="Four-fifths verdicts per model "
                                                          "(outcome: attribute)",
                            align=["left"] * (len(keys) + 1)))
    for v in _records(fair.get("verdicts")):  # an older or flat layout
        n_fail += _status(_first_present(v, "status", "verdict", "light")) == "fail"
    if fair.get("verdicts"):
        blocks.append(_verdict_table(_records(fair["verdicts"]), "Verdicts"))
    for m in names:
        disp = _records(per_model[m].get("disparities"))
        if disp:
            blocks.append(_verdict_table(disp, f"Disparities: {m}"))
    groups = run.fairness_by_group
    if groups is not None and not groups.empty:
        blocks += _group_tables(groups, thresholds)
    suppressed = list(fair.get("suppressed") or fair.get("suppressed_groups") or [])
    for m in names:
        suppressed += [{"model": m, **g} for g in per_model[m].get("suppressed_groups") or []
                       if isinstance(g, dict)]
    blocks.append(bullets([_describe(s) for s in suppressed] or
                          ["none: every group reached the minimum size"],
                          title=f"Suppressed groups (fewer than "
                                f"{thresholds.get('min_group_size', fcfg.get('min_group_size'))}"
                                f" citizens; withheld, never reported as 0 or 1)"))
    inter = fair.get("intersections")
    if inter:
        blocks.append(generic_table(_records(inter), title="Intersections"))
    elif fcfg.get("intersections"):
        blocks.append(text("Intersections audited: " + "; ".join(
            " x ".join(map(str, i)) for i in fcfg["intersections"])
            + " (rows of the group tables whose attribute joins several)."))
    summary = (
        f"Each model's decisions are compared across protected groups "
        f"({_audited_attributes(run, fcfg)}): approval rates, error rates and "
        f"calibration, with bootstrap intervals. A group whose approval rate falls below "
        f"{four} of the reference group's fails the four-fifths rule (■ fail); ▲ marks a "
        f"borderline result and ● a pass. Groups too small to measure reliably are "
        f"suppressed and listed, not hidden. {n_fail} verdict(s) fail.")
    return Section("fairness", 4, title, summary, blocks)


def _audited_attributes(run: RunData, fcfg: Mapping[str, Any]) -> str:
    """The attributes (and intersections) the audit actually grouped citizens by."""
    groups = run.fairness_by_group
    if groups is not None and "attribute" in groups.columns and len(groups):
        names = [str(a) for a in dict.fromkeys(groups["attribute"].astype(str))]
    else:
        names = [str(a) for a in fcfg.get("attributes") or []]
        names += [" x ".join(map(str, i)) for i in fcfg.get("intersections") or []]
    if not names:
        return "none: the population declares no protected attribute"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _first_present(row: Mapping[str, Any], *keys: str) -> Any:
    return next((row[k] for k in keys if k in row), None)


def _describe(item: Any) -> str:
    if isinstance(item, dict):
        return ", ".join(f"{k}={v}" for k, v in item.items())
    return str(item)


def _verdict_table(rows: list[dict[str, Any]], title: str) -> dict[str, Any]:
    out = []
    for r in rows:
        r = dict(r)
        for key in list(r):
            if (key in ("status", "verdict", "light") or str(key).endswith("_verdict")) \
                    and not isinstance(r[key], dict):
                status = _status(r[key])
                r[key] = {"status": status, "text": str(r[key]) if status == "n/a" else ""}
        out.append(r)
    return generic_table(out, title=title)


def _group_tables(groups: pd.DataFrame, thresholds: Mapping[str, Any]) -> list[dict[str, Any]]:
    four = float(thresholds.get("four_fifths") or 0.8)
    blocks = []
    frame = groups.copy()
    ratio_col = next((c for c in frame.columns if "ratio" in str(c)), None)
    if ratio_col is not None and "status" not in frame.columns:
        frame["status"] = [
            {"status": "n/a"} if not _finite(v) else
            {"status": "fail" if v < four else ("warn" if v < four + 0.05 else "pass")}
            for v in frame[ratio_col]]
    split = "model" if "model" in frame.columns else None
    for key, part in (frame.groupby(split, observed=True, sort=False) if split
                      else [("all models", frame)]):
        rows = part.drop(columns=[split] if split else []).to_dict("records")
        blocks.append(generic_table(rows, title=f"Groups: {key}", max_rows=80))
    return blocks


def section_age(run: RunData, figures: dict[str, Callable[[], str]]) -> Section:
    title = "Age: score by age, proxies and the age gap"
    per_model = {m: v["age"] for m, v in _fair_models(run).items() if v.get("age")}
    if not per_model and not _fair(run, "age"):
        note = NO_FAIRNESS if run.fairness is None else (
            "This run's fairness audit has no age analysis: no age attribute was audited "
            "(a table declares one in population.protected as 'column: age' and lists it "
            "in fairness.attributes).")
        return Section("age", 5, title, note, [text(note)], available=False)
    column = str(_fair(run, "thresholds", "age_attribute") or "age")
    names = _ordered(run, list(per_model))
    blocks: list[dict[str, Any]] = []
    if names:
        blocks.append(table(
            ["model", "young band", "approval young", "approval rest", "ratio", "score gap"],
            [[m, str(per_model[m].get("young_band", "-")),
              pct(per_model[m].get("approval_young")), pct(per_model[m].get("approval_rest")),
              fmt(per_model[m].get("approval_ratio")),
              fmt(per_model[m].get("score_gap"), ".1f")] for m in names],
            title="The young against the rest"))
        curves = {m: pd.DataFrame(_records(per_model[m].get("score_by_age"))) for m in names}
        curves = {m: c for m, c in curves.items() if {"age", "mean_score"} <= set(c.columns)}
        if curves:
            ages = sorted({int(a) for c in curves.values() for a in c["age"]})
            col = "mean_score_smooth" if all("mean_score_smooth" in c for c in curves.values()) \
                else "mean_score"
            series = {m: c.set_index("age")[col].reindex(ages).to_numpy(dtype=float)
                      for m, c in curves.items()}
            figures["score_by_age"] = lambda ages=ages, series=series: plots.line_svg(
                ages, series, column, "mean score (points)", f"Score by {column}")
            blocks.append(figure("score_by_age", "Score by age"))
        sweeps = {m: pd.DataFrame(_records(per_model[m].get("cut_sweep"))) for m in names}
        sweeps = {m: c for m, c in sweeps.items() if "cut" in c.columns and len(c)}
        if sweeps:
            ycol = next((c for c in next(iter(sweeps.values())).columns if "ratio" in c), None)
            if ycol:
                cuts = sorted({int(v) for c in sweeps.values() for v in c["cut"]})
                series = {m: c.set_index("cut")[ycol].reindex(cuts).to_numpy(dtype=float)
                          for m, c in sweeps.items() if ycol in c}
                four = _get(run.fairness, "thresholds", "four_fifths", default=0.8)
                figures["cut_sweep"] = lambda cuts=cuts, series=series, four=four, \
                        ycol=ycol: plots.line_svg(
                    cuts, series, f"young = {column} up to this cut", ycol.replace("_", " "),
                    "Cut-point sweep", hline=four)
                blocks.append(figure("cut_sweep", "Cut-point sweep"))
            best = names[0]
            blocks.append(generic_table(_records(per_model[best].get("cut_sweep")),
                                        title=f"Cut-point sweep: {best}"))
        dec_rows = []
        for m in names:
            d = per_model[m].get("decomposition")
            if isinstance(d, dict):
                dec_rows.append([m] + [fmt(d.get(k), ".1f") for k in
                                       ("total", "true_risk", "proxy", "label_bias",
                                        "residual")] + [pct(d.get("proxy_share_of_unexplained"))])
        if dec_rows:
            blocks.append(table(["model", "age gap (points)", "true risk", "proxy",
                                 "label bias", "residual", "proxy share of unexplained"],
                                dec_rows, title="Decomposition of the age gap (mean score, "
                                                "young minus rest)"))
        for m in names:
            twins = _records(per_model[m].get("twin_effects"))
            if twins:
                blocks.append(generic_table(twins, title=f"Counterfactual twins: {m}"))
    label_sweep = _fair(run, "label_cut_sweep")
    if isinstance(label_sweep, dict):
        blocks.insert(0, text(str(label_sweep.get("note", ""))))
        blocks.insert(1, generic_table(_records(label_sweep.get("records")),
                                       title="Cut-point sweep of the observed labels "
                                             f"(good-outcome rate, young = {column} up to "
                                             "the cut)"))
    notes = [str(per_model[m]["cut_sweep_note"]) for m in names
             if per_model[m].get("cut_sweep_note")]
    for note in notes[:3]:
        blocks.append(text(note))
    proxies = _records(_fair(run, "proxy_audit"))
    if proxies:
        blocks.append(generic_table(proxies, title="Proxy audit: how strongly each input "
                                                   f"stands in for {column}", max_rows=15))
    shap_age = _records(_fair(run, "shap_by_age_band"))
    if shap_age:
        blocks.append(generic_table(shap_age,
                                    title=f"SHAP of {column} and its proxies per age band"))
    legacy = _fair(run, "age")
    if isinstance(legacy, dict):
        for key, value in legacy.items():
            rows = _records(value)
            blocks.append(generic_table(rows, title=key) if rows else text(f"{key}: {value}"))
    summary = (
        f"Age (column '{column}') gets its own audit, because the seed paper warns that "
        "credit histories grow with age. The score-by-age curve shows how each model "
        "treats each age; the cut-point sweep moves the young-versus-rest boundary; the proxy audit measures "
        "how strongly each input stands in for age; counterfactual twins re-draw the same "
        "citizens older with everything else equal; and the decomposition splits the age "
        "gap into what true risk explains and what it does not (proxies, label bias).")
    return Section("age", 5, title, summary, blocks)


def section_mitigation(run: RunData, figures: dict[str, Callable[[], str]]) -> Section:
    title = "Mitigation: accuracy against fairness"
    if run.fairness is None:
        return Section("mitigation", 6, title, NO_FAIRNESS, [text(NO_FAIRNESS)],
                       available=False)
    per_model = _fair_models(run)
    board = run.leaderboard.set_index("model")
    roles = {info.name: info.role for info in run.study.models}
    points, rows = [], []
    for m in _ordered(run, list(per_model)):
        disp = pd.DataFrame(_records(per_model[m].get("disparities")))
        if "worst_approval_ratio" in disp:
            obs = disp[disp["outcome"] == "observed"] if "outcome" in disp else disp
            worst = pd.to_numeric(obs["worst_approval_ratio"], errors="coerce").min()
        else:
            worst = np.nan
        auc = float(board.at[m, "auc"]) if m in board.index else np.nan
        family = str(board.at[m, "family"]) if m in board.index else "-"
        group = roles.get(m, "-")
        rows.append([m, family, group, fmt(auc), fmt(worst)])
        if _finite(auc) and _finite(worst):
            points.append({"name": m, "x": auc, "y": float(worst), "group": group})
    if len(points) >= 2:
        figures["pareto"] = lambda: plots.pareto_svg(
            points, "AUC (accuracy)", "worst approval-rate ratio (fairness)",
            "Accuracy against fairness")
    blocks: list[dict[str, Any]] = []
    if "pareto" in figures:
        blocks.append(figure("pareto", "Accuracy against fairness"))
    blocks.append(table(["model", "family", "variant", "AUC", "worst approval ratio"], rows,
                        title="Every model and variant",
                        align=["left", "left", "left", "right", "right"]))
    n_mit = sum(1 for r in rows if r[2] != "original")
    summary = ("Every mitigation variant and ablation is scored on the same folds as the "
               "original models, so accuracy lost and fairness gained can be read off one "
               "chart: AUC against the worst approval-rate ratio between groups (1 = equal). "
               "Variants on the dashed Pareto front are not beaten on both at once. "
               + (f"This run has {n_mit} variant(s)." if n_mit else
                  "This run has no mitigation variant (no model of family 'mitigation'); "
                  "the chart compares the original models only."))
    return Section("mitigation", 6, title, summary, blocks)


# --------------------------------------------------------------------------- section 7

def section_policy(run: RunData) -> Section:
    flags = _records(_fair(run, "policy_flags"))
    direct: dict[str, list[str]] = {}
    for flag in flags:
        if flag.get("check") == "direct_input" and flag.get("model") is not None:
            direct.setdefault(str(flag["model"]), []).append(str(flag["column"]))
    blocks: list[dict[str, Any]] = []
    rows = []
    for info in run.study.models:
        used = direct.get(info.name, [])
        status = ("fail" if used else "pass") if run.fairness is not None else "not assessed"
        detail = (", ".join(used) or "no prohibited or protected input"
                  if run.fairness is not None else "the fairness stage did not run")
        rows.append([info.name, info.family, light(status, detail)])
    blocks.append(table(["model", "family", "prohibited inputs used directly"], rows,
                        title="Direct use of prohibited inputs",
                        align=["left", "left", "left"]))
    if flags:
        blocks.append(_verdict_table(flags, "Policy flags from the fairness audit"))
    board = run.leaderboard.set_index("model")
    for info in run.study.models:
        name, family = info.name, info.family
        card = FAMILY_CARDS.get(family, {"what": family, "use": "-", "limits": "-"})
        r = board.loc[name] if name in board.index else None
        metrics_line = ("-" if r is None else
                        f"AUC {interval(r['auc'], r.get('auc_low'), r.get('auc_high'))}, "
                        f"Brier {fmt(r.get('brier'))}, ECE {fmt(r.get('ece'))}, approves "
                        f"{pct(r.get('approval_rate'))} with {pct(r.get('default_rate_approved'))}"
                        f" defaulting")
        protected = [c for c in info.inputs if c in direct.get(name, [])]
        blocks.append(table(["", ""], [
            ["what it is", f"{family} / {info.kind} ({info.role}): {card['what']}"],
            ["intended use", card["use"]],
            ["data", f"{len(info.inputs)} inputs of the population in section 1; "
                     f"protected or prohibited inputs: {', '.join(protected) or 'none'}"],
            ["metrics", metrics_line],
            ["limits", card["limits"]]],
            title=f"Model card: {name}", align=["left", "left"]))
        blocks += _deliverables(run, name)
    n_fail = sum(1 for r in rows if r[2]["status"] == "fail")
    summary = (
        f"The seed paper says some facts must not count against a citizen: family and "
        f"friends' scores, illness, situational events (suggestions 2, 4, 5, 6), and "
        f"protected attributes must not be inputs. {n_fail} of {len(rows)} models use such "
        f"an input directly"
        + (", and the fairness audit's flags below also check indirect use through SHAP."
           if flags else ".")
        + " A model card per model then states what it is for, what data it saw, how "
          "well it did and where it should not be trusted.")
    return Section("policy", 7, "Policy checks and model cards", summary, blocks)


def _deliverables(run: RunData, name: str) -> list[dict[str, Any]]:
    """A scorecard's binning and points tables and an expert system's rules, as saved."""
    tables = run.model_tables(name)
    blocks = []
    if "binning.csv" in tables:
        t = tables["binning.csv"]
        blocks.append(table(["variable", "bins", "information value", "selected"],
                            [[r["variable"], fmt(r["n_bins"], ".0f"),
                              fmt(r["information_value"]), str(r["selected"])]
                             for r in t.to_dict("records")],
                            title=f"{name}: binning and information value per variable"))
    if "points_table.csv" in tables:
        t = tables["points_table.csv"]
        t = t[t["count"] > 0]
        blocks.append(table(["variable", "bin", "citizens", "WoE", "points"],
                            [[r["variable"], r["bin"], fmt(r["count"], ".0f"), fmt(r["woe"]),
                              fmt(r["points"], ".1f")] for r in t.to_dict("records")],
                            title=f"{name}: points table (points per bin)"))
    if "rules.csv" in tables:
        t = tables["rules.csv"]
        blocks.append(table(list(t.columns), [[_cell(v) for v in r] for r in t.values.tolist()],
                            title=f"{name}: rule table"))
    return blocks


# --------------------------------------------------------------------------- assembly

@dataclass(frozen=True)
class ReportPaths:
    """The files :func:`build_report` wrote."""

    html: Path
    md: Path
    json: Path


def _sections(run: RunData, figures: dict[str, Callable[[], str]]) -> list[Section]:
    return [section_study(run), section_accuracy(run, figures),
            section_explanations(run, figures), section_fairness(run),
            section_age(run, figures), section_mitigation(run, figures), section_policy(run)]


def report_data(run: RunData,
                figures: dict[str, Callable[[], str]] | None = None) -> dict[str, Any]:
    """The data of the report: title, run identity and the seven sections (JSON-ready).

    ``figures`` (optional) collects the figure makers the HTML needs, by key.
    """
    figures = {} if figures is None else figures
    man = run.manifest
    return {
        "title": run.study.title,
        "study": run.study.name,
        "run": {"run_id": str(man.get("run_id", run.run_dir.name)),
                "seed": man.get("seed"), "config_hash": man.get("config_hash"),
                "data_fingerprint": man.get("data_fingerprint"),
                "command": man.get("command"), "versions": man.get("versions", {}),
                "timings_seconds": man.get("timings_seconds", {})},
        "artifacts": {"explanations": run.explanations is not None,
                      "importance": run.importance is not None,
                      "fairness": run.fairness is not None,
                      "fairness_by_group": run.fairness_by_group is not None},
        "sections": [s.as_dict() for s in _sections(run, figures)],
    }


def _environment(html: bool) -> Environment:
    env = Environment(loader=PackageLoader("scorelab.report", "templates"),
                      autoescape=html, undefined=StrictUndefined, trim_blocks=True,
                      lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["md"] = md_escape
    return env


def render_html(data: Mapping[str, Any], figures: Mapping[str, Callable[[], str]]) -> str:
    """The self-contained HTML page (autoescaped; figures are inline SVG)."""
    css = (Path(__file__).parent / "templates" / "report.css").read_text()
    svg = {key: Markup(make()) for key, make in figures.items()}
    return _environment(html=True).get_template("report.html.j2").render(
        data=data, figures=svg, css=Markup(css))


def render_markdown(data: Mapping[str, Any]) -> str:
    """The Markdown report: the same sections and tables, no figures, no volatile data."""
    text_ = _environment(html=False).get_template("report.md.j2").render(data=data)
    return "\n".join(line.rstrip() for line in text_.splitlines()).strip() + "\n"


def _write_atomic(path: Path, content: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def build_report(run_dir: str | Path, *, unpublished: bool = False) -> ReportPaths:
    """Render ``report.html``, ``report.md`` and ``report.json`` into a run directory.

    Each file is written under a temporary name and renamed into place; re-running
    replaces only these three files.

    Raises
    ------
    DataError
        The run directory is missing or lacks a core artifact (one line naming it).
    OutputError
        The run directory is not writable.
    """
    run = load_run(run_dir, unpublished=unpublished)
    if not os.access(run.run_dir, os.W_OK):
        raise OutputError(f"run directory '{run.run_dir}' is not writable")
    figures: dict[str, Callable[[], str]] = {}
    data = report_data(run, figures)
    html = render_html(data, figures)
    md = render_markdown(data)
    payload = dumps(data)
    paths = ReportPaths(run.run_dir / "report.html", run.run_dir / "report.md",
                        run.run_dir / "report.json")
    try:
        _write_atomic(paths.json, payload)
        _write_atomic(paths.md, md)
        _write_atomic(paths.html, html)
    except OSError as exc:
        raise OutputError(f"cannot write the report into '{run.run_dir}': "
                          f"{exc.strerror or exc}") from None
    return paths
