"""``scorelab init``: a commented config for a table, every inferred choice with its reason.

:func:`init_config` reads a table (any format :mod:`scorelab.data.tables` reads), and
proposes what a study of it needs:

* the **target**: the column named (``target``), else the one binary column (two values,
  none missing) whose name says default / bad / target / delinquent or whose values say
  good / bad; when none or several qualify it asks for ``--target`` instead of guessing.
  The value meaning default: 1, true, or the value that says bad / default / yes; else
  the rarer value, marked to check;
* the **id column**: whole numbers, a different one in every row, named like an id (or
  counting the rows 1..n); other identifier-like columns are dropped;
* the **protected attributes**, each marked to check: age (named like age, numbers
  mostly within 18-100), sex or gender, marital status, nationality or foreign worker
  (and race, ethnicity, religion), all by their names;
* the **categorical columns** (text and true/false), columns to **drop** (empty,
  constant, identifier-like, a single-column leakage suspect, text with too many values
  to be a category, dates other than the application date) and the application date;
* the **learned families** with the settings their family sizes to the table
  (``sized_params``), the folds and the explanation budget.

The config is written only after it was validated and its table loaded and checked as
``scorelab run`` checks it (so ``scorelab validate`` passes on it); the table's
data-quality findings come with it (:mod:`scorelab.data.quality`; ``strict``: refused).
The table's path is written absolute, so the config finds its table from any folder.
Every problem is one line; nothing is written then.
"""

from __future__ import annotations

import json
import os
import re
import textwrap
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from scorelab.config import ExperimentConfig
from scorelab.config.loading import config_from_yaml
from scorelab.core.messages import excerpt
from scorelab.data.io import write_atomically
from scorelab.data.quality import AGE_RANGE, Finding, name_tokens
from scorelab.data.synthetic import Population
from scorelab.data.tables import TableFile, read_table_file
from scorelab.exceptions import DataError, OutputError
from scorelab.models.base import LARGE_TABLE
from scorelab.models.registry import model_class
from scorelab.study.plan import Plan
from scorelab.study.population import population_for, strict_message

__all__ = ["FAMILIES", "Choice", "Onboarding", "init_config", "propose_config"]

#: The learned families an init config compares: (name, family, kind, why). The expert
#: systems need rule tables over the table's columns, so they are left out (listed in a
#: comment).
FAMILIES: tuple[tuple[str, str, str, str], ...] = (
    ("scorecard", "logit", "scorecard", "binned weight-of-evidence logistic scorecard, "
     "points per bin (binning makes it indifferent to tails)"),
    ("lightgbm", "trees", "lightgbm", "gradient-boosted trees"),
    ("random_forest", "trees", "forest", "a random forest (LightGBM's forest mode)"),
    ("mlp", "neural", "mlp", "a neural network on quantile-standardised inputs"),
    ("yim_mitchell", "hybrid", "yim_mitchell", "the scorecard's log-odds fed into the "
     "network (Yim & Mitchell)"),
    ("stacking", "hybrid", "stacking", "scorecard + LightGBM + network, stacked"),
    ("ebm", "additive", "ebm", "an Explainable Boosting Machine: a shape function per "
     "input, read like a scorecard"),
)
#: Name words that say a binary column is the outcome.
TARGET_WORDS = ("default", "delinq", "dlq", "target")
_TARGET_TOKENS = frozenset({"bad", "target", "default", "defaulted", "defaults"})
#: Values that mean default (lower case).
_DEFAULT_VALUES = ("bad", "default", "defaulted", "delinquent", "yes", "y", "true", "1",
                   "charged off", "charged_off", "fail", "failed")
