"""Neighbouring Grey Tone Difference Matrix features, pyradiomics' formulas (``radiomics/ngtdm.py``).

The matrix (per grey level: count, sum of absolute differences to the neighbourhood mean, grey level) is
pyradiomics' (:mod:`splkit.radiomics.fast.matrices`: its C kernel ``calculate_ngtdm`` or the same sums from
splkit's numba kernel); empty grey levels are removed as
pyradiomics does, and the pairwise terms shared by Busyness, Complexity and Strength are built once.

Reference: Amadasun M, King R. Textural features corresponding to textural properties. IEEE SMC
1989;19:1264-1274; IBSI section 3.9.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from splkit.radiomics.fast import matrices
from splkit.radiomics.fast.discretise import Discretised

FEATURES = ("Busyness", "Coarseness", "Complexity", "Contrast", "Strength")


class NGTDM:
    """NGTDM features of one image type."""

    def __init__(self, roi: Discretised, settings) -> None:
        p = matrices.ngtdm(roi, settings)
        p = np.delete(p, np.where(np.sum(p[:, :, 0], 0) == 0), 1)
        self.nvp = np.sum(p[:, :, 0], 1)
        self.p_i = p[:, :, 0] / self.nvp[:, None]
        self.s_i = p[:, :, 1]
        self.i = p[:, :, 2]
        self.ngp = np.sum(p[:, :, 0] > 0, 1)
        self.p_zero = np.where(self.p_i == 0)

    def compute(self, name: str):
        return getattr(self, "f_" + name)()

    @cached_property
    def _pi_si(self) -> np.ndarray:
        return self.p_i * self.s_i

    def _zero_empty(self, pairwise: np.ndarray) -> np.ndarray:
        pairwise[self.p_zero[0], :, self.p_zero[1]] = 0
        pairwise[self.p_zero[0], self.p_zero[1], :] = 0
        return pairwise

    def f_Coarseness(self):  # noqa: N802 - pyradiomics' feature names
        coarse = np.sum(self._pi_si, 1)
        coarse[coarse != 0] = 1 / coarse[coarse != 0]
        coarse[coarse == 0] = 1e6
        return coarse

    def f_Contrast(self):  # noqa: N802
        p_i, i = self.p_i, self.i
        div = self.ngp * (self.ngp - 1)
        contrast = (
            np.sum(p_i[:, :, None] * p_i[:, None, :] * (i[:, :, None] - i[:, None, :]) ** 2, (1, 2))
            * np.sum(self.s_i, 1)
            / self.nvp
        )
        contrast[div != 0] /= div[div != 0]
        contrast[div == 0] = 0
        return contrast

    def f_Busyness(self):  # noqa: N802
        i_pi = self.i * self.p_i
        absdiff = np.sum(self._zero_empty(np.abs(i_pi[:, :, None] - i_pi[:, None, :])), (1, 2))
        busyness = np.sum(self._pi_si, 1)
        busyness[absdiff != 0] = busyness[absdiff != 0] / absdiff[absdiff != 0]
        busyness[absdiff == 0] = 0
        return busyness

    def f_Complexity(self):  # noqa: N802
        p_i, i, pi_si = self.p_i, self.i, self._pi_si
        numerator = self._zero_empty(pi_si[:, :, None] + pi_si[:, None, :])
        divisor = p_i[:, :, None] + p_i[:, None, :]
        divisor[divisor == 0] = 1
        return np.sum(np.abs(i[:, :, None] - i[:, None, :]) * numerator / divisor, (1, 2)) / self.nvp

    def f_Strength(self):  # noqa: N802
        p_i, i = self.p_i, self.i
        sum_s_i = np.sum(self.s_i, 1)
        strength = self._zero_empty(
            (p_i[:, :, None] + p_i[:, None, :]) * (i[:, :, None] - i[:, None, :]) ** 2
        )
        strength = np.sum(strength, (1, 2))
        strength[sum_s_i != 0] /= sum_s_i[sum_s_i != 0]
        strength[sum_s_i == 0] = 0
        return strength
