"""Chapter 5's optimism table and ``results.json`` entries from a :class:`~splkit.models.optimism.OptimismResult`."""

from __future__ import annotations

from typing import Any

import pandas as pd

from splkit.models.optimism import MEASURES, OptimismResult
from splkit.run.names import HELD_OUT

#: Display names of the measures in :func:`optimism_table`.
MEASURE_LABELS = {"auc": "AUC", "slope": "calibration slope", "brier": "Brier score"}
COLUMN_LABELS = dict(
    apparent="apparent", optimism="optimism", corrected="corrected", mc_se="MC SE", plus632=".632+"
)


def optimism_table(result: OptimismResult, metrics: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """Model × (measure, apparent / optimism / corrected / MC SE), with the out-of-fold, validation and external AUC
    of ``metrics`` (:func:`splkit.models.evaluation.evaluate_all`: ``model``, ``cohort``, ``auc``) beside
    the AUC columns; rows in ``order``."""
    auc = metrics.set_index(["model", "cohort"])["auc"]
    columns: dict[tuple[str, str], pd.Series] = {}
    for measure, label in MEASURE_LABELS.items():
        part = result.summary.xs(measure, level="measure")
        for column, name in COLUMN_LABELS.items():
            if column != "plus632" or measure != "slope":
                columns[(label, name)] = part[column]
        if measure == "auc":
            for cohort, name in (("train", "out-of-fold"), *((c, c) for c in HELD_OUT)):
                if cohort in auc.index.get_level_values("cohort"):
                    columns[(label, name)] = auc.xs(cohort, level="cohort")
    table = pd.DataFrame(columns)
    table = table.loc[[m for m in order if m in result.summary.index.get_level_values("model")]]
    table.columns = pd.MultiIndex.from_tuples(table.columns)
    return table.rename_axis("Model")


def results_entry(result: OptimismResult, model: str) -> dict[str, Any]:
    """``models.<Model>.optimism`` of ``results.json``: ``n_boot``, per measure ``apparent``,
    ``optimism``, ``corrected``, ``mc_se``, ``n``, and ``shrinkage`` (the corrected calibration slope)."""
    part = result.summary.loc[model]
    entry: dict[str, Any] = {"n_boot": result.n_boot}
    for measure in MEASURES:
        values = part.loc[measure].drop(["oob", "plus632"] if measure == "slope" else [])
        entry[measure] = {k: float(v) if k != "n" else int(v) for k, v in values.items()}
    entry["shrinkage"] = entry["slope"]["corrected"]
    return entry
