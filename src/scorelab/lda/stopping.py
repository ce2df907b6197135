"""When to stop searching: a distribution-free bound on what more search could find.

After the search has drawn ``n`` candidates uniformly at random from its space, let
``Q_i`` be candidate i's disparity ``|1 - AIR|`` if it serves the business need at the
tolerance (see :mod:`scorelab.lda.frontier`) and the reference's disparity otherwise (a
candidate that does not serve the need improves nothing), and let ``b`` be the best
(smallest) value so far, never above the reference's. With ``F`` the distribution of
``Q`` over the space and ``F_n`` its empirical distribution, the one-sided
Dvoretzky-Kiefer-Wolfowitz inequality (Massart's constant) gives
``P(sup_t F(t) - F_n(t) > e) <= exp(-2 n e^2)``. Since ``F_n(t) = 0`` below ``b``,
``F(t) <= e`` there, so a further batch of ``m`` candidates improves on ``b`` by, in
expectation, ``E[(b - min of m draws)+] = int_0^b P(min < t) dt <= b (1 - (1 - e)^m)``.

The guarantee, as the report states it: with probability at least ``confidence``, at
every check of the search at once (check ``k`` spends ``(1 - confidence) 6 / (pi^2
k^2)`` of the error probability, a union bound), the expected further reduction of the
best serving candidate's measured disparity that one more batch of ``m`` candidates from
the same space would bring is at most the bound. It is a statement about the space
searched and the disparity measured out of fold on this population (the truth check
looks at the true population); it treats the draws as independent (the search draws
without repeats from a finite space, which only removes candidates already seen) and it
says nothing of models outside the space.

How this relates to Hays, Laufer, Barocas and Raghavan, "Statistical guarantees in the
search for less discriminatory algorithms" (arXiv 2512.23943, 2025; ICLR 2026). They
frame the search as optimal stopping: models are drawn from a randomised training
procedure, ``Q`` in [0, 1] is a model's disparate impact, ``U_t`` the *true* ``Q`` of the
model that is best *as measured on a test set* after t draws, and the developer stops
once a high-probability upper bound on ``E[U_t - U_{t+1} | measured]``, the expected gain
of one more model, falls below ``gamma`` (the cost of a model over the value of a unit
of disparity). Their adaptive algorithm (their Algorithm 1, Theorem 3.5) and the tighter
variants under distributional assumptions could not be read in full from the sources
available here, so they are not reproduced. What scorelab's bound shares with theirs: an
upper bound, holding with stated probability, on the expected reduction one more draw
would bring, computed from the draws alone without assumptions on their distribution,
valid at every check of a sequentially stopped search. How it differs, precisely:

* it bounds the gain in *measured* (out-of-fold) disparity, not in the true disparity of
  the measured-best model: the noise of the measurement is handled apart, by the
  simultaneous bound of each choice's reduction (:mod:`scorelab.lda.verdict`) and, on
  a synthetic population, by the truth check on a fresh population;
* one more *batch* of ``m`` candidates, not one more model (their setting is ``m = 1``);
* the draws are from a finite space of configurations (families, grids, dropped
  proxies, constraints, seeds), uniformly without repeats, not only from retraining
  with new seeds, and a candidate that does not serve the business need counts as the
  reference's disparity;
* the error probability is spread over the checks by a union bound (check ``k`` spends
  ``(1 - confidence) 6 / (pi^2 k^2)``), not by an anytime-valid confidence sequence.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["check_error", "remaining_gain_bound"]


def check_error(check: int, confidence: float) -> float:
    """The error probability spent at check ``check`` (1, 2, ...); they sum to at most
    ``1 - confidence`` over every check."""
    return (1.0 - confidence) * 6.0 / (math.pi**2 * check**2)


def remaining_gain_bound(values: np.ndarray, reference: float, batch: int, check: int,
                         confidence: float) -> float:
    """The bound above for the ``values`` Q_i seen so far (NaN-free), one more batch of
    ``batch`` candidates, at check number ``check``."""
    values = np.asarray(values, dtype=float)
    n = values.size
    if n == 0:
        return float(reference)
    best = min(float(reference), float(values.min()))
    eps = min(1.0, math.sqrt(math.log(1.0 / check_error(check, confidence)) / (2.0 * n)))
    return best * (1.0 - (1.0 - eps) ** batch)
