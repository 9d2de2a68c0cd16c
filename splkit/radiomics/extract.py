"""Radiomics extraction with pyradiomics: true 2-D input, checked feature sets, parallel, cached.

Per image, :func:`extract_image` hands pyradiomics a 2-D ``float32`` image (or, for a ``slice3d``
preset, a one-slice volume) and checks that exactly the preset's expected features per image type came
back.  :func:`extract_cohort` runs it over a cohort, one task per image on the compute engine
(:mod:`splkit.run.engine`: ``n_jobs`` local processes or a Dask cluster), with a progress bar and a
per-image cache keyed by content (image, mask, spacing, preset, versions; :func:`cache_key`) that the
task writes where it runs.

Under NumPy 2, pyradiomics' ``imageoperations.getBinEdges`` computes the top edge ``max + 2 * binWidth`` in
the image's dtype (``uint8``, bin width 25: wrong bins, silently, when the ROI maximum is >= 206), so images
are cast to ``float32``; its builtin ``min``/``max`` loop element by element, so :func:`numpy_bin_edges`
uses numpy's while splkit extracts (same values on float input, ``tests/radiomics/test_extract.py``).

pyradiomics' LBP3D filter imports ``scipy.special.sph_harm``, removed in SciPy 1.17; while splkit
extracts, :func:`splkit.radiomics.compat.scipy_sph_harm` supplies it (from ``sph_harm_y``).

The features come from pyradiomics or from splkit's fast engine (:mod:`splkit.radiomics.fast`: same names
and values, fewer CPU-seconds, true 2-D presets it supports): ``radiomics_engine`` (:func:`resolve_engine`),
part of the cache key and of the ``diagnostics_Configuration_Engine`` column.

Reference: van Griethuysen JJM et al. Computational radiomics system to decode the radiographic
phenotype. Cancer Res. 2017;77:e104-e107 (pyradiomics).
"""

from __future__ import annotations

import hashlib
import json
import math
import platform
import time
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pywt
import SimpleITK as sitk

import splkit
from splkit.cohort.intensity import INTENSITY_RULE_VERSION
from splkit.radiomics.binning import numpy_bin_edges, numpy_bin_edges_function  # noqa: F401
from splkit.radiomics.compat import scipy_sph_harm
from splkit.radiomics.fast import choose_engine, make_extractor
from splkit.radiomics.fast.support import ENGINES as RADIOMICS_ENGINES  # noqa: F401 - re-exported
from splkit.radiomics.presets import Preset, check_runtime, load_preset
from splkit.radiomics.resample import RESAMPLE_RULE_VERSION, resample_pair
from splkit.run.cache import CacheError, ContentCache, file_sha256  # noqa: F401 - CacheError re-exported
from splkit.run.engine import Engine, require_readable
from splkit.run.progress import progress_bar

#: Bump when splkit's side of the extraction changes what a cache entry holds.
EXTRACTOR_VERSION = 3  # 3: the engine (diagnostics_Configuration_Engine) and the fast engine
DIAGNOSTICS_PREFIX = "diagnostics_"


class FeatureSetError(RuntimeError):
    """pyradiomics returned another set of features than the preset declares."""


class ExtractionError(RuntimeError):
    """An image failed extraction (names the patient, the files and the reason)."""


@dataclass(frozen=True)
class ImageTask:
    """One image to extract: the patient's pseudonym, image and mask files, and spacing (mm);
    ``resample_mm``: resample image and mask to this isotropic spacing first
    (:func:`splkit.radiomics.resample.resample_pair`; ``None``: as they are)."""

    patient: str
    image: Path
    mask: Path
    spacing: float | tuple[float, float] | None = None
    resample_mm: float | None = None


@dataclass
class ExtractionResult:
    """Features of a cohort (index ``patient``), with what was excluded and how long it took."""

    features: pd.DataFrame
    excluded: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    n_cached: int = 0
    n_computed: int = 0

    @property
    def images_per_second(self) -> float:
        n = self.n_cached + self.n_computed
        return n / self.seconds if self.seconds > 0 else math.nan


def pyradiomics_version() -> str:
    import radiomics

    return str(radiomics.__version__)


_EXTRACTORS: dict[tuple[str, str], Any] = {}


def _extractor(preset: Preset, engine: str = "pyradiomics"):
    """The extractor of ``engine`` for ``preset``, one per process (:func:`splkit.radiomics.fast.make_extractor`)."""
    if (preset.sha256, engine) not in _EXTRACTORS:
        _EXTRACTORS[preset.sha256, engine] = make_extractor(preset.pyradiomics_params(), preset.input, engine)
    return _EXTRACTORS[preset.sha256, engine]


