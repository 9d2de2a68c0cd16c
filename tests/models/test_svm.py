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


def test_rbf_decision_is_svc_bit_for_bit():
    """The grid search's direct libsvm call returns SVC's decision values exactly (every gamma kind)."""
    from sklearn.svm import SVC

    from splkit.models.svm import rbf_decision

    rng = np.random.default_rng(3)
    for trial, gamma in enumerate(["scale", "auto", 0.001, 0.1, 1.0] * 4):
        n, d = int(rng.integers(20, 200)), int(rng.integers(1, 40))
        X, T = rng.normal(size=(n, d)), rng.normal(size=(30, d))
        y = (X[:, 0] + rng.normal(size=n) > 0).astype(int)
        C = float(10.0 ** rng.integers(-2, 4))
        expected = SVC(kernel="rbf", C=C, gamma=gamma, random_state=trial).fit(X, y).decision_function(T)
        np.testing.assert_array_equal(rbf_decision(X, y, T, C, gamma, trial), expected)
    flat = np.zeros((10, 2))  # zero variance: "scale" is 1.0, as in SVC
    y = np.r_[np.zeros(5, int), np.ones(5, int)]
    np.testing.assert_array_equal(
        rbf_decision(flat, y, flat, 1.0, "scale", 0),
        SVC(gamma="scale", random_state=0).fit(flat, y).decision_function(flat),
    )
