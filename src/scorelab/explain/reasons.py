"""Reasons in points, and the letter to one applicant, the same for every family.

Every amount a person reads is in points of the run's score scale. The scale is a
straight line in the log-odds (``points = base + factor * (ln odds_good - ln base_odds)``
with ``factor = pdo / ln 2``), so a contribution of ``c`` log-odds of default is exactly
``-factor * c`` points (:func:`points_of`): more risk, fewer points. Machine output (a
letter's JSON) keeps the log-odds beside the points.

A letter has one list of reasons, ranked one way: the inputs that cost the applicant the
most points against the family's reference (the best attainable term of an additive
model; the approved applicants' average otherwise, :mod:`scorelab.explain.adverse`), and,
where the ranking finds them, the inputs in the applicant's favour, ranked the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scorelab.data.schema import SOURCES

__all__ = ["Reason", "letter", "points_of", "sources_used"]


def points_of(log_odds: float, factor: float) -> float:
    """Score points of a change of ``log_odds`` in the log-odds of default (0, not -0)."""
    return 0.0 - float(factor) * float(log_odds)


def _source_words(source: str) -> str:
    return f"{source} data" if source in SOURCES else source


def _points_words(points: float) -> str:
    shown = round(abs(points))
    if shown == 0:
        return "less than 1 point"
    return f"{shown} point{'s' if shown != 1 else ''}"


@dataclass(frozen=True)
class Reason:
    """One input's part in a decision: what it cost (negative points) or gained the
    applicant against the reference, in points and in log-odds of default."""

    feature: str
    source: str
    value: str
    points: float
    log_odds: float
    code: str | None = None
    text: str | None = None

    def line(self) -> str:
        """``[S05] Debt-to-income ratio too high: 49.6% (business data): 14 points``."""
        head = f"[{self.code}] {self.text}" if self.code and self.text else self.feature
        verb = "cost" if self.points < 0 else "gained"
        return (f"{head}: {self.value} ({_source_words(self.source)}); {verb} "
                f"{_points_words(self.points)}")

    def as_dict(self) -> dict[str, Any]:
        return {"feature": self.feature, "code": self.code, "reason": self.text,
                "value": self.value, "source": self.source,
                "points": round(self.points, 4), "log_odds": self.log_odds}


def sources_used(features: Iterable[str], source_of: Mapping[str, str]
                 ) -> dict[str, list[str]]:
    """The inputs of a score by data source (the paper's five first, then others)."""
    used: dict[str, list[str]] = {}
    for feature in dict.fromkeys(features):
        used.setdefault(source_of.get(feature, "derived"), []).append(feature)
    order = [*SOURCES, *sorted(set(used) - set(SOURCES))]
    return {s: used[s] for s in order if s in used}


def letter(*, who: str, model: str, score: float, category: str, approved: bool,
           cutoff: float, reasons: Sequence[Reason], favourable: Sequence[Reason],
           method: str, used: Mapping[str, Sequence[str]], change: str | None = None,
           note: str | None = None) -> str:
    """A short plain-text letter to one applicant about one model's decision.

    It states the score (whole points), category and decision with its cut-off, the
    reasons in points (for a declined applicant the principal reasons of the adverse
    action, at most four), the inputs in the applicant's favour ranked the same way,
    the smallest change that would turn the decision, and which data sources (and which
    of their items) were used at all (the paper's suggestion 1).
    """
    decision = "APPROVED" if approved else "NOT APPROVED"
    relation = "at or above" if approved else "below"
    lines = [f"Your credit score ({who}, model '{model}')", "",
             f"Score: {score:.0f}    Category: {category}",
             f"Decision: {decision}: your score is {relation} the cut-off of {cutoff:.0f}.",
             ""]
    head = ("Principal reasons for the decision" if not approved
            else "What cost your score the most points")
    lines.append(f"{head} (points against {method}):")
    lines += [f"  {i}. {r.line()}" for i, r in enumerate(reasons, start=1)] or \
        [f"  - {note or 'no input cost points against the reference'}"]
    if favourable:
        lines += ["", "In your favour (ranked the same way):"]
        lines += [f"  - {r.line()}" for r in favourable]
    if change:
        lines += ["", f"Smallest change that would have turned the decision: {change}"]
    lines += ["", "Personal data used to compute your score, by source (database):"]
    lines += [f"  - {_source_words(s)}: {', '.join(f)}" for s, f in used.items()]
    unused = [s for s in SOURCES if s not in used]
    if unused:
        lines.append(f"  Not used: {', '.join(unused)} data.")
    return "\n".join(lines) + "\n"
