"""SHAP explanations for every family, all on one scale: the log-odds of default.

``explain(model, X, background)`` picks the exact explainer where one exists and a
budgeted, model-agnostic one only where none does:

===========================  ==========================================================
family / class                method
===========================  ==========================================================
expert (Suining, Sesame)      ``additive (exact)``: Platt slope x rule points, centred
logit scorecard               ``linear (exact)``: coef x WoE per variable, centred
trees (LightGBM, forest)      ``tree-shap (exact)``: LightGBM's ``pred_contrib``
ExpertBoostHybrid             ``tree-shap (exact) + rules fold``: ``pred_contrib``, the
                              ``expert_points`` share folded back onto the rule columns
StackingHybrid                ``stacking (...)``: the meta-learner's coefficients times
                              each base model's own explanation (SHAP is linear)
EnsembleSelectionHybrid       ``ensemble (...)``: the selection weights times each
                              member's own explanation (the ensemble averages log-odds)
neural, Yim-Mitchell          ``deep-shap (DeepLIFT rescale over B background rows)``:
                              the network read layer by layer (:mod:`.network`); fast,
                              deterministic and exactly additive, an approximation of
                              the interventional Shapley values
anything else                 ``permutation (budget N evals x B background rows)``:
                              antithetic permutation sampling over an Independent masker
                              on ``background`` (shap's PermutationExplainer estimator)
===========================  ==========================================================

The agnostic explainer: shap's ``PermutationExplainer`` (``engine="shap"``) calls the
model once per permutation per citizen; on the MLP that was ~0.5 citizens/s, almost all
of it per-call overhead of the sklearn pipeline. ``engine="batched"`` (the default) runs
the same estimator (random orders, forward and backward passes, interventional value
function over the background) with many citizens per model call (~12 citizens/s), and
scores the additive stages of the hybrids by exact table look-up (:class:`_Separable`).
The two engines agree up to sampling noise (tests/explain).

Sign convention everywhere: a positive value means the feature *raised* the log-odds of
default (more risk, a lower score) relative to the base value.

What the base value is (and hence what "relative to" means):

* additive models (rules, logit): ``f(x) = c + sum_j g_j(x_j)``. With the interventional
  value function ``v(S) = E_b[f(x_S, b_~S)]`` over the background rows ``b``, the
  Shapley value of column ``j`` is exactly ``g_j(x_j) - mean_b g_j(b_j)`` and the base is
  ``mean_b f(b)``. (Checked against brute-force coalition enumeration in the tests.)
* trees: ``pred_contrib`` is TreeSHAP with the *tree-path-dependent* value function
  (expectations weighted by the training rows' cover in each tree), so its base is the
  training-data expectation of the raw score and ``background`` is not used. These are
  the exact Shapley values of that value function (also checked by brute force).
* stacking: each base model's own value function (its explainer above), weighted by the
  meta-learner's coefficients; the sum is additive, but it mixes the path-dependent value
  function of a tree base with the interventional one of the other bases.
* agnostic: the interventional value function over ``background`` (Independent masker),
  estimated by antithetic permutation sampling. Every sampled permutation telescopes
  from ``f(background)`` to ``f(x)``, so additivity is exact even though the values are
  estimates; ``max_evals`` bounds the number of masked evaluations per citizen (each one
  is ``len(background)`` model rows).

``ExpertBoostHybrid`` (points split). The booster sees the raw features plus
``P(x) = start + sum_r p_r(x_r)``, the expert's points, which are additive in the rule
columns. TreeSHAP gives ``phi_P`` to the points column. With the centred rule points
``c_r = p_r(x_r) - mean_b p_r(b_r)`` and ``S = sum_r c_r = P(x) - mean_b P(b)``, the
share of rule column ``r`` is ``w_r = c_r / S`` (a rule's share of the deviation of the
citizen's points from the average citizen's: the "rescale" rule of DeepLIFT/DeepSHAP for
a linear layer, so a rule that pushed the points up and one that pushed them down get
opposite signs). When the deviations nearly cancel (``|S| < 0.25 * sum_r |c_r|``) that
ratio is unstable and ``w_r = |c_r| / sum_r |c_r|`` is used instead; when every ``c_r``
is 0, ``w_r = 1 / R``. Additivity: in every case ``sum_r w_r = 1``, so
``sum_r w_r * phi_P = phi_P``, and adding ``w_r * phi_P`` to column ``r`` leaves
``base + sum(values)`` unchanged: it still equals the model output exactly. (This holds
even when the points are clipped, e.g. a Sesame expert; only the faithfulness of the
split, not additivity, relies on the points being linear.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from scorelab.core.numeric import logit
from scorelab.explain.network import NETWORK_METHOD, explain_network, onto_columns

__all__ = ["EXACT_KINDS", "FAST_KINDS", "SCALE", "Explanation", "background_sample",
           "explain", "explainer_kind", "is_exact", "is_fast", "log_odds", "members"]

#: The scale of every SHAP value, base value and output produced here.
SCALE = "log-odds of default"
#: Explainer kinds that are exact and cheap (one pass); the others sample with a budget.
EXACT_KINDS = frozenset({"additive", "linear", "tree", "expert_boost"})
#: Kinds that are cheap (one pass, deterministic) though not exact Shapley values.
FAST_KINDS = EXACT_KINDS | {"network"}
#: What a fitted model must have for the explainer its class declares (``explainer``):
#: a model without it (e.g. a hybrid of a component that cannot be opened) is
#: explained by the agnostic explainer instead.
_NEEDS = {"additive": "log_odds_contributions", "linear": "contributions",
          "tree": "pred_contrib", "expert_boost": "pred_contrib", "stacking": "meta_",
          "ensemble": "weights_", "network": "network_", "shifted": "thresholds_"}

_CANCEL = 0.25  # below this |S| / sum|c| the points split falls back to |c| shares
ADDITIVE = ("additive", "linear")


@dataclass
class Explanation:
    """SHAP values of ``n`` citizens on the log-odds-of-default scale.

    ``values[i, j]`` is the contribution of ``columns[j]`` to citizen ``i``'s log-odds
    (positive = more risk); ``base + values.sum(1) == output`` (see
    :meth:`additivity_error`).
    """

    values: np.ndarray
    base: np.ndarray
    output: np.ndarray
    columns: list[str]
    method: str
    scale: str = SCALE
    index: pd.Index | None = field(default=None, repr=False)

    def additivity_error(self) -> float:
        """``max |base + values.sum(1) - output|`` (0 for an empty explanation)."""
        if self.output.size == 0:
            return 0.0
        return float(np.max(np.abs(self.base + self.values.sum(axis=1) - self.output)))

    def frame(self) -> pd.DataFrame:
        """The values as a DataFrame (rows: X's index; columns: ``columns``)."""
        return pd.DataFrame(self.values, columns=self.columns, index=self.index)

    def __len__(self) -> int:
        return int(self.values.shape[0])


# --------------------------------------------------------------------------- helpers


def log_odds(model: Any, X: pd.DataFrame) -> np.ndarray:
    """The model's log-odds of default: ``decision_function`` or the logit of P(default)."""
    from scorelab.models.hybrid import log_odds_of

    return np.asarray(log_odds_of(model, X), dtype=float)


def background_sample(X: pd.DataFrame, size: int, seed: int = 0) -> pd.DataFrame:
    """``size`` rows of ``X`` drawn without replacement (all of them if fewer)."""
    if len(X) <= size:
        return X
    rng = np.random.default_rng(seed)
    return X.iloc[np.sort(rng.choice(len(X), size=size, replace=False))]


def explainer_kind(model: Any) -> str:
    """Which explainer :func:`explain` uses: the one the model's family declares
    (additive, linear, tree, expert_boost, stacking, ensemble, network, shifted), else
    agnostic."""
    kind = getattr(model, "explainer", "agnostic")
    needs = _NEEDS.get(kind)
    if needs is None or not hasattr(model, needs):
        return "agnostic"
    first = getattr(model, "first_stage_", None)  # a network fed an additive model's log-odds
    if kind == "network" and first is not None and explainer_kind(first) not in ADDITIVE:
        return "agnostic"
    return kind


def members(model: Any) -> list[Any]:
    """The fitted models a model's explanation is made of (stacking, ensemble, the base
    of a threshold variant)."""
    kind = explainer_kind(model)
    if kind == "shifted":
        return [model.base_]
    return list(model.estimators_) if kind in ("stacking", "ensemble") else []


def is_fast(model: Any) -> bool:
    """Whether :func:`explain` reads ``model`` in one deterministic pass (no sampling)."""
    parts = members(model)
    return all(map(is_fast, parts)) if parts else explainer_kind(model) in FAST_KINDS


def is_exact(model: Any) -> bool:
    """Whether :func:`explain` gives ``model``'s exact Shapley decomposition."""
    parts = members(model)
    return all(map(is_exact, parts)) if parts else explainer_kind(model) in EXACT_KINDS


def _as_columns(X: pd.DataFrame) -> list[str]:
    return [str(c) for c in X.columns]


def _check_inputs(X: Any, background: Any) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"explain: X must be a pandas DataFrame; got {type(X).__name__}")
    if background is not None:
        if not isinstance(background, pd.DataFrame):
            raise TypeError("explain: background must be a pandas DataFrame; got "
                            f"{type(background).__name__}")
        if list(background.columns) != list(X.columns):
            raise ValueError("explain: background must have the columns of X, in order; got "
                             f"{list(background.columns)} vs {list(X.columns)}")
        if len(background) == 0:
            raise ValueError("explain: background has no rows")
    return X, background


