"""Page one's verdict: per audited attribute, what the screen found and what follows,
and the less discriminatory alternative the run already holds, named.

Every number comes from the run's tables: the screen and its Holm-corrected p-value
from fairness.json (``fairness.screen``), the groups' sizes and approval intervals from
fairness_by_group, the accuracy tests (each model against the best, paired DeLong with
Holm) and expected costs from the leaderboard.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from scorelab.report.blocks import finite, fmt, fmt_p, get, pct, records
from scorelab.report.context import ReportContext
from scorelab.runs.contract import SCREEN_BELOW as BELOW
from scorelab.runs.contract import SCREEN_NOT_ASSESSED as NOT_ASSESSED
from scorelab.runs.contract import SCREEN_PASS as PASS
from scorelab.runs.contract import SCREEN_SIGNIFICANT as SIGNIFICANT

__all__ = ["SCREEN_LIGHT", "Alternative", "alternative", "alternative_sentence", "attribute_lines",
           "choose_alternative", "screen_of",
           "disparity", "group_words", "ratio_text"]


#: A screen as a table cell's light: one mapping for page one, the fairness section and
#: the model cards.
SCREEN_LIGHT = {SIGNIFICANT: "fail", BELOW: "warn", PASS: "pass"}


def disparity(ctx: ReportContext, model: str, attribute: str) -> dict[str, Any] | None:
    """The observed-outcome disparity row of a model on one attribute."""
    return next((r for r in records(get(ctx.fair_models().get(model), "disparities"))
                 if r.get("outcome") == "observed" and r.get("attribute") == attribute),
                None)


def screen_of(row: dict[str, Any], four_fifths: float) -> str:
    """A disparity row's screen (a run written before screens: the ratio alone)."""
    if row.get("screen"):
        return str(row["screen"])
    ratio = row.get("worst_approval_ratio")
    return NOT_ASSESSED if not finite(ratio) else \
        SIGNIFICANT if float(ratio) < four_fifths else PASS


def ratio_text(ratio: Any, threshold: float) -> str:
    """A ratio to two decimals, or three where two would round it across the screen
    (0.7996 is 0.800 below 0.8, never "fail 0.80")."""
    if not finite(ratio):
        return "-"
    two = round(float(ratio), 2)
    if (float(ratio) < threshold) != (two < threshold):
        return fmt(ratio, ".3f")
    return fmt(ratio, ".2f")


def group_words(ctx: ReportContext, model: str, attribute: str, group: Any) -> str:
    """A group with its size and its approval rate's interval: ``18-25 (n = 85,
    approved 41.2% [31.0%, 52.3%])``."""
    table = ctx.run.fairness_by_group
    if table is None or group is None:
        return str(group)
    row = table[(table["model"].astype(str) == model) & (table["outcome"] == "observed")
                & (table["attribute"].astype(str) == attribute)
                & (table["group"].astype(str) == str(group))
                & (table["metric"] == "approval_rate")]
    if row.empty:
        return str(group)
    r = row.iloc[0]
    band = (f" [{pct(r['ci_low'])}, {pct(r['ci_high'])}]"
            if finite(r.get("ci_low")) and finite(r.get("ci_high")) else "")
    return f"{group} (n = {int(r['n']):,}, approved {pct(r['value'])}{band})"


