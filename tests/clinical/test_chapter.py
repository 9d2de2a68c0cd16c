"""Tests of splkit.clinical.chapter: every step of notebook 02 on a small run directory."""

import joblib
import numpy as np
import pandas as pd
import pytest
from clinical._noise import NONE_MULTIVARIABLE_SEED, NONE_UNIVARIATE_SEED, noise_run
from clinical._toy import toy_cohort

from splkit.clinical import chapter
from splkit.clinical.selection import NONE_MULTIVARIABLE, NONE_UNIVARIATE
from splkit.config import load_profile
from splkit.run import predictions
from splkit.run.report import load_results
from splkit.run.rundir import RunDir

VARIABLES = pd.DataFrame(
    {
        "variable": ["age", "cea", "noise", "sex", "gappy"],
        "type": ["numeric", "numeric", "numeric", "binary", "numeric"],
        "unit": ["years", "ng/mL", "", "", ""],
        "levels": ["", "", "", "female; male", ""],
        "included": [True, True, True, True, False],
    }
)


def write_run(root, n=200):
    """``cohort.csv`` and ``variables.csv`` of a toy cohort: 150 training, 50 validation patients."""
    X, y = toy_cohort(n=n, seed=1)
    table = X.assign(gappy=np.nan, label=y, cohort=["train"] * 150 + ["validation"] * (n - 150))
    run = RunDir(root)
    run.root.mkdir(parents=True, exist_ok=True)
    table.rename_axis("patient").reset_index()[["patient", "cohort", "label", *VARIABLES["variable"]]].to_csv(
        run.cohort_csv, index=False
    )
    VARIABLES.to_csv(run.variables_csv, index=False)
    return run


@pytest.fixture(scope="module")
def chapter_run(tmp_path_factory):
    run = write_run(tmp_path_factory.mktemp("run"))
    settings = load_profile("default", overrides={"models": {"cv_folds": 3}}, run_dir=run.root)
    data = chapter.training_data(settings)
    selection = chapter.select(data, settings)
    return run, settings, data, selection


def test_training_data_uses_the_included_variables(chapter_run):
    run, settings, data, _ = chapter_run
    assert data.usable == ["age", "cea", "noise", "sex"]
    assert len(data.train) == 150 and len(data.others) == 50
    assert data.levels == {"sex": ["female", "male"]} and data.types["sex"] == "binary"
    n_missing = int(data.X_train.isna().any(axis=1).sum())
    assert load_results(run.root)["clinical"]["n_train_rows_imputed"] == n_missing
    text = chapter.data_summary(data, settings)
    assert "**150 patients**" in text and f"**{n_missing} training patients**" in text
    assert "profile likelihood" in text


def test_selection_steps_write_tables_and_record_keys(chapter_run):
    run, settings, data, selection = chapter_run
    assert run.table("clinical_univariate").is_file()
    assert "age" in selection.predictors and "noise" not in selection.predictors
    assert "`age`" in chapter.screen_summary(selection, data, settings)
    table, forest = chapter.multivariable(selection, settings)
    assert run.table("clinical_multivariable").is_file()
    assert "OR (95 % CI)" in table.columns and forest.layout.title.text
    final, coding, forest = chapter.final_model(selection, data, settings)
    clinical = load_results(run.root)["clinical"]
    assert clinical["predictors"] == selection.predictors
    assert set(clinical["odds_ratios"]) == set(selection.final.index) == set(final.index)
    assert clinical["interval"] == "profile" and clinical["univariate_significant"] == selection.candidates
    assert "`age` — age: per 1 years" in coding and run.table("clinical_final").is_file()


def test_no_multivariable_model_when_nothing_passes_the_screen(chapter_run):
    run, settings, data, _ = chapter_run
    strict = load_profile("default", overrides={"clinical": {"univariate_p": 1e-12}}, run_dir=run.root)
    selection = chapter.select(data, strict)
    assert chapter.multivariable(selection, strict) == (None, None)
    assert "none" in chapter.screen_summary(selection, data, strict)


def test_nomogram_agrees_with_the_model(chapter_run):
    _, _, data, selection = chapter_run
    figure, check = chapter.nomogram(selection, data)
    assert len(check) == chapter.NOMOGRAM_EXAMPLES and figure.layout.title.text
    np.testing.assert_allclose(check["probability (nomogram)"], check["probability (model)"], atol=2e-3)


