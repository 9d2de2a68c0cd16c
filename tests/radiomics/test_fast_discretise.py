"""Binning once per image type equals pyradiomics' ``binImage`` in every class."""

import numpy as np
import pytest
from radiomics import imageoperations

from splkit.radiomics.binning import numpy_bin_edges
from splkit.radiomics.fast.discretise import discretise


@pytest.mark.parametrize(
    "settings",
    [
        {"binCount": 32},
        {"binCount": 7},
        {"binWidth": 25},
        {"binWidth": 1.0, "binCount": None},
        {"binWidth": 0.37},
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_discretise_equals_bin_image(settings, dtype):
    rng = np.random.default_rng(0)
    values = rng.normal(80, 30, (30, 40)).astype(dtype)
    mask = rng.random((30, 40)) < 0.6
    roi = discretise(values, mask, settings)
    with numpy_bin_edges():  # splkit's pyradiomics extraction (same edges as pyradiomics' on float input)
        binned, _ = imageoperations.binImage(values, mask, **settings)
    np.testing.assert_array_equal(roi.binned, binned)
    assert roi.binned.dtype == binned.dtype
    np.testing.assert_array_equal(roi.gray_levels, np.unique(binned[mask]))
    assert roi.n_levels == int(np.max(np.unique(binned[mask])))
    np.testing.assert_array_equal(roi.values, values[mask].astype(float))
    _, counts = np.unique(binned[mask], return_counts=True)
    np.testing.assert_array_equal(roi.counts[roi.gray_levels], counts)


@pytest.mark.parametrize("settings", [{"binCount": 32}, {"binWidth": 25}, {"binWidth": 1.0}])
def test_flat_roi(settings):
    """One value: numpy's histogram range becomes value +- 0.5, pyradiomics' fixed width one bin."""
    values, mask = np.full((5, 5), 3.0), np.ones((5, 5), bool)
    roi = discretise(values, mask, settings)
    with numpy_bin_edges():
        binned, _ = imageoperations.binImage(values, mask, **settings)
    assert len(roi.gray_levels) == 1
    np.testing.assert_array_equal(roi.binned, binned)
