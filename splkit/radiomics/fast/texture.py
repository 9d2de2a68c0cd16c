"""GLRLM, GLSZM and GLDM features, pyradiomics' formulas (``radiomics/glrlm.py``, ``glszm.py``, ``gldm.py``).

Each matrix is pyradiomics' (:mod:`splkit.radiomics.fast.matrices`: its C kernel ``calculate_*`` or the same
counts from splkit's numba kernels), with pyradiomics' post-processing (empty grey levels, run lengths, zone sizes and angles removed).  Every feature is
pyradiomics' expression on the shared coefficients, computed once per image type.

References: Galloway MM. Texture analysis using gray level run lengths. CGIP 1975;4:172-179 (GLRLM);
Thibault G et al. Texture indexes and gray level size zone matrix. PRIA 2009 (GLSZM); Sun C, Wee WG.
Neighboring gray level dependence matrix. CVGIP 1983;23:341-352 (GLDM); IBSI sections 3.7-3.8, 3.10.
"""

from __future__ import annotations

import numpy as np

from splkit.radiomics.fast import matrices
from splkit.radiomics.fast.discretise import Discretised
from splkit.radiomics.fast.glcm import empty_levels
from splkit.radiomics.fast.reductions import nanmean

EPS = np.spacing(1)


def _joint_emphasis(p, iv, jv, i_power, j_power, norm, both_high):
    """``sum(P i^±2 j^±2, (1, 2)) / norm`` associated as pyradiomics writes it (``both_high``: i^2 j^2)."""
    i2, j2 = iv**2, jv**2
    if i_power < 0 and j_power < 0:
        value = p / (i2 * j2)
    elif i_power < 0:
        value = p * j2 / i2
    elif j_power < 0:
        value = p * i2 / j2
    else:
        value = both_high(p, i2, j2)
    return np.sum(value, (1, 2)) / norm


def _high_j_first(p, i2, j2):
    return p * (j2 * i2)  # GLRLM and GLDM: P * ((j^2) * (i^2))


def _high_i_first(p, i2, j2):
    return p * i2 * j2  # GLSZM: P * i^2 * j^2


class GLRLM:
    """Grey Level Run Length Matrix features (averaged over angles)."""

    def __init__(self, roi: Discretised, settings) -> None:
        p = matrices.glrlm(roi, settings)
        p = np.delete(p, empty_levels(roi), 1)
        nr = np.sum(p, (1, 2))
        if p.shape[3] > 1:
            empty_angles = np.where(np.sum(nr, 0) == 0)
            if len(empty_angles[0]) > 0:
                p = np.delete(p, empty_angles, 3)
                nr = np.delete(nr, empty_angles, 1)
        nr[nr == 0] = np.nan
        pr = np.sum(p, 1)
        self.pg = np.sum(p, 2)
        self.iv = roi.gray_levels.astype(float)
        jv = np.arange(1, p.shape[2] + 1, dtype=np.float64)
        empty_runs = np.where(np.sum(pr, (0, 2)) == 0)
        self.p = np.delete(p, empty_runs, 2)
        self.jv = np.delete(jv, empty_runs)
        self.pr = np.delete(pr, empty_runs, 1)
        self.nr = nr

    def compute(self, name: str):
        return getattr(self, "f_" + name)()

    def _mean(self, value):
        return nanmean(value, 1)

    def f_ShortRunEmphasis(self):  # noqa: N802 - pyradiomics' feature names
        return self._mean(np.sum((self.pr / (self.jv[None, :, None] ** 2)), 1) / self.nr)

    def f_LongRunEmphasis(self):  # noqa: N802
        return self._mean(np.sum((self.pr * (self.jv[None, :, None] ** 2)), 1) / self.nr)

    def f_GrayLevelNonUniformity(self):  # noqa: N802
        return self._mean(np.sum((self.pg**2), 1) / self.nr)

    def f_GrayLevelNonUniformityNormalized(self):  # noqa: N802
        return self._mean(np.sum(self.pg**2, 1) / (self.nr**2))

    def f_RunLengthNonUniformity(self):  # noqa: N802
        return self._mean(np.sum((self.pr**2), 1) / self.nr)

    def f_RunLengthNonUniformityNormalized(self):  # noqa: N802
        return self._mean(np.sum((self.pr**2), 1) / self.nr**2)

    def f_RunPercentage(self):  # noqa: N802
        return self._mean(self.nr / np.sum(self.pr * self.jv[None, :, None], 1))

    def f_GrayLevelVariance(self):  # noqa: N802
        pg = self.pg / self.nr[:, None, :]
        u_i = np.sum(pg * self.iv[None, :, None], 1, keepdims=True)
        return self._mean(np.sum(pg * (self.iv[None, :, None] - u_i) ** 2, 1))

    def f_RunVariance(self):  # noqa: N802
        pr = self.pr / self.nr[:, None, :]
        u_j = np.sum(pr * self.jv[None, :, None], 1, keepdims=True)
        return self._mean(np.sum(pr * (self.jv[None, :, None] - u_j) ** 2, 1))

    def f_RunEntropy(self):  # noqa: N802
        p = self.p / self.nr[:, None, None, :]
        return self._mean(-np.sum(p * np.log2(p + EPS), (1, 2)))

    def f_LowGrayLevelRunEmphasis(self):  # noqa: N802
        return self._mean(np.sum((self.pg / (self.iv[None, :, None] ** 2)), 1) / self.nr)

    def f_HighGrayLevelRunEmphasis(self):  # noqa: N802
        return self._mean(np.sum((self.pg * (self.iv[None, :, None] ** 2)), 1) / self.nr)

    def _joint(self, i_power, j_power):
        iv, jv = self.iv[None, :, None, None], self.jv[None, None, :, None]
        return self._mean(_joint_emphasis(self.p, iv, jv, i_power, j_power, self.nr, _high_j_first))

    def f_ShortRunLowGrayLevelEmphasis(self):  # noqa: N802
        return self._joint(-2, -2)

    def f_ShortRunHighGrayLevelEmphasis(self):  # noqa: N802
        return self._joint(2, -2)

    def f_LongRunLowGrayLevelEmphasis(self):  # noqa: N802
        return self._joint(-2, 2)

    def f_LongRunHighGrayLevelEmphasis(self):  # noqa: N802
        return self._joint(2, 2)


