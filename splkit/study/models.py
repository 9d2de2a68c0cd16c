"""The fitted models of a study (chapter 5) and their training-fixed thresholds.

Each model is applied exactly as :func:`splkit.models.fit.fit_models` scored the validation cohort:
Rad / DTL / DLR by their final pipeline (the selected columns → the tuned Platt SVM) on the candidate
features; the CDLR (and the in-sample variant) by the whole stack (the DLR fitted on all training
patients scores the patient, and that score with the clinical predictors feeds the meta SVM,
Wolpert 1992); the Clinical-SVM by its pipeline on the raw clinical predictors.  Scores are clipped
to [0, 1] as in ``predictions.csv``.  Thresholds are the Youden thresholds of the training cohort's
out-of-fold scores (``results.json`` ``models.thresholds_train_youden``); a patient is positive when
``score >= threshold`` (:mod:`splkit.stats.thresholds`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from splkit.models.available import has_clinical_arm
from splkit.models.estimators import StackedClassifier
from splkit.models.fit import model_names
from splkit.models.inputs import SCORE_NAME, load_model
from splkit.run.names import IN_SAMPLE
from splkit.run.report import load_results, lookup
from splkit.run.rundir import RunDir


def _in_sample_stack(saved: dict[str, Any], dlr: dict[str, Any]) -> StackedClassifier:
    """The in-sample stack of a payload saved before payloads carried it (same fitted parts)."""
    meta_columns = [c for c in saved["input_features"] if c != SCORE_NAME]
    stack = StackedClassifier(
        dlr["estimator"], saved["pipeline"], list(dlr["features"]), meta_columns, stacking="in_sample"
    )
    stack.base_, stack.meta_ = dlr["estimator"], saved["pipeline"]
    stack.classes_ = stack.meta_.classes_
    return stack


def applied_estimator(name: str, saved: dict[str, Any], run: RunDir | None = None) -> tuple[Any, list[str]]:
    """The estimator that scores new patients from a ``models/<Model>.joblib`` payload, and its inputs."""
    if "stack" in saved:
        stack = saved["stack"]
        return stack, [*stack.base_columns, *stack.meta_columns]
    if name == IN_SAMPLE and run is not None:
        stack = _in_sample_stack(saved, load_model(run, "DLR"))
        return stack, [*stack.base_columns, *stack.meta_columns]
    if "pipeline" in saved:
        return saved["pipeline"], list(saved["input_features"])
    return saved["estimator"], list(saved["features"])


class StudyModels:
    """The fitted SVM models of a study, applied to a feature frame.

    Attributes
    ----------
    estimators_ : dict
        Model name → fitted estimator (a pipeline or a :class:`~splkit.models.StackedClassifier`).
    inputs_ : dict
        Model name → the feature columns it reads.
    thresholds_ : dict
        Model name → the training cohort's Youden threshold (every model of the study, Clinical too).
    best_params_ : dict
        Model name → the chosen ``C`` and ``gamma``.
    """

    def __init__(
        self,
        estimators: Mapping[str, BaseEstimator],
        inputs: Mapping[str, Sequence[str]],
        thresholds: Mapping[str, float],
        best_params: Mapping[str, Mapping[str, Any]] | None = None,
    ):
        self.estimators_ = dict(estimators)
        self.inputs_ = {name: list(columns) for name, columns in inputs.items()}
        self.thresholds_ = {name: float(value) for name, value in thresholds.items()}
        self.best_params_ = {name: dict(p) for name, p in (best_params or {}).items()}

    @property
    def names(self) -> list[str]:
        return list(self.estimators_)

    @classmethod
    def from_run(cls, run: str | Path, settings: Mapping[str, Any]) -> StudyModels:
        """The models notebook 05 saved (those the profile's ``models`` section fits) and the thresholds."""
        run = RunDir(run)
        estimators, inputs, params = {}, {}, {}
        for name in model_names(settings["models"], clinical_arm=has_clinical_arm(run.root)):
            saved = load_model(run, name)
            estimators[name], inputs[name] = applied_estimator(name, saved, run)
            params[name] = saved.get("best_params", {})
        return cls(estimators, inputs, training_thresholds(run), params)

    def score(self, name: str, X: pd.DataFrame) -> np.ndarray:
        """Model ``name``'s probability of the positive class for the rows of ``X``, clipped to [0, 1]."""
        columns = self.inputs_[name]
        missing = [c for c in columns if c not in X.columns]
        if missing:
            raise ValueError(
                f"model {name!r} needs the features {missing[:10]}, absent from the feature frame"
            )
        proba = self.estimators_[name].predict_proba(X[columns])[:, 1]
        return np.clip(np.asarray(proba, dtype=float), 0.0, 1.0)


def training_thresholds(run: str | Path) -> dict[str, float]:
    """Each model's Youden threshold on the training cohort, as notebook 05 recorded it."""
    results = load_results(run)
    thresholds = dict(lookup(results, "models.thresholds_train_youden") or {})
    for name, entry in (lookup(results, "models") or {}).items():
        value = lookup(entry, "train.threshold") if isinstance(entry, Mapping) else None
        if name not in thresholds and value is not None:
            thresholds[name] = value
    return {name: float(value) for name, value in thresholds.items() if value is not None}
