"""Issue 14, first shape: an imaging-only cohort (``clinical.csv`` holds only ``patient_id``, ``label``
and ``spacing_mm``).  The book runs end to end; the clinical-arm models are absent, each place saying why."""

from __future__ import annotations

import json

import pytest
import yaml
from shapes._book import run_and_build, shape_profile

from splkit.models.available import NO_CLINICAL, NO_CLINICAL_NOTE
from splkit.simulate import simulate_cohort

N_PATIENTS = 60


def imaging_only_profile(tmp_path, n: int = N_PATIENTS):
    """A simulated imaging-only cohort and a temporary profile (``extends: smoke``) that analyses it."""
    cohort = simulate_cohort(
        n=n, seed=0, out=tmp_path / "cohort", clinical_variables=False, n_reader2=20, progress=False
    )
    profile = shape_profile(tmp_path, "imaging-only", cohort)
    return profile


def test_the_generator_drops_the_clinical_columns(tmp_path):
    cohort = simulate_cohort(
        n=3, seed=0, out=tmp_path / "c", clinical_variables=False, n_reader2=1, progress=False
    )
    assert (cohort / "clinical.csv").read_text().splitlines()[0] == "patient_id,label,spacing_mm"
    assert yaml.safe_load((cohort / "simulation.yaml").read_text())["clinical_variables"] is False


@pytest.mark.slow
def test_imaging_only_cohort_runs_and_builds_the_book(tmp_path):
    run_dir, site = run_and_build(imaging_only_profile(tmp_path), tmp_path)

    results = json.loads((run_dir / "results.json").read_text())
    models = results["models"]
    assert models["available"] == ["Rad", "DTL", "DLR"]
    assert models["absent"] == {"Clinical": NO_CLINICAL, "Clinical-SVM": NO_CLINICAL, "CDLR": NO_CLINICAL}
    assert models["fusion"] == "DLR" and "CDLR" not in models and "Clinical" not in models
    assert all("optimism" in models[m] for m in ("Rad", "DTL", "DLR"))  # the profile's n_optimism
    study = json.loads((run_dir / "study" / "manifest.json").read_text())
    assert study["clinical"] is None and study["models"] == ["Rad", "DTL", "DLR"]
    assert study["absent"] == models["absent"] and results["study"]["models"] == ["Rad", "DTL", "DLR"]
    scored = set(line.split(",")[3] for line in (run_dir / "predictions.csv").read_text().splitlines()[1:])
    assert scored == {"Rad", "DTL", "DLR"}

    chapter2 = (run_dir / "notebooks" / "02_clinical_model.ipynb").read_text()
    assert json.dumps(NO_CLINICAL_NOTE)[1:-1] in chapter2
    intro = (site / "_build" / "html" / "intro.html").read_text()
    assert "no clinical variables, so" in intro
    # the section itself, not the page's table of contents (which names both headings first)
    headline = intro.split(">Headline results<a", 1)[1].split(">Compared with the paper<a", 1)[0]
    assert "<table" in headline
    assert "CDLR" not in headline and "Clinical" not in headline and "DLR" in headline
