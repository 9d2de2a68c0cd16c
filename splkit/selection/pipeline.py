"""Feature selection as scikit-learn transformers, fitted on the training cohort only.

The usual radiomics selection chain (e.g. Wei et al. 2026; Hao et al. 2025), each step a transformer
that takes and returns a :class:`pandas.DataFrame` and keeps the column names:

1. :class:`ICCFilter` keeps features reproducible between two readers' masks (ICC >= threshold;
   Koo & Li, J Chiropr Med 2016;15:155-163);
2. :class:`ZScore` standardises with the training mean and standard deviation;
3. :class:`MannWhitneyFilter` keeps features whose two-sided Mann-Whitney U p-value is below a threshold;
4. :class:`SpearmanFilter` removes redundancy: of two features with Spearman ``|rho|`` above a threshold
   the more significant (smaller Mann-Whitney p) is kept, greedily from the most significant down;
5. :class:`LassoSelector` fits an L1-penalised logistic regression over a glmnet-style path of
   ``lambda`` values, chooses ``lambda`` by stratified k-fold cross-validated binomial deviance with
   the ``min`` or the one-standard-error (``1se``) rule (Friedman, Hastie & Tibshirani, J Stat Softw
   2010;33(1); Hastie, Tibshirani & Friedman, *Elements of Statistical Learning*, 2nd ed., sec. 7.10)
   and keeps the features with a non-zero coefficient.

:func:`build_selection_pipeline` makes the chain from a profile; :func:`fit_selection` fits it on the
training rows of a feature table; :func:`selection_funnel` counts the survivors of each step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import sklearn
from joblib import Parallel, delayed
from scipy import stats
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from splkit.radiomics.icc import icc as icc_table

__all__ = [
    "ICCFilter",
    "LassoSelector",
    "MannWhitneyFilter",
    "SpearmanFilter",
    "ZScore",
    "build_selection_pipeline",
    "fit_selection",
    "mannwhitney_pvalues",
    "selection_funnel",
]


def _frame(X: Any, names: Sequence[str] | None = None) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        return X
    X = np.asarray(X, dtype=float)
    return pd.DataFrame(X, columns=list(names) if names is not None else [f"x{i}" for i in range(X.shape[1])])


def _binary(y: Any, n: int) -> np.ndarray:
    y = np.asarray(y).ravel()
    if len(y) != n:
        raise ValueError(f"y has {len(y)} values for {n} rows of X")
    if set(np.unique(y)) != {0, 1}:
        raise ValueError(f"y must hold both classes coded 0/1, got values {sorted(set(np.unique(y)))}")
    return y.astype(int)


class _ColumnSelector(TransformerMixin, BaseEstimator):
    """Base: fit sets ``feature_names_in_`` and a boolean ``support_``; transform keeps those columns."""

    def _start(self, X: Any) -> pd.DataFrame:
        X = _frame(X)
        if X.columns.duplicated().any():
            raise ValueError(f"duplicate feature names: {list(X.columns[X.columns.duplicated()])[:5]}")
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = X.shape[1]
        return X

    def _input(self, X: Any) -> pd.DataFrame:
        check_is_fitted(self, "feature_names_in_")
        X = _frame(X, None if isinstance(X, pd.DataFrame) else self.feature_names_in_)
        missing = [c for c in self.feature_names_in_ if c not in X.columns]
        if missing:
            raise ValueError(
                f"{type(self).__name__}: X lacks {len(missing)} fitted features, e.g. {missing[:3]}"
            )
        return X

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
    """Two-sided Mann-Whitney U test of every column between ``y == 1`` and ``y == 0``.

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

    def __init__(self, p_threshold: float = 0.05, min_features: int = 1):
        self.p_threshold = p_threshold
        self.min_features = min_features

    def fit(self, X: pd.DataFrame, y: Any) -> MannWhitneyFilter:
        X = self._start(X)
        table = mannwhitney_pvalues(X, y)
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

    def __init__(self, threshold: float = 0.9):
        self.threshold = threshold

    def fit(self, X: pd.DataFrame, y: Any) -> SpearmanFilter:
        X = self._start(X)
        self.pvalues_ = mannwhitney_pvalues(X, y)["p"]
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


def _l1_logistic(C: float, max_iter: int) -> LogisticRegression:
    # scikit-learn >= 1.8 deprecates ``penalty`` in favour of ``l1_ratio``
    common = dict(
        C=C, solver="liblinear", intercept_scaling=100.0, tol=1e-5, max_iter=max_iter, random_state=0
    )
    if tuple(int(v) for v in sklearn.__version__.split(".")[:2]) >= (1, 8):
        return LogisticRegression(l1_ratio=1.0, **common)
    return LogisticRegression(penalty="l1", **common)


