"""The data dictionary of the clinical variables: types, units, allowed values, missing values.

Every column of ``clinical.csv`` other than ``patient_id``, ``label``, ``cohort``, ``spacing_mm`` and ``centre`` is a
clinical variable.  Its type is one of ``numeric``, ``binary``, ``categorical``, ``ordinal``.  A
``variables.yaml`` in the cohort folder declares variables; what it does not declare is inferred:

- at least :data:`NUMERIC_SHARE` of the non-missing values are numbers -> ``numeric`` (``binary`` if
  every value is 0 or 1); the values that are not numbers are reported as problems;
- otherwise text: two distinct values -> ``binary``, more -> ``categorical``.

``ordinal`` is never inferred (declare it, with its levels in order).  Binary levels are ordered
(``allowed`` in ``variables.yaml``, else sorted): the second level is coded 1 by :func:`encode`.

Missing values (empty cells and the tokens in :data:`MISSING_TOKENS`) are kept; the models impute them
inside their pipelines, fitted on the training cohort only (median for numeric/ordinal, most frequent
for binary/categorical).  A variable with more than :data:`MAX_MISSING_FRACTION` missing in the
training cohort is excluded from modelling, with a note.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from splkit.cohort.validation import Problem

VARIABLE_TYPES = ("numeric", "binary", "categorical", "ordinal")
#: Cell contents read as missing (after stripping spaces), besides the empty cell.
#: Not "none" or "-": in clinical tables they are often real values (smoking "none", a "-" test).
MISSING_TOKENS = ("NA", "N/A", "n/a", "na", "NaN", "nan", "NULL", "null", ".", "?")
#: A variable with more than this fraction missing in the training cohort is excluded from models.
MAX_MISSING_FRACTION = 0.30
#: Share of numbers among non-missing values above which an undeclared column is inferred numeric.
NUMERIC_SHARE = 0.8
#: An undeclared text column with more distinct values than this share of rows looks like an identifier.
IDENTIFIER_SHARE = 0.5
DICTIONARY_FILE = "variables.yaml"
_FIELDS = {"type", "unit", "allowed", "description"}


_NULLS = ("", "~", "null", "Null", "NULL")


def _text(value) -> str:
    """A YAML scalar read as text, with YAML's null spellings as the empty string."""
    return "" if value is None or (isinstance(value, str) and value.strip() in _NULLS) else str(value)


def read_dictionary(path: Path) -> tuple[dict[str, dict], list[Problem]]:
    """Read ``variables.yaml`` (all scalars as text): ``{column: {type, unit, allowed, description}}``.

    The file is a mapping of column name to entry, optionally under a top-level ``variables:`` key.
    """
    if not path.is_file():
        return {}, []
    name = path.name
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        return {}, [Problem(None, name, f"is not valid YAML ({str(error).splitlines()[0]})")]
    if isinstance(raw, dict) and set(raw) == {"variables"}:
        raw = raw["variables"]
    if not isinstance(raw, dict):
        return {}, [
            Problem(None, name, "must map each column name to its type, unit, allowed values, description")
        ]
    entries, problems = {}, []
    for column, entry in raw.items():
        if not isinstance(entry, dict):
            problems.append(
                Problem(None, name, f"variable {column!r}: entry must be a mapping (type: ..., unit: ...)")
            )
            continue
        unknown = set(entry) - _FIELDS
        if unknown:
            problems.append(
                Problem(None, name, f"variable {column!r}: unknown field(s) {', '.join(sorted(unknown))}")
            )
        kind = _text(entry.get("type")).strip().lower()
        if kind not in VARIABLE_TYPES:
            problems.append(
                Problem(
                    None,
                    name,
                    f"variable {column!r}: type {entry.get('type')!r} is not one of {', '.join(VARIABLE_TYPES)}",
                )
            )
            continue
        allowed = entry.get("allowed")
        allowed = None if isinstance(allowed, str) and not _text(allowed) else allowed
        if allowed is not None and not isinstance(allowed, list):
            problems.append(Problem(None, name, f"variable {column!r}: allowed must be a list"))
            continue
        entries[column] = {
            "type": kind,
            "unit": _text(entry.get("unit")),
            "allowed": [str(a).strip() for a in allowed] if allowed is not None else None,
            "description": " ".join(_text(entry.get("description")).split()),
        }
    return entries, problems


