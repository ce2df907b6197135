"""The search for less discriminatory alternatives: frontier, certificate, truth check.

Present only when the run directory has ``lda/`` (written by ``scorelab lda``); read
through :func:`scorelab.runs.lda.load_lda`. Every sentence is built from the run's own
numbers: the choices and their significance, the bound the stopping rule reached, and
what the truth check found (or that a real table allows none).
"""

from __future__ import annotations

from typing import Any

from matplotlib.figure import Figure

from scorelab.report import plots
from scorelab.report.blocks import Section, bullets, figure, fmt, interval, table, text
from scorelab.report.context import ReportContext
from scorelab.runs.lda import LdaData, load_lda

__all__ = ["lda"]

GREY, FRONT, CHOSEN, REFERENCE, THRESHOLD = "#b0b0b0", "#1f77b4", "#d62728", "#000000", "#9467bd"


def _frontier_svg(data: LdaData) -> str:
    """Candidates grey, the frontier blue, the chosen red (with their AUC-loss
    intervals), the reference black, group thresholds purple."""
    c, f = data.candidates, data.frontier
    fig = Figure(figsize=(6.4, 3.8), layout="constrained")
    ax = fig.add_subplot()
    ax.scatter(c["auc"], c["disparity"], s=14, color=GREY, label="candidate")
    front = c[c["frontier"]].sort_values("auc")
    ax.plot(front["auc"], front["disparity"], "-o", color=FRONT, ms=4, label="frontier")
    chosen = c[c["candidate"].isin([ch["chosen"] for ch in f.choices if ch["chosen"]])]
    half = 1.96 * chosen["auc_loss_se"]
    # the reduction's interval read as the chosen one's disparity (which is never below 0)
    low = (f.reference["disparity"] - chosen["reduction_high"]).clip(lower=0.0)
    high = f.reference["disparity"] - chosen["reduction_low"]
    ax.errorbar(chosen["auc"], chosen["disparity"], xerr=half,
                yerr=[(chosen["disparity"] - low).clip(lower=0.0),
                      (high - chosen["disparity"]).clip(lower=0.0)],
                fmt="s", color=CHOSEN, capsize=3, label="chosen (95% intervals)", zorder=4)
    ax.scatter([f.reference["auc"]], [f.reference["disparity"]], marker="D", s=40,
               color=REFERENCE, label=f"reference ({f.reference['name']})", zorder=5)
    ax.scatter([f.thresholds["auc"]], [f.thresholds["disparity"]], marker="^", s=90,
               facecolors="none", edgecolors=THRESHOLD, linewidths=1.5,
               label="group thresholds (possibly unlawful)", zorder=6)
    ax.set_ylim(bottom=0.0)
    ax.set_xlabel("AUC (out of fold)")
    ax.set_ylabel(f"|1 - approval ratio|, {f.group} vs rest")
    ax.legend(fontsize=7, loc="best")
    return plots.figure_to_svg(fig, "Accuracy against disparity of every candidate")


def _choice_rows(data: LdaData) -> list[list[str]]:
    rows = []
    by_name = data.candidates.set_index("candidate")
    costed = "expected_cost" in data.candidates
    for ch in data.frontier.choices:
        if ch["chosen"] is None:
            rows.append([f"{ch['tolerance']:g}", "none", "-", "-", "-", "no"]
                        + ["-"] * costed)
            continue
        row = by_name.loc[ch["chosen"]]
        low, high = ch["reduction_interval"]
        cost = ([interval(row["expected_cost"], row["expected_cost_low"],
                          row["expected_cost_high"])] if costed else [])
        rows.append([f"{ch['tolerance']:g}", ch["chosen"], fmt(row["auc_loss"], "+.4f"),
                     fmt(row["disparity"]), interval(ch["reduction"], low, high),
                     "yes" if ch["significant"] else "no"] + cost)
    return rows


#: Said of every search on a real table, whatever was chosen.
NO_TRUTH = ("The truth check is not possible on a real table: there is no true outcome, so "
            "nothing here can say whether a gain holds against the truth; held-out rows of "
            "the table, judged on the observed outcome, stand in.")


