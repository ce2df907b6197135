"""Validity: which causes the population model planted, and which of them the run's age
analyses recovered. Present only for synthetic runs (a real table has no planted truth;
page one's "Not in this run" says so), read from the run's ``validity.json``."""

from __future__ import annotations

from typing import Any

from scorelab.report.blocks import Section, details, fmt, records, table
from scorelab.report.context import ReportContext

__all__ = ["validity"]


def _verdict(row: dict[str, Any]) -> str:
    passed, failed = int(row.get("passed", 0)), int(row.get("failed", 0))
    rated, unrated = passed + failed, int(row.get("unrated", 0))
    if not rated:
        return "not rated (no planted value)"
    aside = f"; {unrated} not rated" if unrated else ""
    if not failed:
        return "recovered" + (f" ({passed} of {rated} models{aside})" if rated > 1 else "")
    missed = ", ".join(map(str, row.get("missed_by") or []))
    return f"missed by {missed} ({failed} of {rated}{aside})"


def _value(check: dict[str, Any]) -> str:
    value, low, high = check.get("recovered"), check.get("low"), check.get("high")
    if value is None:
        return "-"
    if low is None or high is None:
        return fmt(value, "+.2f")
    return f"{fmt(value, '+.1f')} [{fmt(low, '+.1f')}, {fmt(high, '+.1f')}]"


def validity(ctx: ReportContext) -> Section | None:
    v = ctx.run.validity
    if not ctx.synthetic or not isinstance(v, dict):
        return None
    summary_rows = records(v.get("by_analysis"))
    rows = [[r.get("analysis"), r.get("planted"), r.get("expected"), _verdict(r)]
            for r in summary_rows]
    recovered = [r["analysis"] for r in summary_rows if r.get("failed", 0) == 0
                 and r.get("passed", 0) > 0]
    missed = [r["analysis"] for r in summary_rows if r.get("failed", 0) > 0]
    n, ok, bad = int(v.get("n_checks", 0)), int(v.get("n_passed", 0)), int(v.get("n_failed", 0))
    summary = (f"The population is synthetic, so each age analysis was checked against what "
               f"its population model planted (its own twins, true risk and true outcomes): "
               f"{ok} of {n} checks held, {bad} did not"
               + (f"; missed: {'; '.join(missed)}." if missed else
                  "; every planted cause the checks rate was recovered."))
    if recovered and missed:
        summary += f" Recovered: {'; '.join(recovered)}."
    check_rows = [[c.get("model"), c.get("analysis"), c.get("planted"), _value(c),
                   c.get("expected"), {True: "held", False: "missed"}.get(c.get("passed"),
                                                                          "not rated")]
                  for c in records(v.get("checks"))]
    blocks = [table(["analysis", "planted", "expected", "verdict"], rows,
                    align=["left"] * 4, title="Planted against recovered",
                    caption="planted values measured on the population model's own "
                            "counterfactual twins and truth columns; intervals as the age "
                            "section reports them"),
              details(f"Every check ({n})", [table(
                  ["model", "analysis", "planted", "recovered [interval]", "expected",
                   "verdict"], check_rows, align=["left", "left", "left", "right", "left",
                                                  "left"])])]
    return Section("validity", "Validity: planted causes against what was recovered",
                   summary, blocks)
