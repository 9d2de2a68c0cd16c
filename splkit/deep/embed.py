"""Pooled CNN embeddings of the lesion crops, in batches, cached per image by content hash.

One task per batch of ``deep.batch_size`` images (read, cropped, embedded and cached where it runs)
goes through the compute engine (:mod:`splkit.run.engine`): in this process with the local engine
(torch uses ``n_jobs`` threads inside the batch), on the workers with Dask (one thread each).  The
batches are the same either way; torch's thread count changes the last digits of an embedding
(~1e-5), so the local engine with ``n_jobs: 1`` and a Dask cluster give the same bits.

Each patient's embedding is the global-average-pooled output of the backbone's last convolutional
block (2048 values for ResNet-50, 1280 for EfficientNet-Lite0) for the crop of
:mod:`splkit.deep.preprocess`.  Embeddings are cached in ``<project root>/.cache/deep/`` (the one
cache of splkit, :class:`splkit.run.cache.ContentCache`) under the sha256 of the image bytes, the mask
bytes, the backbone and its weights' sha256, the preprocessing settings and the torch version — the
content of the inputs, never their paths; entries are written atomically, so an interrupted run never
leaves half a file.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from splkit.cohort.intensity import INTENSITY_RULE_VERSION
from splkit.deep.backbones import Backbone, BackboneSpec
from splkit.deep.preprocess import CropGeometry, prepare_crop, preprocess_settings, to_network_input
from splkit.run.cache import CACHE_ROOT, CacheError, ContentCache
from splkit.run.engine import Engine, require_readable
from splkit.run.progress import progress_bar

#: The embedding cache's folder (a :class:`splkit.run.cache.ContentCache` of ``joblib`` entries).
CACHE_DIR = CACHE_ROOT / "deep"


def _quiet(progress: bool) -> dict[str, Any]:
    """Keyword arguments for :func:`splkit.run.progress.progress_bar` (off in batch runs or when asked)."""
    return {"mininterval": 2.0} if progress else {"disable": True}


def as_array(image: Any) -> np.ndarray:
    """A 2-D numpy array from a SimpleITK image or an array."""
    if hasattr(image, "GetDimension"):
        import SimpleITK as sitk

        array = sitk.GetArrayFromImage(image)
    else:
        array = np.asarray(image)
    array = np.squeeze(array)
    if array.ndim != 2:
        raise ValueError(f"expected a 2-D image, got shape {array.shape}")
    return array


def cache_key(image_bytes: bytes, mask_bytes: bytes, spec: BackboneSpec, deep: Mapping[str, Any]) -> str:
    """sha256 of image + mask bytes, backbone + weights, preprocessing, intensity rule and torch version."""
    digest = hashlib.sha256()
    for part in (
        image_bytes,
        mask_bytes,
        spec.cache_token.encode(),
        json.dumps(
            {
                "pre": preprocess_settings(deep),
                "mean": spec.mean,
                "std": spec.std,
                "intensity": INTENSITY_RULE_VERSION,  # how grey levels are read (splkit.cohort.intensity)
            },
            sort_keys=True,
        ).encode(),
        torch.__version__.encode(),
    ):
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def load_cached(cache: ContentCache, key: str, dim: int) -> np.ndarray | None:
    """The cached embedding of ``key``, or ``None`` when absent (a corrupt entry is a ``CacheError``)."""
    vector = cache.get(key)
    if vector is not None and np.shape(vector) != (dim,):
        raise CacheError(
            f"embedding cache entry {cache.path(key)} has shape {np.shape(vector)}, not ({dim},)"
        )
    return vector


@dataclass
class Embeddings:
    """Embeddings of a set of patients and how they were obtained."""

    table: pd.DataFrame
    n_cached: int
    n_computed: int
    seconds: float
    geometries: dict[str, CropGeometry] = field(default_factory=dict)

    @property
    def images_per_second(self) -> float | None:
        return self.n_computed / self.seconds if self.n_computed and self.seconds > 0 else None


def embedding_columns(dim: int) -> list[str]:
    return [f"emb_{i:04d}" for i in range(dim)]


def load_crop(
    cohort: Any, patient: str, deep: Mapping[str, Any]
) -> tuple[np.ndarray, CropGeometry, np.ndarray]:
    """Read and crop one patient's image around its mask; errors name the patient and files."""
    try:
        image = as_array(cohort.read_image(patient))
        mask = as_array(cohort.read_mask(patient))
        crop, geometry = prepare_crop(image, mask > 0, float(deep["crop_margin"]), int(deep["image_size"]))
    except Exception as error:
        files = f"image {_path_of(cohort, 'images', patient)}, mask {_path_of(cohort, 'masks', patient)}"
        raise ValueError(f"patient {patient}: cannot prepare the CNN crop ({files}): {error}") from error
    return crop, geometry, mask


