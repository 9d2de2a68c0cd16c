"""Notebook 03's steps as functions: extraction for a cohort, the ICC filter (between readers, over
perturbed masks, or none: :mod:`splkit.radiomics.robustness`), the selection record."""

from __future__ import annotations

import time
from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.pipeline import Pipeline

from splkit.config import resolve_path
from splkit.radiomics.extract import ExtractionResult, ImageTask, extract_cohort, feature_columns
from splkit.radiomics.icc import icc
from splkit.radiomics.presets import Preset, load_preset
from splkit.radiomics.resample import target_spacing
from splkit.radiomics.robustness import MASK_FOLDER, Robustness, choose_method, perturbed_tasks
from splkit.run.engine import Engine
from splkit.selection import selection_funnel

DEFAULT_CACHE = ".cache/radiomics"


def cache_dir(settings: Mapping[str, Any]) -> Path:
    """The project-level per-image cache folder (``radiomics.cache_dir``, default ``.cache/radiomics``)."""
    return resolve_path(settings["radiomics"].get("cache_dir") or DEFAULT_CACHE)


def image_tasks(cohort, reader: int = 1, resample_mm: float | None = None) -> list[ImageTask]:
    """One :class:`ImageTask` per patient with a mask of ``reader`` (1: all patients; 2: the subset),
    resampled to ``resample_mm`` (:func:`resample_target`; ``None``: as they are)."""
    masks = cohort.masks if reader == 1 else cohort.masks_reader2
    patients = list(cohort.table.index) if reader == 1 else sorted(masks)
    return [
        ImageTask(p, Path(cohort.images[p]), Path(masks[p]), cohort.spacing[p], resample_mm) for p in patients
    ]


def resample_target(settings: Mapping[str, Any], cohort) -> float | None:
    """The spacing every image of ``cohort`` is resampled to (``radiomics.resample_mm``, default ``auto``:
    the training patients' median when the spacings differ; :func:`splkit.radiomics.resample.target_spacing`)."""
    table = cohort.table
    training = table.index[table["cohort"] == "train"] if "cohort" in table.columns else table.index
    return target_spacing(settings["radiomics"].get("resample_mm", "auto"), cohort.spacing, training)


def _extract(
    settings: Mapping[str, Any],
    tasks: list[ImageTask],
    preset: Preset | None,
    progress: bool,
    description: str,
    engine: Engine,
    allow_exclusions: bool | None = None,
) -> ExtractionResult:
    """The one call of :func:`extract_cohort` (reader masks and perturbed masks extract alike)."""
    rad = settings["radiomics"]
    return extract_cohort(
        tasks,
        preset or load_preset(rad["preset"]),
        cache_dir=cache_dir(settings),
        n_jobs=int(settings.get("n_jobs", 2)),
        allow_exclusions=bool(rad.get("allow_exclusions", False))
        if allow_exclusions is None
        else allow_exclusions,
        progress=progress,
        description=description,
        engine=engine,
        radiomics_engine=str(rad.get("engine", "auto")),
    )


def extract_for(
    settings: Mapping[str, Any],
    cohort,
    reader: int = 1,
    preset: Preset | None = None,
    progress: bool = True,
    engine: Engine | None = None,
) -> ExtractionResult:
    """Extract the profile's preset for every patient with a ``reader`` mask, through the cache.

    ``engine``: where to extract (default: the profile's ``compute`` section, started and closed here).
    """
    n_jobs = int(settings.get("n_jobs", 2))
    tasks = image_tasks(cohort, reader, resample_target(settings, cohort))
    with Engine.from_settings(settings, n_jobs=n_jobs) if engine is None else nullcontext(engine) as used:
        return _extract(settings, tasks, preset, progress, f"radiomics, reader {reader}", used)


def icc_patients(settings: Mapping[str, Any], table: pd.DataFrame, reader2: pd.DataFrame) -> pd.Index:
    """Patients used for the ICC: those with both readers' features, training only unless told ``all``."""
    scope = settings["radiomics"].get("icc_patients", "train")
    if scope not in ("train", "all"):
        raise ValueError(f"radiomics.icc_patients must be 'train' or 'all', got {scope!r}")
    patients = reader2.index.intersection(table.index)
    if scope == "train":
        patients = patients.intersection(table.index[table["cohort"] == "train"])
    return patients.sort_values()


