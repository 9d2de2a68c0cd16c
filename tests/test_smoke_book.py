"""End to end: the whole book on the small simulated cohort (profile `smoke`), as CI runs it."""

import json
import subprocess
import sys

import pytest

from splkit.config import PROJECT_ROOT


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("smoke-run")
    site = tmp_path_factory.mktemp("smoke-site")
    for command in (
        ["run", "--profile", "smoke", "--run-dir", str(run_dir)],
        ["book", "--profile", "smoke", "--run-dir", str(run_dir), "--output", str(site)],
    ):
        completed = subprocess.run([sys.executable, "-m", "splkit", *command], cwd=PROJECT_ROOT, text=True,
                                   capture_output=True)
        assert completed.returncode == 0, f"splkit {' '.join(command)} failed:\n{completed.stdout}\n{completed.stderr}"
    return run_dir, site / "_build" / "html"


@pytest.mark.slow
def test_smoke_run_writes_results_and_notebooks(smoke_run):
    run_dir, _ = smoke_run
    assert (run_dir / "settings.yaml").exists()
    results = json.loads((run_dir / "results.json").read_text())
    assert results, "the notebooks recorded nothing in results.json"
    executed = sorted(p.name for p in (run_dir / "notebooks").glob("*.ipynb"))
    committed = sorted(p.name for p in (PROJECT_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert executed == committed


@pytest.mark.slow
def test_smoke_book_site_exists_with_every_chapter(smoke_run):
    run_dir, html = smoke_run
    assert (html / "index.html").exists()
    for notebook in (run_dir / "notebooks").glob("*.ipynb"):
        assert (html / "notebooks" / f"{notebook.stem}.html").exists(), notebook.stem
    assert (html / "_static" / "plotly.min.js").exists()
