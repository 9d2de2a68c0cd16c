"""GLCM: the diagonal sums by bincount equal pyradiomics' boolean-mask sums bit for bit."""

import numpy as np

from splkit.radiomics.fast.glcm import _diagonal_sums


def test_diagonal_sums_equal_pyradiomics():
    rng = np.random.default_rng(0)
    levels = np.array([1, 2, 4, 5, 9, 12, 13, 20], dtype=float)  # grey levels with gaps, as after deletion
    p = rng.random((1, len(levels), len(levels), 4))
    p /= p.sum((1, 2), keepdims=True)
    i, j = np.meshgrid(levels, levels, indexing="ij", sparse=True)
    ng = int(levels[-1])
    for keys, targets in [
        (i + j, np.arange(2, (ng * 2) + 1, dtype="float")),
        (np.abs(i - j), np.arange(0, ng, dtype="float")),
    ]:
        expected = np.array([np.sum(p[:, keys == k, :], 1) for k in targets]).transpose((1, 0, 2))
        np.testing.assert_array_equal(_diagonal_sums(p, keys, targets), expected)
