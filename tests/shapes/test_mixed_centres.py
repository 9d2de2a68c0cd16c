"""Issue 14 (mixed sizes, spacings and formats; RGB captures; a small cohort) and issue 17 (two centres,
ComBat) in one smoke-sized cohort: 40 patients (about 12 malignant) from two scanners, PNG + NRRD +
DICOM, RGB screen captures.  The book runs end to end and ``results.json`` records each rule applied."""

from __future__ import annotations

import json

import pytest
from shapes._book import run_and_build, shape_profile

from splkit.simulate.shapes import simulate_mixed_cohort


@pytest.mark.slow
def test_two_centre_mixed_format_small_cohort_runs_and_builds_the_book(tmp_path):
    cohort = simulate_mixed_cohort(
        tmp_path / "cohort", n=(24, 16), seed=5, n_nrrd=3, n_rgb=3, n_reader2=(8, 6), malignant_share=0.3
    )
    profile = shape_profile(
        tmp_path,
        "mixed-centres",
        cohort,
        radiomics={"harmonise": "combat", "cache_dir": str(tmp_path / "cache")},
        selection={"lasso_cv_folds": 5},
    )
    run_dir, site = run_and_build(profile, tmp_path)

    results = json.loads((run_dir / "results.json").read_text())
    cohort_info, radiomics, models = results["cohort"], results["radiomics"], results["models"]
    # chapter 1: sizes, spacings, colour captures, the small-cohort warning
    assert cohort_info["n_rgb_converted"] == 3
    assert (
        cohort_info["images"]["spacing_mm"]["min"] == 0.25
        and cohort_info["images"]["spacing_mm"]["max"] == 0.3
    )
    assert cohort_info["sample_size"]["small_cohort"]
    # chapter 3: one spacing (the training median of 0.25 / 0.30 mm) and ComBat over the two centres
    assert radiomics["resampling"]["rule"] == "auto" and radiomics["resampling"]["target_mm"] in (
        0.25,
        0.275,
        0.3,
    )
    assert set(radiomics["harmonisation"]["centre_share_pc1"]) == {"before", "after"}
    study = json.loads((run_dir / "study" / "manifest.json").read_text())
    assert set(study["radiomics"]["harmonisation"]["centres"]) == {"Centre A", "Centre B"}
    # chapter 5: the folds the small training cohort allowed, every model scored
    assert {row["cross-validation"] for row in models["fold_plan"]} >= {"out-of-fold scores (outer folds)"}
    assert {"Rad", "DTL", "DLR", "CDLR"} <= set(models)
    chapter3 = (site / "_build" / "html" / "notebooks" / "03_radiomics.html").read_text()
    assert "resampled to" in chapter3 and "ComBat" in chapter3