# --------------------------------------------------------------------------- exact: additive


def _centred_additive(contrib_x: pd.DataFrame, contrib_bg: pd.DataFrame, X: pd.DataFrame,
                      output: np.ndarray, method: str) -> Explanation:
    """Shapley values of ``intercept + sum_j g_j(x_j)`` against a background (exact)."""
    columns = _as_columns(X)
    values = np.zeros((len(X), len(columns)))
    base_value = float(contrib_bg["intercept"].iloc[0]) if len(contrib_bg) else 0.0
    pos = {c: j for j, c in enumerate(columns)}
    for name in contrib_x.columns:
        if name == "intercept":
            continue
        g_x = contrib_x[name].to_numpy(dtype=float)
        mean_bg = float(contrib_bg[name].to_numpy(dtype=float).mean())
        base_value += mean_bg
        if str(name) not in pos:
            raise ValueError(f"explain: the model's term {name!r} is not a column of X")
        values[:, pos[str(name)]] += g_x - mean_bg
    base = np.full(len(X), base_value)
    return Explanation(values, base, output, columns, method, index=X.index)


def _explain_additive(model: Any, X: pd.DataFrame, background: pd.DataFrame
                      ) -> Explanation:
    cx = model.log_odds_contributions(X)
    cb = model.log_odds_contributions(background)
    return _centred_additive(cx, cb, X, np.asarray(model.decision_function(X), dtype=float),
                             "additive (exact)")


