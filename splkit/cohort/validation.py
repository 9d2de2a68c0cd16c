"""Checks of a cohort folder against the data contract (``data/README.md``).

Every check returns a list of :class:`Problem` instead of raising, so that :func:`splkit.cohort.load_cohort`
can report everything wrong with a folder at once in one :class:`CohortError`.  Messages name the
patient by the id *in the user's files* (the user needs it to fix them; error messages are not run
outputs) and the file relative to the cohort folder.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from splkit.cohort import imaging

#: Sub-folders of a cohort: (folder, required, what it holds).
IMAGE_FOLDERS = (
    ("images", True, "image"),
    ("masks", True, "mask"),
    ("masks_reader2", False, "reader-2 mask"),
)

#: Accepted spellings of the ``cohort`` column (lower case) and what they mean.
COHORT_SYNONYMS = {
    "train": "train",
    "training": "train",
    "validation": "validation",
    "valid": "validation",
    "val": "validation",
    "test": "validation",
    "internal validation": "validation",
    "external": "external",
    "external validation": "external",
    "external test": "external",
}

#: Columns of clinical.csv that are not clinical variables (matched case-insensitively).
RESERVED_COLUMNS = ("patient_id", "label", "cohort", "spacing_mm")

#: Text labels understood besides 0/1 (case-insensitive).
TEXT_LABELS = ("benign", "malignant")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a cohort: which patient (input id), which file, what."""

    patient: str | None
    file: str | None
    message: str

    def __str__(self) -> str:
        if self.patient and self.file:
            return f"patient {self.patient} ({self.file}): {self.message}"
        where = f"patient {self.patient}" if self.patient else self.file
        return f"{where}: {self.message}" if where else self.message