_GOOD_VALUES = ("good", "no", "n", "false", "0", "paid", "current", "ok")
#: Protected attributes proposed by name: (kind, name words, what).
_PROTECTED_WORDS: tuple[tuple[frozenset[str], str], ...] = (
    (frozenset({"sex", "gender", "male", "female"}), "sex/gender"),
    (frozenset({"marital", "married", "marriage", "spouse"}), "marital status"),
    (frozenset({"nationality", "national", "foreign", "foreigner", "citizenship",
                "immigrant", "migrant"}), "nationality/foreign worker"),
    (frozenset({"race", "ethnic", "ethnicity", "religion", "religious"}),
     "race/ethnicity/religion"),
)
_STATUS_PHRASES = ("personal_status", "civil_status", "family_status", "marital")
_ID_WORDS = frozenset({"id", "ids", "key", "uuid", "guid", "identifier", "nr"})
_ISO_DATE = re.compile(r"^\s*\d{4}-\d{2}-\d{2}")
#: Text columns with more distinct values than this (and than 5% of the rows) are not
#: proposed as categories.
MAX_CATEGORIES = 200
#: A config file is written here when no path is given: the table's name in the working
#: directory.
DEFAULT_SEED = 0


@dataclass(frozen=True)
class Choice:
    """One inferred choice: the key, its value, why it was made, whether to check it."""

    key: str
    value: Any
    why: str
    check: bool = False


@dataclass
class Onboarding:
    """What ``scorelab init`` proposed (and wrote): the config's text and object, the
    table loaded as a study loads it, its data-quality findings and every choice."""

    table: Path
    out: Path
    text: str
    config: ExperimentConfig
    population: Population
    findings: list[Finding]
    choices: list[Choice] = field(default_factory=list)
    written: bool = False


# --------------------------------------------------------------------------- inference

def _kind(series: pd.Series) -> str:
    """empty, bool, date, number or text."""
    known = series.dropna()
    if known.empty:
        return "empty"
    if pd.api.types.is_bool_dtype(series):
        return "bool"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "date"
    if pd.api.types.is_numeric_dtype(series):
        return "number"
    sample = known.astype(str).head(200)
    if sample.map(lambda v: bool(_ISO_DATE.match(v))).mean() >= 0.95:
        return "date"
    return "text"


def _is_binary(series: pd.Series) -> bool:
    return bool(series.notna().all()) and series.nunique() == 2


def _says_target(name: str) -> bool:
    lower = str(name).lower()
    return any(w in lower for w in TARGET_WORDS) or bool(_TARGET_TOKENS & set(name_tokens(name)))


def _values_say_default(series: pd.Series) -> bool:
    values = {str(v).strip().lower() for v in pd.unique(series)}
    return bool(values & {"bad", "default", "defaulted", "delinquent"})


def _listing(values: list[str]) -> str:
    shown = ", ".join(excerpt(v) for v in values[:10])
    return shown + (f", ... ({len(values) - 10} more)" if len(values) > 10 else "")


