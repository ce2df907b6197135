"""Counterfactuals: the smallest change of actionable inputs that turns a decline.

The search space is stated, not open-ended: every actionable input moved alone to each
value of a grid (population percentiles of a number, every category), then, for who is
still declined, pairs of the applicant's own actionable reasons on a coarser grid. A
change's size is its distance in the population: moving a number from its ``a``-th to its
``b``-th percentile costs ``|b - a|`` (0-1, whatever the unit), a new category or a value
where none was recorded costs 1. The cheapest change that lifts the score to the cut-off
wins; if none does, the applicant has no recourse within that space ("no actionable change
found"). Immutable inputs (age, history length) and barred inputs are never changed.

All candidate rows of all applicants are scored in a few batched model calls; the Python
loops run over inputs and pairs of inputs, never over applicants.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

__all__ = ["Counterfactuals", "Grid", "counterfactuals", "search_grid"]

FINE = np.array([0.0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98,
                 1.0])
COARSE = np.array([0.0, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 1.0])
CHUNK_ROWS = 200_000


@dataclass
class Grid:
    """Candidate values of one input and the population values that price a change."""

    fine: np.ndarray
    coarse: np.ndarray
    reference: np.ndarray | None  # sorted population values (numbers); None: categorical
    categories: pd.Index | None = None


def search_grid(population: pd.DataFrame, columns: Sequence[str]) -> dict[str, Grid]:
    """The candidate values of each input, from the population's own values."""
    grids = {}
    for col in columns:
        s = population[col]
        if isinstance(s.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(s):
            cats = (s.cat.categories if isinstance(s.dtype, pd.CategoricalDtype)
                    else pd.Index(sorted(s.dropna().unique(), key=str)))
            values = np.asarray(cats, dtype=object)
            grids[str(col)] = Grid(values, values, None, pd.Index(cats))
            continue
        ref = np.sort(s.dropna().to_numpy(dtype=float))
        if ref.size == 0:
            continue
        grids[str(col)] = Grid(np.unique(np.quantile(ref, FINE, method="inverted_cdf")),
                               np.unique(np.quantile(ref, COARSE, method="inverted_cdf")), ref)
    return grids


def _cost(grid: Grid, old: pd.Series, new: np.ndarray) -> np.ndarray:
    """Price of moving each ``old`` value to ``new`` (see the module docstring)."""
    if grid.reference is None:
        same = old.astype(object).to_numpy() == new
        return np.where(same, 0.0, 1.0)
    ref = grid.reference

    def rank(v: np.ndarray) -> np.ndarray:
        return (np.searchsorted(ref, v, "left") + np.searchsorted(ref, v, "right")) / (
            2.0 * ref.size)

    o = old.to_numpy(dtype=float, na_value=np.nan)
    return np.where(np.isnan(o), 1.0, np.abs(rank(new.astype(float)) - rank(o)))


@dataclass
class Counterfactuals:
    """Per applicant: the change found (up to two inputs: ``columns[:, t]`` set to
    ``values[:, t]``, None when unused), its cost and the score it would give; ``found``
    is False where no actionable change turns the decline."""

    found: np.ndarray
    columns: np.ndarray  # (n, 2) object
    values: np.ndarray  # (n, 2) object
    cost: np.ndarray
    new_score: np.ndarray


def _candidates(X: pd.DataFrame, who: np.ndarray, changes: list[tuple[str, np.ndarray]]
                ) -> pd.DataFrame:
    """Rows ``X.iloc[who]`` with each named column set to its value array."""
    frame = X.iloc[who].reset_index(drop=True)
    for col, values in changes:
        if isinstance(X[col].dtype, pd.CategoricalDtype):
            frame[col] = pd.Categorical(values, categories=X[col].cat.categories)
        elif pd.api.types.is_numeric_dtype(X[col]):
            frame[col] = values.astype(float)
        else:
            frame[col] = values
    return frame


class _Batch:
    """Candidate rows of many applicants, gathered in blocks and scored together."""

    def __init__(self, X: pd.DataFrame) -> None:
        self.X = X
        self.owner: list[np.ndarray] = []
        self.cost: list[np.ndarray] = []
        self.frames: list[pd.DataFrame] = []
        self.changes: list[np.ndarray] = []  # (rows, 4): column, value, column, value

    def add(self, who: np.ndarray, changes: list[tuple[str, np.ndarray]],
            cost: np.ndarray) -> None:
        keep = cost > 0
        who = who[keep]
        changes = [(col, new[keep]) for col, new in changes]
        block = np.full((who.size, 4), None, dtype=object)
        for t, (col, new) in enumerate(changes):
            block[:, 2 * t] = col
            block[:, 2 * t + 1] = new
        self.owner.append(who)
        self.cost.append(cost[keep])
        self.frames.append(_candidates(self.X, who, changes))
        self.changes.append(block)

    def resolve(self, points_of: Callable[[pd.DataFrame], np.ndarray],
                cutoff: float | np.ndarray,
                out: Counterfactuals) -> None:
        """Write each applicant's cheapest passing candidate into ``out``."""
        if not self.frames:
            return
        owner = np.concatenate(self.owner)
        cost = np.concatenate(self.cost)
        frame = pd.concat(self.frames, ignore_index=True)
        points = np.concatenate([points_of(frame.iloc[s:s + CHUNK_ROWS])
                                 for s in range(0, len(frame), CHUNK_ROWS)])
        bar = cutoff if np.ndim(cutoff) == 0 else np.asarray(cutoff)[owner]
        best = _best(owner, cost, points >= bar, len(out.found))
        won = np.flatnonzero(best >= 0)
        changes = np.concatenate(self.changes)[best[won]]
        out.found[won] = True
        out.columns[won] = changes[:, 0::2]
        out.values[won] = changes[:, 1::2]
        out.cost[won] = cost[best[won]]
        out.new_score[won] = points[best[won]]


def _best(owner: np.ndarray, cost: np.ndarray, ok: np.ndarray, n: int) -> np.ndarray:
    """Position of each owner's cheapest passing candidate (-1: none), vectorised."""
    best = np.full(n, -1)
    pos = np.flatnonzero(ok)
    if pos.size:
        order = pos[np.lexsort((cost[pos], owner[pos]))]
        first = np.r_[True, owner[order][1:] != owner[order][:-1]]
        best[owner[order][first]] = order[first]
    return best


def counterfactuals(points_of: Callable[[pd.DataFrame], np.ndarray], X: pd.DataFrame,
                    cutoff: float | np.ndarray, actionable: Sequence[str],
                    grids: dict[str, Grid], reasons: np.ndarray | None = None
                    ) -> Counterfactuals:
    """The cheapest change of actionable inputs that lifts each row of ``X`` to ``cutoff``
    (one score, or one per row).

    ``points_of`` scores a frame (the model that declined the rows); ``reasons`` (n, r)
    holds each row's reason columns as positions in ``X.columns`` (-1: none), whose
    actionable pairs are searched when no single change suffices.
    """
    n = len(X)
    out = Counterfactuals(np.zeros(n, dtype=bool), np.full((n, 2), None, dtype=object),
                          np.full((n, 2), None, dtype=object), np.full(n, np.nan),
                          np.full(n, np.nan))
    usable = [c for c in actionable if c in grids and c in X.columns]
    singles = _Batch(X)
    for col in usable:  # one input at a time
        g = grids[col].fine
        who = np.repeat(np.arange(n), g.size)
        new = np.tile(g, n)
        singles.add(who, [(col, new)], _cost(grids[col], X[col].iloc[who], new))
    singles.resolve(points_of, cutoff, out)
    if reasons is None or out.found.all():
        return out
    names = np.asarray([str(c) for c in X.columns] + [""], dtype=object)
    own = names[np.where(reasons >= 0, reasons, -1)]  # -1 -> "" (no reason)
    own = np.where(np.isin(own, usable), own, "")
    pairs = _Batch(X)
    for a, b in combinations(usable, 2):  # pairs of actionable inputs...
        members = np.flatnonzero(~out.found & (own == a).any(axis=1) & (own == b).any(axis=1))
        if not members.size:  # ...that are both reasons of someone still declined
            continue
        ga, gb = grids[a].coarse, grids[b].coarse
        va, vb = np.repeat(ga, gb.size), np.tile(gb, ga.size)
        who = np.repeat(members, va.size)
        new_a, new_b = np.tile(va, members.size), np.tile(vb, members.size)
        cost = (_cost(grids[a], X[a].iloc[who], new_a)
                + _cost(grids[b], X[b].iloc[who], new_b))
        pairs.add(who, [(a, new_a), (b, new_b)], cost)
    pairs.resolve(points_of, cutoff, out)
    return out
