"""Chapter 5's last step: save the fitted study, load it back and check it against the book's scores."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from splkit.config import Settings
from splkit.run import predictions
from splkit.run.names import held_out_cohort
from splkit.run.report import record
from splkit.study.study import Study, save_study

#: Largest difference between the saved study's scores and ``predictions.csv`` accepted as "the same".
TOLERANCE = 1e-12


def save_and_check_study(settings: Settings, cohort_name: str | None = None) -> pd.DataFrame:
    """Save ``<run>/study``, reload it from the folder alone and rescore ``cohort_name`` (default: the
    held-out cohort, :func:`splkit.run.names.held_out_cohort`).

    Returns, per model, the number of patients scored and the largest absolute difference from the
    scores in ``predictions.csv``; records ``study.max_abs_difference`` and raises when a model differs
    by more than :data:`TOLERANCE` (the saved study would not be the study of this book).
    """
    from splkit.cohort import load_cohort_for

    folder = save_study(settings)
    study = Study.load(folder)
    cohort = load_cohort_for(settings)
    cohort_name = cohort_name or held_out_cohort(cohort.table["cohort"].unique())
    subset = dataclasses.replace(cohort, table=cohort.table[cohort.table["cohort"] == cohort_name])
    proba = study.predict_proba(subset)
    table = predictions.load(settings.run_path)
    expected = table[table["cohort"] == cohort_name].pivot(index="patient", columns="model", values="score")
    rows = {}
    for model in proba.columns:
        difference = np.abs(proba[model].to_numpy() - expected.loc[proba.index, model].to_numpy())
        rows[model] = {"patients": len(proba), "max |study − predictions.csv|": float(difference.max())}
    check = pd.DataFrame.from_dict(rows, orient="index").rename_axis(f"model ({cohort_name} cohort)")
    worst = float(check["max |study − predictions.csv|"].max())
    record(settings.run_path, "study.max_abs_difference", worst)
    record(settings.run_path, "study.models", list(proba.columns))
    if worst > TOLERANCE:
        raise AssertionError(
            f"the saved study's {cohort_name} scores differ from predictions.csv by {worst:.2e}"
        )
    return check