def _choose_target(frame: pd.DataFrame, target: str | None, where: str) -> Choice:
    columns = [str(c) for c in frame.columns]
    if target is not None:
        if target not in columns:
            raise DataError(f"--target '{excerpt(target)}' is not a column of {where}; its "
                            f"columns: {_listing(columns)}")
        series = frame[target]
        if series.isna().any():
            raise DataError(f"--target '{excerpt(target)}' of {where} has missing values "
                            f"({int(series.isna().sum()):,} rows); every applicant needs a "
                            "known outcome")
        if series.nunique() != 2:
            raise DataError(f"--target '{excerpt(target)}' of {where} has "
                            f"{series.nunique():,} distinct values; the target needs exactly "
                            "two (default and no default)")
        return Choice("population.target", target, "named with --target")
    binary = [c for c in columns if _is_binary(frame[c])]
    if not binary:
        raise DataError(f"{where} has no binary column to predict (a target has exactly two "
                        "values, e.g. good/bad or 0/1, and no missing value); its columns: "
                        f"{_listing(columns)}")
    named = [c for c in binary if _says_target(c)]
    valued = [c for c in binary if _values_say_default(frame[c])]
    for found, why in ((named, "the binary column whose name says default, bad, target or "
                                "delinquent"),
                       (valued, "the binary column whose values say good/bad")):
        if len(found) == 1:
            return Choice("population.target", found[0], f"the only {why.removeprefix('the ')}")
    candidates = named or valued
    if candidates:
        raise DataError(f"{where}: several columns could be the target "
                        f"({_listing(candidates)}); name it: scorelab init TABLE --target "
                        "COLUMN")
    raise DataError(f"{where}: no binary column is named like a target (default, bad, "
                    "target, delinquent) or holds good/bad values; name it: scorelab init "
                    f"TABLE --target COLUMN (binary columns: {_listing(binary)})")


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _choose_default(series: pd.Series) -> Choice:
    values = [_plain(v) for v in pd.unique(series)]
    counts = series.value_counts()
    share = {v: int(counts[v0]) for v, v0 in zip(values, pd.unique(series), strict=True)}
    n = len(series)

    def why(value: Any, reason: str) -> str:
        return f"{reason}: {share[value]:,} of {n:,} rows ({share[value] / n:.1%})"

    if all(isinstance(v, bool) for v in values):
        return Choice("population.default_value", True, why(True, "true means default"))
    if set(values) == {0, 1}:
        return Choice("population.default_value", 1, why(1, "1 means default"))
    lower = {v: str(v).strip().lower() for v in values}
    said = [v for v in values if lower[v] in _DEFAULT_VALUES]
    good = [v for v in values if lower[v] in _GOOD_VALUES]
    if len(said) == 1 and (good or len(values) == 2) and said[0] not in good:
        return Choice("population.default_value", said[0],
                      why(said[0], f"'{said[0]}' means default"))
    rarer = min(values, key=lambda v: (share[v], str(v)))
    return Choice("population.default_value", rarer,
                  why(rarer, "the rarer value, taken to mean default"), check=True)


def _whole_unique(series: pd.Series) -> bool:
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series) \
            or series.isna().any():
        return False
    values = series.to_numpy(dtype=float)
    return bool(np.all(values == np.floor(values)) and np.all(np.abs(values) <= 2**53)
                and pd.Series(values).is_unique)


def _is_row_counter(series: pd.Series) -> bool:
    values = np.sort(series.to_numpy(dtype=float))
    n = values.size
    return bool(np.array_equal(values, np.arange(1, n + 1))
                or np.array_equal(values, np.arange(n)))


def _choose_id(frame: pd.DataFrame, taken: set[str]) -> Choice | None:
    candidates = [c for c in frame.columns if c not in taken and _whole_unique(frame[c])]
    named = [c for c in candidates if _ID_WORDS & set(name_tokens(c))]
    if "citizen_id" in candidates:
        named = ["citizen_id"]
    if named:
        return Choice("population.id_column", named[0], "named like an id, whole numbers, "
                      "a different one in every row")
    counters = [c for c in candidates if _is_row_counter(frame[c])]
    if counters:
        return Choice("population.id_column", counters[0], "counts the rows (a saved "
                      "index), a different number in every row")
    return None


def _age_like(name: str, series: pd.Series) -> bool:
    if "age" not in name_tokens(name) or not pd.api.types.is_numeric_dtype(series) \
            or pd.api.types.is_bool_dtype(series):
        return False
    known = series.dropna().to_numpy(dtype=float)
    low, high = AGE_RANGE
    return bool(known.size and np.all((known >= 0) & (known <= 130))
                and np.mean((known >= low - 3) & (known <= high)) >= 0.95)


def _protected(frame: pd.DataFrame, taken: set[str]) -> list[Choice]:
    out: list[Choice] = []
    ages = [c for c in frame.columns if c not in taken and _age_like(c, frame[c])]
    ages.sort(key=lambda c: (str(c).lower() != "age", len(str(c))))
    for i, name in enumerate(ages):
        known = frame[name].dropna()
        kind = "age" if i == 0 else "continuous"
        out.append(Choice(f"population.protected.{name}", kind,
                          f"named like age, values {known.min():g}-{known.max():g} (years)"
                          + ("; the age attribute: every age analysis follows it" if i == 0
                             else "; another age column, audited in quintiles"), check=True))
    for name in frame.columns:
        if name in taken or name in ages:
            continue
        tokens = set(name_tokens(name))
        lower = str(name).lower()
        for words, what in _PROTECTED_WORDS:
            if words & tokens or (what == "marital status"
                                  and any(p in lower for p in _STATUS_PHRASES)):
                out.append(Choice(f"population.protected.{name}", "categorical",
                                  f"named like {what}", check=True))
                break
    return out


