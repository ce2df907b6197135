"""Section 1, the study: what was compared, on which data, under which protocol."""

from __future__ import annotations

from typing import Any

import pandas as pd

from scorelab.report.blocks import Section, bullets, details, fmt, get, pct, table
from scorelab.report.context import ReportContext
from scorelab.report.sections.fairness import joined

__all__ = ["compute_words", "decision_words", "study"]


def decision_words(ctx: ReportContext) -> str:
    d = ctx.run.study.decision
    if d.rule == "approval_rate":
        return f"approve the best-scoring {pct(d.target_approval_rate)} of applicants"
    if d.rule == "cost":
        return ("approve applicants scoring at least their fold's cost-minimising cut-off, "
                "chosen on that fold's training citizens only (see Credit practice)")
    return f"approve applicants scoring at least {fmt(d.cutoff_score, 'g')} points"


def _facts(ctx: ReportContext) -> list[list[str]]:
    run, study, card = ctx.run, ctx.run.study, ctx.run.data_card
    ev = run.config.get("evaluation", {}) or {}
    scale = study.scale
    facts = [["population", ctx.population_words],
             ["outcome", f"'{study.population.target}', observed default rate "
                         f"{pct(card.get('observed_default_rate'))}"]]
    if ctx.truth:
        facts.append(["known truth", f"true default rate {pct(card.get('true_default_rate'))};"
                                     f" oracle AUC (true risk against the observed outcome) "
                                     f"{fmt(card.get('oracle_auc'))}"])
    oot = ev.get("split") == "time"
    folds = study.folds - 1 if oot else study.folds
    late = pct(get(run.metrics, "practice", "out_of_time_share"))
    protocol = (f"stratified {folds}-fold cross-validation x {study.repeats} repeat(s)"
                + (f" of the earlier applications, and out of time: the latest {late} "
                   f"(fold {folds}) scored by models trained on every earlier application"
                   if oot else ""))
    facts += [["protocol", f"{protocol}; the same folds for every model; every score "
                           "comes from a model that never saw the applicant"],
              ["intervals", f"{pct(ev.get('confidence'), 0)} bootstrap intervals, "
                            f"{fmt(ev.get('bootstrap'))} replicates"],
              ["decision rule", decision_words(ctx)],
              ["score scale", f"{scale.name}: {fmt(scale.base_score, 'g')} points at odds "
                              f"{fmt(scale.base_odds, 'g')}:1, {fmt(scale.pdo, 'g')} points "
                              f"to double the odds, range {fmt(scale.low, 'g')}-"
                              f"{fmt(scale.high, 'g')}"],
              ["seed", str(run.manifest.get("seed"))]]
    return facts


def _models(ctx: ReportContext) -> dict[str, Any]:
    rows = []
    rank = {name: i for i, name in enumerate(ctx.order)}
    for m in sorted(ctx.run.study.models, key=lambda m: rank.get(m.name, len(rank))):
        rows.append([m.name, m.family, m.kind, m.role, fmt(len(m.inputs)),
                     ", ".join(m.dropped_features) or "-"])
    return table(["model", "family", "kind", "role", "inputs", "inputs withheld"], rows,
                 title="Models in the study (best AUC first)",
                 align=["left", "left", "left", "left", "right", "left"])


def compute_words(study: Any) -> str:
    """One sentence on how the models trained (study.json ``compute``): on a Dask
    cluster, which distributed and which on the seeded sample; on this machine, which
    on the seeded sample when any did; empty otherwise."""
    compute = getattr(study, "compute", None) or {}
    training = compute.get("training") or {}
    sampled = [n for n, note in training.items() if str(note).startswith("sample")]
    every = [n for n in training if n not in sampled]
    size = fmt(compute.get("sample_size"))
    if compute.get("backend") == "local":
        if not sampled:
            return ""
        return (f" {joined(sampled)} trained on a seeded sample of at most {size} training "
                "citizens per fit (compute.sample_size) and scored every held-out citizen"
                + (f"; {joined(every)} trained on every training citizen" if every else "")
                + ".")
    if compute.get("backend") != "dask":
        return ""
    parts = []
    if every:
        parts.append(f"{joined(every)} trained distributed (lightgbm.dask) on every training "
                     "citizen of each fold")
    if sampled:
        parts.append(f"{joined(sampled)} cannot train distributed and trained on a seeded "
                     f"sample of at most {size} training citizens per fold")
    return (f" The study ran on a Dask cluster ({fmt(compute.get('workers'))} workers, "
            f"{fmt(compute.get('partitions'))} partitions): " + "; ".join(parts)
            + "; every model scored every partition.")


def _data_card(ctx: ReportContext) -> list[dict[str, Any]]:
    blocks = []
    for attribute, rows in (ctx.run.data_card.get("groups") or {}).items():
        has_true = any("true_default_rate" in r for r in rows)
        cols = [str(attribute), "applicants", "share", "observed default rate"]
        cols += ["true default rate"] if has_true else []
        blocks.append(table(cols, [
            [r.get("group"), fmt(r.get("n")), pct(r.get("share")),
             pct(r.get("observed_default_rate"))]
            + ([pct(r.get("true_default_rate"))] if has_true else []) for r in rows],
            title=f"Default rates by {attribute}"))
    return blocks


def study(ctx: ReportContext) -> Section:
    run = ctx.run
    families = sorted({m.family for m in run.study.models})
    blocks: list[dict[str, Any]] = [
        table(["", ""], _facts(ctx), title="The study", align=["left", "left"]),
        details("Models in the study: family, kind, role and inputs", [_models(ctx)])]
    causes = get(run.data_card, "causes") if ctx.synthetic else None
    if causes:
        blocks.append(bullets(
            [f"{name}: " + ", ".join(f"{k} = {v}" for k, v in setting.items()
                                     if not isinstance(v, dict))
             if isinstance(setting, dict) else f"{name}: {setting}"
             for name, setting in causes.items()],
            title="Causes planted in the synthetic population"))
    quality = run.data_card.get("quality")
    if quality is not None:  # a table's data-quality findings (scorelab.data.quality)
        blocks.append(bullets(
            [f["message"] for f in quality] or [
                "No finding: no implausible age or negative amount, extreme tail, "
                "identifier-like or (near-)constant column, duplicated row, single-column "
                "leakage suspect or extreme default rate."],
            title=f"Data quality of the table ({len(quality)} finding"
                  f"{'' if len(quality) == 1 else 's'})"))
    card = _data_card(ctx)
    if card:
        blocks.append(details("Data card: default rates by group", card))
    versions = run.manifest.get("versions") or {}
    identity = [["run id", str(run.manifest.get("run_id"))],
                ["config hash", str(run.manifest.get("config_hash"))],
                ["data fingerprint", str(run.manifest.get("data_fingerprint"))],
                *[[f"version of {k}", v] for k, v in sorted(versions.items())]]
    ctx.add_table("run_identity", pd.DataFrame(identity, columns=["item", "value"]))
    blocks.append(details("Run identity and package versions",
                          [table(["item", "value"], identity, align=["left", "left"])],
                          volatile=True))
    summary = (f"This study compares {len(run.study.models)} credit-scoring models of "
               f"{len(families)} families ({', '.join(families)}) on "
               f"{ctx.population_words}, each trained and tested on exactly the same "
               f"folds. The seed, config hash and data fingerprint identify the run "
               f"exactly." + compute_words(run.study))
    return Section("study", "The study", summary, blocks)
