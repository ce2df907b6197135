"""Recourse: the smallest change of actionable inputs that turns a decline, or a proof
that there is none.

The search space is stated, not open-ended: the actionable inputs (never immutable or
barred ones), each over a grid of its population's own values (percentiles of a number,
every category), moved only the way the reason catalogue allows (``direction``: debt
can only go down, income only up), and combinations of up to three of them. A change's
size is its distance in the population: moving a number from its ``a``-th to its
``b``-th percentile costs ``|b - a|`` (0-1, whatever the unit), a new category or a value
where none was recorded costs 1. Fewer inputs come first, then the cheaper change:

* one input, every grid value (the fine grid);
* two inputs: every pair of actionable inputs on the fine grid where the model is
  additive, else a beam: each applicant's ``BEAM`` best single moves, extended by every
  other input on the coarse grid;
* three inputs: every triple on the coarse grid where the model is additive (exact,
  by table: a change's effect is its terms' difference), else the ``BEAM`` best pairs
  extended by a third input.

Each applicant ends in one of three states. **found**: the cheapest change found lifts
the score to the cut-off (checked by the model itself). **none**: proven without
recourse, because an upper bound says no change within the actionable ranges reaches the
cut-off; an additive model's bound is its score with every actionable input at the best
term any citizen of the population attains among the values the catalogue lets it move
to (a superset of the search space). **undecided**:
nothing found within three inputs and no proof; ``best_score`` says how close the
searched space came.

All candidate rows of all applicants are scored in a few batched calls; the Python loops
run over inputs and combinations of inputs, never over applicants.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from scorelab.core.numeric import sigmoid
from scorelab.core.scale import ScoreScale
from scorelab.explain.adverse import additive_terms

__all__ = ["BEAM", "FOUND", "MAX_INPUTS", "NONE", "UNDECIDED", "AdditiveScore",
           "Counterfactuals", "Grid", "additive_score", "counterfactuals", "search_grid"]

FINE = np.array([0.0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98,
                 1.0])
COARSE = np.array([0.0, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 1.0])
CHUNK_ROWS = 200_000
BEAM = 5  # partial changes per applicant carried to the next depth (non-additive models)
MAX_INPUTS = 3
FOUND, NONE, UNDECIDED = "found", "none", "undecided"


@dataclass
class Grid:
    """Candidate values of one input and the population values that price a change."""

    fine: np.ndarray
    coarse: np.ndarray
    reference: np.ndarray | None  # sorted population values (numbers); None: categorical
    categories: pd.Index | None = None
    direction: str | None = None  # "up" | "down": the only way the value may move


def search_grid(population: pd.DataFrame, columns: Sequence[str],
                directions: dict[str, str | None] | None = None) -> dict[str, Grid]:
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
                               np.unique(np.quantile(ref, COARSE, method="inverted_cdf")), ref,
                               direction=(directions or {}).get(str(col)))
    return grids


def _cost(grid: Grid, old: np.ndarray, new: np.ndarray) -> np.ndarray:
    """Price of moving each ``old`` value to ``new`` (see the module docstring); NaN
    where the catalogue's direction forbids the move, 0 where nothing moves."""
    if grid.reference is None:
        return np.where(np.asarray(old, dtype=object) == new, 0.0, 1.0)
    ref = grid.reference

    def rank(v: np.ndarray) -> np.ndarray:
        return (np.searchsorted(ref, v, "left") + np.searchsorted(ref, v, "right")) / (
            2.0 * ref.size)

    o = np.asarray(old, dtype=float)
    n = np.asarray(new, dtype=float)
    cost = np.where(np.isnan(o), 1.0, np.abs(rank(n) - rank(o)))
    cost = np.where(~np.isnan(o) & (n == o), 0.0, cost)
    if grid.direction == "down":
        cost = np.where(~np.isnan(o) & (n > o), np.nan, cost)
    elif grid.direction == "up":
        cost = np.where(~np.isnan(o) & (n < o), np.nan, cost)
    return cost


