"""End to end (slow): chapter 7 on a copy of the smoke run, with the smoke-external profile, then the book.

Reuses the session's ``smoke_run`` (chapters 1-6 and the saved study) and runs only notebook 07
(``splkit run --only 07``), which simulates the external centre on first use."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from splkit.config import PROJECT_ROOT, load_profile


@pytest.fixture(scope="session")
def external_run(smoke_run, tmp_path_factory):
    """``(run_dir, html_dir)`` of the smoke run extended by chapter 7 on the simulated external centre."""
    source, _ = smoke_run
    run_dir = tmp_path_factory.mktemp("external-run") / "run"
    shutil.copytree(source, run_dir, ignore=shutil.ignore_patterns("book"))
    site = tmp_path_factory.mktemp("external-site")
    for command in (
        ["run", "--profile", "smoke-external", "--run-dir", str(run_dir), "--only", "07"],
        ["book", "--profile", "smoke-external", "--run-dir", str(run_dir), "--output", str(site)],
    ):
        completed = subprocess.run(
            [sys.executable, "-m", "splkit", *command], cwd=PROJECT_ROOT, text=True, capture_output=True
        )
        assert completed.returncode == 0, (
            f"splkit {' '.join(command)} failed:\n{completed.stdout}\n{completed.stderr}"
        )
    return run_dir, site / "_build" / "html"


@pytest.mark.slow
def test_chapter_7_records_the_external_validation(external_run):
    run_dir, _ = external_run
    external = json.loads((run_dir / "results.json").read_text())["external"]
    assert external["n"] == load_profile("smoke-external").external.simulate_n
    cdlr = external["models"]["CDLR"]
    assert 0 <= cdlr["auc_delong_low"] <= cdlr["auc"] <= cdlr["auc_delong_high"] <= 1
    assert cdlr["threshold"] == pytest.approx(external["thresholds"]["CDLR"])
    assert {"intercept_only", "logistic"} <= set(external["recalibration"]["CDLR"])
    assert {"clinical", "model_inputs"} <= set(external["membership"])
    for name in ("performance_external", "recalibration_external", "table1_external", "membership_external"):
        assert (run_dir / "tables" / f"{name}.csv").exists(), name
    for name in ("roc_external", "calibration_external", "dca_external"):
        assert (run_dir / "figures" / f"{name}.html").exists(), name


@pytest.mark.slow
def test_external_pseudonyms_never_collide_and_original_ids_are_never_written(external_run):
    run_dir, html = external_run
    scores = pd.read_csv(run_dir / "tables" / "external_predictions.csv", dtype={"patient": str})
    development = pd.read_csv(run_dir / "cohort.csv", dtype={"patient": str})["patient"]
    assert scores["patient"].str.fullmatch(r"E\d{4}").all()
    assert not set(scores["patient"]) & set(development)
    ids = pd.read_csv(load_profile("smoke-external").external_path / "clinical.csv")["patient_id"].astype(str)
    for folder in (run_dir, html):
        for path in folder.rglob("*"):
            if path.is_file() and path.suffix in {".csv", ".json", ".ipynb", ".html", ".yaml", ".txt", ".md"}:
                text = path.read_text(errors="ignore")
                leaked = [i for i in ids if i in text]
                assert not leaked, f"{path} names external patients {leaked[:3]}"


@pytest.mark.slow
def test_the_book_has_chapter_7_only_with_an_external_cohort(external_run, smoke_run):
    _, html = external_run
    assert (html / "notebooks" / "07_external_validation.html").exists()
    _, smoke_html = smoke_run
    assert not (smoke_html / "notebooks" / "07_external_validation.html").exists()


@pytest.mark.slow
def test_the_introduction_shows_the_external_centre_beside_training_and_validation(external_run):
    _, html = external_run
    intro = (html / "intro.html").read_text()
    n = load_profile("smoke-external").external.simulate_n
    assert f"external cohort of {n} patients" in intro
    headline = intro.split(">Headline results<a", 1)[1].split("<h2", 1)[0]
    assert "External" in headline and "Validation" in headline