def _truth_blocks(truth: dict[str, Any] | None) -> tuple[str, list[dict[str, Any]]]:
    if not truth or len(truth.get("rows", [])) < 2:
        lead = "No alternative was chosen, so there was nothing to check."
        return (lead + " " + NO_TRUTH if truth and not truth["possible"] else lead), []
    rows = []
    for r in truth["rows"]:
        if r["role"] == "reference":
            rows.append([r["model"], "reference", fmt(r["air"]), "-", fmt(r["auc_true"]),
                         "-", fmt(r["protected_good_payer_approval"]), "-"])
            continue
        low, high = r["reduction_interval"]
        g_low, g_high = r["good_payer_gain_interval"]
        rows.append([r["model"], "holds" if r["holds"] else "does not hold", fmt(r["air"]),
                     interval(r["reduction"], low, high), fmt(r["auc_true"]),
                     fmt(r["auc_true_loss"], "+.4f"),
                     fmt(r["protected_good_payer_approval"]),
                     interval(r["good_payer_gain"], g_low, g_high)])
    outcome = "true" if truth["possible"] else "observed"
    columns = ["model", "verdict", "approval ratio", "disparity reduction",
               f"AUC ({outcome} outcome)", "AUC loss", "protected good payers approved",
               "gain"]
    held = [r for r in truth["rows"][1:] if r["holds"]]
    lead = (f"Checked on {truth['on']}: {len(held)} of {len(truth['rows']) - 1} chosen "
            "alternative(s) keep a significant disparity reduction, accuracy within their "
            "tolerance and approve the protected group's good payers at least as often.")
    if not truth["possible"]:
        lead += " " + NO_TRUTH
    return lead, [table(columns, rows)]


def lda(ctx: ReportContext) -> Section | None:
    data = load_lda(ctx.run.run_dir)
    if data is None:
        return None
    f = data.frontier
    ctx.add_figure("lda_frontier", lambda: _frontier_svg(data))
    ctx.add_table("lda_candidates", data.candidates)
    found = [ch for ch in f.choices if ch["chosen"] and ch["significant"]]
    summary = (f"{len(data.candidates)} candidate model(s) were trained on the study's folds "
               f"to look for a less discriminatory alternative to {f.reference['name']} "
               f"(approval ratio of {f.group} to the rest {fmt(f.reference['air_' + f.attribute])} "
               f"at its approval rate of {f.approval_rate:.1%}). "
               + (f"At {len(found)} of {len(f.choices)} tolerance(s) one reduces disparity "
                  "significantly." if found else
                  "At no tolerance does an alternative reduce disparity significantly."))
    truth_lead, truth_table = _truth_blocks(f.truth)
    th = f.thresholds
    choice_columns = ["AUC tolerance", "chosen", "AUC loss", "|1 - AIR|",
                      "reduction (interval)", "significant"]
    if "expected_cost" in data.candidates:
        ref = f.reference
        choice_columns.append("expected cost (interval)")
        summary += (" Expected cost per applicant (decision.costs, observed outcome) of the "
                    "reference: " + interval(ref["expected_cost"], ref["expected_cost_low"],
                                             ref["expected_cost_high"]) + ".")
    blocks: list[dict[str, Any]] = [
        figure("lda_frontier", "Accuracy against disparity of every candidate"),
        table(choice_columns, _choice_rows(data),
              title="The least discriminatory candidate per tolerance"),
        bullets([ch["statement"] for ch in f.choices], title="Findings"),
        text(f"Certificate: {f.guarantee}"),
        text(f"Group-specific thresholds on the reference reach |1 - AIR| {fmt(th['disparity'])}"
             f" at AUC {fmt(th['auc'])} (the scores of {f.group} shifted by "
             f"{th['shift_log_odds'] * ctx.run.study.scale.factor:+.0f} points); treating applicants of the same risk differently by a protected "
             "attribute may itself be unlawful, so this marks the theoretical frontier only."),
        text(truth_lead), *truth_table,
    ]
    if f.proxies:
        blocks.append(text("Proxies dropped singly and together: " + ", ".join(f.proxies)
                           + "."))
    return Section("lda", "Less discriminatory alternatives", summary, blocks)
