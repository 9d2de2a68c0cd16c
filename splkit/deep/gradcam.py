"""The differentiable DTL classifier and its Grad-CAM heatmaps on the full ultrasound frame.

Grad-CAM (Selvaraju et al., *Grad-CAM: Visual Explanations from Deep Networks via Gradient-based
Localization*, ICCV 2017) needs a network whose output is the score being explained.  The DTL score of
the book is an SVM on selected PCA features (notebook 05), which is not differentiable end to end, so
Grad-CAM explains a faithful differentiable surrogate fitted on the same training data:

    backbone → global-average-pooled embedding → the fitted PCA as a linear layer
             → a standardised L2 logistic regression (fitted on the training cohort's DTL features)
             → malignant logit.

The heatmap is computed by the ``grad-cam`` package (``pytorch_grad_cam``) on the backbone's last
convolutional block, for the malignant logit, then mapped from the 224 x 224 crop back onto the full
frame (zero outside the crop).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import torch
from sklearn.linear_model import LogisticRegressionCV
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn

from splkit.deep.backbones import Backbone, BackboneSpec, build_backbone
from splkit.deep.compress import DTLCompressor
from splkit.deep.embed import _quiet, load_crop
from splkit.deep.finetune import load_finetuned_model
from splkit.deep.outputs import GRADCAM_MODEL
from splkit.deep.preprocess import to_network_input
from splkit.deep.reference import BASELINES, Reference
from splkit.run.cache import atomic_dump
from splkit.run.progress import progress_bar
from splkit.run.rundir import RunDir


def _l2_kwargs() -> dict[str, Any]:
    """Pure L2 penalty, spelled for scikit-learn >= 1.8 (l1_ratios) and older releases (the default)."""
    parameters = inspect.signature(LogisticRegressionCV).parameters
    if "use_legacy_attributes" in parameters:
        return {"l1_ratios": (0.0,), "use_legacy_attributes": False}
    return {}


def fit_gradcam_head(
    candidates: pd.DataFrame,
    labels: pd.Series,
    train_patients: Iterable[str],
    features: Sequence[str] | None = None,
    cv_folds: int = 5,
    random_state: int | None = None,
) -> Pipeline:
    """Standardised L2 logistic regression on the training cohort's DTL features.

    The penalty is chosen by stratified cross-validated AUC on the training cohort only.
    """
    train = list(train_patients)
    features = list(candidates.columns if features is None or len(features) == 0 else features)
    X = candidates.loc[train, features].to_numpy(dtype=float)
    y = labels.loc[train].to_numpy(dtype=int)
    folds = max(2, min(int(cv_folds), int(np.bincount(y, minlength=2).min())))
    head = Pipeline(
        [
            ("scale", StandardScaler()),
            (
                "logistic",
                LogisticRegressionCV(
                    Cs=10,
                    **_l2_kwargs(),
                    cv=StratifiedKFold(folds, shuffle=True, random_state=random_state),
                    scoring="roc_auc",
                    max_iter=5000,
                ),
            ),
        ]
    )
    head.fit(pd.DataFrame(X, columns=features), y)
    head.feature_names_ = features
    return head


class DTLClassifier(nn.Module):
    """Backbone → pooled features → PCA (linear layer) → logistic head; outputs the malignant logit (N x 1).

    Parameters
    ----------
    backbone, compressor, head, features
        The backbone, the fitted :class:`~splkit.deep.compress.DTLCompressor`, the logistic head of
        :func:`fit_gradcam_head` and the DTL features it uses.
    baseline
        ``"training_mean"`` (default) or ``"zero"``: the reference activation of the Grad-CAM layer.
        Everything after the last convolutional block is linear (average pool, PCA, logistic head), so
        Grad-CAM's channel weights are constant and the map is exactly each location's contribution to
        the logit (Grad-CAM reduces to CAM, Zhou et al., CVPR 2016) — relative to an all-zero activation.
        The logistic intercept then absorbs most of the score and the malignant map is often empty. With
        ``"training_mean"`` the activations are measured from the training cohort's mean embedding (the
        PCA centre), so the map's sum is the logit minus the logit of the average training patient — the
        reference-point idea of DeepLIFT (Shrikumar et al., ICML 2017) and SHAP.  The logit is the same
        either way.
    """

    def __init__(
        self,
        backbone: Backbone,
        compressor: DTLCompressor,
        head: Pipeline,
        features: Sequence[str],
        baseline: str = "training_mean",
    ):
        super().__init__()
        if baseline not in BASELINES:
            raise ValueError(f"Grad-CAM baseline must be one of {BASELINES}, got {baseline!r}")
        self.backbone = backbone
        names = list(compressor.get_feature_names_out())
        missing = [f for f in features if f not in names]
        if missing:
            raise KeyError(f"DTL features {missing} are not among the PCA's {len(names)} components")
        rows = [names.index(f) for f in features]
        pca = compressor.pca_
        components = torch.tensor(pca.components_[rows], dtype=torch.float32)
        mean = torch.tensor(pca.mean_, dtype=torch.float32)
        self.reference = Reference(mean if baseline == "training_mean" else torch.zeros_like(mean))
        self.pca = nn.Linear(components.shape[1], components.shape[0])
        scaler, logistic = head.named_steps["scale"], head.named_steps["logistic"]
        coef = logistic.coef_[0] / scaler.scale_
        self.head = nn.Linear(len(rows), 1)
        with torch.no_grad():
            self.pca.weight.copy_(components)
            self.pca.bias.copy_(-components @ (mean - self.reference.reference.flatten()))
            self.head.weight.copy_(torch.tensor(coef, dtype=torch.float32)[None])
            self.head.bias.fill_(float(logistic.intercept_[0] - coef @ scaler.mean_))
        for parameter in (*self.pca.parameters(), *self.head.parameters()):
            parameter.requires_grad_(False)
        self.features = list(features)
        self.baseline = baseline
        self.eval()

    @property
    def target_layer(self) -> nn.Module:
        """The Grad-CAM layer: the backbone's last convolutional block, measured from the reference."""
        return self.reference

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = self.reference(self.backbone.forward_features(x)).mean(dim=(2, 3))
        return self.head(self.pca(pooled))


