"""Tests of splkit.cohort.table1: the test chosen per variable, and the table's layout."""

import numpy as np
import pandas as pd
import pytest

from splkit.cohort.table1 import comparability, compare_groups, table_one


def test_normal_numeric_gets_welch_t_and_skewed_gets_mann_whitney():
    rng = np.random.default_rng(0)
    groups = pd.Series(np.repeat(["a", "b"], 80))
    normal = pd.Series(rng.normal(50, 10, 160))
    skewed = pd.Series(rng.lognormal(0, 1.2, 160))
    assert compare_groups(normal, groups, categorical=False).test == "Welch's t-test"
    result = compare_groups(skewed, groups, categorical=False)
    assert result.test == "Mann-Whitney U"
    from scipy.stats import mannwhitneyu

    assert result.p == pytest.approx(mannwhitneyu(skewed[:80], skewed[80:]).pvalue)


def test_small_expected_counts_get_fisher_large_get_chi_squared():
    groups = pd.Series(["a"] * 20 + ["b"] * 20)
    rare = pd.Series(["yes"] * 1 + ["no"] * 19 + ["yes"] * 5 + ["no"] * 15)  # expected "yes" count 3 < 5
    common = pd.Series(["yes"] * 8 + ["no"] * 12 + ["yes"] * 14 + ["no"] * 6)
    result = compare_groups(rare, groups, categorical=True)
    assert result.test == "Fisher's exact"
    # scipy.stats.fisher_exact([[19, 15], [1, 5]]) -> p = 0.1818... (two-sided; R 4.2 fisher.test(matrix(c(19, 1, 15, 5), 2)) gives 0.1817641818)
    assert result.p == pytest.approx(0.18176, abs=1e-4)
    assert compare_groups(common, groups, categorical=True).test == "Chi-squared"
    three = pd.Series(["x"] * 18 + ["y", "z"] + ["x"] * 17 + ["y", "z", "z"])
    assert compare_groups(three, groups, categorical=True).test == "Chi-squared (expected count < 5)"


def test_table_one_layout_and_missing_counts():
    rng = np.random.default_rng(1)
    n = 120
    table = pd.DataFrame(
        {
            "label": rng.integers(0, 2, n),
            "cohort": np.where(np.arange(n) < 90, "train", "validation"),
            "age": rng.normal(60, 8, n),
            "cea": rng.lognormal(1, 1, n),
            "sex": rng.choice(["female", "male"], n),
        },
        index=[f"P{i:04d}" for i in range(n)],
    )
    table.loc[table.index[:7], "cea"] = np.nan
    result = table_one(table, {"age": "numeric", "cea": "numeric", "sex": "binary"})
    t = result.table
    assert list(t.columns[:5]) == [
        "Missing",
        "Overall",
        "Training",
        "Validation",
        "p (Training vs Validation)",
    ]
    assert "Training: malignant" in t.columns and "p (Validation)" in t.columns
    cea_row = [i for i in t.index if i[0].startswith("cea")][0]
    assert str(t.loc[cea_row, "Missing"]) == "7" and "median" in cea_row[0]
    assert "cea" in result.nonnormal  # log-normal; age (normal) may fail Shapiro by chance in a cell
    assert set(result.tests["comparison"]) == {"cohorts", "Training", "Validation"}
    assert comparability(result.tests).shape[0] == 3
