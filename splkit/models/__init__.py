"""The five models of the study (Clinical, Rad, DTL, DLR, CDLR) as scikit-learn estimators.

The Clinical logistic regression is fitted in notebook 02 (:mod:`splkit.clinical`); this package fits
the support vector machines of notebook 05 on the training cohort only (:mod:`~splkit.models.fit`),
writes their out-of-fold training scores and validation scores to the predictions table, and saves the
fitted models (:mod:`~splkit.models.inputs`).
"""

from splkit.models.data import load_cohort
from splkit.models.estimators import (
    ColumnSelector,
    StackedClassifier,
    TunedPlattSVM,
    best_params,
    folds,
    svm_from_settings,
    svm_search,
)
from splkit.models.fit import NESTING, FittedModels, default_selector, fit_models
from splkit.models.inputs import (
    SCORE_NAME,
    ModelInputs,
    load_inputs,
    load_model,
    model_inputs,
    model_path,
    save_model,
)
from splkit.run.names import IN_SAMPLE

__all__ = [
    "IN_SAMPLE",
    "NESTING",
    "SCORE_NAME",
    "ColumnSelector",
    "FittedModels",
    "ModelInputs",
    "StackedClassifier",
    "TunedPlattSVM",
    "best_params",
    "default_selector",
    "fit_models",
    "folds",
    "load_cohort",
    "load_inputs",
    "load_model",
    "model_inputs",
    "model_path",
    "save_model",
    "svm_from_settings",
    "svm_search",
]
