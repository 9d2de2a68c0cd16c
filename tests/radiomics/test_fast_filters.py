"""Every image type on the ROI's box equals pyradiomics' filtered whole image cropped to the box."""

import warnings

import numpy as np
import pytest
import SimpleITK as sitk
from radiomics import imageoperations

from splkit.radiomics.fast import filters
from splkit.radiomics.fast.filters import Image2D

LBP = {"lbp2DRadius": 1.0, "lbp2DSamples": 8, "lbp2DMethod": "uniform"}
TYPES = {
    "Original": {},
    "LoG": {"sigma": [0.5, 1.0, 2]},
    "Wavelet": {},
    "Square": {},
    "SquareRoot": {},
    "Logarithm": {},
    "Exponential": {},
    "Gradient": {},
    "LBP2D": LBP,
}
BOXES = {
    "inside": (14, 30, 17, 44),
    "top-left border": (0, 9, 0, 12),
    "bottom-right border": (40, 47, 50, 61),
    "left and right borders": (20, 27, 0, 61),
    "whole image": (0, 47, 0, 61),
    "one row": (23, 24, 10, 20),
}


def reference(array, spacing, image_type, settings):
    """pyradiomics' get<Type>Image on the whole image: ``{name: array}``."""
    image = sitk.GetImageFromArray(array)
    image.SetSpacing(spacing)
    mask = sitk.GetImageFromArray(np.ones(array.shape, np.uint8))
    mask.CopyInformation(image)
    generator = getattr(imageoperations, f"get{image_type}Image")
    return {name: sitk.GetArrayFromImage(out) for out, name, _ in generator(image, mask, **settings)}


def compare(array, spacing, box, types=TYPES):
    y0, y1, x0, x1 = box
    source = Image2D(array, spacing, box)
    for image_type, settings in types.items():
        expected = reference(array, spacing, image_type, settings)
        got = {name: values for values, name in filters.GENERATORS[image_type](source, **settings)}
        assert list(got) == list(expected), image_type
        for name, values in got.items():
            crop = expected[name][y0:y1, x0:x1]
            assert values.dtype == crop.dtype, name
            np.testing.assert_array_equal(values, crop, err_msg=f"{name} on box {box}")


@pytest.fixture(autouse=True)
def _quiet_lbp():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Applying `local_binary_pattern`")
        yield


@pytest.mark.parametrize("box", list(BOXES.values()), ids=list(BOXES))
def test_every_image_type_on_the_box_equals_pyradiomics(box):
    """An 8-bit-like image with odd sizes (the wavelet pads), ROI boxes inside and on every border."""
    array = np.random.default_rng(3).integers(0, 256, (47, 61)).astype(np.float32)
    compare(array, (0.25, 0.25), box)


def test_wide_range_and_negative_values():
    """16-bit range with negative values: the pointwise filters' signs and whole-image scaling."""
    array = np.random.default_rng(4).normal(0, 9000, (40, 52)).astype(np.float32)
    for box in [(5, 30, 8, 40), (0, 40, 0, 52)]:
        compare(array, (0.2, 0.3), box)


def test_even_sizes_and_long_wavelet():
    array = np.random.default_rng(5).integers(0, 4096, (48, 60)).astype(np.float32)
    compare(
        array,
        (0.25, 0.25),
        (20, 31, 22, 37),
        {"Wavelet": {"wavelet": "db4"}, "LBP2D": {**LBP, "lbp2DRadius": 2.0}},
    )


def test_logarithm_scale_comes_from_the_whole_image():
    """The largest |x| lies outside the box: the box's values still use the whole image's scale."""
    array = np.full((30, 30), 5.0, np.float32)
    array[0, 0] = -700.0
    array[29, 29] = 699.99994
    compare(
        array,
        (1.0, 1.0),
        (10, 20, 10, 20),
        {"Logarithm": {}, "Square": {}, "SquareRoot": {}, "Exponential": {}},
    )


@pytest.mark.parametrize(
    ("lo", "hi", "n", "expected"),
    [
        (10, 20, 60, (4, 26, False)),  # inside: margin 6, even length
        (10, 21, 60, (4, 28, False)),  # odd length grows by one
        (2, 20, 60, (0, 60, False)),  # too close to the border: whole axis
        (2, 20, 61, (0, 61, True)),  # whole odd axis: pyradiomics' wrapped padding
        (6, 53, 60, (0, 60, False)),  # odd window cannot grow inside the image
    ],
)
def test_wavelet_window(lo, hi, n, expected):
    assert filters._wavelet_axis(lo, hi, n, 6) == expected


def test_image_types_chain_settings_like_pyradiomics():
    array = np.random.default_rng(6).integers(0, 256, (20, 20)).astype(np.float32)
    source = Image2D(array, (1.0, 1.0), (5, 15, 5, 15))
    enabled = {"Original": {}, "LBP2D": {"binWidth": 1.0, "binCount": None}}
    out = list(filters.image_types(source, enabled, {"binCount": 32, "label": 1}))
    assert [name for _, name, _ in out] == ["original", "lbp-2D"]
    assert out[0][2]["binCount"] == 32 and out[1][2]["binCount"] is None and out[1][2]["label"] == 1


def test_log_skipped_where_pyradiomics_skips_it():
    array = np.zeros((3, 40), np.float32)  # under 4 pixels: no LoG at all
    assert list(filters.laplacian_of_gaussian(Image2D(array, (1.0, 1.0), (0, 3, 0, 40)), sigma=[1.0])) == []
    array = np.zeros((10, 10), np.float32)  # sigma / spacing + 1 beyond the size: that sigma only
    names = [
        n
        for _, n in filters.laplacian_of_gaussian(
            Image2D(array, (1.0, 1.0), (0, 10, 0, 10)), sigma=[1.0, 20.0]
        )
    ]
    assert names == ["log-sigma-1-0-mm-3D"]
