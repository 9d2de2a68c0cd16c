"""The LASSO step: L1 logistic regression over a glmnet-style lambda path, lambda by CV deviance.

Friedman, Hastie & Tibshirani, J Stat Softw 2010;33(1); Hastie, Tibshirani & Friedman, *Elements of
Statistical Learning*, 2nd ed., sec. 7.10 (the one-standard-error rule).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import sklearn
from joblib import Parallel, delayed
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.svm import _liblinear

from splkit.selection.filters import _ColumnSelector
from splkit.stats.folds import StratifiedCopiesKFold

#: liblinear's settings on the path: a near-unpenalised intercept, a tight tolerance (glmnet agreement).
INTERCEPT_SCALING, TOL = 100.0, 1e-5


def _l1_logistic(C: float, max_iter: int) -> LogisticRegression:
    """The path's model as a scikit-learn estimator (what :func:`l1_logistic_fit` computes without it)."""
    # scikit-learn >= 1.8 deprecates ``penalty`` in favour of ``l1_ratio``
    common = dict(
        C=C,
        solver="liblinear",
        intercept_scaling=INTERCEPT_SCALING,
        tol=TOL,
        max_iter=max_iter,
        random_state=0,
    )
    if tuple(int(v) for v in sklearn.__version__.split(".")[:2]) >= (1, 8):
        return LogisticRegression(l1_ratio=1.0, **common)
    return LogisticRegression(penalty="l1", **common)


@dataclass(frozen=True)
class L1Fit:
    """One fit of the path: ``coef_`` (1 x features), ``intercept_`` (1,), ``n_iter_``, as scikit-learn's."""

    coef_: np.ndarray
    intercept_: np.ndarray
    n_iter_: np.ndarray

    def positive_probability(self, X: np.ndarray) -> np.ndarray:
        """``LogisticRegression.predict_proba(X)[:, 1]``: the same arithmetic."""
        return expit((X @ self.coef_.T + self.intercept_).reshape(-1))


#: liblinear's seed as scikit-learn draws it for ``random_state=0`` (it only shuffles the dual solvers).
_SEED = int(np.random.RandomState(0).randint(np.iinfo("i").max))
_L1R_LR = 6  # liblinear's L1-regularised logistic regression (primal), scikit-learn's choice for l1


def l1_logistic_fit(X: np.ndarray, y: np.ndarray, C: float, max_iter: int) -> L1Fit:
    """``_l1_logistic(C, max_iter).fit(X, y)`` by liblinear directly: the call scikit-learn's
    ``_fit_liblinear`` makes, with the same arguments (the same numbers, bit for bit:
    ``tests/selection/test_lasso.py``), without the validation and label encoding around it, which cost
    a third of a path's time on a few hundred patients.  ``X``: C-ordered float64; ``y``: 0/1, both present.
    """
    labels = np.require(np.asarray(y, dtype=np.float64).ravel(), requirements="W")
    if np.unique(labels).size != 2:
        raise ValueError("the LASSO's training rows need both classes, coded 0 and 1")
    _liblinear.set_verbosity_wrap(0)
    raw, n_iter = _liblinear.train_wrap(
        X, labels, False, _L1R_LR, TOL, INTERCEPT_SCALING, C, np.ones(2), max_iter, _SEED, 0.1,
        np.ones(X.shape[0]),
    )  # fmt: skip
    if max(n_iter) >= max_iter:
        warnings.warn(
            "Liblinear failed to converge, increase the number of iterations.",
            ConvergenceWarning,
            stacklevel=2,
        )
    return L1Fit(raw[:, :-1], INTERCEPT_SCALING * raw[:, -1], n_iter)


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
    (``tests/selection/test_pipeline.py``).

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
    n_iter_
        liblinear iterations of the fit at ``lambda_``.
    note_
        Set when the chosen lambda kept no feature and the next smaller lambda with one was used.
    """

    _supervised = True

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

    def _fit_path(self, X: np.ndarray, y: np.ndarray, lambdas: np.ndarray) -> list[L1Fit]:
        n, X = len(y), np.ascontiguousarray(X, dtype=np.float64)
        return [l1_logistic_fit(X, y, 1.0 / (n * lam), self.max_iter) for lam in lambdas]

    def _cv_deviance(self, X: np.ndarray, y: np.ndarray, splits: list, lambdas: np.ndarray) -> np.ndarray:
        """Held-out binomial deviance, folds x lambdas (folds fitted in parallel)."""

        def fold(train: np.ndarray, test: np.ndarray) -> list[float]:
            models = self._fit_path(X[train], y[train], lambdas)
            return [_deviance(y[test], m.positive_probability(X[test])) for m in models]

        rows = Parallel(n_jobs=self.n_jobs)(delayed(fold)(train, test) for train, test in splits)
        return np.asarray(rows, dtype=float).reshape(len(splits), len(lambdas))

    def fit(self, X: pd.DataFrame, y: Any) -> LassoSelector:
        if self.rule not in ("min", "1se"):
            raise ValueError(f"rule must be 'min' or '1se', got {self.rule!r}")
        frame = self._start(X)
        values = frame.to_numpy(dtype=float)
        y = self._target(y, len(values))
        if values.size and np.max(values) > 1e30:  # liblinear would not return (scikit-learn's check)
            raise ValueError("LASSO: X holds values above 1e30; standardise the features first")
        cv = StratifiedCopiesKFold(
            self.cv, shuffle=True, random_state=self.random_state
        )  # bootstrap copies together
        splits = list(cv.split(values, y))
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
        self.n_iter_ = int(np.max(path[chosen].n_iter_))
        return self
