"""Exact and permutation Shapley values of one patient: additive games have known values."""

import numpy as np
import pytest

from splkit.explain.coalitions import exact_shapley, permutation_shapley, shapley_weights, varying
from splkit.explain.games import ModelGame


class Linear:
    """``predict_proba`` of an additive model: P(1) = 0.5 + w · x (an additive game)."""

    def __init__(self, weights):
        self.weights = np.asarray(weights, dtype=float)

    def predict_proba(self, frame):
        positive = 0.5 + frame.to_numpy() @ self.weights
        return np.column_stack([1 - positive, positive])


@pytest.fixture
def game():
    rng = np.random.default_rng(1)
    background = rng.normal(size=(9, 4))
    background[:, 3] = 0.25  # a feature equal in every background row
    return ModelGame(Linear([0.1, -0.2, 0.05, 0.3]), ["a", "b", "c", "d"], background)


def test_an_additive_game_has_the_known_values(game):
    x = np.array([1.0, 2.0, -1.0, 0.25])  # d equals the background: it does not vary, its value is 0
    expected = game.estimator.weights * (x - game.background.mean(axis=0))
    for phi, base in (
        exact_shapley(game, x),
        permutation_shapley(game, x, max_evals=50, rng=np.random.RandomState(0)),
    ):
        np.testing.assert_allclose(phi, expected, atol=1e-12)
        assert phi[3] == 0.0
        assert base == pytest.approx(game.predict(game.background).mean())
    np.testing.assert_array_equal(varying(x, game.background), [0, 1, 2])


def test_permutations_follow_the_seed_and_need_enough_evaluations(game):
    x = np.array([1.0, 2.0, -1.0, 3.0])
    first = permutation_shapley(game, x, 30, np.random.RandomState(4))
    again = permutation_shapley(game, x, 30, np.random.RandomState(4))
    np.testing.assert_array_equal(first[0], again[0])
    with pytest.raises(ValueError, match="below 2 \\* features \\+ 1 = 9"):
        permutation_shapley(game, x, 8, np.random.RandomState(4))


def test_shapley_weights_sum_to_one_over_the_coalitions():
    from math import comb

    for length in (1, 4, 9):
        weights = shapley_weights(length)
        assert sum(comb(length - 1, s) * weights[s] for s in range(length)) == pytest.approx(1.0)
