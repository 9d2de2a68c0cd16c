"""Shapley values of one patient from a coalition game (:mod:`splkit.explain.games`).

Two estimators, as the ``shap`` library's Exact and Permutation explainers compute them (Lundberg & Lee,
NeurIPS 2017), with the same numbers up to rounding:

- :func:`exact_shapley`: every subset ``S`` of the features, ``phi_j = sum_S |S|! (L-|S|-1)! / L!
  (v(S + j) - v(S))`` — the Shapley value itself, ``2**L`` values of the game per patient.
- :func:`permutation_shapley`: antithetic permutation sampling (Štrumbelj & Kononenko, *Explaining
  prediction models and individual predictions with feature contributions*, Knowl. Inf. Syst. 41, 2014):
  each random order of the features is walked forward (adding features) and backward (removing them),
  and each feature's marginal contributions are averaged.  ``max_evals // (2 L + 1)`` orders, drawn by
  ``numpy.random.RandomState.shuffle`` as the shap explainer draws them from its seed.

Both are additive: base value ``v(empty)`` plus the values equals ``v(all features) = f(x)``.  Only
features whose value differs from some background row (``L`` of them) take part, as in shap; the others
get 0.
"""

from __future__ import annotations

from math import factorial

import numpy as np


def varying(x: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Positions of the features whose value differs (``np.isclose``) from at least one background row."""
    return np.where(np.any(~np.isclose(x, background), axis=0))[0]


def shapley_weights(length: int) -> np.ndarray:
    """``|S|! (L - |S| - 1)! / L!`` for coalition sizes ``|S| = 0 … L - 1``."""
    return np.array([factorial(s) * factorial(length - s - 1) / factorial(length) for s in range(length)])


def exact_shapley(game, x: np.ndarray) -> tuple[np.ndarray, float]:
    """Exact Shapley values of ``x`` (and the base value) from ``v`` of every subset of the features."""
    inds = varying(x, game.background)
    values = game.subsets(x, inds)  # index: bit t set <=> inds[t] in the coalition
    codes = np.arange(len(values))
    sizes = np.bitwise_count(codes)
    weights = shapley_weights(len(inds))
    phi = np.zeros(len(x))
    for t, feature in enumerate(inds):
        without = codes[(codes >> t) & 1 == 0]
        phi[feature] = weights[sizes[without]] @ (values[without | (1 << t)] - values[without])
    return phi, float(values[0])


def permutation_shapley(
    game, x: np.ndarray, max_evals: int, rng: np.random.RandomState
) -> tuple[np.ndarray, float]:
    """Antithetic permutation estimate of the Shapley values of ``x`` (and the base value).

    ``rng`` is shared by the patients of a block, in order (shap seeds once per explainer).
    """
    inds = varying(x, game.background)
    length = len(inds)
    if length == 0:
        return np.zeros(len(x)), float(game.subsets(x, inds)[0])
    n_orders = max_evals // (2 * length + 1)
    if n_orders == 0:
        raise ValueError(f"max_evals={max_evals} is below 2 * features + 1 = {2 * length + 1}")
    orders = np.empty((n_orders, length), dtype=int)
    for p in range(n_orders):
        rng.shuffle(inds)  # in place, each order from the previous one: shap's draws
        orders[p] = inds
    values = game.chains(x, orders)  # (orders, 2 L + 1)
    forward = values[:, 1 : length + 1] - values[:, :length]
    backward = values[:, length : 2 * length] - values[:, length + 1 :]
    phi = np.zeros(len(x))
    np.add.at(phi, orders, forward + backward)
    return phi / (2 * n_orders), float(values[-1, 0])
