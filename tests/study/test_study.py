"""splkit.study: a fitted study gathered from a run, saved as one folder, loaded back, applied to any cohort.

The fast tests fit the real stages (pyradiomics, EfficientNet-Lite0 at 64 px, PCA, the clinical logistic
model, the SVMs of :func:`splkit.models.fit_models`) on a small synthetic cohort of PNG images, write the
run directory the notebooks would leave, and check that the study reproduces the run's validation scores.
The slow test does the same on the whole smoke book.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import shutil
import warnings

import numpy as np
import pandas as pd
import pytest
import yaml
from deep._synthetic import DEEP, SyntheticCohort
from sklearn.exceptions import NotFittedError
from sklearn.feature_selection import SelectKBest, f_classif
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from splkit import models
from splkit.book.format import fmt_ci
from splkit.clinical.stage import ClinicalStage, MissingPredictorError
from splkit.config import load_profile
from splkit.deep.backbones import BackboneSpec, WeightsUnavailableError
from splkit.deep.gradcam import DTLClassifier, fit_gradcam_head, save_gradcam_model
from splkit.deep.stage import DeepStage, WeightsMismatchError, locate_weights
from splkit.models import evaluation as ev
from splkit.radiomics.stage import RadiomicsStage
from splkit.run import predictions
from splkit.run.report import record
from splkit.run.rundir import RunDir
from splkit.study import Study, StudyFormatError, StudyVersionWarning, save_study
from splkit.study.card import SECTIONS
from splkit.study.ood import SPACING, VOXELS

N = 48
DEEP_SETTINGS = {**DEEP, "image_size": 64, "n_components": 4}
TYPES = {"age": "numeric", "sex": "binary", "cyfra": "numeric"}
LEVELS = {"sex": ["female", "male"]}
MODELS = ["Clinical", "Clinical-SVM", "Rad", "DTL", "DLR", "CDLR"]


def synthetic_cohort(folder, n: int = N) -> SyntheticCohort:
    """PNG images and masks (both readers) with spacing and three clinical variables."""
    cohort = SyntheticCohort(folder, n=n, shape=(80, 96), seed=1)
    rng = np.random.default_rng(2)
    label = cohort.table["label"].to_numpy()
    cohort.table["age"] = np.round(55 + 8 * label + rng.normal(0, 6, n))
    cohort.table.iloc[[1, n - 2], cohort.table.columns.get_loc("age")] = np.nan
    cohort.table["sex"] = np.where(rng.random(n) < 0.3 + 0.4 * label, "male", "female")
    cohort.table["cyfra"] = np.round(np.exp(rng.normal(1 + 0.8 * label, 0.4)), 2)
    cohort.spacing = {p: 0.2 for p in cohort.table.index}
    cohort.masks_reader2 = dict(cohort.masks)
    return cohort


def kbest_selector(settings, source):
    return Pipeline([("z", StandardScaler()), ("kbest", SelectKBest(f_classif, k=2))])


def write_run(run, cohort, rad: RadiomicsStage, deep: DeepStage, clinical: ClinicalStage, settings):
    """The run directory notebooks 01–05 leave, from the fitted stages."""
    folder = RunDir(run)
    table = cohort.table
    (folder.root / "features").mkdir(parents=True, exist_ok=True)
    table.reset_index()[["patient", "cohort", "label", *TYPES]].to_csv(folder.cohort_csv, index=False)
    table.reset_index()[["patient", "cohort"]].to_csv(folder.split_csv, index=False)
    diagnostics = {
        VOXELS: [float(np.count_nonzero(cohort.read_mask(p))) for p in table.index],
        SPACING: ["(0.2, 0.2)"] * len(table),
    }
    pd.DataFrame(diagnostics, index=table.index).to_parquet(folder.radiomics)
    pd.DataFrame(
        {
            "variable": list(TYPES),
            "type": list(TYPES.values()),
            "unit": ["years", "", "ng/mL"],
            "allowed": ["", "female; male", ""],
            "levels": ["", "female; male", ""],
            "description": list(TYPES),
        }
    ).to_csv(folder.variables_csv, index=False)
    candidates = rad.transform(cohort)
    candidates.to_parquet(folder.rad_candidates)
    dtl = deep.transform(cohort)
    dtl.to_parquet(folder.dtl_candidates)
    train_patients = table.index[table["cohort"] == "train"]
    head = fit_gradcam_head(
        dtl, table["label"], train_patients, ["DTL_001", "DTL_002"], cv_folds=3, random_state=0
    )
    save_gradcam_model(folder.root, BackboneSpec.from_dict(deep.spec_), deep.compressor_, head, DEEP_SETTINGS)
    folder.settings_yaml.write_text(yaml.safe_dump(settings.to_dict(), sort_keys=False))
    models.save_model(
        folder, "dtl_pca", {"pca": deep.compressor_, "backbone": deep.spec_, "deep": DEEP_SETTINGS}
    )
    clinical_settings = {"types": TYPES, "levels": LEVELS, "univariate_p": 0.5, "multivariable_p": 0.5}
    models.save_model(
        folder,
        "Clinical",
        {"estimator": clinical.pipeline_, "features": clinical.predictors_, "settings": clinical_settings},
    )
    train = table["cohort"] == "train"
    spread = candidates[train].std()
    informative = (candidates[train].groupby(table.loc[train, "label"]).mean().diff().iloc[-1] / spread).abs()
    results = {
        "cohort": {"data_sha256": "ab" * 32, "n_train": int(train.sum()), "spacing_source": "test"},
        "clinical": {"predictors": clinical.predictors_},
        "radiomics": {
            "preset": rad.preset_name_,
            "preset_sha256": rad.preset_sha256_,
            "selected": list(informative.dropna().sort_values().index[-3:]),
        },
        "deep": {"selected": ["DTL_001", "DTL_002"], "weights_sha256": deep.spec_["weights_sha256"]},
    }
    folder.results_json.write_text(json.dumps(results))
    scores = clinical.predict_proba(cohort)[:, 1]
    clinical_rows = table[["cohort", "label"]].assign(model="Clinical", score=scores).reset_index()
    predictions.save(folder, clinical_rows)
    with np.errstate(divide="ignore", invalid="ignore"):  # F tests of features constant within a class
        models.fit_models(settings, folder, selector_factory=kbest_selector, n_jobs=1, progress=False)
    scored = predictions.load(folder)
    record(folder, "models.thresholds_train_youden", ev.youden_thresholds(scored, "train"))
    for model, rows in scored[scored["cohort"] == "validation"].groupby("model"):  # for the model card
        auc = float(roc_auc_score(rows["label"], rows["score"]))
        entry = {"auc": auc, "auc_delong_low": auc - 0.1, "auc_delong_high": min(auc + 0.1, 1.0)}
        record(
            folder,
            f"models.{model}.validation",
            {**entry, "n": len(rows), "n_positive": int(rows.label.sum())},
        )
    return folder.root


@pytest.fixture(scope="module")
def fitted_run(tmp_path_factory):
    """``(run_path, cohort)``: the stages fitted on a synthetic cohort and the run directory they leave."""
    tmp = tmp_path_factory.mktemp("study")
    cohort = synthetic_cohort(tmp / "cohort")
    run = tmp / "run"
    settings = load_profile(
        "smoke",
        overrides={
            "models": {"cv_folds": 3, "svm_C": [1.0], "svm_gamma": ["scale"]},
            "deep": {k: DEEP_SETTINGS[k] for k in ("image_size", "n_components", "batch_size")},
            "radiomics": {"cache_dir": str(tmp / "radiomics-cache")},
            "n_jobs": 1,
        },
        run_dir=run,
    )
    rad = RadiomicsStage.from_settings(settings).fit(cohort)
    deep = DeepStage(DEEP_SETTINGS, seed=0, cache_dir=str(tmp / "deep-cache")).fit(cohort)
    clinical = ClinicalStage(TYPES, LEVELS, univariate_p=0.5, multivariable_p=0.5).fit(cohort)
    return write_run(run, cohort, rad, deep, clinical, settings), cohort


def unlabelled(cohort, cohort_name: str = "validation"):
    """The patients of one cohort, as new patients: no label, no cohort column."""
    new = copy.copy(cohort)
    table = cohort.table[cohort.table["cohort"] == cohort_name]
    new.table = table.drop(columns=["label", "cohort"])
    return new


def validation_scores(run) -> pd.DataFrame:
    table = predictions.load(run)
    return table[table["cohort"] == "validation"].pivot(index="patient", columns="model", values="score")


@pytest.fixture(scope="module")
def study(fitted_run):
    run, _ = fitted_run
    gathered = Study.from_run(run)
    gathered.deep.cache_dir = str(run.parent / "deep-cache")  # the test's embedding cache, not .cache/deep
    return gathered


def test_study_reproduces_the_runs_validation_scores_for_new_patients_without_labels(fitted_run, study):
    run, cohort = fitted_run
    proba = study.predict_proba(unlabelled(cohort))
    assert list(proba.columns) == MODELS and proba.index.name == "patient"
    expected = validation_scores(run).loc[proba.index, MODELS]
    np.testing.assert_allclose(proba.to_numpy(), expected.to_numpy(), rtol=0, atol=1e-12)
    decisions = study.predict(unlabelled(cohort))
    thresholds = pd.Series(study.thresholds)[MODELS]
    pd.testing.assert_frame_equal(decisions, (proba >= thresholds).astype(int))
    assert set(np.unique(decisions.to_numpy())) <= {0, 1}


def test_only_the_stages_a_model_needs_are_computed(fitted_run, study, monkeypatch):
    _, cohort = fitted_run
    monkeypatch.setattr(study.deep, "transform", lambda c: pytest.fail("deep features not needed"))
    proba = study.predict_proba(unlabelled(cohort), models=["Clinical", "Rad", "Clinical-SVM"])
    assert list(proba.columns) == ["Clinical", "Rad", "Clinical-SVM"]
    with pytest.raises(KeyError, match="no models"):
        study.predict_proba(unlabelled(cohort), models=["Nope"])


def test_save_load_round_trip_and_manifest(fitted_run, study, tmp_path):
    run, cohort = fitted_run
    folder = study.save(tmp_path / "study")
    with warnings.catch_warnings():
        warnings.simplefilter("error", StudyVersionWarning)
        loaded = Study.load(folder)
    new = unlabelled(cohort)
    pd.testing.assert_frame_equal(loaded.predict_proba(new), study.predict_proba(new))
    manifest = json.loads((folder / "manifest.json").read_text())
    stages = {"radiomics.joblib", "deep.joblib", "clinical.joblib", "models.joblib"}
    assert set(manifest["files"]) == {*stages, "explain.joblib", "ood.joblib"}
    versions = manifest["versions"]
    for library in ("splkit", "python", "numpy", "scipy", "pandas", "scikit-learn", "pyradiomics", "torch"):
        assert versions[library], library
    assert {"torchvision", "SimpleITK"} <= set(versions)
    assert manifest["radiomics"]["preset"] == "ultrasound2d"
    assert manifest["radiomics"]["preset_sha256"] == study.radiomics.preset_sha256_
    assert manifest["deep"]["backbone"] == "efficientnet_lite0"
    assert manifest["deep"]["weights_file"] == study.deep.spec_["weights_file"]
    assert len(manifest["deep"]["weights_sha256"]) == 64
    assert manifest["training"]["data_sha256"] == "ab" * 32
    assert manifest["models"] == MODELS
    assert manifest["thresholds"] == pytest.approx(study.thresholds) and set(manifest["thresholds"]) == set(
        MODELS
    )
    assert manifest["settings"]["models"]["cv_folds"] == 3 and manifest["created"]
    assert manifest["clinical"]["predictors"] == study.clinical.predictors_


def test_the_pseudonymisation_salt_never_reaches_the_study(study, tmp_path):
    settings = {**study.settings, "data": {**study.settings["data"], "salt": "s3cret-salt"}}
    parts = {k: getattr(study, k) for k in ("radiomics", "deep", "clinical", "models")}
    folder = Study(**parts, settings=settings).save(tmp_path / "study")
    assert not [p.name for p in folder.iterdir() if b"s3cret-salt" in p.read_bytes()]
    assert json.loads((folder / "manifest.json").read_text())["settings"]["data"]["salt"] == "<redacted>"


def test_save_study_writes_the_run_study_folder(fitted_run):
    run, _ = fitted_run
    folder = save_study(run)
    assert folder == RunDir(run).study and (folder / "manifest.json").is_file()


def test_load_warns_naming_each_library_whose_version_differs(study, tmp_path):
    folder = study.save(tmp_path / "study")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["versions"]["numpy"] = "0.0.1"
    manifest["versions"]["scikit-learn"] = "0.1"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.warns(UserWarning) as caught:
        Study.load(folder)
    messages = [str(w.message) for w in caught if issubclass(w.category, StudyVersionWarning)]
    assert len(messages) == 2
    assert any("numpy 0.0.1" in m for m in messages) and any("scikit-learn 0.1" in m for m in messages)


def test_a_changed_study_file_or_folder_without_manifest_is_refused(study, tmp_path):
    folder = study.save(tmp_path / "study")
    with open(folder / "models.joblib", "ab") as handle:
        handle.write(b"x")
    with pytest.raises(StudyFormatError, match="models.joblib changed"):
        Study.load(folder)
    with pytest.raises(StudyFormatError, match="no manifest.json"):
        Study.load(tmp_path)


def test_a_missing_clinical_predictor_is_an_error_naming_it(fitted_run, study):
    _, cohort = fitted_run
    new = unlabelled(cohort)
    dropped = study.clinical.predictors_[0]
    new.table = new.table.drop(columns=[dropped])
    with pytest.raises(MissingPredictorError, match=f"'{dropped}'"):
        study.predict_proba(new)


def test_a_missing_radiomics_column_is_an_error_naming_it(fitted_run, study):
    _, cohort = fitted_run
    stage = copy.deepcopy(study.radiomics)
    stage.columns_ = [*stage.columns_, "original_firstorder_NotAFeature"]
    with pytest.raises(ValueError, match="original_firstorder_NotAFeature"):
        stage.transform(unlabelled(cohort))


def test_a_changed_preset_is_refused_when_gathering_the_run(fitted_run, tmp_path):
    run, _ = fitted_run
    other = tmp_path / "run"
    shutil.copytree(run, other)
    results = json.loads((other / "results.json").read_text())
    results["radiomics"]["preset_sha256"] = "0" * 64
    (other / "results.json").write_text(json.dumps(results))
    with pytest.raises(ValueError, match="preset 'ultrasound2d' now has sha256"):
        Study.from_run(other)


def test_wrong_or_missing_weights_are_errors_naming_the_expected_file_and_sha256(study, tmp_path):
    spec = dict(study.deep.spec_)
    copy_path = tmp_path / spec["weights_file"]
    shutil.copyfile(locate_weights(spec).weights_path, copy_path)
    stage = copy.deepcopy(study.deep)
    stage.spec_ = {**spec, "weights_path": str(copy_path)}
    assert stage.check_weights().weights_path == str(copy_path)
    parts = {k: getattr(study, k) for k in ("radiomics", "clinical", "models")}
    folder = Study(deep=stage, **parts, settings=study.settings).save(tmp_path / "study")
    with open(copy_path, "ab") as handle:
        handle.write(b"other weights")
    expected = rf"{spec['weights_file']} \(sha256 {spec['weights_sha256']}\)"
    with pytest.raises(WeightsMismatchError, match=expected):
        Study.load(folder)
    missing = {**spec, "weights_file": "resnet-like-0000.pth", "weights_path": str(tmp_path / "gone.pth")}
    with pytest.raises(
        WeightsUnavailableError, match=rf"resnet-like-0000.pth \(sha256 {spec['weights_sha256']}\)"
    ):
        locate_weights(missing)


def test_stages_follow_the_scikit_learn_contract(fitted_run):
    _, cohort = fitted_run
    for stage in (RadiomicsStage(), DeepStage(DEEP_SETTINGS), ClinicalStage(TYPES, LEVELS)):
        with pytest.raises(NotFittedError):
            stage.transform(cohort)
        assert stage.get_params()  # constructor parameters only; fitted state ends in "_"
    stage = RadiomicsStage(icc_threshold=0.9)
    assert RadiomicsStage(**stage.get_params()).get_params() == stage.get_params()


@pytest.mark.slow
def test_saved_study_of_the_smoke_book_reproduces_predictions_csv(smoke_run):
    """Notebook 05 saves ``<run>/study``; loaded, it scores the validation cohort as predictions.csv does."""
    from splkit.cohort import load_cohort_for

    run_dir, _ = smoke_run
    folder = RunDir(run_dir).study
    assert (folder / "manifest.json").is_file(), (
        "notebook 05 did not save the study (splkit.study.save_study)"
    )
    study = Study.load(folder)
    cohort = load_cohort_for(load_profile("smoke", run_dir=run_dir))
    validation = dataclasses.replace(cohort, table=cohort.validation)
    proba = study.predict_proba(validation)
    expected = validation_scores(run_dir).loc[proba.index]
    assert set(proba.columns) == set(expected.columns)
    for model in proba.columns:
        np.testing.assert_allclose(proba[model], expected[model], rtol=0, atol=1e-12, err_msg=model)
    ids = list(cohort.pseudonym_key())
    for path in folder.iterdir():
        content = path.read_bytes()
        assert not [i for i in ids if i.encode() in content], f"an input patient id in {path.name}"


def test_the_study_explains_its_cdlr_as_chapter_6_does(fitted_run, study, tmp_path):
    """The SHAP background is chapter 6's sample of training design rows; the design of new patients
    reproduces the study's CDLR probability; the Grad-CAM model and the training range travel with the study."""
    run, cohort = fitted_run
    explainer = study.explainer
    assert explainer.model_ == "CDLR"
    X, _, split = models.model_inputs(run, "CDLR")
    n = min(study.settings["explain"]["shap_background"], int((split == "train").sum()))
    expected = X[split == "train"].sample(n=n, random_state=study.settings["seed"])
    pd.testing.assert_frame_equal(explainer.background_, expected)
    assert list(explainer.background_.columns) == models.load_model(run, "CDLR")["features"]
    new = unlabelled(cohort)
    design = explainer.design(study.models, study.features(new))
    direct = explainer.estimator(study.models).predict_proba(design)[:, 1]
    np.testing.assert_allclose(direct, study.predict_proba(new, ["CDLR"])["CDLR"], rtol=0, atol=1e-12)
    assert isinstance(explainer.gradcam_model(study.deep), DTLClassifier)
    folder = study.save(tmp_path / "study")
    loaded = Study.load(folder)
    pd.testing.assert_frame_equal(loaded.explainer.background_, explainer.background_)
    assert loaded.training_range.n_train == int((cohort.table["cohort"] == "train").sum())
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["explain"]["shap_model"] == "CDLR" and manifest["explain"]["gradcam"] == "PCA surrogate"
    assert manifest["explain"]["shap_background"] == n


