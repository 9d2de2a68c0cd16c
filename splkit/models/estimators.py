"""The building blocks of the five models, as scikit-learn estimators.

* :class:`ColumnSelector` keeps a fixed list of columns (the features selected in notebooks 03/04).
* :class:`TunedPlattSVM` is the SVM of the paper: standardisation, an RBF support vector machine with
  Platt-scaled probabilities (Platt 1999) and a grid search over (C, gamma) by stratified K-fold
  cross-validation on the data it is fitted on (the training cohort, or a training fold).
* :class:`StackedClassifier` is the leakage-free stacking of Wolpert (1992): the base model's score
  that feeds the meta model is out-of-fold on the data the stack is fitted on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit
from scipy.stats import rankdata
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data


class ColumnSelector(TransformerMixin, BaseEstimator):
    """Keep the named ``columns`` of a DataFrame (or the column positions of an array), in that order.

    Parameters
    ----------
    columns
        Column names (positions for array input); fitting fails naming the columns the input lacks.
    """

    def __init__(self, columns: Sequence[str] = ()):
        self.columns = columns

    def fit(self, X: pd.DataFrame, y: Any = None) -> ColumnSelector:
        if len(self.columns) == 0:
            raise ValueError("ColumnSelector has no columns to keep (an empty feature selection)")
        if isinstance(X, pd.DataFrame):
            missing = [c for c in self.columns if c not in X.columns]
            self.feature_names_in_, self.n_features_in_ = np.asarray(X.columns, dtype=object), X.shape[1]
        else:
            X = validate_data(self, X)
            missing = [c for c in self.columns if not isinstance(c, int | np.integer) or c >= X.shape[1]]
        if missing:
            raise ValueError(f"input lacks the selected columns {missing[:10]} ({len(missing)} in all)")
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        check_is_fitted(self, "n_features_in_")
        if isinstance(X, pd.DataFrame):
            return X[list(self.columns)]
        return validate_data(self, X, reset=False)[:, list(self.columns)]

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray(list(self.columns), dtype=object)


def _gamma(value: Any) -> Any:
    """``gamma`` values from YAML: the strings ``scale``/``auto`` or a positive number."""
    if isinstance(value, str) and value in {"scale", "auto"}:
        return value
    gamma = float(value)
    if gamma <= 0:
        raise ValueError(f"svm_gamma values must be 'scale', 'auto' or positive numbers, got {value!r}")
    return gamma


def folds(n_splits: int, random_state: int) -> StratifiedKFold:
    """The stratified, shuffled folds used for every search and every out-of-fold score."""
    return StratifiedKFold(n_splits=int(n_splits), shuffle=True, random_state=int(random_state))


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
    """

    def __init__(
        self,
        C: Sequence[float] = (1.0,),
        gamma: Sequence[Any] = ("scale",),
        cv_folds: int = 5,
        calibration_folds: int = 5,
        random_state: int = 0,
    ):
        self.C = C
        self.gamma = gamma
        self.cv_folds = cv_folds
        self.calibration_folds = calibration_folds
        self.random_state = random_state

    def _svm(self, X: np.ndarray, y: np.ndarray, C: float, gamma: Any) -> tuple[np.ndarray, np.ndarray, SVC]:
        """Standardise (mean, scale of ``X``) and fit an RBF SVC."""
        mean, scale = X.mean(axis=0), X.std(axis=0)
        scale[scale == 0] = 1.0
        svc = SVC(kernel="rbf", C=C, gamma=gamma, random_state=int(self.random_state))
        return mean, scale, svc.fit((X - mean) / scale, y)

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
        grid = [(float(c), _gamma(g)) for c in self.C for g in self.gamma]
        splits = list(folds(self.cv_folds, self.random_state).split(X, y))
        scores = np.empty((len(grid), len(splits)))
        for i, (c, g) in enumerate(grid):
            for j, (train, test) in enumerate(splits):
                decision = self._decision(self._svm(X[train], y[train], c, g), X[test])
                scores[i, j] = _auc(y[test], decision)
        best = int(np.argmax(scores.mean(axis=1)))
        self.best_params_ = {"C": grid[best][0], "gamma": grid[best][1]}
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


def _take(X: Any, columns: Sequence[Any]) -> Any:
    """Named columns of a DataFrame, or column positions of an array (an error names the positions)."""
    if isinstance(X, pd.DataFrame):
        return X[list(columns)]
    if any(c >= np.shape(X)[1] for c in columns):
        raise ValueError(f"input has {np.shape(X)[1]} feature(s); the stack reads columns {list(columns)}")
    return np.asarray(X)[:, list(columns)]


def _unnamed(X: Any) -> Any:
    """A DataFrame's values (positional input), anything else as given."""
    return X.to_numpy() if isinstance(X, pd.DataFrame) else X


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC by the Mann–Whitney rank sum (ties count one half); equals sklearn's roc_auc_score."""
    ranks = rankdata(score)
    n_pos, n_neg = int(y.sum()), y.size - int(y.sum())
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def svm_search(C: Sequence[float], gamma: Sequence[Any], cv_folds: int, random_state: int) -> TunedPlattSVM:
    """The models' classifier: :class:`TunedPlattSVM` with the given grid and folds."""
    return TunedPlattSVM(C=tuple(C), gamma=tuple(gamma), cv_folds=cv_folds, random_state=random_state)


def svm_from_settings(models: Mapping[str, Any], random_state: int) -> TunedPlattSVM:
    """:func:`svm_search` with the grid and folds of a profile's ``models`` section."""
    return svm_search(models["svm_C"], models["svm_gamma"], models["cv_folds"], random_state)