class _SizeMatrix:
    """Shared formulas of the GLSZM and GLDM (matrix ``p``: grey level x size, one ROI)."""

    p: np.ndarray
    ps: np.ndarray
    pg: np.ndarray
    iv: np.ndarray
    jv: np.ndarray
    nz: np.ndarray

    def compute(self, name: str):
        return getattr(self, "f_" + name)()

    def _size(self, power):
        if power < 0:
            return np.sum(self.ps / (self.jv[None, :] ** 2), 1) / self.nz
        return np.sum(self.ps * (self.jv[None, :] ** 2), 1) / self.nz

    def _level(self, power):
        if power < 0:
            return np.sum(self.pg / (self.iv[None, :] ** 2), 1) / self.nz
        return np.sum(self.pg * (self.iv[None, :] ** 2), 1) / self.nz

    both_high = staticmethod(_high_i_first)

    def _joint(self, i_power, j_power):
        iv, jv = self.iv[None, :, None], self.jv[None, None, :]
        return _joint_emphasis(self.p, iv, jv, i_power, j_power, self.nz, self.both_high)

    def _non_uniformity(self, marginal, normalized):
        return np.sum(marginal**2, 1) / (self.nz**2 if normalized else self.nz)

    def _variance(self, marginal, vector):
        normalized = marginal / self.nz[:, None]
        mean = np.sum(normalized * vector[None, :], 1, keepdims=True)
        return np.sum(normalized * (vector[None, :] - mean) ** 2, 1)

    def _entropy(self):
        p = self.p / self.nz[:, None, None]
        return -np.sum(p * np.log2(p + EPS), (1, 2))

    def f_GrayLevelNonUniformity(self):  # noqa: N802
        return self._non_uniformity(self.pg, False)

    def f_GrayLevelVariance(self):  # noqa: N802
        return self._variance(self.pg, self.iv)