class LogitTarget:
    """Grad-CAM target: the malignant logit times ``sign`` (+1 malignant, -1 benign)."""

    def __init__(self, sign: float = 1.0):
        self.sign = float(sign)

    def __call__(self, model_output: torch.Tensor) -> torch.Tensor:
        return self.sign * model_output[..., 0]


def save_gradcam_model(
    run_path: str | Path,
    spec: BackboneSpec,
    compressor: DTLCompressor,
    head: Pipeline,
    deep: Mapping[str, Any],
    baseline: str = "training_mean",
) -> Path:
    """Write what rebuilds the DTL classifier (backbone spec, PCA, head, settings) to the run directory."""
    payload = {
        "backbone": spec.to_dict(),
        "pca": compressor,
        "head": head,
        "features": list(head.feature_names_),
        "baseline": baseline,
        "deep": dict(deep),
    }
    return atomic_dump(payload, RunDir(run_path).model(GRADCAM_MODEL))


def load_gradcam_model(run_path: str | Path) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild the DTL classifier saved by notebook 04 (checks the weights file's sha256): the PCA
    surrogate, or with ``deep.finetune`` the fine-tuned network."""
    path = RunDir(run_path).model(GRADCAM_MODEL)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: run notebook 04 (deep features) into this run directory first"
        )
    payload = joblib.load(path)
    if payload.get("finetuned"):  # deep.finetune: the fine-tuned network is its own Grad-CAM model
        model, _ = load_finetuned_model(Path(run_path) / payload["finetuned"])
        return model, payload
    backbone = build_backbone(BackboneSpec.from_dict(payload["backbone"]))
    model = DTLClassifier(
        backbone,
        payload["pca"],
        payload["head"],
        payload["features"],
        payload.get("baseline", "training_mean"),
    )
    return model, payload


TARGETS = ("malignant", "benign", "predicted")


def gradcam_crops(
    model: DTLClassifier, crops: np.ndarray, batch_size: int = 8, target: str = "malignant"
) -> np.ndarray:
    """Grad-CAM maps (N x size x size, each scaled to 0–1) for gray crops.

    ``target``: ``"malignant"`` explains the malignant logit, ``"benign"`` its negative, ``"predicted"``
    whichever class the DTL classifier predicts for each crop.
    """
    from pytorch_grad_cam import GradCAM

    if target not in TARGETS:
        raise ValueError(f"Grad-CAM target must be one of {TARGETS}, got {target!r}")
    spec = model.backbone.spec
    maps = []
    with GradCAM(model=model, target_layers=[model.target_layer]) as cam:
        for start in range(0, len(crops), batch_size):
            x = to_network_input(crops[start : start + batch_size], spec.mean, spec.std)
            if target == "predicted":
                with torch.no_grad():
                    signs = np.where(model(x)[:, 0].numpy() >= 0, 1.0, -1.0)
            else:
                signs = np.full(len(x), 1.0 if target == "malignant" else -1.0)
            x.requires_grad_(True)
            maps.append(cam(input_tensor=x, targets=[LogitTarget(sign) for sign in signs]))
    return np.concatenate(maps) if maps else np.empty((0, *crops.shape[1:]), dtype=np.float32)


def gradcam_maps(
    settings: Any,
    cohort: Any,
    patients: Iterable[str],
    model: DTLClassifier | None = None,
    target: str = "malignant",
    progress: bool = True,
) -> dict[str, np.ndarray]:
    """Grad-CAM heatmaps of the DTL classifier on the full ultrasound frames of ``patients``.

    Parameters
    ----------
    settings
        The run's settings (reads ``settings.run_path`` for ``models/dtl_gradcam.joblib``, ``settings.deep``
        and ``settings.n_jobs``).
    cohort
        The cohort (``read_image``, ``read_mask``).
    patients
        Pseudonyms.
    model
        A :class:`DTLClassifier` (default: rebuilt from the run directory).
    target
        ``"malignant"`` (the malignant logit, default), ``"benign"`` or ``"predicted"`` (each patient's
        predicted class, e.g. for true negatives).

    Returns
    -------
    dict
        ``patient → float32 array`` with the image's shape (rows x columns), values in [0, 1], zero
        outside the lesion crop.
    """
    patients = list(patients)
    frames = gradcam_frames(settings, [(cohort, p) for p in patients], model, target, progress)
    return dict(zip(patients, frames, strict=True))


def gradcam_frames(
    settings: Any,
    frames: Sequence[tuple[Any, str]],
    model: DTLClassifier | None = None,
    target: str = "malignant",
    progress: bool = True,
) -> list[np.ndarray]:
    """:func:`gradcam_maps` of ``(cohort, patient)`` pairs, in order: patients of several cohorts (a
    validation and an external cohort) share batches, one forward and backward pass per batch."""
    if model is None:
        model, _ = load_gradcam_model(settings.run_path)
    deep = settings.deep
    torch.set_num_threads(max(int(settings.get("n_jobs", 1)), 1))
    frames = list(frames)
    result: list[np.ndarray] = []
    batch = max(1, min(int(deep.get("batch_size", 8)), 8))
    for start in progress_bar(
        range(0, len(frames), batch), desc="Grad-CAM", unit="batch", **_quiet(progress)
    ):
        loaded = [load_crop(cohort, patient, deep) for cohort, patient in frames[start : start + batch]]
        cams = gradcam_crops(
            model, np.stack([crop for crop, _, _ in loaded]), batch_size=batch, target=target
        )
        result += [
            np.clip(geometry.paste(cam), 0.0, 1.0) for (_, geometry, _), cam in zip(loaded, cams, strict=True)
        ]
    return result
