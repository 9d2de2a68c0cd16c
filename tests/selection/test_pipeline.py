"""Selection transformers: DataFrame in/out, train-only fitting, each step's rule, LASSO rules."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

from splkit.config import load_profile
from splkit.selection import (
    ICCFilter,
    LassoSelector,
    MannWhitneyFilter,
    SpearmanFilter,
    ZScore,
    build_selection_pipeline,
    fit_selection,
    mannwhitney_pvalues,
    select_features,
    selection_funnel,
)


@pytest.fixture
def cohort():
    rng = np.random.default_rng(1)
    n, p = 160, 40
    X = pd.DataFrame(rng.normal(size=(n, p)) * 3 + 10, columns=[f"f{i:02d}" for i in range(p)])
    X.index = pd.Index([f"P{i:04d}" for i in range(1, n + 1)], name="patient")
    y = ((X["f00"] - 10) + 0.7 * (X["f01"] - 10) + rng.normal(scale=2, size=n) > 0).astype(int)
    X["f00_copy"] = X["f00"] * 1.5 + rng.normal(scale=0.05, size=n)  # redundant, slightly noisier
    table = pd.DataFrame(
        {"label": y, "cohort": np.where(np.arange(n) % 5 == 0, "validation", "train")}, index=X.index
    )
    return X, table


def settings():
    return load_profile("smoke", overrides={"selection": {"lasso_cv_folds": 5, "lasso_n_alphas": 15}})


def test_pipeline_keeps_names_and_clones(cohort):
    X, table = cohort
    pipe = fit_selection(build_selection_pipeline(settings()), X, table)
    out = pipe.transform(X)
    assert isinstance(out, pd.DataFrame) and list(out.index) == list(X.index)
    assert list(out.columns) == list(pipe.get_feature_names_out())
    assert "f00" in out.columns or "f00_copy" in out.columns
    clone(pipe).get_params()  # cloneable
    funnel = selection_funnel(pipe)
    assert list(funnel["step"]) == ["input", "zscore", "mannwhitney", "spearman", "lasso"]
    assert funnel["n_features"].is_monotonic_decreasing and funnel["n_features"].iloc[0] == X.shape[1]


def test_nothing_is_fitted_on_validation_rows(cohort):
    X, table = cohort
    base = build_selection_pipeline(settings())
    first = fit_selection(base, X, table)
    altered_X, altered_table = X.copy(), table.copy()
    val = table.index[table["cohort"] == "validation"]
    altered_X.loc[val] = np.random.default_rng(5).normal(size=(len(val), X.shape[1])) * 1000
    altered_table.loc[val, "label"] = 1 - altered_table.loc[val, "label"]
    second = fit_selection(base, altered_X, altered_table)
    pd.testing.assert_series_equal(first["zscore"].mean_, second["zscore"].mean_)
    pd.testing.assert_series_equal(first["mannwhitney"].pvalues_, second["mannwhitney"].pvalues_)
    assert first["spearman"].dropped_ == second["spearman"].dropped_
    pd.testing.assert_frame_equal(first["lasso"].coef_path_, second["lasso"].coef_path_)
    pd.testing.assert_series_equal(first["lasso"].coef_, second["lasso"].coef_)
    # and the validation rows really differ, so the test could fail
    assert not np.allclose(first.transform(X.loc[val]), second.transform(altered_X.loc[val]))


def test_zscore_uses_training_statistics(cohort):
    X, _ = cohort
    z = ZScore().fit(X.iloc[:100])
    out = z.transform(X)
    np.testing.assert_allclose(out.iloc[:100].mean(), 0, atol=1e-12)
    np.testing.assert_allclose(out.iloc[:100].std(ddof=0), 1)
    assert not np.allclose(out.iloc[100:].mean(), 0, atol=1e-3)


def test_mannwhitney_matches_scipy_column_by_column(cohort):
    X, table = cohort
    y = table["label"].to_numpy()
    ours = mannwhitney_pvalues(X, y)
    for column in ["f00", "f05", "f00_copy"]:
        ref = stats.mannwhitneyu(
            X.loc[y == 1, column], X.loc[y == 0, column], alternative="two-sided", method="asymptotic"
        )
        assert ours.loc[column, "p"] == pytest.approx(ref.pvalue, rel=1e-12)
    step = MannWhitneyFilter(0.05).fit(X, y)
    assert set(step.get_feature_names_out()) == set(ours.index[ours["p"] < 0.05])


def test_mannwhitney_never_empty_silently():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(50, 3)), columns=list("abc"))
    y = np.r_[np.zeros(25, int), np.ones(25, int)]
    step = MannWhitneyFilter(1e-12, min_features=1).fit(X, y)
    assert len(step.get_feature_names_out()) == 1 and step.n_forced_ == 1


def test_spearman_keeps_the_more_significant_of_a_pair(cohort):
    X, table = cohort
    y = table["label"].to_numpy()
    step = SpearmanFilter(0.9).fit(X, y)
    p = mannwhitney_pvalues(X, y)["p"]
    keep, drop = ("f00", "f00_copy") if p["f00"] <= p["f00_copy"] else ("f00_copy", "f00")
    assert keep in step.get_feature_names_out() and drop not in step.get_feature_names_out()
    assert step.dropped_ == {drop: keep}


def test_lasso_rules_and_coefficients(cohort):
    X, table = cohort
    Xz = ZScore().fit_transform(X[[*X.columns[:12], "f00_copy"]])
    y = table["label"].to_numpy()
    one_se = LassoSelector(cv=5, rule="1se", n_alphas=20, random_state=0).fit(Xz, y)
    lam_min = LassoSelector(cv=5, rule="min", n_alphas=20, random_state=0).fit(Xz, y)
    assert one_se.lambda_1se_ >= one_se.lambda_min_
    assert one_se.lambda_ == one_se.lambda_1se_ and lam_min.lambda_ == lam_min.lambda_min_
    mean, se = one_se.cv_mean_, one_se.cv_se_
    best = mean.idxmin()
    assert mean[one_se.lambda_1se_] <= mean[best] + se[best]
    assert all(mean[lam] > mean[best] + se[best] for lam in mean.index if lam > one_se.lambda_1se_)
    assert len(lam_min.coef_) >= len(one_se.coef_) >= 1
    # the coefficients are those of an L1 logistic regression with C = 1 / (n * lambda)
    direct = LogisticRegression(
        l1_ratio=1.0,
        C=1 / (len(y) * one_se.lambda_),
        solver="liblinear",
        intercept_scaling=100.0,
        tol=1e-5,
        max_iter=10000,
        random_state=0,
    ).fit(Xz, y)
    np.testing.assert_allclose(direct.coef_.ravel()[one_se.support_], one_se.coef_.to_numpy())
    assert one_se.coef_path_.shape == (20, Xz.shape[1]) and one_se.cv_deviance_.shape == (5, 20)
    assert (one_se.coef_path_.iloc[0] == 0).all()  # lambda_max gives the empty model


def test_icc_filter_uses_fitted_patients_only():
    rng = np.random.default_rng(2)
    truth = rng.normal(size=(30, 2))
    r1 = pd.DataFrame(truth, columns=["stable", "noisy"], index=[f"P{i:04d}" for i in range(30)])
    r2 = r1.copy()
    r2["noisy"] = rng.normal(size=30)
    r2["stable"] += rng.normal(scale=0.05, size=30)
    step = ICCFilter(r2.iloc[:20], threshold=0.75).fit(r1)
    assert list(step.get_feature_names_out()) == ["stable"]
    assert step.n_patients_ == 20
    step_train = ICCFilter(r2, threshold=0.75).fit(r1.iloc[:10])
    assert step_train.n_patients_ == 10
    assert list(ICCFilter(r2).fit(r1).transform(r1).columns) == ["stable"]


def test_lasso_path_extends_while_the_cv_minimum_is_at_its_end():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(2000, 30)), columns=[f"x{i}" for i in range(30)])
    y = (X.to_numpy() @ np.full(30, 0.6) + rng.logistic(size=2000) > 0).astype(int)
    # many samples, dense signal: the CV minimum lies below two decades, so the path is extended
    extended = LassoSelector(cv=5, n_alphas=20, random_state=0).fit(X, y)
    assert len(extended.lambdas_) > 20
    assert extended.lambda_min_ > extended.lambdas_[-1]  # the extension brackets the CV minimum
    ratios = extended.lambdas_ / extended.lambdas_[0]
    assert ratios[-1] < 0.01 and ratios[-1] > 0.5e-4
    steps = np.diff(np.log(extended.lambdas_))
    np.testing.assert_allclose(steps, steps[0])  # the extension keeps the spacing
    fixed = LassoSelector(cv=5, n_alphas=20, random_state=0, lambda_min_ratio=0.01).fit(X, y)
    assert len(fixed.lambdas_) == 20


# R glmnet 4.1-6 (Debian r-cran-glmnet), computed once on the data of _glmnet_data() written to CSV:
#   glmnet(X, y, family = "binomial", lambda = lambda_max * c(0.5, 0.2, 0.05), standardize = FALSE,
#          thresh = 1e-14, maxit = 1e6); coef(fit)
# with lambda_max = max|X'(y - mean(y))| / n = 0.1803294226.
GLMNET_LAMBDA_MAX = 0.1803294226
GLMNET_COEF = np.array(
    [
        [0.19860399041, 0.0, 0.35539716958, 0.0, 0.0, 0.0, 0.0, 0.0],
        [0.67336279518, -0.43649498495, 0.63485214586, 0.0, 0.0, 0.0, 0.06961556052, 0.0],
        [1.04776523936, -0.78049153577, 0.84009314044, 0.0, 0.0, 0.07636799222, 0.23201644456, 0.0],
    ]
)
GLMNET_INTERCEPT = np.array([-0.02795459472, -0.02847341002, -0.02332409955])


def _glmnet_data():
    rng = np.random.default_rng(2024)
    X = rng.normal(size=(150, 8))
    X[:, 1] += 0.5 * X[:, 0]
    beta = np.array([1.2, -0.8, 0.6, 0, 0, 0.3, 0, 0])
    y = (X @ beta - 0.3 + rng.logistic(size=150) > 0).astype(int)
    return (X - X.mean(0)) / X.std(0), y  # standardised with 1/n, as glmnet does


def test_lasso_path_matches_glmnet():
    X, y = _glmnet_data()
    selector = LassoSelector()
    assert selector._lambda_grid(X, y, 0.01)[0] == pytest.approx(GLMNET_LAMBDA_MAX, rel=1e-9)
    path = selector._fit_path(X, y, GLMNET_LAMBDA_MAX * np.array([0.5, 0.2, 0.05]))
    coef = np.array([m.coef_.ravel() for m in path])
    np.testing.assert_array_equal(coef != 0, GLMNET_COEF != 0)  # the same features at every lambda
    np.testing.assert_allclose(coef, GLMNET_COEF, atol=2e-4)
    # liblinear penalises the intercept (scaled by intercept_scaling = 100): a small difference remains
    np.testing.assert_allclose([m.intercept_[0] for m in path], GLMNET_INTERCEPT, atol=6e-3)


def test_select_features_is_the_chain_fitted_on_training_rows(cohort):
    """One call for chapters 3 and 4: the same pipeline, funnel and coefficients as the three steps."""
    X, table = cohort
    pipeline, funnel, coefficients = select_features(settings(), X, table)
    manual = fit_selection(build_selection_pipeline(settings()), X, table)
    pd.testing.assert_frame_equal(funnel, selection_funnel(manual))
    pd.testing.assert_series_equal(coefficients, manual.named_steps["lasso"].coef_)
    assert list(pipeline.get_feature_names_out()) == list(coefficients.index)
    assert coefficients.name == "coefficient" and funnel["n_features"].iloc[-1] == len(coefficients)