def _sniffed_words(read: TableFile) -> str:
    return f"sniffed: the header splits into {read.frame.shape[1]} columns on " \
           f"{read.delimiter_name}"


@dataclass
class _Draft:
    """The choices so far, before the config is written."""

    target: Choice
    default: Choice
    id_column: Choice | None
    date_column: Choice | None
    protected: list[Choice]
    drop: list[Choice]
    categorical: list[str]
    codes: list[str]


def _draft(frame: pd.DataFrame, target: str | None, where: str) -> _Draft:
    target_choice = _choose_target(frame, target, where)
    tname = target_choice.value
    default = _choose_default(frame[tname])
    taken = {tname}
    id_choice = _choose_id(frame, taken)
    if id_choice is not None:
        taken.add(id_choice.value)
    drop: list[Choice] = []
    date_choice: Choice | None = None
    kinds = {c: _kind(frame[c]) for c in frame.columns if c not in taken}
    for name, kind in kinds.items():
        if kind == "empty":
            drop.append(Choice("population.drop", name, "no value in any row"))
        elif kind == "date" and {"birth", "dob", "born"} & set(name_tokens(name)):
            drop.append(Choice("population.drop", name, "a date of birth is the applicant's "
                               "age in disguise: derive an age column to audit it"))
        elif kind == "date":
            if date_choice is None and frame[name].notna().all():
                date_choice = Choice("population.date_column", name, "dates in every row: "
                                     "orders the applications (evaluation.split: time); "
                                     "never a model input")
            else:
                drop.append(Choice("population.drop", name, "dates are not model inputs"))
        elif name == "citizen_id":
            drop.append(Choice("population.drop", name, "scorelab names its own applicant "
                               "id citizen_id"))
    taken |= {c.value for c in drop} | ({date_choice.value} if date_choice else set())
    protected = _protected(frame, taken)
    taken |= {c.key.split(".", 2)[2] for c in protected}
    categorical, codes = [], []
    n = len(frame)
    for name, kind in kinds.items():
        if name in taken:
            continue
        if kind in ("text", "bool"):
            distinct = frame[name].nunique()
            if kind == "text" and distinct == frame[name].notna().sum() and n >= 20:
                drop.append(Choice("population.drop", name, "text different in every row: "
                                   "identifier-like, nothing a model can learn from"))
            elif kind == "text" and distinct > max(MAX_CATEGORIES, 0.05 * n):
                drop.append(Choice("population.drop", name, f"text with {distinct:,} "
                                   "distinct values: too many for a category (group rare "
                                   "values to use it)"))
            elif kind == "text" and _mostly_numbers(frame[name]):
                continue  # numbers with stray texts: the loader names the rows
            else:
                categorical.append(name)
        elif kind == "number" and not pd.api.types.is_float_dtype(frame[name]) \
                and 2 < frame[name].nunique() <= 10:
            codes.append(f"{name} ({frame[name].nunique()} values)")
    return _Draft(target_choice, default, id_choice, date_choice, protected, drop,
                  categorical, codes)


def _mostly_numbers(series: pd.Series) -> bool:
    known = series.dropna().astype(str).str.strip()
    return bool(pd.to_numeric(known, errors="coerce").notna().mean() > 0.5)


# --------------------------------------------------------------------------- the text

_PLAIN_TEXT = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_YAML_WORDS = frozenset({"true", "false", "null", "yes", "no", "on", "off", "y", "n"})