def test_save_writes_the_model_card_with_the_runs_validation_auc(fitted_run, study, tmp_path):
    run, _ = fitted_run
    folder = study.save(tmp_path / "study")
    card = (folder / "model_card.md").read_text()
    for section in SECTIONS:
        assert f"## {section}" in card, section
    validation = json.loads(RunDir(run).results_json.read_text())["models"]["CDLR"]["validation"]
    assert fmt_ci(validation, "auc", "auc_delong_low", "auc_delong_high") in card
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["files"]["models.joblib"] in card and "model_card.md" not in manifest["files"]
    assert "BMJ 2024;385:e078378" in card


#: The models of a study without a clinical arm (an imaging-only cohort).
IMAGING_MODELS = ["Rad", "DTL", "DLR"]


def imaging_only_copy(run, folder):
    """A copy of ``run`` as an imaging-only cohort leaves it: no clinical variables (``variables.csv``
    without rows), no Clinical / Clinical-SVM / CDLR model, and no predictions of them."""
    shutil.copytree(run, folder)
    copied = RunDir(folder)
    for model in ("Clinical", "Clinical-SVM", "CDLR"):
        copied.model(model).unlink(missing_ok=True)
    header = copied.variables_csv.read_text().splitlines()[0]
    copied.variables_csv.write_text(header + "\n")
    table = predictions.load(folder)
    table[table["model"].isin(IMAGING_MODELS)].to_csv(copied.predictions_csv, index=False)
    return copied.root


