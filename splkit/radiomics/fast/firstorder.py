"""First-order features from the ROI's values, pyradiomics' formulas (``radiomics/firstorder.py``).

Each feature is computed with the numpy calls pyradiomics makes, on the same ``(1, N)`` array, so the
values agree bit for bit; what is shared between features (mean, central moments, percentiles) is
computed once, and the percentiles come from one ``numpy.percentile`` call (the same linear interpolation
as ``numpy.nanpercentile`` on an array without NaN).  Entropy and Uniformity use the discretised ROI.

The third and fourth central moments use ``numpy.power`` as pyradiomics does; where numpy's ``pow``
is slow (negative bases under SVML, a few hundred ns each) and the ROI holds few distinct values (an
8-bit image and its pointwise filters, LBP codes), each distinct value is raised once and scattered back:
the same ``pow`` of the same numbers.

Reference: IBSI (Zwanenburg et al., Radiology 2020) section 3.3-3.4; pyradiomics documentation,
"First Order Features".
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from splkit.radiomics.fast.discretise import Discretised
from splkit.radiomics.fast.reductions import nanmean, nansum

#: pyradiomics' first-order features (StandardDeviation is deprecated there: computed only when listed)
FEATURES = (
    "10Percentile",
    "90Percentile",
    "Energy",
    "Entropy",
    "InterquartileRange",
    "Kurtosis",
    "Maximum",
    "MeanAbsoluteDeviation",
    "Mean",
    "Median",
    "Minimum",
    "Range",
    "RobustMeanAbsoluteDeviation",
    "RootMeanSquared",
    "Skewness",
    "StandardDeviation",
    "TotalEnergy",
    "Uniformity",
    "Variance",
)


class FirstOrder:
    """First-order features of one image type's ROI (``spacing``: the image's, for TotalEnergy)."""

    def __init__(
        self,
        roi: Discretised,
        spacing: tuple[float, ...],
        voxel_array_shift: float = 0,
        few_values: bool = False,
    ) -> None:
        self.x = roi.values.reshape((1, -1))
        self.few_values = few_values
        counts = roi.counts[roi.gray_levels].reshape((1, -1))
        total = np.sum(counts, 1, keepdims=True).astype("float")
        total[total == 0] = 1
        self.p_i = counts.astype("float") / total
        self.spacing = spacing
        self.shift = voxel_array_shift

    @cached_property
    def _percentiles(self) -> dict[int, np.ndarray]:
        qs = (10, 25, 75, 90)
        values = np.percentile(self.x, qs, axis=1)
        return {q: values[k] for k, q in enumerate(qs)}

    @cached_property
    def _mean(self) -> np.ndarray:
        return nanmean(self.x, 1, keepdims=True)

    @cached_property
    def _distinct(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Distinct values and the inverse index, when there are few (at most a quarter of the ROI)."""
        if not self.few_values:
            return None
        distinct, inverse = np.unique(self.x, return_inverse=True)
        return (
            (distinct.reshape((1, -1)), inverse.reshape(self.x.shape))
            if distinct.size * 4 <= self.x.size
            else None
        )

    def _moment(self, order: int) -> np.ndarray:
        if self._distinct is None:
            return nanmean(np.power(self.x - self._mean, order), 1)
        distinct, inverse = self._distinct
        return nanmean(np.power(distinct - self._mean, order)[0][inverse], 1)

    @cached_property
    def _m2(self) -> np.ndarray:
        return self._moment(2)

    def _energy(self) -> np.ndarray:
        return nansum((self.x + self.shift) ** 2, 1)

    def compute(self, name: str):
        """The value of feature ``name`` (pyradiomics' ``get<name>FeatureValue``)."""
        return getattr(self, "f_" + name)()

    def f_10Percentile(self):  # noqa: N802 - pyradiomics' feature names
        return self._percentiles[10]

    def f_90Percentile(self):  # noqa: N802
        return self._percentiles[90]

    def f_Energy(self):  # noqa: N802
        return self._energy()

    def f_TotalEnergy(self):  # noqa: N802
        return self._energy() * np.multiply.reduce(self.spacing)

    def f_Entropy(self):  # noqa: N802
        return -1.0 * np.sum(self.p_i * np.log2(self.p_i + np.spacing(1)), 1)

    def f_Minimum(self):  # noqa: N802
        return np.nanmin(self.x, 1)

    def f_Maximum(self):  # noqa: N802
        return np.nanmax(self.x, 1)

    def f_Mean(self):  # noqa: N802
        return nanmean(self.x, 1)

    def f_Median(self):  # noqa: N802
        return np.nanmedian(self.x, 1)

    def f_InterquartileRange(self):  # noqa: N802
        return self._percentiles[75] - self._percentiles[25]

    def f_Range(self):  # noqa: N802
        return np.nanmax(self.x, 1) - np.nanmin(self.x, 1)

    def f_MeanAbsoluteDeviation(self):  # noqa: N802
        return nanmean(np.absolute(self.x - self._mean), 1)

    def f_RobustMeanAbsoluteDeviation(self):  # noqa: N802
        p10, p90 = self._percentiles[10], self._percentiles[90]
        robust = self.x.copy()
        outside = ~np.isnan(robust)
        outside[outside] = ((robust - p10[:, None])[outside] < 0) | ((robust - p90[:, None])[outside] > 0)
        robust[outside] = np.nan
        return nanmean(np.absolute(robust - nanmean(robust, 1, keepdims=True)), 1)

    def f_RootMeanSquared(self):  # noqa: N802
        if self.x.size == 0:
            return 0
        count = np.sum(~np.isnan(self.x), 1).astype("float")
        return np.sqrt(nansum((self.x + self.shift) ** 2, 1) / count)

    def f_StandardDeviation(self):  # noqa: N802
        return np.nanstd(self.x, axis=1)

    def f_Skewness(self):  # noqa: N802
        m2, m3 = self._m2.copy(), self._moment(3)
        m2[m2 == 0] = 1  # flat region
        m3[m2 == 0] = 0
        return m3 / m2**1.5

    def f_Kurtosis(self):  # noqa: N802
        m2, m4 = self._m2.copy(), self._moment(4)
        m2[m2 == 0] = 1  # flat region
        m4[m2 == 0] = 0
        return m4 / m2**2.0

    def f_Variance(self):  # noqa: N802
        return np.nanstd(self.x, 1) ** 2

    def f_Uniformity(self):  # noqa: N802
        return nansum(self.p_i**2, 1)
