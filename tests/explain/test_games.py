"""The coalition game two ways: scoring masked rows (any model) and the RBF kernel's factorisation."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from splkit.explain.games import KernelGame, ModelGame, chain_masks, game_for, subset_masks
from splkit.models.estimators import ColumnSelector, TunedPlattSVM


def _data(n_features=6, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(70, n_features)), columns=[f"f{i}" for i in range(n_features)])
    y = (X["f0"] - X["f1"] + rng.normal(scale=0.7, size=70) > 0).astype(int)
    return X, y


def _svm():
    return TunedPlattSVM(C=(0.3, 3.0), gamma=(0.05, 0.5), cv_folds=3, random_state=0)


@pytest.fixture(scope="module")
def models():
    X, y = _data()
    selected = ["f3", "f0", "f1", "f4"]  # a subset, reordered: f2 and f5 do not enter the SVM
    return {
        "svm": _svm().fit(X, y),
        "pipeline": Pipeline([("select", ColumnSelector(selected)), ("svm", _svm())]).fit(X, y),
        "logistic": LogisticRegression().fit(X, y),
    }, X


@pytest.mark.parametrize("name, kind", [("svm", "kernel"), ("pipeline", "kernel"), ("logistic", "model")])
def test_game_for_picks_the_kernel_game_for_the_books_svms(models, name, kind):
    fitted, X = models
    assert game_for(fitted[name], list(X.columns), X.iloc[:10].to_numpy()).kind == kind


@pytest.mark.parametrize("name", ["svm", "pipeline"])
def test_kernel_game_equals_scoring_masked_rows(models, name):
    fitted, X = models
    features, background, x = list(X.columns), X.iloc[:15].to_numpy(), X.iloc[50].to_numpy()
    kernel, model = (
        game_for(fitted[name], features, background),
        ModelGame(fitted[name], features, background),
    )
    assert isinstance(kernel, KernelGame)
    np.testing.assert_allclose(kernel.predict(X.to_numpy()), model.predict(X.to_numpy()), atol=1e-13)
    inds = np.array([0, 2, 3, 5])  # f1 and f4 stay at the background rows' values
    np.testing.assert_allclose(kernel.subsets(x, inds), model.subsets(x, inds), atol=1e-13)
    orders = np.array([[3, 0, 5, 2], [2, 5, 0, 3], [0, 2, 3, 5]])
    np.testing.assert_allclose(kernel.chains(x, orders), model.chains(x, orders), atol=1e-13)


def test_a_kernel_game_that_does_not_reproduce_the_model_is_not_used(models, monkeypatch):
    import splkit.explain.games as games

    fitted, X = models
    monkeypatch.setattr(games.KernelFold, "probability", lambda self, decision: 0.0 * decision)
    assert game_for(fitted["svm"], list(X.columns), X.iloc[:10].to_numpy()).kind == "model"


def test_masks_of_chains_and_subsets():
    orders = np.array([[2, 0]])
    np.testing.assert_array_equal(
        chain_masks(orders, 3).astype(int),
        [[0, 0, 0], [0, 0, 1], [1, 0, 1], [1, 0, 0], [0, 0, 0]],  # none, +2, +0 (all), -2, -0
    )
    np.testing.assert_array_equal(
        subset_masks(np.array([2, 0]), 3).astype(int), [[0, 0, 0], [0, 0, 1], [1, 0, 0], [1, 0, 1]]
    )
