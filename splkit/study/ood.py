"""Out-of-distribution flags for new patients: the training cohort's range of every model input.

A fitted model says nothing reliable about a patient unlike every training patient.  Two flags are
raised for each scored patient, against a reference kept with the study (``<study>/ood.joblib``):

(a) **feature range** — a model input (radiomics candidate, ``DTL_…`` feature, numeric clinical
    predictor) outside the training cohort's ``[min, max]`` (with a tolerance of 1e-9 of the range, so
    that a training patient rescored is never flagged by rounding); missing clinical values are imputed
    by the models and are not flagged;
(b) **lesion size** — the reader-1 lesion area in mm² (ROI pixels × pixel area) outside the training
    cohort's 1st–99th percentile;
(c) **unseen level** — a binary, categorical or ordinal clinical value no training patient had (e.g. a
    level ``variables.yaml`` declares but training lacked: the encoder codes it as the reference level).

:class:`TrainingRange` holds the reference: ``TrainingRange.from_run(run_dir)`` computes it from the
run directory (training patients of ``split.csv``; ``features/rad_candidates.parquet``,
``features/dtl_candidates.parquet``, the numeric variables of ``cohort.csv``, and the lesion size from
``features/radiomics.parquet``'s ``diagnostics_Mask-original_VoxelNum`` and spacing), ``save`` /
``load`` write and read it in a study folder.  It is stored as plain arrays and numbers (no pickled
class), so it loads whatever this module's code becomes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd

from splkit.run.cache import atomic_dump
from splkit.run.rundir import RunDir

#: The training reference's file in a study folder.
OOD_FILE = "ood.joblib"
#: Lesion-size percentiles of the training cohort outside which a lesion is flagged.
PERCENTILES = (1.0, 99.0)
#: Relative tolerance on the feature range (share of ``max - min``), plus :data:`ABSOLUTE_TOLERANCE`.
RELATIVE_TOLERANCE = 1e-9
ABSOLUTE_TOLERANCE = 1e-12
#: The pyradiomics diagnostics of the reader-1 lesion size and the image spacing.
VOXELS = "diagnostics_Mask-original_VoxelNum"
SPACING = "diagnostics_Image-original_Spacing"
#: The output columns of :meth:`TrainingRange.flags`.
FLAG_COLUMNS = (
    "ood_n_features",
    "ood_features",
    "lesion_pixels",
    "lesion_area_mm2",
    "ood_lesion_size",
    "ood_levels",
    "ood",
)
#: Clinical variable types checked for unseen levels (flag (c)).
LEVEL_TYPES = ("binary", "categorical", "ordinal")


class MissingTrainingRange(FileNotFoundError):
    """A study folder without its training range (``ood.joblib``)."""


def pixel_area(spacing: float | tuple[float, float] | str) -> float:
    """The area of one pixel in mm² from a spacing (one number, an ``(x, y)`` pair or its text).

    Parameters
    ----------
    spacing
        mm per pixel: a float (square pixels), a pair, or pyradiomics' text such as ``"[0.25, 0.25]"``.

    Returns
    -------
    float
        mm² per pixel.
    """
    if isinstance(spacing, str):
        spacing = json.loads(spacing.replace("(", "[").replace(")", "]"))
    values = np.atleast_1d(np.asarray(spacing, dtype=float))[:2]
    return float(values[0] * (values[1] if len(values) > 1 else values[0]))


def lesion_size(cohort: Any) -> pd.DataFrame:
    """Reader-1 lesion size of every patient of a :class:`splkit.cohort.Cohort`.

    Parameters
    ----------
    cohort
        The cohort; ``image_checks["roi_pixels"]`` is used when validation counted the pixels, else
        the mask is read.

    Returns
    -------
    pandas.DataFrame
        Index ``patient``; ``lesion_pixels`` (int) and ``lesion_area_mm2`` (float).
    """
    checks = getattr(cohort, "image_checks", None)
    rows = {}
    for patient in cohort.table.index:
        pixels = None
        if checks is not None and patient in checks.index and pd.notna(checks.at[patient, "roi_pixels"]):
            pixels = int(checks.at[patient, "roi_pixels"])
        if pixels is None:
            import SimpleITK as sitk

            pixels = int(np.count_nonzero(sitk.GetArrayFromImage(cohort.read_mask(patient))))
        rows[patient] = (pixels, pixels * pixel_area(cohort.spacing[patient]))
    table = pd.DataFrame.from_dict(rows, orient="index", columns=["lesion_pixels", "lesion_area_mm2"])
    table.index.name = "patient"
    return table.astype({"lesion_pixels": int, "lesion_area_mm2": float})


class TrainingRange:
    """The training cohort's range of each model input and its lesion-size percentiles.

    Parameters
    ----------
    minimum, maximum
        Per feature (index = feature name), over the training patients.
    lesion_area_mm2
        The training lesion areas (mm²) at :data:`PERCENTILES` (``(low, high)``).
    lesion_pixels
        The same in pixels (reported, not flagged on).
    n_train
        Training patients the range was computed on.
    levels
        Per binary/categorical/ordinal clinical variable, the levels training patients had (as text).
    """

    def __init__(
        self,
        minimum: Mapping[str, float] | pd.Series,
        maximum: Mapping[str, float] | pd.Series,
        lesion_area_mm2: tuple[float, float],
        lesion_pixels: tuple[float, float] | None = None,
        n_train: int = 0,
        levels: Mapping[str, Iterable[str]] | None = None,
    ):
        self.minimum = pd.Series(minimum, dtype=float)
        self.maximum = pd.Series(maximum, dtype=float)[self.minimum.index]
        self.lesion_area_mm2 = (float(lesion_area_mm2[0]), float(lesion_area_mm2[1]))
        self.lesion_pixels = tuple(float(v) for v in lesion_pixels) if lesion_pixels is not None else None
        self.n_train = int(n_train)
        self.levels = {str(k): sorted(str(v) for v in vals) for k, vals in (levels or {}).items()}

    def __repr__(self) -> str:
        low, high = self.lesion_area_mm2
        return (
            f"<TrainingRange: {len(self.minimum)} features, lesion area {low:.4g}-{high:.4g} mm² "
            f"(p{PERCENTILES[0]:g}-p{PERCENTILES[1]:g}), {self.n_train} training patients>"
        )

    # ------------------------------------------------------------------ fitting
    @classmethod
    def fit(
        cls, features: pd.DataFrame, lesion_area_mm2: Iterable[float], lesion_pixels: Iterable[float] = ()
    ) -> TrainingRange:
        """The range of the training patients' ``features`` and lesion sizes.

        Parameters
        ----------
        features
            One row per training patient; numeric columns (others are skipped; NaN ignored).
        lesion_area_mm2, lesion_pixels
            The training patients' lesion areas (mm²) and pixel counts.

        Returns
        -------
        TrainingRange
        """
        numeric = features.apply(pd.to_numeric, errors="coerce").dropna(axis=1, how="all")
        area = np.asarray(list(lesion_area_mm2), dtype=float)
        if not len(area):
            raise ValueError("the training range needs the training patients' lesion areas")
        pixels = np.asarray(list(lesion_pixels), dtype=float)
        return cls(
            numeric.min(),
            numeric.max(),
            tuple(np.percentile(area, PERCENTILES)),
            tuple(np.percentile(pixels, PERCENTILES)) if len(pixels) else None,
            n_train=len(features),
        )

    @classmethod
    def from_run(cls, run: str | Path) -> TrainingRange:
        """The range of a run's training patients (the files of the module docstring).

        Parameters
        ----------
        run
            A run directory after notebook 04 (radiomics and DTL features written).

        Returns
        -------
        TrainingRange
        """
        run = RunDir(run)
        for path in (run.split_csv, run.rad_candidates, run.dtl_candidates, run.radiomics, run.cohort_csv):
            if not Path(path).exists():
                raise FileNotFoundError(f"{path} is missing: the training range needs notebooks 01-04")
        split = pd.read_csv(run.split_csv, dtype={"patient": str}).set_index("patient")["cohort"]
        train = split.index[split == "train"]
        parts = [_parquet(run.rad_candidates), _parquet(run.dtl_candidates)]
        parts.append(_numeric_clinical(run))
        features = pd.concat([p.reindex(train) for p in parts], axis=1)
        radiomics = _parquet(run.radiomics).reindex(train)
        pixels = radiomics[VOXELS].astype(float)
        area = pixels * radiomics[SPACING].map(pixel_area)
        fitted = cls.fit(features, area.dropna(), pixels.dropna())
        fitted.levels = _training_levels(run, train)
        return fitted

    # ------------------------------------------------------------------ saving and loading
    def to_dict(self) -> dict[str, Any]:
        """Plain content: feature names, minima, maxima (lists), lesion percentiles, ``n_train``."""
        return {
            "features": [str(c) for c in self.minimum.index],
            "minimum": self.minimum.to_numpy(dtype=float).tolist(),
            "maximum": self.maximum.to_numpy(dtype=float).tolist(),
            "percentiles": list(PERCENTILES),
            "lesion_area_mm2": list(self.lesion_area_mm2),
            "lesion_pixels": list(self.lesion_pixels) if self.lesion_pixels is not None else None,
            "n_train": self.n_train,
            "levels": self.levels,
        }

    @classmethod
    def from_dict(cls, content: Mapping[str, Any]) -> TrainingRange:
        """The inverse of :meth:`to_dict`."""
        names = list(content["features"])
        return cls(
            pd.Series(content["minimum"], index=names, dtype=float),
            pd.Series(content["maximum"], index=names, dtype=float),
            tuple(content["lesion_area_mm2"]),
            content.get("lesion_pixels"),
            content.get("n_train", 0),
            content.get("levels") or {},  # studies saved before flag (c) have none
        )

    def save(self, folder: str | Path) -> Path:
        """Write ``folder/ood.joblib`` (atomically); returns its path."""
        return atomic_dump(self.to_dict(), Path(folder) / OOD_FILE)

    @classmethod
    def load(cls, folder: str | Path) -> TrainingRange:
        """Read ``folder/ood.joblib``.

        Raises
        ------
        MissingTrainingRange
            The study folder has no training range (saved before it was part of the study).
        """
        path = Path(folder) / OOD_FILE
        if not path.is_file():
            raise MissingTrainingRange(
                f"the study {folder} lacks its training range ({OOD_FILE}), needed for the "
                "out-of-distribution flags: re-save the study from its run directory "
                "(splkit.study.save_study(run_dir), or splkit.study.ood.save_training_range(settings))"
            )
        return cls.from_dict(joblib.load(path))

    # ------------------------------------------------------------------ applying
    def outside(self, X: pd.DataFrame, columns: Iterable[str] | None = None) -> pd.DataFrame:
        """Boolean frame: which values of ``X`` lie outside the training range (NaN: not flagged).

        Parameters
        ----------
        X
            One row per patient; the features to check.
        columns
            The features to check (default: every column of ``X`` with a stored range).
        """
        wanted = list(X.columns) if columns is None else list(columns)
        checked = [c for c in wanted if c in self.minimum.index and c in X.columns]
        values = X[checked].apply(pd.to_numeric, errors="coerce").astype(float)
        low, high = self.minimum[checked], self.maximum[checked]
        slack = RELATIVE_TOLERANCE * (high - low).abs() + ABSOLUTE_TOLERANCE
        below = values.lt(low - slack, axis=1)
        above = values.gt(high + slack, axis=1)
        return below | above

    def flags(
        self, X: pd.DataFrame, lesion: pd.DataFrame, columns: Iterable[str] | None = None
    ) -> pd.DataFrame:
        """The out-of-distribution flags of every patient (the module docstring's (a) and (b)).

        Parameters
        ----------
        X
            The model inputs (:meth:`splkit.study.Study.features`), one row per patient.
        lesion
            :func:`lesion_size` of the same patients.
        columns
            The features to check (default: those of ``X`` with a stored range).

        Returns
        -------
        pandas.DataFrame
            Index ``patient``; :data:`FLAG_COLUMNS`: ``ood_n_features`` (int), ``ood_features`` (names,
            ``"; "``-separated, in ``X``'s column order), ``lesion_pixels``, ``lesion_area_mm2``,
            ``ood_lesion_size`` (bool), ``ood_levels`` (``variable=value`` pairs no training patient had,
            ``"; "``-separated), ``ood`` (any flag).
        """
        outside = self.outside(X, columns)
        names = outside.apply(lambda row: "; ".join(row.index[row.to_numpy()]), axis=1)
        out = pd.DataFrame(index=X.index)
        out["ood_n_features"] = outside.sum(axis=1).astype(int)
        out["ood_features"] = names.reindex(X.index).fillna("") if len(outside.columns) else ""
        lesion = lesion.reindex(X.index)
        out["lesion_pixels"] = lesion["lesion_pixels"]
        out["lesion_area_mm2"] = lesion["lesion_area_mm2"]
        low, high = self.lesion_area_mm2
        area = lesion["lesion_area_mm2"]
        out["ood_lesion_size"] = ((area < low) | (area > high)).astype(bool)
        out["ood_levels"] = self.unseen_levels(X, columns)
        out["ood"] = (out["ood_n_features"] > 0) | out["ood_lesion_size"] | (out["ood_levels"] != "")
        out.index.name = "patient"
        return out

    def unseen_levels(self, X: pd.DataFrame, columns: Iterable[str] | None = None) -> pd.Series:
        """Per patient, the ``variable=value`` pairs of ``X`` outside the training levels (flag (c))."""
        from splkit.clinical.encoding import level_text

        wanted = set(X.columns if columns is None else columns)
        found = pd.Series([[] for _ in range(len(X))], index=X.index, dtype=object)
        for column, levels in self.levels.items():
            if column not in wanted or column not in X.columns:
                continue
            values = level_text(X[column])
            unseen = values.notna() & ~values.isin(levels)
            for patient in X.index[unseen.to_numpy()]:
                found[patient] = [*found[patient], f"{column}={values[patient]}"]
        return found.map("; ".join)


def _training_levels(run: RunDir, train: pd.Index) -> dict[str, list[str]]:
    """The levels the training patients had, per binary/categorical/ordinal variable of ``cohort.csv``."""
    from splkit.clinical.encoding import level_text

    if not Path(run.variables_csv).exists():
        return {}
    types = pd.read_csv(run.variables_csv).set_index("variable")["type"]
    table = pd.read_csv(run.cohort_csv, dtype={"patient": str}).set_index("patient").reindex(train)
    columns = [c for c in table.columns if types.get(c) in LEVEL_TYPES]
    return {c: sorted(level_text(table[c]).dropna().unique().tolist()) for c in columns}


def _parquet(path: Path) -> pd.DataFrame:
    table = pd.read_parquet(path)
    if "patient" in table.columns:
        table = table.set_index("patient")
    table.index = table.index.astype(str)
    return table


def _numeric_clinical(run: RunDir) -> pd.DataFrame:
    """The numeric clinical variables of ``cohort.csv`` (as ``variables.csv`` types them)."""
    table = pd.read_csv(run.cohort_csv, dtype={"patient": str}).set_index("patient")
    numeric = [c for c in table.columns if c not in ("cohort", "label")]
    if Path(run.variables_csv).exists():
        types = pd.read_csv(run.variables_csv).set_index("variable")["type"]
        numeric = [c for c in numeric if types.get(c) == "numeric"]
    return table[numeric].apply(pd.to_numeric, errors="coerce")


def save_training_range(settings: Any) -> Path:
    """Compute the run's :class:`TrainingRange` and save it into ``<run>/study`` (end of chapter 5).

    Parameters
    ----------
    settings
        The run's :class:`splkit.config.Settings` (or its run directory).

    Returns
    -------
    pathlib.Path
        ``<run>/study/ood.joblib``.
    """
    run = RunDir(settings.run_path if hasattr(settings, "run_path") else settings)
    return TrainingRange.from_run(run).save(run.study)
