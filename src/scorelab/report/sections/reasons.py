"""Adverse-action reasons and the age rule of lending law (US Regulation B).

Built only from the run's adverse_action.json, adverse_reasons.parquet and
age_rule.json: which method ranked each model's reasons, the reasons declined
applicants were given most often, who has no recourse, how faithful and stable the
reasons are (synthetic truth), and per model whether the age rule passes, fails or does
not apply, with the proxies' contribution by age group beside it. Absent (None) when the
run has no adverse-action artifacts.
"""

from __future__ import annotations

from typing import Any

from scorelab.report.blocks import Section, details, fmt, interval, light, pct, table
from scorelab.report.context import ReportContext

__all__ = ["reasons"]

VERDICT_LIGHT = {"pass": "pass", "fail": "fail", "does not apply": "n/a", "not tested": "n/a"}


def _reason_rows(ctx: ReportContext, summary: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for name in ctx.order:
        entry = summary["models"].get(name) or {}
        if not entry.get("n_explained"):
            continue
        first = entry.get("first_reasons") or []
        top = (f"{first[0]['code']} {first[0]['reason']} ({first[0]['n']})" if first else "-")
        rec = entry.get("recourse") or {}
        searched = bool(rec.get("searched"))
        shares = [pct(rec.get(k)) if searched else "not searched"
                  for k in ("share_found", "share_proven_none", "share_undecided")]
        fidelity = entry.get("fidelity") or {}
        fid = fidelity.get("fidelity")
        boot = (entry.get("bootstrap") or {}).get("jaccard")
        method = ("points" if entry["method"] == summary["methods"]["additive"] else
                  "SHAP" if entry["method"] == summary["methods"]["shap"] else entry["method"])
        rows.append([name, method, str(entry["n_declined"]), top, *shares,
                     f"{pct(fid)} of {fidelity['n_counted']}" if fid is not None else "-",
                     fmt(boot, ".2f") if boot is not None else "-"])
    return rows


def _age_groups(rule: dict[str, Any]) -> list[str]:
    """The age groups of the proxies' contributions, in the order they first appear."""
    groups: list[str] = []
    for entry in rule["models"].values():
        groups += [g["group"] for g in entry.get("proxy_groups", []) if g["group"] not in groups]
    return groups


def _age_rows(ctx: ReportContext, rule: dict[str, Any],
              groups: list[str]) -> list[list[Any]]:
    """One row per model: the verdict, its evidence, and one column per age group with
    the proxies' mean contribution to the score in points (short numbers, so a row stays
    one line)."""
    factor = ctx.run.study.scale.factor
    rows = []
    for name in ctx.order:
        entry = rule["models"].get(name)
        if entry is None:
            continue
        by_group = {g["group"]: g["mean_proxy_contribution"]
                    for g in entry.get("proxy_groups", [])}
        status = VERDICT_LIGHT.get(entry["verdict"], "n/a")
        detail = entry["verdict"] if status == "n/a" else ""  # the light says pass / fail
        if entry.get("distinguishable_from_zero") is False:
            detail = "(within noise)"
        evidence = ("age is not an input" if entry["verdict"] == "does not apply"
                    else entry["evidence"])
        rows.append([name, light(status, detail), evidence,
                     *[fmt(None if by_group.get(g) is None else -factor * by_group[g], "+.1f")
                       for g in groups]])
    return rows


def _age_rule_blocks(ctx: ReportContext, rule: dict[str, Any],
                     applies: list[str]) -> list[dict[str, Any]]:
    """The models the rule applies to in view; every model, with its proxies' contribution
    by age group, collapsed below (in view when the rule applies to all)."""
    groups = _age_groups(rule)
    rows = _age_rows(ctx, rule, groups)
    head = ["model", "age rule", "evidence", *[f"proxies {g}" for g in groups]]
    align = ["left", "left", "left"] + ["right"] * len(groups)
    every = table(head, rows, align=align,
                  caption=f"Proxies: {', '.join(rule['proxies']) or 'none among the inputs'}; "
                          "the proxies columns give their mean contribution to the score "
                          "(points) by age group; negative values lower the score."
                          + (f" The margin's interval is a {rule['bootstrap']}-replicate "
                             "bootstrap over the explained applicants; 'within noise': the "
                             "interval includes zero." if rule.get("bootstrap") else ""))
    applying = [r for r in rows if r[0] in applies]
    if len(applying) == len(rows):
        return [every]
    blocks = [table(head, applying, align=align, title="The age rule where age is an input")
              ] if applying else []
    return blocks + [details("The age rule and the proxies' contribution by age group, "
                             "every model", [every])]


def _fidelity_block(ctx: ReportContext, summary: dict[str, Any]) -> dict[str, Any] | None:
    """Per model, how often its reasons are the declined applicants' principal true
    reasons, with 95% Wilson intervals and the chance level (the same reasons shuffled
    across the declined): a share is worth what it adds to chance."""
    rows = []
    for name in ctx.order:
        f = (summary["models"].get(name) or {}).get("fidelity") or {}
        if f.get("fidelity") is None:
            continue
        chance = f.get("chance") or {}
        first, among = f.get("interval") or [None, None], \
            f.get("top_in_reasons_interval") or [None, None]
        rows.append([name, f"{f['n_counted']:,}",
                     interval(f["fidelity"], *first, spec=".1%"),
                     pct(chance.get("fidelity")),
                     interval(f.get("top_in_reasons"), *among, spec=".1%"),
                     pct(chance.get("top_in_reasons")),
                     pct(f.get("share_latent_largest"))])
    if not rows:
        return None
    return details("Reason fidelity against the planted truth, with intervals", [table(
        ["model", "declined counted", "first reason is a principal true reason",
         "chance", "a principal true reason among those given", "chance",
         "latent term larger than every named one"], rows,
        align=["left", "right", "right", "right", "right", "right", "right"],
        caption="Principal true reasons: the true risk terms of inputs the model may name "
                "that are adverse against the approved applicants' average (for every "
                "model, whatever its ranking method) and within the truth's sampling "
                "tolerance of the largest; latent reliability, which no "
                "input names, is left out. Intervals: 95% Wilson. Chance: "
                "the same reasons given to other declined applicants at random. The last "
                "column is how often latent reliability, which no input names and which "
                "is left out of the count, outweighed every named term.")])


def reasons(ctx: ReportContext) -> Section | None:
    summary = ctx.run.adverse_action
    rule = ctx.run.age_rule
    if summary is None and rule is None:
        return None
    blocks: list[dict[str, Any]] = []
    parts = []
    if summary is not None:
        rows = _reason_rows(ctx, summary)
        declined = sum(int(r[2]) for r in rows)
        parts.append(
            f"Declined applicants of the audit sample ({declined:,} declines across "
            f"{len(rows)} model(s)) get up to {summary['max_reasons']} principal reasons, "
            f"ranked by {summary['methods']['additive']} (\"points\") for expert rules and "
            f"scorecards and by {summary['methods']['shap']} (\"SHAP\") for the other "
            "families; an input with a zero "
            "or favourable contribution is never a reason, approved applicants get none, and "
            "protected or prohibited inputs are never given as reasons.")
        flagged = sorted({f"{f['model']} ({f['column']})" for f in summary["policy_flags"]})
        if flagged:
            parts.append("A barred input would have ranked among the reasons of "
                         f"{', '.join(flagged)}: flagged in the policy checks.")
        headers = ["model", "ranking method", "declined", "most frequent first reason",
                   "recourse found", "proven none", "undecided", "fidelity", "refit Jaccard"]
        align = ["left", "left", "right", "left", "right", "right", "right", "right",
                 "right"]
        if all(r[-1] == "-" for r in rows):  # no refits were run: no column of dashes
            headers, align, rows = headers[:-1], align[:-1], [r[:-1] for r in rows]
        blocks.append(table(
            headers, rows, align=align,
            caption="Recourse: the smallest change of up to three actionable inputs, moved "
                    "only the way the catalogue allows, over the population's percentiles, "
                    "that reaches the cut-off (exhaustive for points-ranked models, a beam "
                    "search for the others). Proven none: an upper bound (every actionable "
                    "input at the best term any citizen attains) stays below the cut-off; "
                    "only additive models have one. Undecided: nothing found within three "
                    "inputs and no proof."
                    + (" Fidelity: share of all declined applicants whose first reason is "
                       "one of their principal true reasons (defined below, with intervals "
                       "and chance levels)."
                       if ctx.synthetic else
                       " Fidelity needs a known truth, which a real table does not have.")))
        faithful = _fidelity_block(ctx, summary)
        if faithful is not None:
            blocks.append(faithful)
        if summary["agreement"]:
            blocks.append(details("Agreement of the top reasons between models (Jaccard)", [
                table(["model", "model", "mean Jaccard", "declined by both"],
                      [[a["a"], a["b"], fmt(a["jaccard"], ".2f"), str(a["n"])]
                       for a in summary["agreement"]],
                      align=["left", "left", "right", "right"])]))
        codes = summary["codes"]
        blocks.append(details("Reason catalogue (codes and texts)", [table(
            ["code", "input", "reason", "actionable"],
            [[c["code"], name, c["reason"], "yes" if c["actionable"] else "no"]
             for name, c in codes.items() if name not in summary["barred"]],
            align=["left", "left", "left", "left"])]))
    if rule is not None:
        if rule.get("age_attribute") is None:
            parts.append(f"Age rule (Regulation B): {rule.get('note')}.")
        else:
            verdicts = {n: e["verdict"] for n, e in rule["models"].items()}
            failing = [n for n, v in verdicts.items() if v == "fail"]
            applies = [n for n, v in verdicts.items() if v != "does not apply"]
            parts.append(
                "Age rule (Regulation B): applicants aged 62 or older must get an age "
                "contribution at least as favourable as any other age group. "
                + (f"It applies to {', '.join(applies)} (age is an input); "
                   f"{', '.join(failing) or 'none'} fail(s)." if applies else
                   "It does not apply to any model of this run: none has age as an input.")
                + " The proxies' contribution by age group is shown beside it.")
            blocks += _age_rule_blocks(ctx, rule, applies)
    return Section("reasons", "Adverse-action reasons and the age rule", " ".join(parts),
                   blocks)