def _numbers(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce")


def _numbers_or_decimal_commas(values: pd.Series) -> pd.Series:
    """Numbers, counting ``2,5`` as one (to infer the type; the value itself is still reported)."""
    return _numbers(values.astype(str).str.replace(",", ".", regex=False).where(values.notna()))


def _level_key(value: str) -> str | float:
    """Values compare as numbers when both are numbers (``1`` = ``1.0``), else as text."""
    try:
        return float(value)
    except ValueError:
        return value


def infer_entry(values: pd.Series) -> dict:
    """The dictionary entry splkit infers for an undeclared column (non-missing values as text)."""
    present = values.dropna()
    numbers = _numbers_or_decimal_commas(present)
    n_numbers = int(numbers.notna().sum())
    if len(present) == 0 or n_numbers >= NUMERIC_SHARE * len(present):
        distinct = set(numbers.dropna().tolist())
        if distinct and distinct <= {0.0, 1.0} and n_numbers == len(present):
            return {"type": "binary", "unit": "", "allowed": ["0", "1"], "description": ""}
        return {"type": "numeric", "unit": "", "allowed": None, "description": ""}
    levels = sorted(present.unique().tolist())
    return {
        "type": "binary" if len(levels) == 2 else "categorical",
        "unit": "",
        "allowed": levels,
        "description": "",
    }


def convert_column(
    column: str, values: pd.Series, entry: dict, declared: bool
) -> tuple[pd.Series, list[Problem]]:
    """Values of one variable in its type (numbers as float, levels as their declared text)."""
    problems: list[Problem] = []
    present = values.dropna()
    allowed = entry["allowed"]
    source = "variables.yaml" if declared else "inferred"
    if entry["type"] == "numeric" or (entry["type"] == "ordinal" and not allowed):
        numbers = _numbers(values)
        for patient, raw in present[numbers[present.index].isna()].items():
            comma = "," in raw
            problems.append(
                Problem(
                    patient,
                    "clinical.csv",
                    f"{column} is {entry['type']} ({source}) but has the value {raw!r}"
                    + (" (use a decimal point)" if comma else ""),
                    f"{column} has numbers with a decimal comma (use a decimal point)"
                    if comma
                    else f"{column} is {entry['type']} ({source}) but has values that are not numbers",
                )
            )
        if entry["type"] == "numeric" and allowed:
            if len(allowed) != 2 or _numbers(pd.Series(allowed)).isna().any():
                problems.append(
                    Problem(None, DICTIONARY_FILE, f"variable {column!r}: numeric allowed must be [min, max]")
                )
            else:
                low, high = sorted(float(a) for a in allowed)
                for patient, number in numbers.dropna().items():
                    if not low <= number <= high:
                        problems.append(
                            Problem(
                                patient,
                                "clinical.csv",
                                f"{column} = {values[patient]} is outside the allowed {low:g} to {high:g}",
                            )
                        )
        return numbers.astype(float), problems
    if not allowed:  # binary declared without levels: take the data's, sorted
        allowed = entry["allowed"] = sorted(present.unique().tolist())
    out = pd.Series(np.nan, index=values.index, dtype=object)
    lookup = {}
    for level in reversed(allowed):
        lookup[_level_key(level)] = level
    for patient, raw in present.items():
        level = lookup.get(_level_key(raw))
        if level is None:
            problems.append(
                Problem(
                    patient,
                    "clinical.csv",
                    f"{column} = {raw!r} is not one of the allowed values {', '.join(allowed)}",
                )
            )
        else:
            out[patient] = level
    if entry["type"] == "binary" and len(allowed) != 2:
        problems.append(
            Problem(
                None,
                DICTIONARY_FILE if declared else "clinical.csv",
                f"binary variable {column!r} has {len(allowed)} levels ({', '.join(allowed)}); need 2",
            )
        )
    if entry["type"] == "binary" and set(allowed) <= {"0", "1"}:
        out = pd.to_numeric(out, errors="coerce").astype(float)
    return out, problems


#: Column names that suggest an identifier (matched as words, case-insensitively).
IDENTIFIER_NAMES = re.compile(
    r"(^|[_\s.-])(id|ids|mrn|name|surname|initials|dob|birth|birthday|date|address|phone|email)([_\s.-]|$)",
    re.IGNORECASE,
)


def identifier_like(column: str, values: pd.Series, ids: pd.Index) -> Problem | None:
    """A problem if an undeclared column looks like an identifier (it would leak into run outputs).

    Signs: the name (``hospital_id``, ``name``, ``date_of_birth``...), patient ids as values, mostly
    distinct text values (names, dates, free text), or a distinct integer of four or more digits for
    every patient (a record number).  Declaring the column in ``variables.yaml`` overrides the name and distinctness checks.
    """
    present = values.dropna()
    advice = "remove it, or declare it in variables.yaml if it is a clinical variable"
    if len(present) and present.isin(set(ids)).mean() >= 0.5:
        return Problem(None, "clinical.csv", f"column {column!r} contains patient ids; remove it")
    if IDENTIFIER_NAMES.search(column):
        return Problem(
            None,
            "clinical.csv",
            f"column {column!r} looks like an identifier or a date by its name; {advice}",
        )
    numbers = _numbers_or_decimal_commas(present)
    text = present[numbers.isna()]
    if len(text) > 10 and text.nunique() > max(10, IDENTIFIER_SHARE * len(values)):
        return Problem(
            None,
            "clinical.csv",
            f"column {column!r} has {text.nunique()} distinct text values: it looks like an identifier, a date or "
            f"free text; {advice}",
        )
    whole = numbers.dropna()
    if (
        len(whole) >= 30
        and len(whole) == len(present)
        and (whole == whole.round()).all()
        and whole.is_unique
        and whole.abs().median() >= 1000
    ):
        return Problem(
            None,
            "clinical.csv",
            f"column {column!r} has a different whole number for every patient: it looks like a record number; {advice}",
        )
    return None


def build_variables(
    raw: pd.DataFrame, dictionary: dict[str, dict]
) -> tuple[pd.DataFrame, pd.DataFrame, list[Problem]]:
    """Converted clinical values and the dictionary actually used (index ``variable``)."""
    problems: list[Problem] = []
    converted = {}
    rows = []
    for name in dictionary:
        if name not in raw.columns:
            problems.append(
                Problem(None, DICTIONARY_FILE, f"variable {name!r} is not a column of clinical.csv")
            )
    for column in raw.columns:
        declared = column in dictionary
        entry = dict(dictionary[column]) if declared else infer_entry(raw[column])
        if not declared:
            leak = identifier_like(column, raw[column], raw.index)
            if leak:
                problems.append(leak)
                continue
        values, found = convert_column(column, raw[column], entry, declared)
        problems += found
        converted[column] = values
        allowed = entry["allowed"]
        if entry["type"] == "numeric":
            shown = f"{allowed[0]} to {allowed[1]}" if allowed and len(allowed) == 2 else ""
        else:
            shown = "; ".join(allowed or [])
        rows.append(
            {
                "variable": column,
                "type": entry["type"],
                "unit": entry["unit"],
                "allowed": shown,
                "description": entry["description"],
                "source": DICTIONARY_FILE if declared else "inferred",
                "levels": tuple(allowed or ()) if entry["type"] != "numeric" else (),
            }
        )
    variables = pd.DataFrame(
        rows, columns=["variable", "type", "unit", "allowed", "description", "source", "levels"]
    )
    return pd.DataFrame(converted, index=raw.index), variables.set_index("variable"), problems


def missing_table(values: pd.DataFrame, cohorts: pd.Series) -> pd.DataFrame:
    """Per variable: ``n_missing``, ``percent``, and the same for each cohort (``n_missing_train``...)."""
    table = pd.DataFrame(index=pd.Index(values.columns, name="variable"))
    isna = values.isna()
    table["n_missing"] = isna.sum().astype(int)
    table["percent"] = (100 * isna.mean()).round(1) if len(values) else 0.0
    for name in ("train", "validation", "external"):
        part = isna[cohorts == name]
        if len(part):
            table[f"n_missing_{name}"] = part.sum().astype(int)
            table[f"percent_{name}"] = (100 * part.mean()).round(1)
    return table


def encode(table: pd.DataFrame, variables: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    """Numeric design columns from raw clinical values, missing values kept as NaN.

    numeric -> float; ordinal -> float, or the rank (0, 1, ...) of its level in ``levels``; binary -> 0/1
    (the second level is 1); categorical -> one indicator column ``<variable>=<level>`` per level but
    the first (the reference).  Imputation and scaling belong in the model pipelines.
    """
    out = {}
    for column in columns if columns is not None else list(variables.index):
        kind, levels = variables.at[column, "type"], list(variables.at[column, "levels"])
        values = table[column]
        if kind == "numeric" or (kind == "ordinal" and not levels) or pd.api.types.is_float_dtype(values):
            out[column] = pd.to_numeric(values, errors="coerce").astype(float)
        elif kind in ("binary", "ordinal"):
            out[column] = values.map({level: float(rank) for rank, level in enumerate(levels)}).astype(float)
        else:
            for level in levels[1:]:
                out[f"{column}={level}"] = values.map(
                    lambda v, lv=level: np.nan if pd.isna(v) else float(v == lv)
                )
    return pd.DataFrame(out, index=table.index)
