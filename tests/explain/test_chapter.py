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
from splkit.explain import chapter  # noqa: E402
from splkit.run import predictions  # noqa: E402
from splkit.run.report import load_results, record  # noqa: E402


@pytest.fixture(scope="module")
def fake_run(tmp_path_factory):
    """24 synthetic patients (16 training), two saved 'models', CDLR predictions, a Grad-CAM model."""
    folder = tmp_path_factory.mktemp("explain")
    cohort = SyntheticCohort(folder / "cohort", n=24, shape=(72, 96))
    settings = chapter_settings(folder / "run")
    table = cohort.table
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(24, 3)), index=table.index, columns=["f0", "f1", "dlr_score"])
    X["f0"] += 1.5 * table["label"]
    train = table["cohort"] == "train"
    fitted = {"estimator": LogisticRegression().fit(X[train], table.loc[train, "label"])}
    scores = fitted["estimator"].predict_proba(X)[:, 1]
    predictions.save(
        settings.run_path,
        table.reset_index().assign(model="CDLR", score=scores)[predictions.COLUMNS],
    )
    record(settings.run_path, "models.CDLR.train.threshold", 0.5)
    spec = resolve_backbone(DEEP)
    emb = embed_patients(build_backbone(spec), cohort, DEEP, cache_dir=None, progress=False)
    candidates, compressor = compress_embeddings(emb.table, table.index[train], 4, random_state=0)
    head = gradcam.fit_gradcam_head(
        candidates, table["label"], table.index[train], cv_folds=2, random_state=0
    )
    gradcam.save_gradcam_model(settings.run_path, spec, compressor, head, DEEP)
    return settings, cohort, fitted, X


@pytest.fixture
def saved(fake_run, monkeypatch, tmp_path):
    """The fake run with splkit.models / splkit.cohort pointed at it and the SHAP cache in tmp_path."""
    settings, cohort, fitted, X = fake_run
    monkeypatch.setattr(splkit.models, "load_model", lambda run_path, name: fitted)
    monkeypatch.setattr(
        splkit.models,
        "model_inputs",
        lambda run_path, name: (X, cohort.table["label"], cohort.table["cohort"]),
    )
    monkeypatch.setattr(splkit.cohort, "load_cohort_for", lambda settings: cohort)
    monkeypatch.setattr(shapley, "CACHE_DIR", tmp_path / "shap")
    return settings, cohort, fitted, X


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
