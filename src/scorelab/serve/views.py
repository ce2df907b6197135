"""The run-wide views of the workbench: the cut-off explorer, the slicer and the decision
flips between two runs (or two models), all from the run's out-of-fold predictions.

Group metrics come from :mod:`scorelab.fairness.groups` (the audit's own kernel, with the
run's small-group suppression and four-fifths threshold), so a number here and the same
number in the report agree. Nothing is refitted and nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import yaml

from scorelab.config import Fairness
from scorelab.core.ages import age_bands
from scorelab.evaluate.costs import Costs, expected_cost
from scorelab.exceptions import DataError
from scorelab.fairness.groups import attribute_groups, disparities, group_metrics
from scorelab.runs.reader import RunData

__all__ = ["CutoffView", "Flips", "SliceView", "cutoff_view", "decision_flips",
           "proposal_yaml", "slice_view"]


def _first_repeat(run: RunData, model: str) -> pd.DataFrame:
    pred = run.predictions
    mine = pred[(pred["model"].astype(str) == model) & (pred["repeat"] == 0)]
    return mine.sort_values("citizen_id").reset_index(drop=True)


def _fairness(run: RunData, **update: Any) -> Fairness:
    return Fairness.model_validate({**run.config["fairness"], "bootstrap": 0, **update})


def _aligned(run: RunData, population: pd.DataFrame, model: str
             ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The model's first-repeat predictions and the citizens, in the same order."""
    pred = _first_repeat(run, model)
    frame = population.set_index("citizen_id", drop=False).loc[pred["citizen_id"]]
    return pred, frame.reset_index(drop=True)


@dataclass
class CutoffView:
    """A model's decisions at a proposed cut-off (one for all, or one per group)."""

    model: str
    cutoffs: dict[str, float]  # group -> cut-off ("*": everyone)
    attribute: str | None
    summary: dict[str, Any]
    groups: pd.DataFrame  # attribute, group, n, approval, ratio, eo_gap, suppressed
    run_cutoff: float
    age_specific: bool = False
    notes: list[str] = field(default_factory=list)


def cutoff_view(run: RunData, population: pd.DataFrame, model: str, cutoff: float,
                per_group: dict[str, float] | None = None, attribute: str | None = None
                ) -> CutoffView:
    """Approval, bad rate, expected cost and every audited group's approval ratio and
    equal-opportunity gap (good payers' approval rate against the reference group's)
    at ``cutoff``, or at ``per_group`` cut-offs of ``attribute``'s groups."""
    if not np.isfinite(cutoff):
        raise DataError(f"cutoff must be a number; got {cutoff!r}")
    pred, frame = _aligned(run, population, model)
    points = pred["score"].to_numpy(dtype=float)
    y = pred["defaulted"].to_numpy(dtype=np.int64)
    fairness = _fairness(run)
    groups = attribute_groups(frame, fairness, "age" if "age" in frame else None)
    names = [name for name, _ in groups]
    threshold = np.full(len(points), float(cutoff))
    cutoffs = {"*": float(cutoff)}
    if per_group:
        if attribute not in names:
            raise DataError(f"cut-offs per group: no audited attribute '{attribute}' "
                            f"(attributes: {', '.join(names)})")
        labels = dict(groups)[attribute]
        known = [str(c) for c in labels.cat.categories]
        for group, value in per_group.items():
            if group not in known:
                raise DataError(f"cut-offs per group: '{attribute}' has no group '{group}' "
                                f"(groups: {', '.join(known)})")
            threshold[(labels.astype(str) == group).to_numpy()] = float(value)
            cutoffs[group] = float(value)
    approved = points >= threshold
    table = group_metrics(y, None, pred["p_default"].to_numpy(dtype=float), points, approved,
                          frame, fairness, groups=groups)
    costs_cfg = (run.config.get("decision") or {}).get("costs")
    cost = (expected_cost(y, approved, Costs(float(costs_cfg["false_accept"]),
                                             float(costs_cfg["false_reject"])))
            if costs_cfg else None)
    summary = {"n": len(y), "approval": float(approved.mean()),
               "bad_rate": float(y[approved].mean()) if approved.any() else float("nan"),
               "expected_cost": cost,
               "approved": int(approved.sum())}
    rows = []
    for (attr, group), part in table.groupby(["attribute", "group"], sort=False):
        values = part.set_index("metric")
        approval = values.at["approval_rate", "value"]
        ratio = values.at["approval_rate", "ratio"]
        # good payers' approval is 1 - fpr (positive = default, predicted = rejected):
        # its gap to the reference group is minus the fpr difference
        eo_gap = 0.0 - float(values.at["fpr", "difference"])
        rows.append({"attribute": attr, "group": group, "n": int(values.at["approval_rate",
                                                                          "n"]),
                     "approval": approval, "ratio": ratio,
                     "eo_gap": eo_gap,
                     "reference": values.at["approval_rate", "reference_group"],
                     "suppressed": bool(values.at["approval_rate", "suppressed"])})
    out = pd.DataFrame(rows)
    verdicts = disparities(table, fairness.four_fifths)
    failing = verdicts[verdicts["four_fifths_verdict"] == "fail"]["attribute"].tolist()
    view = CutoffView(model, cutoffs, attribute if per_group else None, summary, out,
                      float(run.metrics["models"][model]["decision"]["cutoff_score"]),
                      age_specific=bool(per_group) and str(attribute).startswith("age"))
    view.summary["failing"] = failing
    if cost is None:
        view.notes.append("expected cost: the run has no decision.costs")
    return view