def _screened(ctx: ReportContext, attribute: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {SIGNIFICANT: [], BELOW: [], PASS: [], NOT_ASSESSED: []}
    for m in ctx.order:
        row = disparity(ctx, m, attribute)
        out[screen_of(row, ctx.four_fifths) if row else NOT_ASSESSED].append(m)
    return out


def attribute_lines(ctx: ReportContext, alt: Alternative | None) -> list[str]:
    """One line per audited attribute: which models fall below the screen (and whether
    significantly), the most accurate model's groups with their sizes, and what follows."""
    best, threshold = ctx.order[0], ctx.four_fifths
    lines, clear = [], []
    for attribute in ctx.attributes:
        screened = _screened(ctx, attribute)
        sig, below = screened[SIGNIFICANT], screened[BELOW]
        assessed = len(ctx.order) - len(screened[NOT_ASSESSED])
        if assessed and len(screened[PASS]) == assessed:
            clear.append(attribute)  # every assessed model passes: one line for them all
            continue
        if not assessed:
            lines.append(f"{attribute}: not assessed (fewer than two groups large enough "
                         "to report).")
            continue
        parts = [f"{attribute}: {len(sig)} of {assessed} models fail the four-fifths "
                 f"screen significantly" + (f" ({', '.join(sig)})" if sig else "")]
        if below:
            parts.append(f"{len(below)} {'falls' if len(below) == 1 else 'fall'} below it "
                         f"without significance ({', '.join(below)})")
        row = disparity(ctx, best, attribute)
        line = "; ".join(parts) + "."
        if row and finite(row.get("worst_approval_ratio")):
            line += (f" Under {best}, {group_words(ctx, best, attribute, row['lowest_group'])}"
                     f" against {group_words(ctx, best, attribute, row['highest_group'])}: "
                     f"ratio {ratio_text(row['worst_approval_ratio'], threshold)}"
                     + (f", Holm-adjusted {fmt_p(row['p_holm_approval'])}"
                        if finite(row.get("p_holm_approval")) else "") + ".")
            line += " " + _what_follows(screen_of(row, threshold), best, attribute, alt, ctx)
        lines.append(line)
    if clear:
        lines.append(f"{', '.join(clear)}: every model passes the four-fifths screen. What "
                     "follows: no disparity shown.")
    return lines


def _what_follows(screen: str, best: str, attribute: str, alt: Alternative | None,
                  ctx: ReportContext) -> str:
    if screen == PASS:
        return "What follows: no disparity shown."
    if screen == BELOW:
        return ("What follows: review; the ratio is below the screen but the groups are too "
                "small to tell it from chance.")
    mine = disparity(ctx, alt.model, attribute) if alt is not None else None
    fixed = mine is not None and screen_of(mine, ctx.four_fifths) != SIGNIFICANT
    if fixed:
        return f"What follows: adopt the less discriminatory alternative below ({alt.model})."
    return ("What follows: review; no model as accurate passes on this attribute (search "
            "for one with `scorelab lda`).")


@dataclass(frozen=True)
class Alternative:
    """A model not significantly less accurate than the best that treats groups more
    evenly, with what it gives up."""

    model: str
    best: str
    auc: float
    auc_low: float | None
    auc_high: float | None
    auc_best: float
    p_holm: float | None
    worst_ratio: float
    worst_ratio_best: float
    young_ratio: float | None
    young_ratio_best: float | None
    cost: float | None
    cost_best: float | None


def _num(board: pd.DataFrame, model: str, column: str) -> float | None:
    value = board.at[model, column] if column in board.columns else None
    return float(value) if finite(value) else None


def choose_alternative(board: pd.DataFrame, direct: set[str]) -> Alternative | None:
    """The less discriminatory alternative in a leaderboard (indexed by model, best AUC
    first), or None.

    Among the models the study's paired tests do not find less accurate than the best
    (Holm-adjusted DeLong, ``significant_vs_best`` false) and that use no protected
    input directly (``direct``), those whose worst four-fifths ratio and young/rest
    approval ratio are both at least the best model's, one of them higher; of these,
    the highest worst ratio (then young/rest ratio, then AUC)."""
    if board.empty:
        return None
    best = str(board.index[0])
    worst_best = _num(board, best, "worst_approval_ratio")
    young_best = _num(board, best, "age_approval_ratio")
    if worst_best is None:
        return None
    found = []
    for m in map(str, board.index[1:]):
        tested = board.at[m, "significant_vs_best"] if "significant_vs_best" in board else None
        if tested in (True, "True", "true") or m in direct:
            continue
        worst, young = _num(board, m, "worst_approval_ratio"), _num(board, m,
                                                                      "age_approval_ratio")
        if worst is None or worst < worst_best:
            continue
        if young_best is not None and (young is None or young < young_best):
            continue
        if worst > worst_best or (young_best is not None and young is not None and
                                  young > young_best):
            found.append((worst, young or 0.0, _num(board, m, "auc") or 0.0, m))
    if not found:
        return None
    m = max(found)[3]
    return Alternative(
        model=m, best=best, auc=_num(board, m, "auc") or 0.0,
        auc_low=_num(board, m, "auc_low"), auc_high=_num(board, m, "auc_high"),
        auc_best=_num(board, best, "auc") or 0.0, p_holm=_num(board, m, "p_vs_best_holm"),
        worst_ratio=_num(board, m, "worst_approval_ratio") or 0.0,
        worst_ratio_best=worst_best, young_ratio=_num(board, m, "age_approval_ratio"),
        young_ratio_best=young_best, cost=_num(board, m, "expected_cost"),
        cost_best=_num(board, best, "expected_cost"))


def alternative(ctx: ReportContext) -> Alternative | None:
    """The run's less discriminatory alternative (:func:`choose_alternative` on its
    leaderboard and the audit's direct-input flags)."""
    if ctx.fairness is None or not ctx.order:
        return None
    direct = {str(f.get("model")) for f in get(ctx.fairness, "policy_flags", default=[])
              or [] if isinstance(f, dict) and f.get("check") == "direct_input"}
    return choose_alternative(ctx.board.loc[ctx.order], direct)


def alternative_sentence(ctx: ReportContext, alt: Alternative | None) -> str:
    """The alternative named with what it gives up, or that there is none and how to
    search for one."""
    if ctx.fairness is None or not ctx.order:
        return ""
    best, threshold = ctx.order[0], ctx.four_fifths
    if alt is None:
        return (f"Less discriminatory alternative: none in this run. No model the paired "
                f"tests find as accurate as {best} treats groups more evenly on both the "
                f"worst four-fifths ratio and the young/rest approval ratio; `scorelab lda "
                f"CONFIG --reference {best}` searches for one (dropped inputs, constraints, "
                f"other families) with a stopping certificate.")
    young = (f" and young/rest approval {fmt(alt.young_ratio, '.2f')} against "
             f"{fmt(alt.young_ratio_best, '.2f')}" if alt.young_ratio is not None else "")
    auc_band = (f" [{fmt(alt.auc_low)}, {fmt(alt.auc_high)}]"
                if alt.auc_low is not None and alt.auc_high is not None else "")
    cost = (f", and {fmt(alt.cost - alt.cost_best, '+.3f')} in expected cost per applicant "
            f"({fmt(alt.cost, '.3f')} against {fmt(alt.cost_best, '.3f')})"
            if alt.cost is not None and alt.cost_best is not None else "")
    return (f"Less discriminatory alternative: {alt.model}. The paired tests do not find it "
            f"less accurate than {best} (its AUC {fmt(alt.auc)}{auc_band} against "
            f"{fmt(alt.auc_best)}; Holm-adjusted {fmt_p(alt.p_holm)}), and it treats groups "
            f"more evenly: worst four-fifths ratio {ratio_text(alt.worst_ratio, threshold)} "
            f"against {ratio_text(alt.worst_ratio_best, threshold)}{young}. It gives up "
            f"{fmt(alt.auc_best - alt.auc, '.3f')} AUC{cost}.")
