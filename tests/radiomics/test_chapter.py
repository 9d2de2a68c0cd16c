"""Notebook 03's glue on synthetic features: each step writes its files and records its keys."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from splkit.config import load_profile
from splkit.radiomics import chapter, load_preset
from splkit.radiomics.extract import ExtractionResult
from splkit.run.report import load_results
from splkit.run.rundir import RunDir

N = 60
FEATURES = [f"original_firstorder_F{i}" for i in range(6)] + [f"wavelet-LL_glcm_G{i}" for i in range(4)]


@pytest.fixture
def extraction():
    rng = np.random.default_rng(3)
    index = pd.Index([f"P{i:04d}" for i in range(1, N + 1)], name="patient")
    label = np.arange(N) % 2
    reader1 = pd.DataFrame(rng.normal(size=(N, len(FEATURES))), index=index, columns=FEATURES)
    reader1.iloc[:, :3] += 1.5 * label[:, None]
    reader1["original_firstorder_F5"] = 1.0  # constant: no ICC
    reader2 = reader1.iloc[:30] + rng.normal(scale=0.05, size=(30, len(FEATURES)))
    reader2["wavelet-LL_glcm_G3"] = rng.normal(size=30)  # not reproducible
    for frame in (reader1, reader2):
        frame["diagnostics_Mask-original_VoxelNum"] = 500
        frame["diagnostics_Mask-original_VolumeNum"] = 1
        frame["diagnostics_Mask-original_Mean"] = 80.0
        frame["diagnostics_Mask-original_Maximum"] = 200.0
        frame["diagnostics_Versions_PyRadiomics"] = "v3.1.4"
    table = pd.DataFrame(
        {"cohort": np.where(np.arange(N) % 4 == 3, "validation", "train"), "label": label}, index=index
    )
    failed = [{"patient": "P0099", "reason": "empty mask"}]
    return chapter.Extraction(
        cohort=SimpleNamespace(table=table),
        reader1=ExtractionResult(reader1, seconds=2.0, n_cached=50, n_computed=10),
        reader2=ExtractionResult(reader2, excluded=failed, seconds=1.0, n_cached=30, n_computed=0),
        seconds=4.0,
        n_jobs=2,
    )


def test_extraction_tables(extraction):
    speed = chapter.speed_table(extraction)["value"]
    assert speed["images (reader 1 + reader 2)"] == N + 30 + 1
    assert speed["extracted now"] == 10 and speed["from cache"] == 80
    assert speed["images per second (extracted now)"] == 2.5
    assert chapter.roi_quality(extraction).loc["ROI pieces (n)", "mean"] == 1
    assert chapter.exclusions(extraction).to_dict("records") == [
        {"patient": "P0099", "reader": 2, "reason": "empty mask"}
    ]


def test_preset_description():
    preset = load_preset("ultrasound2d")
    assert f"`{preset.name}`" in chapter.describe_preset(preset)
    assert chapter.preset_rationale(preset).index.name == "choice"


def test_chapter_steps_write_and_record(extraction, tmp_path):
    settings = load_profile("smoke", run_dir=tmp_path, overrides={"selection": {"lasso_cv_folds": 3}})
    run = RunDir(tmp_path)
    icc = chapter.reproducibility(settings, extraction)
    assert icc.n_patients == 23  # training patients among the 30 with two readers
    assert "wavelet-LL_glcm_G3" not in icc.candidates and len(icc.candidates) == N
    pd.testing.assert_frame_equal(pd.read_parquet(run.rad_candidates), icc.candidates)
    assert f"{icc.candidates.shape[1]} of {len(FEATURES)} features" in chapter.icc_sentence(settings, icc)

    selection = chapter.select(settings, extraction, icc)
    funnel = selection.funnel.set_index("step")["n_features"]
    assert list(funnel.index) == ["extracted", "ICC filter", "Mann-Whitney U", "Spearman redundancy", "LASSO"]
    assert funnel["extracted"] == len(FEATURES) and funnel["ICC filter"] == icc.candidates.shape[1]
    assert selection.counts["after_lasso"] == funnel["LASSO"] >= 1
    assert "used lambda" in chapter.lasso_figures(settings, selection)

    coefficients = chapter.rad_features(settings, selection, icc)
    results = load_results(tmp_path)["radiomics"]
    assert results["selected"] == list(coefficients.index)
    assert set(results) >= {"icc", "counts", "selected", "coefficients", "lasso"}
    assert results["icc"]["patients"] == 23 and results["lasso"]["rule"] == settings.selection.lasso_rule
    assert run.table("radiomics_icc").exists() and run.table("radiomics_selected").exists()
    for name in (
        "radiomics_icc",
        "radiomics_selection_funnel",
        "radiomics_lasso_path",
        "radiomics_coefficients",
    ):
        assert run.figure(name).exists()

    preset = SimpleNamespace(name="synthetic")
    text = chapter.summary(settings, preset, extraction, icc, selection, coefficients)
    assert f"kept {selection.counts['after_lasso']}:" in text and "Excluded images: 1." in text
    assert all(f"`{name}`" in text for name in coefficients.index)


def test_no_harmonisation_by_default(extraction, tmp_path):
    settings = load_profile("smoke", run_dir=tmp_path)
    icc = chapter.reproducibility(settings, extraction)
    assert icc.combat is None and "not harmonised" in chapter.harmonisation(settings, icc)
    assert "harmonisation" not in load_results(tmp_path)["radiomics"]
    assert not RunDir(tmp_path).model("radiomics_combat").exists()


def two_centres(extraction, validation_shift: float = 0.0):
    """The synthetic extraction imaged at two centres: centre B adds gain and spread to both readers.

    The end-to-end smoke book with two simulated centres would take minutes of extraction; the chapter
    glue on synthetic features checks the same contract in a second.
    """
    table = extraction.cohort.table.copy()
    table["centre"] = np.where(np.arange(N) % 3 == 0, "Hospital B", "Hospital A")
    b = table.index[table["centre"] == "Hospital B"]
    reader1, reader2 = extraction.reader1.features.copy(), extraction.reader2.features.copy()
    for frame in (reader1, reader2):
        rows = frame.index.intersection(b)
        frame.loc[rows, FEATURES[:5]] = frame.loc[rows, FEATURES[:5]] * 1.5 + 2.0
    validation = table.index[table["cohort"] == "validation"]
    reader1.loc[validation, FEATURES[:5]] += validation_shift  # must not move the training fit
    return chapter.Extraction(
        cohort=SimpleNamespace(table=table),
        reader1=ExtractionResult(reader1, seconds=2.0, n_cached=50, n_computed=10),
        reader2=ExtractionResult(reader2, seconds=1.0, n_cached=30, n_computed=0),
        seconds=4.0,
        n_jobs=2,
    )


def test_combat_is_fitted_on_training_only(extraction, tmp_path):
    import joblib

    from splkit.radiomics.stage import RadiomicsStage

    overrides = {"radiomics": {"harmonise": "combat"}, "selection": {"lasso_cv_folds": 3}}
    settings = load_profile("smoke", run_dir=tmp_path / "a", overrides=overrides)
    icc = chapter.reproducibility(settings, two_centres(extraction))
    run = RunDir(tmp_path / "a")
    pd.testing.assert_frame_equal(pd.read_parquet(run.rad_candidates), icc.candidates)
    assert not np.allclose(icc.candidates, icc.unharmonised)
    assert list(icc.combat.centres_) == ["Hospital A", "Hospital B"]
    n_train = int((extraction.cohort.table["cohort"] == "train").sum())
    assert sum(icc.combat.n_per_centre_.values()) == n_train
    text = chapter.harmonisation(settings, icc)
    assert "training patients of 2 centres" in text and run.figure("radiomics_harmonisation").exists()
    share = load_results(run)["radiomics"]["harmonisation"]["centre_share_pc1"]
    assert share["after"] < share["before"] / 5

    # validation rows moved: the fitted parameters and the training rows do not change
    other = load_profile("smoke", run_dir=tmp_path / "b", overrides=overrides)
    moved = chapter.reproducibility(other, two_centres(extraction, validation_shift=5.0))
    for name in ("grand_mean_", "var_pooled_", "gamma_star_", "delta_star_"):
        np.testing.assert_array_equal(getattr(moved.combat, name), getattr(icc.combat, name))
    train = extraction.cohort.table.index[extraction.cohort.table["cohort"] == "train"]
    pd.testing.assert_frame_equal(moved.candidates.loc[train], icc.candidates.loc[train])

    # the study's stage applies the same fitted ComBat to any cohort
    stage = RadiomicsStage.from_run(run, settings)
    assert joblib.load(run.model("radiomics_combat")).n_per_centre_ == stage.combat_.n_per_centre_
    table = extraction.cohort.table.assign(centre=icc.table["centre"])
    applied = stage.harmonised(icc.unharmonised[stage.columns_], table)
    pd.testing.assert_frame_equal(applied, icc.candidates[stage.columns_])
    assert stage.describe()["harmonisation"]["centres"] == icc.combat.n_per_centre_
    with pytest.raises(ValueError, match="'Hospital C' had no training patients"):
        stage.harmonised(icc.unharmonised[stage.columns_], table.assign(centre="Hospital C"))
    with pytest.raises(ValueError, match="no centre column"):
        stage.harmonised(icc.unharmonised[stage.columns_], table.drop(columns="centre"))


def without_reader2(extraction, monkeypatch, scale=0.05):
    """The synthetic extraction with no reader-2 masks; the perturbed masks' features (4 tables of reader 1
    plus noise, one feature not robust) replace the real extraction of :func:`workflow.extract_perturbed`."""
    from splkit.radiomics import workflow

    reader1 = extraction.reader1.features
    empty = ExtractionResult(reader1.iloc[:0, :0], seconds=0.0, n_cached=0, n_computed=0)
    calls = []

    def perturbed(settings, cohort, patients, preset=None, progress=True, engine=None):
        calls.append(list(patients))
        rng = np.random.default_rng(len(calls))
        out = []
        for _ in range(4):
            table = reader1.loc[patients].copy()
            table[FEATURES] += rng.normal(scale=scale, size=(len(patients), len(FEATURES)))
            table["original_firstorder_F5"] = 1.0
            table["wavelet-LL_glcm_G3"] = rng.normal(size=len(patients))  # not robust
            out.append(ExtractionResult(table, seconds=1.0, n_cached=0, n_computed=len(patients)))
        return out

    monkeypatch.setattr(workflow, "extract_perturbed", perturbed)
    return chapter.Extraction(extraction.cohort, extraction.reader1, empty, 4.0, 2), calls


def test_no_second_reader_falls_back_to_perturbation(extraction, monkeypatch, tmp_path):
    from splkit.radiomics.stage import RadiomicsStage

    settings = load_profile("smoke", run_dir=tmp_path, overrides={"selection": {"lasso_cv_folds": 3}})
    assert settings.radiomics.robustness == "readers"
    run = RunDir(tmp_path)
    single, calls = without_reader2(extraction, monkeypatch)
    icc = chapter.reproducibility(settings, single)
    n_train = int((extraction.cohort.table["cohort"] == "train").sum())
    assert calls and len(calls[0]) == n_train == icc.n_patients  # training patients only
    assert icc.method == "perturbation" and "wavelet-LL_glcm_G3" not in icc.candidates
    recorded = load_results(tmp_path)["radiomics"]
    assert (
        recorded["robustness"]["method"] == "perturbation"
        and recorded["robustness"]["requested"] == "readers"
    )
    assert "only 0 training patients" in recorded["robustness"]["reason"]
    assert recorded["robustness"]["cost"]["images"] == 4 * n_train
    assert recorded["icc"]["patients"] == n_train

    text = chapter.icc_sentence(settings, icc)
    assert "perturbation robustness" in text and "`radiomics.robustness: readers`" in text
    assert "two readers" not in text and "not inter-reader agreement" in text
    figure = run.figure("radiomics_icc").read_text()
    assert "Perturbation robustness" in figure and "Inter-reader" not in figure and "reader 2" not in figure

    selection = chapter.select(settings, single, icc)
    assert "ICC filter (perturbation robustness)" in list(selection.funnel["step"])
    coefficients = chapter.rad_features(settings, selection, icc)
    assert "icc_perturbation" in coefficients and "icc" not in coefficients
    summary = chapter.summary(
        settings, SimpleNamespace(name="synthetic"), single, icc, selection, coefficients
    )
    assert (
        "perturbation robustness, not inter-reader agreement" in summary and "between readers" not in summary
    )
    stage = RadiomicsStage.from_run(run, settings)
    assert stage.describe()["robustness"]["method"] == "perturbation"


def test_readers_unchanged_and_named(extraction, tmp_path):
    settings = load_profile("smoke", run_dir=tmp_path)
    icc = chapter.reproducibility(settings, extraction)
    assert (
        icc.method == "readers" and load_results(tmp_path)["radiomics"]["robustness"]["method"] == "readers"
    )
    text = chapter.icc_sentence(settings, icc)
    assert "**inter-reader agreement**" in text and "perturbation" not in text
    assert "Inter-reader ICC" in RunDir(tmp_path).figure("radiomics_icc").read_text()


def test_robustness_none_keeps_every_feature(extraction, monkeypatch, tmp_path):
    overrides = {"radiomics": {"robustness": "none"}, "selection": {"lasso_cv_folds": 3}}
    settings = load_profile("smoke", run_dir=tmp_path, overrides=overrides)
    single, calls = without_reader2(extraction, monkeypatch)
    icc = chapter.reproducibility(settings, single)
    assert not calls and icc.method == "none" and list(icc.candidates.columns) == FEATURES
    results = load_results(tmp_path)["radiomics"]
    assert results["robustness"]["method"] == "none" and "icc" not in results
    assert not RunDir(tmp_path).figure("radiomics_icc").exists()
    assert "Reproducibility was not assessed" in chapter.icc_sentence(settings, icc)
    selection = chapter.select(settings, single, icc)
    assert selection.funnel["step"][1] == "all features (no ICC filter)"
    coefficients = chapter.rad_features(settings, selection, icc)
    assert "icc" not in coefficients and "icc_perturbation" not in coefficients
    text = chapter.summary(settings, SimpleNamespace(name="synthetic"), single, icc, selection, coefficients)
    assert "reproducibility was not assessed" in text