def _deviance(y: np.ndarray, p: np.ndarray) -> float:
    p = np.clip(p, 1e-15, 1 - 1e-15)
    return float(-2 * np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


class LassoSelector(_ColumnSelector):
    """L1-penalised logistic regression; ``lambda`` by stratified k-fold CV (binomial deviance).

    The path follows glmnet: ``n_alphas`` values of ``lambda`` log-spaced from ``lambda_max`` (the
    smallest penalty giving an empty model, ``max_j |x_j' (y - ybar)| / n`` on standardised ``X``) down
    to ``lambda_max * lambda_min_ratio``.  By default (``lambda_min_ratio=None``) the path spans two
    decades (glmnet's ratio when n < p, at glmnet's density of 25 values per decade for
    ``n_alphas=50``) and is extended a decade at a time, with the same spacing, while the CV
    minimum sits at its smallest lambda, down to glmnet's n > p ratio of 1e-4.  Nearly unpenalised
    fits are what make liblinear slow (a fit with 200 active features costs ~100 times one with
    20), and CV rarely chooses them; the extension keeps lambda.min from being an artefact of the grid.
    scikit-learn's ``C`` is
    ``1 / (n lambda)``.  The liblinear solver penalises the intercept; ``intercept_scaling = 100``
    makes that penalty negligible: coefficients agree with R glmnet 4.1-6 to 2e-4 on a pinned example
    (``tests/test_selection.py``).

    Parameters
    ----------
    cv
        Number of stratified folds.
    rule
        ``"min"``: lambda with the smallest mean CV deviance (lambda.min); ``"1se"``: the largest lambda
        whose mean deviance is within one standard error of that minimum (lambda.1se).
    n_alphas
        Number of lambda values on the path.
    random_state
        Seed of the fold assignment.
    lambda_min_ratio
        Smallest lambda as a fraction of ``lambda_max``; ``None``: 0.01, extended as described above.
    n_jobs
        Processes for the CV folds (joblib; ``None``: 1).

    Attributes
    ----------
    lambdas_, coef_path_, cv_deviance_, cv_mean_, cv_se_, lambda_min_, lambda_1se_, lambda_
        The path (DataFrame lambda x feature), the per-fold CV deviance (folds x lambda), its mean and
        standard error, the two rule choices and the lambda used.
    coef_, intercept_
        Coefficients of the features kept (non-zero at ``lambda_``), on the z-scored scale.
    note_
        Set when the chosen lambda kept no feature and the next smaller lambda with one was used.
    """

    def __init__(
        self,
        cv: int = 10,
        rule: str = "1se",
        n_alphas: int = 50,
        random_state: int | None = None,
        lambda_min_ratio: float | None = None,
        max_iter: int = 10000,
        n_jobs: int | None = None,
    ):
        self.cv = cv
        self.n_jobs = n_jobs
        self.lambda_min_ratio = lambda_min_ratio
        self.rule = rule
        self.n_alphas = n_alphas
        self.random_state = random_state
        self.max_iter = max_iter

    def _lambda_grid(self, X: np.ndarray, y: np.ndarray, ratio: float) -> np.ndarray:
        n = X.shape[0]
        lambda_max = np.max(np.abs(X.T @ (y - y.mean()))) / n
        return np.logspace(np.log10(lambda_max), np.log10(lambda_max * ratio), self.n_alphas)

    def _fit_path(self, X: np.ndarray, y: np.ndarray, lambdas: np.ndarray) -> list[LogisticRegression]:
        n = len(y)
        return [_l1_logistic(1.0 / (n * lam), self.max_iter).fit(X, y) for lam in lambdas]

    def _cv_deviance(self, X: np.ndarray, y: np.ndarray, splits: list, lambdas: np.ndarray) -> np.ndarray:
        """Held-out binomial deviance, folds x lambdas (folds fitted in parallel)."""

        def fold(train: np.ndarray, test: np.ndarray) -> list[float]:
            models = self._fit_path(X[train], y[train], lambdas)
            return [_deviance(y[test], m.predict_proba(X[test])[:, 1]) for m in models]

        rows = Parallel(n_jobs=self.n_jobs)(delayed(fold)(train, test) for train, test in splits)
        return np.asarray(rows, dtype=float).reshape(len(splits), len(lambdas))

    def fit(self, X: pd.DataFrame, y: Any) -> LassoSelector:
        if self.rule not in ("min", "1se"):
            raise ValueError(f"rule must be 'min' or '1se', got {self.rule!r}")
        frame = self._start(X)
        values = frame.to_numpy(dtype=float)
        y = _binary(y, len(values))
        splits = list(StratifiedKFold(self.cv, shuffle=True, random_state=self.random_state).split(values, y))
        extend = self.lambda_min_ratio is None
        lambdas = self._lambda_grid(values, y, 0.01 if extend else self.lambda_min_ratio)
        deviance = self._cv_deviance(values, y, splits, lambdas)
        step = lambdas[1] / lambdas[0] if len(lambdas) > 1 else 0.1
        per_decade = max(int(round(-1.0 / np.log10(step))), 1)
        while extend and int(np.argmin(deviance.mean(axis=0))) == len(lambdas) - 1:
            if lambdas[-1] <= lambdas[0] * 1.0001e-4:
                break  # glmnet's n > p floor reached
            more = lambdas[-1] * step ** np.arange(1, per_decade + 1)
            deviance = np.hstack([deviance, self._cv_deviance(values, y, splits, more)])
            lambdas = np.concatenate([lambdas, more])
        path = self._fit_path(values, y, lambdas)
        coefs = np.array([m.coef_.ravel() for m in path])
        mean, se = deviance.mean(axis=0), deviance.std(axis=0, ddof=1) / np.sqrt(self.cv)
        i_min = int(np.argmin(mean))
        i_1se = int(np.flatnonzero(mean <= mean[i_min] + se[i_min])[0])  # lambdas decrease: first = largest
        chosen = i_min if self.rule == "min" else i_1se
        self.note_ = None
        if not np.any(coefs[chosen] != 0):
            nonempty = np.flatnonzero(np.any(coefs != 0, axis=1))
            if len(nonempty) == 0:
                raise ValueError("LASSO kept no feature at any lambda of the path")
            later = nonempty[nonempty > chosen]
            new = int(later[0] if len(later) else nonempty[-1])
            self.note_ = (
                f"lambda.{self.rule} ({lambdas[chosen]:.4g}) kept no feature; used the next lambda with one "
                f"({lambdas[new]:.4g})"
            )
            chosen = new
        names = pd.Index(frame.columns, name="feature")
        self.lambdas_ = lambdas
        self.coef_path_ = pd.DataFrame(coefs, index=pd.Index(lambdas, name="lambda"), columns=names)
        self.cv_deviance_ = pd.DataFrame(deviance, columns=pd.Index(lambdas, name="lambda"))
        self.cv_mean_ = pd.Series(mean, index=pd.Index(lambdas, name="lambda"), name="deviance")
        self.cv_se_ = pd.Series(se, index=pd.Index(lambdas, name="lambda"), name="se")
        self.lambda_min_, self.lambda_1se_ = float(lambdas[i_min]), float(lambdas[i_1se])
        self.lambda_ = float(lambdas[chosen])
        self.support_ = coefs[chosen] != 0
        self.coef_ = pd.Series(coefs[chosen][self.support_], index=names[self.support_], name="coefficient")
        self.intercept_ = float(path[chosen].intercept_[0])
        return self


def build_selection_pipeline(
    settings: Mapping[str, Any],
    section: str = "selection",
    reader2: pd.DataFrame | None = None,
    random_state: int | None = None,
    n_jobs: int | None = None,
) -> Pipeline:
    """The selection chain from a profile: [ICC filter] -> z-score -> Mann-Whitney U -> Spearman -> LASSO.

    Parameters
    ----------
    settings
        The profile (:class:`splkit.config.Settings`); options come from ``settings[section]``
        (``univariate_p``, ``correlation_threshold``, ``lasso_cv_folds``, ``lasso_rule``,
        ``lasso_n_alphas``) and, for the ICC step, ``settings.radiomics`` (``icc_type``,
        ``icc_threshold``).
    reader2
        The second reader's features: adds an :class:`ICCFilter` first.  ``None``: no ICC step (the
        radiomics notebook applies it before writing ``rad_candidates.parquet``).
    random_state
        Seed of the LASSO folds (default: the profile's ``seed``).
    n_jobs
        Processes for the LASSO's CV folds (default: the profile's ``n_jobs``; pass 1 inside an
        already parallel loop).
    """
    options = settings[section]
    steps: list[tuple[str, Any]] = []
    if reader2 is not None:
        rad = settings["radiomics"]
        steps.append(("icc", ICCFilter(reader2, icc_type=rad["icc_type"], threshold=rad["icc_threshold"])))
    steps += [
        ("zscore", ZScore()),
        ("mannwhitney", MannWhitneyFilter(p_threshold=options["univariate_p"])),
        ("spearman", SpearmanFilter(threshold=options["correlation_threshold"])),
        (
            "lasso",
            LassoSelector(
                cv=options["lasso_cv_folds"],
                rule=options["lasso_rule"],
                n_alphas=options["lasso_n_alphas"],
                random_state=settings["seed"] if random_state is None else random_state,
                n_jobs=int(settings.get("n_jobs", 1)) if n_jobs is None else n_jobs,
            ),
        ),
    ]
    return Pipeline(steps)


def fit_selection(pipeline: Pipeline, features: pd.DataFrame, table: pd.DataFrame) -> Pipeline:
    """Fit a clone of ``pipeline`` on the training rows only (``table.cohort == "train"``).

    ``features`` and ``table`` are indexed by patient; ``table`` has ``cohort`` and ``label``.
    """
    train = table.index[table["cohort"] == "train"]
    missing = train.difference(features.index)
    if len(missing):
        raise ValueError(f"{len(missing)} training patients have no features, e.g. {list(missing[:3])}")
    fitted = clone(pipeline)
    fitted.fit(features.loc[train], table.loc[train, "label"].astype(int))
    return fitted


def selection_funnel(pipeline: Pipeline) -> pd.DataFrame:
    """Features entering and surviving each fitted step: columns ``step``, ``n_features``."""
    steps = list(pipeline.named_steps.items())
    check_is_fitted(steps[0][1], "feature_names_in_")
    rows = [("input", int(steps[0][1].n_features_in_))]
    rows += [(name, len(step.get_feature_names_out())) for name, step in steps]
    return pd.DataFrame(rows, columns=["step", "n_features"])
