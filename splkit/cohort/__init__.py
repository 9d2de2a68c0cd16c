"""Chapter 1: the cohort — read, validate, pseudonymise, split, describe.

The data contract of ``data/README.md``: :mod:`~splkit.cohort.imaging` reads images and masks,
:mod:`~splkit.cohort.validation` lists every problem at once, :mod:`~splkit.cohort.pseudonym` replaces
patient ids, :mod:`~splkit.cohort.load` assembles the :class:`Cohort`, :mod:`~splkit.cohort.dictionary`
describes the clinical variables, :mod:`~splkit.cohort.table1` and :mod:`~splkit.cohort.gallery` describe
the cohort in the book.
"""

from splkit.cohort.load import (
    Cohort,
    CohortError,
    Problem,
    load_cohort,
    load_cohort_for,
    timed_validation,
    write_run_tables,
)

__all__ = [
    "Cohort",
    "CohortError",
    "Problem",
    "load_cohort",
    "load_cohort_for",
    "timed_validation",
    "write_run_tables",
]
