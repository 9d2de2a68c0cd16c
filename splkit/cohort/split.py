"""The train/validation split of a cohort: the cohort's own ``cohort`` column, or a stratified split.

When ``clinical.csv`` has no ``cohort`` column, the split is stratified by label with the profile's seed
(scikit-learn ``train_test_split``); 609 patients give 487 training and 122 validation patients.  The
patients are ordered by input id before splitting, so the split does not depend on the pseudonym salt.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from splkit.cohort.validation import Problem, check_split, parse_cohort_column

CLINICAL_FILE = "clinical.csv"


def stratified_split(table: pd.DataFrame, fraction: float, seed: int) -> pd.Series:
    """``train``/``validation`` per row of ``table`` (its ``label`` column), stratified by label.

    The rows are ordered by index (the input id) first, so the result does not depend on row order.
    """
    ordered = table.sort_index()
    train, validation = train_test_split(
        ordered.index.to_numpy(), test_size=fraction, stratify=ordered["label"].to_numpy(), random_state=seed
    )
    return pd.Series("train", index=table.index, dtype=object).mask(
        table.index.isin(validation), "validation"
    )


def assign_cohorts(
    raw: pd.DataFrame,
    labels: pd.Series,
    positive_label: str,
    validation_fraction: float,
    seed: int,
) -> tuple[pd.Series, list[Problem]]:
    """The cohort of every patient and the problems found: from ``raw["cohort"]`` when the table has
    one (checked: known names, both classes in each cohort), else a :func:`stratified_split`.

    Labels that failed to parse (NaN) leave every patient in ``train``; their problems are reported by
    the label check.
    """
    problems: list[Problem] = []
    if "cohort" in raw:
        cohorts, found = parse_cohort_column(raw["cohort"])
        problems += found
        if not found and labels.notna().all():
            problems += check_split(cohorts, labels, positive_label)
        return cohorts, problems
    cohorts = pd.Series("train", index=raw.index, dtype=object)
    if not (labels.notna().all() and len(labels)):
        return cohorts, problems
    counts = labels.value_counts()
    n_validation = int(np.ceil(validation_fraction * len(labels)))
    if len(counts) < 2 or counts.min() < 2 or n_validation < 2 or len(labels) - n_validation < 2:
        problems.append(
            Problem(
                None,
                CLINICAL_FILE,
                f"cannot split {len(labels)} patients ({int(labels.sum())} positive) into training and "
                f"validation with both classes in each; add patients or a cohort column",
            )
        )
        return cohorts, problems
    return stratified_split(pd.DataFrame({"label": labels}), validation_fraction, seed), problems
