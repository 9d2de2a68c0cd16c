"""Chapter 1: the cohort — read, validate, pseudonymise, split, describe.

The data contract of ``data/README.md``: :mod:`~splkit.cohort.imaging` reads images and masks,
:mod:`~splkit.cohort.validation` lists every problem at once, :mod:`~splkit.cohort.pseudonym` replaces
patient ids, :mod:`~splkit.cohort.load` assembles the :class:`Cohort`, :mod:`~splkit.cohort.split` splits
it, :mod:`~splkit.cohort.dictionary` describes the clinical variables, :mod:`~splkit.cohort.run_tables`
writes and reads the run's ``cohort.csv``, ``split.csv`` and ``variables.csv``,
:mod:`~splkit.cohort.table1` and :mod:`~splkit.cohort.gallery` describe the cohort in the book, and
:mod:`~splkit.cohort.chapter` is the glue of notebook 01.
"""

from splkit.cohort.load import (
    Cohort,
    CohortError,
    Problem,
    load_cohort,
    load_cohort_for,
    timed_validation,
)
from splkit.cohort.run_tables import dictionary_spec, read_run_cohort, read_run_variables, write_run_tables

__all__ = [
    "Cohort",
    "CohortError",
    "Problem",
    "dictionary_spec",
    "load_cohort",
    "load_cohort_for",
    "read_run_cohort",
    "read_run_variables",
    "timed_validation",
    "write_run_tables",
]
