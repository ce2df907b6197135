"""Data-quality findings: what is odd in a table, one line each.

:func:`table_findings` looks at a table population (after the loader's checks, which
refuse what cannot be used at all) for what can be used but should be looked at before
anyone trusts a model fitted on it. Each :class:`Finding` is one line naming the column
and the rows, with what to do; a clean table has none. The checks (``Finding.check``):

``dropped_rows``
    rows of the wrong width left out (``population.bad_rows: drop``).
``implausible``
    values impossible for the column's role: ages outside 18-100 in the age attribute
    or a column named ``age``; negative values in a column named as an amount (income,
    loan, debt, salary, ...).
``tail``
    an extreme tail: values beyond the upper quartile plus 20 times the spread (the
    inter-quartile range; where it is 0, the 1st-99th percentile range), with the rows.
``identifier``
    a feature that identifies rows rather than describing applicants: whole numbers or
    texts different in every row, or named like an id with 95% distinct values.
``constant``
    a column with one known value, or one value in 99% of its known values.
``duplicates``
    rows equal to an earlier row in every column (the applicant id aside).
``leakage``
    a feature that alone ranks the outcome with AUC above 0.95 (categories scored by
    their default rate out of fold): recorded after the outcome?
``prevalence``
    a default rate below 1% or above 50% (rare defaults make every fold's estimate
    noisy; a majority of defaults often means the wrong ``default_value``).

Findings warn by default (the data card, the report and the command's output list
them); ``population.findings: error`` (``--strict``) refuses the first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from scorelab.core.messages import excerpt, row_list
from scorelab.core.numeric import auc
from scorelab.data.synthetic import Population

__all__ = ["AGE_RANGE", "CHECKS", "LEAKAGE_AUC", "NEAR_CONSTANT", "TAIL_SPREADS", "Finding",
           "name_tokens", "table_findings"]

#: The checks, in the order their findings are listed.
CHECKS = ("dropped_rows", "implausible", "tail", "identifier", "constant", "duplicates",
          "leakage", "prevalence")
#: Ages an applicant can plausibly have.
AGE_RANGE = (18, 100)
#: A value beyond the upper quartile plus this many spreads is in an extreme tail.
TAIL_SPREADS = 20
#: A column whose most frequent value holds this share of its known values.
NEAR_CONSTANT = 0.99
#: A single feature ranking the outcome above this AUC is a leakage suspect.
LEAKAGE_AUC = 0.95
#: Default rates outside this range are reported.
PREVALENCE = (0.01, 0.5)
#: Name words of columns that hold amounts, which cannot be negative.
AMOUNT_WORDS = frozenset({"amount", "income", "salary", "wage", "wages", "loan", "loans",
                          "debt", "price", "payment", "payments", "principal", "savings",
                          "revenue", "rent", "mortgage", "expenses", "limit"})
#: Name words of identifier columns.
ID_WORDS = frozenset({"id", "ids", "key", "uuid", "guid", "identifier", "nr"})
_ROWS_KEPT = 20  # rows a finding lists at most (its count says how many in all)
_MIN_ROWS = 20  # tables smaller than this are too small for distribution checks


@dataclass(frozen=True)
class Finding:
    """One data-quality finding: the check, the column (or None), its one line, how many
    rows it concerns and the first of them (1 = the first applicant)."""

    check: str
    column: str | None
    message: str
    count: int = 0
    rows: tuple[int, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        return {"check": self.check, "column": self.column, "message": self.message,
                "count": self.count, "rows": list(self.rows)}


def name_tokens(name: str) -> list[str]:
    """The words of a column name, lower case: ``MonthlyIncome`` -> monthly, income;
    ``applicant_id`` -> applicant, id; ``SeriousDlqin2yrs`` -> serious, dlqin, 2, yrs."""
    return [t.lower() for t in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", str(name))]


def _rows(mask: np.ndarray) -> tuple[int, ...]:
    return tuple(int(r) + 1 for r in np.flatnonzero(mask)[:_ROWS_KEPT])


def _shown(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{float(value):,.6g}"
    return repr(excerpt(value)) if isinstance(value, str) else str(value)


def _number(x: float) -> str:
    """A number for a message: 3.53e+08, 33,160, 0.7561."""
    if abs(x) >= 1e7:
        return f"{x:.3g}"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.4g}"


def _hold(mask: np.ndarray) -> str:
    return "holds" if int(np.sum(mask)) == 1 else "hold"


def _is_numeric(series: pd.Series) -> bool:
    return (pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
            and not isinstance(series.dtype, pd.CategoricalDtype))


def table_findings(pop: Population) -> list[Finding]:
    """The data-quality findings of a table population (see the module doc), in the
    order of :data:`CHECKS`; a clean table has none."""
    frame, schema, meta = pop.frame, pop.schema, pop.meta
    target = schema.target
    y = frame[target].to_numpy().astype(int)
    features = list(schema.with_role("feature"))
    described = [*features, *schema.with_role("protected")]
    found: list[Finding] = []
    dropped = meta.get("dropped_rows")
    if dropped:
        rows = ", ".join(str(r) for r in dropped["rows"][:5])
        more = ", ..." if dropped["count"] > 5 else ""
        found.append(Finding(
            "dropped_rows", None, f"{dropped['count']:,} row(s) of the wrong width dropped "
            f"(rows {rows}{more} of the file, counted from its first row after the header; "
            "population.bad_rows: drop)", dropped["count"], tuple(dropped["rows"])))
    ages = [c for c in described if c == meta.get("age_column") or "age" in name_tokens(c)]
    found += _implausible(frame, described, ages)
    if len(frame) >= _MIN_ROWS:
        found += _tails(frame, described)
        found += _identifiers(frame, features)
    found += _constants(frame, described)
    found += _duplicated(frame, [c for c in frame.columns
                                 if schema[c].role not in ("id",)] if frame.shape[1] else [])
    found += _leakage(frame, features, y)
    found += _prevalence(y, target, meta.get("default_value"))
    return found


def _implausible(frame: pd.DataFrame, columns: Sequence[str], ages: Sequence[str]
                 ) -> list[Finding]:
    out = []
    low, high = AGE_RANGE
    for name in columns:
        series = frame[name]
        if not _is_numeric(series):
            continue
        values = series.to_numpy(dtype=float, na_value=np.nan)
        if name in ages:
            wrong = (values < low) | (values > high)
            if wrong.any():
                example = _shown(pd.unique(values[wrong])[0])
                out.append(Finding(
                    "implausible", name, f"column '{excerpt(name)}': {row_list(wrong)} "
                    f"{_hold(wrong)} ages outside {low}-{high} (e.g. {example}), which no applicant "
                    "has: check them (an age of 0 often stands for unknown; leave unknown "
                    "cells empty)", int(wrong.sum()), _rows(wrong)))
        elif AMOUNT_WORDS & set(name_tokens(name)):
            wrong = values < 0
            if wrong.any():
                example = _shown(np.nanmin(values))
                out.append(Finding(
                    "implausible", name, f"column '{excerpt(name)}': {row_list(wrong)} "
                    f"{_hold(wrong)} negative values (e.g. {example}) in a column named as an amount: "
                    "check them (a sign error, or a code for unknown?)",
                    int(wrong.sum()), _rows(wrong)))
    return out


def _tails(frame: pd.DataFrame, columns: Sequence[str]) -> list[Finding]:
    out = []
    for name in columns:
        series = frame[name]
        if not _is_numeric(series):
            continue
        values = series.to_numpy(dtype=float, na_value=np.nan)
        known = values[~np.isnan(values)]
        if known.size < _MIN_ROWS:
            continue
        q01, q25, q75, q99 = np.quantile(known, [0.01, 0.25, 0.75, 0.99])
        spread = q75 - q25 if q75 > q25 else q99 - q01
        if spread <= 0:
            continue
        fence = q75 + TAIL_SPREADS * spread
        beyond = values > fence
        if beyond.any():
            out.append(Finding(
                "tail", name, f"column '{excerpt(name)}': an extreme tail: {row_list(beyond)}"
                f" {'exceeds' if beyond.sum() == 1 else 'exceed'} {_number(fence)}, up to "
                f"{_number(np.nanmax(values))}, while 75% of its values are at most "
                f"{_number(q75)}: check them (a unit error, or a code such "
                "as 98 for unknown?); the networks see these inputs through quantiles",
                int(beyond.sum()), _rows(beyond)))
    return out


def _identifiers(frame: pd.DataFrame, features: Sequence[str]) -> list[Finding]:
    out = []
    n = len(frame)
    for name in features:
        series = frame[name]
        known = series.dropna()
        if known.empty:
            continue
        distinct = known.nunique()
        whole = _is_numeric(series) and bool(np.all(np.mod(known.to_numpy(float), 1) == 0))
        texts = not _is_numeric(series) and not pd.api.types.is_bool_dtype(series)
        if (whole or texts) and distinct == n:
            why = "a different value in every row"
        elif ID_WORDS & set(name_tokens(name)) and distinct >= 0.95 * len(known):
            why = f"named like an id, {distinct / len(known):.0%} distinct values"
        else:
            continue
        out.append(Finding(
            "identifier", name, f"column '{excerpt(name)}': identifier-like ({why}): it "
            "names rows rather than describing applicants, so no model can learn from it; "
            "list it in population.drop (or make it population.id_column)", n))
    return out


def _constants(frame: pd.DataFrame, columns: Sequence[str]) -> list[Finding]:
    out = []
    for name in columns:
        known = frame[name].dropna()
        if known.empty:
            continue
        counts = known.value_counts(sort=True)
        counts = counts[counts > 0]
        top, share = counts.index[0], counts.iloc[0] / len(known)
        if len(counts) == 1:
            out.append(Finding(
                "constant", name, f"column '{excerpt(name)}': constant (every known value "
                f"is {_shown(top)}), so it cannot inform any model: list it in "
                "population.drop", len(known)))
        elif share >= NEAR_CONSTANT:
            others = int(len(known) - counts.iloc[0])
            out.append(Finding(
                "constant", name, f"column '{excerpt(name)}': near-constant ({share:.1%} of "
                f"its known values are {_shown(top)}; {others:,} other(s)), so it can "
                "hardly inform a model: drop it unless those few rows matter", others))
    return out


def _duplicated(frame: pd.DataFrame, columns: Sequence[str]) -> list[Finding]:
    if not columns:
        return []
    repeated = frame[list(columns)].duplicated(keep="first").to_numpy()
    if not repeated.any():
        return []
    return [Finding(
        "duplicates", None, f"{int(repeated.sum()):,} duplicated row(s): {row_list(repeated)} "
        f"{'repeats' if repeated.sum() == 1 else 'repeat'} an earlier row in every column (the id aside); a copy in both a training "
        "and a test fold flatters every model: remove copies of one application",
        int(repeated.sum()), _rows(repeated))]


def _out_of_fold_rates(series: pd.Series, y: np.ndarray, folds: int = 5) -> np.ndarray:
    """Each row's category scored by its default rate in the other folds (smoothed
    toward the overall rate), so that a category seen once cannot predict itself."""
    codes = series.astype(object).where(series.notna(), "\0missing").astype(str).to_numpy()
    fold = np.random.default_rng(0).permutation(y.size) % folds
    score = np.empty(y.size)
    for k in range(folds):
        train, test = fold != k, fold == k
        prior = y[train].mean()
        stats = pd.DataFrame({"c": codes[train], "y": y[train]}).groupby("c")["y"].agg(
            ["sum", "count"])
        rates = (stats["sum"] + 10 * prior) / (stats["count"] + 10)
        score[test] = pd.Series(codes[test]).map(rates).fillna(prior).to_numpy()
    return score


def _single_auc(series: pd.Series, y: np.ndarray) -> float:
    """How well one column alone ranks the outcome (0.5: not at all; either direction;
    a missing value ranked below and above every known one)."""
    if not _is_numeric(series):
        scores = [_out_of_fold_rates(series, y)]
    else:
        values = series.to_numpy(dtype=float, na_value=np.nan)
        known = ~np.isnan(values)
        if not known.any():
            return 0.5
        if known.all():
            scores = [values]
        else:
            low, high = np.nanmin(values) - 1, np.nanmax(values) + 1
            scores = [np.where(known, values, low), np.where(known, values, high)]
    best = 0.5
    for score in scores:
        a = auc(y, score)
        if not np.isnan(a):
            best = max(best, a, 1 - a)
    return best


def _leakage(frame: pd.DataFrame, features: Sequence[str], y: np.ndarray) -> list[Finding]:
    if y.min() == y.max():
        return []
    out = []
    for name in features:
        a = _single_auc(frame[name], y)
        if a > LEAKAGE_AUC:
            out.append(Finding(
                "leakage", name, f"column '{excerpt(name)}': alone it predicts the target "
                f"with AUC {a:.3f} (above {LEAKAGE_AUC}), a leakage suspect: was it "
                "recorded after the outcome? Drop it (population.drop) unless it is known "
                "when the applicant applies", len(frame)))
    return out


def _prevalence(y: np.ndarray, target: str, default_value: Any) -> list[Finding]:
    n, k = y.size, int(y.sum())
    rate = k / n if n else 0.0
    low, high = PREVALENCE
    if rate < low:
        return [Finding(
            "prevalence", target, f"target '{excerpt(target)}': defaults are rare ({k:,} of "
            f"{n:,}, {rate:.2%}): every fold's estimate rests on few defaults, so intervals "
            "are wide; more rows or fewer folds help", k)]
    if rate > high:
        return [Finding(
            "prevalence", target, f"target '{excerpt(target)}': defaults are the majority "
            f"({k:,} of {n:,}, {rate:.1%}): check that population.default_value "
            f"({default_value!r}) is the bad outcome", k)]
    return []
