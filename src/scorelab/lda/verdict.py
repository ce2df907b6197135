"""The search's verdict: one rule, one bound, one decision per tolerance.

Every sentence the search says about an alternative (the console, ``lda/frontier.json``,
the ``decision_<tolerance>`` columns of ``lda/candidates.parquet``, the report) is made
here from the same numbers, so no two of them can disagree:

* the tolerance ``t``: the largest AUC loss against the reference that still serves the
  business need (the paired DeLong test, :func:`scorelab.lda.frontier.serves_need`);
* the bound: the chosen candidate's ``reduction_low``, the lower bound of its paired
  disparity reduction, simultaneous over every candidate the search trained (one-sided,
  level ``alpha``, Bonferroni over the ``k`` candidates: valid whichever one was picked
  and at whichever tolerance);
* the AUC loss: the chosen candidate's ``auc_loss`` against the reference;
* the truth check of the chosen candidate (a fresh population, or a table's held-out
  rows).

The decision:

* ``adopt``: the reduction is significant (bound > 0) and the truth check holds;
* ``consider``: one of the two supports it and the other does not (significant but not
  confirmed by the check, or confirmed by the check but not significant here);
* ``none``: no serving candidate lowers the disparity, or neither supports the one that
  does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np

from scorelab.config import ModelSpec
from scorelab.models.registry import DEFAULT_KIND

__all__ = ["DECISIONS", "Decision", "changes", "decision_column", "overall",
           "simultaneous_bounds", "verdict_of"]

Decision = Literal["adopt", "consider", "none"]
#: Best first: the overall verdict is the best decision reached at any tolerance.
DECISIONS: tuple[Decision, ...] = ("adopt", "consider", "none")


def decision_column(tolerance: float) -> str:
    """The column of ``candidates.parquet`` holding each tolerance's decision."""
    return f"decision_{tolerance:g}"


def simultaneous_bounds(reductions: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of each column of the bootstrap replicates ``reductions``
    (B, k), each one-sided at level ``alpha`` simultaneously over the ``k`` candidates
    (Bonferroni): the search looked at all of them before picking one."""
    k = max(int(reductions.shape[1]), 1)
    low, high = np.quantile(reductions, [alpha / k, 1.0 - alpha / k], axis=0)
    return low, high


def changes(spec: ModelSpec, reference: ModelSpec) -> list[str]:
    """What a candidate changed against the reference, in words (dropped inputs,
    protected inputs used, monotone constraints, family, parameters)."""
    out = []
    dropped = [c for c in spec.drop_features if c not in reference.drop_features]
    if dropped:
        out.append("dropped " + ", ".join(dropped))
    used = [c for c in spec.use_protected if c not in reference.use_protected]
    if used:
        out.append("uses the protected " + ", ".join(used) + " (fairness constraint)")
    params = dict(spec.params)
    mono = params.pop("monotone_constraints", None)
    if mono:
        out.append("monotone constraints " + ", ".join(
            f"{k} {'increasing' if v > 0 else 'decreasing'}" for k, v in mono.items()))
    kind = spec.kind or DEFAULT_KIND[spec.family]
    ref_kind = reference.kind or DEFAULT_KIND[reference.family]
    same_family = (spec.family, kind) == (reference.family, ref_kind)
    if not same_family:
        out.append(f"family {spec.family}/{kind} instead of {reference.family}/{ref_kind}")
    base = dict(reference.params) if same_family else {}
    changed = {k: v for k, v in sorted(params.items()) if base.get(k, object()) != v}
    if changed:
        out.append("parameters " + ", ".join(f"{k} = {v}" for k, v in changed.items()))
    return out or ["nothing but its training (same family, inputs and parameters)"]


def _truth_words(row: Mapping[str, Any], on: str, tolerance: float) -> str:
    """What the truth check found, with its numbers."""
    low, _ = row["reduction_interval"]
    text = (f"on {on} its reduction was {row['reduction']:+.3f} (lower bound {low:+.3f}) "
            f"and its AUC loss {row['auc_true_loss']:+.4f}")
    tests = {"reduction_holds": "the reduction is not significant",
             "accuracy_holds": f"the AUC loss is significantly above {tolerance:g}",
             "good_payers_hold": "the protected group's good payers are approved less often"}
    failed = [what for key, what in tests.items() if not row[key]]
    return text + (f" ({'; '.join(failed)})" if failed else "")


def verdict_of(tolerance: float, candidate: Mapping[str, Any] | None, reference: float,
           serving: int, trained: int, truth: Mapping[str, Any] | None = None,
           on: str = "the check") -> dict[str, Any]:
    """The decision at ``tolerance`` for the ``candidate`` row chosen there (None: no
    serving candidate lowers the disparity ``reference``), with its reason and numbers.

    ``truth`` is the candidate's row of the truth check, ``on`` what it was checked on.
    """
    out: dict[str, Any] = {"tolerance": tolerance, "candidate": None, "bound": None,
                           "auc_loss": None, "reduction": None, "truth_holds": None}
    if candidate is None:
        out.update(decision="none", reason=(
            f"no candidate within an AUC loss of {tolerance:g} ({serving} of {trained} "
            f"serve the need) has a lower |1 - AIR| than the reference's {reference:.3f}"))
        out["statement"] = f"At an AUC tolerance of {tolerance:g}: none; {out['reason']}."
        return out
    name, bound = str(candidate["candidate"]), float(candidate["reduction_low"])
    disparity, loss = float(candidate["disparity"]), float(candidate["auc_loss"])
    holds = None if truth is None else bool(truth["holds"])
    out.update(candidate=name, bound=bound, auc_loss=loss, truth_holds=holds,
               reduction=reference - disparity)
    measured = (f"{name} lowers |1 - AIR| from {reference:.3f} to {disparity:.3f} at an AUC "
                f"loss of {loss:+.4f}")
    significant = bound > 0
    bound_words = (f"the reduction's lower bound, simultaneous over the {trained} candidates "
                   f"trained, is {bound:+.4f}")
    checked = "" if truth is None else _truth_words(truth, on, tolerance)
    if significant and holds is not False:
        decision: Decision = "adopt"
        reason = f"{measured}; {bound_words} > 0" + (f", and {checked}" if checked else "")
    elif significant:
        decision = "consider"
        reason = (f"{measured}; {bound_words} > 0, but the check does not confirm it: "
                  f"{checked}")
    elif holds:
        decision = "consider"
        reason = (f"{measured}, but the reduction is not significant here ({bound_words} "
                  f"<= 0); the check supports it: {checked}")
    else:
        decision = "none"
        reason = (f"{measured}, but the reduction is not significant ({bound_words} "
                  "<= 0)"
                  + (f", and the check does not confirm it: {checked}" if checked else ""))
    out.update(decision=decision, reason=reason)
    out["statement"] = f"At an AUC tolerance of {tolerance:g}: {decision}; {reason}."
    return out


def overall(verdicts: list[Mapping[str, Any]]) -> dict[str, Any]:
    """The search's one verdict: the best decision reached at any tolerance, at the
    smallest tolerance that reaches it."""
    rank = {d: i for i, d in enumerate(DECISIONS)}
    best = min(verdicts, key=lambda v: (rank[v["decision"]], v["tolerance"]))
    return dict(best)
