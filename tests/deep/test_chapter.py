"""Chapter 4's glue on a tiny synthetic cohort: both branches (PCA and ``deep.finetune: true``) write the
run-directory files, record the ``deep.*`` keys and return what the notebook shows."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
import torch
from deep._synthetic import SyntheticCohort, chapter_settings

from splkit.deep import finetune, gradcam
from splkit.deep.chapter import DeepChapter
from splkit.run.report import load_results
from splkit.run.rundir import RunDir


def run_chapter(folder, **deep) -> tuple[DeepChapter, dict]:
    """Every step of the chapter, in the notebook's order; returns the chapter and what each step gave."""
    cohort = SyntheticCohort(folder / "cohort", n=24, shape=(72, 96))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # deep.finetune without a GPU
        chapter = DeepChapter(chapter_settings(folder / "run", **deep), progress=False, cache_dir=None)
    shown = {
        "backbone": chapter.resolve_backbone(),
        "crops": chapter.load_cohort(cohort),
        "embed": chapter.embed(),
        "compress": chapter.compress(),
        "compression_text": chapter.compression_text(),
        "scatter": chapter.scatter_figure(),
        "selection": chapter.select(),
        "gradcam": chapter.gradcam_examples(),
        "inside_outside": chapter.gradcam_inside_outside(),
        "summary": chapter.summary(),
    }
    return chapter, shown


@pytest.fixture(scope="module")
def pca(tmp_path_factory):
    return run_chapter(tmp_path_factory.mktemp("pca"))


@pytest.fixture(scope="module")
def finetuned(tmp_path_factory):
    return run_chapter(tmp_path_factory.mktemp("finetune"), finetune=True)


def test_pca_branch_writes_the_contract_files_and_keys(pca):
    chapter, shown = pca
    run = RunDir(chapter.run.root)
    for path in (run.deep_embeddings, run.dtl_candidates, run.model("dtl_pca"), run.model("dtl_gradcam")):
        assert path.is_file(), path
    assert not run.model("dtl_finetuned", ".pt").exists()
    for table in ("dtl_pca_variance", "dtl_selection_funnel", "dtl_selected"):
        assert run.table(table).is_file(), table
    deep = load_results(run.root)["deep"]
    assert deep["finetune"] is False and deep["backbone"] == "efficientnet_lite0"
    assert deep["n_components"] == 4 and 0 < deep["explained_variance"] <= 1
    assert deep["selected"] == chapter.selected and deep["images_per_second"] > 0
    candidates = pd.read_parquet(run.dtl_candidates)
    assert list(candidates.columns) == [f"DTL_{i:03d}" for i in range(1, 5)] and len(candidates) == 24


def test_pca_branch_shows_tables_figures_and_text(pca):
    chapter, shown = pca
    statement, table = shown["backbone"]
    assert "efficientnet_lite0" in statement and table.loc["backbone used", "value"] == "efficientnet_lite0"
    assert shown["crops"].loc["training patients", "value"] == "16"
    assert shown["embed"].loc["computed now", "value"] == "24"
    assert shown["compress"].layout.title.text.startswith("Training-cohort variance")
    assert "DTL features keep" in shown["compression_text"]
    assert "principal components" in shown["scatter"].layout.title.text
    assert sum(len(trace.x) for trace in shown["scatter"].data) == 16  # the training patients only
    assert shown["selection"].funnel.columns.tolist() == ["DTL features remaining"]
    assert "surrogate" in shown["gradcam"].layout.title.text
    assert len(shown["inside_outside"]) == 4  # two validation patients of each class
    assert "PCA on 16 training patients" in shown["summary"]
    assert "`models/dtl_gradcam.joblib`" in shown["summary"]


def test_finetune_branch_trains_on_training_patients_and_saves_the_network(finetuned):
    chapter, shown = finetuned
    run = RunDir(chapter.run.root)
    assert chapter.finetune and not run.model("dtl_pca").exists()
    assert run.model("dtl_finetuned", ".pt").is_file() and run.table("dtl_finetune_history").is_file()
    deep = load_results(run.root)["deep"]
    assert deep["finetune"] is True and deep["n_components"] == 4 and "explained_variance" not in deep
    history = pd.read_csv(run.table("dtl_finetune_history"))
    assert list(history["epoch"]) == [1, 2] and np.isfinite(history["training loss"]).all()
    assert isinstance(shown["compress"], go.Figure) and shown["compress"].layout.title.text.startswith(
        "Fine-tuning"
    )
    assert "Fine-tuning for 2 epochs" in shown["compression_text"]
    assert "fine-tuned DTL features" in shown["scatter"].layout.title.text
    assert "network" in shown["gradcam"].layout.title.text and len(shown["inside_outside"]) == 4
    assert "Fine-tuned on 16 training patients (2 epochs)" in shown["summary"]
    assert "`models/dtl_finetuned.pt`" in shown["summary"]


def test_finetune_branch_is_the_seeded_package_function(finetuned):
    chapter, _ = finetuned
    run = RunDir(chapter.run.root)
    _, history, features = finetune.finetune_dtl(
        chapter.backbone,
        chapter.cohort,
        chapter.train,
        chapter.deep,
        seed=chapter.settings.seed,
        progress=False,
    )
    pd.testing.assert_frame_equal(features, pd.read_parquet(run.dtl_candidates), check_exact=True)
    pd.testing.assert_frame_equal(history, chapter.history, check_exact=True)


def test_finetune_branch_gradcam_model_is_the_saved_network(finetuned):
    chapter, _ = finetuned
    rebuilt, payload = gradcam.load_gradcam_model(chapter.run.root)
    assert isinstance(rebuilt, finetune.FineTunedDTL) and payload["finetuned"] == "models/dtl_finetuned.pt"
    for key, value in chapter.network.state_dict().items():
        assert torch.equal(rebuilt.state_dict()[key], value), key
    patients = chapter.gradcam_patients
    expected = finetune.finetuned_probability(chapter.network, chapter.cohort, patients, chapter.deep)
    again = finetune.finetuned_probability(rebuilt, chapter.cohort, patients, chapter.deep)
    np.testing.assert_allclose(again.to_numpy(), expected.to_numpy(), rtol=1e-6)
