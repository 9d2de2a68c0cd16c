"""Intraclass correlation between readers (or segmentations), for every feature at once.

The ``k`` columns are the raters: two readers' masks (inter-reader agreement), or the reader-1 mask
and its perturbed copies (perturbation robustness, :mod:`splkit.radiomics.robustness`); :func:`icc`
takes any number of tables.

Two-way ANOVA forms of Shrout & Fleiss (Psychol Bull 1979;86:420-428), as named by McGraw & Wong
(Psychol Methods 1996;1:30-46) and reported by Koo & Li (J Chiropr Med 2016;15:155-163):

- ``ICC3``: ICC(3,1), two-way mixed effects, consistency, single rater:
  ``(MSR - MSE) / (MSR + (k - 1) MSE)``;
- ``ICC2``: ICC(2,1), two-way random effects, absolute agreement, single rater:
  ``(MSR - MSE) / (MSR + (k - 1) MSE + k (MSC - MSE) / n)``;

with ``n`` patients, ``k`` readers (segmentations), MSR / MSC / MSE the mean squares of patients (rows), readers
(columns) and residual.  Checked against ``pingouin.intraclass_corr`` in ``tests/test_icc.py``.
A feature that is constant over patients and readers has no defined ICC (NaN), and fails any threshold.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

ICC_TYPES = ("ICC2", "ICC3")


def icc_array(ratings: np.ndarray, icc_type: str = "ICC3") -> np.ndarray:
    """ICC of each column-block of ``ratings``, shape ``(n_patients, k_readers, n_features)``."""
    if icc_type not in ICC_TYPES:
        raise ValueError(f"icc_type must be one of {ICC_TYPES}, got {icc_type!r}")
    y = np.asarray(ratings, dtype=float)
    if y.ndim != 3:
        raise ValueError(f"ratings must have shape (patients, readers, features), got {y.shape}")
    n, k, _ = y.shape
    if n < 2 or k < 2:
        raise ValueError(f"ICC needs at least 2 patients and 2 readers, got {n} patients and {k} readers")
    if not np.isfinite(y).all():
        raise ValueError("ratings contain NaN or infinite values")
    grand = y.mean(axis=(0, 1))
    ss_rows = k * ((y.mean(axis=1) - grand) ** 2).sum(axis=0)
    ss_cols = n * ((y.mean(axis=0) - grand) ** 2).sum(axis=0)
    ss_total = ((y - grand) ** 2).sum(axis=(0, 1))
    ss_error = ss_total - ss_rows - ss_cols
    msr = ss_rows / (n - 1)
    msc = ss_cols / (k - 1)
    mse = ss_error / ((n - 1) * (k - 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        if icc_type == "ICC3":
            value = (msr - mse) / (msr + (k - 1) * mse)
        else:
            value = (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)
    return np.where(ss_total > 0, value, np.nan)


def icc(
    readers: Sequence[pd.DataFrame], icc_type: str = "ICC3", columns: Sequence[str] | None = None
) -> pd.Series:
    """Per-feature ICC between readers' feature tables (rows = the same patients, in any order).

    Parameters
    ----------
    readers
        Two (or more) tables indexed by patient; only patients present in all are used.
    icc_type
        ``"ICC3"`` (ICC(3,1)) or ``"ICC2"`` (ICC(2,1)).
    columns
        Features to compare (default: the columns of the first table).

    Returns
    -------
    pandas.Series
        ICC per feature (NaN for features constant over patients and readers), named ``icc_type``;
        ``.attrs["n_patients"]`` holds the number of patients used.
    """
    if len(readers) < 2:
        raise ValueError("icc needs at least two readers' tables")
    columns = list(readers[0].columns if columns is None else columns)
    common = readers[0].index
    for table in readers[1:]:
        common = common.intersection(table.index)
    if len(common) < 2:
        raise ValueError(f"icc: only {len(common)} patients have every reader's features")
    common = common.sort_values()
    stacked = np.stack([t.loc[common, columns].to_numpy(dtype=float) for t in readers], axis=1)
    result = pd.Series(icc_array(stacked, icc_type), index=pd.Index(columns, name="feature"), name=icc_type)
    result.attrs["n_patients"] = len(common)
    return result
