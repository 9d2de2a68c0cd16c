"""What a fitted study needs to explain a new patient: the Grad-CAM model and the SHAP background.

:class:`StudyExplainer` holds

- the Grad-CAM model of chapter 4 (:mod:`splkit.deep.gradcam`): with the PCA, the logistic head on the
  selected DTL features and the fitted PCA (``models/dtl_gradcam.joblib``), rebuilt as a
  :class:`~splkit.deep.gradcam.DTLClassifier` on the study's backbone; with ``deep.finetune``, the
  fine-tuned network the deep stage already holds;
- the explained model of chapter 6 (the CDLR, or the DLR when the study has no clinical arm) and a
  seeded sample of ``explain.shap_background`` training rows of its design matrix, exactly as
  :func:`splkit.models.model_inputs` rebuilds it (for the CDLR: the DLR's out-of-fold score on the
  training patients and the encoded, imputed clinical predictors).

:meth:`StudyExplainer.design` builds the same design rows for any cohort from the study's features, and
:meth:`StudyExplainer.shap_values` gives their SHAP values (:func:`splkit.explain.explain_model`,
Lundberg & Lee, NeurIPS 2017); :meth:`StudyExplainer.gradcam` the Grad-CAM maps on the full frames
(Selvaraju et al., ICCV 2017).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from splkit.models.estimators import StackedClassifier
from splkit.run.rundir import RunDir

if TYPE_CHECKING:
    from splkit.deep.stage import DeepStage
    from splkit.explain import ShapResult
    from splkit.study.models import StudyModels

#: The models chapter 6 explains, in order of preference (the first the study has is explained).
EXPLAINED_MODELS = ("CDLR", "DLR")
#: The Grad-CAM model of chapter 4 (``models/dtl_gradcam.joblib``).
GRADCAM_FILE = "dtl_gradcam"


def explained_model(names: Iterable[str]) -> str | None:
    """The model a report explains: the CDLR, else the DLR (no clinical arm), else ``None``."""
    names = list(names)
    return next((m for m in EXPLAINED_MODELS if m in names), None)


def _split(estimator: Any) -> tuple[Any, Any | None]:
    """``(explained estimator, preprocessing)``: a pipeline with a ``prep`` step is explained after it
    (on the encoded terms, as :func:`splkit.models.inputs.payload` saves it)."""
    if isinstance(estimator, Pipeline) and "prep" in estimator.named_steps:
        return estimator[-1], estimator[:-1]
    return estimator, None


class StudyExplainer:
    """The Grad-CAM model and the SHAP background of a study (see the module docstring).

    Parameters
    ----------
    gradcam
        ``models/dtl_gradcam.joblib``'s payload: ``{"pca", "head", "features", "baseline", "backbone"}``
        (PCA surrogate) or ``{"finetuned": True, "backbone"}`` (the deep stage's fine-tuned network);
        ``None`` when the run saved no Grad-CAM model.
    model
        The explained model (:data:`EXPLAINED_MODELS`), or ``None``.
    background
        A seeded sample of training rows of ``model``'s design matrix (columns = the explained
        estimator's inputs).
    max_evals, random_state
        Permutation explainer evaluations per patient and its seed (``explain.shap_max_evals``, ``seed``).
    """

    def __init__(
        self,
        gradcam: Mapping[str, Any] | None,
        model: str | None,
        background: pd.DataFrame | None,
        max_evals: int = 500,
        random_state: int = 0,
    ):
        self.gradcam_ = dict(gradcam) if gradcam is not None else None
        self.model_ = model
        self.background_ = background
        self.max_evals = int(max_evals)
        self.random_state = int(random_state)

    @classmethod
    def from_run(cls, run: str | Path, settings: Mapping[str, Any], names: Iterable[str]) -> StudyExplainer:
        """Gather the run's Grad-CAM model and sample the SHAP background as notebook 06 does."""
        import joblib

        from splkit.models import model_inputs

        run = RunDir(run)
        path = run.model(GRADCAM_FILE)
        gradcam = None
        if path.is_file():
            saved = joblib.load(path)
            keep = ("pca", "head", "features", "baseline", "backbone")
            gradcam = (
                {"finetuned": True, "backbone": saved.get("backbone")}
                if saved.get("finetuned")
                else {k: saved[k] for k in keep if k in saved}
            )
        model = explained_model(names)
        explain, seed = settings["explain"], int(settings["seed"])
        background = None
        if model is not None:
            X, _, cohort = model_inputs(run, model)
            train = X[cohort == "train"]
            n = min(int(explain["shap_background"]), len(train))
            background = train.sample(n=n, random_state=seed)
        return cls(gradcam, model, background, int(explain["shap_max_evals"]), seed)

    # ------------------------------------------------------------------ SHAP
    def estimator(self, models: StudyModels) -> Any:
        """The estimator SHAP explains (the SVM on the encoded terms for models with clinical inputs)."""
        fitted = models.estimators_[self.model_]
        if isinstance(fitted, StackedClassifier):
            fitted = fitted.meta_
        return _split(fitted)[0]

    def design(self, models: StudyModels, X: pd.DataFrame) -> pd.DataFrame:
        """The explained model's design rows for the study features ``X`` (one row per patient).

        For a stacked model: the base model's score (fitted on all training patients, as it scores new
        patients), then the meta model's other inputs, encoded; ``estimator(models).predict_proba`` of
        these rows is the study's probability of the model.
        """
        if self.model_ is None:
            raise ValueError("the study has no explained model (neither CDLR nor DLR)")
        fitted, columns = models.estimators_[self.model_], models.inputs_[self.model_]
        frame = X[columns]
        if isinstance(fitted, StackedClassifier):
            score = fitted.base_.predict_proba(frame[list(fitted.base_columns)])[:, 1]
            frame, fitted = fitted.meta_frame(frame, score), fitted.meta_
        _, prep = _split(fitted)
        if prep is not None:
            frame = pd.DataFrame(np.asarray(prep.transform(frame), dtype=float), index=frame.index)
        frame.columns = list(self.background_.columns)
        return frame.astype(float)

    def shap_values(self, models: StudyModels, X: pd.DataFrame) -> ShapResult:
        """SHAP values of the explained model for the rows of ``X`` (background: the stored sample)."""
        from splkit.explain import explain_model

        design = self.design(models, X)
        return explain_model(
            self.estimator(models),
            self.background_,
            design,
            background_size=len(self.background_),
            max_evals=self.max_evals,
            random_state=self.random_state,
        )

    # ------------------------------------------------------------------ Grad-CAM
    def gradcam_model(self, deep: DeepStage) -> Any:
        """The Grad-CAM network on the study's backbone (weights located and checked by the deep stage)."""
        from splkit.deep.backbones import build_backbone

        if self.gradcam_ is None:
            raise ValueError("the study has no Grad-CAM model (the run saved no models/dtl_gradcam.joblib)")
        backbone = build_backbone(deep.check_weights())
        if self.gradcam_.get("finetuned"):
            from splkit.deep.finetune import FineTunedDTL

            network = FineTunedDTL(backbone, deep.finetuned_["n_features"])
            network.load_state_dict(deep.finetuned_["state_dict"])
            for parameter in network.parameters():
                parameter.requires_grad_(False)
            return network.eval()
        from splkit.deep.gradcam import DTLClassifier

        payload = self.gradcam_
        return DTLClassifier(
            backbone,
            payload["pca"],
            payload["head"],
            payload["features"],
            payload.get("baseline", "training_mean"),
        )

    def gradcam(self, deep: DeepStage, cohort: Any, patients: Iterable[str]) -> dict[str, np.ndarray]:
        """Grad-CAM maps (malignant logit) of ``patients`` on their full frames, 0–1."""
        from splkit.config import Settings
        from splkit.deep.gradcam import gradcam_maps

        settings = Settings({"deep": deep._deep(), "n_jobs": int(deep.n_jobs)})
        model = self.gradcam_model(deep)
        return gradcam_maps(settings, cohort, list(patients), model=model, progress=False)

    def describe(self) -> dict[str, Any]:
        """The manifest entry: Grad-CAM kind and features, explained model and background size."""
        gradcam = self.gradcam_
        kind = (
            None if gradcam is None else "fine-tuned network" if gradcam.get("finetuned") else "PCA surrogate"
        )
        return {
            "gradcam": kind,
            "gradcam_features": list(gradcam.get("features", [])) if gradcam else [],
            "gradcam_baseline": gradcam.get("baseline") if gradcam else None,
            "shap_model": self.model_,
            "shap_background": 0 if self.background_ is None else len(self.background_),
            "shap_features": [] if self.background_ is None else list(self.background_.columns),
            "shap_max_evals": self.max_evals,
        }


__all__ = ["EXPLAINED_MODELS", "StudyExplainer", "explained_model"]
