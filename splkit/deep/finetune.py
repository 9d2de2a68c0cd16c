"""Optional fine-tuning of the DTL network (``deep.finetune: true``; meant for machines with a GPU).

Instead of compressing frozen ImageNet embeddings with PCA, the backbone's last convolutional block and
a new head are trained on the training cohort (transfer learning by fine-tuning, Yosinski et al., *How
transferable are features in deep neural networks?*, NeurIPS 2014):

    frozen backbone up to the last block → last block (trained) → global average pool
        → dropout → linear bottleneck to ``n_components`` (128) → linear malignant logit.

The bottleneck's outputs are the DTL features ``DTL_001 …`` that chapter 4 selects from, and the network
itself is the model Grad-CAM explains.  Everything after the last block is linear, so, as for the PCA
surrogate of :mod:`splkit.deep.gradcam`, the map measured from the training cohort's mean activation is
each location's contribution to the logit.

Training details: the frozen part is run once (no gradients) and its output kept in memory; each epoch
sees the training patients in a seeded random order, with a seeded random horizontal flip of those
activation maps (a feature-level version of the usual flip augmentation); batch-norm statistics stay
frozen (small batches); AdamW with the profile's learning rate for the block and ten times it for the
head; binary cross-entropy.  Same seed and device, same network (cuDNN is put in deterministic mode on
a GPU); a CPU and a GPU run differ by floating-point rounding (TF32 convolutions on recent GPUs).

Caveat: the training patients' features come from a network trained on their labels, so out-of-fold
training scores of the models built on them (chapter 5) are optimistic in this mode; validation patients
are never used.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from splkit.deep.backbones import Backbone, BackboneSpec, build_backbone
from splkit.deep.compress import dtl_names
from splkit.deep.embed import _quiet, load_crop
from splkit.deep.outputs import FINETUNED_MODEL, GRADCAM_MODEL
from splkit.deep.preprocess import to_network_input
from splkit.deep.reference import Reference
from splkit.run.cache import atomic_dump, atomic_write
from splkit.run.progress import progress_bar
from splkit.run.rundir import RunDir


def check_finetune(deep: Mapping[str, Any], stacklevel: int = 2) -> bool:
    """Whether the profile asks for fine-tuning (``deep.finetune``); warns when no GPU is present
    (``stacklevel`` as for :func:`warnings.warn`: the caller by default)."""
    if not deep.get("finetune", False):
        return False
    if not torch.cuda.is_available():
        warnings.warn(
            "deep.finetune: true without a GPU: the last block is trained on the CPU, which is slow for "
            "ResNet-50 (EfficientNet-Lite0 stays practical)",
            UserWarning,
            stacklevel=stacklevel,
        )
    return True


class FineTunedDTL(nn.Module):
    """Backbone (last block trainable) → pool → dropout → bottleneck → malignant logit (N x 1).

    ``target_layer`` (for Grad-CAM) is the last block's output measured from ``reference`` (the training
    cohort's mean pooled activation once :func:`fine_tune` has set it; zero before).
    """

    def __init__(self, backbone: Backbone, n_features: int = 128, dropout: float = 0.2):
        super().__init__()
        dim = backbone.spec.embedding_dim
        self.backbone = backbone
        self.reference = Reference(torch.zeros(dim))
        self.dropout = nn.Dropout(dropout)
        self.bottleneck = nn.Linear(dim, n_features)
        self.head = nn.Linear(n_features, 1)

    @property
    def target_layer(self) -> nn.Module:
        return self.reference

    @property
    def frozen_part(self) -> nn.Module:
        """The backbone up to (not including) its last block."""
        return self.backbone.trunk[:-1]

    @property
    def last_block(self) -> nn.Module:
        return self.backbone.trunk[-1]

    def pooled(self, x: torch.Tensor) -> torch.Tensor:
        activation = self.reference(self.backbone.forward_features(x))
        return activation.mean(dim=(2, 3)) + self.reference.reference.flatten()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.bottleneck(self.dropout(self.pooled(x))))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The bottleneck outputs (the DTL features), N x ``n_features``."""
        return self.bottleneck(self.pooled(x))


def _check_sequential(backbone: Backbone) -> None:
    trunk = backbone.trunk
    if not isinstance(trunk, nn.Sequential) or trunk[-1] is not backbone.target_layer:
        raise TypeError("fine-tuning needs a backbone whose trunk is a Sequential ending in its target block")


