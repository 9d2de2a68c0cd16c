"""Issue 14, the paper's own feature set: ``radiomics.preset: paper1561`` (one-slice volume, 3-D shape,
LBP3D through splkit's ``sph_harm`` shim) yields exactly 1561 features per image, and the book builds."""

from __future__ import annotations

import json

import pytest
from shapes._book import run_and_build, shape_profile

from splkit.radiomics import load_preset
from splkit.simulate import simulate_cohort

N_PATIENTS = 30


@pytest.mark.slow
def test_paper1561_preset_runs_end_to_end(tmp_path):
    cohort = simulate_cohort(n=N_PATIENTS, seed=2, out=tmp_path / "cohort", n_reader2=10, progress=False)
    profile = shape_profile(
        tmp_path,
        "paper1561",
        cohort,
        radiomics={"preset": "paper1561", "cache_dir": str(tmp_path / "cache")},
        selection={"lasso_cv_folds": 3},
    )
    run_dir, site = run_and_build(profile, tmp_path)

    radiomics = json.loads((run_dir / "results.json").read_text())["radiomics"]
    preset = load_preset("paper1561")
    assert radiomics["preset"] == "paper1561"
    assert radiomics["counts"]["extracted"] == 1561 == preset.total
    assert radiomics["counts"]["per_image_type"] == preset.expected_counts
    assert "lbp-3D-k" in radiomics["counts"]["per_image_type"]
    assert (site / "_build" / "html" / "notebooks" / "03_radiomics.html").exists()
