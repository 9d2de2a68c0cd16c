"""The texture matrices of one image type, as pyradiomics' C kernels return them (leading axis of 1).

For a 2-D box of at least 2 x 2 pixels at distance 1 (the ultrasound2d preset), the GLCM, GLDM and NGTDM
come from one numba visit of the ROI, the GLRLM from one walk along each angle's lines and the GLSZM from a
flood fill (:mod:`splkit.radiomics.fast._matrices`); otherwise from pyradiomics' own kernels
(``radiomics.cMatrices``) with the arguments pyradiomics passes.  Either way the same numbers
(``tests/radiomics/test_fast_matrices.py``).  Results are kept on the :class:`~.discretise.Discretised`
ROI, so the classes sharing a visit compute it once.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

import numpy as np

from splkit.radiomics.fast.discretise import Discretised


def c_matrices():
    """pyradiomics' C matrix kernels (imported when first used: pyradiomics is slow to import)."""
    from radiomics import cMatrices

    return cMatrices


@cache
def _kernels():
    try:
        from splkit.radiomics.fast import _matrices
    except ImportError:  # numba missing
        return None
    return _matrices


def _own_kernels(roi: Discretised, settings: Mapping[str, Any]):
    """The numba kernels when they apply (2-D box of 2 x 2 or more, distance 1), else ``None``."""
    h, w = roi.binned.shape
    distances = list(np.atleast_1d(settings.get("distances", [1])))
    return _kernels() if h >= 2 and w >= 2 and distances == [1] else None


def _neighbourhood(roi: Discretised, settings: Mapping[str, Any], kernels) -> tuple:
    alpha = settings.get("gldm_a", 0)
    key = ("neighbourhood", alpha)
    if key not in roi.cache:
        glcm, gldm, ngtdm = kernels.neighbourhood(roi.binned, roi.mask, roi.n_levels, alpha)
        roi.cache[key] = glcm[None], gldm[None], ngtdm[None]
    return roi.cache[key]


def _args(settings: Mapping[str, Any]) -> tuple:
    return settings.get("force2D", False), settings.get("force2Ddimension", 0)


def _distances(settings: Mapping[str, Any]) -> np.ndarray:
    return np.array(settings.get("distances", [1]))


def glcm(roi: Discretised, settings: Mapping[str, Any]) -> np.ndarray:
    """``calculate_glcm``: co-occurrences (1, Ng, Ng, angles), not yet symmetrised."""
    kernels = _own_kernels(roi, settings)
    if kernels is not None:
        return _neighbourhood(roi, settings, kernels)[0].copy()
    return c_matrices().calculate_glcm(
        roi.binned, roi.mask, _distances(settings), roi.n_levels, *_args(settings)
    )[0]


def gldm(roi: Discretised, settings: Mapping[str, Any]) -> np.ndarray:
    """``calculate_gldm``: pixels by grey level and number of dependent neighbours (1, Ng, ...)."""
    kernels = _own_kernels(roi, settings)
    if kernels is not None:
        return _neighbourhood(roi, settings, kernels)[1].copy()
    alpha = settings.get("gldm_a", 0)
    return c_matrices().calculate_gldm(
        roi.binned, roi.mask, _distances(settings), roi.n_levels, alpha, *_args(settings)
    )


def ngtdm(roi: Discretised, settings: Mapping[str, Any]) -> np.ndarray:
    """``calculate_ngtdm``: per grey level the count, the sum of |i - neighbourhood mean| and i (1, Ng, 3)."""
    kernels = _own_kernels(roi, settings)
    if kernels is not None:
        return _neighbourhood(roi, settings, kernels)[2].copy()
    return c_matrices().calculate_ngtdm(
        roi.binned, roi.mask, _distances(settings), roi.n_levels, *_args(settings)
    )


def glszm(roi: Discretised, settings: Mapping[str, Any]) -> np.ndarray:
    """``calculate_glszm``: zones by grey level and size (1, Ng, largest zone)."""
    kernels = _own_kernels(roi, settings)
    if kernels is not None:
        return kernels.size_zones(roi.binned, roi.mask, roi.n_levels)[None]
    return c_matrices().calculate_glszm(
        roi.binned, roi.mask, roi.n_levels, np.sum(roi.mask), *_args(settings)
    )


def glrlm(roi: Discretised, settings: Mapping[str, Any]) -> np.ndarray:
    """``calculate_glrlm``: runs by grey level and length (1, Ng, max(h, w), angles)."""
    kernels = _own_kernels(roi, settings)
    if kernels is not None:
        return kernels.run_lengths(roi.binned, roi.mask, roi.n_levels)[None]
    ng, longest = roi.n_levels, np.max(roi.binned.shape)
    return c_matrices().calculate_glrlm(roi.binned, roi.mask, ng, longest, *_args(settings))[0]
