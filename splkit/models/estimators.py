"""The building blocks of the five models, as scikit-learn estimators.

* :class:`ColumnSelector` keeps a fixed list of columns (the features selected in notebooks 03/04).
* :func:`svm_search` is the SVM of the paper: standardisation, an RBF support vector machine with
  Platt-scaled probabilities (Platt 1999) and a grid search over (C, gamma) by stratified K-fold
  cross-validation on the data it is fitted on (the training cohort, or a training fold).
* :func:`clinical_preprocessor` imputes and encodes clinical variables by the project's missing-value
  rule (median for numeric/ordinal, most frequent for binary/categorical), fitted on training only.
* :class:`StackedClassifier` is the leakage-free stacking of Wolpert (1992): the base model's score
  that feeds the meta model is out-of-fold on the data the stack is fitted on.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.svm import SVC
from sklearn.utils.validation import check_is_fitted

#: Variable types of ``variables.csv`` and how each is imputed.
NUMERIC_TYPES = ("numeric", "ordinal")

CATEGORICAL_TYPES = ("binary", "categorical")


class ColumnSelector(TransformerMixin, BaseEstimator):
    """Keep the named ``columns`` of a DataFrame, in that order.

    Parameters
    ----------
    columns
        Column names; fitting fails with the missing names if the frame lacks any of them.
    """

    def __init__(self, columns: Sequence[str] = ()):
        self.columns = columns

    def fit(self, X: pd.DataFrame, y: Any = None) -> ColumnSelector:
        if not isinstance(X, pd.DataFrame):
            raise TypeError("ColumnSelector needs a pandas DataFrame with named columns")
        if len(self.columns) == 0:
            raise ValueError("ColumnSelector has no columns to keep (an empty feature selection)")
        missing = [c for c in self.columns if c not in X.columns]
        if missing:
            raise ValueError(
                f"input lacks the selected feature columns {missing[:10]} ({len(missing)} in all)"
            )
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        check_is_fitted(self, "feature_names_in_")
        return X[list(self.columns)]

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray(list(self.columns), dtype=object)


class PlattSVC(SVC):
    """An RBF support vector machine with Platt-scaled probabilities (Platt 1999; Lin et al. 2007).

    ``SVC(kernel="rbf", probability=True)``: libsvm fits the sigmoid to decision values of an internal
    5-fold cross-validation seeded by ``random_state``, then refits the SVM on all rows.  scikit-learn
    1.9 deprecated the ``probability`` flag (removal planned for 1.11, beyond this project's pin) in
    favour of ``CalibratedClassifierCV(SVC(), ensemble=False)``, which computes the same kind of Platt
    scaling but measured about 7 times slower here; the deprecation warning is silenced for this class
    only.  When the pin moves to 1.11, replace this class by that calibrator.
    """

    def __init__(
        self, C: float = 1.0, gamma: Any = "scale", class_weight: Any = None, random_state: Any = None
    ):
        super().__init__(
            kernel="rbf",
            C=C,
            gamma=gamma,
            class_weight=class_weight,
            probability=True,
            random_state=random_state,
        )

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> PlattSVC:
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message="The `probability` parameter was deprecated", category=FutureWarning
            )
            return super().fit(X, y, sample_weight=sample_weight)


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


def svm_search(
    C: Sequence[float],
    gamma: Sequence[Any],
    cv_folds: int,
    random_state: int,
) -> GridSearchCV:
    """StandardScaler → SVC(RBF, Platt probabilities), (C, gamma) tuned by stratified CV on ROC AUC.

    Probabilities come from libsvm's Platt scaling (see :class:`PlattSVC`).

    Parameters
    ----------
    C, gamma
        The grid (``gamma`` may hold ``"scale"``).
    cv_folds
        Number of stratified folds of the search.
    random_state
        Seed of the folds and of the Platt scaling.
    """
    pipeline = Pipeline([("scale", StandardScaler()), ("svc", PlattSVC(random_state=int(random_state)))])
    grid = {"svc__C": [float(c) for c in C], "svc__gamma": [_gamma(g) for g in gamma]}
    return GridSearchCV(
        pipeline, grid, scoring="roc_auc", cv=folds(cv_folds, random_state), refit=True, n_jobs=1
    )


def svm_from_settings(models: Mapping[str, Any], random_state: int) -> GridSearchCV:
    """:func:`svm_search` with the grid and folds of a profile's ``models`` section."""
    return svm_search(models["svm_C"], models["svm_gamma"], models["cv_folds"], random_state)


def clinical_preprocessor(types: Mapping[str, str]) -> ColumnTransformer:
    """Impute and encode clinical variables; fitted on training rows only.

    Numeric and ordinal variables: median imputation.  Binary and categorical variables: most-frequent
    imputation, then one-hot encoding (one column for a binary variable; unknown levels at prediction
    time encode as all zeros).  Columns not named in ``types`` are passed through unchanged (e.g. the
    DLR score in the CDLR input).

    Parameters
    ----------
    types
        ``{column: type}`` with types from ``variables.csv`` (numeric, ordinal, binary, categorical).
    """
    numeric = [c for c, t in types.items() if t in NUMERIC_TYPES]
    categorical = [c for c, t in types.items() if t in CATEGORICAL_TYPES]
    unknown = {c: t for c, t in types.items() if t not in NUMERIC_TYPES + CATEGORICAL_TYPES}
    if unknown:
        raise ValueError(
            f"unknown variable types {unknown}; expected one of {NUMERIC_TYPES + CATEGORICAL_TYPES}"
        )
    transformers = []
    if numeric:
        transformers.append(("numeric", SimpleImputer(strategy="median"), numeric))
    if categorical:
        encode = Pipeline(
            [
                ("impute", SimpleImputer(strategy="most_frequent")),
                ("onehot", OneHotEncoder(drop="if_binary", handle_unknown="ignore", sparse_output=False)),
            ]
        )
        transformers.append(("categorical", encode, categorical))
    return ColumnTransformer(transformers, remainder="passthrough", verbose_feature_names_out=False)


class StackedClassifier(ClassifierMixin, BaseEstimator):
    """A meta model on a base model's out-of-fold score plus further columns (Wolpert 1992).

    ``fit`` computes the base model's scores on the training rows by cross-validation
    (``cross_val_predict``, so no row is scored by a model that saw it), fits the meta model on those
    scores plus ``meta_columns``, and refits the base model on all training rows; ``predict_proba``
    scores new rows with that refitted base model and feeds the meta model.  With
    ``stacking="in_sample"`` the meta model is instead trained on the refitted base model's in-sample
    scores, the common (optimistic) practice, kept only to show how much it inflates results.

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
    ):
        self.base = base
        self.meta = meta
        self.base_columns = base_columns
        self.meta_columns = meta_columns
        self.cv_folds = cv_folds
        self.random_state = random_state
        self.score_name = score_name
        self.stacking = stacking

    def meta_frame(self, X: pd.DataFrame, base_score: np.ndarray) -> pd.DataFrame:
        """The meta model's input: the base score column, then ``meta_columns``."""
        frame = X[list(self.meta_columns)].copy()
        frame.insert(0, self.score_name, np.asarray(base_score, dtype=float))
        return frame

    def fit(self, X: pd.DataFrame, y: Any, base_scores: Any = None) -> StackedClassifier:
        """Fit on ``X``; ``base_scores`` may supply precomputed out-of-fold base scores for ``X``."""
        if self.stacking not in {"oof", "in_sample"}:
            raise ValueError(f"stacking must be 'oof' or 'in_sample', got {self.stacking!r}")
        y = np.asarray(y)
        X_base = X[list(self.base_columns)]
        self.base_ = clone(self.base).fit(X_base, y)
        if self.stacking == "in_sample":
            scores = self.base_.predict_proba(X_base)[:, 1]
        elif base_scores is not None:
            scores = np.asarray(base_scores, dtype=float)
            if scores.shape != (len(X),):
                raise ValueError(f"base_scores has shape {scores.shape}, expected ({len(X)},)")
        else:
            cv = folds(self.cv_folds, self.random_state)
            scores = cross_val_predict(clone(self.base), X_base, y, cv=cv, method="predict_proba")[:, 1]
        self.train_base_scores_ = scores
        self.meta_ = clone(self.meta).fit(self.meta_frame(X, scores), y)
        self.classes_ = self.meta_.classes_
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self, "meta_")
        score = self.base_.predict_proba(X[list(self.base_columns)])[:, 1]
        return self.meta_.predict_proba(self.meta_frame(X, score))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def best_params(estimator: BaseEstimator) -> dict[str, Any]:
    """The (C, gamma) chosen by the first grid search found in ``estimator`` (a pipeline or a stack)."""
    if isinstance(estimator, GridSearchCV):
        return {k.rsplit("__", 1)[-1]: v for k, v in estimator.best_params_.items()}
    if isinstance(estimator, StackedClassifier):
        return best_params(estimator.meta_)
    if isinstance(estimator, Pipeline):
        for _, step in reversed(estimator.steps):
            found = best_params(step)
            if found:
                return found
    return {}
