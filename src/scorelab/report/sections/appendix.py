"""The examiner's appendix: what a fair-lending examiner asks for beyond the findings.

Where the data came from (the data card's provenance), the decision policy with what it
approves, the bad rate among the approved and its expected cost, and why that policy
(chosen by the config, or optimised on each fold's training applicants), the adverse
reasons the declined get by age group, model by model, and one card per model (intended
use, limits, inputs, accuracy, verdicts), each with an anchor page one links to. Every
part is collapsed in the HTML and printed open in the PDF.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from scorelab.core.ages import age_band_labels, age_bands
from scorelab.report.blocks import (
    Section,
    details,
    finite,
    fmt,
    get,
    pct,
    table,
    text,
)
from scorelab.report.context import ReportContext
from scorelab.report.sections.cards import model_card
from scorelab.report.sections.practice import policy_cells

__all__ = ["appendix", "reason_codes_by_age"]

#: Reasons shown per model in the reasons-by-age table (the most frequent overall).
REASONS_PER_MODEL = 3

POLICY_WHY = {
    "cutoff": "a cut-off fixed by the config (decision.cutoff_score), not optimised on "
              "this data",
    "approval_rate": "fixed by the config (decision.target_approval_rate): every model "
                     "approves the same share",
    "cost": "each fold's cost-minimising cut-off, chosen on that fold's training applicants "
            "only, under the costs decision.costs sets",
}


def _provenance(ctx: ReportContext) -> dict[str, Any]:
    """Where the data came from, as the data card records it; a fact no card states is
    said to be not stated (naming the card that is silent), never guessed."""
    prov = ctx.run.data_card.get("provenance")
    table_run = ctx.run.study.population.source == "table"
    if not isinstance(prov, dict):  # a run written before provenance was recorded
        rows = [["data", ctx.population_words],
                ["provenance", "not recorded by this run (written before scorelab kept "
                               "it); run the study again to have it"]]
        return details("Data provenance", [table(["", ""], rows, align=["left", "left"])])
    card = prov.get("companion_card")
    unstated = (f"not stated: {prov['companion_problem']}" if prov.get("companion_problem")
                else f"not stated in {card}" if card
                else "not stated: no data card beside the table (<table>.card.json)"
                if table_run else "not recorded")
    dates = prov.get("dates")
    rows = [["data", str(prov.get("title") or ctx.population_words)],
            ["source", str(prov.get("source") or unstated)],
            ["licence", str(prov.get("licence") or unstated)],
            ["published", str(prov.get("published") or unstated)],
            ["collected", str(prov.get("collected") or unstated)
             + (f"; applications {dates['first']} to {dates['last']} ({dates['column']})"
                if isinstance(dates, dict) else "")],
            ["file", f"{prov.get('file') or '-'} ({ctx.run.study.population.n_citizens:,} "
                     f"rows; data fingerprint {ctx.run.manifest.get('data_fingerprint')})"
             if table_run else "none: drawn in memory by the run"],
            ["dropped columns", ", ".join(prov.get("dropped") or []) or "none"]]
    derived = prov.get("derived") or {}
    rows.append(["derived columns", "; ".join(f"{c}: {how}" for c, how in derived.items())
                 or "none stated"])
    rows.append(["protected attributes audited", ", ".join(ctx.attributes) or "none"])
    return details("Data provenance", [table(["", ""], rows, align=["left", "left"])])


def _decision(ctx: ReportContext) -> dict[str, Any] | None:
    practice = get(ctx.run.metrics, "practice")
    if not isinstance(practice, dict):
        return None
    rule = str(practice.get("policy") or ctx.run.study.decision.rule)
    costed = bool(practice.get("costs"))  # as the credit-practice section decides it
    rows = [[m, *policy_cells(p, costed)] for m in ctx.order
            if isinstance(p := get(practice, "models", m, "policies", rule), dict)]
    if not rows:
        return None
    bad = ctx.run.data_card.get("observed_default_rate")
    cutoff = ctx.run.study.decision.cutoff_score
    why = POLICY_WHY.get(rule, rule)
    if rule == "cutoff" and cutoff is not None:
        why = why.replace("a cut-off", f"a cut-off of {fmt(cutoff, 'g')} points", 1)
    best = rows[0][0]  # the most accurate model the policy was recorded for
    at_best = get(practice, "models", best, "policies", rule, default={}) or {}
    sentence = (f"The run's approvals follow the {rule.replace('_', ' ')} policy: {why}. "
                f"Under it {best} approves {pct(at_best.get('approval_rate'))} of "
                f"{ctx.people}" + (f", when {pct(1.0 - float(bad))} repaid" if finite(bad)
                                   else "") + "; the other policies are compared in the "
                "credit-practice section."
                + (" The cut-off shown for the cost policy is the median over applicants of "
                   "the cut-off each was judged by." if rule == "cost" else ""))
    head = ["model", "cut-off", "approved", "bad among approved"] + \
        (["expected cost per applicant [interval]"] if costed else [])
    return details("Decision policy: what it approves, its bad rate and cost, and why", [
        text(sentence),
        table(head, rows, align=["left"] + ["right"] * (len(head) - 1))])


def reason_codes_by_age(reasons: pd.DataFrame, ages: pd.Series, edges: list[float],
                        per_model: int = REASONS_PER_MODEL, min_n: int = 1) -> pd.DataFrame:
    """The share of each model's declined applicants in each age band given a reason
    (among their principal reasons), for each model's ``per_model - 1`` most frequent
    reasons and the one whose share differs most between bands of at least ``min_n``
    declined (the reason an examiner asks about: given far more often to one age group).

    ``reasons``: adverse_reasons.parquet (citizen_id, model, rank, code, reason);
    ``ages``: age by citizen_id. Columns: model, code, reason, age_band, n_declined,
    n_given, share.
    """
    bands = pd.Series(age_bands(ages.to_numpy(), edges), index=ages.index)
    frame = reasons.assign(age_band=reasons["citizen_id"].map(bands)).dropna(
        subset=["age_band"])
    declined = frame.groupby(["model", "age_band"], observed=True)["citizen_id"].nunique()
    given = frame.groupby(["model", "code", "reason", "age_band"],
                          observed=True)["citizen_id"].nunique().rename("n_given")
    every = given.reset_index()[["model", "code", "reason"]].drop_duplicates().merge(
        declined.rename("n_declined").reset_index(), on="model")
    every = every.merge(given.reset_index(), on=["model", "code", "reason", "age_band"],
                        how="left")
    every["n_given"] = every["n_given"].fillna(0).astype(int)
    every["share"] = every["n_given"] / every["n_declined"]
    counted = every[every["n_declined"] >= min_n]
    spread = counted.groupby(["model", "code"], observed=True)["share"].agg(np.ptp)
    total = every.groupby(["model", "code"], observed=True)["n_given"].sum()
    chosen = []
    for model in dict.fromkeys(every["model"]):
        frequent = list(total[model].sort_values(ascending=False, kind="stable")
                        .index[:max(per_model - 1, 1)])
        rest = spread[model].drop(frequent, errors="ignore") if model in spread else None
        widest = ([rest.sort_values(ascending=False, kind="stable").index[0]]
                  if rest is not None and len(rest) and per_model > 1 else [])
        chosen += [(model, code) for code in frequent + widest]
    keep = pd.MultiIndex.from_frame(every[["model", "code"]]).isin(chosen)
    return every[keep].sort_values(["model", "code", "age_band"], kind="stable",
                                   ignore_index=True)


def _reasons_by_age(ctx: ReportContext) -> list[dict[str, Any]]:
    """Each model's reasons by age band, for the examiner's question whether one age
    group is told other reasons (withheld bands as everywhere else)."""
    reasons = ctx.run.adverse_reasons()
    if reasons is None or reasons.empty or ctx.age_column is None or not ctx.age_edges:
        return []
    by_age = reason_codes_by_age(reasons, ctx.ages(), ctx.age_edges,
                                 min_n=ctx.min_group_size or 1)
    if by_age.empty:
        return []
    by_age["withheld"] = [ctx.withheld(n) for n in by_age["n_declined"]]
    path = ctx.add_table("reason_codes_by_age", by_age)
    present = set(by_age["age_band"].astype(str))
    bands = [b for b in age_band_labels(ctx.age_edges) if b in present]  # in age order
    order = {m: i for i, m in enumerate(ctx.order)}
    rows, spread = [], []
    for (model, code, reason), part in sorted(
            by_age.groupby(["model", "code", "reason"], sort=False),
            key=lambda kv: (order.get(kv[0][0], len(order)), kv[0][1])):
        cells = part.set_index(part["age_band"].astype(str))
        row = [model, f"{code} {reason}"]
        shown = {}
        for band in bands:
            if band not in cells.index:
                row.append("-")
            elif bool(cells.at[band, "withheld"]):
                row.append(f"withheld (n = {int(cells.at[band, 'n_declined'])})")
            else:
                shown[band] = float(cells.at[band, "share"])
                row.append(f"{pct(shown[band], 0)} of {int(cells.at[band, 'n_declined'])}")
        rows.append(row)
        if len(shown) > 1:
            high, low = max(shown, key=shown.get), min(shown, key=shown.get)
            spread.append((shown[high] - shown[low], model, reason, high, shown[high], low,
                           shown[low]))
    blocks: list[dict[str, Any]] = []
    best = [row for row in spread if row[1] == ctx.order[0]]  # the most accurate model
    if best or spread:
        _, model, reason, high, at_high, low, at_low = max(best or spread)
        blocks.append(text(
            f"The widest difference under {model}: it gives \"{reason}\" to "
            f"{pct(at_high, 0)} of its declined {ctx.people} aged {high} and "
            f"{pct(at_low, 0)} of those aged {low}. "
            f"A reason given far more often to one age group is worth reading beside the "
            f"age section's proxies."))
    blocks.append(table(["model", "reason", *bands], rows,
                        align=["left", "left"] + ["right"] * len(bands), csv=path,
                        caption=f"share of each age band's declined {ctx.people} with reasons "
                                f"given the reason among their principal reasons: each "
                                f"model's {REASONS_PER_MODEL - 1} most frequent reasons and "
                                f"the one whose share differs most between bands"
                                + (f"; bands with fewer than {ctx.min_group_size} declined "
                                   "are withheld" if ctx.min_group_size else "")))
    return [details("Adverse reasons by age group, model by model", blocks)]


def appendix(ctx: ReportContext) -> Section:
    """The last section: what an examiner asks for beyond the findings (module doc)."""
    blocks: list[dict[str, Any]] = [_provenance(ctx)]
    parts = ["where the data came from"]
    decision = _decision(ctx)
    if decision is not None:
        blocks.append(decision)
        parts.append("the decision policy and why")
    by_age = _reasons_by_age(ctx)
    if by_age:
        blocks += by_age
        parts.append("the adverse reasons by age group")
    blocks.append(details(f"Model cards ({len(ctx.order)}): intended use, limits, inputs, "
                          "accuracy and verdicts",
                          [model_card(ctx, m) for m in ctx.order]))
    summary = (f"For an examiner: {', '.join(parts)}, and one card per model (linked from "
               "page one); printed open in the PDF.")
    return Section("appendix", "Examiner's appendix", summary, blocks)
