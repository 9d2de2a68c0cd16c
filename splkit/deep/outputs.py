"""How chapter 4 says which backbone produced its features (its tables are written with
:func:`splkit.run.cache.atomic_parquet`).

Where each file goes is :class:`splkit.run.rundir.RunDir`'s (``run.deep_embeddings``,
``run.dtl_candidates``, ``run.model("dtl_pca")``, …).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from splkit.deep.backbones import BackboneSpec
from splkit.run.report import record

#: Chapter 4's fitted objects, by their :meth:`splkit.run.rundir.RunDir.model` names: the PCA
#: (``models/dtl_pca.joblib``), what rebuilds the Grad-CAM model (``models/dtl_gradcam.joblib``) and, with
#: ``deep.finetune``, the fine-tuned network (``models/dtl_finetuned.pt``).
PCA_MODEL, GRADCAM_MODEL, FINETUNED_MODEL = "dtl_pca", "dtl_gradcam", "dtl_finetuned"


def record_backbone(run_path: str | Path, spec: BackboneSpec) -> None:
    """Record which backbone and weights produced the DTL features in ``results.json`` (``deep.*``)."""
    record(run_path, "deep.backbone_requested", spec.requested)
    record(run_path, "deep.backbone", spec.name)
    record(run_path, "deep.weights", spec.weights)
    record(run_path, "deep.weights_file", spec.weights_file)
    record(run_path, "deep.weights_sha256", spec.weights_sha256)
    record(run_path, "deep.fallback", spec.fallback)
    record(run_path, "deep.fallback_reason", spec.fallback_reason)
    record(run_path, "deep.embedding_dim", spec.embedding_dim)


def backbone_table(spec: BackboneSpec) -> pd.DataFrame:
    """A two-column table for the book: what was asked for and what was used."""
    rows = {
        "backbone requested by the profile": spec.requested,
        "backbone used": spec.name,
        "weights": "ImageNet" if spec.weights == "imagenet" else f"RANDOM initialisation (seed {spec.seed})",
        "weights file": spec.weights_file or "—",
        "weights sha256": spec.weights_sha256 or "—",
        "fallback": f"yes — {spec.fallback_reason}" if spec.fallback else "no",
        "embedding dimension": spec.embedding_dim,
        "input normalisation (mean / std per channel)": f"{tuple(round(m, 4) for m in spec.mean)} / "
        f"{tuple(round(s, 4) for s in spec.std)}",
    }
    return pd.DataFrame(
        {"value": [str(v) for v in rows.values()]}, index=pd.Index(list(rows), name="setting")
    )


def backbone_statement(spec: BackboneSpec) -> str:
    """One Markdown paragraph for the notebook and the book: which backbone and weights were used."""
    if spec.weights == "random":
        return (
            f"**The {spec.name} backbone of this run has RANDOMLY INITIALISED weights (seed {spec.seed}), as the "
            f"profile asks (`deep.weights: random`). Its DTL features are not ImageNet features; this run tests "
            f"the pipeline and its DTL results say nothing about transfer learning.**"
        )
    text = (
        f"The DTL features of this run come from **{spec.name}** with ImageNet weights "
        f"`{spec.weights_file}` (sha256 `{spec.weights_sha256}`)."
    )
    if spec.fallback:
        text += (
            f"\n\n**Fallback: the profile asked for {spec.requested}, whose ImageNet weights are not available on "
            f"this machine ({spec.fallback_reason}). The features are therefore NOT those of the paper's "
            f"ResNet-50.** To use ResNet-50, put torchvision's weights file in `$TORCH_HOME/hub/checkpoints/` or "
            f"set `deep.weights_path`, and rerun."
        )
    return text