class StackedClassifier(ClassifierMixin, BaseEstimator):
    """A meta model on a base model's out-of-fold score plus further columns (Wolpert 1992).

    ``fit`` computes the base model's scores on the training rows by cross-validation (``cross_val_predict``,
    so no row is scored by a model that saw it), fits the meta model on those scores plus ``meta_columns``,
    and refits the base model on all training rows; ``predict_proba`` scores new rows with that refitted base
    model and feeds the meta model.  With ``stacking="in_sample"`` the meta model is instead trained on the
    refitted base model's in-sample scores, the common (optimistic) practice, kept only to show how much it
    inflates results.

    Parameters
    ----------
    base
        Classifier on ``base_columns`` (e.g. the DLR SVM, selection included).
    meta
        Classifier on ``[score_name] + meta_columns`` (e.g. the CDLR SVM with clinical preprocessing).
    base_columns, meta_columns
        Input columns of the two models.
    cv_folds, random_state
        Folds of the out-of-fold base scores.
    score_name
        Name of the base score column in the meta model's input.
    stacking
        ``"oof"`` (default) or ``"in_sample"``.
    freeze_steps
        Names of steps of a pipeline ``base`` that the inner folds reuse as fitted on all rows given to
        ``fit`` instead of refitting (e.g. ``("select",)``: the out-of-fold base scores then vary the
        classifier but not the feature selection).  Used when the stack itself sits inside an outer fold: the
        outer held-out rows are still never seen, and the expensive selection is fitted once per outer fold.
    """

    def __init__(
        self,
        base: BaseEstimator,
        meta: BaseEstimator,
        base_columns: Sequence[str] = (),
        meta_columns: Sequence[str] = (),
        cv_folds: int = 5,
        random_state: int = 0,
        score_name: str = "DLR_score",
        stacking: str = "oof",
        freeze_steps: Sequence[str] = (),
    ):
        self.base = base
        self.meta = meta
        self.base_columns = base_columns
        self.meta_columns = meta_columns
        self.cv_folds = cv_folds
        self.random_state = random_state
        self.score_name = score_name
        self.stacking = stacking
        self.freeze_steps = freeze_steps

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False  # the base model's positive-class score feeds the meta
        return tags

    def meta_frame(self, X: pd.DataFrame, base_score: np.ndarray) -> pd.DataFrame:
        """The meta model's input: the base score column, then ``meta_columns`` (an array for arrays)."""
        score = np.asarray(base_score, dtype=float)
        if not isinstance(X, pd.DataFrame):
            return np.column_stack([score, _take(X, self.meta_columns)])
        frame = X[list(self.meta_columns)].copy()
        frame.insert(0, self.score_name, score)
        return frame

    def fit(self, X: pd.DataFrame, y: Any, base_scores: Any = None) -> StackedClassifier:
        """Fit on ``X`` (columns by name; by position for arrays); ``base_scores`` may supply
        precomputed out-of-fold base scores for ``X``."""
        if self.stacking not in {"oof", "in_sample"}:
            raise ValueError(f"stacking must be 'oof' or 'in_sample', got {self.stacking!r}")
        if not isinstance(X, pd.DataFrame):  # a DataFrame is used by column name, other columns ignored
            X, y = validate_data(self, X, y)
        y = np.asarray(y)
        check_classification_targets(y)
        if (kind := type_of_target(y, input_name="y")) != "binary":
            raise ValueError(f"Only binary classification is supported. The type of the target is {kind}.")
        X_base = _take(X, self.base_columns)
        self.base_ = clone(self.base).fit(X_base, y)
        if self.stacking == "in_sample":
            scores = self.base_.predict_proba(X_base)[:, 1]
        elif base_scores is not None:
            scores = np.asarray(base_scores, dtype=float)
            if scores.shape != (len(X),):
                raise ValueError(f"base_scores has shape {scores.shape}, expected ({len(X)},)")
        else:
            cv = folds(self.cv_folds, self.random_state)
            scores = cross_val_predict(self._inner_base(), X_base, y, cv=cv, method="predict_proba")[:, 1]
        self.train_base_scores_ = scores
        self.meta_ = clone(self.meta).fit(self.meta_frame(X, scores), y)
        self.classes_ = self.meta_.classes_
        return self

    def _inner_base(self) -> BaseEstimator:
        """The base model of the inner folds: a clone, with ``freeze_steps`` taken fitted from ``base_``."""
        if not self.freeze_steps:
            return clone(self.base)
        if not isinstance(self.base_, Pipeline):
            raise TypeError("freeze_steps needs a Pipeline as base")
        unknown = set(self.freeze_steps) - set(self.base_.named_steps)
        if unknown:
            raise ValueError(f"freeze_steps {sorted(unknown)} are not steps of the base pipeline")
        return Pipeline(
            [
                (name, FrozenEstimator(step) if name in self.freeze_steps else clone(step))
                for name, step in self.base_.steps
            ]
        )

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self, "meta_")
        if not isinstance(X, pd.DataFrame):
            X = validate_data(self, X, reset=False)
        score = self.base_.predict_proba(_take(X, self.base_columns))[:, 1]
        return self.meta_.predict_proba(self.meta_frame(X, score))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        proba = self.predict_proba(X)  # first: raises NotFittedError before fit
        return self.classes_[np.argmax(proba, axis=1)]


def best_params(estimator: BaseEstimator) -> dict[str, Any]:
    """The (C, gamma) chosen by the first grid search found in ``estimator`` (a pipeline or a stack)."""
    if isinstance(estimator, TunedPlattSVM):
        return dict(estimator.best_params_)
    if isinstance(estimator, StackedClassifier):
        return best_params(estimator.meta_)
    if isinstance(estimator, Pipeline):
        return next((found for _, step in reversed(estimator.steps) if (found := best_params(step))), {})
    return {}