def proposal_yaml(run: RunData, view: CutoffView) -> str:
    """The proposal as a commented YAML snippet (it never changes the run)."""
    head = [f"# cut-off proposal for model {view.model} of run {run.manifest.get('run_id')}",
            "# made in scorelab serve from the run's out-of-fold predictions; the run is "
            + "unchanged",
            f"# approval {view.summary['approval']:.3f}, bad rate {view.summary['bad_rate']:.3f}"]
    body: dict[str, Any] = {"decision": {"rule": "cutoff", "cutoff_score": view.cutoffs["*"]}}
    if view.attribute:
        head.append("# WARNING: group-specific cut-offs may be disparate treatment "
                    "(on age: ECOA / Regulation B)")
        body["proposal"] = {"model": view.model, "attribute": view.attribute,
                            "cutoffs": {g: v for g, v in view.cutoffs.items() if g != "*"}}
    return "\n".join(head) + "\n" + yaml.safe_dump(body, sort_keys=False)


@dataclass
class SliceView:
    """Group metrics of one model for a combination of audited attributes."""

    model: str
    attributes: list[str]
    table: pd.DataFrame
    verdict: dict[str, Any] | None
    n_groups: int
    n_suppressed: int
    min_group_size: int


SLICE_METRICS = ("approval_rate", "tpr", "fpr", "auc", "default_rate", "mean_score")


def slice_view(run: RunData, population: pd.DataFrame, model: str,
               attributes: list[str]) -> SliceView:
    """Fairness metrics of ``model`` for the groups of ``attributes`` jointly (one
    attribute: its groups), with the run's suppression of small groups."""
    fairness = _fairness(run)
    allowed = list(dict.fromkeys([*fairness.attributes,
                                  *[a for inter in fairness.intersections for a in inter]]))
    if not attributes:
        raise DataError(f"slicer: choose at least one attribute (audited: "
                        f"{', '.join(allowed)})")
    for a in attributes:
        if a not in allowed or a not in population.columns:
            raise DataError(f"slicer: '{a}' is not an audited attribute of this run "
                            f"(audited: {', '.join(allowed)})")
    chosen = list(dict.fromkeys(attributes))
    cfg = _fairness(run, attributes=chosen if len(chosen) == 1 else [],
                    intersections=[chosen] if len(chosen) > 1 else [])
    pred, frame = _aligned(run, population, model)
    table = group_metrics(pred["defaulted"].to_numpy(dtype=np.int64), None,
                          pred["p_default"].to_numpy(dtype=float),
                          pred["score"].to_numpy(dtype=float),
                          pred["approved"].to_numpy(dtype=bool), frame, cfg,
                          age_column="age" if "age" in frame else None)
    wide = table[table["metric"].isin(SLICE_METRICS)].pivot_table(
        index=["group"], columns="metric", values="value", sort=False, dropna=False)
    sizes = table[table["metric"] == "approval_rate"].set_index("group")
    wide = wide.reindex(sizes.index)
    wide.insert(0, "n", sizes["n"].astype(int))
    wide["ratio"] = sizes["ratio"]
    wide["suppressed"] = sizes["suppressed"].astype(bool)
    verdicts = disparities(table, cfg.four_fifths)
    verdict = verdicts.iloc[0].to_dict() if len(verdicts) else None
    return SliceView(model, chosen, wide.reset_index(), verdict, len(wide),
                     int(wide["suppressed"].sum()), cfg.min_group_size)


@dataclass
class Flips:
    """Citizens whose decision differs between two models (of one run or two runs)."""

    same_data: bool
    n: int
    table: pd.DataFrame  # citizen_id, age, band, score_a, score_b, approved_a, approved_b
    by_band: pd.DataFrame  # band, n, newly declined, newly approved
    note: str = ""


def decision_flips(a: RunData, model_a: str, b: RunData, model_b: str,
                   population: pd.DataFrame, limit: int = 500) -> Flips:
    """The citizens one model approves and the other declines, by age band."""
    same = a.manifest.get("data_fingerprint") == b.manifest.get("data_fingerprint")
    if not same:
        return Flips(False, 0, pd.DataFrame(), pd.DataFrame(),
                     "the runs are on different data (data fingerprints differ): their "
                     "citizens cannot be matched, so no decision flips are listed")
    pa_, pb_ = _first_repeat(a, model_a), _first_repeat(b, model_b)
    both = pa_[["citizen_id", "score", "approved"]].merge(
        pb_[["citizen_id", "score", "approved"]], on="citizen_id", suffixes=("_a", "_b"))
    moved = both[both["approved_a"] != both["approved_b"]].copy()
    edges = _fairness(a).age_bands
    if "age" in population.columns:
        ages = population.set_index("citizen_id")["age"]
        moved["age"] = ages.reindex(moved["citizen_id"]).to_numpy()
        moved["band"] = np.asarray(age_bands(moved["age"], edges).astype(str))
    else:
        moved["age"] = np.nan
        moved["band"] = "no age"
    moved["change"] = np.where(moved["approved_a"], "newly declined", "newly approved")
    counts = (moved.groupby(["band", "change"]).size().unstack(fill_value=0)
              if len(moved) else pd.DataFrame())
    for column in ("newly declined", "newly approved"):
        if column not in counts:
            counts[column] = 0
    counts = counts[["newly declined", "newly approved"]].reset_index() if len(moved) \
        else pd.DataFrame(columns=["band", "newly declined", "newly approved"])
    note = (f"the first {limit} of {len(moved):,} are listed" if len(moved) > limit else "")
    return Flips(True, len(moved), moved.head(limit), counts, note)
