"""The clinical stage of a fitted study: the chapter-2 logistic model and its predictors, for any cohort.

:class:`ClinicalStage` holds the fitted pipeline of notebook 02 (imputation with training medians /
modes, encoding by the data dictionary, logistic regression; :func:`splkit.clinical.make_clinical_pipeline`)
and the predictors it selected.  ``fit`` runs the two-step selection of
:class:`splkit.clinical.selection.SelectedClinicalModel` on a cohort's training patients;
:meth:`ClinicalStage.from_run` takes what notebook 02 saved (``models/Clinical.joblib``).
``transform`` returns the raw predictor columns of any cohort (the SVM models encode them with their
own training-fitted encoder); ``predict_proba`` is the Clinical model's probability of the positive
class.  A predictor the cohort lacks is an error naming it.

Reference: the two-step (univariate, then multivariable) logistic regression of Wei et al., Front.
Oncol. 2026 (doi:10.3389/fonc.2026.1786674).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from splkit.run.rundir import RunDir


class MissingPredictorError(ValueError):
    """The cohort lacks a clinical predictor of the study."""


def clinical_table(cohort: Any) -> pd.DataFrame:
    """The clinical table of a :class:`splkit.cohort.Cohort` (its ``table``), or a DataFrame as given."""
    return cohort if isinstance(cohort, pd.DataFrame) else cohort.table


class ClinicalStage(TransformerMixin, BaseEstimator):
    """The chapter-2 clinical model: raw predictor columns (``transform``) and their logistic score.

    Parameters
    ----------
    types, levels
        The data dictionary's variable types and ordered levels (``splkit.cohort.dictionary_spec``).
    univariate_p, multivariable_p
        The selection thresholds of ``fit`` (``clinical.univariate_p``, ``clinical.multivariable_p``).

    Attributes
    ----------
    predictors_ : list of str
        The clinical predictors (raw columns of the cohort table).
    pipeline_ : sklearn.pipeline.Pipeline
        Imputation + encoding + logistic regression, fitted on the training cohort.
    """

    def __init__(
        self,
        types: Mapping[str, str] | None = None,
        levels: Mapping[str, list] | None = None,
        univariate_p: float = 0.05,
        multivariable_p: float = 0.05,
    ):
        self.types = types
        self.levels = levels
        self.univariate_p = univariate_p
        self.multivariable_p = multivariable_p

    def fit(self, cohort: Any, y: Any = None) -> ClinicalStage:
        """Select the predictors and fit the logistic model on the training patients of ``cohort``.

        ``cohort`` is a :class:`splkit.cohort.Cohort` (or its table), with ``cohort`` and ``label``
        columns; only rows with ``cohort == "train"`` are used, on the included variables.
        """
        from splkit.clinical.selection import SelectedClinicalModel

        table = clinical_table(cohort)
        usable = (
            list(cohort.clinical_columns) if hasattr(cohort, "clinical_columns") else list(self.types or {})
        )
        train = table[table["cohort"] == "train"]
        model = SelectedClinicalModel(
            dict(self.types or {}),
            {k: list(v) for k, v in (self.levels or {}).items()},
            univariate_p=self.univariate_p,
            multivariable_p=self.multivariable_p,
        ).fit(train[usable], train["label"].astype(int))
        self.predictors_, self.pipeline_ = list(model.predictors_), model.pipeline_
        self.classes_ = np.array([0, 1])
        return self

    @classmethod
    def from_run(cls, run: str | Path, settings: Mapping[str, Any] | None = None) -> ClinicalStage:
        """The model notebook 02 saved in ``models/Clinical.joblib`` (pipeline and predictors)."""
        path = RunDir(run).model("Clinical")
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: run notebook 02 (the clinical model) first")
        saved = joblib.load(path)
        fitted = saved.get("settings", {})
        clin = dict(settings["clinical"]) if settings is not None else {}
        stage = cls(
            types=dict(fitted.get("types") or {}),
            levels={k: list(v) for k, v in (fitted.get("levels") or {}).items()},
            univariate_p=float(fitted.get("univariate_p", clin.get("univariate_p", 0.05))),
            multivariable_p=float(fitted.get("multivariable_p", clin.get("multivariable_p", 0.05))),
        )
        stage.predictors_ = [str(p) for p in saved["features"]]
        stage.pipeline_ = saved["estimator"]
        stage.classes_ = np.array([0, 1])
        return stage

    def transform(self, cohort: Any) -> pd.DataFrame:
        """The raw predictor columns of ``cohort`` (index ``patient``), values as given (missing kept).

        Raises
        ------
        MissingPredictorError
            The cohort's table lacks a predictor (every missing one is named).
        """
        check_is_fitted(self, "predictors_")
        table = clinical_table(cohort)
        missing = [p for p in self.predictors_ if p not in table.columns]
        if missing:
            raise MissingPredictorError(
                f"the cohort lacks the clinical predictor{'s' if len(missing) > 1 else ''} "
                f"{', '.join(repr(p) for p in missing)} of the study (its clinical model uses "
                f"{', '.join(self.predictors_)}); add the column to clinical.csv (missing values may be empty)"
            )
        out = table[self.predictors_].copy()
        out.index.name = "patient"
        return out

    def predict_proba(self, X: Any) -> np.ndarray:
        """``[P(benign), P(positive)]`` of the Clinical model, for a cohort or a frame of predictors."""
        check_is_fitted(self, "pipeline_")
        frame = self.transform(X)
        return self.pipeline_.predict_proba(frame)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "predictors_")
        return np.asarray(self.predictors_, dtype=object)

    def describe(self) -> dict[str, Any]:
        """The manifest entry: the predictors and their dictionary types."""
        check_is_fitted(self, "predictors_")
        types = dict(self.types or {})
        return {"predictors": list(self.predictors_), "types": {p: types.get(p) for p in self.predictors_}}
