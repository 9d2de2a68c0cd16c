"""The radiomics stage of a fitted study: preset + the ICC-passed candidate features, for any cohort.

:class:`RadiomicsStage` is chapter 3 as one scikit-learn-style transformer.  ``fit`` extracts both
readers' features of a cohort and keeps the features whose ICC (on the training patients) reaches the
threshold, by ``radiomics.robustness`` (:func:`splkit.radiomics.workflow.reproducibility_filter`): between
the readers (inter-reader agreement), over perturbed reader-1 masks when the cohort has too few
second-reader masks or the profile asks for it (perturbation robustness), or no filter (``none``); the
method used is ``robustness_`` and goes into the study's manifest.  :meth:`RadiomicsStage.from_run`
takes what notebook 03 already fitted (``features/rad_candidates.parquet``, the preset and the
robustness method recorded in ``results.json``).  ``transform`` extracts the reader-1 features of any cohort — training, validation,
external or new patients without labels — with the same preset text and the cohort's pixel spacing,
through the per-image cache of :func:`splkit.radiomics.workflow.extract_for`, and returns exactly the
candidate columns.  With ``harmonise="combat"`` (``radiomics.harmonise``) the stage also holds the ComBat
estimated on the training patients (:mod:`splkit.radiomics.harmonise`) and ``transform`` applies it, by
the cohort's ``centre`` column, to every cohort; a centre without training patients is an error naming it.

Reference: van Griethuysen JJM et al. Computational radiomics system to decode the radiographic
phenotype. Cancer Res. 2017;77:e104-e107 (pyradiomics); Koo & Li, J Chiropr Med 2016;15:155 (ICC);
Zwanenburg A et al. Sci Rep. 2019;9:614 (perturbation robustness).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import yaml
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from splkit.radiomics import workflow
from splkit.radiomics.extract import pyradiomics_version
from splkit.radiomics.harmonise import COMBAT_MODEL, centres_of, fit_on_training, harmonise_method
from splkit.radiomics.presets import Preset, PresetError, load_preset, validate_preset
from splkit.radiomics.robustness import LABELS, requested_method
from splkit.run.report import load_results, lookup
from splkit.run.rundir import RunDir


def preset_from_text(name: str, text: str) -> Preset:
    """A :class:`Preset` rebuilt from its YAML text (as a study stores it), validated."""
    raw = yaml.safe_load(text)
    if not isinstance(raw, Mapping) or not isinstance(raw.get("splkit"), Mapping):
        raise PresetError(f"preset {name!r}: the stored text is not a preset (no 'splkit:' block)")
    raw = dict(raw)
    meta = dict(raw.pop("splkit"))
    preset = Preset(name=name, text=text, params=raw, meta=meta)
    validate_preset(preset)
    return preset


class RadiomicsStage(TransformerMixin, BaseEstimator):
    """Reader-1 radiomics features of the candidate (ICC-passed) columns, for any cohort.

    Parameters
    ----------
    preset
        A shipped preset name (``"ultrasound2d"``) or a preset YAML path (``radiomics.preset``).
    icc_type, icc_threshold, icc_patients
        The ICC filter of ``fit`` (``radiomics.icc_type``, ``icc_threshold``,
        ``icc_patients``: ``"train"`` or ``"all"``).
    robustness
        ``"readers"``, ``"perturbation"`` or ``"none"`` (``radiomics.robustness``): what the ICC compares.
    seed
        The profile's ``seed`` (the perturbed masks' translations).
    harmonise
        ``"none"`` or ``"combat"`` (``radiomics.harmonise``): ComBat by centre, fitted on the training patients.
    cache_dir
        The per-image cache folder (``radiomics.cache_dir``; ``None``: ``.cache/radiomics``).
    n_jobs
        Worker processes of the extraction.
    progress
        Show progress bars.
    engine
        ``radiomics.engine``: ``auto``, ``fast`` or ``pyradiomics`` (:func:`splkit.radiomics.extract.resolve_engine`).
    resample_mm
        ``radiomics.resample_mm``: ``auto``, ``none`` or a spacing (:mod:`splkit.radiomics.resample`).

    Attributes
    ----------
    resample_mm_ : float or None
        The spacing the training cohort chose (``None``: no resampling); ``transform`` applies it to every
        cohort.
    preset_name_, preset_sha256_, preset_text_ : str
        The preset used, its sha256 and its whole text (``transform`` extracts with this text, so a
        later edit of the shipped preset cannot change the study's features).
    columns_ : list of str
        The candidate feature columns ``transform`` returns.
    pyradiomics_version_ : str
        pyradiomics at fitting time (the extraction cache is keyed by the running version).
    combat_ : ComBat or None
        The ComBat fitted on the training patients' candidates (``harmonise="combat"``), else ``None``.
    robustness_ : dict
        The reproducibility method used (``method``, ``requested``, ``label``, ``reason``): the
        ``radiomics.robustness`` entry of ``results.json``.
    """

    #: Class defaults, so that studies pickled before the parameters existed still describe themselves.
    harmonise = "none"
    robustness = "readers"
    seed = 0

    def __init__(
        self,
        preset: str = "ultrasound2d",
        icc_type: str = "ICC3",
        icc_threshold: float = 0.75,
        icc_patients: str = "train",
        harmonise: str = "none",
        robustness: str = "readers",
        seed: int = 0,
        cache_dir: str | None = None,
        n_jobs: int = 1,
        progress: bool = False,
        engine: str = "auto",
        resample_mm: float | str = "auto",
    ):
        self.preset = preset
        self.icc_type = icc_type
        self.icc_threshold = icc_threshold
        self.icc_patients = icc_patients
        self.harmonise = harmonise
        self.robustness = robustness
        self.seed = seed
        self.cache_dir = cache_dir
        self.n_jobs = n_jobs
        self.progress = progress
        self.engine = engine
        self.resample_mm = resample_mm

    # ------------------------------------------------------------------ settings
    def _settings(self) -> dict[str, Any]:
        """The profile-shaped mapping :mod:`splkit.radiomics.workflow` reads."""
        return {
            "n_jobs": int(self.n_jobs),
            "seed": int(self.seed),
            "radiomics": {
                "preset": self.preset,
                "cache_dir": self.cache_dir,
                "allow_exclusions": False,  # a failed image is an error naming the patient, never a gap
                "icc_type": self.icc_type,
                "icc_threshold": float(self.icc_threshold),
                "icc_patients": self.icc_patients,
                "robustness": self.robustness,
                "engine": getattr(self, "engine", "auto"),  # studies saved before the engine existed: auto
                "resample_mm": self._resample_setting(),
            },
        }

    def _resample_setting(self) -> float | str:
        """Unfitted: the profile's rule; fitted: the spacing the training cohort chose, for every cohort
        (``none`` when it chose none, as in studies saved before resampling existed)."""
        if not hasattr(self, "columns_"):
            return getattr(self, "resample_mm", "auto")
        return getattr(self, "resample_mm_", None) or "none"

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> RadiomicsStage:
        """An unfitted stage with a profile's ``radiomics`` settings and ``n_jobs``."""
        rad = settings["radiomics"]
        return cls(
            preset=str(rad["preset"]),
            icc_type=str(rad.get("icc_type", "ICC3")),
            icc_threshold=float(rad.get("icc_threshold", 0.75)),
            icc_patients=str(rad.get("icc_patients", "train")),
            harmonise=harmonise_method(settings),
            robustness=requested_method(settings),
            seed=int(settings.get("seed", 0)),
            cache_dir=rad.get("cache_dir"),
            n_jobs=int(settings.get("n_jobs", 1)),
            engine=str(rad.get("engine", "auto")),
            resample_mm=rad.get("resample_mm", "auto"),
        )

    # ------------------------------------------------------------------ fitting
    def _set_preset(self, preset: Preset) -> None:
        self.preset_name_, self.preset_sha256_, self.preset_text_ = preset.name, preset.sha256, preset.text
        self.pyradiomics_version_ = pyradiomics_version()

    def fit(self, cohort: Any, y: Any = None) -> RadiomicsStage:
        """Extract both readers' features of ``cohort`` and keep the features passing the ICC filter.

        The ICC uses the training patients with a reader-2 mask (``icc_patients="train"``), as in
        notebook 03, or the perturbed reader-1 masks of the training patients (``robustness``, with the
        same fallback); ComBat (``harmonise="combat"``) is estimated on the training patients only.
        """
        preset = load_preset(self.preset)
        settings = self._settings()
        settings["radiomics"]["resample_mm"] = self.resample_mm  # the rule, also when refitting
        self.resample_mm_ = workflow.resample_target(settings, cohort)  # None: the spacings agree
        reader1 = workflow.extract_for(settings, cohort, reader=1, preset=preset, progress=self.progress)
        reader2 = workflow.extract_for(settings, cohort, reader=2, preset=preset, progress=self.progress)
        filtered = workflow.reproducibility_filter(
            settings, cohort, reader1.features, reader2.features, preset, self.progress
        )
        self.icc_, candidates = filtered.values, filtered.candidates
        self.robustness_ = filtered.robustness.describe()
        self._set_preset(preset)
        self.columns_ = [str(c) for c in candidates.columns]
        self.n_features_in_ = len(self.columns_)
        self.combat_ = fit_on_training(candidates, cohort.table)[0] if self.harmonise == "combat" else None
        return self

    @classmethod
    def from_run(cls, run: str | Path, settings: Mapping[str, Any]) -> RadiomicsStage:
        """The stage notebook 03 fitted: ``features/rad_candidates.parquet`` columns and the recorded preset.

        Raises
        ------
        ValueError
            When the preset file now differs from the one the run recorded (``radiomics.preset_sha256``).
        """
        run = RunDir(run)
        stage = cls.from_settings(settings)
        path = run.rad_candidates
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: run notebook 03 (radiomics) first")
        results = load_results(run)
        preset = load_preset(stage.preset)
        recorded = lookup(results, "radiomics.preset_sha256")
        if recorded is not None and recorded != preset.sha256:
            raise ValueError(
                f"radiomics preset {preset.name!r} now has sha256 {preset.sha256}, but the run's features were "
                f"extracted with sha256 {recorded} (results.json radiomics.preset_sha256): rerun notebook 03"
            )
        stage._set_preset(preset)
        stage.robustness_ = lookup(results, "radiomics.robustness") or {
            "method": "readers",
            "label": LABELS["readers"],
        }
        stage.columns_ = [str(c) for c in pd.read_parquet(path).columns if c != "patient"]
        stage.n_features_in_ = len(stage.columns_)
        # the spacing chapter 3 resampled to (absent in runs from before resampling existed: none)
        stage.resample_mm_ = lookup(results, "radiomics.resampling.target_mm")
        stage.combat_ = None
        if stage.harmonise == "combat":
            combat_path = run.model(COMBAT_MODEL)
            if not combat_path.exists():
                raise FileNotFoundError(
                    f"{combat_path} is missing: rerun notebook 03 with radiomics.harmonise: combat"
                )
            stage.combat_ = joblib.load(combat_path)
            if list(stage.combat_.feature_names_in_) != stage.columns_:
                raise ValueError(f"{combat_path} was fitted on other features than {path}: rerun notebook 03")
        return stage

    # ------------------------------------------------------------------ applying
    def stored_preset(self) -> Preset:
        """The stored preset, rebuilt from its text (checked against ``preset_sha256_``)."""
        check_is_fitted(self, "preset_text_")
        preset = preset_from_text(self.preset_name_, self.preset_text_)
        if preset.sha256 != self.preset_sha256_:
            raise ValueError(f"stored preset text does not match its sha256 {self.preset_sha256_}")
        return preset

    def transform(self, cohort: Any) -> pd.DataFrame:
        """The candidate features of every patient of ``cohort`` (index ``patient``, columns ``columns_``).

        Raises
        ------
        splkit.radiomics.ExtractionError
            An image that fails extraction (names the patient and the files).
        ValueError
            A candidate column the extraction did not produce, or a missing / infinite value (names the
            patient and the feature).
        """
        check_is_fitted(self, "columns_")
        result = workflow.extract_for(
            self._settings(), cohort, reader=1, preset=self.stored_preset(), progress=self.progress
        )
        return self.harmonised(self.select(result.features, list(cohort.table.index)), cohort.table)

    def harmonised(self, features: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
        """``features`` with the training-fitted ComBat applied by the ``centre`` of ``table`` (unchanged when
        the stage does not harmonise; studies saved before harmonisation existed have no ``combat_``)."""
        combat = getattr(self, "combat_", None)
        if combat is None:
            return features
        return combat.transform(features, centres_of(table, features.index))

    def select(self, features: pd.DataFrame, patients: Sequence[str]) -> pd.DataFrame:
        """``columns_`` of an extracted feature table for ``patients``, checked present and finite."""
        missing = [c for c in self.columns_ if c not in features.columns]
        if missing:
            raise ValueError(
                f"the extraction with preset {self.preset_name_!r} lacks the study's radiomics features "
                f"{missing[:10]} ({len(missing)} in all)"
            )
        absent = [p for p in patients if p not in features.index]
        if absent:
            raise ValueError(f"no radiomics features for patients {absent[:10]}")
        table = features.loc[list(patients), self.columns_].astype(float)
        values = table.to_numpy()
        if not np.isfinite(values).all():
            row, col = np.argwhere(~np.isfinite(values))[0]
            raise ValueError(
                f"patient {table.index[row]}: radiomics feature {table.columns[col]!r} is missing or infinite"
            )
        table.index.name = "patient"
        return table

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "columns_")
        return np.asarray(self.columns_, dtype=object)

    def describe(self) -> dict[str, Any]:
        """The manifest entry: preset name and sha256, pyradiomics version, number of candidate features,
        the reproducibility method (studies saved before it existed used the readers')."""
        check_is_fitted(self, "columns_")
        robustness = getattr(self, "robustness_", None) or {"method": "readers", "label": LABELS["readers"]}
        return {
            "preset": self.preset_name_,
            "preset_sha256": self.preset_sha256_,
            "pyradiomics": self.pyradiomics_version_,
            "n_candidate_features": len(self.columns_),
            "robustness": {k: robustness[k] for k in ("method", "label", "reason") if k in robustness},
        } | ({"harmonisation": self.combat_.describe()} if getattr(self, "combat_", None) is not None else {})
