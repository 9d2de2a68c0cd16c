"""The external cohort: loaded with the study's data rules, every patient under an ``E`` pseudonym.

The cohort loader numbers every cohort ``P0001``…; an external cohort loaded that way would reuse the
development cohort's pseudonyms for other patients.  :func:`external_pseudonyms` renames them
``E0001``… (same order, so still set by the external folder's salt) and marks every patient
``external``.  Input ids stay in memory (the cohort's key), as for the development cohort.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from splkit.cohort import Cohort
from splkit.cohort import dictionary as dictionary_module
from splkit.cohort.files import FilePaths
from splkit.config import has_external

#: The first letter of external pseudonyms (development: ``P``).
EXTERNAL_PREFIX = "E"


def external_pseudonyms(cohort: Cohort, prefix: str = EXTERNAL_PREFIX) -> Cohort:
    """``cohort`` with every pseudonym ``P0001`` renamed ``<prefix>0001`` and every patient ``external``."""
    if not prefix or prefix == "P":
        raise ValueError(f"the external prefix must differ from the development cohort's 'P', got {prefix!r}")

    def rename(patient: str) -> str:
        if not patient.startswith("P"):
            raise ValueError(f"unexpected pseudonym {patient!r} (expected P0001…)")
        return prefix + patient[1:]

    table = cohort.table.rename(index=rename).assign(cohort="external")
    table.index.name = "patient"
    columns = [v for v in cohort.variables.index if v in table.columns]
    checks = cohort.image_checks.rename(index=rename) if cohort.image_checks is not None else None
    return dataclasses.replace(
        cohort,
        table=table.sort_index(),
        images=FilePaths({rename(p): f for p, f in cohort.images.items()}),
        masks=FilePaths({rename(p): f for p, f in cohort.masks.items()}),
        masks_reader2=FilePaths({rename(p): f for p, f in cohort.masks_reader2.items()}),
        spacing=MappingProxyType({rename(p): s for p, s in cohort.spacing.items()}),
        missing=dictionary_module.missing_table(table[columns], table["cohort"]),
        _key=MappingProxyType({i: rename(p) for i, p in cohort.pseudonym_key().items()}),
        image_checks=checks,
    )


def load_external_cohort(study: Any, settings: Mapping[str, Any]) -> Cohort:
    """The profile's external cohort (``external.path``) read with the study's data rules
    (:meth:`splkit.study.Study.load_cohort`), under ``E`` pseudonyms."""
    from splkit.config import resolve_path

    if not has_external(settings):
        raise ValueError("the profile names no external cohort (external.path)")
    path = resolve_path(settings["external"]["path"])
    cohort = study.load_cohort(path, seed=int(settings["seed"]), progress=False)
    return external_pseudonyms(cohort)