def test_a_study_without_a_clinical_arm_saves_loads_and_predicts(fitted_run, tmp_path):
    from splkit.models.available import NO_CLINICAL

    run, cohort = fitted_run
    imaging = imaging_only_copy(run, tmp_path / "run")
    study = Study.from_run(imaging)
    study.deep.cache_dir = str(run.parent / "deep-cache")
    assert study.clinical is None and study.model_names == IMAGING_MODELS
    assert set(study.thresholds) == set(IMAGING_MODELS)
    assert study.explainer.model_ == "DLR"  # SHAP of the DLR when there is no CDLR
    new = unlabelled(cohort)
    assert not [c for c in study.features(new).columns if c in TYPES]
    proba = study.predict_proba(new)
    assert list(proba.columns) == IMAGING_MODELS
    expected = validation_scores(imaging).loc[proba.index, IMAGING_MODELS]
    np.testing.assert_allclose(proba.to_numpy(), expected.to_numpy(), rtol=0, atol=1e-12)
    with pytest.raises(KeyError, match="no models"):
        study.predict_proba(new, models=["Clinical"])

    folder = study.save(tmp_path / "study")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["clinical"] is None and manifest["models"] == IMAGING_MODELS
    assert manifest["absent"] == {"Clinical": NO_CLINICAL, "Clinical-SVM": NO_CLINICAL, "CDLR": NO_CLINICAL}
    assert "clinical.joblib" not in manifest["files"] and manifest["explain"]["shap_model"] == "DLR"
    card = (folder / "model_card.md").read_text()
    assert "Absent models: Clinical (no clinical variables)" in card
    assert "| Clinical |" not in card and "| CDLR |" not in card
    loaded = Study.load(folder)
    assert loaded.clinical is None and loaded.absent == manifest["absent"]
    pd.testing.assert_frame_equal(loaded.predict_proba(new), proba)
    decisions = loaded.predict(new)
    pd.testing.assert_frame_equal(
        decisions, (proba >= pd.Series(study.thresholds)[IMAGING_MODELS]).astype(int)
    )
    design = loaded.explainer.design(loaded.models, loaded.features(new))
    direct = loaded.explainer.estimator(loaded.models).predict_proba(design)[:, 1]
    np.testing.assert_allclose(direct, proba["DLR"], rtol=0, atol=1e-12)
