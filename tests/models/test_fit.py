"""splkit.models: leakage, out-of-fold stacking, determinism, the in-sample variant, saved models.

Runs on a fake run directory (synthetic cohort.csv, candidate feature tables, results.json and Clinical
predictions, as notebooks 01–04 would leave them) with a few dozen patients and a one-point grid.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_selection import SelectKBest, f_classif
from sklearn.model_selection import cross_val_predict
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from splkit import models
from splkit.config import load_profile
from splkit.run import predictions

N_TRAIN, N_VAL = 36, 14


def make_fake_run(run_path: Path, seed: int = 0, n_train: int = N_TRAIN, n_val: int = N_VAL) -> Path:
    """A run directory as notebooks 01–04 leave it, with synthetic but learnable data."""
    rng = np.random.default_rng(seed)
    n = n_train + n_val
    patients = [f"P{i:04d}" for i in range(1, n + 1)]
    label = np.array([0, 1] * (n // 2) + [1] * (n % 2))
    cohort = np.array(["train"] * n_train + ["validation"] * n_val)
    age = np.round(55 + 8 * label + rng.normal(0, 9, n), 0)
    age[[2, n_train + 1]] = np.nan
    table = pd.DataFrame(
        {
            "patient": patients,
            "cohort": cohort,
            "label": label,
            "age": age,
            "sex": np.where(rng.random(n) < 0.4 + 0.3 * label, "male", "female"),
            "margin": rng.choice(["smooth", "lobulated", "irregular"], n),
            "cdfi_grade": rng.integers(0, 4, n),
        }
    )
    table.loc[5, "sex"] = np.nan
    run_path.mkdir(parents=True, exist_ok=True)
    table.to_csv(run_path / "cohort.csv", index=False)
    pd.DataFrame(
        {
            "variable": ["age", "sex", "margin", "cdfi_grade"],
            "type": ["numeric", "binary", "categorical", "ordinal"],
            "unit": ["years", "", "", "grade"],
            "allowed": ["", "female; male", "smooth; lobulated; irregular", "0; 1; 2; 3"],
            "levels": ["", "female; male", "smooth; lobulated; irregular", "0; 1; 2; 3"],
            "description": ["age", "sex", "margin", "CDFI grade"],
        }
    ).to_csv(run_path / "variables.csv", index=False)
    (run_path / "features").mkdir(exist_ok=True)
    rad = pd.DataFrame(rng.normal(size=(n, 12)), columns=[f"original_firstorder_F{i}" for i in range(12)])
    rad.iloc[:, :3] += 1.2 * label[:, None]
    dtl = pd.DataFrame(rng.normal(size=(n, 8)), columns=[f"DTL_{i:03d}" for i in range(1, 9)])
    dtl.iloc[:, :2] += 1.0 * label[:, None]
    for frame, name in ((rad, "rad_candidates"), (dtl, "dtl_candidates")):
        frame.index = pd.Index(patients, name="patient")
        frame.to_parquet(run_path / "features" / f"{name}.parquet")
    results = {
        "clinical": {"predictors": ["age", "sex", "margin", "cdfi_grade"]},
        "radiomics": {"selected": list(rad.columns[:4])},
        "deep": {"selected": list(dtl.columns[:3])},
    }
    (run_path / "results.json").write_text(json.dumps(results))
    clinical = np.clip(0.5 + 0.3 * (label - 0.5) + rng.normal(0, 0.15, n), 0.01, 0.99)
    predictions.save(
        run_path,
        pd.DataFrame(
            {"patient": patients, "cohort": cohort, "label": label, "model": "Clinical", "score": clinical}
        ),
    )
    return run_path


def kbest_selector(settings, source):
    """A real, cheap stand-in for the selection pipeline of notebooks 03/04."""
    return Pipeline([("z", StandardScaler()), ("kbest", SelectKBest(f_classif, k=3))])


def fake_settings(run_path: Path, **models_overrides):
    overrides = {"models": {"cv_folds": 3, "svm_C": [1.0], "svm_gamma": ["scale"], **models_overrides}}
    return load_profile("smoke", overrides=overrides, run_dir=run_path)


def fit(run_path: Path, save: bool = True, **models_overrides) -> models.FittedModels:
    settings = fake_settings(run_path, **models_overrides)
    return models.fit_models(
        settings, run_path, selector_factory=kbest_selector, n_jobs=1, save=save, progress=False
    )


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    run_path = make_fake_run(tmp_path_factory.mktemp("run"))
    return run_path, fit(run_path)


def test_predictions_table_shape(fitted):
    run_path, result = fitted
    table = predictions.load(run_path)
    expected = {"Clinical", "Rad", "DTL", "DLR", "CDLR", "Clinical-SVM"}
    assert set(table["model"]) == expected
    counts = table.groupby(["model", "cohort"]).size().unstack()
    assert (counts["train"] == N_TRAIN).all() and (counts["validation"] == N_VAL).all()
    assert table["score"].between(0, 1).all()
    assert not table.duplicated(["patient", "model"]).any()
    assert list(table.columns) == predictions.COLUMNS


def test_cdlr_is_trained_on_out_of_fold_dlr_scores(fitted):
    run_path, result = fitted
    table = predictions.load(run_path)
    oof_dlr = table[(table.model == "DLR") & (table.cohort == "train")].set_index("patient")["score"]
    fed = result.cdlr_train_dlr_score
    np.testing.assert_allclose(fed.loc[oof_dlr.index].to_numpy(), oof_dlr.to_numpy(), atol=1e-12)
    # ... and not the in-sample scores of the DLR fitted on all training rows
    X, y, cohort = models.model_inputs(run_path, "DLR")
    in_sample = result.estimators["DLR"].predict_proba(X[cohort == "train"])[:, 1]
    assert np.abs(in_sample - fed.to_numpy()).max() > 1e-3
    # the saved CDLR input frame carries exactly those scores
    X_cdlr, _, cohort_cdlr = models.model_inputs(run_path, "CDLR")
    np.testing.assert_allclose(
        X_cdlr.loc[cohort_cdlr == "train", models.SCORE_NAME], fed.to_numpy(), atol=1e-12
    )


def test_oof_scores_are_out_of_fold(fitted):
    """The Rad OOF scores equal a manual nested cross_val_predict, and differ from in-sample scores."""
    run_path, result = fitted
    settings = fake_settings(run_path)
    X, y, cohort = models.model_inputs(run_path, "Rad")
    rad = pd.read_parquet(run_path / "features" / "rad_candidates.parquet").loc[X.index]
    train = (cohort == "train").to_numpy()
    nested = Pipeline(
        [
            ("select", kbest_selector(settings, "radiomics")),
            ("svm", models.svm_from_settings(settings.models, settings.seed)),
        ]
    )
    manual = cross_val_predict(
        nested, rad[train], y[train], cv=models.folds(3, settings.seed), method="predict_proba"
    )[:, 1]
    table = predictions.load(run_path)
    saved = (
        table[(table.model == "Rad") & (table.cohort == "train")]
        .set_index("patient")
        .loc[X.index[train], "score"]
    )
    np.testing.assert_allclose(saved.to_numpy(), manual, atol=1e-12)


def test_validation_rows_never_influence_fitted_models(fitted, tmp_path):
    run_path, result = fitted
    altered = make_fake_run(tmp_path / "altered")
    cohort = pd.read_csv(altered / "cohort.csv")
    val = cohort["cohort"] == "validation"
    cohort.loc[val, "label"] = 1 - cohort.loc[val, "label"]
    cohort.loc[val, "age"] = 99.0
    cohort.loc[val, "margin"] = "irregular"
    cohort.loc[val, "sex"] = np.nan
    cohort.to_csv(altered / "cohort.csv", index=False)
    for name in ("rad_candidates", "dtl_candidates"):
        path = altered / "features" / f"{name}.parquet"
        frame = pd.read_parquet(path)
        frame.loc[val.to_numpy()] = frame.loc[val.to_numpy()] * -3 + 7
        frame.to_parquet(path)
    other = fit(altered, save=False)
    assert other.best_params == result.best_params
    train_rows = result.predictions["cohort"] == "train"
    np.testing.assert_array_equal(
        other.predictions.loc[train_rows, "score"].to_numpy(),
        result.predictions.loc[train_rows, "score"].to_numpy(),
    )
    for name in ("Rad", "DTL", "DLR", "CDLR", "Clinical-SVM"):
        X, _, cohort_series = models.model_inputs(run_path, name)
        X_train = X[cohort_series == "train"]
        np.testing.assert_array_equal(
            result.payloads[name]["estimator"].predict_proba(X_train),
            other.payloads[name]["estimator"].predict_proba(X_train),
        )


def test_determinism_with_the_same_seed(fitted, tmp_path):
    run_path, result = fitted
    again = fit(make_fake_run(tmp_path / "again"), save=False)
    pd.testing.assert_frame_equal(again.predictions, result.predictions)


def test_paper_compatible_adds_the_in_sample_rows(tmp_path):
    run_path = make_fake_run(tmp_path / "paper")
    result = fit(run_path, paper_compatible=True, clinical_svm=False)
    table = predictions.load(run_path)
    assert models.IN_SAMPLE in set(table["model"]) and "Clinical-SVM" not in set(table["model"])
    assert (table["model"] == models.IN_SAMPLE).sum() == N_TRAIN + N_VAL
    assert models.model_path(run_path, models.IN_SAMPLE).name == "CDLR_in-sample_stacking.joblib"
    X, _, cohort = models.model_inputs(run_path, models.IN_SAMPLE)
    dlr_in_sample = result.estimators["DLR"].predict_proba(
        models.model_inputs(run_path, "DLR")[0][cohort == "train"]
    )[:, 1]
    np.testing.assert_allclose(X.loc[cohort == "train", models.SCORE_NAME], dlr_in_sample, atol=1e-12)


def test_saved_payload_and_model_inputs(fitted):
    run_path, result = fitted
    for name in ("Rad", "DTL", "DLR", "CDLR", "Clinical-SVM"):
        payload = models.load_model(run_path, name)
        assert set(payload) >= {"estimator", "features", "settings", "best_params"}
        assert payload["best_params"] == {"C": 1.0, "gamma": "scale"}
        X, y, cohort = models.model_inputs(run_path, name)
        assert list(X.columns) == payload["features"] and len(X) == N_TRAIN + N_VAL
        assert np.isfinite(X.to_numpy(dtype=float)).all()  # numeric and imputed: ready for SHAP
        val = (cohort == "validation").to_numpy()
        table = predictions.load(run_path)
        saved = (
            table[(table.model == name) & (table.cohort == "validation")]
            .set_index("patient")
            .loc[X.index[val]]
        )
        np.testing.assert_allclose(
            payload["estimator"].predict_proba(X[val])[:, 1], saved["score"], atol=1e-9
        )


def test_bad_input_names_patient_and_file(tmp_path):
    run_path = make_fake_run(tmp_path / "bad")
    path = run_path / "features" / "rad_candidates.parquet"
    frame = pd.read_parquet(path)
    frame.iloc[3, 1] = np.nan
    frame.to_parquet(path)
    with pytest.raises(ValueError, match=r"rad_candidates.parquet.*P0004.*original_firstorder_F1"):
        fit(run_path, save=False)


def test_platt_sigmoid_matches_sklearn_reference():
    """Newton (Lin, Lin & Weng 2007) against scikit-learn's independent L-BFGS fit of Platt's objective.

    Reference: ``sklearn.calibration._sigmoid_calibration`` (scikit-learn 1.9.1), which minimises the
    same smoothed-target log loss with scipy's L-BFGS-B; agreement to 1e-4 is what that solver reaches.
    """
    from sklearn.calibration import _sigmoid_calibration

    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 80)
    decision = 1.5 * (y - 0.5) + rng.normal(0, 1, 80)
    a, b = models.estimators.platt_sigmoid(decision, y)
    ref_a, ref_b = _sigmoid_calibration(decision, y)
    np.testing.assert_allclose([a, b], [ref_a, ref_b], atol=1e-4)
    assert a < 0  # larger decision values -> higher probability


def test_tuned_svm_chooses_what_gridsearchcv_chooses():
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GridSearchCV
    from sklearn.svm import SVC

    rng = np.random.default_rng(5)
    X = rng.normal(size=(60, 5))
    y = (X[:, 0] + 0.8 * rng.normal(size=60) > 0).astype(int)
    grid = {"C": [0.1, 1.0, 10.0], "gamma": ["scale", 0.05]}
    est = models.estimators.TunedPlattSVM(C=grid["C"], gamma=grid["gamma"], cv_folds=4, random_state=7).fit(
        X, y
    )
    reference = GridSearchCV(
        Pipeline([("scale", StandardScaler()), ("svc", SVC(kernel="rbf"))]),
        {"svc__C": grid["C"], "svc__gamma": grid["gamma"]},
        scoring="roc_auc",
        cv=models.folds(4, 7),
    ).fit(X, y)
    np.testing.assert_allclose(
        est.cv_results_["mean_test_score"], reference.cv_results_["mean_test_score"], atol=1e-12
    )
    assert est.best_params_ == {k.split("__")[1]: v for k, v in reference.best_params_.items()}
    proba = est.predict_proba(X)
    assert proba.shape == (60, 2) and np.allclose(proba.sum(axis=1), 1)
    assert roc_auc_score(y, proba[:, 1]) > 0.8


# --- evaluation from the predictions table (splkit.models.evaluation) and its figures -------------


def test_training_youden_threshold_is_applied_unchanged_to_validation(fitted):
    from splkit.models import evaluation as ev

    run_path, _ = fitted
    table = predictions.load(run_path)
    settings = fake_settings(run_path)
    metrics = ev.evaluate_all(table, settings).set_index(["cohort", "model"])
    train_thresholds = ev.youden_thresholds(table, "train")
    for model, threshold in train_thresholds.items():
        assert metrics.loc[("train", model), "threshold"] == threshold
        assert metrics.loc[("validation", model), "threshold"] == threshold
    own = ev.evaluate_all(table, settings, threshold_cohort=None, cohorts=["validation"]).set_index("model")
    assert own["threshold"].to_dict() == ev.youden_thresholds(table, "validation")
    perf = ev.performance_table(metrics.reset_index(), "validation")
    assert list(perf.index) == ["Clinical", "Clinical-SVM", "Rad", "DTL", "DLR", "CDLR"]
    assert perf.columns[:2].tolist() == ["AUC (95% CI, DeLong)", "AUC (95% CI, bootstrap)"]


def test_delong_holm_and_reclassification(fitted):
    from splkit.models import evaluation as ev

    run_path, _ = fitted
    table = predictions.load(run_path)
    pairs = ev.delong_comparisons(table, "validation")
    assert len(pairs) == 6 * 5 // 2
    assert (pairs["p_holm"] >= pairs["p"] - 1e-15).all() and pairs["p_holm"].le(1).all()
    raw, holm = ev.delong_matrices(table, "validation")
    for row in pairs.itertuples():
        assert raw.loc[row.model_a, row.model_b] == pytest.approx(row.p)
        assert holm.loc[row.model_b, row.model_a] == pytest.approx(row.p_holm)
    nri_idi = ev.reclassification(table, "validation", "CDLR")
    assert sorted(nri_idi["old"]) == sorted(["Clinical", "Clinical-SVM", "Rad", "DTL", "DLR"])
    assert nri_idi[["nri", "idi", "nri_p", "idi_p"]].notna().all().all()
    family = ev.family_comparisons(pairs, "CDLR")
    assert sorted(family.index) == sorted(nri_idi["old"])
    assert (family["p (Holm, CDLR family)"] >= family["p (DeLong)"] - 1e-4).all()
    rad = pairs[(pairs.model_a == "Rad") & (pairs.model_b == "CDLR")].iloc[0]
    assert family.loc["Rad", "AUC CDLR − model"] == pytest.approx(-rad.difference, abs=1e-3)
    shown = ev.reclassification_table(nri_idi)
    assert shown.index.names == ["Cohort", "CDLR versus"] and "NRI (95% CI)" in shown.columns
    avoided = ev.biopsies_table(table, "validation", [0.1, 0.3])
    assert avoided.columns.tolist() == ["at 10%", "at 30%"]


def test_record_evaluation_keys(fitted, tmp_path):
    from splkit.models import evaluation as ev
    from splkit.run.report import load_results

    run_path, result = fitted
    table = predictions.load(run_path)
    metrics = ev.evaluate_all(table, fake_settings(run_path))
    pairs = {"validation": ev.delong_comparisons(table, "validation")}
    ev.record_evaluation(
        tmp_path, metrics, pairs, ev.reclassification(table, "validation"), result.best_params
    )
    results = load_results(tmp_path)
    cdlr = results["models"]["CDLR"]["validation"]
    for key in (
        "auc",
        "auc_delong_low",
        "auc_boot_high",
        "threshold",
        "sensitivity_low",
        "f1_high",
        "brier",
        "cal_slope",
        "hl_statistic",
        "hl_df",
        "hl_p",
    ):
        assert key in cdlr
    assert results["models"]["Rad"]["best_params"] == {"C": 1.0, "gamma": "scale"}
    assert 0 <= results["delong"]["validation"]["Rad_vs_CDLR"] <= 1
    assert len(results["models"]["nri_idi"]) == 5


def test_cohort_scores_names_the_missing_patient(fitted):
    from splkit.models import evaluation as ev

    run_path, _ = fitted
    table = predictions.load(run_path)
    gap = table.drop(table.index[(table.model == "Rad") & (table.patient == "P0040")])
    with pytest.raises(ValueError, match="'Rad' has no score for patient P0040"):
        ev.cohort_scores(gap, "validation")


def test_nested_selection_with_the_project_selection_pipeline(tmp_path):
    """With splkit.selection (notebook 03's chain), OOF scores refit the selection in every fold."""
    pytest.importorskip("splkit.selection")
    run_path = make_fake_run(tmp_path / "nested", n_train=60, n_val=14)
    settings = load_profile(
        "smoke",
        overrides={
            "models": {"cv_folds": 3, "svm_C": [1.0], "svm_gamma": ["scale"]},
            "selection": {"lasso_cv_folds": 3, "lasso_n_alphas": 10},
        },
        run_dir=run_path,
    )
    result = models.fit_models(settings, run_path, n_jobs=1, save=False, progress=False)
    table = result.predictions
    assert set(table["model"]) == {"Rad", "DTL", "DLR", "CDLR", "Clinical-SVM"}
    assert table["score"].between(0, 1).all()


class _CountingScaler(StandardScaler):
    """StandardScaler that counts its fits (class-level, so clones share the count)."""

    fits = 0

    def fit(self, X, y=None, **kwargs):
        type(self).fits += 1
        return super().fit(X, y, **kwargs)


def test_stack_freeze_steps_fits_the_selection_once_and_inner_folds_reuse_it():
    from sklearn.linear_model import LogisticRegression

    from splkit.models.estimators import StackedClassifier

    rng = np.random.default_rng(3)
    X = pd.DataFrame(rng.normal(size=(90, 5)), columns=[f"f{i}" for i in range(4)] + ["c"])
    y = (X["f0"] + rng.normal(size=90) > 0).astype(int).to_numpy()
    base = Pipeline([("select", _CountingScaler()), ("clf", LogisticRegression())])
    meta = LogisticRegression()
    cols = ["f0", "f1", "f2", "f3"]
    _CountingScaler.fits = 0
    stack = StackedClassifier(base, meta, cols, ["c"], 3, 0, "s", freeze_steps=("select",)).fit(X, y)
    assert _CountingScaler.fits == 1  # base_ only; the 3 inner folds reuse it
    inner = stack._inner_base()
    assert inner.named_steps["select"].estimator is stack.base_.named_steps["select"]
    _CountingScaler.fits = 0
    StackedClassifier(base, meta, cols, ["c"], 3, 0, "s").fit(X, y)
    assert _CountingScaler.fits == 4  # refitted in every inner fold
    with pytest.raises(ValueError, match="not steps of the base pipeline"):
        StackedClassifier(base, meta, cols, ["c"], 3, 0, "s", freeze_steps=("nope",)).fit(X, y)


def test_selection_cache_returns_the_same_selection_without_refitting(tmp_path):
    import joblib

    from splkit.models.fit import _selection_step

    rng = np.random.default_rng(4)
    X = pd.DataFrame(rng.normal(size=(60, 6)), columns=[f"r{i}" for i in range(6)])
    y = (X["r0"] + rng.normal(size=60) > 0).astype(int).to_numpy()
    calls = []

    def factory(settings, source):
        calls.append(source)
        return Pipeline([("z", _CountingScaler()), ("kbest", SelectKBest(f_classif, k=2))])

    memory = joblib.Memory(tmp_path / "cache", verbose=0)
    _CountingScaler.fits = 0
    first = _selection_step(factory, None, {"radiomics": list(X.columns)}, memory).fit(X, y)
    second = _selection_step(factory, None, {"radiomics": list(X.columns)}, memory).fit(X, y)
    assert _CountingScaler.fits == 1  # the second fit is a cache hit
    np.testing.assert_array_equal(first.transform(X), second.transform(X))
    other_rows = _selection_step(factory, None, {"radiomics": list(X.columns)}, memory)
    other_rows.fit(X.iloc[:50], y[:50])
    assert _CountingScaler.fits == 2  # other rows: fitted anew


def test_fit_models_cache_hits_on_identical_inputs_and_misses_on_changed_ones(tmp_path, monkeypatch):
    from splkit.models import fit as fit_module
    from splkit.run.cache import ContentCache

    run_path = make_fake_run(tmp_path / "run")
    monkeypatch.setattr(fit_module, "CACHE", ContentCache(tmp_path / "cache"))
    settings = fake_settings(run_path)

    def fit_cached(**kwargs):
        return models.fit_models(
            settings,
            run_path,
            selector_factory=kbest_selector,
            n_jobs=1,
            progress=False,
            cache=True,
            **kwargs,
        )

    first = fit_cached()
    assert len(list((tmp_path / "cache").rglob("*.joblib"))) == 1
    real_fit = fit_module._fit_models
    monkeypatch.setattr(
        fit_module, "_fit_models", lambda *a, **k: pytest.fail("cache miss on identical inputs")
    )
    (run_path / "predictions.csv").unlink()
    second = fit_cached()
    pd.testing.assert_frame_equal(first.predictions, second.predictions)
    assert (run_path / "predictions.csv").exists()  # a cache hit still writes the run's outputs
    monkeypatch.setattr(fit_module, "_fit_models", real_fit)
    cohort = pd.read_csv(run_path / "cohort.csv")
    cohort.loc[cohort["cohort"] == "train", "label"] = cohort.loc[cohort["cohort"] == "train", "label"][
        ::-1
    ].to_numpy()
    cohort.to_csv(run_path / "cohort.csv", index=False)
    fit_cached()  # other labels: refitted
    assert len(list((tmp_path / "cache").rglob("*.joblib"))) == 2


def test_fit_cache_key_covers_the_whole_selection_package_and_the_models_code():
    from splkit.models import fit as fit_module

    root = Path(fit_module.__file__).parent.parent
    files = {p.relative_to(root).as_posix() for p in fit_module._source_files()}
    selection = {p.relative_to(root).as_posix() for p in (root / "selection").glob("*.py")}
    assert selection and selection <= files
    assert {"models/fit.py", "models/inputs.py", "models/estimators.py", "models/data.py"} <= files
    assert {"clinical/encoding.py", "stats/_checks.py"} <= files  # run by the fits, outside those folders
    assert len(fit_module._source_digest()) == 64
