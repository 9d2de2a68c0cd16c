"""The fitted study: every stage fitted on the training cohort, saved as one folder with a manifest,
applied to any cohort.

:class:`Study` holds the fitted radiomics, deep and clinical stages and the SVM models with their
training thresholds; :func:`save_study` gathers a run's fitted stages into ``<run>/study``;
:meth:`Study.load` reads such a folder back (warning when library versions differ);
:meth:`Study.predict_proba` / :meth:`Study.predict` score any cohort, labelled or not.
"""

from splkit.study.check import save_and_check_study
from splkit.study.manifest import StudyFormatError, StudyVersionWarning, library_versions
from splkit.study.models import StudyModels
from splkit.study.study import Study, save_study

__all__ = [
    "Study",
    "StudyFormatError",
    "StudyModels",
    "StudyVersionWarning",
    "library_versions",
    "save_and_check_study",
    "save_study",
]
