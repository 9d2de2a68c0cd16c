"""splkit.models.folds_plan: the folds a small training cohort leaves each cross-validation."""

import numpy as np

from splkit.config import load_profile
from splkit.models.folds_plan import fold_note, fold_plan


def test_large_cohort_uses_the_folds_asked():
    plan = fold_plan(load_profile("default"), np.r_[np.zeros(250), np.ones(230)])
    assert (plan["folds used"] == plan["folds asked"]).all() and fold_note(plan) == ""


def test_small_cohort_reduces_inner_folds_and_says_by_how_much():
    plan = fold_plan(
        load_profile("default"), np.r_[np.zeros(22), np.ones(10)]
    )  # 40 patients, 12 positive: 32 train
    assert plan.loc["out-of-fold scores (outer folds)", "folds used"] == 5
    # an outer training part keeps 10 - ceil(10 / 5) = 8 positives: LASSO's 10 folds become 8
    assert plan.loc["LASSO path, in an outer fold", ["folds asked", "folds used"]].tolist() == [10, 8]
    assert plan.loc["SVM grid search, in a fold of the stack", "smallest class"] == 6
    assert "LASSO path, in an outer fold: 8 instead of 10" in fold_note(plan)
