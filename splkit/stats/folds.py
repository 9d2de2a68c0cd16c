"""Cross-validation folds that never split identical rows across training and test.

Inside a bootstrap resample (Harrell's optimism correction, :mod:`splkit.models.optimism`) a patient
drawn twice is two identical rows.  Plain K-fold puts one copy in the training folds and the other in
the test fold, so every inner cross-validation of the resample (grid search, Platt folds, LASSO path,
stacking) scores rows its model was fitted on and rewards memorisation: the resample's procedure is then
not the procedure that was run on the original cohort, which is what the bootstrap must repeat (Harrell,
*Regression Modeling Strategies*, 2nd ed., §5.3.5).  :class:`StratifiedCopiesKFold` keeps identical
rows in one fold (scikit-learn's ``StratifiedGroupKFold`` with one group per distinct row) while
:func:`copies_together` is active, as the optimism resamples make it; elsewhere, and where the distinct
rows are too few to fill the folds (a resample of a few categorical predictors), it is exactly
``StratifiedKFold`` (same folds, same numbers).
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

_COPIES_TOGETHER: ContextVar[bool] = ContextVar("splkit_copies_together", default=False)


@contextmanager
def copies_together() -> Iterator[None]:
    """While active, :class:`StratifiedCopiesKFold` keeps identical rows in one fold (bootstrap fits)."""
    token = _COPIES_TOGETHER.set(True)
    try:
        yield
    finally:
        _COPIES_TOGETHER.reset(token)


class FoldsReduced(UserWarning):
    """Fewer folds than asked: a class has fewer rows than folds (small cohorts)."""


def usable_folds(n_splits: int, y: Any) -> int:
    """``n_splits``, or fewer: at most the size of the smallest class (every fold then tests each class).

    Raises ``ValueError`` when a class has fewer than 2 rows (no cross-validation is possible).
    """
    _, counts = np.unique(np.asarray(y), return_counts=True)
    smallest = int(counts.min()) if len(counts) > 1 else 0
    if smallest < 2:
        raise ValueError(
            f"cross-validation needs at least 2 patients of each class in the rows it splits; the smallest class "
            f"has {smallest}. The cohort is too small (or too unbalanced) for the models' cross-validation."
        )
    return min(int(n_splits), smallest)


def copy_groups(X: Any) -> np.ndarray | None:
    """One integer per row, equal for identical rows; ``None`` when no two rows are identical."""
    if isinstance(X, pd.DataFrame):
        keys = pd.util.hash_pandas_object(X, index=False).to_numpy()
    else:
        values = np.asarray(X)
        values = values.reshape(len(values), -1) if values.ndim != 2 else values
        if values.dtype == object:
            keys = pd.util.hash_pandas_object(pd.DataFrame(values), index=False).to_numpy()
        else:
            keys = np.ascontiguousarray(values).view(
                np.dtype((np.void, values.dtype.itemsize * values.shape[1]))
            )
            keys = keys.ravel()
    _, groups = np.unique(keys, return_inverse=True)
    return groups if len(np.unique(groups)) < len(groups) else None


class StratifiedCopiesKFold(StratifiedKFold):
    """``StratifiedKFold`` that puts identical rows (bootstrap copies of a patient) in the same fold.

    With a class smaller than ``n_splits``, the folds are reduced to its size (:func:`usable_folds`, with a
    :class:`FoldsReduced` warning; chapter 5 states the reduction).
    Inside :func:`copies_together`, with identical rows and at least ``n_splits`` distinct rows of each
    class: ``StratifiedGroupKFold`` with one group per distinct row (stratification then holds as well as
    the group sizes allow).  Otherwise the folds of ``StratifiedKFold(n_splits, shuffle, random_state)``.
    """

    def split(self, X: Any, y: Any = None, groups: Any = None):
        if (
            y is not None
            and len(np.unique(y)) > 1
            and (usable := usable_folds(self.n_splits, y)) < self.n_splits
        ):
            warnings.warn(
                f"{self.n_splits} folds asked, {usable} used: the smallest class has {usable} rows",
                FoldsReduced,
                stacklevel=2,
            )
            reduced = StratifiedCopiesKFold(usable, shuffle=self.shuffle, random_state=self.random_state)
            yield from reduced.split(X, y, groups)
            return
        copies = copy_groups(X) if _COPIES_TOGETHER.get() else None
        if copies is not None and y is not None:
            labels = np.asarray(y)
            fill = min(len(np.unique(copies[labels == c])) for c in np.unique(labels))
            if fill >= self.n_splits:
                splits = _grouped_splits(self.n_splits, self.shuffle, self.random_state, labels, copies)
                for train, test in splits:
                    yield train.copy(), test.copy()
                return
        yield from super().split(X, y, groups)


#: Recent ``StratifiedGroupKFold`` splits by their inputs: a resample splits the same rows with the same
#: folds many times (grid search and Platt folds of every SVM, LASSO folds), and that class's fold
#: assignment is a Python loop over groups (a tenth of a resample's time before it was remembered).
_GROUPED: OrderedDict[tuple, list[tuple[np.ndarray, np.ndarray]]] = OrderedDict()
_GROUPED_SIZE = 64


def _grouped_splits(
    n_splits: int, shuffle: bool, random_state: Any, y: np.ndarray, groups: np.ndarray
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``StratifiedGroupKFold(n_splits, shuffle, random_state).split(y, y, groups)``, remembered (it depends
    on nothing else: ``X`` enters only through its length); not remembered for a generator seed or
    object labels."""

    def split() -> list[tuple[np.ndarray, np.ndarray]]:
        grouped = StratifiedGroupKFold(n_splits, shuffle=shuffle, random_state=random_state)
        return list(grouped.split(np.zeros((len(y), 1)), y, groups))

    if not isinstance(random_state, int | np.integer) or y.dtype == object:
        return split()
    key = (n_splits, shuffle, int(random_state), y.dtype.str, y.tobytes(), groups.tobytes())
    if key not in _GROUPED:
        _GROUPED[key] = split()
        if len(_GROUPED) > _GROUPED_SIZE:
            _GROUPED.popitem(last=False)
    _GROUPED.move_to_end(key)
    return _GROUPED[key]


def folds(n_splits: int, random_state: int) -> StratifiedCopiesKFold:
    """The stratified, shuffled folds of every search and every out-of-fold score in splkit."""
    return StratifiedCopiesKFold(n_splits=int(n_splits), shuffle=True, random_state=int(random_state))
