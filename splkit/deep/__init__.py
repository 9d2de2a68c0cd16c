"""Deep transfer learning (DTL) features: CNN backbone + weights, ROI crop, cached embeddings, PCA
compression and the Grad-CAM model.

Public API::

    spec = resolve_backbone(settings.deep, seed=settings.seed)   # which backbone / weights, loudly
    backbone = build_backbone(spec)
    emb = embed_patients(backbone, cohort, settings.deep, n_jobs=settings.n_jobs)
    candidates, pca = compress_embeddings(emb.table, train_patients, settings.deep.n_components)
    maps = gradcam_maps(settings, cohort, patients)              # notebook 06
"""

from splkit.deep.backbones import (
    Backbone,
    BackboneSpec,
    WeightsUnavailableError,
    build_backbone,
    load_backbone,
    resnet50_expected_path,
    resolve_backbone,
)
from splkit.deep.compress import DTLCompressor, compress_embeddings, dtl_names, variance_table
from splkit.deep.embed import Embeddings, embed_patients, measure_throughput
from splkit.deep.gradcam import (
    DTLClassifier,
    fit_gradcam_head,
    gradcam_crops,
    gradcam_maps,
    load_gradcam_model,
    overlay_figure,
    save_gradcam_model,
)
from splkit.deep.preprocess import CropGeometry, crop_geometry, prepare_crop, to_network_input

__all__ = [
    "Backbone",
    "BackboneSpec",
    "CropGeometry",
    "DTLClassifier",
    "DTLCompressor",
    "Embeddings",
    "WeightsUnavailableError",
    "build_backbone",
    "check_finetune",
    "compress_embeddings",
    "crop_geometry",
    "dtl_names",
    "embed_patients",
    "fit_gradcam_head",
    "gradcam_crops",
    "gradcam_maps",
    "load_backbone",
    "load_gradcam_model",
    "measure_throughput",
    "overlay_figure",
    "prepare_crop",
    "record_backbone",
    "resnet50_expected_path",
    "resolve_backbone",
    "save_gradcam_model",
    "to_network_input",
    "variance_table",
]


def check_finetune(deep) -> None:
    """Fine-tuning (``deep.finetune: true``) is not implemented; fail clearly instead of ignoring it."""
    if deep.get("finetune", False):
        raise NotImplementedError(
            "deep.finetune: true (GPU fine-tuning of the last block + a 2048->128 bottleneck head) is not "
            "implemented in this version of splkit; set deep.finetune: false to use frozen ImageNet features "
            "compressed by PCA"
        )


def record_backbone(run_path, spec: BackboneSpec) -> None:
    """Record which backbone and weights produced the DTL features in ``results.json`` (``deep.*``)."""
    from splkit.report import record

    record(run_path, "deep.backbone_requested", spec.requested)
    record(run_path, "deep.backbone", spec.name)
    record(run_path, "deep.weights", spec.weights)
    record(run_path, "deep.weights_file", spec.weights_file)
    record(run_path, "deep.weights_sha256", spec.weights_sha256)
    record(run_path, "deep.fallback", spec.fallback)
    record(run_path, "deep.fallback_reason", spec.fallback_reason)
    record(run_path, "deep.embedding_dim", spec.embedding_dim)
