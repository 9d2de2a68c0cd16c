"""splkit.models.optimism: Harrell's bootstrap optimism correction on runs where the answer is known.

Pure-noise features: every model's apparent training AUC is high (the SVMs memorise), and the whole
procedure's optimism-corrected AUC must come back to about 0.5.  Plus determinism (seed, ``n_jobs``),
the stratified resampling, the Monte Carlo SE and the per-resample cache.
"""

from __future__ import annotations

import json

import joblib
import numpy as np
import pandas as pd
import pytest
from models.test_fit import kbest_selector as kbest  # the 3 features with the largest F

from splkit import models
from splkit.clinical.selection import SelectedClinicalModel
from splkit.config import load_profile
from splkit.models import optimism, optimism_report
from splkit.run.cache import ContentCache
from splkit.run.rundir import RunDir

N_TRAIN, N_VAL = 60, 20
IMAGE_MODELS = ("Rad", "DTL", "DLR", "CDLR")


def make_noise_run(root, seed: int = 3):
    """A run directory as chapters 1-4 leave it, every feature and clinical variable pure noise."""
    rng = np.random.default_rng(seed)
    n = N_TRAIN + N_VAL
    patients = pd.Index([f"P{i:04d}" for i in range(1, n + 1)], name="patient")
    label = np.arange(n) % 2
    table = pd.DataFrame(
        {
            "cohort": ["train"] * N_TRAIN + ["validation"] * N_VAL,
            "label": label,
            "age": np.round(rng.normal(60, 9, n)),
            "sex": rng.choice(["female", "male"], n),
        },
        index=patients,
    )
    root.mkdir(parents=True, exist_ok=True)
    table.to_csv(root / "cohort.csv")
    variables = {
        "variable": ["age", "sex"],
        "type": ["numeric", "binary"],
        "unit": ["years", ""],
        "allowed": ["", "female; male"],
        "levels": ["", "female; male"],
        "description": ["age", "sex"],
    }
    pd.DataFrame(variables).to_csv(root / "variables.csv", index=False)
    run = RunDir(root)
    run.rad_candidates.parent.mkdir()
    for name, prefix, k in (("rad_candidates", "original_firstorder_F", 20), ("dtl_candidates", "DTL_", 10)):
        frame = pd.DataFrame(
            rng.normal(size=(n, k)), index=patients, columns=[f"{prefix}{i:03d}" for i in range(k)]
        )
        frame.to_parquet(run.features(name))
    # what chapters 2-4 chose on the training cohort, by the same procedure the bootstrap repeats
    train = table[table.cohort == "train"]
    selected = {}
    for name, source in (("rad_candidates", "radiomics"), ("dtl_candidates", "deep")):
        frame = pd.read_parquet(run.features(name)).loc[train.index]
        selected[source] = {
            "selected": list(kbest(None, source).fit(frame, train["label"]).get_feature_names_out())
        }
    results = {"clinical": {"predictors": ["age", "sex"]}, **selected}
    run.results_json.write_text(json.dumps(results))
    # chapter 2's saved model, for the logistic Clinical row
    clinical = SelectedClinicalModel({"age": "numeric", "sex": "binary"}, {"sex": ["female", "male"]})
    clinical.fit(train[["age", "sex"]], train["label"])
    run.model("Clinical").parent.mkdir(exist_ok=True)
    joblib.dump({"estimator": clinical.pipeline_, "features": clinical.predictors_}, run.model("Clinical"))
    return root


@pytest.fixture(scope="module")
def noise_run(tmp_path_factory):
    root = make_noise_run(tmp_path_factory.mktemp("noise"))
    overrides = {"models": {"cv_folds": 3, "svm_C": [1.0, 100.0], "svm_gamma": ["scale", 1.0]}}
    settings = load_profile("smoke", overrides=overrides, run_dir=root)
    fitted = models.fit_models(settings, root, selector_factory=kbest, n_jobs=1, save=False, progress=False)
    return settings, fitted


def run_optimism(noise_run, n_boot, n_jobs=1, cache=False):
    settings, fitted = noise_run
    return optimism.bootstrap_optimism(
        settings, fitted, n_boot=n_boot, selector_factory=kbest, n_jobs=n_jobs, cache=cache, progress=False
    )


@pytest.fixture(scope="module")
def noise_result(noise_run):
    return run_optimism(noise_run, n_boot=20)


