"""The external cohort of a run, as chapter 6 explains it beside the validation cohort.

A run has external patients in one of two ways:

- ``"cohort"``: the cohort folder's ``cohort`` column marks patients ``external``; they are in
  ``cohort.csv`` and ``predictions.csv`` (chapter 5 scores every cohort but training) and
  :func:`splkit.models.model_inputs` rebuilds their inputs like the validation patients';
- ``"study"``: the profile names an external cohort folder (``external.path``, chapter 7).  The study
  chapter 5 saved reads it with its data rules (patients ``E0001…``), computes its features (cached
  per image, so chapter 7 does not repeat the extraction) and scores it; each model's input rows are
  built as :meth:`splkit.study.explain.StudyExplainer.design` builds them for a new patient (for the CDLR:
  the DLR score of the model fitted on all training patients, then the encoded clinical predictors).

Either way nothing is refitted: the external patients are explained by the models, background and
thresholds of the training cohort.  :func:`external_patients` is ``None`` for a run without external
patients.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from splkit.config import has_external
from splkit.run import predictions
from splkit.run.rundir import RunDir

COHORT = "external"


@dataclass
class ExternalPatients:
    """External patients: where they come from, their images, the models' scores and input rows."""

    source: str  # "cohort" (cohort.csv) or "study" (external.path scored by the saved study)
    cohort: Any  # the Cohort whose images and masks Grad-CAM reads
    scores: pd.DataFrame  # patient, cohort, label, model, score
    study: Any = None
    features: pd.DataFrame | None = None  # the study's features ("study" source)
    designs: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.scores["patient"].nunique())

    def inputs(self, name: str, X: pd.DataFrame, cohort: pd.Series) -> pd.DataFrame:
        """Model ``name``'s input rows of the external patients; ``X`` and ``cohort`` are the run's
        (:func:`splkit.models.model_inputs`), whose columns the rows take."""
        if self.source == "cohort":
            return X[cohort == COHORT]
        if name not in self.designs:
            from splkit.study.explain import StudyExplainer

            explainer = StudyExplainer(None, name, pd.DataFrame(columns=X.columns))
            self.designs[name] = explainer.design(self.study.models, self.features)
        return self.designs[name]

    def checked_inputs(self, name: str, X: pd.DataFrame, cohort: pd.Series, estimator: Any) -> pd.DataFrame:
        """:meth:`inputs`, checked: ``estimator`` (the saved model ``name``) scores them as the run or the
        study scored these patients (to 1e-9), or a ``ValueError`` says so."""
        rows = self.inputs(name, X, cohort)
        scores = self.scores[self.scores.model == name].set_index("patient")["score"]
        if not rows.empty and set(rows.index) <= set(scores.index):
            gap = np.max(np.abs(estimator.predict_proba(rows)[:, 1].clip(0, 1) - scores.loc[rows.index]))
            if gap > 1e-9:
                raise ValueError(
                    f"the {name} model's inputs rebuilt for the external patients give scores up to "
                    f"{gap:.1e} away from the {self.source}'s: they are not the rows it scored"
                )
        return rows

    def sentence(self) -> str:
        """Where the external patients come from, for the chapter's text."""
        if self.source == "cohort":
            return f"the {self.n} patients the cohort marks as external"
        return (
            f"the {self.n} patients of the external cohort (`external.path`), read and scored by the "
            "study saved in chapter 5 (chapter 7 evaluates them)"
        )


#: Loaded external patients, by run folder, source and the modification times of what they come from.
LOADED: dict[tuple, ExternalPatients] = {}


def _stamp(*paths: Path) -> tuple[float, ...]:
    return tuple(path.stat().st_mtime if path.exists() else 0.0 for path in paths)


def external_patients(settings: Any) -> ExternalPatients | None:
    """The run's external patients (see the module docstring), or ``None``; loaded once per run (again
    when ``predictions.csv`` or the saved study changes)."""
    run = RunDir(settings.run_path)
    scores = predictions.load(run.root)
    if (scores["cohort"] == COHORT).any():
        from splkit.cohort import load_cohort_for

        key = (str(run.root), "cohort", _stamp(run.predictions_csv))
        if key not in LOADED:
            LOADED[key] = ExternalPatients(
                "cohort", load_cohort_for(settings), scores[scores.cohort == COHORT]
            )
        return LOADED[key]
    if not has_external(settings) or not run.study.is_dir():
        return None
    from splkit.study.manifest import MANIFEST_FILE

    key = (str(run.root), str(settings["external"]["path"]), _stamp(run.study / MANIFEST_FILE))
    if key not in LOADED:
        LOADED[key] = _from_study(settings, run)
    return LOADED[key]


def _from_study(settings: Any, run: RunDir) -> ExternalPatients:
    from splkit.external.cohort import load_external_cohort
    from splkit.study import Study

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # library versions: chapter 5 saved it in this run
        study = Study.load(run.study)
    cohort = load_external_cohort(study, settings)
    features = study.features(cohort)
    labels = cohort.table["label"]
    rows = [
        pd.DataFrame(
            {
                "patient": features.index,
                "cohort": COHORT,
                "label": labels.loc[features.index].to_numpy(),
                "model": name,
                "score": study.models.score(name, features),
            }
        )
        for name in study.models.names
    ]
    return ExternalPatients("study", cohort, pd.concat(rows, ignore_index=True), study, features)
