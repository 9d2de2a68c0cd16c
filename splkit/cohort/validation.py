"""Checks of a cohort folder against the data contract (``data/README.md``).

Every check returns a list of :class:`Problem` instead of raising, so that :func:`splkit.cohort.load_cohort`
can report everything wrong with a folder at once in one :class:`CohortError`.  Messages name the
patient by the id *in the user's files* (the user needs it to fix them; error messages are not run
outputs) and the file relative to the cohort folder.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

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
RESERVED_COLUMNS = ("patient_id", "label", "cohort", "spacing_mm", "centre")
#: Other header spellings of reserved columns (lower case): the US spelling of the optional centre.
COLUMN_ALIASES = {"center": "centre"}

#: Text labels understood besides 0/1 (case-insensitive).
TEXT_LABELS = ("benign", "malignant")


#: A problem shared by at least this many patients is printed once, with the count and a few ids.
GROUP_MIN = 4
#: Patients named on such a line.
GROUP_SHOWN = 5


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a cohort: which patient (input id), which file, what.

    ``group`` is the text shared by every patient with the same kind of problem (default: the
    message itself); :func:`format_problems` prints such problems once when many patients share them.
    """

    patient: str | None
    file: str | None
    message: str
    group: str | None = None

    def __str__(self) -> str:
        if self.patient and self.file:
            return f"patient {self.patient} ({self.file}): {self.message}"
        where = f"patient {self.patient}" if self.patient else self.file
        return f"{where}: {self.message}" if where else self.message


def format_problems(problems: Iterable[Problem]) -> list[str]:
    """One line per problem, except that a problem shared by :data:`GROUP_MIN` or more patients is one
    line: ``"600 patients: <problem> — P1, P2, P3, P4, P5 and 595 more"`` (ids as in the user's files)."""
    problems = list(problems)
    groups: dict[str, list[str]] = {}
    for problem in problems:
        if problem.patient:
            groups.setdefault(problem.group or problem.message, []).append(problem.patient)
    lines, done = [], set()
    for problem in problems:
        key = problem.group or problem.message
        patients = list(dict.fromkeys(groups.get(key, []))) if problem.patient else []
        if len(patients) < GROUP_MIN:
            lines.append(str(problem))
        elif key not in done:
            done.add(key)
            more = f" and {len(patients) - GROUP_SHOWN} more" if len(patients) > GROUP_SHOWN else ""
            lines.append(f"{len(patients)} patients: {key} — {', '.join(patients[:GROUP_SHOWN])}{more}")
    return lines


class CohortError(ValueError):
    """A cohort folder that breaks the data contract; ``problems`` lists everything found.

    The message prints problems shared by many patients once (:func:`format_problems`); ``warnings``
    holds what was found besides (not errors).
    """

    def __init__(self, problems: list[Problem], warnings: Iterable[Problem] = ()):
        self.problems = list(problems)
        self.warnings = list(warnings)
        super().__init__("\n".join(format_problems(self.problems)))


_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")


def decimal_comma_columns(raw: pd.DataFrame) -> dict[str, int]:
    """Columns (other than ``patient_id``, ``label``, ``cohort``) whose values are all numbers once a
    decimal comma is read as a point, with the number of decimal-comma values in each."""
    found = {}
    for column in raw.columns:
        if column in ("patient_id", "label", "cohort"):
            continue
        present = raw[column].dropna()
        commas = present.str.fullmatch(_DECIMAL_COMMA)
        if (
            commas.any()
            and pd.to_numeric(present.str.replace(",", ".", regex=False), errors="coerce").notna().all()
        ):
            found[column] = int(commas.sum())
    return found


