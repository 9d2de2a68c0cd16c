"""The fitted study: every stage fitted on the training cohort, held as one object, saved as one folder.

A :class:`Study` gathers what the notebooks fitted — the radiomics preset and candidate features
(chapter 3), the backbone, weights and PCA (chapter 4), the clinical model (chapter 2) and the SVM
models with their training thresholds (chapter 5) — and applies them to any cohort: training,
validation, external, or new patients without labels.  Its scores are those of ``predictions.csv``
(validation rows to floating-point identity), because each stage runs the same code on the same
fitted objects.  ::

    study = Study.from_run(settings)          # or a run directory
    study.save()                              # <run>/study/: joblib files + manifest.json
    study = Study.load("runs/default/study")  # warns when library versions differ
    cohort = study.load_cohort("data/other-centre")
    study.predict_proba(cohort)               # one column per model, index = patient (pseudonyms)
    study.predict(cohort)                     # 0/1 at the training-fixed thresholds

The study also holds what explains a patient (the Grad-CAM model of chapter 4 and the SHAP background
of chapter 6, :class:`~splkit.study.explain.StudyExplainer`, used by :mod:`splkit.study.report`) and the
run's headline results, from which :meth:`Study.save` writes ``model_card.md``
(:func:`splkit.study.card.model_card`).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import joblib
import pandas as pd

from splkit.clinical.stage import ClinicalStage
from splkit.config import Settings, load_profile, resolve_path
from splkit.deep.stage import DeepStage
from splkit.models.available import absent_models, has_clinical_arm
from splkit.radiomics.stage import RadiomicsStage
from splkit.run.cache import atomic_dump, atomic_write_text
from splkit.run.names import model_order
from splkit.run.report import load_results, lookup
from splkit.run.rundir import RunDir
from splkit.study import manifest as manifests
from splkit.study.explain import StudyExplainer
from splkit.study.models import StudyModels
from splkit.study.ood import OOD_FILE, TrainingRange

if TYPE_CHECKING:
    from splkit.cohort import Cohort

#: The clinical logistic model of chapter 2 (held by the clinical stage).
CLINICAL = "Clinical"
#: The stages of a study, in the order :meth:`Study.features` applies them (cheap checks first).
STAGES = ("clinical", "radiomics", "deep", "models")
#: The stage a study of an imaging-only cohort lacks (``study.clinical is None``; ``clinical: null`` in
#: the manifest, which names the absent models and why under ``absent``).
OPTIONAL_STAGES = ("clinical",)
#: The file of the Grad-CAM model and SHAP background (optional: studies saved before it lack it).
EXPLAINER = "explain"
#: The model card written beside the manifest (documentation: not among the manifest's checked files).
MODEL_CARD = "model_card.md"
#: The ``results.json`` sections a study keeps (in its manifest) for its model card.
RESULT_SECTIONS = ("cohort", "clinical", "radiomics", "deep", "models")


def redacted(settings: dict[str, Any]) -> dict[str, Any]:
    """``settings`` without the pseudonymisation salt (``data.salt``): with it, pseudonyms could be
    linked back to input ids by trying candidate ids; a study is meant to travel."""
    data = settings.get("data")
    if isinstance(data, Mapping) and data.get("salt"):
        settings = {**settings, "data": {**data, "salt": "<redacted>"}}
    return settings


def run_settings(run: str | Path | Settings) -> Settings:
    """The settings of a run: a :class:`Settings` as given, else the run directory's ``settings.yaml``."""
    if isinstance(run, Settings):
        return run
    folder = RunDir(resolve_path(run))
    if not folder.settings_yaml.is_file():
        raise FileNotFoundError(f"{folder.settings_yaml} is missing: {folder.root} is not a run directory")
    return load_profile(folder.settings_yaml, run_dir=folder.root)


