"""The proxy verdict: which inputs stand in for age in each model, and whether they cost
the young or the 62+ points.

A stand-in is an input the fairness audit's proxy audit rates at least as strong as the
proxy threshold (``lda.proxy_threshold``, the threshold from which the LDA search
takes the stand-ins it tries dropping, at most three, unless ``lda.proxies`` names
them: one number decides what a proxy is). Its effect is read from the
model's own explanations (the audit sample's SHAP values, in points): the stand-ins'
summed contribution averaged per age band. A model is flagged when the youngest band or
the oldest (62+ by default) gets at least ``WORSE_BY`` points fewer from its stand-ins than everyone
else explained, which is what an examiner asks of a proxy: not whether it correlates
with age, but whether it treats an age group worse.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from scorelab.core.ages import age_band_labels, age_bands
from scorelab.report.blocks import finite, get, records
from scorelab.report.context import ReportContext

__all__ = ["WORSE_BY", "StandIns", "edge_bands", "proxy_threshold", "stand_ins"]

#: Points fewer (the score's whole-point resolution) from which a group counts as
#: treated worse by a model's stand-ins.
WORSE_BY = 1.0


@dataclass(frozen=True)
class StandIns:
    """One model's stand-ins for age and what they give each age band (points)."""

    inputs: list[str]
    points: dict[str, float] = field(default_factory=dict)  # band -> mean points
    gap: dict[str, float] = field(default_factory=dict)  # band -> points vs the rest
    withheld: dict[str, int] = field(default_factory=dict)  # band -> explained n

    @property
    def assessed(self) -> bool:
        """Whether any edge band was measured (explained, and not withheld)."""
        return bool(self.gap)

    @property
    def worse(self) -> dict[str, float]:
        """The young or 62+ band given at least WORSE_BY points fewer than the rest."""
        return {band: g for band, g in self.gap.items() if g <= -WORSE_BY}


def proxy_threshold(ctx: ReportContext) -> float:
    """The proxy strength from which an input stands in for age (``lda.proxy_threshold``,
    0.3 when the run's config predates it)."""
    value = get(ctx.run.config, "lda", "proxy_threshold")
    return float(value) if finite(value) else 0.3


def stand_ins(ctx: ReportContext) -> dict[str, StandIns]:
    """Per model, its stand-ins for age and their points by the first and the last age
    band against the rest; empty without a proxy audit or an age attribute. Computed
    once per report (page one and the policy checks read it)."""
    if "stand_ins" not in ctx.cache:
        ctx.cache["stand_ins"] = _stand_ins(ctx)
    return ctx.cache["stand_ins"]


def edge_bands(ctx: ReportContext) -> tuple[str, str] | None:
    """The labels of the youngest and the oldest age band (18-25 and 62+ by default)."""
    labels = age_band_labels(ctx.age_edges) if ctx.age_edges else []
    return (labels[0], labels[-1]) if len(labels) > 1 else None


def _stand_ins(ctx: ReportContext) -> dict[str, StandIns]:
    audit = records(get(ctx.fairness, "proxy_audit"))
    edges = ctx.age_edges
    if not audit or ctx.age_column is None or not edges:
        return {}
    threshold = proxy_threshold(ctx)
    strong = [str(r["feature"]) for r in audit
              if finite(r.get("strength")) and float(r["strength"]) >= threshold]
    inputs = {m.name: [c for c in strong if c in m.inputs] for m in ctx.run.study.models}
    out = {m: StandIns(inputs.get(m, [])) for m in ctx.order}
    shap = ctx.run.explanations
    if shap is None or not any(inputs.values()):
        return out
    pairs = pd.MultiIndex.from_tuples([(m, c) for m, cols in inputs.items() for c in cols])
    part = shap[pd.MultiIndex.from_arrays([shap["model"].astype(str),
                                           shap["feature"].astype(str)]).isin(pairs)]
    per_citizen = part.groupby(["model", "citizen_id"], observed=True)["shap"].sum()
    ages = ctx.ages()
    factor = ctx.run.study.scale.factor  # more risk, fewer points
    for model, values in per_citizen.groupby(level=0):
        if model not in out:
            continue
        ids = values.index.get_level_values(1)
        points = pd.Series(-factor * values.to_numpy(), index=ids)
        bands = pd.Series(age_bands(ages.reindex(ids).to_numpy(), edges), index=ids)
        labels = list(bands.cat.categories)
        means = points.groupby(bands, observed=True).mean()
        sizes = bands.value_counts()
        gap, withheld = {}, {}
        for band in (labels[0], labels[-1]):
            n = int(sizes.get(band, 0))
            if n == 0:
                continue
            if ctx.withheld(n):
                withheld[band] = n
                continue
            rest = points[(bands != band).to_numpy() & bands.notna().to_numpy()]
            if len(rest):
                gap[band] = float(means[band] - rest.mean())
        out[model] = StandIns(inputs[model], {str(b): float(v) for b, v in means.items()
                                              if np.isfinite(v)}, gap, withheld)
    return out
