"""Tests of splkit.selection.filters: scikit-learn's estimator checks, input and target validation."""

import numpy as np
import pandas as pd
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from splkit.selection import ICCFilter, MannWhitneyFilter, SpearmanFilter, ZScore


class Reader2(pd.DataFrame):
    """A second reader's table with a one-line repr (the checks' test ids print the estimator)."""

    @property
    def _constructor(self):
        return Reader2

    def __repr__(self) -> str:
        return f"Reader2({self.shape[0]}x{self.shape[1]})"


# The checks pass arrays: rows 0, 1, ... become patients 0, 1, ... and columns x0, x1, ...; a second
# reader for 200 such patients and 20 features.  Its values are unrelated to any reader 1, so the ICCs are
# near 0: threshold -1 (the lowest ICC(3,1) with two readers) keeps every non-constant feature.
READER2 = Reader2(np.random.default_rng(0).normal(size=(200, 20)), columns=[f"x{i}" for i in range(20)])

DATAFRAME_OUT = {
    "check_transformer_preserve_dtypes": "transform returns a pandas DataFrame (no single .dtype) by "
    "design; its float64 columns stay float64 (test_float64_columns_stay_float64)",
}


@parametrize_with_checks(
    [ICCFilter(READER2, threshold=-1.0), ZScore(), MannWhitneyFilter(), SpearmanFilter()],
    expected_failed_checks=lambda estimator: DATAFRAME_OUT,
    xfail_strict=True,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture
def data():
    rng = np.random.default_rng(4)
    X = pd.DataFrame(rng.normal(size=(40, 5)), columns=list("abcde"), index=[f"P{i}" for i in range(40)])
    y = pd.Series((X["a"] + rng.normal(scale=0.5, size=40) > 0).astype(int), index=X.index)
    return X, y


@pytest.mark.parametrize("step", [ZScore(), MannWhitneyFilter(p_threshold=0.5), SpearmanFilter(0.5)])
def test_float64_columns_stay_float64(step, data):
    X, y = data
    out = step.fit(X, y).transform(X)
    assert isinstance(out, pd.DataFrame) and list(out.index) == list(X.index)
    assert (out.dtypes == np.float64).all()


def test_missing_or_infinite_values_are_errors(data):
    X, y = data
    gap = X.copy()
    gap.iloc[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        ZScore().fit(gap)
    step = ZScore().fit(X)
    with pytest.raises(ValueError, match="infinity"):
        step.transform(X.assign(b=np.inf))
    # a column the step does not read may hold anything
    assert list(step.transform(X.assign(extra=np.nan)).columns) == list("abcde")


def test_array_input_needs_the_fitted_number_of_columns(data):
    X, y = data
    step = MannWhitneyFilter(p_threshold=1.0).fit(X.to_numpy(), y)
    assert list(step.feature_names_in_) == ["x0", "x1", "x2", "x3", "x4"]
    with pytest.raises(ValueError, match="X has 4 features, but MannWhitneyFilter is expecting 5"):
        step.transform(X.to_numpy()[:, :4])


def test_target_is_any_two_labels_the_greater_positive(data):
    X, y = data
    coded = MannWhitneyFilter().fit(X, y)
    named = MannWhitneyFilter().fit(X, y.map({0: 1, 1: 2}))
    pd.testing.assert_series_equal(coded.statistic_, named.statistic_)
    with pytest.raises(ValueError, match="requires y to be passed"):
        SpearmanFilter().fit(X, None)
    with pytest.raises(ValueError, match="3 classes"):
        MannWhitneyFilter().fit(X, np.arange(40) % 3)
    with pytest.raises(ValueError, match="continuous"):
        MannWhitneyFilter().fit(X, np.linspace(0, 1, 40))
