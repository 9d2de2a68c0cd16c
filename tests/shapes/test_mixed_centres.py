"""Issue 14 (mixed sizes, spacings and formats; RGB captures; a small cohort) and issue 17 (two centres,
ComBat) in one smoke-sized cohort: 40 patients (about 12 malignant) from two scanners, PNG + NRRD +
DICOM, RGB screen captures.  The book runs end to end and ``results.json`` records each rule applied."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
import yaml

from splkit.config import PROJECT_ROOT
from splkit.simulate.shapes import simulate_mixed_cohort


@pytest.mark.slow
def test_two_centre_mixed_format_small_cohort_runs_and_builds_the_book(tmp_path):
    cohort = simulate_mixed_cohort(
        tmp_path / "cohort", n=(24, 16), seed=5, n_nrrd=3, n_rgb=3, n_reader2=(8, 6), malignant_share=0.3
    )
    profile = tmp_path / "mixed.yaml"
    profile.write_text(
        yaml.safe_dump(
            {
                "extends": "smoke",
                "name": "mixed-centres",
                "data": {"path": str(cohort), "simulate": False},
                "radiomics": {"harmonise": "combat", "cache_dir": str(tmp_path / "cache")},
                "selection": {"lasso_cv_folds": 5},
            }
        )
    )
    run_dir, site = tmp_path / "run", tmp_path / "site"
    start = time.perf_counter()
    for command in (
        ["run", "--profile", str(profile), "--run-dir", str(run_dir)],
        ["book", "--profile", str(profile), "--run-dir", str(run_dir), "--output", str(site)],
    ):
        completed = subprocess.run(
            [sys.executable, "-m", "splkit", *command], cwd=PROJECT_ROOT, text=True, capture_output=True
        )
        assert completed.returncode == 0, (
            f"splkit {command[0]} failed:\n{completed.stdout}\n{completed.stderr}"
        )
    print(f"mixed-centre run + book: {time.perf_counter() - start:.0f} s")

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