def _v(value: Any) -> str:
    """A value as YAML flow text (a string plain when YAML reads it back as the same
    string, else as a JSON string, which YAML reads as is)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, str):
        if _PLAIN_TEXT.match(value) and value.lower() not in _YAML_WORDS:
            return value
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_v(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_v(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no YAML text for {type(value).__name__}")


#: A line with its comment is at most this long; a longer comment goes on the line above.
_WIDTH = 100


def _line(text: str, why: str = "", width: int = 36) -> str:
    """``text`` with its reason as a comment: beside it, or above it when too long."""
    if not why:
        return text
    beside = f"{text.ljust(width)} # {why}"
    if len(beside) <= _WIDTH:
        return beside
    indent = text[:len(text) - len(text.lstrip())]
    return f"{indent}# {why}\n{text}"


def _comments(text: str, indent: str) -> list[str]:
    """``text`` as comment lines of at most :data:`_WIDTH` characters."""
    return textwrap.wrap(text, _WIDTH, initial_indent=f"{indent}# ",
                         subsequent_indent=f"{indent}# ", break_on_hyphens=False)


def _check(choice: Choice) -> str:
    return f"CHECK: {choice.why}" if choice.check else choice.why


def _study_name(table: Path) -> str:
    stem = table.name.split(".")[0] or "study"
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("_.-")
    return name or "study"


def _folds(n: int, smallest: int) -> tuple[int, str]:
    k = 5 if n < 2 * LARGE_TABLE else 3
    why = ("5-fold cross-validation" if k == 5 else
           f"3 folds: {n:,} rows leave over {n // 3:,} per test fold, and each family fits "
           "3 times instead of 5")
    if smallest < k:
        k = max(2, smallest)
        why = f"{k} folds: the smaller class has {smallest} rows (each fold needs one)"
    return k, why


def _render(table: Path, read: TableFile, draft: _Draft, n: int, smallest: int,
            n_inputs: int) -> tuple[str, list[Choice]]:
    """The config's YAML text and the choices it holds."""
    choices: list[Choice] = [draft.target, draft.default]
    name = _study_name(table)
    lines = [
        f"# scorelab study of {table.name}, written by `scorelab init` on "
        f"{date.today().isoformat()}.",
        "# Every choice inferred from the table says why on its line; lines marked CHECK "
        "are",
        "# guesses to confirm. `scorelab validate` checks this file, `scorelab run` runs "
        "it, and",
        "# `scorelab render-config --schema` describes every key.",
        "schema_version: 1",
        _line(f"name: {_v(name)}", "from the table's file name; names the run folders"),
        _line(f"seed: {DEFAULT_SEED}", "seeds every random draw: same seed, same numbers"),
        "",
        "population:",
        _line("  source: table", "applicants come from a table on disk"),
        _line(f"  path: {_v(str(table))}", "absolute: the config finds its table from any "
              "folder"),
    ]
    if read.kind == "text" and read.delimiter != ",":
        lines.append(_line(f"  delimiter: {_v(read.delimiter)}", _sniffed_words(read)))
        choices.append(Choice("population.delimiter", read.delimiter, _sniffed_words(read)))
    if read.kind == "excel":
        lines.append(_line(f"  sheet: {_v(read.sheet)}", "the first sheet of the workbook"))
    if read.dropped_rows:
        lines.append(_line("  bad_rows: drop", f"{len(read.dropped_rows):,} row(s) of the "
                           "wrong width are left out (--bad-rows drop)"))
    lines.append(_line(f"  target: {_v(draft.target.value)}", _check(draft.target)))
    lines.append(_line(f"  default_value: {_v(draft.default.value)}", _check(draft.default)))
    if draft.id_column is not None:
        choices.append(draft.id_column)
        lines.append(_line(f"  id_column: {_v(draft.id_column.value)}", draft.id_column.why))
    else:
        lines.append(_line("  id_column: null", "no column of unique whole numbers: the "
                           "applicants are numbered by row"))
    if draft.date_column is not None:
        choices.append(draft.date_column)
        lines.append(_line(f"  date_column: {_v(draft.date_column.value)}",
                           draft.date_column.why))
    if draft.protected:
        lines.append("  # audited for fairness, never model inputs (unless a model's "
                     "use_protected lists one);")
        lines.append("  # proposed by their names: CHECK each, and add any the names did "
                     "not show")
        lines.append("  protected:")
        for c in draft.protected:
            column = c.key.split(".", 2)[2]
            choices.append(c)
            lines.append(_line(f"    {_v(column)}: {c.value}", _check(c)))
    else:
        lines.append("  # no column is named like age, sex, marital status or nationality: "
                     "name your")
        lines.append("  # protected attributes here (column: age | continuous | categorical)")
        lines.append("  protected: {}")
    if draft.drop:
        lines.append(_line("  drop:", "left out of the study"))
        for c in draft.drop:
            choices.append(c)
            lines.append(_line(f"    - {_v(c.value)}", c.why, 38))
    else:
        lines.append(_line("  drop: []", "no column needs leaving out"))
    if draft.categorical:
        lines.append(_line("  categorical:", "text and true/false columns: categories"))
        lines += [f"    - {_v(c)}" for c in draft.categorical]
    else:
        lines.append(_line("  categorical: []", "no text or true/false column"))
    choices.append(Choice("population.categorical", draft.categorical,
                          "text and true/false columns"))
    if draft.codes:
        lines += _comments(f"numbers with few values stay numbers: {', '.join(draft.codes)}; "
                           "list them in categorical if they are codes rather than counts "
                           "or amounts", "  ")
    band = ("below 5,000 rows: small" if n < 5_000 else
            "50,000 rows or more: large" if n >= LARGE_TABLE else "5,000-50,000 rows")
    lines += ["", f"# the learned families, on the same folds; settings sized to {n:,} rows "
              f"({band})", "models:"]
    for model_name, family, kind, why in FAMILIES:
        sized = model_class(family, kind).sized_params(n)
        spec: dict[str, Any] = {"family": family, "kind": kind, "name": model_name}
        if sized:
            spec["params"] = {k: list(v) if isinstance(v, tuple) else v
                              for k, v in sized.items()}
        note = why + (" (params: sized to the table; a config without them gets the same "
                      "at run time)" if sized else "")
        lines += _comments(f"{model_name}: {note}", "  ")
        lines.append(f"  - {_v(spec)}")
        choices.append(Choice(f"models.{model_name}", spec, note))
    lines += _comments("not proposed: expert systems (family: expert) and the rules + "
                       "boosting hybrid need rule tables over this table's columns (see "
                       "configs/german_credit.yaml); mitigation variants need a protected "
                       "input (use_protected)", "  ")
    k, folds_why = _folds(n, smallest)
    replicates, replicates_why = ((100, f"bootstrap replicates of every interval: on {n:,} "
                                   "rows the intervals are narrow, and 100 replicates place "
                                   "their ends well within them (half the time of 200)")
                                  if n >= 2 * LARGE_TABLE else
                                  (200, "bootstrap replicates of every interval"))
    choices.append(Choice("evaluation.folds", k, folds_why))
    lines += ["", "evaluation:",
              _line(f"  folds: {k}", folds_why),
              _line(f"  bootstrap: {replicates}", replicates_why),
              _line("  n_jobs: 2", "parallel fits (-1 = every core)")]
    evals = max(200, 2 * n_inputs + 1)
    lines += ["", "explain:",
              _line(f"  max_evals: {evals}", f"the sampling explainer's budget: at least "
                    f"2 x {n_inputs} inputs + 1")]
    lines += ["", "fairness:",
              *([_line(f"  bootstrap: {replicates}", "replicates of the group metrics' "
                       "intervals, as above")] if replicates != 200 else []),
              _line("  prohibited: []", "the synthetic population's prohibited inputs are "
                    "not in this table"),
              "", "output:", _line("  runs_dir: runs", "run folders go here (relative to "
                                   "where scorelab runs)"), ""]
    return "\n".join(lines), choices