def _icc_keep(
    settings: Mapping[str, Any], reader1: pd.DataFrame, others: list[pd.DataFrame], patients: pd.Index
) -> tuple[pd.Series, pd.DataFrame]:
    """ICC of every numeric reader-1 feature over ``reader1`` and ``others`` on ``patients``; the features
    reaching the threshold, for all reader-1 patients."""
    rad = settings["radiomics"]
    features = [c for c in feature_columns(reader1.columns) if pd.api.types.is_numeric_dtype(reader1[c])]
    tables = [reader1.loc[patients, features]] + [t.loc[patients, features] for t in others]
    values = icc(tables, icc_type=rad["icc_type"])
    keep = values.index[values >= rad["icc_threshold"]]
    return values, reader1.loc[:, list(keep)]


def icc_filter(
    settings: Mapping[str, Any], reader1: pd.DataFrame, reader2: pd.DataFrame, table: pd.DataFrame
) -> tuple[pd.Series, pd.DataFrame]:
    """ICC of every numeric feature on :func:`icc_patients`; the features passing, for all patients.

    Returns the ICC per feature and ``rad_candidates`` (index patient, all reader-1 patients).
    """
    patients = icc_patients(settings, table, reader2).intersection(reader1.index)  # minus exclusions
    if len(patients) < 3:
        raise ValueError(f"ICC needs at least 3 patients with both readers' masks, found {len(patients)}")
    return _icc_keep(settings, reader1, [reader2], patients)


def robustness_for(
    settings: Mapping[str, Any], table: pd.DataFrame, reader1: pd.DataFrame, reader2: pd.DataFrame
) -> Robustness:
    """The reproducibility method used (``radiomics.robustness``, with the fallback from ``readers`` to
    ``perturbation`` when fewer than 3 patients of the ICC scope have both readers' features)."""
    return choose_method(settings, len(icc_patients(settings, table, reader2).intersection(reader1.index)))


def perturbation_patients(
    settings: Mapping[str, Any], table: pd.DataFrame, reader1: pd.DataFrame
) -> pd.Index:
    """Patients of the perturbation ICC: reader-1 patients in the ICC scope (``radiomics.icc_patients``)."""
    return icc_patients(settings, table, reader1)


def extract_perturbed(
    settings: Mapping[str, Any],
    cohort,
    patients: pd.Index,
    preset: Preset | None = None,
    progress: bool = True,
    engine: Engine | None = None,
) -> list[ExtractionResult]:
    """Extract the perturbed reader-1 masks of ``patients`` (one result per perturbation), through the cache.

    The masks are written into ``<radiomics.cache_dir>/perturbed_masks`` (content-hashed, atomic) from the
    profile's ``seed`` (:func:`splkit.radiomics.robustness.perturbed_tasks`).  A perturbed mask pyradiomics
    refuses (a small lesion shrunk under the preset's ``minimumROISize``) is excluded, whatever
    ``radiomics.allow_exclusions`` says: its patient is left out of the ICC and listed, the chapter goes on
    (an unreadable file is still an error).
    """
    preset = preset or load_preset(settings["radiomics"]["preset"])
    wanted = set(patients)
    tasks = [t for t in image_tasks(cohort, 1, resample_target(settings, cohort)) if t.patient in wanted]
    per_perturbation = perturbed_tasks(tasks, int(settings.get("seed", 0)), cache_dir(settings) / MASK_FOLDER)
    n_jobs = int(settings.get("n_jobs", 2))
    with Engine.from_settings(settings, n_jobs=n_jobs) if engine is None else nullcontext(engine) as used:
        return [
            _extract(
                settings,
                perturbed,
                preset,
                progress,
                f"radiomics, perturbed masks {i + 1}/{len(per_perturbation)}",
                used,
                True,
            )
            for i, perturbed in enumerate(per_perturbation)
        ]


def perturbation_filter(
    settings: Mapping[str, Any], reader1: pd.DataFrame, perturbed: list[pd.DataFrame], table: pd.DataFrame
) -> tuple[pd.Series, pd.DataFrame]:
    """Perturbation robustness: the ICC over the reader-1 mask and its perturbed copies on
    :func:`perturbation_patients` (same type and threshold as between readers); the features passing."""
    patients = perturbation_patients(settings, table, reader1)
    for features in perturbed:
        patients = patients.intersection(features.index)  # minus exclusions
    if len(patients) < 3:
        raise ValueError(f"the perturbation ICC needs at least 3 patients, found {len(patients)}")
    return _icc_keep(settings, reader1, perturbed, patients)


