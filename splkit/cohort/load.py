"""The cohort: read and validate a cohort folder, pseudonymise patient ids, split train/validation.

A cohort folder (contract: ``data/README.md``) holds ``clinical.csv``, ``images/``, ``masks/``, an
optional ``masks_reader2/`` and an optional ``variables.yaml``.  :func:`load_cohort` checks all of it
before any long computation and raises one :class:`CohortError` listing every problem found; on
success it returns a :class:`Cohort` whose patients are pseudonyms (``P0001``...).  Input ids and
file paths stay in memory; :func:`splkit.cohort.run_tables.write_run_tables` writes only pseudonymised
tables.  The train/validation split is :mod:`splkit.cohort.split`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
import SimpleITK as sitk

from splkit.cohort import dictionary, image_checks, imaging
from splkit.cohort.centre import parse_centre_column
from splkit.cohort.checks import roi_rules
from splkit.cohort.files import FilePaths, discover_files, match_files
from splkit.cohort.pseudonym import SALT_FILE, assign_pseudonyms, read_or_create_salt
from splkit.cohort.split import assign_cohorts
from splkit.cohort.unlabelled import label_column, new_cohorts, read_labels, required_columns
from splkit.cohort.validation import (
    IMAGE_FOLDERS,
    RESERVED_COLUMNS,
    CohortError,
    Problem,
    duplicate_ids,
    parse_spacing_column,
    read_clinical_table,
    summarise_spacing,
)

__all__ = ["Cohort", "CohortError", "Problem", "load_cohort", "load_cohort_for", "timed_validation"]

CLINICAL_FILE = "clinical.csv"
MAX_MISSING_FRACTION = dictionary.MAX_MISSING_FRACTION


@dataclass(frozen=True, eq=False)
class Cohort:
    """A validated, pseudonymised cohort.

    Attributes
    ----------
    table
        Index ``patient`` (pseudonyms, sorted); columns ``label`` (0/1, 1 = ``positive_label``;
        ``Int64`` with ``<NA>`` for unlabelled patients), ``cohort`` (train/validation/external; ``new``
        for patients to score, see :mod:`splkit.cohort.unlabelled`), ``centre`` only when clinical.csv
        has one (:mod:`splkit.cohort.centre`), then the clinical variables (raw values, NaN kept).
    variables
        The data dictionary used (index ``variable``): ``type, unit, allowed, description, source``,
        ``levels`` (ordered levels), ``included`` (False when excluded by the missing-value rule),
        ``note``.
    images, masks, masks_reader2
        Files by pseudonym (in memory only: the paths contain input ids).
    spacing
        Pixel spacing in mm by pseudonym: a float when isotropic, else ``(x, y)``.
    spacing_source
        A sentence saying where the spacing came from.
    missing
        Missing values per variable, overall and per cohort (see :func:`splkit.cohort.dictionary.missing_table`).
    notes
        Messages about the data that are not errors (e.g. variables excluded for missing values);
        they name no patient, so they may be shown in the book.
    warnings
        Findings that are not errors (implausible spacing, a uniform lesion, a sub-folder not read),
        naming the input ids and files: for the user's terminal (:meth:`validation_report`), never
        for the run directory.
    image_checks
        Per image, by pseudonym: ``intensity`` (the grey-level rule applied, see
        :mod:`splkit.cohort.intensity`), ``roi_pixels`` (reader-1 lesion size), ``roi_uniform`` (all
        lesion pixels one grey level; ``<NA>`` unless the images were decoded).
    pixels_decoded
        Whether every image was decoded during validation (``full=True``).
    preset
        The radiomics preset whose constraints were checked (``None``: not checked).
    """

    table: pd.DataFrame
    variables: pd.DataFrame
    images: Mapping[str, Path] = field(repr=False)
    masks: Mapping[str, Path] = field(repr=False)
    masks_reader2: Mapping[str, Path] = field(repr=False)
    spacing: Mapping[str, float | tuple[float, float]] = field(repr=False)
    spacing_source: str
    missing: pd.DataFrame
    positive_label: str
    notes: tuple[str, ...] = ()
    _key: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    warnings: tuple[Problem, ...] = field(default=(), repr=False)
    image_checks: pd.DataFrame | None = field(default=None, repr=False)
    pixels_decoded: bool = False
    preset: str | None = None

    def __repr__(self) -> str:
        return f"<Cohort: {len(self.table)} patients, {len(self.clinical_columns)} clinical variables>"

    @property
    def clinical_columns(self) -> list[str]:
        """Clinical variables available to the models (those not excluded for missing values)."""
        return [v for v in self.variables.index if self.variables.at[v, "included"]]

    @property
    def train(self) -> pd.DataFrame:
        return self.table[self.table["cohort"] == "train"]

    @property
    def validation(self) -> pd.DataFrame:
        return self.table[self.table["cohort"] == "validation"]

    @property
    def external(self) -> pd.DataFrame:
        return self.table[self.table["cohort"] == "external"]

    def pseudonym_key(self) -> dict[str, str]:
        """The input id -> pseudonym mapping, for the data owner; splkit never writes it anywhere."""
        return dict(self._key)

    def encoded_clinical(self, columns: list[str] | None = None) -> pd.DataFrame:
        """Numeric design columns of the clinical variables (see :func:`splkit.cohort.dictionary.encode`)."""
        return dictionary.encode(
            self.table, self.variables, self.clinical_columns if columns is None else columns
        )

    def read_image(self, patient: str) -> sitk.Image:
        """The patient's image: 2-D float32 SimpleITK image with the cohort's spacing (mm)."""
        return imaging.read_image(self.images[patient], spacing_mm=self.spacing[patient])

    def read_mask(self, patient: str, reader: int = 1) -> sitk.Image:
        """The patient's lesion mask (uint8 {0, 1}) by reader 1 (``masks/``) or 2 (``masks_reader2/``)."""
        if reader not in (1, 2):
            raise ValueError(f"reader must be 1 or 2, got {reader!r}")
        files = self.masks if reader == 1 else self.masks_reader2
        if patient not in files:
            raise KeyError(f"patient {patient} has no reader-{reader} mask")
        return imaging.read_mask(files[patient], spacing_mm=self.spacing[patient])

    def intensity_counts(self) -> dict[str, int]:
        """Images per grey-level rule (``{"8-bit, as is": 609}``), for chapter 1."""
        if self.image_checks is None:
            return {}
        return {str(k): int(v) for k, v in self.image_checks["intensity"].value_counts().items()}

    def validation_report(self) -> str:
        """Warnings, what was checked and what was not: for ``splkit validate`` in the user's terminal.

        Names input ids and files (the user needs them to fix the folder): never write it to the
        run directory or the book (use :meth:`summary` and :attr:`notes` there).
        """
        return image_checks.report(list(self.warnings), self.pixels_decoded, self.preset)

    def headline(self) -> dict:
        """Headline numbers for ``results.json`` (``cohort.*``): counts, variables, spacing source."""
        cohorts = {}
        for name in ("train", "validation", "external"):
            part = self.table[self.table["cohort"] == name]
            if len(part):
                cohorts[name] = {"n": len(part), "n_positive": int(part["label"].sum())}
        return {
            "n_patients": len(self.table),
            "n_positive": int(self.table["label"].sum()),
            "positive_label": self.positive_label,
            "cohorts": cohorts,
            "variables": list(self.variables.index),
            "variables_excluded": [v for v in self.variables.index if not self.variables.at[v, "included"]],
            "spacing_source": self.spacing_source,
            "n_reader2_masks": len(self.masks_reader2),
            "intensity_rules": self.intensity_counts(),
            "n_uniform_rois": int(self.image_checks["roi_uniform"].sum())
            if self.pixels_decoded and self.image_checks is not None
            else None,
            "n_warnings": len(self.warnings),
        }

    def summary(self) -> str:
        """A few lines for a person: patients, cohorts and labels, variables, spacing, missing values."""
        lines = [f"{len(self.table)} patients; positive class (label 1) = {self.positive_label}"]
        for name in ("train", "validation", "external"):
            part = self.table[self.table["cohort"] == name]
            if len(part):
                n_pos = int(part["label"].sum())
                lines.append(f"  {name}: {len(part)} ({n_pos} positive, {len(part) - n_pos} negative)")
        types = ", ".join(f"{v} ({self.variables.at[v, 'type']})" for v in self.variables.index)
        lines.append(f"{len(self.variables)} clinical variables: {types or 'none'}")
        values = [np.mean(s) for s in self.spacing.values()]
        if values:
            lines.append(f"pixel spacing: {self.spacing_source}; {min(values):.4g} to {max(values):.4g} mm")
        lines.append(f"reader-2 masks: {len(self.masks_reader2)} patients")
        gaps = self.missing[self.missing["n_missing"] > 0]
        if len(gaps):
            shown = ", ".join(f"{v} {int(row.n_missing)} ({row.percent:g} %)" for v, row in gaps.iterrows())
            lines.append(f"missing values: {shown}")
        else:
            lines.append("missing values: none")
        lines += list(self.notes)
        return "\n".join(lines)