class Study:
    """The fitted study (see the module docstring).

    Parameters
    ----------
    radiomics, deep, clinical
        The fitted stages (:class:`~splkit.radiomics.stage.RadiomicsStage`,
        :class:`~splkit.deep.stage.DeepStage`, :class:`~splkit.clinical.stage.ClinicalStage`);
        ``clinical`` is ``None`` for a cohort without clinical variables (no clinical arm: no Clinical,
        Clinical-SVM or CDLR model; :mod:`splkit.models.available`).
    models
        The fitted SVM models and the training thresholds (:class:`~splkit.study.models.StudyModels`).
    settings
        The resolved profile the study was fitted with.
    training
        What identifies the training cohort: ``data_sha256``, ``n_train``, ``positive_label``.
    manifest
        The manifest it was loaded with (empty for a study not saved yet).
    explainer
        The Grad-CAM model and SHAP background (:class:`~splkit.study.explain.StudyExplainer`), or ``None``.
    results
        The run's ``results.json`` sections :data:`RESULT_SECTIONS` (validation performance for the card).
    training_range
        The training cohort's range of every model input (:class:`~splkit.study.ood.TrainingRange`,
        saved as ``ood.joblib``), or ``None``.
    absent
        ``{model: why}`` for the models the study cannot have (the clinical arm's without clinical
        variables); recorded in the manifest.
    """

    def __init__(
        self,
        radiomics: RadiomicsStage,
        deep: DeepStage,
        clinical: ClinicalStage | None,
        models: StudyModels,
        settings: Mapping[str, Any],
        training: Mapping[str, Any] | None = None,
        manifest: Mapping[str, Any] | None = None,
        explainer: StudyExplainer | None = None,
        results: Mapping[str, Any] | None = None,
        training_range: TrainingRange | None = None,
        absent: Mapping[str, str] | None = None,
    ):
        self.radiomics = radiomics
        self.deep = deep
        self.clinical = clinical
        self.models = models
        self.settings = redacted(settings.to_dict() if isinstance(settings, Settings) else dict(settings))
        self.training = dict(training or {})
        self.manifest = dict(manifest or {})
        self.explainer = explainer
        self.results = dict(results or {})
        self.training_range = training_range
        self.absent = dict(absent or {})

    def __repr__(self) -> str:
        return f"<Study: models {', '.join(self.model_names)}>"

    # ------------------------------------------------------------------ assembling
    @classmethod
    def from_run(cls, run: str | Path | Settings) -> Study:
        """Gather the stages the notebooks fitted in a run directory (or the run of ``settings``)."""
        settings = run_settings(run)
        folder = RunDir(settings.run_path)
        results = load_results(folder)
        training = {
            "data_sha256": lookup(results, "cohort.data_sha256"),
            "n_train": lookup(results, "cohort.n_train"),
            "positive_label": settings["data"].get("positive_label", "malignant"),
            "spacing_source": lookup(results, "cohort.spacing_source"),
        }
        models = StudyModels.from_run(folder, settings)
        clinical_arm = has_clinical_arm(folder)
        study = cls(
            radiomics=RadiomicsStage.from_run(folder, settings),
            deep=DeepStage.from_run(folder, settings),
            clinical=ClinicalStage.from_run(folder, settings) if clinical_arm else None,
            models=models,
            settings=settings,
            training=training,
            explainer=StudyExplainer.from_run(folder, settings, models.names),
            results={k: results[k] for k in RESULT_SECTIONS if k in results},
            training_range=_training_range(folder),
            absent=absent_models(folder),
        )
        return study

    @property
    def model_names(self) -> list[str]:
        """Every model of the study, in the book's reading order."""
        clinical = [CLINICAL] if self.clinical is not None else []
        return model_order([*clinical, *self.models.names])

    @property
    def thresholds(self) -> dict[str, float]:
        """The training cohort's Youden threshold of each model."""
        return {m: self.models.thresholds_[m] for m in self.model_names if m in self.models.thresholds_}

    # ------------------------------------------------------------------ saving and loading
    def describe(self) -> dict[str, Any]:
        """The manifest's content (without the file hashes, added by :meth:`save`)."""
        return {
            "format": manifests.FORMAT,
            "format_version": manifests.FORMAT_VERSION,
            "created": manifests.now(),
            "versions": manifests.library_versions(),
            "radiomics": self.radiomics.describe(),
            "deep": self.deep.describe(),
            "clinical": self.clinical.describe() if self.clinical is not None else None,
            "training": self.training,
            "models": self.model_names,
            "absent": self.absent,
            "thresholds": self.thresholds,
            "threshold_rule": "Youden index of the training cohort's out-of-fold scores; positive when "
            "score >= threshold",
            "best_params": self.models.best_params_,
            "explain": self.explainer.describe() if self.explainer is not None else None,
            "results": self.results,
            "settings": self.settings,
        }

    def save(self, folder: str | Path | None = None) -> Path:
        """Write the study into ``folder`` (default: ``<run>/study``): one joblib file per stage (and
        ``explain.joblib``), ``model_card.md``, then ``manifest.json`` with the files' sha256 (each write
        atomic; the manifest last)."""
        from splkit.study.card import model_card

        if folder is None:
            folder = RunDir(resolve_path(self.settings["run_dir"])).study
        folder = Path(folder)
        parts = {stage: getattr(self, stage) for stage in STAGES if getattr(self, stage) is not None}
        if self.explainer is not None:
            parts[EXPLAINER] = self.explainer
        files = []
        for name, part in parts.items():
            atomic_dump(part, folder / f"{name}.joblib")
            files.append(f"{name}.joblib")
        if self.training_range is not None:
            files.append(self.training_range.save(folder).name)
        self.manifest = {**self.describe(), "files": manifests.file_hashes(folder, files)}
        atomic_write_text(folder / MODEL_CARD, model_card(self, self.results))
        manifests.write_manifest(folder, self.manifest, files)
        return folder

    @classmethod
    def load(cls, folder: str | Path, check_weights: bool = True) -> Study:
        """Read a saved study; warn (``UserWarning``) naming each library whose version differs.

        The stage files are pickles (joblib): load only studies from a source you trust.  Their sha256
        must match ``manifest.json``.

        Parameters
        ----------
        folder
            A folder written by :meth:`save`.
        check_weights
            Locate the backbone's weights file now and check its sha256 (an error names the expected
            file and sha256), instead of at the first :meth:`features` call.
        """
        folder = Path(folder)
        manifest = manifests.read_manifest(folder)
        manifests.check_versions(manifest.get("versions", {}))
        stages = {
            stage: None
            if stage in OPTIONAL_STAGES and manifest.get(stage, {}) is None
            else joblib.load(folder / f"{stage}.joblib")
            for stage in STAGES
        }
        explainer = f"{EXPLAINER}.joblib"
        study = cls(
            **stages,
            settings=manifest["settings"],
            training=manifest.get("training"),
            manifest=manifest,
            explainer=joblib.load(folder / explainer) if explainer in manifest.get("files", {}) else None,
            results=manifest.get("results"),
            training_range=TrainingRange.load(folder) if OOD_FILE in manifest.get("files", {}) else None,
            absent=manifest.get("absent"),
        )
        if check_weights:
            study.deep.check_weights()
        return study

    # ------------------------------------------------------------------ applying
    def load_cohort(self, path: str | Path, **kwargs: Any) -> Cohort:
        """:func:`splkit.cohort.load_cohort` with the study's data rules (positive label, default spacing,
        the radiomics preset's lesion constraints), every image decoded (``full``).

        Other arguments (``salt``, ``validation_fraction``, …) pass through.
        """
        from splkit.cohort import load_cohort

        data = self.settings.get("data", {})
        kwargs.setdefault("positive_label", data.get("positive_label", "malignant"))
        kwargs.setdefault("default_spacing_mm", data.get("default_spacing_mm"))
        kwargs.setdefault("preset", self.radiomics.stored_preset() if self.radiomics is not None else None)
        kwargs.setdefault("full", True)
        return load_cohort(path, **kwargs)

    def _stages_for(self, models: Sequence[str]) -> list[str]:
        """The feature stages the given models read."""
        wanted = {c for m in models if m != CLINICAL for c in self.models.inputs_[m]}
        needed = ["clinical"] if CLINICAL in models else []
        for name in ("clinical", "radiomics", "deep"):
            stage = getattr(self, name)
            if stage is None:
                continue
            if name not in needed and wanted & set(stage.get_feature_names_out()):
                needed.append(name)
        return needed

    def features(
        self, cohort: Any, stages: Sequence[str] = ("clinical", "radiomics", "deep")
    ) -> pd.DataFrame:
        """The study's features of every patient of ``cohort``: radiomics candidates, DTL features and raw
        clinical predictors (index ``patient``).

        The clinical predictors and the backbone's weights are checked before any image is read.  A
        study without a clinical arm (``clinical is None``) has no clinical predictors.
        """
        with_clinical = "clinical" in stages and self.clinical is not None
        parts = {"clinical": self.clinical.transform(cohort)} if with_clinical else {}
        if "deep" in stages:
            self.deep.check_weights()
        for name in ("radiomics", "deep"):
            if name in stages:
                parts[name] = getattr(self, name).transform(cohort)
        ordered = [parts[name] for name in ("radiomics", "deep", "clinical") if name in parts]
        frame = pd.concat(ordered, axis=1) if ordered else pd.DataFrame(index=cohort.table.index)
        shared = frame.columns[frame.columns.duplicated()].tolist()
        if shared:
            raise ValueError(f"feature names shared between stages: {shared[:10]}")
        frame.index.name = "patient"
        return frame

    def _models(self, models: Sequence[str] | None) -> list[str]:
        names = self.model_names if models is None else list(models)
        unknown = [m for m in names if m not in self.model_names]
        if unknown:
            raise KeyError(f"the study has no models {unknown}; it has {self.model_names}")
        return names

    def predict_proba(self, cohort: Any, models: Sequence[str] | None = None) -> pd.DataFrame:
        """Each model's probability of the positive class: one row per patient, one column per model.

        Works for cohorts without labels; only the stages the requested ``models`` need are computed.
        """
        names = self._models(models)
        X = self.features(cohort, self._stages_for(names))
        out = pd.DataFrame(index=X.index)
        for name in names:
            if name == CLINICAL:
                out[name] = self.clinical.predict_proba(X[self.clinical.predictors_])[:, 1].clip(0.0, 1.0)
            else:
                out[name] = self.models.score(name, X)
        out.columns.name = "model"
        return out

    def predict(self, cohort: Any, models: Sequence[str] | None = None) -> pd.DataFrame:
        """0/1 per model at the training cohort's Youden threshold (1 when ``score >= threshold``)."""
        proba = self.predict_proba(cohort, models)
        missing = [m for m in proba.columns if m not in self.models.thresholds_]
        if missing:
            raise ValueError(f"the study has no training threshold for {missing} (notebook 05 records them)")
        return (proba >= pd.Series(self.models.thresholds_)[proba.columns]).astype(int)


def _training_range(run: RunDir) -> TrainingRange | None:
    """The run's training range, or ``None`` (warning) when a file it needs is missing."""
    try:
        return TrainingRange.from_run(run)
    except FileNotFoundError as error:
        warnings.warn(
            f"the study has no training range (no out-of-distribution flags): {error}", stacklevel=3
        )
        return None


def save_study(settings: Settings | str | Path) -> Path:
    """Gather the run's fitted stages (:meth:`Study.from_run`) and save them into ``<run>/study``."""
    settings = run_settings(settings)
    return Study.from_run(settings).save(RunDir(settings.run_path).study)
