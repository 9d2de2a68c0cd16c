"""Tests of splkit.cohort.run_tables: the run's cohort tables written once and read back, checked."""

import numpy as np
import pandas as pd
import pytest
from cohort.test_load import make_cohort

from splkit.cohort import dictionary_spec, load_cohort, read_run_cohort, read_run_variables, write_run_tables
from splkit.run.rundir import RunDir


def test_written_tables_read_back(tmp_path):
    fever = [1, 0, np.nan, 1, 0] * 2
    cohort = load_cohort(make_cohort(tmp_path / "c", extra={"fever": fever}), salt="s")
    write_run_tables(cohort, tmp_path / "run")
    table, variables = read_run_cohort(tmp_path / "run")
    assert table.index.name == "patient" and list(table.index) == sorted(cohort.table.index)
    assert table["label"].dtype == int and table["label"].equals(cohort.table["label"].astype(int))
    assert set(table["fever"].dropna()) == {"0", "1"}  # level-typed variables read as text
    assert table["age"].dtype == float and table["sex"].isin(["female", "male"]).all()
    assert variables["included"].dtype == bool and list(variables.index) == list(cohort.variables.index)
    assert dictionary_spec(variables) == dictionary_spec(cohort.variables)
    assert read_run_variables(tmp_path / "run").equals(variables)
    split = pd.read_csv(RunDir(tmp_path / "run").split_csv)
    assert split.set_index("patient")["cohort"].equals(table["cohort"])


def write(run, rows, variables=("age",)):
    run.root.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=["patient", "cohort", "label", "age"]).to_csv(run.cohort_csv, index=False)
    pd.DataFrame({"variable": list(variables), "type": "numeric"}).to_csv(run.variables_csv, index=False)


GOOD = [["P1", "train", 0, 50], ["P2", "train", 1, 60], ["P3", "validation", 1, 70]]


@pytest.mark.parametrize(
    "rows, message",
    [
        (GOOD + [["P1", "validation", 0, 40]], "patients listed twice: \\['P1'\\]"),
        (GOOD + [["P4", "validation", 2, 40]], "label must be 0 or 1; patient P4 has 2"),
        (GOOD + [["P4", "holdout", 0, 40]], "cohort must be one of .* patient P4 has 'holdout'"),
        ([["P1", "train", 1, 50], ["P2", "validation", 0, 60]], "training cohort needs both classes"),
    ],
)
def test_read_run_cohort_names_the_problem(tmp_path, rows, message):
    run = RunDir(tmp_path)
    write(run, rows)
    with pytest.raises(ValueError, match=message):
        read_run_cohort(run.root)


def test_read_run_cohort_needs_chapter_one(tmp_path):
    with pytest.raises(FileNotFoundError, match="run notebook 01"):
        read_run_cohort(tmp_path)
    write(RunDir(tmp_path), GOOD)
    table, _ = read_run_cohort(tmp_path)
    assert table["label"].tolist() == [0, 1, 1]


def test_dictionary_spec_from_memory_and_from_text():
    in_memory = pd.DataFrame(
        {"type": ["numeric", "binary", "ordinal"], "levels": [(), ("female", "male"), ("I", "II", "III")]},
        index=["age", "sex", "grade"],
    )
    as_text = in_memory.assign(levels=["", "female; male", "I; II; III"])
    expected = (
        {"age": "numeric", "sex": "binary", "grade": "ordinal"},
        {"sex": ["female", "male"], "grade": ["I", "II", "III"]},
    )
    assert dictionary_spec(in_memory) == dictionary_spec(as_text) == expected