def test_noise_corrected_auc_is_about_one_half(noise_result):
    """Pure noise: apparent AUCs are high, the .632+ AUCs come back to 0.5.  Harrell's correction is
    positive but under-corrects the SVMs (they memorise their rows, and duplicated patients straddle the
    inner folds of a resample): the known limit of the enhanced bootstrap (Efron & Tibshirani 1997)."""
    auc = noise_result.summary.xs("auc", level="measure")
    assert set(auc.index) == {"Clinical", "Clinical-SVM", *IMAGE_MODELS}
    assert (auc.loc[["Rad", "DTL"], "apparent"] > 0.75).all(), auc  # the final models memorise the noise
    for model in IMAGE_MODELS:
        assert abs(auc.at[model, "plus632"] - 0.5) < 0.1, auc
        assert auc.at[model, "oob"] < 0.6 and auc.at[model, "optimism"] > 0.05, auc
    assert abs(auc.at["Clinical", "corrected"] - 0.5) < 0.1, auc  # no inner cross-validation: Harrell's works
    brier = noise_result.summary.xs("brier", level="measure")
    assert (brier["optimism"] < 0).all() and (brier["plus632"] > brier["apparent"]).all()


def test_monte_carlo_se_and_corrected(noise_result):
    per = noise_result.optimism
    rad = per[per["model"] == "Rad"]["auc"]
    row = noise_result.summary.loc[("Rad", "auc")]
    assert row["optimism"] == pytest.approx(rad.mean())
    assert row["corrected"] == pytest.approx(row["apparent"] - rad.mean())
    assert row["mc_se"] == pytest.approx(rad.std(ddof=1) / np.sqrt(len(rad)))
    assert row["n"] == 20 and noise_result.n_boot == 20
    entry = optimism_report.results_entry(noise_result, "Rad")
    assert entry["shrinkage"] == entry["slope"]["corrected"] and entry["auc"]["n"] == 20


def test_resamples_are_stratified_and_independent_of_b():
    y = np.array([0] * 30 + [1] * 12)
    rows = optimism.resample_rows(y, seed=7, b=3)
    assert len(rows) == len(y) and (y[rows] == 1).sum() == 12 and len(np.unique(rows)) < len(y)
    np.testing.assert_array_equal(rows, optimism.resample_rows(y, seed=7, b=3))
    assert not np.array_equal(rows, optimism.resample_rows(y, seed=7, b=4))
    assert not np.array_equal(rows, optimism.resample_rows(y, seed=8, b=3))


def test_same_seed_same_numbers_whatever_n_jobs(noise_run, noise_result):
    one = run_optimism(noise_run, n_boot=4, n_jobs=1)
    two = run_optimism(noise_run, n_boot=4, n_jobs=2)
    pd.testing.assert_frame_equal(one.optimism, two.optimism)
    pd.testing.assert_frame_equal(one.summary, two.summary)
    # resample b does not depend on B: the first 4 of the 20 resamples are these 4
    first = noise_result.optimism[noise_result.optimism["resample"] < 4].reset_index(drop=True)
    pd.testing.assert_frame_equal(first, one.optimism)


def test_cache_reuses_resamples(noise_run, tmp_path):
    store = ContentCache(tmp_path / "optimism")
    cold = run_optimism(noise_run, n_boot=3, cache=store)
    assert len(cold.seconds) == 3 and len(list((tmp_path / "optimism").rglob("*.joblib"))) == 3
    warm = run_optimism(noise_run, n_boot=3, cache=store)
    assert warm.seconds == []  # every resample came from the cache
    pd.testing.assert_frame_equal(cold.summary, warm.summary)


def test_too_few_resamples_is_an_error(noise_run):
    with pytest.raises(ValueError, match="at least 2 resamples"):
        run_optimism(noise_run, n_boot=1)


def test_an_imaging_only_run_resamples_only_rad_dtl_and_dlr(tmp_path):
    """No clinical variables (``variables.csv`` without rows, no ``Clinical.joblib``): no clinical selection
    is repeated and only the Rad, DTL and DLR models are corrected (the DLR fitted on its own)."""
    root = make_noise_run(tmp_path / "imaging")
    run = RunDir(root)
    run.model("Clinical").unlink()
    header = run.variables_csv.read_text().splitlines()[0]
    run.variables_csv.write_text(header + "\n")
    pd.read_csv(run.cohort_csv).drop(columns=["age", "sex"]).to_csv(run.cohort_csv, index=False)
    settings = load_profile("smoke", overrides={"models": {"cv_folds": 3}}, run_dir=root)
    fitted = models.fit_models(settings, root, selector_factory=kbest, n_jobs=1, save=False, progress=False)
    result = optimism.bootstrap_optimism(
        settings, fitted, n_boot=3, selector_factory=kbest, n_jobs=1, cache=False, progress=False
    )
    assert set(result.summary.index.get_level_values("model")) == {"Rad", "DTL", "DLR"}
    assert set(result.optimism["model"]) == {"Rad", "DTL", "DLR"} and len(result.optimism) == 3 * 3
    assert result.summary["apparent"].notna().all()
