"""From probability of default to points to category, and the paper's society scale.

A :class:`ScoreScale` turns a probability of default ``p`` into points with the usual
scorecard scaling: with ``odds = (1 - p) / p`` (good:bad) and ``factor = pdo / ln 2``,

    points = base_score + factor * (ln(odds) - ln(base_odds)),

so ``base_odds`` earns ``base_score`` and every doubling of the odds adds ``pdo``
points. ``p`` is clipped to ``[P_MIN, 1 - P_MIN]`` first and the points to
``[low, high]`` after. Points map to a category by bands of lower bounds.

Two presets:

* ``sesame`` (Sesame Credit style): 350-950; 350-549 poor, 550-599 fair, 600-649 good,
  650-699 very good, 700-950 excellent; pdo 50, 600 points at good:bad odds 4:1
  (a 20 % probability of default).
* ``suining`` (Suining county style): every citizen starts at 1,000 points and can lose
  them (down to 0) or earn bonus points (up to 1,100); A >= 960, B 850-959, C 600-849,
  D <= 599. Defaults: 1,000 points at odds 30:1 (p about 3.2 %, a clean record) and
  pdo 80, so A means p below about 4.5 %, B about 4.5-10.9 %, C about 10.9-51.6 %
  and D above about 51.6 % (400 points = 5 doublings of the odds: 600 points at
  odds 30/32). On the default synthetic population (20 % default rate) this puts
  about 26 % of citizens in A, 21 % in B, 42 % in C and 11 % in D.

The society scale (the paper's table 1) classifies a population by its share of
citizens with a credit score of at least 600 (see :func:`society_class`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from scorelab.core.numeric import logit, sigmoid
from scorelab.exceptions import DataError

__all__ = [
    "P_MIN",
    "PRESETS",
    "SESAME",
    "SOCIETY_CLASSES",
    "SOCIETY_EQUAL_HIGH",
    "SOCIETY_EQUAL_LOW",
    "SOCIETY_HIGH",
    "SOCIETY_LOW",
    "SUINING",
    "ScoreScale",
    "preset",
    "scale_from_config",
    "society_class",
    "society_scale",
]

#: Probabilities are clipped to [P_MIN, 1 - P_MIN] before taking odds.
P_MIN = 1e-6


@dataclass(frozen=True)
class ScoreScale:
    """Probability of default -> points -> category.

    ``bands`` are ``(lower_bound, label)`` pairs in increasing order of bound; a score
    belongs to the band with the largest lower bound not above it (scores below the
    first bound belong to the first band).
    """

    pdo: float
    base_score: float
    base_odds: float
    low: float
    high: float
    bands: tuple[tuple[float, str], ...]
    name: str = "custom"

    def __post_init__(self) -> None:
        for field in ("pdo", "base_score", "base_odds", "low", "high"):
            value = getattr(self, field)
            try:
                number = float(value)
            except (TypeError, ValueError):
                number = math.nan
            if isinstance(value, bool) or not math.isfinite(number):
                raise DataError(f"ScoreScale.{field} must be a finite number, got {value!r}.")
            object.__setattr__(self, field, number)
        if self.pdo <= 0:
            raise DataError(f"ScoreScale.pdo must be positive, got {self.pdo}.")
        if self.base_odds <= 0:
            raise DataError(f"ScoreScale.base_odds must be positive, got {self.base_odds}.")
        if not self.low < self.high:
            raise DataError(f"ScoreScale needs low < high, got {self.low} and {self.high}.")
        bands = tuple((float(b), str(label)) for b, label in self.bands)
        if not bands:
            raise DataError("ScoreScale.bands is empty: give at least one (bound, label).")
        bounds = [b for b, _ in bands]
        if any(b2 <= b1 for b1, b2 in zip(bounds, bounds[1:], strict=False)):
            raise DataError(f"ScoreScale.bands bounds must increase strictly, got {bounds}.")
        object.__setattr__(self, "bands", bands)

    @property
    def factor(self) -> float:
        """Points per unit of log-odds: ``pdo / ln 2``."""
        return self.pdo / math.log(2.0)

    @property
    def labels(self) -> list[str]:
        """Category labels from the lowest band to the highest."""
        return [label for _, label in self.bands]

    def points(self, p_default: Any) -> np.ndarray:
        """Points for probabilities of default (higher points = safer), clipped to the range."""
        p = np.asarray(p_default, dtype=np.float64)
        if not np.isfinite(p).all() or (p < 0).any() or (p > 1).any():
            raise DataError("p_default must be probabilities in [0, 1] (no NaN).")
        log_odds = -logit(np.clip(p, P_MIN, 1.0 - P_MIN))
        raw = self.base_score + self.factor * (log_odds - math.log(self.base_odds))
        return np.clip(raw, self.low, self.high)

    def probability(self, points: Any) -> np.ndarray:
        """Probability of default for given points: the inverse of :meth:`points`
        before any clipping (so it is exact only inside the unclipped range)."""
        s = np.asarray(points, dtype=np.float64)
        if not np.isfinite(s).all():
            raise DataError("points must be finite numbers.")
        log_odds = math.log(self.base_odds) + (s - self.base_score) / self.factor
        return sigmoid(-log_odds)

    def category(self, points: Any) -> np.ndarray:
        """Category label of every score (an object array of band labels)."""
        s = np.asarray(points, dtype=np.float64)
        if not np.isfinite(s).all():
            raise DataError("points must be finite numbers.")
        bounds = np.array([b for b, _ in self.bands])
        labels = np.array(self.labels, dtype=object)
        idx = np.clip(np.searchsorted(bounds, s, side="right") - 1, 0, len(bounds) - 1)
        return labels[idx]

    def with_params(self, pdo: float | None = None, base_score: float | None = None,
                    base_odds: float | None = None) -> ScoreScale:
        """A copy with some scaling parameters replaced (None keeps the current value)."""
        changes = {k: float(v) for k, v in
                   (("pdo", pdo), ("base_score", base_score), ("base_odds", base_odds))
                   if v is not None}
        return dataclasses.replace(self, **changes)


SESAME = ScoreScale(
    pdo=50.0, base_score=600.0, base_odds=4.0, low=350.0, high=950.0,
    bands=((350.0, "poor"), (550.0, "fair"), (600.0, "good"), (650.0, "very good"),
           (700.0, "excellent")),
    name="sesame",
)

SUINING = ScoreScale(
    pdo=80.0, base_score=1000.0, base_odds=30.0, low=0.0, high=1100.0,
    bands=((0.0, "D"), (600.0, "C"), (850.0, "B"), (960.0, "A")),
    name="suining",
)

PRESETS: dict[str, ScoreScale] = {"sesame": SESAME, "suining": SUINING}


def preset(name: str) -> ScoreScale:
    """The preset scale called ``name`` ('sesame' or 'suining')."""
    try:
        return PRESETS[name]
    except KeyError:
        raise DataError(f"Unknown scale preset {name!r}; choose one of {sorted(PRESETS)}.") \
            from None


def scale_from_config(scale_cfg: Any) -> ScoreScale:
    """The scale a ``scorelab.config.Scale`` section asks for: its preset, with pdo,
    base_score and base_odds overridden where the config sets them (None = the
    preset's default)."""
    base = preset(getattr(scale_cfg, "preset", "sesame"))
    return base.with_params(pdo=getattr(scale_cfg, "pdo", None),
                            base_score=getattr(scale_cfg, "base_score", None),
                            base_odds=getattr(scale_cfg, "base_odds", None))


def decide(points: Any, rule: Any) -> tuple[np.ndarray, float]:
    """Approval under a decision rule (a ``scorelab.config.Decision`` section): a cut-off
    score, or the cut-off that approves a target share of ``points``.

    Returns the approval mask and the cut-off used, which a run stores per model so that
    new applicants are judged by the same cut-off as the study's citizens.
    """
    points = np.asarray(points, dtype=np.float64)
    if rule.target_approval_rate is not None:
        cutoff = float(np.quantile(points, 1.0 - rule.target_approval_rate))
    else:
        cutoff = float(rule.cutoff_score if rule.cutoff_score is not None else 600.0)
    return points >= cutoff, cutoff


def approve_share(points: Any, share: float, seed: int = 0) -> tuple[np.ndarray, float]:
    """Approve exactly ``round(share * n)`` citizens, the best scores first, so that
    models compared at a matched approval rate approve the same number even when their
    scores tie (the points systems'): tied citizens at the margin are ordered by a
    seeded random draw, which favours no group. Returns the mask and the lowest score
    approved."""
    points = np.asarray(points, dtype=np.float64)
    n_approved = int(round(share * points.size))
    tie_break = np.random.default_rng(seed).random(points.size)
    order = np.lexsort((tie_break, -points))
    approved = np.zeros(points.size, dtype=bool)
    approved[order[:n_approved]] = True
    return approved, float(points[order[n_approved - 1]]) if n_approved else float("inf")


# --------------------------------------------------------------------------- society scale

#: Share of citizens with a score of at least 600 from which a society is "++".
SOCIETY_HIGH = 0.9
#: Share at or below which a society is "--".
SOCIETY_LOW = 0.1
#: Shares in [SOCIETY_EQUAL_LOW, SOCIETY_EQUAL_HIGH] count as "about equal" ("+=-").
SOCIETY_EQUAL_LOW = 0.45
SOCIETY_EQUAL_HIGH = 0.55

#: The classes of the paper's table 1, from best to worst, with their descriptions.
SOCIETY_CLASSES: dict[str, str] = {
    "++": "a society of law-abiding citizens with high social credit",
    "+>-": "most citizens have a credit score above 600",
    "+=-": "about as many citizens above 600 as below",
    "+<-": "most citizens have a credit score below 600",
    "--": "a society of citizens with low social credit",
}


def society_class(share_above_600: float) -> str:
    """The paper's society class for a share of citizens scoring at least 600.

    ``++`` when share >= SOCIETY_HIGH (0.9); ``+>-`` when above SOCIETY_EQUAL_HIGH
    (0.55); ``+=-`` within [0.45, 0.55]; ``+<-`` when above SOCIETY_LOW (0.1); else
    ``--``.
    """
    try:
        share = float(share_above_600)
    except (TypeError, ValueError):
        raise DataError(f"share_above_600 must be a number, got {share_above_600!r}.") \
            from None
    if not 0.0 <= share <= 1.0:  # also rejects NaN
        raise DataError(f"share_above_600 must be in [0, 1], got {share_above_600!r}.")
    if share >= SOCIETY_HIGH:
        return "++"
    if share > SOCIETY_EQUAL_HIGH:
        return "+>-"
    if share >= SOCIETY_EQUAL_LOW:
        return "+=-"
    if share > SOCIETY_LOW:
        return "+<-"
    return "--"


def society_scale(points: Any, groups: pd.Series | Sequence[Any] | None = None,
                  threshold: float = 600.0) -> pd.DataFrame:
    """Society class of the whole population and of every group.

    A citizen counts as "above" when their score is at least ``threshold`` (600
    opens the "good" band of Sesame and band C of Suining). One row for the
    population (group "all") then one per group value (sorted, categorical groups in
    category order; missing group values only count in "all"), with columns group, n, share_above_<threshold>, class and
    class_description.
    """
    s = np.asarray(points, dtype=np.float64)
    if s.ndim != 1 or s.size == 0:
        raise DataError("points must be a non-empty one-dimensional array.")
    if not np.isfinite(s).all():
        raise DataError("points must be finite numbers.")
    share_col = f"share_above_{threshold:g}"
    above = s >= threshold
    parts: list[tuple[Any, np.ndarray]] = [("all", above)]
    if groups is not None:
        g = (groups.reset_index(drop=True) if isinstance(groups, pd.Series)
             else pd.Series(np.asarray(groups, dtype=object)))
        if g.size != s.size:
            raise DataError(f"Length mismatch: points has {s.size} citizens, "
                            f"groups has {g.size}.")
        # Categorical groups keep their category order (e.g. age bands); others sort.
        for value, idx in g.groupby(g, sort=True, observed=True, dropna=True).indices.items():
            parts.append((value, above[idx]))
    rows = []
    for value, flags in parts:
        share = float(flags.mean())
        cls = society_class(share)
        rows.append({"group": value, "n": int(flags.size), share_col: share, "class": cls,
                     "class_description": SOCIETY_CLASSES[cls]})
    return pd.DataFrame(rows, columns=["group", "n", share_col, "class", "class_description"])
