import pytest

from splkit.book.runner import NOTEBOOK_DIR, numbered_notebooks, prepare_run
from splkit.config import load_profile


def test_notebooks_run_in_numbered_order():
    names = [p.name for p in numbered_notebooks(NOTEBOOK_DIR)]
    assert names == sorted(names)
    assert [n[:2] for n in names] == ["01", "02", "03", "04", "05", "06"]


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
