"""numpy's NaN-aware means without their copies: the same bits on arrays without NaN."""

import numpy as np
import pytest

from splkit.radiomics.fast.reductions import nanmean, nansum


@pytest.mark.parametrize("shape", [(1, 4), (1, 3), (1, 12345), (1, 5, 1, 4)])
def test_nanmean_and_nansum_bitwise(shape):
    a = np.random.default_rng(sum(shape)).normal(1e3, 3e2, shape)
    axes = (1, 2, 3) if len(shape) == 4 else 1
    for keepdims in (False, True):
        np.testing.assert_array_equal(nanmean(a, axes, keepdims), np.nanmean(a, axes, keepdims=keepdims))
    np.testing.assert_array_equal(nansum(a, axes), np.nansum(a, axes))


def test_nan_falls_back_to_numpy():
    a = np.array([[1.0, np.nan, 3.0, 4.5]])
    np.testing.assert_array_equal(nanmean(a, 1), np.nanmean(a, 1))
    np.testing.assert_array_equal(nansum(a, 1), np.nansum(a, 1))
