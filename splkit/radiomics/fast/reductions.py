"""numpy's NaN-aware reductions without their copies, equal bit for bit on arrays without NaN.

``numpy.nanmean(a, axis)`` replaces NaN by 0 in a copy, sums with ``numpy.sum`` and divides by the count
of non-NaN values; on an array without NaN that is ``numpy.sum(a, axis) / n`` (the same additions in the
same order, the same division).  pyradiomics averages every texture feature over angles with it, on
arrays of a few values where the copies cost far more than the sums.
"""

from __future__ import annotations

import math

import numpy as np


def nanmean(a: np.ndarray, axis, keepdims: bool = False) -> np.ndarray:
    """``numpy.nanmean(a, axis, keepdims=keepdims)``, with a shortcut when ``a`` has no NaN."""
    if np.isnan(a).any():
        return np.nanmean(a, axis, keepdims=keepdims)
    axes = axis if isinstance(axis, tuple) else (axis,)
    return np.sum(a, axis, keepdims=keepdims) / math.prod(a.shape[k] for k in axes)


def nansum(a: np.ndarray, axis) -> np.ndarray:
    """``numpy.nansum(a, axis)``, with a shortcut when ``a`` has no NaN."""
    if np.isnan(a).any():
        return np.nansum(a, axis)
    return np.sum(a, axis)
