"""splkit.stats.folds: bootstrap copies stay in one fold; small classes reduce the folds, loudly."""

import numpy as np
import pytest
from sklearn.model_selection import StratifiedKFold

from splkit.stats.folds import FoldsReduced, StratifiedCopiesKFold, copies_together, copy_groups, folds


def _data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4)), np.r_[np.zeros(n // 2, int), np.ones(n - n // 2, int)]


def test_without_copies_it_is_stratified_kfold():
    X, y = _data()
    ours = [t.tolist() for _, t in folds(5, 3).split(X, y)]
    theirs = [t.tolist() for _, t in StratifiedKFold(5, shuffle=True, random_state=3).split(X, y)]
    assert ours == theirs
    rows = np.r_[np.arange(60), np.arange(10)]  # copies, but outside copies_together: plain folds
    ours = [t.tolist() for _, t in folds(5, 3).split(X[rows], y[rows])]
    theirs = [t.tolist() for _, t in StratifiedKFold(5, shuffle=True, random_state=3).split(X[rows], y[rows])]
    assert ours == theirs


def test_copies_never_straddle_a_split_inside_copies_together():
    X, y = _data()
    rows = np.random.default_rng(1).choice(60, size=60, replace=True)  # a bootstrap resample
    Xb, yb = X[rows], y[rows]
    groups = copy_groups(Xb)
    assert groups is not None and len(np.unique(groups)) == len(np.unique(rows))
    with copies_together():
        splits = list(folds(5, 0).split(Xb, yb))
    assert len(splits) == 5
    for train, test in splits:
        assert not set(rows[train]) & set(rows[test])  # no patient on both sides
        assert set(yb[test]) == {0, 1}
    assert sorted(np.concatenate([t for _, t in splits]).tolist()) == list(range(60))


def test_few_distinct_rows_fall_back_to_plain_folds():
    y = np.r_[np.zeros(20, int), np.ones(20, int)]
    X = (np.arange(40) % 2).reshape(-1, 1).astype(float)  # two distinct rows: cannot fill 5 grouped folds
    with copies_together():
        ours = [t.tolist() for _, t in folds(5, 0).split(X, y)]
    assert ours == [t.tolist() for _, t in StratifiedKFold(5, shuffle=True, random_state=0).split(X, y)]


def test_small_class_reduces_the_folds_with_a_warning():
    X, y = _data(30)
    y[:] = 0
    y[:3] = 1
    with pytest.warns(FoldsReduced, match="5 folds asked, 3 used"):
        splits = list(StratifiedCopiesKFold(5, shuffle=True, random_state=0).split(X, y))
    assert len(splits) == 3 and all(y[test].sum() == 1 for _, test in splits)
    y[:] = 0
    y[0] = 1
    with pytest.raises(ValueError, match="at least 2 patients of each class"):
        list(folds(5, 0).split(X, y))


def test_dataframe_rows_are_grouped_by_value_not_index():
    import pandas as pd

    X, _ = _data(6)
    frame = pd.DataFrame(X[[0, 1, 1, 2, 3, 3]], index=list("abcdef"))
    groups = copy_groups(frame)
    assert groups[1] == groups[2] and groups[4] == groups[5] and len(set(groups)) == 4


def test_remembered_grouped_splits_equal_fresh_ones():
    """Grouped folds are remembered by (y, groups, seed); a repeat returns the same folds as a new
    StratifiedGroupKFold, as fresh arrays (a caller may not alter the remembered ones)."""
    from sklearn.model_selection import StratifiedGroupKFold

    rng = np.random.default_rng(4)
    base = rng.normal(size=(40, 3))
    rows = rng.choice(40, size=40)
    X, y = base[rows], (base[rows, 0] > 0).astype(int)
    with copies_together():
        first = list(folds(4, 7).split(X, y))
        first[0][0][:] = -1  # scribbling on a returned fold does not reach the memory
        second = list(folds(4, 7).split(X, y))
    expected = list(StratifiedGroupKFold(4, shuffle=True, random_state=7).split(X, y, copy_groups(X)))
    for (train, test), (e_train, e_test) in zip(second, expected, strict=True):
        np.testing.assert_array_equal(train, e_train)
        np.testing.assert_array_equal(test, e_test)
