"""The optional ``centre`` column of ``clinical.csv``: where each patient was imaged.

Centre names are free text (``Hospital A``, ``site-2``, pseudonymised or not) and are used to harmonise
the radiomics features across centres (``radiomics.harmonise: combat``, :mod:`splkit.radiomics.harmonise`)
and to draw per-centre figures, so they reach the run directory and the book.  They must therefore not
carry patient identifiers: a centre that is, or contains, a patient id, or a column with about one
centre per patient (an identifier in the wrong column), is an error.  Every patient needs a centre when
the column is present (ComBat cannot adjust a patient of unknown origin).  The header ``center`` is read
as ``centre`` (:data:`splkit.cohort.validation.COLUMN_ALIASES`).
"""

from __future__ import annotations

import pandas as pd

from splkit.cohort.validation import Problem

COLUMN = "centre"
#: Patient ids shorter than this are not searched for inside centre names (``1`` is in ``site 12``).
MIN_ID_LENGTH = 4


def parse_centre_column(values: pd.Series) -> tuple[pd.Series, list[Problem]]:
    """Centre names (index: input ids, stripped text) and the problems, each naming the patient.

    Parameters
    ----------
    values
        The ``centre`` column, indexed by ``patient_id`` (missing cells as NaN).
    """
    problems = []
    ids = [str(i) for i in values.index]
    long_ids = [i for i in ids if len(i) >= MIN_ID_LENGTH]
    for patient, value in values.items():
        if pd.isna(value):
            problems.append(Problem(patient, "clinical.csv", "centre is empty; give every patient a centre"))
        elif value in ids or any(i in value for i in long_ids):
            problems.append(
                Problem(patient, "clinical.csv", "centre contains a patient id: centre names reach the book")
            )
    names = values.dropna()
    if names.nunique() > max(10, len(values) // 2):
        problems.append(
            Problem(
                None,
                "clinical.csv",
                f"column 'centre' has {names.nunique()} distinct values for {len(values)} patients: it looks like "
                "an identifier, not the imaging centre",
            )
        )
    return values.astype(object).rename(COLUMN), problems
