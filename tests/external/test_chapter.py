"""Chapter 7's glue on synthetic data: pseudonyms, recalibration fits and the recorded keys."""

import dataclasses
import json
from types import MappingProxyType

import numpy as np
import pandas as pd
import pytest

from splkit.cohort import Cohort
from splkit.cohort.files import FilePaths
from splkit.config import has_external, load_profile
from splkit.external import chapter, external_pseudonyms


def _cohort(n=6):
    patients = [f"P{i:04d}" for i in range(1, n + 1)]
    table = pd.DataFrame(
        {
            "label": [0, 1] * (n // 2),
            "cohort": ["train"] * (n - 2) + ["validation"] * 2,
            "age": np.arange(n) + 50.0,
        },
        index=pd.Index(patients, name="patient"),
    )
    variables = pd.DataFrame(
        {"type": ["numeric"], "included": [True]}, index=pd.Index(["age"], name="variable")
    )
    files = FilePaths({p: f"/secret/ID-{p}.png" for p in patients})
    return Cohort(
        table=table,
        variables=variables,
        images=files,
        masks=files,
        masks_reader2=FilePaths({}),
        spacing=MappingProxyType(dict.fromkeys(patients, 0.3)),
        spacing_source="spacing_mm column",
        missing=pd.DataFrame(),
        positive_label="malignant",
        _key=MappingProxyType({f"ID-{p}": p for p in patients}),
    )


def test_external_patients_get_e_pseudonyms_and_the_external_cohort():
    renamed = external_pseudonyms(_cohort())
    assert list(renamed.table.index) == [f"E{i:04d}" for i in range(1, 7)]
    assert set(renamed.table["cohort"]) == {"external"}
    assert set(renamed.images) == set(renamed.table.index) == set(renamed.spacing)
    assert renamed.pseudonym_key()["ID-P0003"] == "E0003"
    assert renamed.missing.loc["age", "n_missing"] == 0
    with pytest.raises(ValueError, match="differ"):
        external_pseudonyms(_cohort(), prefix="P")
    assert dataclasses.is_dataclass(renamed)


def test_profiles_name_an_external_cohort_only_when_asked():
    assert not has_external(load_profile("default"))
    assert not has_external(load_profile("smoke"))
    assert has_external(load_profile("smoke-external"))


def test_recalibration_fits_report_both_updates_and_brier_scores():
    rng = np.random.default_rng(3)
    lp = rng.normal(0, 1.5, 300)
    y = (rng.random(300) < 1 / (1 + np.exp(-lp))).astype(int)
    prob = 1 / (1 + np.exp(-(2.0 * lp + 1.0)))  # too high and too extreme
    fits = chapter.recalibration_fits(y, prob)
    assert fits["intercept_only"]["intercept"] < 0 and fits["intercept_only"]["slope"] == 1.0
    assert 0.3 < fits["logistic"]["slope"] < 0.7
    assert fits["logistic"]["brier"] < fits["intercept_only"]["brier"] < fits["brier"]
    json.dumps(fits)  # recordable as is


def _external(tmp_path, n=80, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    patients = [f"E{i:04d}" for i in range(1, n + 1)]
    scores = {
        "Clinical": 1 / (1 + np.exp(-(y + rng.normal(0, 1, n)))),
        "CDLR": 1 / (1 + np.exp(-(2 * y - 1 + rng.normal(0, 1, n)))),
    }
    long = pd.concat(
        [
            pd.DataFrame({"patient": patients, "cohort": "external", "label": y, "model": m, "score": s})
            for m, s in scores.items()
        ]
    )
    table = pd.DataFrame({"label": y, "cohort": "external"}, index=pd.Index(patients, name="patient"))
    settings = load_profile("smoke-external", run_dir=tmp_path)
    return chapter.External(
        settings, table, long, {"Clinical": 0.5, "CDLR": 0.5}, pd.DataFrame(index=table.index), "x"
    )


def test_performance_delong_and_recalibration_record_external_keys(tmp_path):
    ext = _external(tmp_path)
    perf = chapter.performance(ext)
    assert list(perf.index) == ["Clinical", "CDLR"]
    family = chapter.delong(ext)
    assert "Clinical" in family.index
    table = chapter.recalibration(ext)
    assert "Calibration slope b (CI)" in table.columns
    results = json.loads((tmp_path / "results.json").read_text())["external"]
    cdlr = results["models"]["CDLR"]
    assert (
        cdlr["threshold"] == 0.5
        and cdlr["sensitivity_low"] <= cdlr["sensitivity"] <= cdlr["sensitivity_high"]
    )
    assert set(results["recalibration"]["CDLR"]) == {"intercept_only", "logistic", "brier"}
    assert "CDLR_vs_Clinical" in results["delong"] or "Clinical_vs_CDLR" in results["delong"]
    assert (tmp_path / "tables" / "performance_external.csv").exists()