def _explain_linear(model: Any, X: pd.DataFrame, background: pd.DataFrame) -> Explanation:
    cx = model.contributions(X)
    cb = model.contributions(background)
    # decision_function is the row sum of contributions: reuse it instead of recomputing
    output = cx.sum(axis=1).to_numpy(dtype=float)
    return _centred_additive(cx, cb, X, output, "linear (exact)")


# --------------------------------------------------------------------------- exact: trees


def _explain_tree(model: Any, X: pd.DataFrame) -> Explanation:
    contrib = np.asarray(model.pred_contrib(X), dtype=float)
    # TreeSHAP is exactly additive: the row sums are the raw output (decision_function up
    # to rounding), so a second pass over the trees is not needed; the run checks the
    # output against the out-of-fold score
    output = contrib.sum(axis=1)
    return Explanation(contrib[:, :-1].copy(), contrib[:, -1].copy(), output, _as_columns(X),
                       "tree-shap (exact)", index=X.index)


def points_split_weights(centred: np.ndarray) -> np.ndarray:
    """Shares ``w`` (rows sum to 1) of each rule in a citizen's points deviation.

    ``centred`` is (n, R): each rule's points minus its background mean. See the module
    docstring for the three cases; every row of the result sums to 1.
    """
    c = np.asarray(centred, dtype=float)
    n, r = c.shape
    if r == 0:
        return c
    total = c.sum(axis=1, keepdims=True)
    absolute = np.abs(c).sum(axis=1, keepdims=True)
    weights = np.full((n, r), 1.0 / r)
    signed = np.abs(total) >= _CANCEL * absolute
    signed &= absolute > 0
    fallback = (~signed) & (absolute > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        weights = np.where(signed, c / np.where(total == 0, 1.0, total), weights)
        weights = np.where(fallback, np.abs(c) / np.where(absolute == 0, 1.0, absolute),
                           weights)
    return weights


def _explain_expert_boost(model: Any, X: pd.DataFrame, background: pd.DataFrame
                          ) -> Explanation:
    contrib = np.asarray(model.pred_contrib(X), dtype=float)
    output = np.asarray(model.decision_function(X), dtype=float)
    columns = _as_columns(X)
    k = len(columns)
    values, phi_points, base = contrib[:, :k].copy(), contrib[:, k], contrib[:, -1].copy()
    expert = model.expert_
    if not hasattr(expert, "contributions"):  # an expert we cannot open: keep the column
        values = np.column_stack([values, phi_points])
        return Explanation(values, base, output, columns + [str(model.points_column_)],
                           "tree-shap (exact)", index=X.index)
    frame_x = model._validate_predict(X)
    frame_b = model._validate_predict(background)
    px = expert.contributions(frame_x)
    pb = expert.contributions(frame_b)
    rules = [str(c) for c in px.columns]
    centred = px.to_numpy(dtype=float) - pb.to_numpy(dtype=float).mean(axis=0)
    weights = points_split_weights(centred)
    pos = {c: j for j, c in enumerate(columns)}
    for r, name in enumerate(rules):
        values[:, pos[name]] += weights[:, r] * phi_points
    return Explanation(values, base, output, columns,
                       "tree-shap (exact) + rules fold", index=X.index)


# --------------------------------------------------------------------------- networks


def _explain_network(model: Any, X: pd.DataFrame, background: pd.DataFrame) -> Explanation:
    values, base, output = explain_network(model, X, background)
    return Explanation(values, np.full(len(X), base), output, _as_columns(X),
                       NETWORK_METHOD.format(n=len(background)), index=X.index)


def _explain_shifted(model: Any, X: pd.DataFrame, background: pd.DataFrame, max_evals: int,
                     seed: int, engine: str) -> Explanation:
    """A threshold variant: its log-odds are the base model's plus a shift set by the
    sensitive column's band, so its explanation is the base's (on the base's own inputs,
    summed onto their columns) with the shift, centred on the background, given to the
    sensitive column; the base value takes the background's mean shift. Additive term
    by term; exact where the base's explainer is."""
    import warnings

    with warnings.catch_warnings():  # the base was fitted on an array (fairlearn's input)
        warnings.filterwarnings("ignore", message="X has feature names", category=UserWarning)
        sub = explain(model.base_, model.base_inputs(X), model.base_inputs(background),
                      max_evals=max_evals, seed=seed, engine=engine)
    columns = _as_columns(X)
    values = onto_columns(sub.values, model.base_input_columns(), columns)
    shift, shift_b = model.group_shift(X), model.group_shift(background)
    values[:, columns.index(model.sensitive_column())] += shift - shift_b.mean()
    return Explanation(values, sub.base + shift_b.mean(), sub.output + shift, columns,
                       f"shifted ({sub.method} + the sensitive band's threshold shift)",
                       index=X.index)


# --------------------------------------------------------------------------- agnostic


class _Codec:
    """Numeric codes for shap's masker, and back: categories survive the masking.

    Numeric columns pass through as floats; categorical columns (category, object,
    string or bool dtype) become their category codes (NaN for missing) and are decoded
    back to the same dtype before the model sees them.
    """

    def __init__(self, X: pd.DataFrame, background: pd.DataFrame) -> None:
        from scorelab.models.base import categorical_columns

        self.columns = list(X.columns)
        self.categories: dict[Any, pd.Index] = {}
        self.is_category: dict[Any, bool] = {}
        for col in categorical_columns(X):
            if isinstance(X[col].dtype, pd.CategoricalDtype):
                cats = X[col].cat.categories
                extra = pd.Index(pd.unique(background[col].dropna())).difference(cats)
                cats = cats.append(extra) if len(extra) else cats
                self.is_category[col] = True
            else:
                seen = pd.concat([X[col], background[col]]).dropna().unique()
                cats = pd.Index(sorted(seen, key=str))
                self.is_category[col] = False
            self.categories[col] = cats

    def encode(self, frame: pd.DataFrame) -> np.ndarray:
        out = np.empty((len(frame), len(self.columns)), dtype=float)
        for j, col in enumerate(self.columns):
            s = frame[col]
            if col in self.categories:
                codes = self.categories[col].get_indexer(s.astype(object).where(s.notna(),
                                                                                 None))
                out[:, j] = np.where(codes < 0, np.nan, codes)
            else:
                out[:, j] = pd.to_numeric(s).to_numpy(dtype=float, na_value=np.nan)
        return out

    def decode(self, arr: np.ndarray) -> pd.DataFrame:
        data: dict[Any, Any] = {}
        for j, col in enumerate(self.columns):
            v = arr[:, j]
            if col in self.categories:
                codes = np.where(np.isnan(v), -1, v).astype(np.int64)
                cat = pd.Categorical.from_codes(codes, categories=self.categories[col])
                data[col] = cat if self.is_category[col] else np.asarray(cat, dtype=object)
            else:
                data[col] = v
        return pd.DataFrame(data, columns=self.columns, copy=False)


def _permutation_values(f: Callable[[np.ndarray], np.ndarray], codes_x: np.ndarray,
                        codes_b: np.ndarray, n_perm: int, seed: int, f_x: np.ndarray,
                        chunk_rows: int = 200_000, row_keys: np.ndarray | None = None
                        ) -> tuple[np.ndarray, float]:
    """Antithetic permutation SHAP (shap's PermutationExplainer estimator), batched.

    For each citizen and each of ``n_perm`` random orders of the ``k`` columns, the
    forward pass switches the columns from background to the citizen's values one by one,
    the backward pass switches them back in the same order; a column's value is the mean
    of its ``2 * n_perm`` marginal changes of ``v(S) = mean_b f(x_S, b_~S)``. The empty
    and full coalitions are the same for every order, so each order costs ``2 (k - 1)``
    coalitions x ``len(codes_b)`` model rows; many citizens share one model call.
    Returns the values (n, k) and the base value ``mean_b f(b)``.

    Each citizen's orders are drawn from its own generator, seeded by ``(seed, key)``
    with ``key`` its row key (default: its position), so a citizen's values do not depend
    on which other citizens are explained with it: an on-demand explanation of one
    citizen equals the study's.
    """
    n, k = codes_x.shape
    keys = np.arange(n) if row_keys is None else np.asarray(row_keys, dtype=np.int64)
    nb = len(codes_b)
    base = float(np.mean(f(codes_b)))
    values = np.zeros((n, k))
    if k == 1:
        values[:, 0] = f_x - base
        return values, base
    per_citizen = n_perm * 2 * (k - 1) * nb
    step = max(1, chunk_rows // per_citizen)
    for start in range(0, n, step):
        stop = min(n, start + step)
        c = stop - start
        draws = np.stack([np.random.default_rng([seed, int(key) & 0x7FFFFFFFFFFFFFFF])
                          .random((n_perm, k)) for key in keys[start:stop]])
        order = np.argsort(draws, axis=-1)  # a random order per pass
        # rank[i, p, j] = position of column j in order (i, p)
        rank = np.argsort(order, axis=-1)
        # forward coalition t (t = 0..k-2): the first t + 1 columns of the order;
        # backward coalition t: the columns after them (the order, switched back)
        fwd = rank[:, :, None, :] <= np.arange(k - 1)[None, None, :, None]
        bwd = ~fwd
        masks = np.stack([fwd, bwd], axis=2)  # (c, p, 2, k-1, k)
        x = codes_x[start:stop]
        rows = np.where(masks[..., None, :], x[:, None, None, None, None, :],
                        codes_b[None, None, None, None, :, :])  # (c, p, 2, k-1, nb, k)
        out = f(rows.reshape(-1, k)).reshape(c, n_perm, 2, k - 1, nb).mean(axis=-1)
        fx = f_x[start:stop][:, None]
        # forward states: base, out_fwd[0..k-2], f(x); the change at step t goes to order[t]
        states = np.concatenate([np.full((c, n_perm, 1), base), out[:, :, 0],
                                 np.broadcast_to(fx[:, :, None], (c, n_perm, 1))], axis=2)
        gain_f = np.diff(states, axis=2)  # (c, p, k): column order[:, :, t]
        # backward states: f(x), out_bwd[0..k-2], base; removing order[t] loses the change
        states_b = np.concatenate([np.broadcast_to(fx[:, :, None], (c, n_perm, 1)),
                                   out[:, :, 1], np.full((c, n_perm, 1), base)], axis=2)
        gain_b = -np.diff(states_b, axis=2)
        total = np.zeros((c, k))
        idx = np.arange(c)[:, None]
        for p in range(n_perm):
            np.add.at(total, (idx, order[:, p]), gain_f[:, p] + gain_b[:, p])
        values[start:stop] = total / (2 * n_perm)
    return values, base


class _Separable:
    """An additive model ``c + sum_j g_j(x_j)`` evaluated by table look-up (exact).

    Masked rows only ever hold values that occur in the explained rows or in the
    background, so each ``g_j`` is computed once per distinct value (one call of the
    model's own contributions) and masked rows are scored by ``searchsorted``: the same
    numbers as the model, without its per-call overhead (optbinning's transform is the
    slowest step of the hybrids that contain a scorecard).
    """

    def __init__(self, model: Any, codec: _Codec, codes: np.ndarray) -> None:
        self.uniques = [np.unique(codes[:, j]) for j in range(codes.shape[1])]
        size = max(len(u) for u in self.uniques)
        grid = np.column_stack([np.concatenate([u, np.full(size - len(u), u[-1])])
                                for u in self.uniques])
        frame = codec.decode(grid)
        contrib = (model.log_odds_contributions(frame) if explainer_kind(model) == "additive"
                   else model.contributions(frame))
        self.intercept = float(contrib["intercept"].iloc[0])
        names = [str(c) for c in codec.columns]
        self.tables: list[tuple[int, np.ndarray]] = []
        for name in contrib.columns:
            if name == "intercept":
                continue
            j = names.index(str(name))
            self.tables.append((j, contrib[name].to_numpy(dtype=float)[:len(self.uniques[j])]))

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        total = np.full(len(rows), self.intercept)
        for j, table in self.tables:
            total += table[np.searchsorted(self.uniques[j], rows[:, j])]
        return total


def _fast_log_odds(model: Any, codec: _Codec, codes: np.ndarray
                   ) -> Callable[[np.ndarray], np.ndarray]:
    """The model's log-odds as a function of coded rows, with exact shortcuts.

    Additive models (rules, scorecards) use :class:`_Separable`; the Yim-Mitchell and
    stacking hybrids reuse it for their additive stages and call their other stages
    directly; everything else decodes the rows and calls the model.
    """
    from scorelab.models.hybrid import StackingHybrid, YimMitchellHybrid

    if explainer_kind(model) in ("additive", "linear"):
        return _Separable(model, codec, codes)
    if isinstance(model, YimMitchellHybrid) and hasattr(model, "network_"):
        first = _fast_log_odds(model.first_stage_, codec, codes)
        column = model.first_stage_column_

        def yim(rows: np.ndarray) -> np.ndarray:
            aug = codec.decode(rows).assign(**{column: first(rows)})
            return logit(model.network_.predict_proba(aug)[:, 1])
        return yim
    if isinstance(model, StackingHybrid) and hasattr(model, "meta_"):
        bases = [_fast_log_odds(est, codec, codes) for est in model.estimators_]

        def stack(rows: np.ndarray) -> np.ndarray:
            z = np.column_stack([b(rows) for b in bases])
            return np.asarray(model.meta_.decision_function(z), dtype=float)
        return stack
    return lambda rows: log_odds(model, codec.decode(rows))


def _explain_agnostic(model: Any, X: pd.DataFrame, background: pd.DataFrame, max_evals: int,
                      seed: int, engine: str = "batched") -> Explanation:
    columns = _as_columns(X)
    output = log_odds(model, X)
    k = len(columns)
    needed = 2 * k + 1
    if max_evals < needed:
        raise ValueError(f"explain: max_evals={max_evals} is below one permutation of "
                         f"{k} features (2 * {k} + 1 = {needed} evaluations)")
    n_perm = int(max_evals) // needed
    codec = _Codec(X, background)
    codes_x = codec.encode(X)
    codes_b = codec.encode(background)

    fast = _fast_log_odds(model, codec, np.vstack([codes_x, codes_b]))
    check = min(len(X), 64)  # the shortcut must reproduce the model: else do without it
    if not np.allclose(fast(codes_x[:check]), output[:check], rtol=1e-7, atol=1e-7):
        fast = lambda rows: log_odds(model, codec.decode(rows))  # noqa: E731

    def masked(arr: np.ndarray) -> np.ndarray:
        return fast(np.asarray(arr, dtype=float))

    method = f"permutation (budget {n_perm * needed} evals x {len(codes_b)} background rows)"
    if engine == "batched":
        keys = (X.index.to_numpy() if pd.api.types.is_integer_dtype(X.index)
                else np.arange(len(X)))
        values, base_value = _permutation_values(masked, codes_x, codes_b, n_perm, seed,
                                                 output, row_keys=keys)
        return Explanation(values, np.full(len(X), base_value), output, columns, method,
                           index=X.index)
    if engine != "shap":
        raise ValueError(f"explain: engine must be 'batched' or 'shap'; got {engine!r}")
    import warnings

    with warnings.catch_warnings():
        # importing shap imports matplotlib, which warns about its own future API changes
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        import shap

    masker = shap.maskers.Independent(codes_b, max_samples=len(codes_b))
    state = np.random.get_state()  # shap seeds numpy's global generator: restore it after
    try:
        explainer = shap.PermutationExplainer(masked, masker, seed=seed)
        result = explainer(codes_x, max_evals=int(max_evals), silent=True)
    finally:
        np.random.set_state(state)
    values = np.asarray(result.values, dtype=float).reshape(len(X), k)
    base = np.asarray(result.base_values, dtype=float).reshape(len(X))
    return Explanation(values, base, output, columns, method + " [shap]", index=X.index)


def _explain_stacking(model: Any, X: pd.DataFrame, background: pd.DataFrame, max_evals: int,
                      seed: int, engine: str) -> Explanation:
    """Stacking: the meta-learner is linear in the bases' log-odds, and SHAP is linear in
    the explained function, so the explanation is ``sum_m beta_m * explain(base_m)`` (each
    base by its own explainer: exact where one exists) and the base value is
    ``meta intercept + sum_m beta_m * base_m``. Additivity holds term by term."""
    frame = model._validate_predict(X)
    frame_b = model._validate_predict(background)
    coef = np.ravel(model.meta_.coef_).astype(float)
    values = np.zeros((len(X), X.shape[1]))
    base = np.full(len(X), float(np.ravel(model.meta_.intercept_)[0]))
    parts = []
    for beta, name, est in zip(coef, model.names_, model.estimators_, strict=True):
        sub = explain(est, frame, frame_b, max_evals=max_evals, seed=seed, engine=engine)
        values += beta * sub.values
        base += beta * sub.base
        parts.append(f"{beta:.2f} x {name}: {sub.method}")
    output = np.asarray(model.decision_function(X), dtype=float)
    return Explanation(values, base, output, _as_columns(X),
                       "stacking (" + "; ".join(parts) + ")", index=X.index)


def _explain_ensemble(model: Any, X: pd.DataFrame, background: pd.DataFrame, max_evals: int,
                      seed: int, engine: str) -> Explanation:
    """Ensemble selection: its log-odds are ``a + b * sum_m w_m * z_m`` (weights summing
    to 1), so on the log-odds scale its SHAP values are ``b * sum_m w_m * phi_m`` and its
    base ``a + b * sum_m w_m * base_m``, each member by its own explainer; additive term
    by term."""
    frame = model._validate_predict(X)
    frame_b = model._validate_predict(background)
    a, b = model.calibration_
    values = np.zeros((len(X), X.shape[1]))
    base = np.full(len(X), a)
    parts = []
    for weight, member, est in zip(model.weights_, model.members_, model.estimators_,
                                   strict=True):
        sub = explain(est, frame, frame_b, max_evals=max_evals, seed=seed, engine=engine)
        values += b * weight * sub.values
        base += b * weight * sub.base
        parts.append(f"{weight:.2f} x {member['candidate']}: {sub.method}")
    output = np.asarray(model.decision_function(X), dtype=float)
    return Explanation(values, base, output, _as_columns(X),
                       "ensemble (" + "; ".join(parts) + ")", index=X.index)


# --------------------------------------------------------------------------- entry point


def explain(model: Any, X: pd.DataFrame, background: pd.DataFrame | None = None, *,
            max_evals: int = 500, seed: int = 0, engine: str = "batched") -> Explanation:
    """SHAP values of a fitted family for the rows of ``X``, in log-odds of default.

    ``background`` (rows from the model's training data) defines the reference citizen
    of the additive and agnostic explainers; the tree explainers use the training cover
    stored in the trees and ignore it. ``max_evals`` is the agnostic explainer's budget
    of masked evaluations per citizen; ``seed`` makes it reproducible.
    """
    X, background = _check_inputs(X, background)
    kind = explainer_kind(model)
    if kind != "tree" and background is None:
        raise ValueError(f"explain: the {kind} explainer needs a background sample")
    if len(X) == 0:
        cols = _as_columns(X)
        empty = np.zeros(0)
        return Explanation(np.zeros((0, len(cols))), empty, empty, cols, kind, index=X.index)
    if kind == "additive":
        return _explain_additive(model, X, background)
    if kind == "linear":
        return _explain_linear(model, X, background)
    if kind == "tree":
        return _explain_tree(model, X)
    if kind == "expert_boost":
        return _explain_expert_boost(model, X, background)
    if kind == "network":
        return _explain_network(model, X, background)
    if kind == "shifted":
        return _explain_shifted(model, X, background, max_evals, seed, engine)
    if kind == "stacking":
        return _explain_stacking(model, X, background, max_evals, seed, engine)
    if kind == "ensemble":
        return _explain_ensemble(model, X, background, max_evals, seed, engine)
    return _explain_agnostic(model, X, background, max_evals, seed, engine)
