"""The fast engine equals plain pyradiomics: every feature of the ultrasound2d preset, names in order.

Run on every CI run: simulated B-mode images (reader-1 and reader-2 masks, :mod:`splkit.simulate`) and
edge cases (ROI on the image border, a tiny ROI, 16-bit values, a flat ROI, several components).
``benchmarks/radiomics_equality.py`` does the same on a whole cohort.
"""

import logging
import warnings

import numpy as np
import pytest
import SimpleITK as sitk
from radiomics.featureextractor import RadiomicsFeatureExtractor

from splkit.radiomics.fast import FastExtractor, UnsupportedPresetError
from splkit.radiomics.fast.engine import check_mask
from splkit.radiomics.presets import load_preset

RTOL, ATOL = 1e-10, 1e-14


@pytest.fixture(scope="module")
def extractors():
    import radiomics

    radiomics.setVerbosity(logging.ERROR)
    params = load_preset("ultrasound2d").pyradiomics_params()
    return RadiomicsFeatureExtractor(params), FastExtractor(params)


def images(array, mask, spacing=(0.25, 0.25)):
    image = sitk.GetImageFromArray(np.asarray(array, dtype=np.float32))
    image.SetSpacing(spacing)
    label = sitk.GetImageFromArray(np.asarray(mask, dtype=np.uint8))
    label.CopyInformation(image)
    return image, label


def assert_same(extractors, array, mask, spacing=(0.25, 0.25)):
    """Every feature equal to pyradiomics' to RTOL (names and order identical); returns how many exactly."""
    plain, fast = extractors
    image, label = images(array, mask, spacing)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore")  # scikit-image's LBP-on-float note, numpy's flat-region divisions
        expected = plain.execute(image, label)
        got = fast.execute(image, label)
    assert list(got) == list(expected)
    want = np.array([float(v) for v in expected.values()])
    have = np.array(list(got.values()))
    np.testing.assert_allclose(have, want, rtol=RTOL, atol=ATOL, equal_nan=True, err_msg=str(list(got)))
    return int(np.sum((have == want) | (np.isnan(have) & np.isnan(want))))


@pytest.mark.parametrize("index", [0, 1])
def test_simulated_bmode_images_both_readers(extractors, index):
    from splkit.simulate.centre import DEVELOPMENT
    from splkit.simulate.generate import simulate_patient

    _, image, reader1, reader2 = simulate_patient(0, index, reader2=True)
    spacing = (DEVELOPMENT.pixel_mm, DEVELOPMENT.pixel_mm)
    exact = assert_same(extractors, image, reader1, spacing)
    assert exact == 1465  # bit for bit on this platform's numpy and SimpleITK
    assert_same(extractors, image, reader2, spacing)


def speckle(shape, seed, scale=40.0):
    return np.random.default_rng(seed).rayleigh(scale, shape)


def ellipse(shape, centre, radii):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return ((yy - centre[0]) / radii[0]) ** 2 + ((xx - centre[1]) / radii[1]) ** 2 <= 1


def test_roi_on_the_image_borders(extractors):
    shape = (71, 90)
    array = np.clip(speckle(shape, 1) + 60 * ellipse(shape, (0, 0), (30, 40)), 0, 255).round()
    assert_same(extractors, array, ellipse(shape, (0, 0), (30, 40)))  # top-left corner, clipped
    assert_same(extractors, array, ellipse(shape, (70, 89), (25, 30)))  # bottom-right corner
    assert_same(extractors, array, ellipse(shape, (35, 45), (50, 12)))  # top and bottom rows


def test_tiny_roi(extractors):
    shape = (64, 64)
    mask = ellipse(shape, (30, 33), (4.5, 4.5))
    assert 55 <= mask.sum() <= 70
    assert_same(extractors, np.clip(speckle(shape, 2) + 50 * mask, 0, 255).round(), mask)


