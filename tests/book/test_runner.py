import pytest

from splkit.book.runner import NOTEBOOK_DIR, numbered_notebooks, prepare_run
from splkit.config import load_profile


def test_notebooks_run_in_numbered_order():
    names = [p.name for p in numbered_notebooks(NOTEBOOK_DIR)]
    assert names == sorted(names)
    assert [n[:2] for n in names] == ["01", "02", "03", "04", "05", "06", "07"]


def test_chapter_7_applies_only_with_an_external_cohort():
    """The default profile (no ``external.path``) runs 01-06 and its book has no chapter 7."""
    from splkit.book.runner import applies

    default, external = load_profile("default"), load_profile("smoke-external")
    assert default.external_path is None and external.external_path is not None
    names = [p.name for p in numbered_notebooks(NOTEBOOK_DIR)]
    assert [n[:2] for n in names if applies(n, default)] == ["01", "02", "03", "04", "05", "06"]
    assert [n[:2] for n in names if applies(n, external)][-1] == "07"
    assert applies("notebooks/07_external_validation", None)  # no settings: everything applies


def test_failed_notebooks_does_not_expect_chapter_7_without_an_external_cohort(tmp_path):
    import json

    import yaml

    from splkit.book.runner import failed_notebooks

    executed = tmp_path / "notebooks"
    executed.mkdir()
    done = {"cells": [], "metadata": {"papermill": {"exception": False}}}
    for source in numbered_notebooks(NOTEBOOK_DIR)[:-1]:
        (executed / source.name).write_text(json.dumps(done))
    settings = load_profile("smoke", run_dir=tmp_path)
    (tmp_path / "settings.yaml").write_text(yaml.safe_dump(settings.to_dict()))
    assert failed_notebooks(executed) == []
    with_external = load_profile("smoke-external", run_dir=tmp_path).to_dict()
    assert failed_notebooks(executed, with_external) == ["07_external_validation.ipynb (not run)"]


def test_staged_toc_lists_chapter_7_only_with_an_external_cohort(tmp_path):
    import shutil

    import yaml

    from splkit.book.build import BOOK_SOURCES, write_toc

    def chapters(settings):
        shutil.copy2(BOOK_SOURCES / "_toc.yml", tmp_path / "_toc.yml")
        write_toc(tmp_path, settings)
        toc = yaml.safe_load((tmp_path / "_toc.yml").read_text())
        return [c["file"] for part in toc["parts"] for c in part["chapters"]]

    without = chapters(load_profile("default").to_dict())
    assert "notebooks/07_external_validation" not in without and "notebooks/06_interpretability" in without
    assert "notebooks/07_external_validation" in chapters(load_profile("smoke-external").to_dict())


def test_empty_notebook_folder_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no numbered notebooks"):
        numbered_notebooks(tmp_path)


def test_prepare_run_writes_settings_and_refuses_missing_cohort(tmp_path):
    settings = load_profile(
        "smoke",
        overrides={"data": {"path": str(tmp_path / "absent"), "simulate": False}},
        run_dir=tmp_path / "run",
    )
    with pytest.raises(FileNotFoundError, match="data.path"):
        prepare_run(settings)
    assert (tmp_path / "run" / "settings.yaml").exists()


def test_prepare_run_regenerates_a_stale_simulated_cohort(tmp_path):
    import pandas as pd

    data = tmp_path / "sim"

    def settings_for(n):
        overrides = {"data": {"path": str(data), "simulate": True, "simulate_n": n, "simulate_seed": 0}}
        return load_profile("smoke", overrides=overrides, run_dir=tmp_path / "run")

    prepare_run(settings_for(2))
    assert len(pd.read_csv(data / "clinical.csv")) == 2
    stamp = (data / "clinical.csv").stat().st_mtime_ns
    prepare_run(settings_for(2))  # current: left alone
    assert (data / "clinical.csv").stat().st_mtime_ns == stamp
    prepare_run(settings_for(3))  # another n: regenerated, not silently reused
    assert len(pd.read_csv(data / "clinical.csv")) == 3


def _notebook(cells: list[str]) -> dict:
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell('profile = "x"\nrun_dir = "y"', metadata={"tags": ["parameters"]})
    ]
    notebook.cells += [nbformat.v4.new_code_cell(source) for source in cells]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


def test_a_failing_notebook_reports_its_message_first_and_leaves_no_identifier_in_the_run(
    tmp_path, monkeypatch
):
    """The error names a (fake) patient id and file: shown to the user, never kept in the run directory;
    ``splkit book`` then refuses the run."""
    import nbformat

    from splkit.book import build, runner

    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    nbformat.write(_notebook(["print('reading images')"]), notebooks / "01_ok.ipynb")
    secret = "ZZ-SECRET-0042"
    nbformat.write(
        # the id is made at run time, as a real error message would carry it (the source never holds ids)
        _notebook(
            [
                "pid = 'ZZ-SECRET-' + '0042'\nraise ValueError(f'patient {pid}: images/{pid}.png is not a readable PNG')"
            ]
        ),
        notebooks / "02_fails.ipynb",
    )
    monkeypatch.setattr(runner, "NOTEBOOK_DIR", notebooks)
    monkeypatch.setattr(runner, "check_cohort", lambda settings: None)  # no cohort here (tested below)
    (tmp_path / "cohort").mkdir()
    profile = tmp_path / "p.yaml"
    profile.write_text(f"extends: smoke\nname: p\ndata:\n  path: {tmp_path / 'cohort'}\n  simulate: false\n")
    run_dir = tmp_path / "run"

    with pytest.raises(runner.RunFailed) as failure:
        runner.run_notebooks(profile, run_dir=run_dir)
    message = str(failure.value)
    assert message.startswith(f"02_fails.ipynb failed — ValueError: patient {secret}")
    assert failure.value.traceback_copy is not None and secret in failure.value.traceback_copy.read_text()
    assert run_dir not in failure.value.traceback_copy.parents
    leaked = [p for p in run_dir.rglob("*") if p.is_file() and secret in p.read_text(errors="replace")]
    assert not leaked, f"the patient id reached {leaked}"
    assert runner.failed_notebooks(run_dir / "notebooks") == ["02_fails.ipynb (failed)"]
    with pytest.raises(build.IncompleteRun, match="02_fails.ipynb"):
        build.stage_book(run_dir)


def test_a_broken_cohort_stops_the_run_before_any_notebook(tmp_path):
    """The full check (every image decoded) runs before the long steps; nothing is executed."""
    from splkit.book import runner
    from splkit.cohort import CohortError

    (tmp_path / "cohort" / "images").mkdir(parents=True)
    (tmp_path / "cohort" / "masks").mkdir()
    (tmp_path / "cohort" / "clinical.csv").write_text("patient_id,label\nA1,benign\n")
    profile = tmp_path / "p.yaml"
    profile.write_text(f"extends: smoke\nname: p\ndata:\n  path: {tmp_path / 'cohort'}\n  simulate: false\n")
    with pytest.raises(CohortError, match="A1"):
        runner.run_notebooks(profile, run_dir=tmp_path / "run")
    assert not list((tmp_path / "run").glob("notebooks/*.ipynb"))
