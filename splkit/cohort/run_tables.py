"""The cohort tables of a run directory: written once by chapter 1, read by every later chapter.

:func:`write_run_tables` writes the pseudonymised ``cohort.csv``, ``split.csv`` and ``variables.csv``
(contract: ``ARCHITECTURE.md``); :func:`read_run_cohort` is the one reader of ``cohort.csv`` (with
``variables.csv``), checked before any model is fitted; :func:`dictionary_spec` turns the data
dictionary into the ``(types, levels)`` the clinical encoder takes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from splkit.run.cache import atomic_write_text
from splkit.run.names import COHORTS
from splkit.run.rundir import RunDir

if TYPE_CHECKING:
    from splkit.cohort.load import Cohort

#: How ``variables.csv`` joins the ordered levels of a variable.
LEVEL_SEPARATOR = "; "


def write_run_tables(cohort: Cohort, run_dir: str | Path) -> None:
    """Write ``cohort.csv``, ``split.csv`` and ``variables.csv`` (pseudonymised) into ``run_dir``."""
    run = RunDir(run_dir)
    table = cohort.table.reset_index()
    for column in cohort.variables.index:  # 0/1 codes are written as 0/1, not 0.0/1.0
        values = table[column]
        if cohort.variables.at[column, "type"] != "numeric" and pd.api.types.is_float_dtype(values):
            if (values.dropna() == values.dropna().round()).all():
                table[column] = values.astype("Int64")
    columns = ["patient", "cohort", "label", *cohort.variables.index]
    atomic_write_text(run.cohort_csv, table[columns].to_csv(index=False))
    atomic_write_text(run.split_csv, table[["patient", "cohort"]].to_csv(index=False))
    variables = cohort.variables.copy()
    variables["levels"] = variables["levels"].map(LEVEL_SEPARATOR.join)
    atomic_write_text(run.variables_csv, variables.reset_index().to_csv(index=False))


def _require(path: Path) -> Path:
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run notebook 01 (the cohort) first")
    return path


def read_run_variables(run_dir: str | Path) -> pd.DataFrame:
    """``variables.csv`` of a run (index ``variable``, every field as text, ``included`` as bool)."""
    path = _require(RunDir(run_dir).variables_csv)
    variables = pd.read_csv(path, dtype=str, keep_default_na=False).set_index("variable")
    if "included" in variables.columns:
        variables["included"] = variables["included"].str.lower().isin(["true", "1", "yes"])
    return variables


def read_run_cohort(run_dir: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``cohort.csv`` (index ``patient``, sorted) and ``variables.csv`` (index ``variable``) of a run.

    Level-typed variables are read as text, so ``0``/``1`` and ``I``/``II`` keep the spelling of the
    data dictionary; numeric variables as numbers; missing values as NaN.  Checked: the columns
    ``patient, cohort, label``, each patient once, ``label`` 0/1 (returned as int), known cohort names
    and both classes in the training cohort — each failure names the file and a patient.
    """
    path = _require(RunDir(run_dir).cohort_csv)
    variables = read_run_variables(run_dir)
    text = [v for v, t in variables["type"].items() if t != "numeric"]
    table = pd.read_csv(path, dtype={"patient": str, "cohort": str, **dict.fromkeys(text, str)})
    for column in ("patient", "cohort", "label"):
        if column not in table.columns:
            raise ValueError(f"{path} lacks the column {column!r}")
    duplicated = table["patient"][table["patient"].duplicated()].tolist()
    if duplicated:
        raise ValueError(f"{path}: patients listed twice: {duplicated[:10]}")
    bad_label = table[~table["label"].isin([0, 1])]
    if len(bad_label):
        raise ValueError(
            f"{path}: label must be 0 or 1; patient {bad_label['patient'].iloc[0]} has "
            f"{bad_label['label'].tolist()[0]!r}"
        )
    table["label"] = table["label"].astype(int)
    bad_cohort = table[~table["cohort"].isin(COHORTS)]
    if len(bad_cohort):
        raise ValueError(
            f"{path}: cohort must be one of {COHORTS}; patient {bad_cohort['patient'].iloc[0]} "
            f"has {bad_cohort['cohort'].iloc[0]!r}"
        )
    if table.loc[table["cohort"] == "train", "label"].nunique() < 2:
        raise ValueError(f"{path}: the training cohort needs both classes to fit a model")
    return table.set_index("patient").sort_index(), variables


def dictionary_spec(variables: pd.DataFrame) -> tuple[dict[str, str], dict[str, list[str]]]:
    """``(types, levels)`` from a data dictionary (``cohort.variables`` or the run's ``variables.csv``).

    ``levels`` holds the ordered levels of binary, categorical and ordinal variables (tuples in memory,
    ``"; "``-joined text in ``variables.csv``).
    """
    types = {str(v): str(t) for v, t in variables["type"].items()}
    levels: dict[str, list[str]] = {}
    if "levels" in variables.columns:
        for variable, value in variables["levels"].items():
            if types[str(variable)] == "numeric":
                continue
            if isinstance(value, (tuple, list)):
                parsed = [str(v) for v in value]
            elif isinstance(value, str) and value.strip():
                parsed = [v.strip() for v in value.split(LEVEL_SEPARATOR.strip())]
            else:
                parsed = []
            if parsed:
                levels[str(variable)] = parsed
    return types, levels
