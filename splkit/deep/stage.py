"""The deep-feature stage of a fitted study: backbone + weights, crop settings, PCA (or a fine-tuned net).

:class:`DeepStage` is chapter 4 as one scikit-learn-style transformer.  ``fit`` embeds a cohort's
training patients with the backbone and fits the PCA on them (:func:`splkit.deep.compress_embeddings`);
:meth:`DeepStage.from_run` takes what notebook 04 fitted (``models/dtl_pca.joblib``, or
``models/dtl_finetuned.pt`` with ``deep.finetune``).  ``transform`` gives the ``DTL_001 …`` features
of any cohort — training, validation, external or new patients without labels — through the
per-image embedding cache of :func:`splkit.deep.embed_patients`.

The weights file is part of the fitted stage: it is found on this machine by name (the path recorded
at fitting time, then where torchvision or the EfficientNet-Lite0 package keeps it) and must have the
recorded sha256; a missing or different file is an error naming the expected file and sha256, never a
silent change of features.

Reference: He et al., Deep Residual Learning for Image Recognition, CVPR 2016 (ResNet-50); Jolliffe,
Principal Component Analysis, 2002.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from splkit.deep.backbones import (
    BackboneSpec,
    WeightsUnavailableError,
    build_backbone,
    efficientnet_lite0_weights_path,
    resolve_backbone,
    sha256_file,
)
from splkit.deep.compress import compress_embeddings
from splkit.deep.embed import CACHE_DIR, embed_patients
from splkit.run.report import load_results, lookup
from splkit.run.rundir import RunDir


class WeightsMismatchError(ValueError):
    """The backbone's weights file on this machine is not the one the study was fitted with."""


def _known_locations(spec: BackboneSpec) -> list[Path]:
    """Where a file named ``spec.weights_file`` may be on this machine: the folder recorded at fitting
    time, torchvision's ``$TORCH_HOME/hub/checkpoints`` and the EfficientNet-Lite0 package's folder."""
    folders = [Path(spec.weights_path).parent] if spec.weights_path else []
    folders.append(Path(torch.hub.get_dir()) / "checkpoints")
    if spec.name == "efficientnet_lite0":
        try:
            folders.append(efficientnet_lite0_weights_path().parent)
        except WeightsUnavailableError:
            pass
    places = [folder / str(spec.weights_file) for folder in folders]
    return list(dict.fromkeys(places))


def locate_weights(spec: BackboneSpec | Mapping[str, Any]) -> BackboneSpec:
    """``spec`` with ``weights_path`` pointing at this machine's copy of its weights, checked by sha256.

    Raises
    ------
    WeightsUnavailableError
        No file of that name where the study or torchvision would look (names file, sha256, places).
    WeightsMismatchError
        A file was found, but its sha256 differs from the one the study was fitted with.
    """
    spec = spec if isinstance(spec, BackboneSpec) else BackboneSpec.from_dict(spec)
    if spec.weights != "imagenet":
        return spec
    expected = f"{spec.name} weights file {spec.weights_file} (sha256 {spec.weights_sha256})"
    places = _known_locations(spec)
    found = next((p for p in places if p.is_file()), None)
    if found is None:
        raise WeightsUnavailableError(
            f"the study's DTL features need the {expected}; it is in none of {[str(p) for p in places]}. "
            f"Copy that exact file into {Path(torch.hub.get_dir()) / 'checkpoints'} ($TORCH_HOME/hub/checkpoints)"
        )
    digest = sha256_file(found)
    if digest != spec.weights_sha256:
        raise WeightsMismatchError(
            f"the study's DTL features need the {expected}, but {found} has sha256 {digest}: other weights "
            "would give other features. Install the expected file."
        )
    return replace(spec, weights_path=str(found))


