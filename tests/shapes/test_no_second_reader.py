"""Issue 14, a cohort without second-reader masks (no ``masks_reader2/`` folder) whose clinical variables are
noise (:func:`splkit.simulate.shapes.scramble_clinical`): chapter 3 falls back from inter-reader agreement to
perturbation robustness, chapter 2 from the significant predictors to its fallback rule, each says so, and
the book runs and builds end to end."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from shapes._book import run_and_build, shape_profile

from splkit.radiomics.robustness import N_PERTURBATIONS
from splkit.simulate import simulate_cohort
from splkit.simulate.shapes import scramble_clinical

N_PATIENTS = 60


def no_second_reader_profile(tmp_path, n: int = N_PATIENTS):
    """A simulated cohort whose ``masks_reader2/`` folder is removed, and a profile (``extends: smoke``)."""
    cohort = simulate_cohort(n=n, seed=0, out=tmp_path / "cohort", n_reader2=0, progress=False)
    shutil.rmtree(cohort / "masks_reader2")
    scramble_clinical(cohort, seed=0)  # seed 0: no variable reaches univariate p < 0.05 in training
    profile = shape_profile(tmp_path, "no-second-reader", cohort)
    return profile


@pytest.mark.slow
def test_no_second_reader_falls_back_to_perturbation_robustness(tmp_path):
    run_dir, site = run_and_build(no_second_reader_profile(tmp_path), tmp_path)

    assert not (tmp_path / "cohort" / "masks_reader2").exists()
    results = json.loads((run_dir / "results.json").read_text())
    clinical = results["clinical"]  # chapter 2's fallback: the best univariate predictor, flagged
    assert clinical["fallback"] is True and clinical["rule_applied"].startswith("none_significant_univariate")
    assert len(clinical["predictors"]) == 1 and {"Clinical", "CDLR"} <= set(results["models"])
    chapter2 = (run_dir / "notebooks" / "02_clinical_model.ipynb").read_text()
    assert "Fallback rule applied" in chapter2
    results = json.loads((run_dir / "results.json").read_text())
    robustness = results["radiomics"]["robustness"]
    assert robustness["method"] == "perturbation" and robustness["requested"] == "readers"
    assert robustness["label"] == "perturbation robustness"
    assert robustness["reason"].startswith("only 0 training patients have a second reader's mask")
    n_train = int((pd.read_csv(run_dir / "split.csv")["cohort"] == "train").sum())
    cost = robustness["cost"]
    assert cost["patients"] == n_train == results["radiomics"]["icc"]["patients"]
    assert cost["images"] == N_PERTURBATIONS * n_train
    print(
        "perturbed masks: "
        f"{cost['images_extracted_now']} extracted in {cost['seconds']} s, "
        f"{cost['seconds_per_patient']} s per training patient"
    )
    assert pd.read_parquet(run_dir / "features" / "radiomics_reader2.parquet").empty
    assert (
        results["radiomics"]["counts"]["after_icc"]
        == pd.read_parquet(run_dir / "features" / "rad_candidates.parquet").shape[1]
    )

    chapter3 = (run_dir / "notebooks" / "03_radiomics.ipynb").read_text()
    assert "Method: **perturbation robustness**, not inter-reader agreement" in chapter3
    assert "but only 0 training patients have a second reader" in chapter3
    assert "with two readers:" not in chapter3 and "were reproducible between readers" not in chapter3
    figure = (run_dir / "figures" / "radiomics_icc.html").read_text()
    assert "Perturbation robustness" in figure and "Inter-reader" not in figure
    manifest = json.loads((run_dir / "study" / "manifest.json").read_text())
    assert manifest["radiomics"]["robustness"]["method"] == "perturbation"
    methods = (site / "_build" / "html" / "methods.html").read_text()
    assert "used: perturbation robustness" in methods
