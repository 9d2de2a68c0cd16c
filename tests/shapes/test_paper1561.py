"""Issue 14, the paper's own feature set: ``radiomics.preset: paper1561`` (one-slice volume, 3-D shape,
LBP3D through splkit's ``sph_harm`` shim) yields exactly 1561 features per image, and the book builds."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
import yaml

from splkit.config import PROJECT_ROOT
from splkit.radiomics import load_preset
from splkit.simulate import simulate_cohort

N_PATIENTS = 30


@pytest.mark.slow
def test_paper1561_preset_runs_end_to_end(tmp_path):
    cohort = simulate_cohort(n=N_PATIENTS, seed=2, out=tmp_path / "cohort", n_reader2=10, progress=False)
    profile = tmp_path / "paper1561.yaml"
    profile.write_text(
        yaml.safe_dump(
            {
                "extends": "smoke",
                "name": "paper1561",
                "data": {"path": str(cohort), "simulate": False},
                "radiomics": {"preset": "paper1561", "cache_dir": str(tmp_path / "cache")},
                "selection": {"lasso_cv_folds": 3},
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
    print(f"paper1561 run + book: {time.perf_counter() - start:.0f} s")

    radiomics = json.loads((run_dir / "results.json").read_text())["radiomics"]
    preset = load_preset("paper1561")
    assert radiomics["preset"] == "paper1561"
    assert radiomics["counts"]["extracted"] == 1561 == preset.total
    assert radiomics["counts"]["per_image_type"] == preset.expected_counts
    assert "lbp-3D-k" in radiomics["counts"]["per_image_type"]
    assert (site / "_build" / "html" / "notebooks" / "03_radiomics.html").exists()
