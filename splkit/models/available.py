"""Which models a run has: the one place that decides it (every chapter and page asks here).

A cohort without clinical variables (``clinical.csv`` holds only ``patient_id``, ``label`` and maybe
``spacing_mm``: an *imaging-only* cohort) has no clinical arm: no ``Clinical`` logistic regression
(chapter 2), no ``Clinical-SVM``, no ``CDLR`` (and no in-sample CDLR variant).  The DLR, which fuses
radiomics and deep features, is then the fusion model.  The rule reads the run's ``variables.csv``
(written by chapter 1: the data dictionary actually used), so it holds for every later chapter, page
and the study alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from splkit.run.names import CLINICAL_SVM, IN_SAMPLE, MODEL_ORDER
from splkit.run.report import record
from splkit.run.rundir import RunDir

#: The models that need clinical variables.
CLINICAL_ARM = ("Clinical", CLINICAL_SVM, "CDLR", IN_SAMPLE)
#: Why they are absent, as ``results.json`` records it (``models.absent``).
NO_CLINICAL = "no clinical variables"
#: The fusion model with and without the clinical arm.
FUSION, IMAGING_FUSION = "CDLR", "DLR"
#: The sentence every chapter and page shows for an imaging-only cohort.
NO_CLINICAL_NOTE = (
    "This cohort has no clinical variables, so there is no Clinical model, no Clinical-SVM and no CDLR; "
    "the DLR (radiomics + deep transfer learning) is the fusion model."
)


def _run_path(run: Any) -> Path:
    """A run directory from settings (``run_path``), a :class:`RunDir` (``root``) or a path."""
    if isinstance(run, (str, Path)):
        return Path(run)
    for attribute in ("run_path", "root"):
        if hasattr(run, attribute):
            return Path(getattr(run, attribute))
    return Path(run)


def clinical_variables(run: Any) -> list[str]:
    """The clinical variables the run may use (``variables.csv``, ``included`` rows)."""
    path = RunDir(_run_path(run)).variables_csv
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run notebook 01 (the cohort) first")
    variables = pd.read_csv(path, dtype=str, keep_default_na=False)
    if "included" in variables:
        variables = variables[variables["included"].str.lower().isin(["true", "1", "yes"])]
    return variables["variable"].tolist() if "variable" in variables else []


def has_clinical_arm(run: Any) -> bool:
    """Whether the run's cohort has clinical variables (and so the Clinical, Clinical-SVM and CDLR models).

    Without ``variables.csv`` (a run assembled without chapter 1) the recorded ``models.absent`` decides,
    else the run is taken to have every arm."""
    if not RunDir(_run_path(run)).variables_csv.exists():
        from splkit.run.report import load_results, lookup

        return "Clinical" not in (lookup(load_results(_run_path(run)), "models.absent") or {})
    return bool(clinical_variables(run))


def keep_available(names, clinical_arm: bool) -> list[str]:
    """``names`` without the clinical-arm models when there is no clinical arm."""
    return [n for n in names if clinical_arm or n not in CLINICAL_ARM]


def model_names(run: Any, models: Any = None) -> list[str]:
    """Every model this run has, in reading order (``models``: the profile's ``models`` section;
    default: the run's settings through ``run.models`` when ``run`` is a Settings)."""
    models = models if models is not None else getattr(run, "models", None) or {}
    names = ["Clinical", "Rad", "DTL", "DLR", "CDLR"]
    if models.get("clinical_svm", True):
        names.append(CLINICAL_SVM)
    if models.get("paper_compatible", False):
        names.append(IN_SAMPLE)
    ordered = [m for m in MODEL_ORDER if m in names]
    return keep_available(ordered, has_clinical_arm(run))


def absent_models(run: Any) -> dict[str, str]:
    """``{model: why}`` for the models this run cannot have (empty with a clinical arm)."""
    return {} if has_clinical_arm(run) else {m: NO_CLINICAL for m in CLINICAL_ARM if m != IN_SAMPLE}


def fusion_model(run: Any) -> str:
    """The model that fuses every arm the run has: the CDLR, or the DLR without clinical variables."""
    return FUSION if has_clinical_arm(run) else IMAGING_FUSION


def absence_note(run: Any) -> str:
    """The sentence saying why models are absent ("" when the run has every arm)."""
    return "" if has_clinical_arm(run) else NO_CLINICAL_NOTE


def record_availability(run: Any, models: Any = None) -> dict[str, Any]:
    """Record ``models.available``, ``models.absent`` and ``models.fusion`` in ``results.json``."""
    entry = {
        "available": model_names(run, models),
        "absent": absent_models(run),
        "fusion": fusion_model(run),
    }
    for key, value in entry.items():
        record(_run_path(run), f"models.{key}", value)
    return entry