def test_sixteen_bit_values(extractors):
    shape = (60, 75)
    mask = ellipse(shape, (30, 37), (18, 25))
    assert_same(
        extractors, (speckle(shape, 3, 9000) + 20000 * mask).clip(0, 65535).round(), mask, (0.1, 0.15)
    )


def test_flat_roi(extractors):
    """A constant ROI (pyradiomics' one-bin case) inside a textured image."""
    shape = (50, 50)
    mask = ellipse(shape, (25, 25), (12, 15))
    array = speckle(shape, 4).round()
    array[mask] = 120.0
    assert_same(extractors, array, mask)


def test_several_components_and_other_labels(extractors):
    shape = (60, 80)
    mask = (ellipse(shape, (20, 20), (10, 12)) | ellipse(shape, (40, 60), (9, 14))).astype(np.uint8)
    mask[ellipse(shape, (45, 15), (6, 6))] = 2  # another label: outside the ROI
    assert_same(extractors, speckle(shape, 5).round(), mask)


@pytest.mark.parametrize(
    ("mask", "message"),
    [
        (np.zeros((20, 20)), "No labels found"),
        (np.pad([[2]], ((5, 14), (5, 14))), r"Label \(1\) not present"),
        (np.pad([[1]], ((5, 14), (5, 14))), "only contains 1 segmented voxel"),
        (np.pad(np.ones((1, 9)), ((5, 14), (5, 6))), "too few dimensions"),
        (np.pad(np.ones((5, 10)), ((5, 10), (5, 5))), "ROI is too small"),
    ],
    ids=["empty", "other label", "one pixel", "one row", "50 pixels"],
)
def test_invalid_masks_fail_like_pyradiomics(extractors, mask, message):
    plain, fast = extractors
    image, label = images(speckle((20, 20), 6), mask)
    for extractor in (plain, fast):
        with pytest.raises(ValueError, match=message):
            extractor.execute(image, label)


def test_check_mask_box_and_count():
    mask = np.zeros((10, 12), np.uint8)
    mask[2:5, 3:9] = 1
    assert check_mask(mask, {"label": 1}) == ((2, 5, 3, 9), 18)


def test_unsupported_preset_is_refused_naming_what():
    with pytest.raises(UnsupportedPresetError, match="slice3d.*LBP3D|LBP3D.*slice3d"):
        FastExtractor(load_preset("paper1561").pyradiomics_params(), "slice3d")


def test_listed_feature_order_is_kept(extractors):
    params = load_preset("ultrasound2d").pyradiomics_params()
    params["featureClass"] = {
        "glcm": ["Idn", "Contrast", "MCC", "SumAverage"],
        "firstorder": ["Median", "Mean"],
    }
    params["imageType"] = {"Original": {}}
    fast = FastExtractor(params)
    plain = RadiomicsFeatureExtractor(params)
    shape = (40, 40)
    extractors_here = (plain, fast)
    assert_same(extractors_here, speckle(shape, 7).round(), ellipse(shape, (20, 20), (12, 10)))


def test_without_numba_the_same_features(extractors, monkeypatch):
    """Without numba (or with a SimpleITK build the LoG kernel does not match) pyradiomics' kernels and
    SimpleITK's recursive Gaussian give the same features."""
    from splkit.radiomics.fast import gaussian, matrices

    monkeypatch.setattr(gaussian, "_kernel", lambda: None)
    monkeypatch.setattr(matrices, "_kernels", lambda: None)
    shape = (48, 52)
    mask = ellipse(shape, (24, 26), (15, 18))
    assert assert_same(extractors, np.clip(speckle(shape, 8) + 40 * mask, 0, 255).round(), mask) == 1465


def test_input_checks(extractors):
    _, fast = extractors
    image, label = images(speckle((20, 20), 9), ellipse((20, 20), (10, 10), (6, 6)))
    with pytest.raises(ValueError, match="float32"):
        fast.execute(sitk.Cast(image, sitk.sitkFloat64), label)
    with pytest.raises(ValueError, match="same size"):
        fast.execute(image, sitk.Image(10, 10, sitk.sitkUInt8))
