"""Grey Level Co-occurrence Matrix features, pyradiomics' formulas (``radiomics/glcm.py``) in one pass.

The matrix is pyradiomics' (:mod:`splkit.radiomics.fast.matrices`: its C kernel ``calculate_glcm``, or the
same counts from splkit's numba kernel), then pyradiomics' post-processing: empty grey levels removed, symmetrised, empty
angles removed, normalised per angle.  The coefficients every feature shares (marginals, means, the
diagonal sums ``p_{x+y}`` and ``p_{x-y}``, the joint entropy) are computed once per image type instead of
once per class instance, the diagonal sums with ``numpy.bincount`` instead of one boolean mask per k.  Features are averaged over angles.

Reference: Haralick RM et al. Textural features for image classification. IEEE SMC 1973;3:610-621;
IBSI section 3.6.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from splkit.radiomics.fast import matrices
from splkit.radiomics.fast.discretise import Discretised
from splkit.radiomics.fast.reductions import nanmean

FEATURES = (
    "Autocorrelation",
    "ClusterProminence",
    "ClusterShade",
    "ClusterTendency",
    "Contrast",
    "Correlation",
    "DifferenceAverage",
    "DifferenceEntropy",
    "DifferenceVariance",
    "Id",
    "Idm",
    "Idmn",
    "Idn",
    "Imc1",
    "Imc2",
    "InverseVariance",
    "JointAverage",
    "JointEnergy",
    "JointEntropy",
    "MCC",
    "MaximumProbability",
    "SumAverage",
    "SumEntropy",
    "SumSquares",
)


def empty_levels(roi: Discretised) -> np.ndarray:
    """Bin numbers 1..Ng absent from the ROI, 0-based (the rows pyradiomics deletes)."""
    present = np.zeros(roi.n_levels, dtype=bool)
    present[roi.gray_levels - 1] = True
    return np.flatnonzero(~present)


def _diagonal_sums(p: np.ndarray, keys: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """``[sum(p[:, keys == k, :], 1) for k in targets]`` as pyradiomics stacks it: shape (1, K, Na).

    ``numpy.sum`` over the selected rows adds them one after the other in raster order, and so does
    ``numpy.bincount`` with weights: the sums are equal bit for bit.
    """
    index = (keys.ravel() - targets[0]).astype(np.intp)
    flat = p.reshape(p.shape[0], -1, p.shape[3])
    out = np.empty((p.shape[0], len(targets), p.shape[3]))
    for v in range(p.shape[0]):
        for a in range(p.shape[3]):
            out[v, :, a] = np.bincount(index, weights=flat[v, :, a], minlength=len(targets))
    return out


class GLCM:
    """GLCM features of one image type (``settings``: pyradiomics' settings for that image type)."""

    def __init__(self, roi: Discretised, settings) -> None:
        ng = roi.n_levels
        p = matrices.glcm(roi, settings)
        empty = empty_levels(roi)
        p = np.delete(p, empty, 1)
        p = np.delete(p, empty, 2)
        self.symmetrical = settings.get("symmetricalGLCM", True)
        if self.symmetrical:
            p += np.transpose(p, (0, 2, 1, 3)).copy()
        sums = np.sum(p, (1, 2))
        if p.shape[3] > 1:
            empty_angles = np.where(np.sum(sums, 0) == 0)
            if len(empty_angles[0]) > 0:
                p = np.delete(p, empty_angles, 3)
                sums = np.delete(sums, empty_angles, 1)
        sums[sums == 0] = np.nan
        p /= sums[:, None, None, :]
        self.p = p
        self.ng = ng
        self.eps = np.spacing(1)
        levels = roi.gray_levels.astype("float")
        self.i, self.j = np.meshgrid(levels, levels, indexing="ij", sparse=True)
        self.k_sum = np.arange(2, (ng * 2) + 1, dtype="float")
        self.k_diff = np.arange(0, ng, dtype="float")
        self.px = p.sum(2, keepdims=True)
        self.py = p.sum(1, keepdims=True)
        self.ux = np.sum(self.i[None, :, :, None] * p, (1, 2), keepdims=True)
        self.uy = np.sum(self.j[None, :, :, None] * p, (1, 2), keepdims=True)
        self.hxy = (-1) * np.sum((p * np.log2(p + self.eps)), (1, 2))

    @cached_property
    def p_sum(self) -> np.ndarray:
        return _diagonal_sums(self.p, self.i + self.j, self.k_sum)

    @cached_property
    def p_diff(self) -> np.ndarray:
        return _diagonal_sums(self.p, np.abs(self.i - self.j), self.k_diff)

    @cached_property
    def _sums(self) -> tuple[np.ndarray, np.ndarray]:
        """The values ``i + j`` can take (whole numbers from 2 to 2 Ng) and each cell's index among them."""
        sums = self.i + self.j
        return self.k_sum, (sums - 2).astype(np.intp)

    def _cluster_moment(self, power: int):
        """``sum(P * ((i + j) - ux - uy) ** power)``: the power of each possible base computed once.

        ``numpy.power`` can be slow (negative bases under SVML); every cell with the same ``i + j`` and
        angle has the same base, so raising the possible bases and scattering them back gives pyradiomics'
        numbers exactly.
        """
        distinct, inverse = self._sums
        bases = distinct[None, :, None, None] - self.ux - self.uy  # (1, K, 1, Na)
        powered = (bases**power)[:, inverse, 0, :]
        return nanmean(np.sum((self.p * powered), (1, 2)), 1)

    def _k_weighted(self, weights: np.ndarray):
        return nanmean(np.sum(self.p_diff / weights, 1), 1)

    @cached_property
    def _diff_average(self) -> np.ndarray:
        return np.sum((self.k_diff[None, :, None] * self.p_diff), 1, keepdims=True)

    @cached_property
    def _marginal_entropies(self) -> tuple[np.ndarray, np.ndarray]:
        hx = (-1) * np.sum((self.px * np.log2(self.px + self.eps)), (1, 2))
        hy = (-1) * np.sum((self.py * np.log2(self.py + self.eps)), (1, 2))
        return hx, hy

    def compute(self, name: str):
        """The value of feature ``name`` (pyradiomics' ``get<name>FeatureValue``)."""
        return getattr(self, "f_" + name)()

    def f_Autocorrelation(self):  # noqa: N802 - pyradiomics' feature names
        return nanmean(np.sum(self.p * (self.i * self.j)[None, :, :, None], (1, 2)), 1)

    def f_JointAverage(self):  # noqa: N802
        return self.ux.mean((1, 2, 3))

    def f_ClusterProminence(self):  # noqa: N802
        return self._cluster_moment(4)

    def f_ClusterShade(self):  # noqa: N802
        return self._cluster_moment(3)

    def f_ClusterTendency(self):  # noqa: N802
        return self._cluster_moment(2)

    def f_Contrast(self):  # noqa: N802
        return nanmean(np.sum((self.p * ((np.abs(self.i - self.j))[None, :, :, None] ** 2)), (1, 2)), 1)

    def f_Correlation(self):  # noqa: N802
        i, j, p = self.i[None, :, :, None], self.j[None, :, :, None], self.p
        sigx = np.sum(p * ((i - self.ux) ** 2), (1, 2), keepdims=True) ** 0.5
        sigy = np.sum(p * ((j - self.uy) ** 2), (1, 2), keepdims=True) ** 0.5
        corm = np.sum(p * (i - self.ux) * (j - self.uy), (1, 2), keepdims=True)
        corr = corm / (sigx * sigy + self.eps)
        corr[sigx * sigy == 0] = 1  # flat region
        return nanmean(corr, (1, 2, 3))

    def f_DifferenceAverage(self):  # noqa: N802
        return nanmean(np.sum((self.k_diff[None, :, None] * self.p_diff), 1), 1)

    def f_DifferenceEntropy(self):  # noqa: N802
        return nanmean((-1) * np.sum((self.p_diff * np.log2(self.p_diff + self.eps)), 1), 1)

    def f_DifferenceVariance(self):  # noqa: N802
        k = self.k_diff[None, :, None]
        return nanmean(np.sum((self.p_diff * ((k - self._diff_average) ** 2)), 1), 1)

    def f_JointEnergy(self):  # noqa: N802
        return nanmean(np.sum((self.p**2), (1, 2)), 1)

    def f_JointEntropy(self):  # noqa: N802
        return nanmean(self.hxy, 1)

    def f_Imc1(self):  # noqa: N802
        hx, hy = self._marginal_entropies
        hxy1 = (-1) * np.sum((self.p * np.log2(self.px * self.py + self.eps)), (1, 2))
        div = np.fmax(hx, hy)
        imc1 = self.hxy - hxy1
        imc1[div != 0] /= div[div != 0]
        imc1[div == 0] = 0
        return nanmean(imc1, 1)

    def f_Imc2(self):  # noqa: N802
        pxy = self.px * self.py
        hxy2 = (-1) * np.sum((pxy * np.log2(pxy + self.eps)), (1, 2))
        imc2 = (1 - np.e ** (-2 * (hxy2 - self.hxy))) ** 0.5
        imc2[hxy2 == self.hxy] = 0
        return nanmean(imc2, 1)

    def f_Idm(self):  # noqa: N802
        return self._k_weighted(1 + (self.k_diff[None, :, None] ** 2))

    def f_Idmn(self):  # noqa: N802
        return self._k_weighted(1 + ((self.k_diff[None, :, None] ** 2) / (self.ng**2)))

    def f_Id(self):  # noqa: N802
        return self._k_weighted(1 + self.k_diff[None, :, None])

    def f_Idn(self):  # noqa: N802
        return self._k_weighted(1 + (self.k_diff[None, :, None] / self.ng))

    def f_InverseVariance(self):  # noqa: N802
        return nanmean(np.sum(self.p_diff[:, 1:, :] / self.k_diff[None, 1:, None] ** 2, 1), 1)

    def f_MaximumProbability(self):  # noqa: N802
        return nanmean(np.amax(self.p, (1, 2)), 1)

    def f_SumAverage(self):  # noqa: N802
        return nanmean(np.sum((self.k_sum[None, :, None] * self.p_sum), 1), 1)

    def f_SumEntropy(self):  # noqa: N802
        return nanmean((-1) * np.sum((self.p_sum * np.log2(self.p_sum + self.eps)), 1), 1)

    def f_SumSquares(self):  # noqa: N802
        return nanmean(np.sum((self.p * ((self.i[None, :, :, None] - self.ux) ** 2)), (1, 2)), 1)

    def f_MCC(self):  # noqa: N802
        p, px, py, eps = self.p, self.px, self.py, self.eps
        q = (p[:, :, None, 0, :] * p[:, None, :, 0, :]) / (px[:, :, None, 0, :] * py[:, None, :, 0, :] + eps)
        for gl in range(1, p.shape[1]):
            q += (p[:, :, None, gl, :] * p[:, None, :, gl, :]) / (
                px[:, :, None, 0, :] * py[:, None, :, gl, :] + eps
            )
        eigenvalues = np.linalg.eigvals(q.transpose((0, 3, 1, 2)))
        eigenvalues.sort()
        if eigenvalues.shape[2] < 2:
            return 1  # flat region
        return nanmean(np.sqrt(eigenvalues[:, :, -2]), 1).real
