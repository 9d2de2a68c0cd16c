"""The SVM of the models: an RBF support vector machine, tuned by grid search, Platt-scaled.

* :func:`platt_sigmoid`: Platt's (1999) sigmoid by Lin, Lin & Weng's (2007) Newton method.
* :class:`TunedPlattSVM`: standardisation, a (C, gamma) grid search by stratified K-fold cross-validation
  on ROC AUC, a grid that grows while its best point sits at an edge (bounded), and Platt-scaled
  probabilities averaged over calibration folds.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit
from scipy.stats import rankdata
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import SVC, _libsvm
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from splkit.stats.folds import folds


def _unnamed(X: Any) -> Any:
    """A DataFrame's values (positional input), anything else as given."""
    return X.to_numpy() if isinstance(X, pd.DataFrame) else X


def _standardiser(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means and standard deviations of ``X`` (a zero deviation counts as 1)."""
    mean, scale = X.mean(axis=0), X.std(axis=0)
    scale[scale == 0] = 1.0
    return mean, scale


def _gamma(value: Any) -> Any:
    """``gamma`` values from YAML: the strings ``scale``/``auto`` or a positive number."""
    if isinstance(value, str) and value in {"scale", "auto"}:
        return value
    gamma = float(value)
    if gamma <= 0:
        raise ValueError(f"svm_gamma values must be 'scale', 'auto' or positive numbers, got {value!r}")
    return gamma


def rbf_decision(
    Z_train: np.ndarray, y_train: np.ndarray, Z_test: np.ndarray, C: float, gamma: Any, random_state: int
) -> np.ndarray:
    """``SVC(kernel="rbf", C=C, gamma=gamma, random_state=random_state).fit(Z_train, y_train)`` 's
    ``decision_function(Z_test)``, by libsvm directly.

    The same libsvm calls with the same arguments as scikit-learn's ``SVC`` (the same numbers, bit for bit:
    ``tests/models/test_svm.py``), without its input validation, which took ~40 % of a grid-search fit on a
    few hundred patients.  ``Z_train`` and ``Z_test``: float64; ``y_train``: 0/1 with both classes present.
    """
    Z_train = np.ascontiguousarray(Z_train, dtype=np.float64)
    y = np.ascontiguousarray(y_train, dtype=np.float64)
    if np.unique(y).size != 2:
        raise ValueError("an SVM's training rows need both classes, coded 0 and 1")
    if isinstance(gamma, str):  # SVC's "scale" / "auto"
        variance = Z_train.var()
        scale = 1.0 / (Z_train.shape[1] * variance) if variance != 0 else 1.0
        gamma = scale if gamma == "scale" else 1.0 / Z_train.shape[1]
    seed = check_random_state(random_state).randint(np.iinfo("i").max)
    _libsvm.set_verbosity_wrap(0)  # as SVC(verbose=False) sets it before each fit
    support, vectors, n_support, dual, intercept, prob_a, prob_b, status, _ = _libsvm.fit(
        Z_train,
        y,
        svm_type=0,
        sample_weight=np.empty(0),
        class_weight=np.ones(2),
        kernel="rbf",
        degree=3,
        gamma=float(gamma),
        coef0=0.0,
        tol=1e-3,
        C=float(C),
        nu=0.0,
        epsilon=0.0,
        shrinking=True,
        probability=False,
        cache_size=200.0,
        max_iter=-1,
        random_seed=seed,
    )  # SVC's arguments, all of them
    if status == 1:
        warnings.warn("Solver terminated early (max_iter=-1).", ConvergenceWarning, stacklevel=2)
    if not (np.isfinite(intercept).all() and np.isfinite(dual).all()):
        raise ValueError("The dual coefficients or intercepts are not finite.")
    decision = _libsvm.decision_function(
        np.ascontiguousarray(Z_test, dtype=np.float64),
        support,
        vectors,
        n_support,
        dual,
        intercept,
        prob_a,
        prob_b,
        svm_type=0,
        kernel="rbf",
        degree=3,
        cache_size=200.0,
        coef0=0.0,
        gamma=float(gamma),
    )
    return -decision.ravel()  # scikit-learn's sign for two classes


def platt_sigmoid(decision: np.ndarray, y: np.ndarray, max_iter: int = 100) -> tuple[float, float]:
    """Fit Platt's sigmoid ``P(y=1 | f) = 1 / (1 + exp(A f + B))`` to decision values ``f``.

    Platt's (1999) maximum-likelihood fit with his smoothed targets ``(n+ + 1)/(n+ + 2)`` and
    ``1/(n- + 2)``, solved by the Newton method with backtracking of Lin, Lin & Weng (2007, "A note on
    Platt's probabilistic outputs for support vector machines", Mach. Learn. 68:267), the algorithm of
    libsvm's ``sigmoid_train``.

    Returns
    -------
    (A, B)
    """
    f = np.asarray(decision, dtype=float)
    y = np.asarray(y)
    n_pos = int((y == 1).sum())
    n_neg = y.size - n_pos
    t = np.where(y == 1, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))
    A, B = 0.0, float(np.log((n_neg + 1.0) / (n_pos + 1.0)))

    def objective(a: float, b: float) -> float:
        z = f * a + b
        return float(
            np.sum(np.where(z >= 0, t * z + np.log1p(np.exp(-z)), (t - 1) * z + np.log1p(np.exp(z))))
        )

    value = objective(A, B)
    sigma, eps = 1e-12, 1e-5
    for _ in range(max_iter):
        z = f * A + B
        p = np.where(
            z >= 0,
            np.exp(-np.clip(z, 0, None)) / (1 + np.exp(-np.clip(z, 0, None))),
            1 / (1 + np.exp(np.clip(z, None, 0))),
        )
        q = 1 - p
        d2 = p * q
        h11, h22, h21 = sigma + np.sum(f * f * d2), sigma + np.sum(d2), np.sum(f * d2)
        d1 = t - p
        g1, g2 = np.sum(f * d1), np.sum(d1)
        if abs(g1) < eps and abs(g2) < eps:
            break
        det = h11 * h22 - h21 * h21
        dA, dB = -(h22 * g1 - h21 * g2) / det, -(-h21 * g1 + h11 * g2) / det
        gd = g1 * dA + g2 * dB
        step = 1.0
        while step >= 1e-10:
            new_value = objective(A + step * dA, B + step * dB)
            if new_value < value + 1e-4 * step * gd:
                A, B, value = A + step * dA, B + step * dB, new_value
                break
            step /= 2
        else:
            break
    return float(A), float(B)


class TunedPlattSVM(ClassifierMixin, BaseEstimator):
    """An RBF support vector machine, (C, gamma) tuned by grid search, with Platt-scaled probabilities.

    ``fit`` (1) chooses ``(C, gamma)`` by a grid search with stratified, shuffled K-fold cross-validation on
    ROC AUC of the decision function (features standardised inside each fold; ties go to the first grid point,
    as in ``GridSearchCV``); (2) fits the chosen SVM with Platt scaling: on each of ``calibration_folds``
    stratified folds, an SVM fitted on the other folds is calibrated by a sigmoid (:func:`platt_sigmoid`) on
    its held-out decision values; ``predict_proba`` averages the folds' probabilities — what
    ``CalibratedClassifierCV(method="sigmoid", ensemble=True)`` does, written out here because that class took
    0.5 s per fit on 40 patients (its L-BFGS sigmoid fit and validation overhead), 30 times as long as this.

    Why not ``SVC(probability=True)``: scikit-learn 1.9 deprecated it, and libsvm fits one sigmoid to decision
    values pooled over its internal folds and applies it to a refitted SVM.  With a small ``C`` on a few dozen
    patients nearly every dual coefficient sits at its bound, the SVM's intercept is arbitrary, and that
    pooled sigmoid came out flat or even inverted here (held-out AUC 0.18 and 0.50 in two of three folds of a
    synthetic 96-patient cohort whose decision values ranked at AUC 0.9).  Calibrating each fold's SVM on its
    own held-out decision values avoids it.

    Parameters
    ----------
    C, gamma
        The grid (``gamma`` may hold ``"scale"``).
    cv_folds
        Folds of the grid search.
    calibration_folds
        Folds of the Platt scaling.
    random_state
        Seed of both fold splits (and of the SVC, which uses it only for probability=True).
    max_extensions
        How many times the grid may grow on each side (0: the grid as given).  While the best point has the
        largest (smallest) ``C``, or the largest (smallest) numeric ``gamma``, the grid gains the next value
        beyond it, one grid step further (the ratio of the last two values); like the LASSO path
        (:mod:`splkit.selection.lasso`), a search whose optimum sits at its edge has not found it.

    Attributes
    ----------
    best_params_, cv_results_
        As ``GridSearchCV``'s, over the final grid.
    grid_
        The final grid: ``{"C": [...], "gamma": [...]}``, the given values plus the extensions.
    at_edge_
        Whether the best point still lies at an edge of the final grid after ``max_extensions``.
    """

    def __init__(
        self,
        C: Sequence[float] = (1.0,),
        gamma: Sequence[Any] = ("scale",),
        cv_folds: int = 5,
        calibration_folds: int = 5,
        random_state: int = 0,
        max_extensions: int = 0,
    ):
        self.C = C
        self.gamma = gamma
        self.cv_folds = cv_folds
        self.calibration_folds = calibration_folds
        self.random_state = random_state
        self.max_extensions = max_extensions

    def _svc(self, Z: np.ndarray, y: np.ndarray, C: float, gamma: Any) -> SVC:
        """An RBF SVC fitted on standardised ``Z``."""
        return SVC(kernel="rbf", C=C, gamma=gamma, random_state=int(self.random_state)).fit(Z, y)

    def _svm(self, X: np.ndarray, y: np.ndarray, C: float, gamma: Any) -> tuple[np.ndarray, np.ndarray, SVC]:
        """Standardise (mean, scale of ``X``) and fit an RBF SVC."""
        mean, scale = _standardiser(X)
        return mean, scale, self._svc((X - mean) / scale, y, C, gamma)

    @staticmethod
    def _decision(model: tuple[np.ndarray, np.ndarray, SVC], X: np.ndarray) -> np.ndarray:
        mean, scale, svc = model
        return svc.decision_function((X - mean) / scale)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags

    def fit(self, X: Any, y: Any) -> TunedPlattSVM:
        # positional, as before: fitted on named columns, it also scores unnamed arrays (SHAP)
        X, y = validate_data(self, _unnamed(X), y, dtype=np.float64)
        check_classification_targets(y)
        if (kind := type_of_target(y, input_name="y")) != "binary":
            raise ValueError(f"Only binary classification is supported. The type of the target is {kind}.")
        self.classes_, y = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"The number of classes has to be greater than one; got {len(self.classes_)} class"
            )
        Cs, gammas = [float(c) for c in self.C], [_gamma(g) for g in self.gamma]
        # each fold standardised once, for every grid point (the same arithmetic as _svm per point)
        standardised = []
        for train, test in folds(self.cv_folds, self.random_state).split(X, y):
            mean, scale = _standardiser(X[train])
            standardised.append(((X[train] - mean) / scale, y[train], (X[test] - mean) / scale, y[test]))
        scored: dict[tuple[float, Any], np.ndarray] = {}
        for extension in range(int(self.max_extensions) + 1):
            grid = [(c, g) for c in Cs for g in gammas]
            for point in grid:
                if point not in scored:
                    scored[point] = np.array(
                        [
                            _auc(y_test, rbf_decision(Z_train, y_train, Z_test, *point, self.random_state))
                            for Z_train, y_train, Z_test, y_test in standardised
                        ]
                    )
            scores = np.array([scored[point] for point in grid])
            means = dict(zip(grid, scores.mean(axis=1), strict=True))
            best = int(np.argmax(scores.mean(axis=1)))
            edges = _rising_edges(Cs, gammas, grid[best], means)
            if not edges or extension == int(self.max_extensions):
                break
            Cs, gammas = _extend(Cs, "C", edges), _extend(gammas, "gamma", edges)
        self.best_params_ = {"C": grid[best][0], "gamma": grid[best][1]}
        self.grid_ = {"C": Cs, "gamma": gammas}
        self.at_edge_ = bool(edges)
        self.cv_results_ = {
            "params": [{"C": c, "gamma": g} for c, g in grid],
            "mean_test_score": scores.mean(axis=1),
            "split_test_scores": scores,
        }
        self.calibrated_ = []
        for train, test in folds(self.calibration_folds, self.random_state).split(X, y):
            model = self._svm(X[train], y[train], *grid[best])
            self.calibrated_.append((model, platt_sigmoid(self._decision(model, X[test]), y[test])))
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "calibrated_")
        X = validate_data(self, _unnamed(X), dtype=np.float64, reset=False)
        positive = np.zeros(X.shape[0])
        for model, (a, b) in self.calibrated_:
            positive += expit(-(a * self._decision(model, X) + b))
        positive /= len(self.calibrated_)
        return np.column_stack([1 - positive, positive])

    def predict(self, X: Any) -> np.ndarray:
        proba = self.predict_proba(X)  # first: raises NotFittedError before fit
        return self.classes_[np.argmax(proba, axis=1)]


def _numeric(values: Sequence[Any]) -> list[float]:
    return sorted(v for v in values if not isinstance(v, str))


def _edges(Cs: list[float], gammas: list[Any], C: float, gamma: Any) -> set[tuple[str, str]]:
    """The edges of the grid the point (C, gamma) sits on: ``("C", "high")``, ``("gamma", "low")``, ..."""
    edges = set()
    for name, values, value in (("C", Cs, C), ("gamma", gammas, gamma)):
        numbers = _numeric(values)
        if len(numbers) < 2 or isinstance(value, str):
            continue
        if value == numbers[-1]:
            edges.add((name, "high"))
        elif value == numbers[0]:
            edges.add((name, "low"))
    return edges


def _rising_edges(
    Cs: list[float], gammas: list[Any], best: tuple[float, Any], mean: dict[tuple[float, Any], float]
) -> set[tuple[str, str]]:
    """The edges ``best`` sits on where the score still rises towards the edge (a flat end is no edge:
    e.g. AUC does not change over small C, where the RBF SVM ranks like a kernel density difference)."""
    found = set()
    for name, side in _edges(Cs, gammas, *best):
        numbers = _numeric(Cs if name == "C" else gammas)
        inward = numbers[-2] if side == "high" else numbers[1]
        neighbour = (inward, best[1]) if name == "C" else (best[0], inward)
        if mean[best] > mean[neighbour] + 1e-12:
            found.add((name, side))
    return found


def _extend(values: list[Any], name: str, edges: set[tuple[str, str]]) -> list[Any]:
    """``values`` with one more value beyond each edge of ``name`` in ``edges`` (one grid step further)."""
    numbers = _numeric(values)
    values = list(values)
    if (name, "high") in edges:
        values.append(float(f"{numbers[-1] * numbers[-1] / numbers[-2]:.12g}"))
    if (name, "low") in edges:
        values.insert(0, float(f"{numbers[0] * numbers[0] / numbers[1]:.12g}"))
    return values


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC by the Mann–Whitney rank sum (ties count one half); equals sklearn's roc_auc_score."""
    ranks = rankdata(score)
    n_pos, n_neg = int(y.sum()), y.size - int(y.sum())
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def svm_search(
    C: Sequence[float], gamma: Sequence[Any], cv_folds: int, random_state: int, max_extensions: int = 0
) -> TunedPlattSVM:
    """The models' classifier: :class:`TunedPlattSVM` with the given grid, folds and grid extensions."""
    return TunedPlattSVM(
        C=tuple(C),
        gamma=tuple(gamma),
        cv_folds=cv_folds,
        random_state=random_state,
        max_extensions=max_extensions,
    )


def svm_from_settings(models: Mapping[str, Any], random_state: int) -> TunedPlattSVM:
    """:func:`svm_search` with the grid, folds and ``svm_grid_extensions`` of a profile's ``models`` section."""
    extensions = int(models.get("svm_grid_extensions", 0) or 0)
    return svm_search(models["svm_C"], models["svm_gamma"], models["cv_folds"], random_state, extensions)
