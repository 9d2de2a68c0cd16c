"""The building blocks of the five models, as scikit-learn estimators.

* :class:`ColumnSelector` keeps a fixed list of columns (the features selected in notebooks 03/04).
* :class:`~splkit.models.svm.TunedPlattSVM` (in :mod:`splkit.models.svm`) is the SVM of the paper.
* :class:`StackedClassifier` is the leakage-free stacking of Wolpert (1992): the base model's score
  that feeds the meta model is out-of-fold on the data the stack is fitted on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import cross_val_predict
from sklearn.pipeline import Pipeline
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from splkit.models.svm import (  # noqa: F401 - re-exported: the models' SVM and its factories
    TunedPlattSVM,
    platt_sigmoid,
    svm_from_settings,
    svm_search,
)
from splkit.stats.folds import folds


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


def _take(X: Any, columns: Sequence[Any]) -> Any:
    """Named columns of a DataFrame, or column positions of an array (an error names the positions)."""
    if isinstance(X, pd.DataFrame):
        return X[list(columns)]
    if any(c >= np.shape(X)[1] for c in columns):
        raise ValueError(f"input has {np.shape(X)[1]} feature(s); the stack reads columns {list(columns)}")
    return np.asarray(X)[:, list(columns)]


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


def search_grid(estimator: BaseEstimator) -> dict[str, Any]:
    """The final (C, gamma) grid of that search (``{"C", "gamma", "at_edge"}``), found like :func:`best_params`."""
    if isinstance(estimator, TunedPlattSVM):
        grid = getattr(estimator, "grid_", {"C": list(estimator.C), "gamma": list(estimator.gamma)})
        return {**grid, "at_edge": bool(getattr(estimator, "at_edge_", False))}
    if isinstance(estimator, StackedClassifier):
        return search_grid(estimator.meta_)
    if isinstance(estimator, Pipeline):
        return next((found for _, step in reversed(estimator.steps) if (found := search_grid(step))), {})
    return {}
