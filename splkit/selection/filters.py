"""Filter steps of the selection chain: ICC, z-score, Mann–Whitney U, Spearman redundancy.

Each a scikit-learn transformer that takes and returns a :class:`pandas.DataFrame` and keeps the
column names (see :mod:`splkit.selection` for the chain and its sources).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import ClassifierTags
from sklearn.utils.validation import check_array, check_is_fitted

from splkit.radiomics.icc import icc as icc_table
from splkit.stats._checks import binary_target


def _frame(X: Any, names: Sequence[str] | None = None) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        return X
    X = np.asarray(X, dtype=float)
    return pd.DataFrame(X, columns=list(names) if names is not None else [f"x{i}" for i in range(X.shape[1])])


def _binary(y: Any, n: int, owner: str = "mannwhitney_pvalues") -> np.ndarray:
    """``y`` as 0/1: two classes, the greater label (scikit-learn's ``classes_[1]``) is the positive one
    (:func:`splkit.stats._checks.binary_target`)."""
    return binary_target(y, n, owner)[0]


class _ColumnSelector(TransformerMixin, BaseEstimator):
    """Base: fit sets ``feature_names_in_`` and a boolean ``support_``; transform keeps those columns.

    Input is checked as scikit-learn's ``check_array`` does (2-D, dense, finite numbers, not empty); a
    DataFrame keeps its index and column names, an array gets names ``x0, x1, ...`` at fit (and the
    fitted names, with the same number of columns, at transform).  A DataFrame at transform may hold
    more columns than were fitted: the fitted ones are taken by name.
    """

    _min_samples = 1
    _supervised = False

    def _check(self, X: Any, names: Sequence[str] | None = None) -> pd.DataFrame:
        """``X`` checked; ``names``: the fitted names (transform), ``None``: at fit."""
        rows = self._min_samples if names is None else 1
        if isinstance(X, pd.DataFrame):
            check_array(X, dtype="numeric", ensure_min_samples=rows, estimator=self)
            return X
        values = check_array(X, dtype=np.float64, ensure_min_samples=rows, estimator=self)
        if names is not None and values.shape[1] != len(names):
            raise ValueError(
                f"X has {values.shape[1]} features, but {type(self).__name__} is expecting {len(names)} "
                "features as input."
            )
        return _frame(values, names)

    def _start(self, X: Any) -> pd.DataFrame:
        X = self._check(X)
        if X.columns.duplicated().any():
            raise ValueError(f"duplicate feature names: {list(X.columns[X.columns.duplicated()])[:5]}")
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = X.shape[1]
        return X

    def _input(self, X: Any) -> pd.DataFrame:
        check_is_fitted(self, "feature_names_in_")
        if not isinstance(X, pd.DataFrame):
            return self._check(X, self.feature_names_in_)
        missing = [c for c in self.feature_names_in_ if c not in X.columns]
        if missing:
            raise ValueError(
                f"{type(self).__name__}: X lacks {len(missing)} fitted features, e.g. {missing[:3]}"
            )
        self._check(X.loc[:, list(self.feature_names_in_)], self.feature_names_in_)
        return X

    def _target(self, y: Any, n: int) -> np.ndarray:
        return _binary(y, n, type(self).__name__)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if self._supervised:
            tags.target_tags.required = True
            # binary target only; like scikit-learn's RFE, a supervised selector carries classifier tags
            tags.classifier_tags = ClassifierTags(multi_class=False)
        return tags

    def transform(self, X: Any) -> pd.DataFrame:
        X = self._input(X)
        return X.loc[:, list(self.get_feature_names_out())]

    def get_support(self, indices: bool = False) -> np.ndarray:
        check_is_fitted(self, "support_")
        return np.flatnonzero(self.support_) if indices else self.support_

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "support_")
        return np.asarray(self.feature_names_in_[self.support_], dtype=object)


class ICCFilter(_ColumnSelector):
    """Keep features whose inter-reader ICC on the fitted patients is at least ``threshold``.

    Parameters
    ----------
    reader2
        The second reader's features (index patient).  ``fit(X)`` computes the ICC between ``X`` and
        ``reader2`` on the patients in both, so fitting on training rows uses training patients only.
    icc_type
        ``"ICC3"`` (ICC(3,1)) or ``"ICC2"`` (ICC(2,1)); see :mod:`splkit.radiomics.icc`.
    threshold
        Minimum ICC (features with undefined ICC, i.e. constant ones, are dropped).
    """

    _min_samples = 2  # an ICC needs two patients

    def __init__(self, reader2: pd.DataFrame | None = None, icc_type: str = "ICC3", threshold: float = 0.75):
        self.reader2 = reader2
        self.icc_type = icc_type
        self.threshold = threshold

    def fit(self, X: pd.DataFrame, y: Any = None) -> ICCFilter:
        X = self._start(X)
        if self.reader2 is None:
            raise ValueError("ICCFilter needs reader2 (the second reader's feature table)")
        values = icc_table([X, self.reader2], icc_type=self.icc_type, columns=list(X.columns))
        self.icc_ = values
        self.n_patients_ = values.attrs["n_patients"]
        self.support_ = (values >= self.threshold).to_numpy()
        return self


class ZScore(_ColumnSelector):
    """Standardise each feature with the training mean and (population) standard deviation.

    A constant training feature gets scale 1 (as scikit-learn's ``StandardScaler``).
    """

    def fit(self, X: pd.DataFrame, y: Any = None) -> ZScore:
        X = self._start(X).astype(float)
        self.mean_ = X.mean()
        scale = X.std(ddof=0)
        self.scale_ = scale.where(scale > 0, 1.0)
        self.support_ = np.ones(X.shape[1], dtype=bool)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        X = self._input(X)[list(self.feature_names_in_)].astype(float)
        return (X - self.mean_) / self.scale_


def mannwhitney_pvalues(X: pd.DataFrame, y: Any) -> pd.DataFrame:
    """Two-sided Mann-Whitney U test of every column between the two classes of ``y`` (0/1, or any two
    labels: the greater is the positive class).

    Returns ``U`` (of the positive class) and ``p`` per feature (asymptotic with tie and continuity
    correction, SciPy; constant features get p = 1).
    """
    X = _frame(X)
    y = _binary(y, len(X))
    values = X.to_numpy(dtype=float)
    result = stats.mannwhitneyu(
        values[y == 1], values[y == 0], axis=0, alternative="two-sided", method="asymptotic"
    )
    p = np.where(np.isnan(result.pvalue), 1.0, result.pvalue)
    return pd.DataFrame({"U": result.statistic, "p": p}, index=pd.Index(X.columns, name="feature"))


class MannWhitneyFilter(_ColumnSelector):
    """Keep features with a two-sided Mann-Whitney U p-value below ``p_threshold`` (training rows).

    When fewer than ``min_features`` pass, the ``min_features`` smallest p-values are kept and
    ``n_forced_`` says how many were added that way (never silent).
    """

    _supervised = True

    def __init__(self, p_threshold: float = 0.05, min_features: int = 1):
        self.p_threshold = p_threshold
        self.min_features = min_features

    def fit(self, X: pd.DataFrame, y: Any) -> MannWhitneyFilter:
        X = self._start(X)
        table = mannwhitney_pvalues(X, self._target(y, len(X)))
        self.pvalues_ = table["p"]
        self.statistic_ = table["U"]
        support = (table["p"] < self.p_threshold).to_numpy()
        self.n_forced_ = max(0, min(self.min_features, X.shape[1]) - int(support.sum()))
        if self.n_forced_:
            order = np.argsort(table["p"].to_numpy(), kind="stable")
            support = np.zeros_like(support)
            support[order[: min(self.min_features, X.shape[1])]] = True
        self.support_ = support
        return self


class SpearmanFilter(_ColumnSelector):
    """Of each pair with Spearman ``|rho| > threshold``, keep the feature with the smaller Mann-Whitney p.

    Greedy, from the most significant feature down: a feature is kept unless it correlates above the
    threshold with one already kept.  ``dropped_`` maps each removed feature to the kept one it
    duplicates.
    """

    _supervised = True

    def __init__(self, threshold: float = 0.9):
        self.threshold = threshold

    def fit(self, X: pd.DataFrame, y: Any) -> SpearmanFilter:
        X = self._start(X)
        self.pvalues_ = mannwhitney_pvalues(X, self._target(y, len(X)))["p"]
        ranks = X.rank().to_numpy(dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            rho = np.corrcoef(ranks, rowvar=False) if X.shape[1] > 1 else np.ones((1, 1))
        rho = np.nan_to_num(np.atleast_2d(rho), nan=0.0)
        order = np.argsort(self.pvalues_.to_numpy(), kind="stable")
        kept: list[int] = []
        dropped: dict[str, str] = {}
        for j in order:
            partners = [i for i in kept if abs(rho[i, j]) > self.threshold]
            if partners:
                dropped[str(X.columns[j])] = str(X.columns[partners[0]])
            else:
                kept.append(j)
        self.support_ = np.zeros(X.shape[1], dtype=bool)
        self.support_[kept] = True
        self.dropped_ = dropped
        return self