def read_clinical_table(
    path: Path, missing_tokens: tuple[str, ...] = (), required: tuple[str, ...] = ("patient_id", "label")
) -> tuple[pd.DataFrame | None, list[Problem], list[str]]:
    """``clinical.csv`` as text (comma- or semicolon-separated), stripped, missing tokens as NaN.

    ``required`` are the columns it must have (without ``label`` for new patients to score).

    Returns the table, the problems and notes (id-free sentences).  ``patient_id`` is text: only an
    empty cell is empty (``NA`` is an id), and it is put in Unicode normal form NFC.  In a
    semicolon-separated file (a European spreadsheet export) decimal commas are read as points in
    columns that are numbers throughout; in a comma-separated file they are one problem with a hint.
    """
    if not path.is_file():
        return None, [Problem(None, "clinical.csv", "file is missing")], []
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader([handle.readline()]), [])
        separator = ";" if len(header) == 1 and ";" in header[0] else ","
        if separator == ";":
            header = header[0].split(";")
        raw = pd.read_csv(path, sep=separator, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return (
            None,
            [Problem(None, "clinical.csv", f"cannot be read as CSV ({reason}); save it as CSV UTF-8")],
            [],
        )
    names = [c.strip() for c in header]
    canonical = [
        COLUMN_ALIASES.get(c.lower(), c.lower()) if c.lower() in (*RESERVED_COLUMNS, *COLUMN_ALIASES) else c
        for c in names
    ]
    problems = [
        Problem(None, "clinical.csv", f"column {name!r} appears {canonical.count(name)} times")
        for name in sorted({c for c in canonical if canonical.count(c) > 1})
    ]
    problems += [
        Problem(None, "clinical.csv", f"required column {c!r} is missing")
        for c in required
        if c not in canonical
    ]
    if problems:
        return None, problems, []
    raw.columns = canonical
    raw = raw.apply(lambda col: col.str.strip())
    ids = raw["patient_id"].map(lambda v: unicodedata.normalize("NFC", v))
    raw = raw.mask(raw.isin(("", *missing_tokens)))
    raw["patient_id"] = ids.mask(ids == "")
    notes: list[str] = []
    commas = decimal_comma_columns(raw)
    if commas and separator == ";":
        for column in commas:
            raw[column] = raw[column].str.replace(",", ".", regex=False)
        notes.append(
            f"clinical.csv is semicolon-separated with decimal commas (a European spreadsheet export): "
            f"{sum(commas.values())} values in {', '.join(commas)} read with a decimal point"
        )
    elif commas:
        example = next(v for v in raw[next(iter(commas))].dropna() if "," in v)
        problems.append(
            Problem(
                None,
                "clinical.csv",
                f"{sum(commas.values())} numbers in {', '.join(commas)} are written with a decimal comma "
                f"(e.g. {example!r}) in a comma-separated file: write them with a decimal point, or export "
                "the table semicolon-separated (decimal comma / semicolon separator, as European "
                "spreadsheets do), which splkit reads",
            )
        )
    return raw, problems, notes


# ---------------------------------------------------------------------------------- table columns


def parse_labels(
    labels: pd.Series, positive_label: str, rows: Mapping[str, int] | None = None
) -> tuple[pd.Series, list[Problem]]:
    """0/1 labels (1 = positive) from benign/malignant text or 0/1 codes; problems per patient.

    A column mixing both codings names each patient (and ``rows``: spreadsheet row) of the less common one.
    """
    positive = positive_label.strip().lower()
    problems: list[Problem] = []
    if positive not in TEXT_LABELS:
        return labels.map(lambda _: np.nan), [
            Problem(None, None, f"positive_label {positive_label!r} must be one of {', '.join(TEXT_LABELS)}")
        ]
    out = pd.Series(np.nan, index=labels.index, dtype=float)
    codings: dict[str, list[str]] = {"text": [], "0/1": []}
    for patient, raw in labels.items():
        value = "" if pd.isna(raw) else str(raw).strip().lower()
        if value in TEXT_LABELS:
            out[patient] = float(value == positive)
            codings["text"].append(patient)
        elif value in {"0", "1", "0.0", "1.0"}:
            out[patient] = float(value)
            codings["0/1"].append(patient)
        else:
            shown = f"{raw!r}" if value else "missing"
            problems.append(
                Problem(
                    patient, "clinical.csv", f"label is {shown}; use benign/malignant or 0/1 (1 = positive)"
                )
            )
    if codings["text"] and codings["0/1"]:
        rare, common = ("text", "0/1") if len(codings["text"]) < len(codings["0/1"]) else ("0/1", "text")
        names = {"text": "text (benign/malignant)", "0/1": "a 0/1 code"}
        for patient in codings[rare]:
            row = f" (row {rows[patient]})" if rows and patient in rows else ""
            problems.append(
                Problem(
                    patient,
                    "clinical.csv",
                    f"label {labels[patient]!r}{row} is {names[rare]} but {len(codings[common])} other labels "
                    f"are {names[common].replace('a 0/1 code', '0/1 codes')}; use one coding",
                    "label column mixes text (benign/malignant) and 0/1 codes; use one coding "
                    "(the patients with the less common coding)",
                )
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
            hint = " (use a decimal point)" if "," in str(raw) else ""
            problems.append(
                Problem(
                    patient,
                    "clinical.csv",
                    f"spacing_mm is {raw!r}; need a positive number (mm per pixel){hint}",
                    "spacing_mm has numbers with a decimal comma (use a decimal point)"
                    if hint
                    else "spacing_mm is not a positive number (mm per pixel)",
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
