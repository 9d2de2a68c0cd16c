"""End to end: the whole book on the small simulated cohort (profile `smoke`), as CI runs it.

The `smoke_run` fixture lives in `conftest.py` (the browser test shares it)."""

import json

import pytest

from splkit.config import PROJECT_ROOT


@pytest.mark.slow
def test_smoke_run_writes_results_and_notebooks(smoke_run):
    run_dir, _ = smoke_run
    assert (run_dir / "settings.yaml").exists()
    results = json.loads((run_dir / "results.json").read_text())
    assert results, "the notebooks recorded nothing in results.json"
    executed = sorted(p.name for p in (run_dir / "notebooks").glob("*.ipynb"))
    committed = sorted(p.name for p in (PROJECT_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    # every chapter but the external validation (chapter 7 runs only when the profile names a cohort)
    assert executed == [name for name in committed if not name.startswith("07_")]


@pytest.mark.slow
def test_smoke_book_site_exists_with_every_chapter(smoke_run):
    run_dir, html = smoke_run
    assert (html / "index.html").exists()
    for notebook in (run_dir / "notebooks").glob("*.ipynb"):
        assert (html / "notebooks" / f"{notebook.stem}.html").exists(), notebook.stem
    assert (html / "_static" / "plotly.min.js").exists()


@pytest.mark.slow
def test_smoke_run_saves_the_fitted_study(smoke_run):
    """Notebook 05 ends by saving the fitted study (``splkit.study.save_study``) into ``<run>/study``;
    ``tests/study/test_study.py`` checks that it reproduces ``predictions.csv``."""
    run_dir, _ = smoke_run
    manifest = json.loads((run_dir / "study" / "manifest.json").read_text())
    results = json.loads((run_dir / "results.json").read_text())
    assert manifest["training"]["data_sha256"] == results["cohort"]["data_sha256"]
    assert set(manifest["models"]) == set(results["models"]["thresholds_train_youden"])
