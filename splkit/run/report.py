"""Headline numbers, tables and figures of a run, written into the run directory.

``results.json`` is the machine-readable summary of a run: every notebook records its headline
numbers there through :func:`record`, so tests, the book's introduction and readers can check results
without parsing notebooks.  Keys are dotted paths (``"models.CDLR.validation.auc"``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from splkit.run.cache import atomic_dump, atomic_write, atomic_write_text  # noqa: F401 - re-exported
from splkit.run.rundir import RunDir

RESULTS_FILE = "results.json"


def _jsonable(value: Any) -> Any:
    """Convert numpy / pandas values to plain JSON types (NaN -> None)."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, pd.Series):
        return _jsonable(value.to_dict())
    if isinstance(value, pd.DataFrame):
        return _jsonable(value.to_dict(orient="records"))
    if isinstance(value, (list, tuple, set, np.ndarray)):
        return [_jsonable(v) for v in (sorted(value) if isinstance(value, set) else value)]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, Path):
        return str(value)
    return value


def load_results(run_dir: str | Path) -> dict[str, Any]:
    """The run's ``results.json`` as a nested dict (empty if nothing was recorded yet)."""
    path = RunDir(run_dir).results_json
    if not path.exists():
        return {}
    return json.loads(path.read_text())


def record(run_dir: str | Path, key: str, value: Any) -> Any:
    """Record ``value`` under the dotted ``key`` in ``<run_dir>/results.json`` and return it.

    Existing keys are replaced, so re-running a notebook updates its numbers instead of duplicating
    them.  Values may be numbers, strings, lists, mappings, numpy scalars/arrays or pandas objects.
    """
    if not key or any(not part for part in key.split(".")):
        raise ValueError(f"invalid results key {key!r}: use dotted names like 'models.CDLR.auc'")
    results = load_results(run_dir)
    node = results
    parts = key.split(".")
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[parts[-1]] = _jsonable(value)
    atomic_write_text(RunDir(run_dir).results_json, json.dumps(results, indent=2, sort_keys=True) + "\n")
    return value


def lookup(results: Mapping[str, Any], key: str, default: Any = None) -> Any:
    """Read a dotted ``key`` from a results mapping."""
    node: Any = results
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return default
        node = node[part]
    return node


def write_table(run_dir: str | Path, name: str, table: pd.DataFrame, index: bool = True) -> Path:
    """Write ``table`` as ``<run_dir>/tables/<name>.csv`` (atomically) and return the path."""
    path = RunDir(run_dir).table(name)
    atomic_write_text(path, table.to_csv(index=index))
    return path