class DeepStage(TransformerMixin, BaseEstimator):
    """``DTL_001 …`` features of any cohort: backbone embedding of the ROI crop, then the training PCA.

    Parameters
    ----------
    deep_settings
        The profile's ``deep`` section (``backbone``, ``weights``, ``weights_path``, ``allow_fallback``,
        ``crop_margin``, ``image_size``, ``batch_size``, ``n_components``).
    seed
        Seed of random weights (``deep.weights: random``) and of the PCA solver.
    n_jobs
        Torch threads.
    cache, cache_dir
        Use the per-image embedding cache, in ``cache_dir`` (``None``: ``.cache/deep``).
    progress
        Show progress bars.

    Attributes
    ----------
    spec_ : dict
        The resolved :class:`~splkit.deep.BackboneSpec` (name, weights file and sha256).
    compressor_ : splkit.deep.DTLCompressor or None
        The PCA fitted on the training embeddings (``None`` for a fine-tuned network).
    finetuned_ : dict or None
        The fine-tuned network (``n_features`` and ``state_dict``), with ``deep.finetune``.
    columns_ : list of str
        The feature names ``transform`` returns.
    """

    def __init__(
        self,
        deep_settings: Mapping[str, Any] | None = None,
        seed: int | None = None,
        n_jobs: int = 1,
        cache: bool = True,
        cache_dir: str | None = None,
        progress: bool = False,
    ):
        self.deep_settings = deep_settings
        self.seed = seed
        self.n_jobs = n_jobs
        self.cache = cache
        self.cache_dir = cache_dir
        self.progress = progress

    def _deep(self) -> dict[str, Any]:
        if self.deep_settings is None:
            raise ValueError("DeepStage needs the profile's deep settings (deep_settings=settings.deep)")
        return dict(self.deep_settings)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> DeepStage:
        """An unfitted stage with a profile's ``deep`` settings, ``seed`` and ``n_jobs``."""
        deep = settings["deep"]
        deep = deep.to_dict() if hasattr(deep, "to_dict") else dict(deep)
        return cls(deep_settings=deep, seed=int(settings["seed"]), n_jobs=int(settings.get("n_jobs", 1)))

    # ------------------------------------------------------------------ fitting
    def fit(self, cohort: Any, y: Any = None) -> DeepStage:
        """Resolve the backbone, embed the training patients of ``cohort`` and fit the PCA on them."""
        deep = self._deep()
        if deep.get("finetune"):
            raise NotImplementedError("fine-tuning is fitted by notebook 04; use DeepStage.from_run")
        spec = resolve_backbone(deep, seed=self.seed)
        train = cohort.table.index[cohort.table["cohort"] == "train"]
        embeddings = self._embed(spec, cohort, list(train))
        _, self.compressor_ = compress_embeddings(embeddings, train, int(deep["n_components"]), self.seed)
        self.spec_, self.finetuned_ = spec.to_dict(), None
        self.columns_ = [str(c) for c in self.compressor_.get_feature_names_out()]
        return self

    @classmethod
    def from_run(cls, run: str | Path, settings: Mapping[str, Any]) -> DeepStage:
        """The stage notebook 04 fitted: ``models/dtl_pca.joblib`` or ``models/dtl_finetuned.pt``.

        The feature names are checked against ``features/dtl_candidates.parquet``.
        """
        run = RunDir(run)
        stage = cls.from_settings(settings)
        results = load_results(run)
        finetuned = bool(lookup(results, "deep.finetune", stage._deep().get("finetune", False)))
        if finetuned:
            import torch

            path = run.model("dtl_finetuned", ".pt")
            if not path.exists():
                raise FileNotFoundError(f"{path} is missing: run notebook 04 (deep.finetune) first")
            saved = torch.load(path, map_location="cpu", weights_only=False)
            stage.compressor_ = None
            stage.finetuned_ = {"n_features": int(saved["n_features"]), "state_dict": saved["state_dict"]}
            columns = [f"DTL_{i:03d}" for i in range(1, stage.finetuned_["n_features"] + 1)]
        else:
            path = run.model("dtl_pca")
            if not path.exists():
                raise FileNotFoundError(f"{path} is missing: run notebook 04 (deep features) first")
            saved = joblib.load(path)
            stage.compressor_, stage.finetuned_ = saved["pca"], None
            columns = [str(c) for c in stage.compressor_.get_feature_names_out()]
        stage.deep_settings = dict(saved.get("deep") or stage.deep_settings)
        stage.spec_ = BackboneSpec.from_dict(saved["backbone"]).to_dict()
        recorded = lookup(results, "deep.weights_sha256")
        if recorded is not None and recorded != stage.spec_["weights_sha256"]:
            raise ValueError(f"{path} and results.json disagree on the weights' sha256: rerun notebook 04")
        on_disk = [str(c) for c in pd.read_parquet(run.dtl_candidates).columns if c != "patient"]
        if on_disk != columns:
            raise ValueError(
                f"{run.dtl_candidates} columns differ from the fitted {path.name}: rerun notebook 04"
            )
        stage.columns_ = columns
        return stage

    # ------------------------------------------------------------------ applying
    def check_weights(self) -> BackboneSpec:
        """The backbone spec with this machine's weights file, checked (see :func:`locate_weights`)."""
        check_is_fitted(self, "spec_")
        return locate_weights(self.spec_)

    def _embed(self, spec: BackboneSpec, cohort: Any, patients: list[str]) -> pd.DataFrame:
        backbone = build_backbone(spec)
        return embed_patients(
            backbone,
            cohort,
            self._deep(),
            patients=patients,
            n_jobs=int(self.n_jobs),
            cache_dir=(self.cache_dir or CACHE_DIR) if self.cache else None,
            progress=self.progress,
        ).table

    def transform(self, cohort: Any) -> pd.DataFrame:
        """The DTL features of every patient of ``cohort`` (index ``patient``, columns ``columns_``).

        Raises
        ------
        WeightsUnavailableError, WeightsMismatchError
            The backbone's weights file is missing or differs (see :func:`locate_weights`).
        ValueError
            An image or mask that cannot be cropped (names the patient and the files).
        """
        check_is_fitted(self, "columns_")
        spec = self.check_weights()
        patients = list(cohort.table.index)
        if self.finetuned_ is not None:
            values = self._finetuned_features(spec, cohort, patients)
        else:
            embeddings = self._embed(spec, cohort, patients)
            values = self.compressor_.transform(embeddings)
        table = pd.DataFrame(np.asarray(values, dtype=float), index=pd.Index(patients, name="patient"))
        table.columns = self.columns_
        return table

    def _finetuned_features(self, spec: BackboneSpec, cohort: Any, patients: list[str]) -> pd.DataFrame:
        from splkit.deep.finetune import FineTunedDTL, finetuned_features

        network = FineTunedDTL(build_backbone(spec), self.finetuned_["n_features"])
        network.load_state_dict(self.finetuned_["state_dict"])
        for parameter in network.parameters():
            parameter.requires_grad_(False)
        network.eval()
        return finetuned_features(
            network, cohort, patients, self._deep(), n_jobs=int(self.n_jobs), progress=self.progress
        )

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "columns_")
        return np.asarray(self.columns_, dtype=object)

    def describe(self) -> dict[str, Any]:
        """The manifest entry: backbone, weights file and sha256, compression, crop settings."""
        check_is_fitted(self, "columns_")
        spec, deep = self.spec_, self._deep()
        return {
            "backbone": spec["name"],
            "backbone_requested": spec["requested"],
            "weights": spec["weights"],
            "weights_file": spec["weights_file"],
            "weights_sha256": spec["weights_sha256"],
            "fallback": spec["fallback"],
            "compression": "fine-tuned bottleneck" if self.finetuned_ is not None else "PCA (training)",
            "n_features": len(self.columns_),
            "crop_margin": deep.get("crop_margin"),
            "image_size": deep.get("image_size"),
        }