@dataclass
class AdditiveScore:
    """An additive model's score by table: its log-odds-of-default term per input
    (``terms``, columns of X) and ``intercept``, and its points of a log-odds
    (``points``). ``population`` (the model's inputs of every citizen) gives the values
    the bound may move an input to."""

    terms: Callable[[pd.DataFrame], np.ndarray]
    intercept: float
    points: Callable[[np.ndarray], np.ndarray]
    population: pd.DataFrame

    def log_odds(self, terms: np.ndarray) -> np.ndarray:
        return self.intercept + terms.sum(axis=1)

    @cached_property
    def population_terms(self) -> np.ndarray:
        """Every citizen's terms (once: the bound reads them for each input)."""
        return self.terms(self.population)

    def best_terms(self, X: pd.DataFrame, now_terms: np.ndarray, col: str,
                   direction: str | None) -> np.ndarray:
        """Each row's best (lowest) term of ``col`` over the population's values it may
        move to (its own included): all of them, or only those above / below it.
        ``now_terms``: the rows' terms, as ``terms(X)`` gives them."""
        j = list(map(str, self.population.columns)).index(col)
        values = self.population[col]
        terms = self.population_terms[:, j]
        now = now_terms[:, j]
        numeric = pd.api.types.is_numeric_dtype(values) and \
            not isinstance(values.dtype, pd.CategoricalDtype)
        if direction is None or not numeric:
            return np.minimum(now, terms.min())
        v = values.to_numpy(dtype=float)
        keep = ~np.isnan(v)
        order = np.argsort(v[keep], kind="stable")
        v, t = v[keep][order], terms[keep][order]
        x = X[col].to_numpy(dtype=float, na_value=np.nan)
        if direction == "down":  # values at or below x: prefix minima
            best = np.minimum.accumulate(t)
            at = np.searchsorted(v, x, "right") - 1
        else:  # values at or above x: suffix minima
            best = np.minimum.accumulate(t[::-1])[::-1]
            at = np.searchsorted(v, x, "left")
        inside = (at >= 0) & (at < v.size)
        reach = np.where(inside, best[np.clip(at, 0, v.size - 1)], np.inf)
        reach = np.where(np.isnan(x), t.min(), reach)  # no value on record: any value
        return np.minimum(now, reach)


def additive_score(model: Any, population: pd.DataFrame, scale: ScoreScale
                   ) -> AdditiveScore:
    """The table of an additive model (rules, scorecard, EBM); ``population`` is the
    model's input columns of every citizen (the bound's range)."""
    contrib = (model.log_odds_contributions(population.iloc[:1])
               if hasattr(model, "log_odds_contributions")
               else model.contributions(population.iloc[:1]))
    return AdditiveScore(lambda frame: additive_terms(model, frame),
                         float(contrib["intercept"].iloc[0]),
                         lambda log_odds: scale.points(sigmoid(log_odds)), population)


@dataclass
class Counterfactuals:
    """Per applicant: the state (found / none / undecided), the change found (up to
    three inputs: ``columns[:, t]`` set to ``values[:, t]``, None when unused), its cost
    and the score it gives; the best score reached in the searched space; and the upper
    bound of the score over the actionable ranges (additive models; NaN otherwise)."""

    status: np.ndarray
    columns: np.ndarray  # (n, 3) object
    values: np.ndarray  # (n, 3) object
    cost: np.ndarray
    new_score: np.ndarray
    best_score: np.ndarray
    bound: np.ndarray

    @property
    def found(self) -> np.ndarray:
        return self.status == FOUND


