"""Notebook 05's glue end to end on a small synthetic run fitted with ``models.paper_compatible: true``:
every step writes its tables and figures, the in-sample stacking comparison is shown, and the
in-sample variant stays out of the CDLR's comparison family."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from IPython.display import Markdown
from models.test_fit import kbest_selector as kbest  # the 3 features with the largest F

from splkit import models
from splkit.config import load_profile
from splkit.models import chapter
from splkit.run import predictions
from splkit.run.names import IN_SAMPLE
from splkit.run.report import load_results
from splkit.run.rundir import RunDir

N_TRAIN, N_VAL = 40, 20


def make_run(root):
    """cohort.csv, variables.csv, candidate features, results.json and Clinical scores, as chapters 1-4 leave them."""
    rng = np.random.default_rng(1)
    n = N_TRAIN + N_VAL
    patients = pd.Index([f"P{i:04d}" for i in range(1, n + 1)], name="patient")
    label = np.arange(n) % 2
    cohort = np.array(["train"] * N_TRAIN + ["validation"] * N_VAL)
    root.mkdir(parents=True, exist_ok=True)
    table = pd.DataFrame(
        {"cohort": cohort, "label": label, "age": np.round(55 + 8 * label + rng.normal(0, 9, n))}
    )
    table["sex"] = np.where(rng.random(n) < 0.4 + 0.3 * label, "male", "female")
    table.set_index(patients).to_csv(root / "cohort.csv")
    pd.DataFrame(
        {
            "variable": ["age", "sex"],
            "type": ["numeric", "binary"],
            "unit": ["years", ""],
            "allowed": ["", "female; male"],
            "levels": ["", "female; male"],
            "description": ["age", "sex"],
        }
    ).to_csv(root / "variables.csv", index=False)
    run = RunDir(root)
    run.rad_candidates.parent.mkdir()
    for name, prefix, k in (("rad_candidates", "original_firstorder_F", 10), ("dtl_candidates", "DTL_", 6)):
        frame = pd.DataFrame(
            rng.normal(size=(n, k)), index=patients, columns=[f"{prefix}{i:03d}" for i in range(k)]
        )
        frame.iloc[:, :2] += 1.2 * label[:, None]
        frame.to_parquet(run.features(name))
    results = {
        "clinical": {"predictors": ["age", "sex"]},
        "radiomics": {"selected": [f"original_firstorder_F{i:03d}" for i in range(4)]},
        "deep": {"selected": [f"DTL_{i:03d}" for i in range(3)]},
    }
    run.results_json.write_text(json.dumps(results))
    score = np.clip(0.5 + 0.3 * (label - 0.5) + rng.normal(0, 0.15, n), 0.01, 0.99)
    rows = {"patient": patients, "cohort": cohort, "label": label, "model": "Clinical", "score": score}
    predictions.save(root, pd.DataFrame(rows))
    return root


@pytest.fixture(scope="module")
def fitted_run(tmp_path_factory):
    root = make_run(tmp_path_factory.mktemp("chapter5"))
    overrides = {
        "models": {"cv_folds": 3, "svm_C": [0.5, 1.0], "svm_gamma": ["scale"], "paper_compatible": True},
        "stats": {"n_bootstrap": 20},
    }
    settings = load_profile("smoke", overrides=overrides, run_dir=root)
    fitted = models.fit_models(settings, root, selector_factory=kbest, n_jobs=1, progress=False)
    return settings, fitted


def test_chapter_with_in_sample_stacking(fitted_run):
    settings, fitted = fitted_run
    run = RunDir(settings.run_path)
    assert list(chapter.inputs_table(settings).index) == [
        "Clinical",
        "Clinical-SVM",
        "Rad",
        "DTL",
        "DLR",
        "CDLR",
    ]
    assert set(chapter.nesting_table(fitted).index) <= set(fitted.best_params)
    best, note = chapter.hyperparameters(settings, fitted)
    assert IN_SAMPLE in best.index and "grew the grid" in note.data  # C = 0.5 or 1.0: both are edges

    evaluation = chapter.evaluate(settings)
    assert evaluation.cohorts == ["train", "validation"]
    for cohort in evaluation.cohorts:
        heading, perf = chapter.performance(evaluation, cohort)
        assert IN_SAMPLE in perf.index and isinstance(heading, Markdown)
        chapter.roc(evaluation, cohort)
        chapter.calibration(evaluation, cohort)
        chapter.decision_curves(evaluation, cohort)
    assert "Validation AUCs" in chapter.validation_auc_note(evaluation).data
    assert not any(c.startswith("AUC") for c in chapter.own_youden(evaluation)[1].columns)
    pairs = chapter.delong_tests(evaluation)
    family = chapter.fusion_family(evaluation, pairs)
    assert len(family) == 4 and IN_SAMPLE not in family[1].index and "DLR" in family[1].index
    assert IN_SAMPLE in chapter.biopsies_avoided(evaluation).index
    nri_idi = chapter.reclassification(evaluation)
    assert IN_SAMPLE not in set(nri_idi["old"]) and len(chapter.reclassification_table(nri_idi)) == len(
        nri_idi
    )

    compare, sentence = chapter.in_sample_comparison(evaluation)
    assert set(compare.index) == {(m, c) for m in ("CDLR", IN_SAMPLE) for c in ("train", "validation")}
    assert list(compare.columns) == chapter.IN_SAMPLE_COLUMNS
    train_auc = compare.loc[(IN_SAMPLE, "train"), "auc"]
    assert f"Training AUC with in-sample stacking {train_auc:.3f}" in sentence.data

    table, note = chapter.optimism(evaluation, fitted, selector_factory=kbest, cache=False)
    assert list(table.index) == ["Clinical-SVM", "Rad", "DTL", "DLR", "CDLR"]  # no Clinical.joblib here
    assert ("AUC", "corrected") in table.columns and ("AUC", "validation") in table.columns
    assert "shrinkage factor" in note.data and RunDir(settings.run_path).table("optimism").exists()
    entry = load_results(run)["models"]["CDLR"]["optimism"]
    assert entry["n_boot"] == settings.stats.n_optimism and entry["shrinkage"] == entry["slope"]["corrected"]
    assert entry["auc"]["corrected"] == pytest.approx(
        table.loc["CDLR", ("AUC", "corrected")], abs=1e-3
    )  # table: 3 decimals

    assert "recorded 14 model × cohort evaluations" in chapter.record_results(
        evaluation, fitted, pairs, nri_idi
    )
    results = load_results(run)
    assert results["models"]["settings"]["paper_compatible"] is True
    assert results["models"][IN_SAMPLE]["train"]["auc"] == pytest.approx(train_auc, abs=5e-4)
    assert f"CDLR_vs_{IN_SAMPLE}" in results["delong"]["validation"]
    assert "On the validation cohort the CDLR" in chapter.summary(evaluation, pairs).data
    for name in (
        "model_metrics",
        "performance_validation",
        "delong_train",
        "nri_idi",
        "calibration_validation",
    ):
        assert run.table(name).exists()
    for name in ("roc_train", "delong_validation", "calibration_train", "dca_validation"):
        assert run.figure(name).exists()


def test_without_the_in_sample_variant_the_chapter_says_so(fitted_run, tmp_path):
    settings, _ = fitted_run
    table = predictions.load(settings.run_path)
    predictions.save(tmp_path, table[table.model != IN_SAMPLE])
    evaluation = chapter.evaluate(
        load_profile("smoke", overrides={"stats": {"n_bootstrap": 20}}, run_dir=tmp_path)
    )
    (note,) = chapter.in_sample_comparison(evaluation)
    assert "`models.paper_compatible: false`" in note.data