def fine_tune(
    backbone: Backbone,
    crops: np.ndarray,
    labels: Iterable[int],
    n_features: int = 128,
    epochs: int = 10,
    learning_rate: float = 1e-4,
    batch_size: int = 16,
    seed: int = 0,
    device: str | None = None,
    progress: bool = True,
) -> tuple[FineTunedDTL, pd.DataFrame]:
    """Fine-tune a copy of ``backbone``'s last block and a new bottleneck head on training crops.

    Parameters
    ----------
    backbone
        The ImageNet backbone (left unchanged; a copy is trained).
    crops
        Gray training crops, N x size x size in [0, 1] (:func:`splkit.deep.preprocess.prepare_crop`).
    labels
        0/1 per crop (1 = malignant).
    device
        ``"cuda"`` / ``"cpu"``; default: CUDA when available.

    Returns
    -------
    (model, history)
        The trained network (on the CPU, eval mode) and the mean training loss per epoch.
    """
    _check_sequential(backbone)
    y = torch.as_tensor(np.asarray(list(labels), dtype=np.float32))
    if len(y) != len(crops) or len(np.unique(y.numpy())) != 2:
        raise ValueError("fine-tuning needs one 0/1 label per crop and both classes")
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    deterministic = torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
    try:
        return _train(
            backbone, crops, y, n_features, epochs, learning_rate, batch_size, seed, device, progress
        )
    finally:
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = deterministic


def _train(
    backbone: Backbone,
    crops: np.ndarray,
    y: torch.Tensor,
    n_features: int,
    epochs: int,
    learning_rate: float,
    batch_size: int,
    seed: int,
    device: str,
    progress: bool,
) -> tuple[FineTunedDTL, pd.DataFrame]:
    """The training loop of :func:`fine_tune`."""
    torch.manual_seed(seed)
    model = FineTunedDTL(copy.deepcopy(backbone), n_features=n_features)
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    trainable = [*model.last_block.parameters(), *model.bottleneck.parameters(), *model.head.parameters()]
    for parameter in trainable:
        parameter.requires_grad_(True)
    model.to(device).eval()  # batch-norm statistics stay frozen; dropout is switched on below
    spec = backbone.spec
    with torch.inference_mode():
        stem = torch.cat(
            [
                model.frozen_part(to_network_input(crops[i : i + batch_size], spec.mean, spec.std).to(device))
                for i in range(0, len(crops), batch_size)
            ]
        )
    stem = stem.clone()  # leave inference mode
    y = y.to(device)
    optimizer = torch.optim.AdamW(
        [
            {"params": list(model.last_block.parameters()), "lr": learning_rate},
            {"params": [*model.bottleneck.parameters(), *model.head.parameters()], "lr": 10 * learning_rate},
        ],
        weight_decay=1e-4,
    )
    loss_fn = nn.BCEWithLogitsLoss()
    generator = torch.Generator().manual_seed(seed)
    history = []
    for epoch in progress_bar(range(1, epochs + 1), desc="fine-tuning", unit="epoch", **_quiet(progress)):
        order = torch.randperm(len(y), generator=generator)
        flips = torch.rand(len(y), generator=generator) < 0.5
        model.dropout.train()
        total = 0.0
        for start in range(0, len(y), batch_size):
            index = order[start : start + batch_size]
            batch = stem[index.to(device)]
            flip = flips[index].to(device)[:, None, None, None]
            batch = torch.where(flip, batch.flip(-1), batch)
            pooled = model.last_block(batch).mean(dim=(2, 3))
            logit = model.head(model.bottleneck(model.dropout(pooled)))[:, 0]
            loss = loss_fn(logit, y[index.to(device)])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(index)
        history.append({"epoch": epoch, "training loss": total / len(y)})
    model.dropout.eval()
    with torch.no_grad():
        mean = torch.cat(
            [
                model.last_block(stem[i : i + batch_size]).mean(dim=(2, 3))
                for i in range(0, len(y), batch_size)
            ]
        ).mean(dim=0)
        model.reference.reference.copy_(mean.reshape(1, -1, 1, 1))
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model.cpu().eval(), pd.DataFrame(history)