class GLSZM(_SizeMatrix):
    """Grey Level Size Zone Matrix features (zones: 8-connected in 2-D)."""

    def __init__(self, roi: Discretised, settings) -> None:
        p = matrices.glszm(roi, settings)
        p = np.delete(p, empty_levels(roi), 1)
        ps = np.sum(p, 1)
        self.pg = np.sum(p, 2)
        self.iv = roi.gray_levels.astype(float)
        jv = np.arange(1, p.shape[2] + 1, dtype=np.float64)
        nz = np.sum(p, (1, 2))
        nz[nz == 0] = 1
        np_ = np.sum(ps * jv[None, :], 1)
        np_[np_ == 0] = 1
        empty_sizes = np.where(np.sum(ps, 0) == 0)
        self.p = np.delete(p, empty_sizes, 2)
        self.jv = np.delete(jv, empty_sizes)
        self.ps = np.delete(ps, empty_sizes, 1)
        self.nz, self.np_ = nz, np_

    def f_SmallAreaEmphasis(self):  # noqa: N802 - pyradiomics' feature names
        return self._size(-2)

    def f_LargeAreaEmphasis(self):  # noqa: N802
        return self._size(2)

    def f_GrayLevelNonUniformityNormalized(self):  # noqa: N802
        return self._non_uniformity(self.pg, True)

    def f_SizeZoneNonUniformity(self):  # noqa: N802
        return self._non_uniformity(self.ps, False)

    def f_SizeZoneNonUniformityNormalized(self):  # noqa: N802
        return self._non_uniformity(self.ps, True)

    def f_ZonePercentage(self):  # noqa: N802
        return self.nz / self.np_

    def f_ZoneVariance(self):  # noqa: N802
        return self._variance(self.ps, self.jv)

    def f_ZoneEntropy(self):  # noqa: N802
        return self._entropy()

    def f_LowGrayLevelZoneEmphasis(self):  # noqa: N802
        return self._level(-2)

    def f_HighGrayLevelZoneEmphasis(self):  # noqa: N802
        return self._level(2)

    def f_SmallAreaLowGrayLevelEmphasis(self):  # noqa: N802
        return self._joint(-2, -2)

    def f_SmallAreaHighGrayLevelEmphasis(self):  # noqa: N802
        return self._joint(2, -2)

    def f_LargeAreaLowGrayLevelEmphasis(self):  # noqa: N802
        return self._joint(-2, 2)

    def f_LargeAreaHighGrayLevelEmphasis(self):  # noqa: N802
        return self._joint(2, 2)


class GLDM(_SizeMatrix):
    """Grey Level Dependence Matrix features (``gldm_a``: the dependence threshold)."""

    def __init__(self, roi: Discretised, settings) -> None:
        p = matrices.gldm(roi, settings)
        p = np.delete(p, empty_levels(roi), 1)
        jv = np.arange(1, p.shape[2] + 1, dtype="float64")
        pd = np.sum(p, 1)
        self.pg = np.sum(p, 2)
        empty_sizes = np.sum(pd, 0)
        self.p = np.delete(p, np.where(empty_sizes == 0), 2)
        self.jv = np.delete(jv, np.where(empty_sizes == 0))
        self.ps = np.delete(pd, np.where(empty_sizes == 0), 1)
        nz = np.sum(self.ps, 1)
        nz[nz == 0] = 1
        self.nz = nz
        self.iv = roi.gray_levels.astype(float)

    both_high = staticmethod(_high_j_first)

    def f_SmallDependenceEmphasis(self):  # noqa: N802 - pyradiomics' feature names
        return self._size(-2)

    def f_LargeDependenceEmphasis(self):  # noqa: N802
        return self._size(2)

    def f_DependenceNonUniformity(self):  # noqa: N802
        return self._non_uniformity(self.ps, False)

    def f_DependenceNonUniformityNormalized(self):  # noqa: N802
        return self._non_uniformity(self.ps, True)

    def f_DependenceVariance(self):  # noqa: N802
        return self._variance(self.ps, self.jv)

    def f_DependenceEntropy(self):  # noqa: N802
        return self._entropy()

    def f_LowGrayLevelEmphasis(self):  # noqa: N802
        return self._level(-2)

    def f_HighGrayLevelEmphasis(self):  # noqa: N802
        return self._level(2)

    def f_SmallDependenceLowGrayLevelEmphasis(self):  # noqa: N802
        return self._joint(-2, -2)

    def f_SmallDependenceHighGrayLevelEmphasis(self):  # noqa: N802
        return self._joint(2, -2)

    def f_LargeDependenceLowGrayLevelEmphasis(self):  # noqa: N802
        return self._joint(-2, 2)

    def f_LargeDependenceHighGrayLevelEmphasis(self):  # noqa: N802
        return self._joint(2, 2)
