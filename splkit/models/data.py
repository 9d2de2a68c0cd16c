"""Read and check what notebooks 01–04 left in the run directory for the models of notebook 05.

Every reader fails early with the file, the patient and the problem, before any model is fitted.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from splkit.clinical import ClinicalEncoder
from splkit.cohort.run_tables import dictionary_spec
from splkit.run.report import load_results, lookup
from splkit.run.rundir import RunDir

#: Candidate feature tables (:meth:`RunDir.features` names) and the results.json key of their selection.
FEATURE_SOURCES = {
    "radiomics": ("rad_candidates", "radiomics.selected"),
    "deep": ("dtl_candidates", "deep.selected"),
}


def load_cohort(run_path: str | Path) -> pd.DataFrame:
    """``cohort.csv`` indexed by patient, checked (:func:`splkit.cohort.read_run_cohort`, the one reader
    of the run's cohort table: ``cohort`` known, ``label`` 0/1 int, both classes in training)."""
    from splkit.cohort.run_tables import read_run_cohort

    return read_run_cohort(run_path)[0]


def load_candidates(run_path: str | Path, source: str, patients: pd.Index) -> pd.DataFrame:
    """A candidate feature table (``radiomics`` or ``deep``) for ``patients``, checked numeric and finite."""
    name, _ = FEATURE_SOURCES[source]
    path = RunDir(run_path).features(name)
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: run notebook {'03' if source == 'radiomics' else '04'} first"
        )
    table = pd.read_parquet(path)
    if table.index.name != "patient" and "patient" in table.columns:
        table = table.set_index("patient")
    table.index = table.index.astype(str)
    if table.index.duplicated().any():
        raise ValueError(
            f"{path}: patients listed twice: {table.index[table.index.duplicated()][:10].tolist()}"
        )
    missing = patients.difference(table.index)
    if len(missing):
        raise ValueError(
            f"{path} lacks features for patients {missing[:10].tolist()} ({len(missing)} in all)"
        )
    table = table.loc[patients]
    non_numeric = [c for c in table.columns if not pd.api.types.is_numeric_dtype(table[c])]
    if non_numeric:
        raise ValueError(f"{path}: non-numeric feature columns {non_numeric[:10]}")
    values = table.to_numpy(dtype=float)
    if not np.isfinite(values).all():
        row, col = np.argwhere(~np.isfinite(values))[0]
        raise ValueError(
            f"{path}: patient {table.index[row]} has a missing or infinite value in {table.columns[col]!r}"
        )
    return table.astype(float)


def feature_names(entry: Any, key: str) -> list[str]:
    """The feature names of a ``results.json`` selection entry (a list of names, a mapping, or records)."""
    if entry is None:
        raise KeyError(f"results.json has no {key!r}: run the notebook that selects these features first")
    if isinstance(entry, Mapping):
        names = list(entry.keys())
    elif isinstance(entry, list) and entry and isinstance(entry[0], Mapping):
        names = [str(item.get("feature", item.get("name"))) for item in entry]
    else:
        names = [str(name) for name in entry]
    if not names:
        raise ValueError(f"results.json {key!r} selects no features; the model needs at least one")
    return names


def selected_features(run_path: str | Path, source: str, candidates: pd.DataFrame | None = None) -> list[str]:
    """The features notebook 03 (``radiomics``) or 04 (``deep``) selected on the training cohort."""
    name, key = FEATURE_SOURCES[source]
    names = feature_names(lookup(load_results(run_path), key), key)
    if candidates is not None:
        unknown = [n for n in names if n not in candidates.columns]
        if unknown:
            raise ValueError(
                f"results.json {key!r} names features absent from features/{name}.parquet: {unknown[:10]}"
            )
    return names


def clinical_predictors(run_path: str | Path, cohort: pd.DataFrame) -> list[str]:
    """The clinical predictors chosen in notebook 02 (``results.json`` → ``clinical.predictors``)."""
    names = feature_names(lookup(load_results(run_path), "clinical.predictors"), "clinical.predictors")
    unknown = [n for n in names if n not in cohort.columns]
    if unknown:
        raise ValueError(f"clinical.predictors names columns absent from cohort.csv: {unknown}")
    return names


def clinical_encoder(run_path: str | Path, columns: list[str]) -> ClinicalEncoder:
    """An unfitted imputer/encoder for the clinical ``columns``, by the rule of ``data/README.md``.

    Chapter 2's :class:`splkit.clinical.ClinicalEncoder` (training median for numeric and ordinal,
    training mode for binary and categorical, dummy coding against the first declared level) with the
    types and levels of ``variables.csv``.  Columns it is not told about (the DLR score) are inferred
    as numeric.
    """
    path = RunDir(run_path).variables_csv
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run notebook 01 (the cohort) first")
    variables = pd.read_csv(path, dtype=str, keep_default_na=False).set_index("variable")
    types, levels = dictionary_spec(variables)
    unknown = [c for c in columns if c not in types]
    if unknown:
        raise ValueError(f"{path} does not describe the clinical predictors {unknown}")
    return ClinicalEncoder(
        types={c: types[c] for c in columns}, levels={c: levels[c] for c in columns if c in levels}
    )
