"""The proxy verdict: which inputs stand in for age in each model, and whether they cost
the young or the 62+ points.

A stand-in is an input the fairness audit's proxy audit rates at least as strong as the
proxy threshold (``lda.proxy_threshold``: the same threshold the LDA search drops
stand-ins at, so one number decides what a proxy is). Its effect is read from the
model's own explanations (the audit sample's SHAP values, in points): the stand-ins'
summed contribution averaged per age band. A model is flagged when the young band or
the 62+ band gets at least ``WORSE_BY`` points fewer from its stand-ins than everyone
else explained, which is what an examiner asks of a proxy: not whether it correlates
with age, but whether it treats an age group worse.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from scorelab.core.ages import age_bands
from scorelab.report.blocks import finite, get, records
from scorelab.report.context import ReportContext

__all__ = ["WORSE_BY", "StandIns", "proxy_threshold", "stand_ins"]

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
    band against the rest; empty without a proxy audit or an age attribute."""
    audit = records(get(ctx.fairness, "proxy_audit"))
    column = ctx.age_column
    edges = [float(e) for e in get(ctx.run.config, "fairness", "age_bands", default=[])]
    if not audit or column is None or not edges:
        return {}
    threshold = proxy_threshold(ctx)
    strong = [str(r["feature"]) for r in audit
              if finite(r.get("strength")) and float(r["strength"]) >= threshold]
    inputs = {m.name: [c for c in strong if c in m.inputs] for m in ctx.run.study.models}
    out = {m: StandIns(inputs.get(m, [])) for m in ctx.order}
    shap = ctx.run.explanations
    used = sorted({c for cols in inputs.values() for c in cols})
    if shap is None or not used:
        return out
    part = shap[shap["feature"].isin(used)]
    part = part[[m in inputs and f in inputs[m] for m, f in zip(part["model"], part["feature"],
                                                                 strict=True)]]
    per_citizen = part.groupby(["model", "citizen_id"], observed=True)["shap"].sum()
    ages = pd.read_parquet(ctx.run.run_dir / "population.parquet",
                           columns=["citizen_id", column]).set_index("citizen_id")[column]
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
