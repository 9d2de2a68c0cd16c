"""splkit.models.svm: the SVM's grid grows while its optimum sits at an edge, within a bound."""

import numpy as np

from splkit.models.svm import TunedPlattSVM, _edges, _extend


def _noisy(n=120, noise=2, seed=0):
    rng = np.random.default_rng(seed)
    y = np.r_[np.zeros(n // 2, int), np.ones(n // 2, int)]
    X = rng.normal(size=(n, 1 + noise))
    X[:, 0] += 1.5 * y
    return X, y


def test_edges_and_extension_steps():
    assert _edges([0.1, 1.0, 10.0], ["scale", 0.01, 0.1], 10.0, "scale") == {("C", "high")}
    assert _edges([0.1, 1.0], ["scale", 0.01, 0.1], 1.0, 0.01) == {("C", "high"), ("gamma", "low")}
    assert _edges([1.0], ["scale"], 1.0, "scale") == set()  # one value, or a string gamma: no edge
    assert _extend([0.1, 1.0, 10.0], "C", {("C", "high")}) == [0.1, 1.0, 10.0, 100.0]
    assert _extend(["scale", 0.01, 0.1], "gamma", {("gamma", "low")}) == [0.001, "scale", 0.01, 0.1]


def test_grid_grows_to_an_interior_optimum_or_its_bound():
    X, y = _noisy()
    fixed = TunedPlattSVM(C=(1.0, 10.0), gamma=("scale",), cv_folds=4, random_state=0).fit(X, y)
    assert fixed.grid_["C"] == [1.0, 10.0] and fixed.best_params_["C"] == 1.0 and fixed.at_edge_
    grown = TunedPlattSVM(C=(1.0, 10.0), gamma=("scale",), cv_folds=4, random_state=0, max_extensions=3).fit(
        X, y
    )
    assert (
        grown.grid_["C"] == [0.01, 0.1, 1.0, 10.0] and grown.best_params_["C"] == 0.1 and not grown.at_edge_
    )
    assert len(grown.cv_results_["params"]) == 4
    bounded = TunedPlattSVM(
        C=(1.0, 10.0), gamma=("scale",), cv_folds=4, random_state=0, max_extensions=1
    ).fit(X, y)
    assert bounded.grid_["C"] == [0.1, 1.0, 10.0] and bounded.best_params_["C"] == 0.1 and bounded.at_edge_


def test_a_flat_end_is_not_an_edge():
    """AUC does not change over small C (the SVM ranks like a kernel density difference): no growth."""
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(40, int), np.ones(40, int)]
    X = rng.normal(size=(80, 3))
    X[:, 0] += 2.5 * y
    svm = TunedPlattSVM(C=(1e-4, 1e-3), gamma=("scale",), cv_folds=4, random_state=0, max_extensions=3).fit(
        X, y
    )
    assert svm.grid_["C"] == [1e-4, 1e-3] and not svm.at_edge_


def test_no_extension_when_the_optimum_is_interior_gives_the_same_model():
    X, y = _noisy(seed=1)
    a = TunedPlattSVM(C=(1e-3, 0.1, 1e3), gamma=("scale",), cv_folds=4, random_state=0).fit(X, y)
    b = TunedPlattSVM(C=(1e-3, 0.1, 1e3), gamma=("scale",), cv_folds=4, random_state=0, max_extensions=2).fit(
        X, y
    )
    assert not a.at_edge_ and b.grid_ == a.grid_ and np.array_equal(a.predict_proba(X), b.predict_proba(X))