def no_filter(settings: Mapping[str, Any], reader1: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
    """``radiomics.robustness: none``: no ICC (an empty series) and every numeric feature as a candidate."""
    features = [c for c in feature_columns(reader1.columns) if pd.api.types.is_numeric_dtype(reader1[c])]
    values = pd.Series(
        dtype=float, index=pd.Index([], name="feature"), name=settings["radiomics"]["icc_type"]
    )
    return values, reader1.loc[:, features]


@dataclass
class Filtered:
    """The reproducibility step's outcome: the method used, the ICC per feature, the candidates (all
    patients), the ICC's patients and, for ``perturbation``, what the perturbed masks cost."""

    robustness: Robustness
    values: pd.Series
    candidates: pd.DataFrame
    n_patients: int
    cost: dict[str, Any] = field(default_factory=dict)


def reproducibility_filter(
    settings: Mapping[str, Any],
    cohort,
    reader1: pd.DataFrame,
    reader2: pd.DataFrame,
    preset: Preset | None = None,
    progress: bool = True,
    engine: Engine | None = None,
) -> Filtered:
    """The ICC filter by :func:`robustness_for`'s method: between readers (as :func:`icc_filter`), over
    perturbed reader-1 masks (extracted here, timed), or none."""
    table = cohort.table
    robustness = robustness_for(settings, table, reader1, reader2)
    if robustness.method == "readers":
        values, candidates = icc_filter(settings, reader1, reader2, table)
        return Filtered(robustness, values, candidates, len(icc_patients(settings, table, reader2)))
    if robustness.method == "none":
        return Filtered(robustness, *no_filter(settings, reader1), 0)
    patients = perturbation_patients(settings, table, reader1)
    start = time.perf_counter()
    results = extract_perturbed(settings, cohort, patients, preset, progress, engine)
    seconds = time.perf_counter() - start
    values, candidates = perturbation_filter(settings, reader1, [r.features for r in results], table)
    now = sum(r.n_computed for r in results)
    cost = {
        "patients": len(patients),
        "images": sum(len(r.features) + len(r.excluded) for r in results),
        "images_extracted_now": now,
        "excluded": [dict(e, perturbation=i + 1) for i, r in enumerate(results) for e in r.excluded],
        "seconds": round(seconds, 2),
        "seconds_per_patient": round(seconds / len(patients), 3) if now and len(patients) else None,
    }
    return Filtered(robustness, values, candidates, int(values.attrs.get("n_patients", len(patients))), cost)


def selection_counts(extracted: pd.DataFrame, values: pd.Series, pipeline: Pipeline) -> dict[str, Any]:
    """Feature counts per step for ``results.json``: extracted, per image type, after each filter."""
    from splkit.radiomics.extract import count_by_image_type

    funnel = selection_funnel(pipeline).set_index("step")["n_features"]
    return {
        "extracted": len(feature_columns(extracted.columns)),
        "per_image_type": count_by_image_type(extracted.columns),
        "icc_defined": int(values.notna().sum()),
        "after_icc": int(funnel["input"]),
        "after_mannwhitney": int(funnel["mannwhitney"]),
        "after_spearman": int(funnel["spearman"]),
        "after_lasso": int(funnel["lasso"]),
    }


def coefficient_table(
    pipeline: Pipeline, icc_values: pd.Series | None = None, icc_column: str = "icc"
) -> pd.DataFrame:
    """Selected features with LASSO coefficient (z-scored scale), Mann-Whitney p, ICC (as ``icc_column``),
    image type, class."""
    from splkit.radiomics.extract import image_type_of

    lasso = pipeline.named_steps["lasso"]
    table = lasso.coef_.to_frame("coefficient")
    table["mannwhitney_p"] = pipeline.named_steps["mannwhitney"].pvalues_.reindex(table.index)
    if icc_values is not None:
        table[icc_column] = icc_values.reindex(table.index)
    table["image_type"] = [image_type_of(f) for f in table.index]
    table["feature_class"] = [f.split("_")[1] for f in table.index]
    return table.sort_values("coefficient", key=abs, ascending=False)
