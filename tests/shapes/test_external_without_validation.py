"""A cohort column with training and external patients and no internal validation cohort (a centre's
model validated in another centre, TRIPOD type 3; data/README.md allows it): every chapter reports its
held-out numbers on the external patients, the introduction and the model card show them instead of an
empty validation cohort, and the book runs and builds end to end."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from shapes._book import run_and_build, shape_profile

from splkit.simulate import simulate_cohort

N_PATIENTS, N_TRAIN = 90, 60


def external_only_profile(tmp_path):
    """A simulated cohort whose ``clinical.csv`` marks its first patients ``train``, the rest ``external``."""
    cohort = simulate_cohort(n=N_PATIENTS, seed=3, out=tmp_path / "cohort", n_reader2=20, progress=False)
    table = pd.read_csv(cohort / "clinical.csv")
    table.insert(2, "cohort", ["train"] * N_TRAIN + ["external"] * (len(table) - N_TRAIN))
    table.to_csv(cohort / "clinical.csv", index=False)
    return shape_profile(tmp_path, "external-without-validation", cohort)


@pytest.mark.slow
def test_external_cohort_without_validation_runs_and_reports_external(tmp_path):
    run_dir, site = run_and_build(external_only_profile(tmp_path), tmp_path)

    results = json.loads((run_dir / "results.json").read_text())
    assert results["cohort"]["n_validation"] == 0
    assert results["cohort"]["n_external"] == N_PATIENTS - N_TRAIN
    for model in ("Clinical", "Rad", "DTL", "DLR", "CDLR"):
        assert "validation" not in results["models"][model]
        assert results["models"][model]["external"]["n"] == N_PATIENTS - N_TRAIN
    assert (
        "models.biopsies_avoided_external" not in results and "biopsies_avoided_external" in results["models"]
    )
    assert (run_dir / "tables" / "performance_external_own_youden.csv").exists()
    explain = results["explain"]  # chapter 6: no validation cases, the external patients' instead
    assert explain["cases"] == [] and {c["case"] for c in explain["external"]["cases"]} <= {
        "TP",
        "TN",
        "FP",
        "FN",
    }
    assert explain["external"]["cases"] and explain["DLR"]["external"]["n_explained"] > 0

    intro = (site / "_build" / "html" / "intro.html").read_text()
    assert "In the external cohort the highest AUC" in intro
    assert "| Validation |" not in (run_dir / "book" / "intro.md").read_text()  # no empty validation rows
    card = (run_dir / "book" / "model_card.md").read_text()
    assert "0 validation and 30 external patients" in card and "**Single centre**" not in card
    chapter5 = (run_dir / "notebooks" / "05_models.ipynb").read_text()
    assert "External AUCs (95 % CI, DeLong)" in chapter5
    chapter1 = (run_dir / "notebooks" / "01_cohort.ipynb").read_text()
    assert "differ between training and external at p < 0.05" in chapter1
    chapter4 = (run_dir / "notebooks" / "04_deep_features.ipynb").read_text()
    assert "external examples" in chapter4