def _candidates(X: pd.DataFrame, who: np.ndarray, changes: Sequence[tuple[str, np.ndarray]]
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


@dataclass
class _Moves:
    """Candidate changes of many applicants: owner, cost and up to three (input, value)."""

    owner: np.ndarray
    cost: np.ndarray
    columns: np.ndarray  # (rows, depth) object
    values: np.ndarray  # (rows, depth) object

    @staticmethod
    def concat(parts: list[_Moves], depth: int) -> _Moves:
        if not parts:
            empty = np.empty((0, depth), dtype=object)
            return _Moves(np.empty(0, dtype=int), np.empty(0), empty, empty.copy())
        return _Moves(np.concatenate([p.owner for p in parts]),
                      np.concatenate([p.cost for p in parts]),
                      np.concatenate([p.columns for p in parts]),
                      np.concatenate([p.values for p in parts]))

    def take(self, rows: np.ndarray) -> _Moves:
        return _Moves(self.owner[rows], self.cost[rows], self.columns[rows],
                      self.values[rows])

    def frame(self, X: pd.DataFrame) -> pd.DataFrame:
        """The candidate rows (the owners' inputs with the moves applied)."""
        frame = X.iloc[self.owner].reset_index(drop=True)
        for t in range(self.columns.shape[1]):
            for col in pd.unique(self.columns[:, t]):
                sel = self.columns[:, t] == col
                if col is None or not sel.any():
                    continue
                moved = _candidates(X, self.owner[sel], [(col, self.values[sel, t])])
                frame.loc[np.flatnonzero(sel), col] = moved[col].to_numpy()
        return frame


def _extend(X: pd.DataFrame, base: _Moves, col: str, grid: Grid, values: np.ndarray
            ) -> _Moves:
    """Every move of ``base`` (rows not moving ``col`` yet) extended by ``col`` set to
    each of ``values``; forbidden or empty moves are left out."""
    fresh = np.flatnonzero((base.columns != col).all(axis=1))
    base = base.take(fresh)
    k = values.size
    rows = np.repeat(np.arange(base.owner.size), k)
    new = np.tile(values, base.owner.size)
    step = _cost(grid, _values(X, col, grid)[base.owner[rows]], new)
    keep = np.isfinite(step) & (step > 0)
    rows, new, step = rows[keep], new[keep], step[keep]
    columns = np.column_stack([base.columns[rows], np.full(rows.size, col, dtype=object)])
    moved = np.column_stack([base.values[rows], new.astype(object)])
    return _Moves(base.owner[rows], base.cost[rows] + step, columns, moved)


def _root(n: int) -> _Moves:
    """No move yet, one row per applicant."""
    return _Moves(np.arange(n), np.zeros(n), np.empty((n, 0), dtype=object),
                  np.empty((n, 0), dtype=object))


def _cheapest(owner: np.ndarray, cost: np.ndarray, ok: np.ndarray, n: int) -> np.ndarray:
    """Position of each owner's cheapest passing candidate (-1: none), vectorised."""
    best = np.full(n, -1)
    pos = np.flatnonzero(ok)
    if pos.size:
        order = pos[np.lexsort((cost[pos], owner[pos]))]
        first = np.r_[True, owner[order][1:] != owner[order][:-1]]
        best[owner[order][first]] = order[first]
    return best


def _top(owner: np.ndarray, score: np.ndarray, n: int, k: int) -> np.ndarray:
    """Positions of each owner's ``k`` best-scoring candidates."""
    order = np.lexsort((-score, owner))
    start = np.searchsorted(owner[order], np.arange(n))
    rank = np.arange(order.size) - start[owner[order]]
    return order[rank < k]


class _Search:
    """One search over many applicants: records the winners and the best scores."""

    def __init__(self, X: pd.DataFrame, points_of: Callable[[pd.DataFrame], np.ndarray],
                 cutoff: np.ndarray) -> None:
        n = len(X)
        self.X, self.points_of, self.cutoff = X, points_of, cutoff
        self.out = Counterfactuals(np.full(n, UNDECIDED, dtype=object),
                                   np.full((n, MAX_INPUTS), None, dtype=object),
                                   np.full((n, MAX_INPUTS), None, dtype=object),
                                   np.full(n, np.nan), np.full(n, np.nan),
                                   np.full(n, -np.inf), np.full(n, np.nan))

    def score(self, moves: _Moves) -> np.ndarray:
        frame = moves.frame(self.X)
        if not len(frame):
            return np.empty(0)
        return np.concatenate([self.points_of(frame.iloc[s:s + CHUNK_ROWS])
                               for s in range(0, len(frame), CHUNK_ROWS)])

    def settle(self, moves: _Moves, points: np.ndarray) -> None:
        """Each open applicant's cheapest passing move becomes their change."""
        n = len(self.X)
        np.maximum.at(self.out.best_score, moves.owner, points)
        open_ = self.out.status[moves.owner] == UNDECIDED
        best = _cheapest(moves.owner, moves.cost, open_ & (points >= self.cutoff[moves.owner]),
                         n)
        won = np.flatnonzero(best >= 0)
        depth = moves.columns.shape[1]
        self.out.status[won] = FOUND
        self.out.columns[won, :depth] = moves.columns[best[won]]
        self.out.values[won, :depth] = moves.values[best[won]]
        self.out.cost[won] = moves.cost[best[won]]
        self.out.new_score[won] = points[best[won]]

    def open(self) -> np.ndarray:
        return self.out.status == UNDECIDED


def _beam(search: _Search, grids: dict[str, Grid], usable: list[str]) -> None:
    """Singles on the fine grid, then the best partial moves extended one input at a
    time on the coarse grid (non-additive models)."""
    X, n = search.X, len(search.X)
    frontier = _root(n)
    for depth in range(1, MAX_INPUTS + 1):
        values = "fine" if depth == 1 else "coarse"
        moves = _Moves.concat([_extend(X, frontier, c, grids[c], getattr(grids[c], values))
                               for c in usable], depth)
        points = search.score(moves)
        search.settle(moves, points)
        still = search.open()[moves.owner]
        if depth == MAX_INPUTS or not still.any():
            return
        moves, points = moves.take(np.flatnonzero(still)), points[still]
        frontier = moves.take(_top(moves.owner, points, n, BEAM))


def _additive(search: _Search, grids: dict[str, Grid], usable: list[str],
              additive: AdditiveScore, now: np.ndarray) -> None:
    """Every single, pair (fine grid) and triple (coarse grid) of moves, scored by table:
    a move's effect is its term's difference, so no combination is left out. ``now``:
    the rows' terms (``additive.terms(search.X)``)."""
    X, n = search.X, len(search.X)
    columns = [str(c) for c in X.columns]
    need = additive.log_odds(now) - _cutoff_log_odds(additive, search.cutoff)
    options: dict[tuple[str, str], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    # every grid value's term, in one call of the model's table (a call per column and
    # grid cost the search more than all its arithmetic)
    keys = [(col, which) for which in ("fine", "coarse") for col in usable]
    probes = [_candidates(X, np.zeros(getattr(grids[col], which).size, dtype=int),
                          [(col, getattr(grids[col], which))]) for col, which in keys]
    terms = additive.terms(pd.concat(probes, ignore_index=True)) if probes else now[:0]
    offsets = np.cumsum([0] + [len(p) for p in probes])
    probe_terms = {key: terms[offsets[i]:offsets[i + 1], columns.index(key[0])]
                   for i, key in enumerate(keys)}

    def table(col: str, which: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(values, cost (n, v): NaN where not a move, gain in log-odds (n, v))."""
        if (col, which) not in options:
            grid = grids[col]
            values = getattr(grid, which)
            term = probe_terms[(col, which)]
            cost = _cost(grid, np.repeat(_values(X, col, grid), values.size),
                         np.tile(values, n)).reshape(n, values.size)
            options[(col, which)] = (values, np.where(cost > 0, cost, np.nan),
                                     now[:, [columns.index(col)]] - term[None, :])
        return options[(col, which)]

    for size, which in ((1, "fine"), (2, "fine"), (3, "coarse")):
        open_ = np.flatnonzero(search.open())
        if not open_.size:
            return
        best_cost = np.full(open_.size, np.inf)
        best_gain = np.full(open_.size, -np.inf)
        picks: dict[int, list[tuple[str, object]]] = {}
        for combo in combinations(usable, size):
            parts = [table(c, which) for c in combo]
            cost = np.zeros((open_.size,) + (1,) * size)
            gain = np.zeros_like(cost)
            for axis, (_, c, g) in enumerate(parts):
                shape = [open_.size] + [1] * size
                shape[axis + 1] = c.shape[1]
                cost = cost + c[open_].reshape(shape)
                gain = gain + g[open_].reshape(shape)
            cost = cost.reshape(open_.size, -1)
            reach = np.where(np.isnan(cost), -np.inf, gain.reshape(open_.size, -1))
            best_gain = np.maximum(best_gain, reach.max(axis=1))
            priced = np.where(reach >= need[open_, None] - 1e-12, cost, np.inf)
            priced = np.where(np.isnan(priced), np.inf, priced)
            at = priced.argmin(axis=1)
            cheapest = priced[np.arange(open_.size), at]
            for i in np.flatnonzero(cheapest < best_cost):  # over winners, not applicants
                best_cost[i] = cheapest[i]
                idx = np.unravel_index(at[i], [c.shape[1] for _, c, _ in parts])
                picks[i] = [(col, parts[t][0][idx[t]]) for t, col in enumerate(combo)]
        reached = additive.points(additive.log_odds(now[open_])
                                  - np.where(np.isfinite(best_gain), best_gain, 0.0))
        search.out.best_score[open_] = np.maximum(search.out.best_score[open_], reached)
        won = sorted(picks)
        if won:
            moves = _Moves(open_[won], best_cost[won],
                           np.array([[c for c, _ in picks[i]] for i in won], dtype=object),
                           np.array([[v for _, v in picks[i]] for i in won], dtype=object))
            search.settle(moves, search.score(moves))


def _values(X: pd.DataFrame, col: str, grid: Grid) -> np.ndarray:
    """A column's current values as the grid compares them (objects or floats)."""
    if grid.reference is None:
        return X[col].astype(object).to_numpy()
    return X[col].to_numpy(dtype=float, na_value=np.nan)


def _cutoff_log_odds(additive: AdditiveScore, cutoff: np.ndarray) -> np.ndarray:
    """The highest log-odds of default whose points reach ``cutoff`` (bisection on the
    scale, which is monotone: more risk, fewer points)."""
    low, high = np.full(cutoff.shape, -50.0), np.full(cutoff.shape, 50.0)
    for _ in range(80):
        mid = (low + high) / 2
        ok = additive.points(mid) >= cutoff
        low, high = np.where(ok, mid, low), np.where(ok, high, mid)
    return low


def counterfactuals(points_of: Callable[[pd.DataFrame], np.ndarray], X: pd.DataFrame,
                    cutoff: float | np.ndarray, actionable: Sequence[str],
                    grids: dict[str, Grid], additive: AdditiveScore | None = None
                    ) -> Counterfactuals:
    """The smallest change of actionable inputs that lifts each row of ``X`` to
    ``cutoff`` (one score, or one per row), its state and, for an additive model, the
    bound that proves the rest have none (see the module docstring).

    ``points_of`` scores a frame (the model that declined the rows); ``additive`` makes
    the search exhaustive by table and gives the bound.
    """
    n = len(X)
    cut = np.broadcast_to(np.asarray(cutoff, dtype=float), (n,)).copy()
    search = _Search(X, points_of, cut)
    usable = [c for c in actionable if c in grids and c in X.columns]
    if n == 0:
        return search.out
    if additive is None:
        _beam(search, grids, usable)
        return search.out
    terms = additive.terms(X)
    _additive(search, grids, usable, additive, terms)
    columns = list(map(str, X.columns))
    room = sum((terms[:, columns.index(c)]
                - additive.best_terms(X, terms, c, grids[c].direction) for c in usable),
               np.zeros(n))
    search.out.bound = additive.points(additive.log_odds(terms) - room)
    proven = search.open() & (search.out.bound < cut)
    search.out.status[proven] = NONE
    return search.out
