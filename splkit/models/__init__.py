"""The five models of the study (Clinical, Rad, DTL, DLR, CDLR) as scikit-learn estimators.

The Clinical logistic regression is fitted in notebook 02 (:mod:`splkit.clinical`); this package fits
the support vector machines of notebook 05 on the training cohort only, writes their out-of-fold
training scores and validation scores to the predictions table, and saves the fitted models.
"""

from splkit.models.data import load_cohort
from splkit.models.estimators import (
    ColumnSelector,
    StackedClassifier,
    best_params,
    folds,
    svm_from_settings,
    svm_search,
)
from splkit.models.fit import (
    IN_SAMPLE,
    NESTING,
    SCORE_NAME,
    FittedModels,
    default_selector,
    fit_models,
    load_model,
    model_inputs,
    model_path,
    save_model,
)

__all__ = [
    "IN_SAMPLE",
    "NESTING",
    "SCORE_NAME",
    "ColumnSelector",
    "FittedModels",
    "StackedClassifier",
    "best_params",
    "default_selector",
    "fit_models",
    "folds",
    "load_cohort",
    "load_model",
    "model_inputs",
    "model_path",
    "save_model",
    "svm_from_settings",
    "svm_search",
]
