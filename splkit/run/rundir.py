"""The run directory contract: every path a run writes, in one place.

A notebook or stage never spells a run-directory path itself; it asks :class:`RunDir`::

    run = RunDir(settings.run_path)
    run.cohort_csv, run.features("rad_candidates"), run.model("CDLR"), run.study

What each file holds, and which chapter writes it, is the table in ``ARCHITECTURE.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


def model_filename(model: str) -> str:
    """A file-system safe name: ``CDLR (in-sample stacking)`` → ``CDLR_in-sample_stacking``."""
    return re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9.-]+", "_", model)).strip("_")


@dataclass(frozen=True)
class RunDir:
    """The paths of one run directory (nothing is created until something is written)."""

    root: Path

    def __init__(self, root: str | Path):
        object.__setattr__(self, "root", Path(root))

    def __fspath__(self) -> str:
        return str(self.root)

    # ------------------------------------------------------------------ written by `splkit run`
    @property
    def settings_yaml(self) -> Path:
        """The resolved profile of this run."""
        return self.root / "settings.yaml"

    @property
    def notebooks(self) -> Path:
        """The executed notebooks (the book is built from these)."""
        return self.root / "notebooks"

    @property
    def book(self) -> Path:
        """The staged Jupyter Book sources and its ``_build``."""
        return self.root / "book"

    # ------------------------------------------------------------------ chapter 1
    @property
    def results_json(self) -> Path:
        """Headline numbers recorded by every chapter (:func:`splkit.run.report.record`)."""
        return self.root / "results.json"

    @property
    def cohort_csv(self) -> Path:
        """The pseudonymised cohort: ``patient, cohort, label`` and the clinical variables."""
        return self.root / "cohort.csv"

    @property
    def variables_csv(self) -> Path:
        """The data dictionary actually used."""
        return self.root / "variables.csv"

    @property
    def split_csv(self) -> Path:
        """``patient, cohort``."""
        return self.root / "split.csv"

    # ------------------------------------------------------------------ chapters 2-5
    @property
    def predictions_csv(self) -> Path:
        """Every model's scores: ``patient, cohort, label, model, score`` (out-of-fold on training)."""
        return self.root / "predictions.csv"

    def features(self, name: str) -> Path:
        """A feature table, ``features/<name>.parquet`` (``radiomics``, ``rad_candidates``, …)."""
        return self.root / "features" / f"{name}.parquet"

    def model(self, name: str, suffix: str = ".joblib") -> Path:
        """A fitted object, ``models/<name>.joblib`` (model names made file-system safe)."""
        return self.root / "models" / f"{model_filename(name)}{suffix}"

    def table(self, name: str) -> Path:
        """``tables/<name>.csv``."""
        return self.root / "tables" / f"{name}.csv"

    def figure(self, name: str, suffix: str = ".html") -> Path:
        """``figures/<name>.html`` (or another suffix)."""
        return self.root / "figures" / f"{name}{suffix}"

    # ------------------------------------------------------------------ the fitted study
    @property
    def study(self) -> Path:
        """The fitted study folder (:class:`splkit.study.Study`), with its ``manifest.json``."""
        return self.root / "study"

    # named feature tables of the contract
    @property
    def radiomics(self) -> Path:
        return self.features("radiomics")

    @property
    def radiomics_reader2(self) -> Path:
        return self.features("radiomics_reader2")

    @property
    def rad_candidates(self) -> Path:
        return self.features("rad_candidates")

    @property
    def deep_embeddings(self) -> Path:
        return self.features("deep_embeddings")

    @property
    def dtl_candidates(self) -> Path:
        return self.features("dtl_candidates")