# --------------------------------------------------------------------------- proposing

def _drops_from(findings: list[Finding], features: set[str]) -> list[Choice]:
    """Columns a first look at the loaded table says to leave out: identifier-like,
    constant, single-column leakage suspects (each with its finding as the reason)."""
    out = []
    for f in findings:
        if f.column in features and (f.check in ("identifier", "leakage") or (
                f.check == "constant" and "near-constant" not in f.message)):
            body = f.message.removeprefix(f"column '{excerpt(f.column)}': ")
            out.append(Choice("population.drop", f.column, body.split(": ", 1)[0],
                              check=f.check == "leakage"))
    return out


def propose_config(table: str | Path, out: str | Path | None = None, *,
                   target: str | None = None, sheet: str | None = None,
                   delimiter: str | None = None,
                   bad_rows: Literal["error", "drop"] = "error",
                   strict: bool = False) -> Onboarding:
    """The config ``scorelab init`` would write for ``table`` (nothing is written): its
    text, validated and with its table loaded and checked as a run checks it.

    Raises
    ------
    DataError, ConfigError
        One line: the table cannot be read, has no target to predict, or (``strict``)
        has data-quality findings.
    """
    table = Path(table).expanduser().resolve()
    out = Path(out) if out is not None else Path(f"{_study_name(table)}.yaml")
    read = read_table_file(table, "table", delimiter=delimiter, sheet=sheet,
                           bad_rows=bad_rows)
    frame = read.frame
    where = f"table '{table.name}'"
    draft = _draft(frame, target, where)
    n = len(frame)
    counts = frame[draft.target.value].value_counts()
    smallest = int(counts.min())
    while True:  # a look at the loaded table may add columns to drop (each time fewer)
        dropped = {c.value for c in draft.drop}
        inputs = [c for c in frame.columns if c not in dropped and c not in {
            draft.target.value, getattr(draft.id_column, "value", None),
            getattr(draft.date_column, "value", None)}
            and f"population.protected.{c}" not in {p.key for p in draft.protected}]
        text, choices = _render(table, read, draft, n, smallest, len(inputs))
        config = config_from_yaml(text, out.resolve())
        population, _card = population_for(Plan.of(config))
        findings = [_finding(f) for f in population.meta.get("quality", [])]
        more = _drops_from(findings, set(population.schema.with_role("feature")))
        if not more:
            break
        draft.drop += more
        draft.categorical = [c for c in draft.categorical if c not in {m.value for m in more}]
    if strict and findings:
        raise DataError(strict_message(findings))
    return Onboarding(table, out, text, config, population, findings, choices)