class CohortError(ValueError):
    """A cohort folder that breaks the data contract; ``problems`` lists everything found."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def read_clinical_table(
    path: Path, missing_tokens: tuple[str, ...] = ()
) -> tuple[pd.DataFrame | None, list[Problem]]:
    """``clinical.csv`` as text (comma- or semicolon-separated), stripped, missing tokens as NaN."""
    if not path.is_file():
        return None, [Problem(None, "clinical.csv", "file is missing")]
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader([handle.readline()]), [])
        separator = ";" if len(header) == 1 and ";" in header[0] else ","
        if separator == ";":
            header = header[0].split(";")
        raw = pd.read_csv(path, sep=separator, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return None, [
            Problem(None, "clinical.csv", f"cannot be read as CSV ({reason}); save it as CSV UTF-8")
        ]
    names = [c.strip() for c in header]
    canonical = [c.lower() if c.lower() in RESERVED_COLUMNS else c for c in names]
    problems = [
        Problem(None, "clinical.csv", f"column {name!r} appears {canonical.count(name)} times")
        for name in sorted({c for c in canonical if canonical.count(c) > 1})
    ]
    problems += [
        Problem(None, "clinical.csv", f"required column {c!r} is missing")
        for c in ("patient_id", "label")
        if c not in canonical
    ]
    if problems:
        return None, problems
    raw.columns = canonical
    raw = raw.apply(lambda col: col.str.strip())
    raw = raw.mask(raw.isin(("", *missing_tokens)))
    return raw, problems


# ------------------------------------------------------------------------------------------ files


def discover_files(folder: Path, kind: str) -> tuple[dict[str, list[Path]], list[Problem]]:
    """Files of ``folder`` by patient id (file name without suffix); problems for unsupported files.

    Hidden files (names starting with ``.``) and sub-folders are ignored.
    """
    found: dict[str, list[Path]] = {}
    problems: list[Problem] = []
    if not folder.is_dir():
        return found, problems
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.is_dir():
            continue
        stem, suffix = imaging.split_suffix(path.name)
        if suffix is None:
            problems.append(
                Problem(
                    None,
                    f"{folder.name}/{path.name}",
                    f"unsupported {kind} file type (supported: {', '.join(imaging.SUFFIXES)})",
                )
            )
            continue
        found.setdefault(stem, []).append(path)
    return found, problems


def match_files(
    ids: list[str], found: dict[str, list[Path]], folder: str, kind: str, required: bool
) -> tuple[dict[str, Path], list[Problem]]:
    """One file per table id; problems for missing, doubled and orphan files."""
    matched: dict[str, Path] = {}
    problems: list[Problem] = []
    by_lower: dict[str, list[str]] = {}
    for stem in found:
        by_lower.setdefault(stem.lower(), []).append(stem)
    table_ids = set(ids)
    for patient in ids:
        files = found.get(patient)
        if files is None:
            if required:
                near = [s for s in by_lower.get(patient.lower(), []) if s not in table_ids]
                hint = (
                    f"; found {folder}/{found[near[0]][0].name}: file names must match patient_id exactly"
                    if near
                    else ""
                )
                problems.append(
                    Problem(patient, f"{folder}/{patient}.<ext>", f"{kind} file is missing{hint}")
                )
            continue
        if len(files) > 1:
            names = ", ".join(f.name for f in files)
            problems.append(Problem(patient, f"{folder}/", f"several {kind} files ({names}); keep one"))
            continue
        matched[patient] = files[0]
    for stem, files in found.items():
        if stem not in table_ids:
            for path in files:
                problems.append(
                    Problem(stem, f"{folder}/{path.name}", f"{kind} file has no row in clinical.csv")
                )
    return matched, problems


# ------------------------------------------------------------------------------------ pixel checks


def _read_failure(error: Exception, path: Path) -> str:
    """A one-line reason from a reader's exception (SimpleITK's are long and full of C++ paths)."""
    if isinstance(error, imaging.ImageReadError):
        return str(error)
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    itk = [line for line in lines if "ERROR:" in line]
    detail = (
        re.sub(r"^.*?ERROR:\s*(\w+\(0x[0-9a-fA-F]+\):\s*)?", "", itk[-1])
        if itk
        else (lines[-1] if lines else "")
    )
    detail = detail.replace(f" in {path}", "").replace(str(path), path.name)
    return f"cannot read the file ({type(error).__name__}: {detail[:200]})"


def check_patient(
    patient: str,
    root: Path,
    image: Path,
    mask: Path | None,
    mask2: Path | None,
    spacing_mm: float | None,
    default_spacing_mm: float | None,
    full: bool = False,
) -> tuple[tuple[float, float] | None, str | None, list[Problem]]:
    """Check one patient's files; return ``(spacing, spacing_source, problems)``.

    Masks are always decoded (their values matter).  The image is checked from its header plus, for
    PNG/JPEG, its end marker (which catches truncated files); ``full=True`` decodes it too.
    """
    problems: list[Problem] = []

    def rel(path: Path) -> str:
        return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)

    spacing = source = None
    size = None
    try:
        if full:
            array, info = imaging.read_array(image)
            imaging.to_gray(array)
        else:
            info = imaging.check_image(image)
        size = info.size
        spacing, source = imaging.choose_spacing(info, spacing_mm, default_spacing_mm)
    except Exception as error:  # noqa: BLE001 - every reader failure becomes a reported problem
        problems.append(Problem(patient, rel(image), _read_failure(error, image)))
    for path, kind in ((mask, "mask"), (mask2, "reader-2 mask")):
        if path is None:
            continue
        try:
            array, info = imaging.read_array(path)
            if size is not None and info.size != size:
                problems.append(
                    Problem(
                        patient,
                        rel(path),
                        f"{kind} is {info.size[0]} x {info.size[1]} pixels but the image "
                        f"{image.name} is {size[0]} x {size[1]}",
                    )
                )
            imaging.binarize_mask(array)
        except Exception as error:  # noqa: BLE001
            message = _read_failure(error, path)
            if isinstance(error, imaging.ImageReadError) and kind != "mask" and message.startswith("mask"):
                message = "reader-2 " + message
            if imaging.image_format(path) == "jpeg" and "values" in message:
                message += " (JPEG compression changes mask values: save masks as PNG or NRRD)"
            problems.append(Problem(patient, rel(path), message))
    return spacing, source, problems


# ---------------------------------------------------------------------------------- table columns


def parse_labels(labels: pd.Series, positive_label: str) -> tuple[pd.Series, list[Problem]]:
    """0/1 labels (1 = positive) from benign/malignant text or 0/1 codes; problems per patient."""
    positive = positive_label.strip().lower()
    problems: list[Problem] = []
    if positive not in TEXT_LABELS:
        return labels.map(lambda _: np.nan), [
            Problem(None, None, f"positive_label {positive_label!r} must be one of {', '.join(TEXT_LABELS)}")
        ]
    out = pd.Series(np.nan, index=labels.index, dtype=float)
    codings = set()
    for patient, raw in labels.items():
        value = "" if pd.isna(raw) else str(raw).strip().lower()
        if value in TEXT_LABELS:
            out[patient] = float(value == positive)
            codings.add("text")
        elif value in {"0", "1", "0.0", "1.0"}:
            out[patient] = float(value)
            codings.add("0/1")
        else:
            shown = f"{raw!r}" if value else "missing"
            problems.append(
                Problem(
                    patient, "clinical.csv", f"label is {shown}; use benign/malignant or 0/1 (1 = positive)"
                )
            )
    if len(codings) > 1:
        problems.append(
            Problem(None, "clinical.csv", "label column mixes text (benign/malignant) and 0/1 codes; use one")
        )
    return out, problems


def parse_cohort_column(values: pd.Series) -> tuple[pd.Series, list[Problem]]:
    """``train`` / ``validation`` / ``external`` from the ``cohort`` column (synonyms mapped)."""
    problems = []
    out = pd.Series(None, index=values.index, dtype=object)
    for patient, raw in values.items():
        key = "" if pd.isna(raw) else " ".join(str(raw).strip().lower().replace("_", " ").split())
        if key in COHORT_SYNONYMS:
            out[patient] = COHORT_SYNONYMS[key]
        else:
            shown = f"{raw!r}" if key else "missing"
            problems.append(
                Problem(patient, "clinical.csv", f"cohort is {shown}; use train, validation or external")
            )
    return out, problems


def check_split(cohorts: pd.Series, labels: pd.Series, positive_label: str) -> list[Problem]:
    """Every cohort present needs both classes; a training and a validation/external cohort must exist."""
    problems = []
    present = set(cohorts.dropna())
    if "train" not in present:
        problems.append(Problem(None, "clinical.csv", "cohort column has no train patients"))
    if not present & {"validation", "external"}:
        problems.append(Problem(None, "clinical.csv", "cohort column has no validation or external patients"))
    for name in sorted(present):
        counts = labels[cohorts == name].value_counts()
        if len(counts) < 2:
            only = "positive" if counts.index[0] == 1 else "negative"
            problems.append(
                Problem(
                    None,
                    "clinical.csv",
                    f"the {name} cohort has only one class ({int(counts.iloc[0])} {only}, label "
                    f"{int(counts.index[0])}; positive = {positive_label}); it needs both",
                )
            )
    return problems


def parse_spacing_column(values: pd.Series) -> tuple[dict[str, float], list[Problem]]:
    """Positive spacings (mm) from the ``spacing_mm`` column; empty cells fall back to later rules."""
    spacing: dict[str, float] = {}
    problems = []
    for patient, raw in values.items():
        if pd.isna(raw):
            continue
        number = pd.to_numeric(str(raw).strip(), errors="coerce")
        if pd.isna(number) or not np.isfinite(number) or number <= 0:
            problems.append(
                Problem(
                    patient, "clinical.csv", f"spacing_mm is {raw!r}; need a positive number (mm per pixel)"
                )
            )
        else:
            spacing[patient] = float(number)
    return spacing, problems


def duplicate_ids(ids: pd.Series) -> list[Problem]:
    """A problem for each patient id that appears on several rows (row numbers as in a spreadsheet)."""
    problems = []
    duplicated = ids[ids.duplicated(keep=False)]
    for patient, rows in duplicated.groupby(duplicated).groups.items():
        listed = ", ".join(str(int(r) + 2) for r in rows)  # +2: header line, 1-based rows
        problems.append(
            Problem(str(patient), "clinical.csv", f"patient_id appears {len(rows)} times (rows {listed})")
        )
    return problems


def summarise_spacing(sources: Mapping[str, str], default_spacing_mm: float | None) -> str:
    """A sentence naming where the pixel spacing came from (several sources are counted)."""
    names = {
        "spacing_mm": "spacing_mm column of clinical.csv",
        "default": f"profile default (data.default_spacing_mm = {default_spacing_mm} mm)",
        "file header": "file headers",
    }
    counts = pd.Series(list(sources.values()), dtype=object).value_counts()
    parts = [names.get(source, source) for source in counts.index]
    if len(parts) == 1:
        return parts[0]
    return "; ".join(f"{names.get(s, s)} ({n} patients)" for s, n in counts.items())
