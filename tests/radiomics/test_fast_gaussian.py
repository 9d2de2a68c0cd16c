"""The fast engine's LoG: ITK's recursive Gaussian repeated bit for bit, on the ROI's box only."""

import numpy as np
import pytest
import SimpleITK as sitk

from splkit.radiomics.fast import gaussian


def itk_pass(lines, sigma, spacing, order):
    """SimpleITK's RecursiveGaussianImageFilter along numpy axis 0 (the reference)."""
    image = sitk.GetImageFromArray(np.ascontiguousarray(lines.T))
    image.SetSpacing((spacing, 1.0))
    gauss = sitk.RecursiveGaussianImageFilter()
    gauss.SetSigma(sigma)
    gauss.SetNormalizeAcrossScale(True)
    gauss.SetOrder(order)
    gauss.SetDirection(0)
    return sitk.GetArrayFromImage(gauss.Execute(image)).T


def itk_log(array, spacing, sigma):
    image = sitk.GetImageFromArray(array)
    image.SetSpacing(spacing)
    log = sitk.LaplacianRecursiveGaussianImageFilter()
    log.SetNormalizeAcrossScale(True)
    log.SetSigma(sigma)
    return sitk.GetArrayFromImage(log.Execute(image))


@pytest.mark.parametrize("shape", [(4, 3), (5, 6), (37, 23)])
@pytest.mark.parametrize("order", [0, 2])
def test_kernel_pass_equals_itk(shape, order):
    lines = np.random.default_rng(shape[0]).normal(90, 60, shape).astype(np.float32)
    for sigma, spacing in [(0.5, 0.2), (1.0, 0.25), (5.0, 0.3), (2.0, 1.0)]:
        expected = itk_pass(lines, sigma, spacing, order)
        np.testing.assert_array_equal(gaussian.recursive_gaussian(lines, sigma, spacing, order), expected)
        np.testing.assert_array_equal(
            gaussian.recursive_gaussian(lines, sigma, spacing, order, use_kernel=False), expected
        )
        for lo, hi in [(0, 1), (1, 3), (shape[0] - 2, shape[0]), (shape[0] // 2, shape[0] // 2 + 1)]:
            part = gaussian.recursive_gaussian(lines, sigma, spacing, order, (lo, hi))
            np.testing.assert_array_equal(part, expected[lo:hi])


@pytest.mark.parametrize(
    "box",
    [(10, 30, 12, 40), (0, 7, 0, 9), (35, 47, 50, 61), (0, 47, 0, 61), (20, 21, 30, 31)],
    ids=["inside", "top-left corner", "bottom-right corner", "whole image", "one pixel"],
)
def test_log_on_the_box_equals_itk_on_the_whole_image(box):
    array = np.random.default_rng(7).integers(0, 256, (47, 61)).astype(np.float32)
    y0, y1, x0, x1 = box
    for spacing in [(0.25, 0.25), (0.2, 0.3)]:
        for sigma in (0.5, 1.0, 3.0):
            expected = itk_log(array, spacing, sigma)[y0:y1, x0:x1]
            np.testing.assert_array_equal(gaussian.log_box(array, spacing, sigma, box), expected)
            np.testing.assert_array_equal(gaussian._log_box(array, spacing, sigma, box, False), expected)


def test_kernel_checked_against_this_simplitk_build():
    assert gaussian.kernel_matches_itk(1.0, (0.25, 0.25))


def test_coefficients_reject_other_orders():
    with pytest.raises(ValueError, match="order must be 0 or 2"):
        gaussian.coefficients(1.0, 0.2, 1)


def test_too_short_lines_are_refused_like_itk():
    with pytest.raises(ValueError, match="at least 4 samples"):
        gaussian.recursive_gaussian(np.zeros((3, 5), np.float32), 1.0, 0.2, 0)
