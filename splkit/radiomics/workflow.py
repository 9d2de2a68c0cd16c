"""Notebook 03's steps as functions: extraction for a cohort, the ICC filter, the selection record."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.pipeline import Pipeline

from splkit.config import resolve_path
from splkit.radiomics.extract import ExtractionResult, ImageTask, extract_cohort, feature_columns
from splkit.radiomics.icc import icc
from splkit.radiomics.presets import Preset, load_preset
from splkit.run.engine import Engine
from splkit.selection import selection_funnel

DEFAULT_CACHE = ".cache/radiomics"


def cache_dir(settings: Mapping[str, Any]) -> Path:
    """The project-level per-image cache folder (``radiomics.cache_dir``, default ``.cache/radiomics``)."""
    return resolve_path(settings["radiomics"].get("cache_dir") or DEFAULT_CACHE)


def image_tasks(cohort, reader: int = 1) -> list[ImageTask]:
    """One :class:`ImageTask` per patient with a mask of ``reader`` (1: all patients; 2: the subset)."""
    masks = cohort.masks if reader == 1 else cohort.masks_reader2
    patients = list(cohort.table.index) if reader == 1 else sorted(masks)
    return [ImageTask(p, Path(cohort.images[p]), Path(masks[p]), cohort.spacing[p]) for p in patients]


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
    rad = settings["radiomics"]
    n_jobs = int(settings.get("n_jobs", 2))
    with Engine.from_settings(settings, n_jobs=n_jobs) if engine is None else nullcontext(engine) as used:
        return extract_cohort(
            image_tasks(cohort, reader),
            preset or load_preset(rad["preset"]),
            cache_dir=cache_dir(settings),
            n_jobs=n_jobs,
            allow_exclusions=bool(rad.get("allow_exclusions", False)),
            progress=progress,
            description=f"radiomics, reader {reader}",
            engine=used,
        )


def icc_patients(settings: Mapping[str, Any], table: pd.DataFrame, reader2: pd.DataFrame) -> pd.Index:
    """Patients used for the ICC: those with both readers' features, training only unless told ``all``."""
    scope = settings["radiomics"].get("icc_patients", "train")
    if scope not in ("train", "all"):
        raise ValueError(f"radiomics.icc_patients must be 'train' or 'all', got {scope!r}")
    patients = reader2.index.intersection(table.index)
    if scope == "train":
        patients = patients.intersection(table.index[table["cohort"] == "train"])
    return patients.sort_values()


def icc_filter(
    settings: Mapping[str, Any], reader1: pd.DataFrame, reader2: pd.DataFrame, table: pd.DataFrame
) -> tuple[pd.Series, pd.DataFrame]:
    """ICC of every numeric feature on :func:`icc_patients`; the features passing, for all patients.

    Returns the ICC per feature and ``rad_candidates`` (index patient, all reader-1 patients).
    """
    rad = settings["radiomics"]
    features = [c for c in feature_columns(reader1.columns) if pd.api.types.is_numeric_dtype(reader1[c])]
    patients = icc_patients(settings, table, reader2).intersection(reader1.index)  # minus exclusions
    if len(patients) < 3:
        raise ValueError(f"ICC needs at least 3 patients with both readers' masks, found {len(patients)}")
    values = icc([reader1.loc[patients, features], reader2.loc[patients, features]], icc_type=rad["icc_type"])
    keep = values.index[values >= rad["icc_threshold"]]
    return values, reader1.loc[:, list(keep)]


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


def coefficient_table(pipeline: Pipeline, icc_values: pd.Series | None = None) -> pd.DataFrame:
    """Selected features with LASSO coefficient (z-scored scale), Mann-Whitney p, ICC, image type, class."""
    from splkit.radiomics.extract import image_type_of

    lasso = pipeline.named_steps["lasso"]
    table = lasso.coef_.to_frame("coefficient")
    table["mannwhitney_p"] = pipeline.named_steps["mannwhitney"].pvalues_.reindex(table.index)
    if icc_values is not None:
        table["icc"] = icc_values.reindex(table.index)
    table["image_type"] = [image_type_of(f) for f in table.index]
    table["feature_class"] = [f.split("_")[1] for f in table.index]
    return table.sort_values("coefficient", key=abs, ascending=False)
