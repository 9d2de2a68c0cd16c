"""Tests of splkit.cohort.split: the stratified split and the cohort column."""

import pandas as pd

from splkit.cohort.split import assign_cohorts, stratified_split


def test_split_609_is_487_122_and_stratified():
    labels = pd.Series([1] * 365 + [0] * 244, index=[f"ID{i:03d}" for i in range(609)], name="label")
    cohorts = stratified_split(labels.to_frame(), 0.2, 609)
    counts = cohorts.value_counts()
    assert (counts["train"], counts["validation"]) == (487, 122)
    share = labels.groupby(cohorts).mean()
    assert abs(share["train"] - share["validation"]) < 0.01
    assert cohorts.equals(
        stratified_split(labels.sample(frac=1, random_state=3).to_frame(), 0.2, 609).reindex(labels.index)
    )


def test_assign_cohorts_splits_when_there_is_no_cohort_column():
    labels = pd.Series([0, 1] * 10, index=[f"ID{i}" for i in range(20)], dtype=float)
    raw = pd.DataFrame(index=labels.index)
    cohorts, problems = assign_cohorts(raw, labels, "malignant", 0.2, seed=7)
    assert not problems and cohorts.value_counts().to_dict() == {"train": 16, "validation": 4}
    assert cohorts.equals(stratified_split(labels.to_frame("label"), 0.2, 7))


def test_assign_cohorts_reads_the_cohort_column_and_reports_unsplittable_tables():
    labels = pd.Series([0, 1, 0, 1], index=list("abcd"), dtype=float)
    raw = pd.DataFrame({"cohort": ["training", "training", "test", "Test"]}, index=labels.index)
    cohorts, problems = assign_cohorts(raw, labels, "malignant", 0.2, seed=0)
    assert not problems and cohorts.tolist() == ["train", "train", "validation", "validation"]
    one_class = pd.Series([1.0] * 6, index=list("abcdef"))
    cohorts, problems = assign_cohorts(pd.DataFrame(index=one_class.index), one_class, "malignant", 0.2, 0)
    assert (cohorts == "train").all() and "cannot split 6 patients (6 positive)" in problems[0].message
