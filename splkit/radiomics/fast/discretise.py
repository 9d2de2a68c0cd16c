"""Grey-level discretisation, once per image type, as pyradiomics' ``binImage`` does it for every class.

pyradiomics re-bins the image in each feature class (``RadiomicsFeaturesBase._applyBinning``); the result
is the same each time, so it is computed once here and shared by first order and the texture classes.
Bin edges follow ``imageoperations.getBinEdges``: fixed bin count from ``numpy.histogram``'s edges (the top
edge raised by 1), fixed bin width with splkit's numpy min/max (:mod:`splkit.radiomics.binning`, equal to
pyradiomics' on float input); values are binned with ``numpy.digitize``.

Reference: Zwanenburg A et al. The Image Biomarker Standardization Initiative. Radiology 2020;295:328-338
(fixed bin number / fixed bin size discretisation).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from splkit.radiomics.binning import fixed_width_edges


@dataclass(frozen=True)
class Discretised:
    """One image type's ROI, raw and binned.

    Attributes
    ----------
    values
        The ROI's grey values in raster order, as ``float64`` (pyradiomics' ``targetVoxelArray``).
    binned
        The box as pyradiomics' ``int`` matrix: bin numbers inside the ROI, 0 outside.
    mask
        The ROI inside the box (bool).
    counts
        Pixels per bin number (index 0 unused).
    gray_levels
        Bin numbers present in the ROI, ascending (``coefficients['grayLevels']``).
    cache
        Results shared by the feature classes (the texture matrices of one visit).
    """

    values: np.ndarray
    binned: np.ndarray
    mask: np.ndarray
    counts: np.ndarray
    gray_levels: np.ndarray
    cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_levels(self) -> int:
        """``Ng``: the highest bin number in the ROI."""
        return int(self.gray_levels[-1])


def bin_edges(values: np.ndarray, settings: Mapping[str, Any]) -> np.ndarray:
    """pyradiomics' ``getBinEdges`` (``binCount`` when set, else ``binWidth``, default 25)."""
    bin_count = settings.get("binCount")
    if bin_count is not None:
        edges = np.histogram_bin_edges(values, bin_count)
        edges[-1] += 1  # the maximum then falls in the top bin under numpy.digitize
        return edges
    return fixed_width_edges(values, settings.get("binWidth", 25))


def discretise(box_values: np.ndarray, mask: np.ndarray, settings: Mapping[str, Any]) -> Discretised:
    """Bin the ROI of one image type (``box_values`` and ``mask``: the bounding box)."""
    roi = box_values[mask]
    binned = np.zeros(box_values.shape, dtype="int")
    bins = np.digitize(roi, bin_edges(roi, settings))
    binned[mask] = bins
    counts = np.bincount(bins)
    return Discretised(
        values=roi.astype("float"),
        binned=binned,
        mask=mask,
        counts=counts,
        gray_levels=np.flatnonzero(counts),
    )
