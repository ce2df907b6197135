"""Tuning: the budget every family got, the parameters chosen on each outer fold, the
ensemble's members and weights, and a flag on every model compared untuned. Present only
when the run has tuning.json (evaluation.tuning set, or an ensemble-selection model)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from scorelab.report.blocks import Section, bullets, details, fmt, table
from scorelab.report.context import ReportContext

__all__ = ["tuning"]


def _shown(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={fmt(v, '.3g') if isinstance(v, float) else v}"
                     for k, v in params.items())


def _fold(entry: dict[str, Any]) -> str:
    return f"r{entry['repeat']}f{entry['fold']}"


def _stopped(info: dict[str, Any]) -> str:
    """How many of a tuned model's inner fits ended at max_iter rather than converging
    (their scores may understate the configuration): "-" when none is recorded."""
    trials = [t for f in info["folds"] for t in f.get("trials", [])
              if isinstance(t, dict) and "not_converged" in t]
    if info["status"] != "tuned" or not trials:
        return "-"
    stopped = sum(int(t["not_converged"]) for t in trials)
    return f"{stopped} of {len(trials) * int(info['inner_folds'])}"


def tuning(ctx: ReportContext) -> Section | None:
    report = ctx.run.tuning
    if report is None:
        return None
    models = report["models"]
    order = [m for m in ctx.order if m in models]
    tuned = [m for m in order if models[m]["status"] == "tuned"]
    ensembles = [m for m in order if models[m]["status"] == "ensemble"]
    untuned = [m for m in order if models[m]["status"] == "untuned"]
    rows, chosen = [], []
    for m in order:
        info = models[m]
        if info["status"] == "untuned":
            rows.append([m, "untuned", "-", info["reason"], "-"])
            continue
        per_fold = {len(f.get("trials", [])) for f in info["folds"]} if info["status"] == \
            "tuned" else {n for f in info["folds"] for n in f["trials"].values()}
        rows.append([m, info["status"], "/".join(str(n) for n in sorted(per_fold)),
                     f"{info['inner_folds']} inner folds, metric {info['metric']}",
                     _stopped(info)])
        for entry in info["folds"]:
            if info["status"] == "tuned":
                chosen.append({"model": m, "fold": _fold(entry),
                               "inner_score": entry["inner_score"],
                               "params": _shown(entry["params"])})
            else:
                for member in entry["members"]:
                    chosen.append({"model": m, "fold": _fold(entry),
                                   "inner_score": member["inner_score"],
                                   "params": f"weight {member['weight']:.2f} x "
                                             f"{member['candidate']}: "
                                             f"{_shown(member['params'])}"})
    blocks: list[dict[str, Any]] = [table(
        ["model", "status", "configurations per fold", "search",
         "inner fits stopped at their iteration limit"], rows,
        align=["left", "left", "right", "left", "right"])]
    if untuned:
        blocks.append(bullets([f"{m} was compared untuned: {models[m]['reason']}."
                               for m in untuned], title="Compared untuned"))
    if chosen:
        frame = pd.DataFrame(chosen)
        name = ctx.add_table("tuning", frame)
        shown = frame.assign(inner_score=frame["inner_score"].map(fmt)).head(40)
        blocks.append(details("Parameters chosen on each outer fold", [table(
            list(shown.columns), shown.values.tolist(), csv=name,
            align=["left", "left", "right", "left"])]))
    if report["enabled"]:
        summary = (f"Every model with a search space was tuned with the same budget: "
                   f"{report['budget']} candidate configurations per outer fold, scored on "
                   f"{report['inner_folds']} inner folds of that fold's training citizens "
                   f"only (the outer test fold never informed the choice), by "
                   f"{report['metric']} ({report['sampler']}). Tuned: "
                   f"{', '.join(tuned) or 'none'}.")
    else:
        summary = ("evaluation.tuning was not set, so the families ran with fixed "
                   "parameters; only the ensemble selection searched its candidates.")
    if ensembles:
        summary += (f" Ensemble selection ({', '.join(ensembles)}) hill-climbed over its "
                    "tuned candidates' inner out-of-fold predictions; its members and "
                    "weights per fold are listed below.")
    if untuned:
        summary += f" Compared untuned: {', '.join(untuned)}."
    return Section("tuning", "Tuning: the same budget for every family", summary, blocks)