def finetuned_features(
    model: FineTunedDTL,
    cohort: Any,
    patients: Iterable[str],
    deep: Mapping[str, Any],
    n_jobs: int = 1,
    progress: bool = True,
) -> pd.DataFrame:
    """The bottleneck features ``DTL_001 …`` of ``patients`` (index = pseudonyms)."""
    torch.set_num_threads(max(int(n_jobs), 1))
    patients = list(patients)
    batch = max(1, int(deep.get("batch_size", 16)))
    spec = model.backbone.spec
    rows = []
    for start in progress_bar(
        range(0, len(patients), batch), desc="fine-tuned features", unit="batch", **_quiet(progress)
    ):
        crops = np.stack([load_crop(cohort, p, deep)[0] for p in patients[start : start + batch]])
        with torch.inference_mode():
            rows.append(model.features(to_network_input(crops, spec.mean, spec.std)).numpy())
    values = np.concatenate(rows) if rows else np.empty((0, model.bottleneck.out_features))
    return pd.DataFrame(values, index=pd.Index(patients, name="patient"), columns=dtl_names(values.shape[1]))


def finetune_dtl(
    backbone: Backbone,
    cohort: Any,
    train_patients: Iterable[str],
    deep: Mapping[str, Any],
    seed: int = 0,
    n_jobs: int = 1,
    progress: bool = True,
) -> tuple[FineTunedDTL, pd.DataFrame, pd.DataFrame]:
    """Chapter 4 with ``deep.finetune: true``: fine-tune on the training patients, then featurise everyone.

    The network learns from the training patients' crops and labels only (``deep.n_components`` bottleneck
    units, capped at the number of training patients; ``deep.finetune_epochs``,
    ``deep.finetune_learning_rate``, ``deep.batch_size``), seeded by ``seed``.

    Returns
    -------
    (network, history, features)
        The trained network, its loss per epoch and the DTL features of every patient of ``cohort.table``.
    """
    train = list(train_patients)
    table = cohort.table
    crops = np.stack([load_crop(cohort, p, deep)[0] for p in train])
    network, history = fine_tune(
        backbone,
        crops,
        table.loc[train, "label"],
        n_features=min(int(deep["n_components"]), len(train)),
        epochs=int(deep["finetune_epochs"]),
        learning_rate=float(deep["finetune_learning_rate"]),
        batch_size=int(deep["batch_size"]),
        seed=seed,
        progress=progress,
    )
    features = finetuned_features(network, cohort, table.index, deep, n_jobs=n_jobs, progress=progress)
    return network, history, features


def finetuned_probability(
    model: FineTunedDTL, cohort: Any, patients: Iterable[str], deep: Mapping[str, Any]
) -> pd.Series:
    """The network's probability of malignancy for ``patients`` (index = pseudonyms)."""
    patients = list(patients)
    crops = np.stack([load_crop(cohort, p, deep)[0] for p in patients])
    spec = model.backbone.spec
    with torch.inference_mode():
        logits = model(to_network_input(crops, spec.mean, spec.std))[:, 0]
    return pd.Series(torch.sigmoid(logits).numpy(), index=patients)


def _torch_save(payload: Any, path: str) -> None:
    """``torch.save`` through a file handle: the archive's inner folder is then always ``archive``, not
    the temporary file's random name, so the same network gives the same bytes."""
    with open(path, "wb") as handle:
        torch.save(payload, handle)


def save_finetuned_model(run_path: str | Path, model: FineTunedDTL, deep: Mapping[str, Any]) -> Path:
    """Write the trained network (backbone spec + all weights) to ``models/dtl_finetuned.pt``, and point
    ``models/dtl_gradcam.joblib`` at it."""
    run = RunDir(run_path)
    payload = {
        "backbone": model.backbone.spec.to_dict(),
        "n_features": model.bottleneck.out_features,
        "state_dict": model.state_dict(),
        "deep": dict(deep),
    }
    path = atomic_write(run.model(FINETUNED_MODEL, ".pt"), lambda tmp: _torch_save(payload, tmp))
    # the Grad-CAM model of this run is the fine-tuned network (see gradcam.load_gradcam_model)
    pointer = path.relative_to(run.root).as_posix()  # "models/dtl_finetuned.pt": the run dir may move
    atomic_dump(
        {"finetuned": pointer, "backbone": payload["backbone"], "deep": dict(deep)}, run.model(GRADCAM_MODEL)
    )
    return path


def load_finetuned_model(path: str | Path) -> tuple[FineTunedDTL, dict[str, Any]]:
    """Rebuild the network of :func:`save_finetuned_model` (checks the ImageNet weights' sha256)."""
    payload = torch.load(path, map_location="cpu", weights_only=False)
    model = FineTunedDTL(build_backbone(BackboneSpec.from_dict(payload["backbone"])), payload["n_features"])
    model.load_state_dict(payload["state_dict"])
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model.eval(), payload
