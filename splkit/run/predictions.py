"""The predictions table: the hinge between models and their evaluation.

One long table with a row per (patient, model): ``patient, cohort, label, model, score``.  Every model
writes its out-of-sample scores here (out-of-fold on the training cohort); every evaluation reads from
here.  Stored as ``<run_dir>/predictions.csv``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from splkit.run.report import atomic_write_text
from splkit.run.rundir import RunDir

PREDICTIONS_FILE = "predictions.csv"
COLUMNS = ["patient", "cohort", "label", "model", "score"]


def load(run_dir: str | Path) -> pd.DataFrame:
    """All predictions of a run (an empty table with the right columns if none yet)."""
    path = RunDir(run_dir).predictions_csv
    if not path.exists():
        return pd.DataFrame(columns=COLUMNS)
    return pd.read_csv(path, dtype={"patient": str, "cohort": str, "model": str})


def save(run_dir: str | Path, scores: pd.DataFrame) -> pd.DataFrame:
    """Add the rows of ``scores`` to the run's table, replacing earlier rows of the same models.

    ``scores`` must have the columns ``patient, cohort, label, model, score``, one row per patient and
    model, with finite scores in [0, 1].
    """
    missing = [c for c in COLUMNS if c not in scores.columns]
    if missing:
        raise ValueError(f"predictions lack columns {missing}; expected {COLUMNS}")
    scores = scores[COLUMNS].copy()
    duplicated = scores.duplicated(["patient", "model"])
    if duplicated.any():
        raise ValueError(f"duplicate (patient, model) rows: {scores[duplicated].head().to_dict('records')}")
    if scores["score"].isna().any() or not scores["score"].between(0, 1).all():
        bad = scores[scores["score"].isna() | ~scores["score"].between(0, 1)]
        raise ValueError(f"scores must be probabilities in [0, 1]: {bad.head().to_dict('records')}")
    table = load(run_dir)
    table = table[~table["model"].isin(scores["model"].unique())]
    table = pd.concat([table, scores], ignore_index=True) if len(table) else scores
    table = table.sort_values(["model", "cohort", "patient"]).reset_index(drop=True)
    atomic_write_text(RunDir(run_dir).predictions_csv, table.to_csv(index=False))
    return table


def wide(run_dir: str | Path, cohort: str | None = None) -> pd.DataFrame:
    """Predictions pivoted to one row per patient and one score column per model."""
    table = load(run_dir)
    if cohort is not None:
        table = table[table["cohort"] == cohort]
    return table.pivot_table(
        index=["patient", "cohort", "label"], columns="model", values="score"
    ).reset_index()