def resolve_engine(preset: Preset, engine: str = "auto") -> str:
    """``"fast"`` or ``"pyradiomics"``: the engine that extracts ``preset`` (``auto``: ``fast`` where it supports
    the preset; :func:`splkit.radiomics.fast.support.choose_engine`)."""
    return choose_engine(preset.params, preset.input, engine, preset.name)


def image_type_of(feature: str) -> str:
    """The group a feature is counted in: ``shape``/``shape2D``, else its image type (``wavelet-LH``)."""
    image_type, rest = feature.split("_", 1)
    feature_class = rest.split("_", 1)[0]
    return feature_class if feature_class.startswith("shape") else image_type


def feature_columns(columns: Iterable[str]) -> list[str]:
    """The feature columns of a table (everything but ``diagnostics_*``)."""
    return [c for c in columns if not str(c).startswith(DIAGNOSTICS_PREFIX)]


def count_by_image_type(columns: Iterable[str]) -> dict[str, int]:
    """Number of features per image type (shape classes counted on their own), in first-seen order."""
    return dict(Counter(image_type_of(c) for c in feature_columns(columns)))


def check_feature_set(names: Iterable[str], preset: Preset) -> None:
    """Raise :class:`FeatureSetError` unless ``names`` has exactly the preset's count per image type."""
    found = count_by_image_type(names)
    expected = preset.expected_counts
    if found == expected:
        return
    problems = [
        f"{t}: expected {expected.get(t, 0)}, got {found.get(t, 0)}"
        for t in sorted(set(found) | set(expected))
        if found.get(t, 0) != expected.get(t, 0)
    ]
    raise FeatureSetError(
        f"pyradiomics returned {sum(found.values())} features instead of the {preset.total} that preset "
        f"{preset.name!r} declares ({'; '.join(problems)}). pyradiomics drops filters and classes with only "
        "a log message (e.g. LoG on a too-small image, LBP3D without its dependencies)."
    )


def prepare_inputs(image: sitk.Image, mask: sitk.Image, preset: Preset) -> tuple[sitk.Image, sitk.Image]:
    """The image as ``float32`` and the mask as ``uint8``, 2-D (or one-slice 3-D for ``slice3d`` presets)."""
    if image.GetDimension() != 2 or mask.GetDimension() != 2:
        raise ValueError(
            f"image and mask must be 2-D (got {image.GetDimension()}-D image, {mask.GetDimension()}-D mask)"
        )
    if image.GetSize() != mask.GetSize():
        raise ValueError(f"image size {image.GetSize()} differs from mask size {mask.GetSize()}")
    if not np.allclose(image.GetSpacing(), mask.GetSpacing(), rtol=1e-4):
        raise ValueError(f"image spacing {image.GetSpacing()} differs from mask spacing {mask.GetSpacing()}")
    image = sitk.Cast(image, sitk.sitkFloat32)
    mask = sitk.Cast(mask, sitk.sitkUInt8)
    mask.CopyInformation(image)
    if preset.input == "slice3d":
        image, mask = sitk.JoinSeries(image), sitk.JoinSeries(mask)
    return image, mask


def _plain(value: Any) -> Any:
    """A pyradiomics value as a JSON/parquet-friendly scalar (features: float; diagnostics: str/number)."""
    if isinstance(value, (np.ndarray, np.generic)) and np.ndim(value) == 0:
        value = value.item()
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    return json.dumps(value, default=lambda v: v.item() if isinstance(v, np.generic) else str(v))


