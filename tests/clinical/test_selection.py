"""Tests of splkit.clinical.selection: the selection rule, honest out-of-fold scores, and
scikit-learn's estimator checks."""

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from splkit.clinical import make_clinical_pipeline
from splkit.clinical.selection import (
    NONE_MULTIVARIABLE,
    NONE_UNIVARIATE,
    SELECTED,
    SelectedClinicalModel,
    out_of_fold_scores,
    select_predictors,
)


def test_select_predictors_keeps_signal_and_excludes_mostly_missing(toy):
    X, y = toy
    X = X.assign(gappy=np.where(np.arange(len(X)) % 2 == 0, np.nan, 1.0))
    selection = select_predictors(X, y, {"sex": "binary"}, interval="wald")
    assert "age" in selection.predictors and "noise" not in selection.predictors
    assert any("gappy" in note and "missing" in note for note in selection.notes)
    assert "gappy" not in selection.candidates
    assert set(selection.final["variable"]) == set(selection.predictors)


def test_select_predictors_falls_back_when_nothing_is_significant():
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60)})
    y = pd.Series(rng.integers(0, 2, 60))
    selection = select_predictors(X, y, univariate_p=1e-9, interval="wald")
    assert len(selection.predictors) == 1 and selection.notes


def test_out_of_fold_scores_ignore_validation_rows(toy):
    X, y = toy
    train, valid = X.index[:120], X.index[120:]
    pipeline = make_clinical_pipeline({"sex": "binary"})
    oof, other, fitted = out_of_fold_scores(pipeline, X.loc[train], y[train], X.loc[valid], 4, random_state=1)
    altered = X.loc[valid].assign(age=999.0, cea=np.nan)
    oof2, _, fitted2 = out_of_fold_scores(pipeline, X.loc[train], y[train], altered, 4, random_state=1)
    pd.testing.assert_series_equal(oof, oof2)
    np.testing.assert_array_equal(fitted["logit"].coef_, fitted2["logit"].coef_)
    assert fitted["encode"].fill_ == fitted2["encode"].fill_
    assert oof.notna().all() and other.between(0, 1).all() and len(other) == len(valid)
    # out-of-fold scores differ from in-sample ones (each row was scored by a model that never saw it)
    assert not np.allclose(oof, fitted.predict_proba(X.loc[train])[:, 1])


def test_selected_model_reselects_inside_each_fold_and_ignores_validation_rows(toy):
    X, y = toy
    train, valid = X.index[:120], X.index[120:]
    model = SelectedClinicalModel({"sex": "binary"})
    folds: list = []
    oof, other, fitted = out_of_fold_scores(
        model, X.loc[train], y[train], X.loc[valid], 3, 7, fold_models=folds
    )
    assert len(folds) == 3 and all(hasattr(m, "predictors_") for m in folds)
    assert fitted.predictors_ == select_predictors(X.loc[train], y[train], {"sex": "binary"}).predictors
    altered = X.loc[valid].assign(age=-5.0, sex="female")
    oof2, other2, fitted2 = out_of_fold_scores(model, X.loc[train], y[train], altered, 3, 7)
    pd.testing.assert_series_equal(oof, oof2)
    assert fitted2.predictors_ == fitted.predictors_ and not np.allclose(other, other2)


@parametrize_with_checks([SelectedClinicalModel()], xfail_strict=True)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_selected_model_takes_any_two_labels_and_checks_its_input(toy):
    X, y = toy
    model = SelectedClinicalModel({"sex": "binary"})
    with pytest.raises(NotFittedError):
        model.predict(X)
    coded = model.fit(X, y)
    named = SelectedClinicalModel({"sex": "binary"}).fit(X, y.map({0: "benign", 1: "malignant"}))
    np.testing.assert_array_equal(coded.predict_proba(X), named.predict_proba(X))
    assert list(named.classes_) == ["benign", "malignant"]
    assert set(named.predict(X)) <= {"benign", "malignant"}
    with pytest.raises(ValueError, match="continuous"):
        SelectedClinicalModel().fit(X, np.linspace(0, 1, len(X)))
    with pytest.raises(ValueError, match="lacks the clinical predictors"):
        coded.predict_proba(X.drop(columns=coded.predictors_[0]))


def test_fallback_rules_keep_the_best_univariate_predictor_and_say_so():
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60)})
    y = pd.Series(rng.integers(0, 2, 60))
    selected = select_predictors(X, y, univariate_p=1e-9, interval="wald")
    assert selected.rule == NONE_UNIVARIATE and selected.fallback and selected.multivariable is None
    best = selected.univariate_p.idxmin()
    assert selected.predictors == [best]
    applied = selected.rule_applied(1e-9, 0.05)
    assert applied.startswith("none_significant_univariate: no variable had univariate p < 1e-09")
    assert f"kept the best univariate predictor {best} (univariate p=" in applied


def test_fallback_when_none_survives_the_multivariable_step():
    # two near-copies of one signal: each significant alone, neither once the other is in the model
    rng = np.random.default_rng(0)
    signal = rng.normal(size=120)
    y = pd.Series((rng.uniform(size=120) < 1 / (1 + np.exp(-signal))).astype(int))
    X = pd.DataFrame({"x1": signal + rng.normal(0, 0.01, 120), "x2": signal + rng.normal(0, 0.01, 120)})
    selection = select_predictors(X, y, interval="wald")
    assert selection.candidates == ["x1", "x2"] and selection.multivariable is not None
    assert selection.rule == NONE_MULTIVARIABLE
    assert selection.predictors == [selection.univariate_p.idxmin()]
    assert selection.rule_applied().startswith("none_significant_multivariable: no candidate had")
    model = SelectedClinicalModel().fit(X, y)
    assert model.rule_ == NONE_MULTIVARIABLE and model.predictors_ == selection.predictors


def test_standard_rule_is_recorded_as_selected(toy):
    X, y = toy
    selection = select_predictors(X, y, {"sex": "binary"}, interval="wald")
    assert selection.rule == SELECTED and not selection.fallback
    assert selection.rule_applied(0.05, 0.05).startswith("selected: ")


def test_a_lone_multilevel_candidate_gets_its_likelihood_ratio_p():
    rng = np.random.default_rng(5)
    group = rng.choice(["a", "b", "c"], 150)
    y = pd.Series((rng.uniform(size=150) < np.where(group == "c", 0.8, 0.3)).astype(int))
    X = pd.DataFrame({"group": group, "noise": rng.normal(size=150)})
    selection = select_predictors(X, y, {"group": "categorical"}, interval="wald")
    assert selection.candidates == ["group"] and selection.predictors == ["group"]
    assert selection.multivariable["p_variable"].notna().all()
