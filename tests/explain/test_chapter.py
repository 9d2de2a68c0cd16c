"""Chapter 6's glue on a small fake run: SHAP of saved models (keys recorded, additive, seeded sample),
the four validation cases, the SHAP plots and the Grad-CAM figure of the DTL classifier."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from deep._synthetic import DEEP, SyntheticCohort, chapter_settings  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

import splkit.cohort  # noqa: E402
import splkit.explain.shapley as shapley  # noqa: E402
import splkit.models  # noqa: E402
from splkit.config import Settings  # noqa: E402
from splkit.deep import gradcam  # noqa: E402
from splkit.deep.backbones import build_backbone, resolve_backbone  # noqa: E402
from splkit.deep.compress import compress_embeddings  # noqa: E402
from splkit.deep.embed import embed_patients  # noqa: E402
from splkit.explain import chapter, external  # noqa: E402
from splkit.run import predictions  # noqa: E402
from splkit.run.report import load_results, record  # noqa: E402


def build_fake_run(folder, n: int, seed: int, n_external: int = 0):
    """``n`` synthetic patients (the last ``n_external`` marked external), a saved logistic 'model' on three
    inputs, CDLR predictions (of every patient, or only the non-training ones when some are external) and a
    Grad-CAM model."""
    cohort = SyntheticCohort(folder / "cohort", n=n, shape=(72, 96), seed=seed)
    if n_external:
        cohort.table.loc[cohort.table.index[n - n_external :], "cohort"] = "external"
    settings = chapter_settings(folder / "run")
    table = cohort.table
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 3)), index=table.index, columns=["f0", "f1", "dlr_score"])
    X["f0"] += 1.5 * table["label"]
    train = table["cohort"] == "train"
    fitted = {"estimator": LogisticRegression().fit(X[train], table.loc[train, "label"])}
    scores = table.reset_index().assign(model="CDLR", score=fitted["estimator"].predict_proba(X)[:, 1])
    if n_external:
        scores = scores[~train.to_numpy()]
    predictions.save(settings.run_path, scores[predictions.COLUMNS])
    record(settings.run_path, "models.CDLR.train.threshold", 0.5)
    spec = resolve_backbone(DEEP)
    emb = embed_patients(build_backbone(spec), cohort, DEEP, cache_dir=None, progress=False)
    candidates, compressor = compress_embeddings(emb.table, table.index[train], 4, random_state=0)
    head = gradcam.fit_gradcam_head(
        candidates, table["label"], table.index[train], cv_folds=2, random_state=0
    )
    gradcam.save_gradcam_model(settings.run_path, spec, compressor, head, DEEP)
    return settings, cohort, fitted, X


def point_chapter_at(run, monkeypatch, tmp_path):
    """The fake run with splkit.models / splkit.cohort pointed at it and the SHAP cache in tmp_path."""
    settings, cohort, fitted, X = run
    monkeypatch.setattr(splkit.models, "load_model", lambda run_path, name: fitted)
    monkeypatch.setattr(
        splkit.models,
        "model_inputs",
        lambda run_path, name: (X, cohort.table["label"], cohort.table["cohort"]),
    )
    monkeypatch.setattr(splkit.cohort, "load_cohort_for", lambda settings: cohort)
    monkeypatch.setattr(shapley, "CACHE_DIR", tmp_path / "shap")
    return run


@pytest.fixture(scope="module")
def fake_run(tmp_path_factory):
    """24 synthetic patients (16 training), two saved 'models', CDLR predictions, a Grad-CAM model."""
    return build_fake_run(tmp_path_factory.mktemp("explain"), n=24, seed=0)


@pytest.fixture
def saved(fake_run, monkeypatch, tmp_path):
    return point_chapter_at(fake_run, monkeypatch, tmp_path)


def test_explain_models_records_additive_seeded_explanations(saved):
    settings, cohort, fitted, X = saved
    explained = chapter.explain_models(settings, ["DLR", "CDLR"])
    assert list(explained) == ["DLR", "CDLR"]
    valid = X[cohort.table["cohort"] == "validation"]
    n = settings.explain.shap_n_explain  # 10 in the smoke profile, more than the 8 validation patients
    expected = valid if len(valid) <= n else valid.sample(n=n, random_state=settings.seed).sort_index()
    dlr = explained["DLR"]
    assert dlr.result.patients == list(expected.index) and dlr.additivity_error < 1e-9
    assert dlr.summary.startswith("DLR: exact explainer, 8 validation patients, 10 background patients")
    stored = load_results(settings.run_path)["explain"]["DLR"]
    assert stored["method"] == "exact" and stored["n_explained"] == 8
    assert set(stored["mean_abs_shap"]) == {"f0", "f1", "dlr_score"}


def test_shap_plots_and_largest_share(saved, monkeypatch):
    settings = saved[0]
    titles = []
    monkeypatch.setattr(plt, "show", lambda: (titles.append(plt.gca().get_title()), plt.close("all")))
    explained = chapter.explain_models(settings, ["CDLR"])["CDLR"]
    chapter.shap_plots(explained)
    assert titles == [
        "CDLR model: SHAP values on the validation cohort",
        "CDLR model: mean |SHAP| per feature",
    ]
    text = chapter.largest_share(explained)
    top = explained.result.mean_abs().index[0]
    assert text.startswith(
        f"In the validation cohort, **{top}** carries the largest share of the CDLR model's"
    )


def test_validation_cases_and_waterfalls(saved, monkeypatch):
    settings = saved[0]
    cases = chapter.validation_cases(settings)
    assert cases.threshold == 0.5 and "**0.500**" in cases.threshold_text
    assert set(cases.table["case"]) <= {"TP", "TN", "FP", "FN"} and len(cases.table) >= 2
    assert list(cases.shown.columns) == ["case", "patient", "label (1 = malignant)", "CDLR probability"]
    assert load_results(settings.run_path)["explain"]["cases"] == cases.table.to_dict(orient="records")
    titles = []
    monkeypatch.setattr(plt, "show", lambda: (titles.append(plt.gca().get_title()), plt.close("all")))
    chapter.waterfall_plots(chapter.explain_models(settings, ["CDLR"])["CDLR"], cases)
    assert len(titles) == len(cases.table)  # every case patient is among the explained ones here
    assert titles[0].startswith(f"{cases.table.case[0]}: {cases.table.patient[0]}, CDLR P(malignant) = ")


def test_validation_cases_need_chapter_5(saved, tmp_path):
    settings = chapter_settings(tmp_path / "empty")
    with pytest.raises(KeyError, match="run chapter 5 first"):
        chapter.validation_cases(settings)


def test_gradcam_figure_shows_the_cases_and_seeded_others(saved):
    profile = saved[0].to_dict()
    settings = Settings({**profile, "explain": {**profile["explain"], "gradcam_n_extra": 2}})
    cases = chapter.validation_cases(settings)
    fig = chapter.gradcam_figure(settings, cases)
    captions = [annotation.text for annotation in fig.layout.annotations]
    assert len(captions) == len(cases.table) + 2
    first = cases.table.iloc[0]
    assert captions[0] == f"{first.patient} · {first.case}<br>CDLR p = {first.score:.2f}"
    others = [caption.split(" · ")[0] for caption in captions if " · other<br>" in caption]
    assert len(others) == 2 and not set(others) & set(cases.table.patient)
    again = chapter.gradcam_figure(settings, cases)  # the other patients are drawn with the run's seed
    assert [annotation.text for annotation in again.layout.annotations] == captions


# --------------------------------------------------------------------- an external cohort (issue 14)


@pytest.fixture(autouse=True)
def _fresh_external_patients():
    """Each test loads the external patients of its own fake run."""
    external.LOADED.clear()
    yield
    external.LOADED.clear()


def test_a_run_without_external_patients_shows_none(saved):
    settings = saved[0]
    assert chapter.external_note(settings) == ""
    explained = chapter.explain_models(settings, ["CDLR"])["CDLR"]
    assert list(explained.results) == ["validation"]
    assert "cohort" not in chapter.validation_cases(settings).table.columns


@pytest.fixture(scope="module")
def external_run(tmp_path_factory):
    """30 synthetic patients: 20 training, 4 validation and 6 marked external by the cohort column."""
    return build_fake_run(tmp_path_factory.mktemp("explain_external"), n=30, seed=1, n_external=6)


@pytest.fixture
def saved_external(external_run, monkeypatch, tmp_path):
    return point_chapter_at(external_run, monkeypatch, tmp_path)


def _shown_titles(monkeypatch):
    titles = []
    monkeypatch.setattr(plt, "show", lambda: (titles.append(plt.gca().get_title()), plt.close("all")))
    return titles


def test_external_patients_are_explained_beside_validation(saved_external, monkeypatch):
    settings = saved_external[0]
    assert "the 6 patients the cohort marks as external" in chapter.external_note(settings)
    explained = chapter.explain_models(settings, ["DLR", "CDLR"])
    cdlr = explained["CDLR"]
    assert list(cdlr.results) == ["validation", "external"]
    assert [len(r.patients) for r in cdlr.results.values()] == [4, 6]
    assert cdlr.summary.startswith("CDLR: exact explainer, 4 validation and 6 external patients")
    assert cdlr.additivity_error < 1e-9
    stored = load_results(settings.run_path)["explain"]["CDLR"]
    assert stored["n_explained"] == 4 and stored["external"]["n_explained"] == 6
    assert set(stored["external"]["mean_abs_shap"]) == {"f0", "f1", "dlr_score"}
    titles = _shown_titles(monkeypatch)
    chapter.shap_plots(cdlr)
    assert titles == [
        "CDLR model: SHAP values on the validation cohort",
        "CDLR model: SHAP values on the external cohort",
        "CDLR model: mean |SHAP| per feature and cohort",
    ]
    assert "In the external cohort, **" in chapter.largest_share(cdlr)


def test_external_cases_waterfalls_and_gradcam(saved_external, monkeypatch):
    settings = saved_external[0]
    cases = chapter.validation_cases(settings)
    assert list(cases.table.columns) == ["cohort", "case", "patient", "label", "score"]
    external_cases = cases.table[cases.table.cohort == "external"]
    assert len(external_cases) >= 2 and set(external_cases.patient) <= set(saved_external[1].table.index[24:])
    stored = load_results(settings.run_path)["explain"]
    assert stored["external"]["cases"] == external_cases.drop(columns="cohort").to_dict(orient="records")
    titles = _shown_titles(monkeypatch)
    chapter.waterfall_plots(chapter.explain_models(settings, ["CDLR"])["CDLR"], cases)
    assert len(titles) == len(cases.table) and sum(t.startswith("external ") for t in titles) == len(
        external_cases
    )
    captions = [a.text for a in chapter.gradcam_figure(settings, cases).layout.annotations]
    assert sum(" · external " in caption for caption in captions) == len(external_cases)


def test_an_external_cohort_folder_scored_by_the_study(saved, monkeypatch, tmp_path):
    """The ``study`` source: other images, ``E`` pseudonyms, design rows built by the study."""
    settings, _, fitted, X = saved
    other = SyntheticCohort(tmp_path / "external", n=6, shape=(72, 96), seed=2)
    rename = {p: "E" + p[1:] for p in other.table.index}
    other.table = other.table.rename(index=rename).assign(cohort="external")
    other.images = {rename[p]: f for p, f in other.images.items()}
    other.masks = {rename[p]: f for p, f in other.masks.items()}
    design = pd.DataFrame(
        np.random.default_rng(3).normal(size=(6, 3)), index=other.table.index, columns=X.columns
    )
    scores = other.table.reset_index()[["patient", "cohort", "label"]].assign(
        model="CDLR", score=fitted["estimator"].predict_proba(design)[:, 1]
    )
    patients = external.ExternalPatients("study", other, scores, designs={"CDLR": design})
    monkeypatch.setattr(chapter, "external_patients", lambda settings: patients)
    assert "read and scored by the study saved in chapter 5" in chapter.external_note(settings)
    explained = chapter.explain_models(settings, ["CDLR"])["CDLR"]
    assert explained.results["external"].patients == list(design.index)
    cases = chapter.validation_cases(settings)
    captions = [a.text for a in chapter.gradcam_figure(settings, cases).layout.annotations]
    assert any(caption.startswith("E0") and " · external " in caption for caption in captions)


def test_a_case_outside_the_sample_gets_its_waterfall(saved, monkeypatch):
    profile = saved[0].to_dict()
    settings = Settings({**profile, "explain": {**profile["explain"], "shap_n_explain": 2}})
    explained = chapter.explain_models(settings, ["CDLR"])["CDLR"]
    cases = chapter.validation_cases(settings)
    outside = [p for p in cases.table.patient if p not in explained.result.patients]
    assert outside  # two of eight validation patients are sampled: some case is outside the sample
    titles = _shown_titles(monkeypatch)
    chapter.waterfall_plots(explained, cases)
    assert len(titles) == len(cases.table)
    alone = explained.explanation(outside[0])
    full = chapter.explain_models(saved[0], ["CDLR"])["CDLR"].explanation(outside[0])
    np.testing.assert_allclose(alone.values, full.values, atol=1e-12)  # exact values: the same either way


def test_external_inputs_that_do_not_reproduce_the_scores_are_an_error(saved, tmp_path):
    _, cohort, fitted, X = saved
    design = X.iloc[:3].rename(index=lambda p: "E" + p[1:])
    scores = pd.DataFrame({"patient": design.index, "cohort": "external", "label": 0, "model": "CDLR"})
    wrong = external.ExternalPatients("study", cohort, scores.assign(score=0.5), designs={"CDLR": design})
    with pytest.raises(ValueError, match="CDLR model's inputs rebuilt for the external patients"):
        wrong.checked_inputs("CDLR", X, cohort.table["cohort"], fitted["estimator"])
    right = scores.assign(score=fitted["estimator"].predict_proba(design)[:, 1])
    ok = external.ExternalPatients("study", cohort, right, designs={"CDLR": design})
    assert ok.checked_inputs("CDLR", X, cohort.table["cohort"], fitted["estimator"]) is design
