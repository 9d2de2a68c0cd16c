"""Score new patients with a saved study: ``splkit predict``.

A cohort folder of new patients follows the data contract (``data/README.md``) except that ``label``
is optional.  It is validated first — every problem at once, against the study's preset and spacing
rule, every image decoded (:meth:`splkit.study.Study.load_cohort`) — and then scored with the study's
own fitted stages (same backbone and weights, checked by sha256; same PCA, selection, models and
training-fixed thresholds) through the feature caches.  ::

    splkit predict --study runs/default/study --cohort path/to/new --out scores.csv [--key key.csv]

The output has one row per patient, by pseudonym (``P0001``…, the cohort's own salted pseudonyms):
``patient, cohort, label`` (``label`` empty when not given), per model ``<Model>_probability`` and
``<Model>_class`` (1 when the probability reaches the model's training threshold), and the
out-of-distribution flags of :mod:`splkit.study.ood` (:data:`~splkit.study.ood.FLAG_COLUMNS`).  The
user's own ids are written only to the separate key file, when asked (``pseudonym, patient_id``).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from splkit.run.cache import atomic_write, atomic_write_text
from splkit.study.ood import TrainingRange, lesion_size
from splkit.study.study import CLINICAL, Study

#: Suffixes of the per-model output columns.
PROBABILITY, CLASS = "_probability", "_class"
#: The module and function that write per-patient reports (``--report``).
REPORT_MODULE, REPORT_FUNCTION = "splkit.study.report", "write_reports"


class ReportUnavailable(RuntimeError):
    """``--report`` asked for, but this installation has no per-patient report writer."""


def model_input_columns(study: Study, models: Sequence[str] | None = None) -> list[str]:
    """The features the study's models read: radiomics candidates, DTL features, clinical predictors.

    Parameters
    ----------
    study
        The fitted study.
    models
        The models (default: all of the study's).

    Returns
    -------
    list of str
        In the order radiomics, deep, clinical (as :meth:`Study.features` returns them).
    """
    names = study.model_names if models is None else list(models)
    wanted = {c for m in names if m != CLINICAL for c in study.models.inputs_[m]}
    if CLINICAL in names:
        wanted |= set(study.clinical.predictors_)
    ordered = []
    for stage in (study.radiomics, study.deep, study.clinical):
        if stage is None:  # no clinical arm
            continue
        ordered += [str(c) for c in stage.get_feature_names_out() if c in wanted]
    return list(dict.fromkeys(ordered))


@contextmanager
def features_once(study: Study, X: pd.DataFrame):
    """Within the block, ``study.features`` returns ``X`` (computed once) instead of recomputing it,
    so that :meth:`Study.predict_proba` and :meth:`Study.predict` score exactly these features."""
    study.features = lambda cohort, stages=(): X  # instance attribute shadows the method
    try:
        yield study
    finally:
        del study.features


def score_cohort(
    study: Study, cohort: Any, training_range: TrainingRange, models: Sequence[str] | None = None
) -> pd.DataFrame:
    """Every model's probability and class, and the out-of-distribution flags, per patient.

    Parameters
    ----------
    study
        The fitted study.
    cohort
        A :class:`splkit.cohort.Cohort` (labels optional).
    training_range
        The study's :class:`~splkit.study.ood.TrainingRange`.
    models
        The models to score (default: all of the study's).

    Returns
    -------
    pandas.DataFrame
        Index ``patient``; the columns of the module docstring.
    """
    names = study._models(models)
    X = study.features(cohort, study._stages_for(names))
    with features_once(study, X):
        proba = study.predict_proba(cohort, names)
        classes = study.predict(cohort, names)
    table = cohort.table
    out = pd.DataFrame(index=proba.index)
    out["cohort"] = table["cohort"].reindex(out.index)
    out["label"] = table["label"].reindex(out.index).astype("Int64")
    for name in names:
        out[name + PROBABILITY] = proba[name]
        out[name + CLASS] = classes[name].astype(int)
    flags = training_range.flags(X, lesion_size(cohort), model_input_columns(study, names))
    out = pd.concat([out, flags.reindex(out.index)], axis=1)
    out.index.name = "patient"
    out.columns.name = None
    return out


def report_writer():
    """``splkit.study.report.write_reports(study, cohort, scores, out_dir)``, if installed.

    Raises
    ------
    ReportUnavailable
        When the module or the function does not exist.
    """
    try:
        module = importlib.import_module(REPORT_MODULE)
    except ModuleNotFoundError as error:
        if error.name != REPORT_MODULE:
            raise
        module = None
    writer = getattr(module, REPORT_FUNCTION, None)
    if writer is None:
        raise ReportUnavailable(
            "per-patient reports (--report) are not available in this version of splkit "
            f"({REPORT_MODULE}.{REPORT_FUNCTION} is missing)"
        )
    return writer


def load_study(folder: str | Path) -> tuple[Study, TrainingRange]:
    """The saved study and its training range (the study's own when it carries one, else
    ``<folder>/ood.joblib``); raises before any image is read when either is missing."""
    study = Study.load(folder)
    training_range = getattr(study, "training_range", None)
    if training_range is None:
        training_range = TrainingRange.load(folder)
    return study, training_range


def write_key(cohort: Any, path: str | Path) -> Path:
    """The pseudonym → patient id key (``pseudonym, patient_id``), for the data owner only."""
    key = pd.DataFrame(
        sorted((pseudonym, patient_id) for patient_id, pseudonym in cohort.pseudonym_key().items()),
        columns=["pseudonym", "patient_id"],
    )
    return atomic_write_text(path, key.to_csv(index=False))


def predict_cohort(
    study_folder: str | Path,
    cohort_path: str | Path,
    out: str | Path,
    key: str | Path | None = None,
    report: str | Path | None = None,
    progress: bool | None = None,
    n_jobs: int | None = None,
    log: Any = None,
) -> tuple[pd.DataFrame, Any]:
    """Load the study, validate and score the cohort folder, write the scores (and key, reports).

    Parameters
    ----------
    study_folder
        A saved study (``<run>/study``).
    cohort_path
        The new cohort folder (data contract; ``label`` optional).
    out
        The scores CSV to write.
    key
        Where to write the pseudonym key (``None``: nowhere).
    report
        A folder for the per-patient reports (:func:`report_writer`; ``None``: none).
    progress
        Progress bars (``None``: only on a terminal).
    n_jobs
        Worker processes / threads of the feature extraction (``None``: the study's).
    log
        A stream for step messages (``None``: silent).

    Returns
    -------
    scores : pandas.DataFrame
        :func:`score_cohort`'s table.
    cohort : splkit.cohort.Cohort
        The validated cohort.
    """
    progress = sys.stderr.isatty() if progress is None else progress

    def say(text: str) -> None:
        if log is not None:
            print(text, file=log, flush=True)

    writer = report_writer() if report is not None else None
    study, training_range = load_study(study_folder)
    say(f"study {study_folder}: models {', '.join(study.model_names)}")
    for stage in (study.radiomics, study.deep):
        stage.progress = progress
        if n_jobs is not None:
            stage.n_jobs = int(n_jobs)
    cohort = study.load_cohort(cohort_path, require_labels=False, progress=progress)
    say(f"cohort {cohort_path}: {len(cohort.table)} patients valid; scoring")
    scores = score_cohort(study, cohort, training_range)
    atomic_write(out, lambda tmp: scores.to_csv(tmp))
    say(f"scores: {out}")
    if key is not None:
        say(f"pseudonym key (your ids: keep it private): {write_key(cohort, key)}")
    if writer is not None:
        writer(study, cohort, scores, Path(report))
        say(f"reports: {report}")
    return scores, cohort
