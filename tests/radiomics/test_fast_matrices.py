"""The texture matrices (numba kernels or pyradiomics' own) equal pyradiomics' C kernels exactly."""

import numpy as np
import pytest
from radiomics import cMatrices

from splkit.radiomics.fast import matrices
from splkit.radiomics.fast.discretise import Discretised


def roi_of(binned, mask):
    counts = np.bincount(binned[mask])
    return Discretised(binned[mask].astype(float), binned, mask, counts, np.flatnonzero(counts))


def random_rois(n, seed, min_side=2, density=(0.2, 1.0)):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        h, w = rng.integers(min_side, 30, 2)
        mask = rng.random((h, w)) < rng.uniform(*density)
        if mask.sum() < 2:
            continue
        binned = np.zeros((h, w), dtype="int")
        binned[mask] = rng.integers(1, rng.integers(2, 12), mask.sum())
        yield roi_of(binned, mask)


def reference(roi, settings):
    distances, ng = np.array(settings.get("distances", [1])), roi.n_levels
    alpha = settings.get("gldm_a", 0)
    return {
        "glcm": cMatrices.calculate_glcm(roi.binned, roi.mask, distances, ng, False, 0)[0],
        "gldm": cMatrices.calculate_gldm(roi.binned, roi.mask, distances, ng, alpha, False, 0),
        "ngtdm": cMatrices.calculate_ngtdm(roi.binned, roi.mask, distances, ng, False, 0),
        "glszm": cMatrices.calculate_glszm(roi.binned, roi.mask, ng, np.sum(roi.mask), False, 0),
        "glrlm": cMatrices.calculate_glrlm(roi.binned, roi.mask, ng, np.max(roi.binned.shape), False, 0)[0],
    }


@pytest.mark.parametrize(
    ("settings", "min_side"),
    [({}, 2), ({"gldm_a": 1}, 2), ({"distances": [1, 2]}, 2), ({}, 1)],
    ids=["distance 1", "gldm_a 1", "distances 1 and 2 (pyradiomics' kernels)", "boxes of one row or column"],
)
def test_matrices_equal_pyradiomics_c_kernels(settings, min_side):
    for roi in random_rois(150, sum(map(ord, str(settings))) + min_side, min_side):
        expected = reference(roi, settings)
        for name, want in expected.items():
            got = getattr(matrices, name)(roi, settings)
            assert got.shape == want.shape and got.dtype == want.dtype, name
            np.testing.assert_array_equal(got, want, err_msg=name)


def test_sparse_rois_and_angles_pyradiomics_drops():
    """ROIs of scattered pixels, and a diagonal: angles with no line of two ROI pixels (GLRLM drops them)."""
    diagonal = np.eye(6, dtype=bool)
    rois = [roi_of(np.where(diagonal, 1 + np.arange(6) % 3, 0), diagonal)]
    rois += list(random_rois(150, 7, density=(0.02, 0.15)))
    for roi in rois:
        for name, want in reference(roi, {}).items():
            np.testing.assert_array_equal(getattr(matrices, name)(roi, {}), want, err_msg=name)


def test_neighbourhood_visit_shared_and_not_mutated():
    roi = next(random_rois(1, 0))
    first = matrices.glcm(roi, {})
    first += 1  # a class changing its copy (pyradiomics symmetrises in place)
    np.testing.assert_array_equal(matrices.glcm(roi, {}), reference(roi, {})["glcm"])
    assert list(roi.cache) == [("neighbourhood", 0)]
