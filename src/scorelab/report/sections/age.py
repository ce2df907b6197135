"""Section 5, age: how each model treats the young, where the young/rest line is drawn,
which inputs stand in for age and, with known truth, how much of the gap true risk
explains."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from scorelab.report import plots
from scorelab.report.blocks import (
    Section,
    details,
    figure,
    figures,
    finite,
    fmt,
    get,
    interval,
    light,
    pct,
    records,
    table,
    text,
)
from scorelab.report.context import ReportContext

__all__ = ["age"]

PROXY_ROWS = 8


def _young_rest(ctx: ReportContext, ages: dict[str, dict[str, Any]]) -> dict[str, Any]:
    rows = []
    for m, a in ages.items():
        ratio = a.get("approval_ratio")
        status = "n/a" if not finite(ratio) else (
            "fail" if ratio < ctx.four_fifths else "pass")
        rows.append([m, pct(a.get("approval_young")), pct(a.get("approval_rest")),
                     light(status, fmt(ratio, ".2f")), fmt(a.get("score_gap"), "+.1f")])
    band = next(iter(ages.values())).get("young_band")
    return table(["model", "approval of the young", "approval of the rest",
                  "ratio (four-fifths)", "mean score gap (points)"], rows,
                 title=f"The young ({band}) against the rest",
                 align=["left", "right", "right", "left", "right"])


def _curve_figures(ctx: ReportContext, ages: dict[str, dict[str, Any]],
                   column: str) -> list[dict[str, Any]]:
    out = []
    curves = {m: pd.DataFrame(records(a.get("score_by_age"))) for m, a in ages.items()}
    curves = {m: c for m, c in curves.items() if {"age", "mean_score"} <= set(c.columns)}
    if curves:
        years = sorted({int(v) for c in curves.values() for v in c["age"]})
        col = "mean_score_smooth" if all("mean_score_smooth" in c for c in curves.values()) \
            else "mean_score"
        series = {m: c.set_index("age")[col].reindex(years).to_numpy(dtype=float)
                  for m, c in curves.items()}
        ctx.add_figure("score_by_age", lambda years=years, series=series: plots.line_svg(
            years, series, column, "mean score (points, 5-year smoothing)",
            f"Mean score by {column}", styles=ctx.styles, labels=ctx.legend))
        out.append(figure("score_by_age", f"Score by {column}"))
    sweeps = {m: pd.DataFrame(records(a.get("cut_sweep"))) for m, a in ages.items()}
    sweeps = {m: c for m, c in sweeps.items() if {"cut", "ratio"} <= set(c.columns)}
    if sweeps:
        cuts = sorted({int(v) for c in sweeps.values() for v in c["cut"]})
        series = {m: c.set_index("cut")["ratio"].reindex(cuts).to_numpy(dtype=float)
                  for m, c in sweeps.items()}
        ctx.add_figure("cut_sweep", lambda cuts=cuts, series=series: plots.line_svg(
            cuts, series, f"the young are those with {column} up to", "approval ratio, "
            "young / rest", "Where the young/rest line is drawn", hline=ctx.four_fifths,
            styles=ctx.styles, labels=ctx.legend, shade_below=ctx.four_fifths))
        out.append(figure("cut_sweep", "Cut-point sweep"))
    return out


def _share(d: dict[str, Any]) -> str:
    """The proxy part's share of the gap true risk leaves unexplained, when that is a
    share (0-100%); when the parts pull in opposite directions it is not one."""
    share = d.get("proxy_share_of_unexplained")
    if finite(share) and 0 <= float(share) <= 1:
        return pct(share, 0)
    return "n/a (parts offset)"


#: The parts of the age-gap decomposition in fairness.json, with their column titles.
DECOMPOSITION_COLUMNS = (("total", "gap (points)"), ("true_risk", "true risk"),
                         ("response_beyond_true_risk", "response to age through the "
                          "inputs beyond true risk"), ("label_bias", "label bias"),
                         ("residual", "residual"))
#: Part names in words, for the sentence that lists parts indistinguishable from zero.
PART_WORDS = {"total": "the gap itself", "true_risk": "true risk",
              "response_beyond_true_risk": "the response to age through the inputs",
              "label_bias": "label bias", "residual": "the residual"}


def _twin_part(d: dict[str, Any]) -> Any:
    """The twin-based part; runs written before it was renamed carry only ``proxy``."""
    return d.get("response_beyond_true_risk", d.get("proxy"))


def _interval(d: dict[str, Any], key: str) -> list[float] | None:
    iv = (d.get("intervals") or {}).get(key)
    return [float(v) for v in iv] if isinstance(iv, list) and len(iv) == 2 and \
        all(finite(v) for v in iv) else None


def _covers_zero(iv: list[float] | None) -> bool:
    return iv is None or iv[0] <= 0 <= iv[1]


def _part_cell(d: dict[str, Any], key: str) -> Any:
    avail = d.get("available") or {}
    if key in ("response_beyond_true_risk", "label_bias") and \
            not avail.get(key, avail.get("proxy" if key != "label_bias" else key, True)):
        return "not estimated"
    value = _twin_part(d) if key == "response_beyond_true_risk" else d.get(key)
    iv = _interval(d, key)
    if iv is None:
        return fmt(value, "+.1f")
    return interval(value, iv[0], iv[1], "+.1f")


def decomposition_sentence(model: str, d: dict[str, Any]) -> str:
    """What the twin-based part says about one model, in words, from its sign and interval.

    Positive and distinguishable: the model misses an age difference in risk (it scores
    the young better than their true risk warrants), never "a proxy favours the young".
    Negative and distinguishable: the young are penalised through age's descendants.
    """
    kind, _ = _reading(d)  # one rule reads the sign and the interval
    if kind == "unscored":
        return f"Under {model}, the twins were not scored: the response to age through " \
               f"the inputs was not estimated."
    value = _twin_part(d)
    iv = _interval(d, "response_beyond_true_risk")
    where = f" (interval {fmt(iv[0], '+.1f')} to {fmt(iv[1], '+.1f')})" if iv else ""
    if kind == "zero":
        sentence = (f"Under {model}, the response to age through the inputs, beyond what "
                    f"true risk warrants, is {fmt(value, '+.1f')} points{where}: not "
                    f"distinguishable from zero.")
    elif kind == "missed":
        sentence = (f"Under {model}, the models do not reflect an age difference in risk: "
                    f"they score the young {fmt(value, '.1f')} points{where} better than "
                    f"their true risk warrants (a missed age difference in risk, not a "
                    f"proxy favouring the young).")
    else:
        sentence = (f"Under {model}, the models penalise the young through age's "
                    f"descendants (inputs such as credit history that grow with age) by "
                    f"{fmt(-float(value), '.1f')} points{where} beyond what true risk "
                    f"warrants.")
    if iv is None:
        return sentence + " (No interval was computed for this run.)"
    zero = [PART_WORDS[k] for k, _ in DECOMPOSITION_COLUMNS
            if k != "response_beyond_true_risk" and (_interval(d, k) is not None)
            and _covers_zero(_interval(d, k))]
    if zero:
        sentence += " Not distinguishable from zero: " + ", ".join(zero) + "."
    return sentence


#: What the twin-based part says, by its sign and interval, said once for every model
#: it describes (one sentence per reading, not one paragraph per model).
_READINGS = {
    "penalise": "These models penalise the young through age's descendants (inputs such as "
                "credit history that grow with age) beyond what true risk warrants, by "
                "(points)",
    "missed": "These models do not reflect an age difference in risk: they score the young "
              "better than their true risk warrants (a missed age difference in risk, not a "
              "proxy favouring the young), by (points)",
    "zero": "For these models the response to age through the inputs, beyond what true risk "
            "warrants, is not distinguishable from zero (points)",
    "unscored": "For these models the twins were not scored, so the response to age through "
                "the inputs was not estimated",
}


def _reading(d: dict[str, Any]) -> tuple[str, str]:
    """A model's reading of the twin-based part (a key of :data:`_READINGS`) and its
    figure with the interval; :func:`decomposition_sentence` words one model by the same
    reading."""
    value = _twin_part(d)
    if not finite(value):
        return "unscored", ""
    iv = _interval(d, "response_beyond_true_risk")
    where = f" [{fmt(iv[0], '+.1f')}, {fmt(iv[1], '+.1f')}]" if iv else ""
    if iv is not None and _covers_zero(iv) or abs(float(value)) < 1e-9:
        return "zero", f" {fmt(value, '+.1f')}{where}"
    if float(value) > 0:
        return "missed", f" {fmt(value, '.1f')}{where}"
    return "penalise", f" {fmt(-float(value), '.1f')}{where}"


def grouped_readings(decompositions: dict[str, dict[str, Any]]) -> list[str]:
    """One sentence per reading of the twin-based part, naming every model it describes
    with its figure, in the report's model order."""
    found: dict[str, list[str]] = {}
    for m, d in decompositions.items():
        kind, figure = _reading(d)
        found.setdefault(kind, []).append(f"{m}{figure}")
    return [f"{_READINGS[kind]}: {'; '.join(found[kind])}." for kind in _READINGS
            if kind in found]


