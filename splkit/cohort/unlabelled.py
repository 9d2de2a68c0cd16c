"""Cohorts of new patients, whose ``label`` is optional: the cohort a fitted study scores.

:func:`splkit.cohort.load_cohort` with ``require_labels=False`` reads a cohort folder under the data
contract of ``data/README.md`` except that ``clinical.csv`` may lack the ``label`` column, or leave
some of its cells empty: such patients get the label ``<NA>``.  Labels that are given are checked as
usual (benign/malignant or 0/1, one coding).  No split is made: every patient is in the cohort
``"new"`` unless a ``cohort`` column names another (empty cells: ``"new"``), and no cohort needs both
classes.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from splkit.cohort.validation import COHORT_SYNONYMS, Problem, parse_labels

#: The cohort of patients loaded for scoring (``require_labels=False``) without a ``cohort`` value.
NEW_COHORT = "new"


def required_columns(require_labels: bool = True) -> tuple[str, ...]:
    """The columns ``clinical.csv`` must have: ``patient_id``, and ``label`` when labels are required.

    Parameters
    ----------
    require_labels
        Whether every patient needs a label (analysis) or not (scoring new patients).

    Returns
    -------
    tuple of str
        Required column names (lower case).
    """
    return ("patient_id", "label") if require_labels else ("patient_id",)


def read_labels(
    raw: pd.DataFrame, positive_label: str, rows: Mapping[str, int] | None, require_labels: bool = True
) -> tuple[pd.Series, list[Problem]]:
    """0/1 labels (float, NaN where none is given) and the problems found.

    Parameters
    ----------
    raw
        ``clinical.csv`` indexed by ``patient_id`` (text, missing tokens as NaN).
    positive_label
        The class coded 1 when labels are text.
    rows
        Spreadsheet row of each patient, for messages.
    require_labels
        ``True``: every patient needs a valid label (:func:`~splkit.cohort.validation.parse_labels`).
        ``False``: the column may be absent and cells may be empty; given labels are still checked.

    Returns
    -------
    labels : pandas.Series
        1.0 / 0.0 / NaN per patient.
    problems : list of Problem
        Invalid or mixed labels, each naming the patient.
    """
    if require_labels:
        return parse_labels(raw["label"], positive_label, rows)
    if "label" not in raw:
        return pd.Series(np.nan, index=raw.index, dtype=float), []
    given = raw["label"].dropna()
    labels, problems = parse_labels(given, positive_label, rows)
    return labels.reindex(raw.index).astype(float), problems


def new_cohorts(raw: pd.DataFrame) -> tuple[pd.Series, list[Problem]]:
    """Each patient's cohort for scoring: the ``cohort`` column's value when given, else ``"new"``.

    Parameters
    ----------
    raw
        ``clinical.csv`` indexed by ``patient_id``.

    Returns
    -------
    cohorts : pandas.Series
        ``train`` / ``validation`` / ``external`` / ``new`` per patient.
    problems : list of Problem
        Unknown ``cohort`` values, each naming the patient.
    """
    cohorts = pd.Series(NEW_COHORT, index=raw.index, dtype=object)
    problems = []
    if "cohort" not in raw:
        return cohorts, problems
    for patient, value in raw["cohort"].dropna().items():
        key = " ".join(str(value).strip().lower().replace("_", " ").split())
        if key in COHORT_SYNONYMS:
            cohorts[patient] = COHORT_SYNONYMS[key]
        else:
            problems.append(
                Problem(patient, "clinical.csv", f"cohort is {value!r}; use train, validation or external")
            )
    return cohorts, problems


def label_column(labels: pd.Series) -> pd.Series:
    """The table's ``label`` column: ``int`` when every patient has one, else nullable ``Int64``.

    Parameters
    ----------
    labels
        1.0 / 0.0 / NaN per patient.

    Returns
    -------
    pandas.Series
        Named ``label``.
    """
    dtype = int if labels.notna().all() else "Int64"
    return labels.astype(dtype).rename("label")
