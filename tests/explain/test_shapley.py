import numpy as np
import pandas as pd
import pytest

from splkit.explain import EXACT_MAX_FEATURES, explain_model, pick_cases
from splkit.models.estimators import TunedPlattSVM


def _fitted(n_features, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(80, n_features)), columns=[f"f{i}" for i in range(n_features)])
    y = (X.iloc[:, 0] + 0.5 * X.iloc[:, 1] + rng.normal(scale=0.8, size=80) > 0).astype(int)
    model = TunedPlattSVM(random_state=0).fit(X, y)  # the book's SVM (standardises internally)
    X.index = [f"P{i:04d}" for i in range(1, 81)]
    return model, X


@pytest.mark.parametrize("n_features", [4, EXACT_MAX_FEATURES + 1])
def test_shap_values_are_additive(n_features):
    model, X = _fitted(n_features)
    result = explain_model(model, X.iloc[:60], X.iloc[60:], background_size=20, max_evals=200, random_state=1)
    assert result.method == ("exact" if n_features <= EXACT_MAX_FEATURES else "permutation")
    output = model.predict_proba(X.iloc[60:])[:, 1]
    reconstructed = result.explanation.base_values + result.values.sum(axis=1).to_numpy()
    np.testing.assert_allclose(reconstructed, output, atol=1e-6)
    assert list(result.values.index) == list(X.index[60:])
    assert result.mean_abs().index[0] in ("f0", "f1")  # the features that drive the outcome matter most


def test_shap_values_are_deterministic_by_seed():
    model, X = _fitted(EXACT_MAX_FEATURES + 3)
    first = explain_model(
        model, X.iloc[:60], X.iloc[60:70], background_size=15, max_evals=100, random_state=3
    )
    second = explain_model(
        model, X.iloc[:60], X.iloc[60:70], background_size=15, max_evals=100, random_state=3
    )
    pd.testing.assert_frame_equal(first.values, second.values)
    parallel = explain_model(
        model, X.iloc[:60], X.iloc[60:70], background_size=15, max_evals=100, random_state=3, n_jobs=2
    )
    pd.testing.assert_frame_equal(first.values, parallel.values)  # fixed blocks: n_jobs does not matter


def test_shap_cache_returns_the_computed_values(tmp_path, monkeypatch):
    import splkit.explain.shapley as explain

    monkeypatch.setattr(explain, "CACHE_DIR", tmp_path / "shap")
    model, X = _fitted(4)
    args = dict(background_size=10, random_state=0, cache=True)
    first = explain_model(model, X.iloc[:60], X.iloc[60:70], **args)
    assert len(list((tmp_path / "shap").rglob("*.joblib"))) == 2  # one ContentCache entry per block of 8
    assert not list((tmp_path / "shap").rglob("*.tmp"))
    monkeypatch.setattr(explain.coalitions, "exact_shapley", None)  # a cache hit computes nothing
    second = explain_model(model, X.iloc[:60], X.iloc[60:70], **args)
    np.testing.assert_array_equal(first.values.to_numpy(), second.values.to_numpy())  # bit-identical
    np.testing.assert_array_equal(first.explanation.base_values, second.explanation.base_values)


def test_shap_cache_keys_are_the_blocks_content(tmp_path, monkeypatch):
    import splkit.explain.shapley as explain

    monkeypatch.setattr(explain, "CACHE_DIR", tmp_path / "shap")
    model, X = _fitted(4)
    uncached = explain_model(model, X.iloc[:60], X.iloc[60:70], background_size=10, random_state=0)
    explain_model(model, X.iloc[:60], X.iloc[60:70], background_size=10, random_state=0, cache=True)
    renamed = X.iloc[60:70].rename(index=lambda p: f"Q{p}")  # other pseudonyms, same rows: a hit
    monkeypatch.setattr(explain.coalitions, "exact_shapley", None)
    hit = explain_model(model, X.iloc[:60], renamed, background_size=10, random_state=0, cache=True)
    np.testing.assert_array_equal(hit.values.to_numpy(), uncached.values.to_numpy())
    with pytest.raises(TypeError):  # another seed is another background sample: a miss, so it computes
        explain_model(model, X.iloc[:60], X.iloc[60:70], background_size=10, random_state=1, cache=True)


@pytest.mark.parametrize("n_features", [5, EXACT_MAX_FEATURES + 1])
def test_values_are_shaps_exact_and_permutation_explainers(n_features):
    """Same background, same seed: the values of shap's Exact (up to 12 features) and Permutation
    explainers (same permutations), for the book's SVM (kernel game) and a logistic regression."""
    import shap
    from sklearn.linear_model import LogisticRegression

    svm, X = _fitted(n_features)
    y = (X.iloc[:, 0] > 0).astype(int)
    for model in (svm, LogisticRegression().fit(X, y)):
        result = explain_model(
            model, X.iloc[:60], X.iloc[60:68], background_size=12, max_evals=120, random_state=5
        )
        background = X.iloc[:60].sample(n=12, random_state=5).to_numpy(dtype=float)
        masker = shap.maskers.Independent(background, max_samples=12)

        def f(rows, model=model):
            return model.predict_proba(pd.DataFrame(rows, columns=X.columns))[:, 1]

        rows = X.iloc[60:68].to_numpy(dtype=float)
        if n_features <= EXACT_MAX_FEATURES:
            expected = shap.explainers.Exact(f, masker)(rows, silent=True)
        else:  # block 0 of explain_model is seeded random_state + 0
            expected = shap.explainers.Permutation(f, masker, seed=5)(rows, max_evals=120, silent=True)
        np.testing.assert_allclose(result.values.to_numpy(), expected.values, atol=1e-12)
        np.testing.assert_allclose(result.explanation.base_values, expected.base_values, atol=1e-12)


def test_pick_cases_follow_the_threshold():
    scores = pd.DataFrame(
        {
            "patient": ["P1", "P2", "P3", "P4", "P5", "P6"],
            "label": [1, 1, 0, 0, 0, 1],
            "score": [0.9, 0.7, 0.1, 0.8, 0.3, 0.2],
        }
    )
    cases = pick_cases(scores, threshold=0.5).set_index("case")
    assert cases.loc["TP", "patient"] == "P1"  # most confident true positive
    assert cases.loc["TN", "patient"] == "P3"
    assert cases.loc["FP", "patient"] == "P4"
    assert cases.loc["FN", "patient"] == "P6"
    for case, row in cases.iterrows():
        called = int(row.score >= 0.5)
        assert (case[0] == "T") == (called == row.label)


def test_pick_cases_omits_empty_categories():
    scores = pd.DataFrame({"patient": ["P1", "P2"], "label": [1, 0], "score": [0.9, 0.1]})
    assert set(pick_cases(scores, 0.5).case) == {"TP", "TN"}