def load_cohort(
    path: str | Path,
    positive_label: str = "malignant",
    default_spacing_mm: float | None = None,
    validation_fraction: float = 0.2,
    seed: int = 609,
    salt: str | None = None,
    progress: bool | None = None,
    full: bool = False,
    preset: Any = None,
    require_labels: bool = True,
) -> Cohort:
    """Read, validate, pseudonymise and split the cohort folder ``path``.

    Parameters
    ----------
    path
        Cohort folder in the layout of ``data/README.md``.
    positive_label
        ``"malignant"`` or ``"benign"``: the class coded 1 when labels are text (0/1 labels: 1 is positive).
    default_spacing_mm
        Pixel spacing for patients with neither a ``spacing_mm`` value nor a calibrated header.
    validation_fraction, seed
        The stratified split used when ``clinical.csv`` has no ``cohort`` column.
    salt
        Pseudonymisation salt; default: the ``.splkit_salt`` file of the folder (created once).
    progress
        Show a progress bar while reading images (``None``: only on a terminal).
    full
        Decode every image's pixels too (masks are always decoded): corrupt pixel data, the intensity
        rule's refusals and uniform lesions are found only then.  By default images are checked from
        their size, signature, header and, for PNG/JPEG, their end marker.  ``splkit run`` should
        validate with ``full=True`` before the long steps.
    preset
        The radiomics preset (name, YAML path or :class:`splkit.radiomics.presets.Preset`) whose
        constraints every lesion and image must meet (``minimumROISize``, ``minimumROIDimensions``,
        LoG sigmas); ``None``: not checked.
    require_labels
        ``False`` for new patients to score (:mod:`splkit.cohort.unlabelled`): ``label`` may be absent or
        empty (``<NA>``), no split is made (cohort ``new`` unless a ``cohort`` column says otherwise).

    Raises
    ------
    CohortError
        Listing every problem found, each naming the patient (input id) and the file.
    """
    root = Path(path).expanduser().resolve()
    if not root.is_dir():
        raise CohortError([Problem(None, str(root), "cohort folder does not exist")])
    raw, problems, notes = read_clinical_table(
        root / CLINICAL_FILE, dictionary.MISSING_TOKENS, required_columns(require_labels)
    )
    for folder, required, _ in IMAGE_FOLDERS:
        if required and not (root / folder).is_dir():
            problems.append(Problem(None, f"{folder}/", "folder is missing"))
    if raw is None:
        raise CohortError(problems)
    try:
        rules = roi_rules(preset)
    except Exception as error:  # noqa: BLE001 - a bad preset is one more problem
        rules = None
        problems.append(Problem(None, str(preset), f"radiomics preset cannot be read ({error})"))

    ids = raw["patient_id"]
    for row in np.flatnonzero(ids.isna().to_numpy()):
        problems.append(Problem(None, CLINICAL_FILE, f"row {row + 2}: patient_id is empty"))
    problems += duplicate_ids(ids.dropna())
    if ids.notna().sum() == 0:
        problems.append(Problem(None, CLINICAL_FILE, "has no patients"))
    listed = list(dict.fromkeys(ids.dropna()))  # every id in the table, for matching files
    rows = {patient: int(i) + 2 for i, patient in ids.dropna()[~ids.dropna().duplicated()].items()}
    first = raw[ids.notna() & ~ids.duplicated()].set_index("patient_id")
    column_spacing, found = parse_spacing_column(first["spacing_mm"]) if "spacing_mm" in first else ({}, [])
    problems += found
    invalid_spacing = {p.patient for p in found}
    raw = raw[ids.notna() & ~ids.duplicated(keep=False)].set_index("patient_id")

    labels, found = read_labels(raw, positive_label, rows, require_labels)
    centres, found2 = parse_centre_column(raw["centre"]) if "centre" in raw else (None, [])
    problems += found + found2
    clinical_raw = raw.drop(columns=[c for c in RESERVED_COLUMNS if c in raw.columns])
    entries, found = dictionary.read_dictionary(root / dictionary.DICTIONARY_FILE)
    problems += found
    values, variables, found = dictionary.build_variables(clinical_raw, entries)
    problems += found

    # files: one image and one mask per row, no orphans
    patients = list(raw.index)
    matched, warnings, n_normalised = {}, [], 0
    for folder, required, kind in IMAGE_FOLDERS:
        files = discover_files(root / folder, kind)
        problems += files.problems
        warnings += files.warnings
        n_normalised += files.n_normalised
        matched[folder], found = match_files(listed, files.found, folder, kind, required)
        problems += found
    n_subfolders = len(warnings)

    survey = image_checks.check_images(
        listed, root, matched, column_spacing, invalid_spacing, default_spacing_mm, full, rules, progress
    )
    problems += survey.problems
    warnings += survey.warnings

    if require_labels:
        cohorts, found = assign_cohorts(raw, labels, positive_label, validation_fraction, seed)
    else:
        cohorts, found = new_cohorts(raw)
    problems += found

    if not salt:
        try:
            salt = read_or_create_salt(root)
        except (OSError, ValueError) as error:
            problems.append(Problem(None, SALT_FILE, f"cannot read or create the salt ({error}); pass salt="))
    if problems:
        raise CohortError(problems, warnings)

    key = assign_pseudonyms(patients, salt)
    table = pd.concat([label_column(labels), cohorts.rename("cohort"), centres, values], axis=1).rename(
        index=key
    )
    table.index.name = "patient"
    table = table.sort_index()
    missing = dictionary.missing_table(table[list(variables.index)], table["cohort"])
    variables["included"], variables["note"] = True, ""
    for name in variables.index:
        share = missing.at[name, "percent_train"] / 100 if "percent_train" in missing else 0.0
        if share > MAX_MISSING_FRACTION:
            note = f"excluded from the models: {100 * share:.1f} % missing in the training cohort (> {100 * MAX_MISSING_FRACTION:g} %)"
            variables.at[name, "included"], variables.at[name, "note"] = False, note
            notes.append(f"{name}: {note}")
    spacing, sources = survey.spacing, survey.sources
    unit = [p for p, src in sources.items() if src == "file header" and np.allclose(spacing[p], 1.0)]
    if unit:
        notes.append(
            f"{len(unit)} image header(s) give a spacing of exactly 1 mm, what converters write when the "
            "spacing is unknown: check it, or give spacing_mm in clinical.csv"
        )
    notes += image_checks.notes(survey, n_normalised, n_subfolders, full)
    return Cohort(
        table=table,
        variables=variables,
        images=FilePaths({key[p]: f for p, f in matched["images"].items()}),
        masks=FilePaths({key[p]: f for p, f in matched["masks"].items()}),
        masks_reader2=FilePaths({key[p]: f for p, f in matched["masks_reader2"].items()}),
        spacing=MappingProxyType(
            {
                key[p]: image_checks.pair_or_scalar(s)
                for p, s in sorted(spacing.items(), key=lambda i: key[i[0]])
            }
        ),
        spacing_source=summarise_spacing(sources, default_spacing_mm),
        missing=missing,
        positive_label=positive_label.strip().lower(),
        notes=tuple(notes),
        _key=MappingProxyType(key),
        warnings=tuple(warnings),
        image_checks=image_checks.check_table(survey.rows, key),
        pixels_decoded=full,
        preset=rules.preset if rules else None,
    )


def load_cohort_for(settings, full: bool = False) -> Cohort:
    """:func:`load_cohort` with the settings of a profile (:class:`splkit.config.Settings`).

    The lesions and images are checked against the profile's radiomics preset
    (``radiomics.preset``).  ``full=True`` decodes every image too: the check ``splkit run`` makes
    before the long steps.
    """
    data = settings.data
    radiomics = settings.get("radiomics") or {}
    return load_cohort(
        settings.data_path,
        positive_label=data.get("positive_label", "malignant"),
        default_spacing_mm=data.get("default_spacing_mm"),
        validation_fraction=settings.split.validation_fraction,
        seed=settings.seed,
        salt=data.get("salt"),
        full=full,
        preset=radiomics.get("preset"),
    )


def timed_validation(path: str | Path, **kwargs) -> tuple[Cohort, float]:
    """:func:`load_cohort` and the seconds it took (for benchmarks and the CLI)."""
    start = time.perf_counter()
    cohort = load_cohort(path, **kwargs)
    return cohort, time.perf_counter() - start
