"""Input checks shared by the statistics modules: clear errors before any computation."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import assert_all_finite, column_or_1d


def check_labels(y: ArrayLike, *, need_both: bool = True) -> np.ndarray:
    """Return ``y`` as an int array of 0/1, or raise a ``ValueError`` that says what is wrong."""
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"labels must be one-dimensional, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError("labels are empty")
    if arr.dtype == bool:
        arr = arr.astype(int)
    try:
        values = arr.astype(float)
    except (TypeError, ValueError) as err:
        raise ValueError(f"labels must be 0/1 (1 = positive class), got dtype {arr.dtype}") from err
    bad = ~np.isin(values, (0.0, 1.0))
    if bad.any():
        raise ValueError(
            f"labels must be 0/1 (1 = positive class); position {int(np.flatnonzero(bad)[0])} "
            f"holds {arr[bad][0]!r}"
        )
    out = values.astype(int)
    if need_both and (out.min() == out.max()):
        raise ValueError(f"labels hold only class {out[0]}; both classes (0 and 1) are needed")
    return out


def check_scores(score: ArrayLike, n: int, name: str = "score", *, probability: bool = False) -> np.ndarray:
    """Return ``score`` as a finite float array of length ``n`` (in [0, 1] if ``probability``)."""
    arr = np.asarray(score, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.size != n:
        raise ValueError(f"{name} has {arr.size} values but there are {n} labels")
    finite = np.isfinite(arr)
    if not finite.all():
        raise ValueError(
            f"{name} must be finite; position {int(np.flatnonzero(~finite)[0])} is {arr[~finite][0]}"
        )
    if probability and ((arr < 0).any() or (arr > 1).any()):
        pos = int(np.flatnonzero((arr < 0) | (arr > 1))[0])
        raise ValueError(f"{name} must be probabilities in [0, 1]; position {pos} is {arr[pos]}")
    return arr


def check_level(level: float) -> float:
    """Return the confidence level if it lies strictly between 0 and 1."""
    if not 0 < level < 1:
        raise ValueError(f"confidence level must lie strictly between 0 and 1, got {level}")
    return float(level)


def binary_target(y, n: int, owner: str) -> tuple[np.ndarray, np.ndarray]:
    """``(y as 0/1, classes)``: two classes, the greater (scikit-learn's ``classes_[1]``) coded 1."""
    if y is None:
        raise ValueError(f"{owner} requires y to be passed, but the target y is None")
    y = column_or_1d(y, warn=True)
    if len(y) != n:
        raise ValueError(f"y has {len(y)} values for {n} rows of X")
    if y.dtype.kind == "f":
        assert_all_finite(y, input_name="y")
    check_classification_targets(y)  # rejects continuous targets
    classes = np.unique(y)
    if len(classes) == 1:
        raise ValueError(f"{owner} needs a target with two classes, got one class: {classes.tolist()}")
    if len(classes) > 2:
        raise ValueError(
            f"Only binary classification is supported; {owner} got {len(classes)} classes: "
            f"{classes.tolist()[:5]}"
        )
    return (y == classes[1]).astype(int), classes
