"""Deep transfer learning (DTL) features: CNN backbone + weights, ROI crop, cached embeddings, PCA
compression and the Grad-CAM model.

Public API::

    spec = resolve_backbone(settings.deep, seed=settings.seed)   # which backbone / weights, loudly
    backbone = build_backbone(spec)
    emb = embed_patients(backbone, cohort, settings.deep, n_jobs=settings.n_jobs)
    candidates, pca = compress_embeddings(emb.table, train_patients, settings.deep.n_components)
    # or, with deep.finetune: net, history = fine_tune(backbone, train_crops, y); finetuned_features(...)
    maps = gradcam_maps(settings, cohort, patients)              # notebook 06

Chapter 4 runs these steps through :class:`splkit.deep.chapter.DeepChapter`.
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
from splkit.deep.finetune import (
    FineTunedDTL,
    check_finetune,
    fine_tune,
    finetune_dtl,
    finetuned_features,
    finetuned_probability,
    load_finetuned_model,
    save_finetuned_model,
)
from splkit.deep.gradcam import (
    DTLClassifier,
    fit_gradcam_head,
    gradcam_crops,
    gradcam_maps,
    load_gradcam_model,
    save_gradcam_model,
)
from splkit.deep.outputs import backbone_statement, backbone_table, record_backbone
from splkit.deep.overlay import frame_panels, mask_contours, overlay_figure
from splkit.deep.preprocess import CropGeometry, crop_geometry, prepare_crop, to_network_input

__all__ = [
    "Backbone",
    "backbone_statement",
    "backbone_table",
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
    "fine_tune",
    "finetune_dtl",
    "finetuned_features",
    "finetuned_probability",
    "FineTunedDTL",
    "fit_gradcam_head",
    "frame_panels",
    "gradcam_crops",
    "gradcam_maps",
    "load_backbone",
    "load_finetuned_model",
    "load_gradcam_model",
    "mask_contours",
    "measure_throughput",
    "overlay_figure",
    "prepare_crop",
    "record_backbone",
    "resnet50_expected_path",
    "resolve_backbone",
    "save_finetuned_model",
    "save_gradcam_model",
    "to_network_input",
    "variance_table",
]
