"""Notebook 03 helpers: ICC on training patients only, candidates for all patients, counts."""

import numpy as np
import pandas as pd
import pytest

from splkit.config import load_profile
from splkit.radiomics import workflow


@pytest.fixture
def readers():
    rng = np.random.default_rng(0)
    index = pd.Index([f"P{i:04d}" for i in range(1, 41)], name="patient")
    truth = rng.normal(size=(40, 3))
    r1 = pd.DataFrame(truth, index=index, columns=["original_firstorder_Mean", "original_glcm_Idm", "noise"])
    r1["diagnostics_Versions_PyRadiomics"] = "v3.1.4"
    r2 = r1.iloc[:20].copy()
    r2["original_firstorder_Mean"] += rng.normal(scale=0.05, size=20)
    r2["original_glcm_Idm"] += rng.normal(scale=0.05, size=20)
    r2["noise"] = rng.normal(size=20)
    table = pd.DataFrame(
        {"cohort": np.where(np.arange(40) % 4 == 0, "validation", "train"), "label": np.arange(40) % 2},
        index=index,
    )
    return r1, r2, table


def test_icc_on_training_patients_only(readers):
    r1, r2, table = readers
    settings = load_profile("smoke")
    assert settings.radiomics.icc_patients == "train"
    patients = workflow.icc_patients(settings, table, r2)
    assert len(patients) == 15 and set(table.loc[patients, "cohort"]) == {"train"}
    # validation rows of reader 2 do not influence the ICC
    altered = r2.copy()
    val = patients.symmetric_difference(r2.index)
    altered.loc[val, "original_glcm_Idm"] = 1e6
    first, cand = workflow.icc_filter(settings, r1, r2, table)
    second, _ = workflow.icc_filter(settings, r1, altered, table)
    pd.testing.assert_series_equal(first, second)
    assert list(cand.columns) == ["original_firstorder_Mean", "original_glcm_Idm"]
    assert list(cand.index) == list(r1.index)  # all patients
    everyone = load_profile("smoke", overrides={"radiomics": {"icc_patients": "all"}})
    assert len(workflow.icc_patients(everyone, table, r2)) == 20


def test_perturbation_filter_and_no_filter(readers):
    r1, _, table = readers
    settings = load_profile("smoke")
    rng = np.random.default_rng(1)
    perturbed = []
    for _ in range(4):
        copy = r1.copy()
        copy[["original_firstorder_Mean", "original_glcm_Idm"]] += rng.normal(scale=0.05, size=(40, 2))
        copy["noise"] = rng.normal(size=40)
        perturbed.append(copy)
    perturbed[0] = perturbed[0].drop(index="P0002")  # an excluded image leaves its patient out
    values, candidates = workflow.perturbation_filter(settings, r1, perturbed, table)
    train = table.index[table["cohort"] == "train"]
    assert values.attrs["n_patients"] == len(train) - 1
    assert list(candidates.columns) == ["original_firstorder_Mean", "original_glcm_Idm"]
    assert list(candidates.index) == list(r1.index) and values["noise"] < 0.5
    # the validation rows of the perturbed tables play no part
    moved = [p.copy() for p in perturbed]
    moved[1].loc[table.index[table["cohort"] == "validation"], "noise"] = 1e6
    pd.testing.assert_series_equal(workflow.perturbation_filter(settings, r1, moved, table)[0], values)

    none, everything = workflow.no_filter(settings, r1)
    assert none.empty and list(everything.columns) == [
        "original_firstorder_Mean",
        "original_glcm_Idm",
        "noise",
    ]


def test_readers_filter_unchanged(readers):
    r1, r2, table = readers
    settings = load_profile("smoke")
    cohort = type("Cohort", (), {"table": table})()
    filtered = workflow.reproducibility_filter(settings, cohort, r1, r2)
    values, candidates = workflow.icc_filter(settings, r1, r2, table)
    assert filtered.robustness.method == "readers" and not filtered.cost
    pd.testing.assert_series_equal(filtered.values, values)
    pd.testing.assert_frame_equal(filtered.candidates, candidates)
    assert filtered.n_patients == 15