def _check_out(out: Path, force: bool) -> None:
    """Refuse an existing config (unless ``force``), a folder or an unwritable folder
    before any work, creating nothing (the folder is made when the file is written)."""
    if out.is_dir():
        raise OutputError(f"--out '{out}' is a folder; give the path of the config file to "
                          "write (e.g. study.yaml)")
    if out.exists() and not force:
        raise OutputError(f"--out '{out}' already exists; use --force to overwrite it")
    parent = next((p for p in (out.absolute().parent, *out.absolute().parents)
                   if p.exists()), None)
    if parent is None or not parent.is_dir() or not os.access(parent, os.W_OK):
        raise OutputError(f"--out '{out}': folder '{parent}' is not writable")


def _finding(entry: dict[str, Any]) -> Finding:
    return Finding(entry["check"], entry["column"], entry["message"], entry["count"],
                   tuple(entry["rows"]))


def init_config(table: str | Path, out: str | Path | None = None, *,
                target: str | None = None, sheet: str | None = None,
                delimiter: str | None = None, bad_rows: Literal["error", "drop"] = "error",
                force: bool = False, strict: bool = False) -> Onboarding:
    """Write the commented config :func:`propose_config` proposes for ``table`` to
    ``out`` (default: ``<table name>.yaml`` in the working directory); never over an
    existing file without ``force``. The output path is checked before any work."""
    table = Path(table).expanduser()
    target_out = Path(out) if out is not None else \
        Path(f"{_study_name(table.resolve())}.yaml")
    _check_out(target_out, force)
    proposal = propose_config(table, target_out, target=target, sheet=sheet,
                              delimiter=delimiter, bad_rows=bad_rows, strict=strict)
    write_atomically({target_out: proposal.text.encode()}, force=force)
    proposal.written = True
    return proposal