def provenance(
    image: sitk.Image, mask: sitk.Image, preset: Preset, engine: str = "pyradiomics"
) -> dict[str, Any]:
    """splkit's ``diagnostics_*`` provenance columns (pyradiomics' names where the content is the same).

    pyradiomics' own (``additionalInfo: true``) hashes every image with ``sitk.Hash``, about 6 % of the
    extraction time of a 2-D image; these cover the same ground cheaply, and
    :func:`extract_cohort` adds the sha256 of the image and mask files.
    """
    import radiomics

    image_array = sitk.GetArrayViewFromImage(image)
    roi = sitk.GetArrayViewFromImage(mask) == 1
    stats = sitk.LabelShapeStatisticsImageFilter()
    stats.Execute(sitk.Cast(mask, sitk.sitkUInt8))
    components = sitk.ConnectedComponentImageFilter()
    components.FullyConnectedOn()
    components.Execute(sitk.Cast(mask == 1, sitk.sitkUInt8))
    values = image_array[roi].astype(float)
    centre = tuple(float(v) for v in np.argwhere(roi).mean(axis=0)[::-1]) if values.size else ()
    box = list(stats.GetBoundingBox(1)) if stats.HasLabel(1) else []
    d = DIAGNOSTICS_PREFIX
    return {
        f"{d}Versions_PyRadiomics": str(radiomics.__version__),
        f"{d}Versions_Numpy": np.__version__,
        f"{d}Versions_SimpleITK": sitk.Version().VersionString(),
        f"{d}Versions_PyWavelet": pywt.__version__,
        f"{d}Versions_Python": platform.python_version(),
        f"{d}Versions_splkit": splkit.__version__,
        f"{d}Configuration_Preset": preset.name,
        f"{d}Configuration_PresetSHA256": preset.sha256,
        f"{d}Configuration_Engine": engine,
        f"{d}Image-original_Dimensionality": f"{image.GetDimension()}D",
        f"{d}Image-original_Spacing": json.dumps(list(image.GetSpacing())),
        f"{d}Image-original_Size": json.dumps(list(image.GetSize())),
        f"{d}Image-original_Mean": float(image_array.mean()),
        f"{d}Image-original_Minimum": float(image_array.min()),
        f"{d}Image-original_Maximum": float(image_array.max()),
        f"{d}Mask-original_BoundingBox": json.dumps(box),
        f"{d}Mask-original_VoxelNum": int(roi.sum()),
        f"{d}Mask-original_VolumeNum": int(components.GetObjectCount()),
        f"{d}Mask-original_CenterOfMassIndex": json.dumps(centre),
        f"{d}Mask-original_Mean": float(values.mean()) if values.size else math.nan,
        f"{d}Mask-original_Minimum": float(values.min()) if values.size else math.nan,
        f"{d}Mask-original_Maximum": float(values.max()) if values.size else math.nan,
    }


def extract_image(
    image: sitk.Image, mask: sitk.Image, preset: Preset | str, radiomics_engine: str = "auto"
) -> dict[str, Any]:
    """All features of ``preset`` for one image and mask (``radiomics_engine``: :func:`resolve_engine`), checked
    against the preset's expected set: ``diagnostics_*`` provenance (pyradiomics' own when the preset sets
    ``additionalInfo``, else :func:`provenance`; both with the engine), then the features in pyradiomics' order.
    """
    preset = load_preset(preset) if not isinstance(preset, Preset) else preset
    engine = resolve_engine(preset, radiomics_engine)
    image, mask = prepare_inputs(image, mask, preset)
    with numpy_bin_edges(), scipy_sph_harm(), warnings.catch_warnings():
        # scikit-image warns about LBP on float input: our float32 images hold 8-bit B-mode's whole numbers
        warnings.filterwarnings("ignore", message="Applying `local_binary_pattern`", category=UserWarning)
        # pyradiomics' LBP3D imports map_coordinates from the deprecated scipy.ndimage.interpolation
        warnings.filterwarnings(
            "ignore", message=".*scipy.ndimage.interpolation", category=DeprecationWarning
        )
        result = _extractor(preset, engine).execute(image, mask)
    check_feature_set(result.keys(), preset)
    pyradiomics_info = preset.params.get("setting", {}).get("additionalInfo", True)
    own = {f"{DIAGNOSTICS_PREFIX}Configuration_Engine": engine}
    own = own if pyradiomics_info else provenance(image, mask, preset, engine)
    return own | {k: (_plain(v) if k.startswith(DIAGNOSTICS_PREFIX) else float(v)) for k, v in result.items()}


def cache_key(task: ImageTask, preset: Preset, radiomics_engine: str = "auto") -> str:
    """sha256 of image and mask bytes, spacing, preset text, engine, pyradiomics, extractor, intensity rule."""
    parts = {
        "engine": resolve_engine(preset, radiomics_engine),
        "image": file_sha256(task.image),
        "mask": file_sha256(task.mask),
        "spacing": task.spacing if task.spacing is None or np.isscalar(task.spacing) else list(task.spacing),
        "preset": preset.sha256,
        "pyradiomics": pyradiomics_version(),
        "extractor": EXTRACTOR_VERSION,
        "intensity": INTENSITY_RULE_VERSION,  # how grey levels are read (splkit.cohort.intensity)
    }
    if task.resample_mm is not None:  # (absent otherwise: the keys of unresampled images stay as they were)
        parts["resample_mm"] = [float(task.resample_mm), RESAMPLE_RULE_VERSION]
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _run_task(
    item: tuple[ImageTask, tuple[Path, str] | None], preset: Preset, radiomics_engine: str = "auto"
) -> tuple[str, dict | None, str | None]:
    """Read, extract and cache (``entry``: folder, key) one image; errors come back as path-free text.

    An input the worker cannot read is raised (:class:`splkit.run.engine.InputNotReadableError`), never
    excluded: on a cluster it means the worker does not see the client's files.
    """
    from splkit.cohort import imaging
    from splkit.cohort.redact import redact_paths

    task, entry = item
    require_readable(task.image, "image", task.patient)
    require_readable(task.mask, "mask", task.patient)
    try:
        image = imaging.read_image(task.image, spacing_mm=task.spacing)
        mask = imaging.read_mask(task.mask, spacing_mm=task.spacing)
        if task.resample_mm is not None:
            image, mask = resample_pair(image, mask, task.resample_mm)
        values = {
            f"{DIAGNOSTICS_PREFIX}Image-original_SHA256": file_sha256(task.image),
            f"{DIAGNOSTICS_PREFIX}Mask-original_SHA256": file_sha256(task.mask),
        } | extract_image(image, mask, preset, radiomics_engine)
    except Exception as err:  # noqa: BLE001 - reported with the patient by the caller
        reason = redact_paths(f"{type(err).__name__}: {err}", {"<image>": task.image, "<mask>": task.mask})
        return task.patient, None, reason
    if entry is not None:
        ContentCache(entry[0], format="json").put(entry[1], {"values": values})
    return task.patient, values, None