def test_scores_stability_and_saved_model(chapter_run):
    run, settings, data, selection = chapter_run
    scores = chapter.score_patients(selection, data, settings)
    saved = predictions.load(run.root)
    assert set(saved["model"]) == {"Clinical"} and len(saved) == len(data.table)
    assert saved["score"].between(0, 1).all()
    assert load_results(run.root)["clinical"]["auc"] == pytest.approx(scores.auc)
    assert set(scores.auc) == {"train", "validation"} and "(out-of-fold)" in chapter.auc_summary(scores)
    assert chapter.convergence_note(scores) == "" or "did not converge" in chapter.convergence_note(scores)
    stability = chapter.fold_stability(scores, selection, settings)
    assert list(stability.columns) == ["fold 1", "fold 2", "fold 3", "all training"]
    assert set(stability.index[stability["all training"] == "✓"]) == set(selection.predictors)
    assert load_results(run.root)["clinical"]["fold_predictors"] == [f.predictors_ for f in scores.folds]
    assert list(chapter.score_summary(scores).index.names) == ["cohort", "label"]
    path = chapter.save_clinical_model(scores, data, settings)
    assert path == run.model("Clinical")
    model = joblib.load(path)
    assert model["features"] == selection.predictors and model["settings"]["cv_folds"] == 3
    validation = data.others[model["features"]]
    expected = saved.set_index("patient").loc[validation.index, "score"]
    np.testing.assert_allclose(model["estimator"].predict_proba(validation)[:, 1], expected)


@pytest.mark.parametrize(
    "seed, rule", [(NONE_UNIVARIATE_SEED, NONE_UNIVARIATE), (NONE_MULTIVARIABLE_SEED, NONE_MULTIVARIABLE)]
)
def test_noise_only_clinical_columns_follow_the_fallback_rule(tmp_path, seed, rule):
    """Issue 14: clinical columns that are pure noise -- chapter 2 says so, the clinical model is the
    best univariate predictor, flagged, and the run still has Clinical scores, a saved model and the
    predictors chapter 5's Clinical-SVM and CDLR read."""
    from splkit.models.data import clinical_encoder, clinical_predictors

    run = noise_run(tmp_path, seed=seed)
    settings = load_profile("default", overrides={"models": {"cv_folds": 3}}, run_dir=run.root)
    data = chapter.training_data(settings)
    selection = chapter.select(data, settings)
    assert selection.rule == rule and len(selection.predictors) == 1
    kept = selection.predictors[0]
    assert kept == selection.univariate_p.idxmin()
    screen = chapter.screen_summary(selection, data, settings)
    if rule == NONE_UNIVARIATE:
        assert selection.candidates == [] and "No clinical variable is significantly associated" in screen
        assert chapter.multivariable(selection, settings) == (None, None)
    else:
        assert kept in selection.candidates and chapter.multivariable(selection, settings)[0] is not None
    chapter.final_model(selection, data, settings)
    note = chapter.rule_note(selection, settings)
    assert "Fallback rule applied" in note and f"`{kept}` alone" in note and "CDLR" in note
    clinical = load_results(run.root)["clinical"]
    assert clinical["predictors"] == [kept] and clinical["fallback"] is True
    assert clinical["rule_applied"].startswith(f"{rule}: no ")
    assert f"kept the best univariate predictor {kept} (univariate p=" in clinical["rule_applied"]
    chapter.nomogram(selection, data)
    scores = chapter.score_patients(selection, data, settings)
    assert scores.fitted.predictors_ == [kept] and scores.fitted.rule_ == rule
    chapter.save_clinical_model(scores, data, settings)
    # what chapter 5 reads for the Clinical-SVM and the CDLR (splkit.models.data, read only here)
    table = pd.read_csv(run.cohort_csv)
    assert clinical_predictors(run.root, table) == [kept]
    encoder = clinical_encoder(run.root, [kept]).fit(table[[kept]])
    assert encoder.transform(table[[kept]]).notna().all().all()


def test_standard_rule_note_and_record(chapter_run):
    run, settings, _, selection = chapter_run
    note = chapter.rule_note(selection, settings)
    assert note.startswith("Selection rule applied") and "Fallback" not in note
    clinical = load_results(run.root)["clinical"]
    assert clinical["rule_applied"].startswith("selected: ") and clinical["fallback"] is False
