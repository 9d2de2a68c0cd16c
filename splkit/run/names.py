"""The names every chapter shares: models (in reading order), their colours, cohorts and classes.

One place, so a model has one name and one colour throughout the book, and a new cohort or model is
added once.
"""

from __future__ import annotations

from collections.abc import Sequence

#: The five models of the study (Wei et al. 2026), in the book's reading order.
MODELS = ("Clinical", "Rad", "DTL", "DLR", "CDLR")
#: The paper's classifier (an SVM) on the clinical predictors, beside the logistic ``Clinical`` model.
CLINICAL_SVM = "Clinical-SVM"
#: The paper-compatible in-sample stacking variant of the CDLR (``models.paper_compatible``).
IN_SAMPLE = "CDLR (in-sample stacking)"
#: Every model name in reading order (others follow alphabetically, see :func:`model_order`).
MODEL_ORDER = ("Clinical", CLINICAL_SVM, "Rad", "DTL", "DLR", "CDLR", IN_SAMPLE)

#: One colour per model, used by every figure.
MODEL_COLORS = {
    "Clinical": "#1f77b4",
    "Rad": "#ff7f0e",
    "DTL": "#2ca02c",
    "DLR": "#9467bd",
    "CDLR": "#d62728",
}
#: Colours of the two classes (by name and by 0/1 label).
CLASS_COLORS = {"benign": "#2b83ba", "malignant": "#d7191c", 0: "#2b83ba", 1: "#d7191c"}

#: The cohorts a run knows, in reading order, with the labels the book shows.
COHORT_LABELS = {"train": "Training", "validation": "Validation", "external": "External"}
COHORTS = tuple(COHORT_LABELS)
#: The cohorts that can be a study's first held-out cohort, in order of preference.
HELD_OUT = ("validation", "external")


def held_out_cohort(cohorts: Sequence[str]) -> str:
    """The cohort the chapters report a model's held-out performance on: ``validation``, or the cohort
    column's ``external`` patients when the study has no internal validation cohort (a training centre
    validated in another centre, TRIPOD type 3)."""
    present = set(cohorts)
    for cohort in HELD_OUT:
        if cohort in present:
            return cohort
    raise ValueError(f"no validation or external cohort among {sorted(present)}")


def model_order(names: Sequence[str]) -> list[str]:
    """``names`` in the book's reading order (unknown names last, alphabetically)."""
    known = [m for m in MODEL_ORDER if m in names]
    return known + sorted(set(names) - set(known))