def extract_cohort(
    tasks: Sequence[ImageTask],
    preset: Preset | str = "ultrasound2d",
    cache_dir: str | Path | None = None,
    n_jobs: int = 2,
    allow_exclusions: bool = False,
    progress: bool = True,
    description: str = "radiomics",
    engine: Engine | None = None,
    radiomics_engine: str = "auto",
) -> ExtractionResult:
    """Extract ``preset`` for every task, one task per image, through a per-image cache.

    Parameters
    ----------
    tasks
        The images (one per patient).
    preset
        A :class:`Preset` or a preset name.
    cache_dir
        Folder of the per-image cache (``None``: no cache).
    n_jobs
        Worker processes of the local engine (1: extract in this process); ignored with ``engine``.
    allow_exclusions
        ``False``: the first failed image stops the run with an :class:`ExtractionError` naming the
        patient, files and reason.  ``True``: failed images are left out and listed in ``excluded``.
        An unreadable file is always an error.
    engine
        Where the images are extracted (:class:`splkit.run.engine.Engine`; default: the local pool of
        ``n_jobs`` processes).  Workers read the files and write the cache entries themselves.
    radiomics_engine
        ``auto`` (``fast`` where it supports the preset), ``fast`` or ``pyradiomics``: :func:`resolve_engine`.

    Returns
    -------
    ExtractionResult
        ``features``: index ``patient`` (in task order), ``diagnostics_*`` and feature columns.
    """
    preset = load_preset(preset) if not isinstance(preset, Preset) else preset
    check_runtime(preset)
    radiomics_engine = resolve_engine(preset, radiomics_engine)
    patients = [t.patient for t in tasks]
    if len(set(patients)) != len(patients):
        raise ValueError("extract_cohort: duplicate patients in tasks")
    start = time.perf_counter()
    rows: dict[str, dict[str, Any]] = {}
    todo: list[tuple[ImageTask, tuple[Path, str] | None]] = []
    cache = ContentCache(Path(cache_dir).resolve(), format="json") if cache_dir is not None else None
    for task in tasks:
        entry = (cache.root, cache_key(task, preset, radiomics_engine)) if cache is not None else None
        cached = cache.get(entry[1]) if cache is not None else None
        if cached is not None:
            rows[task.patient] = cached["values"]
        else:
            todo.append((task, entry))
    n_cached = len(rows)
    by_patient = {t.patient: t for t in tasks}
    excluded: list[dict[str, str]] = []

    def handle(patient: str, values: dict | None, error: str | None) -> None:
        if values is not None:
            rows[patient] = values
            return
        task = by_patient[patient]
        if not allow_exclusions:
            raise ExtractionError(
                f"patient {patient} (image {task.image.name}, mask {task.mask.name}): radiomics extraction "
                f"failed: {error}. Fix the input, or set radiomics.allow_exclusions: true to exclude it."
            )
        excluded.append({"patient": patient, "reason": error or "unknown"})

    bar = progress_bar(
        total=len(tasks),
        initial=n_cached,
        desc=description,
        unit="image",
        mininterval=5,
        **({} if progress else {"disable": True}),  # else progress_bar decides (off in batch runs)
    )
    engine = engine if engine is not None else Engine("local", workers=n_jobs)
    try:
        with closing(engine.map(_run_task, todo, preset, radiomics_engine, progress=bar)) as results:
            for _, result in results:
                handle(*result)
    finally:
        bar.close()
    order = [p for p in patients if p in rows]
    table = pd.DataFrame.from_dict({p: rows[p] for p in order}, orient="index")
    table.index.name = "patient"
    return ExtractionResult(
        features=table,
        excluded=excluded,
        seconds=time.perf_counter() - start,
        n_cached=n_cached,
        n_computed=len(todo) - len(excluded),
    )