def _path_of(cohort: Any, attribute: str, patient: str) -> str:
    """The file as ``folder/name`` inside the cohort folder (as :mod:`splkit.cohort.validation` names files)."""
    paths = getattr(cohort, attribute, None)
    try:
        path = Path(paths[patient])
    except (TypeError, KeyError):
        return "?"
    return f"{path.parent.name}/{path.name}"


def _file_bytes(cohort: Any, attribute: str, patient: str) -> bytes:
    paths = getattr(cohort, attribute, None)
    if paths is None or patient not in paths:
        raise KeyError(f"patient {patient}: the cohort has no {attribute[:-1]} file to hash")
    path = Path(paths[patient])
    if not path.is_file():
        raise FileNotFoundError(
            f"patient {patient}: {attribute[:-1]} file {_path_of(cohort, attribute, patient)} does not exist"
        )
    return path.read_bytes()


def embed_crops(backbone: Backbone, crops: np.ndarray, batch_size: int, progress: bool = True) -> np.ndarray:
    """Pooled embeddings of gray crops (N x H x W, 0–1), in batches, under ``torch.inference_mode``."""
    spec = backbone.spec
    out = np.empty((len(crops), spec.embedding_dim), dtype=np.float32)
    backbone.eval()
    bar = progress_bar(total=len(crops), desc=f"embedding ({spec.name})", unit="img", **_quiet(progress))
    with torch.inference_mode():
        for start in range(0, len(crops), batch_size):
            batch = to_network_input(crops[start : start + batch_size], spec.mean, spec.std)
            out[start : start + len(batch)] = backbone(batch).numpy()
            bar.update(len(batch))
    bar.close()
    return out


def embed_patients(
    backbone: Backbone,
    cohort: Any,
    deep: Mapping[str, Any],
    patients: Iterable[str] | None = None,
    n_jobs: int = 1,
    cache_dir: str | Path | None = CACHE_DIR,
    progress: bool = True,
    engine: Engine | None = None,
) -> Embeddings:
    """Embeddings of ``patients`` (default: all of ``cohort.table``), from the cache where possible.

    The images to compute are embedded in batches of ``deep.batch_size`` (one engine task each); a
    batch reads and crops all its images before the network runs, so a bad file stops the run with an
    error naming the patient and the files (the batches finished before it are cached).

    Parameters
    ----------
    backbone
        From :func:`splkit.deep.backbones.build_backbone`.
    cohort
        A :class:`splkit.cohort.Cohort` (``table``, ``read_image``, ``read_mask``, ``images``, ``masks``).
    deep
        The profile's ``deep`` section (``crop_margin``, ``image_size``, ``batch_size``).
    n_jobs
        Threads for torch with the local engine (``torch.set_num_threads``).
    cache_dir
        The folder of the embedding cache (``.cache/deep``); ``None`` disables the cache.
    engine
        Where the batches run (:class:`splkit.run.engine.Engine`); default: this process.  On Dask the
        backbone is sent to every worker once; each task carries its patients' file paths
        (:class:`CohortView`) and the worker reads the images.
    """
    patients = list(cohort.table.index if patients is None else patients)
    cache = None if cache_dir is None else ContentCache(Path(cache_dir).absolute(), format="joblib")
    spec = backbone.spec
    engine = engine if engine is not None else Engine("local", workers=1)
    if not engine.distributed:
        torch.set_num_threads(max(int(n_jobs), 1))
    vectors: dict[str, np.ndarray] = {}
    keys: dict[str, str] = {}
    todo: list[str] = []
    for patient in patients:
        if cache is not None:
            keys[patient] = cache_key(
                _file_bytes(cohort, "images", patient), _file_bytes(cohort, "masks", patient), spec, deep
            )
            cached = load_cached(cache, keys[patient], spec.embedding_dim)
            if cached is not None:
                vectors[patient] = cached
                continue
        todo.append(patient)
    size = int(deep.get("batch_size", 16))
    batches = [
        (
            todo[i : i + size],
            [keys.get(p) for p in todo[i : i + size]],
            CohortView.of(cohort, todo[i : i + size]),
        )
        for i in range(0, len(todo), size)
    ]
    geometries: dict[str, CropGeometry] = {}
    bar = progress_bar(total=len(todo), desc=f"embedding ({spec.name})", unit="img", **_quiet(progress))
    seconds = 0.0  # of the network passes (reading and cropping not included), summed over the batches
    shared = (backbone, dict(deep.items()), None if cache is None else cache.root)
    try:
        runs = engine.map(
            _embed_batch, batches, *shared, progress=bar, size=lambda b: len(b[0]), in_process=True
        )
        with closing(runs) as results:
            for _, (batch_vectors, batch_geometries, batch_seconds) in results:
                vectors.update(batch_vectors)
                geometries.update(batch_geometries)
                seconds += batch_seconds
    finally:
        bar.close()
    table = pd.DataFrame(
        np.stack([vectors[p] for p in patients]) if patients else np.empty((0, spec.embedding_dim)),
        index=pd.Index(patients, name="patient"),
        columns=embedding_columns(spec.embedding_dim),
    )
    return Embeddings(table, len(patients) - len(todo), len(todo), seconds, geometries)