def _decomposition(ages: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    rows, described, level = [], [], None
    for m, a in ages.items():
        d = a.get("decomposition")
        if isinstance(d, dict):
            zero = [PART_WORDS[k] for k, _ in DECOMPOSITION_COLUMNS
                    if _interval(d, k) is not None and _covers_zero(_interval(d, k))]
            rows.append([m, *[_part_cell(d, k) for k, _ in DECOMPOSITION_COLUMNS],
                         ", ".join(zero) if zero else "none", _share(d)])
            described.append(m)
            level = level or get(d, "bootstrap", "level")
    if not rows:
        return []
    caption = "parts add up to the gap; computed against the population's known true risk"
    if level is not None:
        caption += (f"; in brackets the {fmt(level, '.0%')} interval (citizens resampled; "
                    f"the twin-based part adds the spread of the fold models)")
    return [table(["model", *[title for _, title in DECOMPOSITION_COLUMNS],
                   "not distinguishable from zero",
                   "share of the unexplained gap through the inputs"], rows,
                  align=["left"] * (len(DECOMPOSITION_COLUMNS) + 3),
                  title="Where the age gap comes from (mean score, young minus rest)",
                  caption=caption),
            *[text(s) for s in grouped_readings({m: ages[m]["decomposition"]
                                                 for m in described})]]


def _twins(ctx: ReportContext, ages: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    rows = []
    for m, a in ages.items():
        overall = next((r for r in records(a.get("twin_effects")) if r.get("age_band") ==
                        "all"), None)
        if overall:
            rows.append([m, fmt(overall.get("mean_delta_score"), "+.1f"),
                         pct(overall.get("share_newly_approved")),
                         pct(overall.get("share_newly_rejected"))])
    if not rows:
        return None
    shift = get(ctx.fairness, "thresholds", "twin_age_shift")
    return details(f"Counterfactual twins: the same applicants {fmt(shift, 'g')} years "
                   "older, all else equal (mean score change and changed decisions per model)",
                   [table(["model", "mean score change", "newly approved", "newly rejected"],
                          rows)])


def _proxies(ctx: ReportContext, column: str) -> dict[str, Any] | None:
    proxies = records(get(ctx.fairness, "proxy_audit"))[:PROXY_ROWS]
    if not proxies:
        return None
    strongest = ", ".join(str(p.get("feature")) for p in proxies[:3])
    return details(f"Inputs that stand in for {column}, strongest first ({strongest}, ...)",
                   [table(["input", "rank correlation with age", "separates the young (AUC)",
                           "missing: young", "missing: rest", "strength"],
                          [[p.get("feature"), fmt(p.get("spearman_rho"), "+.2f"),
                            fmt(p.get("auc_young"), ".2f"), pct(p.get("missing_young"), 0),
                            pct(p.get("missing_rest"), 0), fmt(p.get("strength"), ".2f")]
                           for p in proxies])])


def _shap_bands(ctx: ReportContext) -> dict[str, Any] | None:
    frame = pd.DataFrame(records(get(ctx.fairness, "shap_by_age_band")))
    if frame.empty:
        return None
    # the audit's suppression rule, on the explained people of each band
    frame["withheld"] = [ctx.withheld(n) for n in frame["n_citizens"]]
    frame.loc[frame["withheld"], ["mean_shap", "mean_abs_shap"]] = np.nan
    ctx.add_table("shap_by_age_band", frame)
    bands = list(dict.fromkeys(frame["age_band"].astype(str)))
    factor = ctx.run.study.scale.factor  # points per log-odds: more risk, fewer points
    panels = {}
    for feature, part in frame.groupby("feature", sort=False):
        series = {m: -factor * part[part["model"] == m].set_index("age_band")["mean_shap"]
                  .reindex(bands).to_numpy(dtype=float) for m in ctx.order
                  if (part["model"] == m).any()}
        panels[str(feature)] = (bands, series)
    ctx.add_figure("shap_by_age", lambda: plots.multiples_svg(
        panels, "mean SHAP (score points)", "What age and its proxies add to the score, "
        "per age band (negative: fewer points)", styles=ctx.styles, labels=ctx.legend))
    small = frame[frame["withheld"]].groupby("age_band", sort=False)["n_citizens"].max()
    note = ("" if small.empty else
            f" (withheld, fewer than {ctx.min_group_size} explained: "
            + ", ".join(f"{band} (n <= {int(n)})" for band, n in small.items()) + ")")
    return figure("shap_by_age", f"SHAP by age band{note}")


def age(ctx: ReportContext) -> Section | None:
    if ctx.fairness is None or ctx.age_column is None:
        return None
    column = str(ctx.age_column)
    ages = {m: e["age"] for m, e in ctx.fair_models().items() if isinstance(e.get("age"),
                                                                           dict)}
    if not ages:
        return None
    blocks: list[dict[str, Any]] = [_young_rest(ctx, ages)]
    curves = _curve_figures(ctx, ages, column)
    if curves:
        blocks.append(figures(*curves))
    notes = [str(a["cut_sweep_note"]) for a in ages.values() if a.get("cut_sweep_note")]
    label = get(ctx.fairness, "label_cut_sweep")
    if isinstance(label, dict) and label.get("note"):
        blocks.append(text(f"Before any model: {label['note']}"))
    blocks += [text(n) for n in notes[:1]]
    blocks += _decomposition(ages)
    for block in (_twins(ctx, ages), _proxies(ctx, column), _shap_bands(ctx)):
        if block is not None:
            blocks.append(block)
    sweeps = [{"model": m, **r} for m, a in ages.items() for r in records(a.get("cut_sweep"))]
    if sweeps:
        ctx.add_table("age_cut_sweep", pd.DataFrame(sweeps))
        blocks.append(details("Cut-point sweep of every model", [text(
            "Every cut, with the approval rates and the two-proportion test: "
            "tables/age_cut_sweep.csv.")]))
    best = next(iter(ages))
    ratio = ages[best].get("approval_ratio")
    parts = ["the approval rates of the young and the rest", "the mean score by age",
             "where the young/rest line is drawn", "which inputs stand in for age"]
    if any(isinstance(a.get("decomposition"), dict) for a in ages.values()):
        parts.append("how much of the score gap the young's true risk explains")
    if any(a.get("twin_effects") for a in ages.values()):
        parts.append("what happens to the same applicants made older")
    summary = (f"Age ('{column}') gets its own audit because credit histories grow with "
               f"age (the seed paper, section 5). Under {best} the young are approved at "
               f"{fmt(ratio, '.2f')} times the rate of the rest. This section shows "
               + ", ".join(parts[:-1]) + " and " + parts[-1] + ".")
    return Section("age", "Age", summary, blocks)
