"""What the models read from and write to the run directory: their inputs and their saved payloads.

:func:`load_inputs` gathers everything :func:`splkit.models.fit.fit_models` fits on (notebooks 01–04);
:func:`save_model` / :func:`load_model` write and read ``models/<Model>.joblib``; :func:`model_inputs`
rebuilds, for every patient, exactly the design matrix a saved estimator was fitted on (notebook 06
explains the models through it).  Every path comes from :class:`splkit.run.rundir.RunDir`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline

from splkit.models.data import (
    FEATURE_SOURCES,
    clinical_encoder,
    clinical_predictors,
    load_candidates,
    load_cohort,
    selected_features,
)
from splkit.run import predictions as predictions_table
from splkit.run.cache import atomic_dump
from splkit.run.names import IN_SAMPLE
from splkit.run.rundir import RunDir, model_filename

__all__ = [
    "SCORE_NAME",
    "ModelInputs",
    "load_inputs",
    "load_model",
    "model_filename",
    "model_inputs",
    "model_path",
    "payload",
    "save_model",
]

#: Name of the DLR score column in the CDLR's input.
SCORE_NAME = "DLR_score"


def model_path(run_path: str | Path, model: str) -> Path:
    """``<run>/models/<Model>.joblib`` (:meth:`splkit.run.rundir.RunDir.model`)."""
    return RunDir(run_path).model(model)


def save_model(run_path: str | Path, model: str, payload: dict[str, Any]) -> Path:
    """Write a model's joblib payload atomically."""
    return atomic_dump(payload, model_path(run_path, model))


def load_model(run_path: str | Path, model: str) -> dict[str, Any]:
    """The saved payload ``{"estimator", "features", "settings", "best_params", …}`` of a model."""
    path = model_path(run_path, model)
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run notebook 05 (or 02 for Clinical) first")
    return joblib.load(path)


@dataclass(frozen=True)
class ModelInputs:
    """Everything :func:`splkit.models.fit.fit_models` reads from the run directory (notebooks 01–04)."""

    cohort: pd.DataFrame
    rad: pd.DataFrame
    dtl: pd.DataFrame
    rad_selected: list[str]
    dtl_selected: list[str]
    clinical_columns: list[str]
    encoder: Any


def load_inputs(run_path: str | Path) -> ModelInputs:
    """Read the cohort, both candidate tables, the selections and the clinical predictors and encoder."""
    run_path = Path(run_path)
    cohort = load_cohort(run_path)
    rad = load_candidates(run_path, "radiomics", cohort.index)
    dtl = load_candidates(run_path, "deep", cohort.index)
    from splkit.models.available import has_clinical_arm

    clinical_arm = has_clinical_arm(run_path)  # an imaging-only cohort: no clinical predictors, no encoder
    clin_cols = clinical_predictors(run_path, cohort) if clinical_arm else []
    return ModelInputs(
        cohort=cohort,
        rad=rad,
        dtl=dtl,
        rad_selected=selected_features(run_path, "radiomics", rad),
        dtl_selected=selected_features(run_path, "deep", dtl),
        clinical_columns=clin_cols,
        encoder=clinical_encoder(run_path, clin_cols) if clinical_arm else None,
    )


def payload(
    estimator: BaseEstimator, features: list[str], settings: dict[str, Any], params: dict[str, Any]
) -> dict[str, Any]:
    """What ``models/<Model>.joblib`` holds.

    For models with clinical inputs the ``estimator`` is the SVM on the *encoded* clinical terms (all
    numeric, missing values imputed with training medians/modes), so that SHAP and other numeric tools
    can use it; the fitted ``encoder`` and the raw ``input_features`` are saved beside it, and
    ``pipeline`` takes the raw columns.
    """
    saved = {
        "estimator": estimator,
        "features": list(features),
        "settings": settings,
        "best_params": params,
    }
    if isinstance(estimator, Pipeline) and "prep" in estimator.named_steps:
        encoder = estimator.named_steps["prep"]
        saved.update(
            estimator=estimator.named_steps["svm"],
            features=[str(f) for f in encoder.get_feature_names_out()],
            encoder=encoder,
            input_features=list(features),
            pipeline=estimator,
        )
    return saved


def model_inputs(run_path: str | Path, model: str) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Rebuild a saved model's input frame for every patient: ``(X, y, cohort)``, indexed by patient.

    ``X`` (columns = the payload's ``features``) is what the saved ``estimator``'s ``predict_proba``
    takes; for models with clinical inputs it is the encoded, imputed design (see :func:`payload`).
    For the CDLR the DLR score column is the DLR's out-of-fold score on training and its
    full-training-fit score on validation (as read from ``predictions.csv``); for the in-sample
    stacking variant it is the in-sample score.
    """
    run = RunDir(run_path)
    saved = load_model(run, model)
    feats = list(saved.get("input_features", saved["features"]))
    cohort = load_cohort(run)
    patients = cohort.index
    parts = []
    wanted = set(feats)
    for source, (name, _) in FEATURE_SOURCES.items():
        if run.features(name).exists():
            table = load_candidates(run, source, patients)
            cols = [c for c in table.columns if c in wanted]
            if cols:
                parts.append(table[cols])
    clinical = [c for c in feats if c in cohort.columns]
    if clinical:
        parts.append(cohort[clinical])
    if SCORE_NAME in wanted:
        parts.append(_dlr_score(run, model, patients).rename(SCORE_NAME).to_frame())
    X = pd.concat(parts, axis=1) if parts else pd.DataFrame(index=patients)
    absent = [f for f in feats if f not in X.columns]
    if absent:
        raise ValueError(
            f"cannot rebuild inputs of {model}: features {absent[:10]} not found in the run directory"
        )
    X = X[feats]
    if "encoder" in saved:
        X = pd.DataFrame(
            np.asarray(saved["encoder"].transform(X), dtype=float),
            index=X.index,
            columns=saved["features"],
        )
    return X, cohort["label"], cohort["cohort"]


def _dlr_score(run: RunDir, model: str, patients: pd.Index) -> pd.Series:
    """The DLR score a stacked model was fed: in-sample for :data:`IN_SAMPLE`, else ``predictions.csv``."""
    if model == IN_SAMPLE:
        dlr = load_model(run, "DLR")
        X_dlr, _, _ = model_inputs(run, "DLR")
        return pd.Series(dlr["estimator"].predict_proba(X_dlr[dlr["features"]])[:, 1], index=patients)
    table = predictions_table.load(run)
    table = table[table["model"] == "DLR"].set_index("patient")["score"]
    missing = patients.difference(table.index)
    if len(missing):
        raise ValueError(f"predictions.csv lacks DLR scores for patients {missing[:10].tolist()}")
    return table.loc[patients]