class CohortView:
    """What a batch task needs of a cohort: its patients' files and spacing, and the cohort's readers.

    Picklable and small (no clinical table, no pseudonym key): it travels to a Dask worker with its task.
    ``read_image``/``read_mask`` are the cohort class's own methods, applied to these files.
    """

    def __init__(self, kind: type, files: dict[str, dict[str, Any]]):
        self.kind = kind
        for name, values in files.items():
            setattr(self, name, values)

    @classmethod
    def of(cls, cohort: Any, patients: list[str]) -> CohortView:
        """The view of ``cohort`` restricted to ``patients``."""
        files = {}
        for name in ("images", "masks", "spacing"):
            values = getattr(cohort, name, None)
            if values is not None:
                files[name] = {p: values[p] for p in patients if p in values}
        return cls(type(cohort), files)

    def read_image(self, patient: str) -> Any:
        return self.kind.read_image(self, patient)

    def read_mask(self, patient: str) -> Any:
        return self.kind.read_mask(self, patient)


def _embed_batch(
    batch: tuple[list[str], list[str | None], CohortView],
    backbone: Backbone,
    deep: Mapping[str, Any],
    cache_root: Path | None,
) -> tuple[dict[str, np.ndarray], dict[str, CropGeometry], float]:
    """One engine task: read, crop and embed a batch of patients, and cache each vector (``keys``).

    Returns the vectors, the crop geometries and the seconds of the network pass.
    """
    patients, keys, cohort = batch
    crops = np.empty((len(patients), int(deep["image_size"]), int(deep["image_size"])), dtype=np.float32)
    geometries: dict[str, CropGeometry] = {}
    for index, patient in enumerate(patients):
        for attribute in ("images", "masks"):
            paths = getattr(cohort, attribute, None)
            if paths is not None and patient in paths:
                require_readable(paths[patient], attribute[:-1], patient)
        crops[index], geometries[patient], _ = load_crop(cohort, patient, deep)
    start = time.perf_counter()
    computed = embed_crops(backbone, crops, len(patients), progress=False)
    seconds = time.perf_counter() - start
    vectors = {p: np.asarray(v, dtype=np.float32) for p, v in zip(patients, computed, strict=True)}
    if cache_root is not None:
        store = ContentCache(cache_root, format="joblib")
        for patient, key in zip(patients, keys, strict=True):
            store.put(key, vectors[patient])
    return vectors, geometries, seconds


def measure_throughput(
    backbone: Backbone,
    n_images: int = 32,
    batch_size: int = 16,
    n_jobs: int = 1,
    size: int = 224,
    seed: int = 0,
) -> float:
    """Images per second of the embedding forward pass on random 0–1 crops (after one warm-up batch)."""
    torch.set_num_threads(max(int(n_jobs), 1))
    rng = np.random.default_rng(seed)
    crops = rng.random((n_images, size, size), dtype=np.float32)
    embed_crops(backbone, crops[: min(batch_size, n_images)], batch_size, progress=False)
    start = time.perf_counter()
    embed_crops(backbone, crops, batch_size, progress=False)
    return n_images / (time.perf_counter() - start)
