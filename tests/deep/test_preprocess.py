"""ROI crop: aspect-preserving square, and the exact mapping back to frame coordinates."""

from __future__ import annotations

import numpy as np
import pytest

from splkit.deep.preprocess import crop_geometry, prepare_crop, to_network_input


def _ellipse(shape=(120, 200), centre=(40.0, 130.0), radii=(15.0, 35.0)):
    yy, xx = np.mgrid[: shape[0], : shape[1]] + 0.5  # pixel centres
    return ((yy - centre[0]) / radii[0]) ** 2 + ((xx - centre[1]) / radii[1]) ** 2 <= 1


def _centroid(weights):
    rows, cols = np.indices(weights.shape) + 0.5
    return (weights * rows).sum() / weights.sum(), (weights * cols).sum() / weights.sum()


def test_geometry_of_a_wide_box_is_a_centred_square():
    mask = np.zeros((100, 200), bool)
    mask[40:60, 50:150] = True  # 20 x 100 box
    g = crop_geometry(mask, margin=0.1, size=224)
    assert g.side == 120 and g.left == 40 and g.top == 40 - 50  # 10 px margin; rows centred on the box
    # crop corners map to the square's corners in the frame
    rows, cols = g.to_frame(np.array([0.0, 224.0]), np.array([0.0, 224.0]))
    np.testing.assert_allclose(rows, [-10, 110])
    np.testing.assert_allclose(cols, [40, 160])
    back = g.to_crop(*g.to_frame(np.array([3.5, 100.0]), np.array([7.25, 200.0])))
    np.testing.assert_allclose(back, [[3.5, 100.0], [7.25, 200.0]])


def test_square_is_filled_with_the_image_and_black_outside_the_frame():
    image = np.full((50, 60), 200.0, np.float32)
    mask = np.zeros((50, 60), bool)
    mask[0:10, 20:40] = True  # touches the top edge: the square reaches above the frame
    crop, g = prepare_crop(image, mask, margin=0.0, size=20)
    assert g.top == -5 and g.side == 20
    np.testing.assert_allclose(crop[5:], 200 / 255, rtol=1e-5)  # image context, not black bands
    np.testing.assert_allclose(crop[:5], 0)  # outside the frame: black


def test_crop_round_trip_on_a_synthetic_mask():
    mask = _ellipse()
    image = np.where(mask, 200.0, 30.0).astype(np.float32)
    crop, g = prepare_crop(image, mask, margin=0.1, size=224)
    assert crop.shape == (224, 224) and crop.dtype == np.float32 and 0 <= crop.min() and crop.max() <= 1
    # the lesion's centroid in the crop maps back onto its centroid in the frame
    lesion = crop > (30 + 200) / 2 / 255
    rows, cols = g.to_frame(*_centroid(lesion.astype(float)))
    np.testing.assert_allclose([rows, cols], _centroid(mask.astype(float)), atol=0.5)
    # a map computed on the crop pastes back onto the full frame where the lesion is
    pasted = g.paste(lesion.astype(np.float32))
    assert pasted.shape == mask.shape
    iou = np.logical_and(pasted > 0.5, mask).sum() / np.logical_or(pasted > 0.5, mask).sum()
    assert iou > 0.95
    window = np.zeros(mask.shape, bool)
    window[g.overlap()[:2]] = True
    assert not pasted[~window].any()  # nothing outside the crop


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="empty"):
        prepare_crop(np.zeros((10, 10)), np.zeros((10, 10)), 0.1)
    with pytest.raises(ValueError, match="differs"):
        prepare_crop(np.zeros((10, 12)), np.ones((10, 10)), 0.1)


def test_network_input_is_three_normalised_channels():
    crops = np.full((2, 8, 8), 0.5, np.float32)
    x = to_network_input(crops, (0.5, 0.25, 0.0), (0.5, 0.25, 0.5))
    assert x.shape == (2, 3, 8, 8)
    np.testing.assert_allclose(x[0, :, 0, 0].numpy(), [0.0, 1.0, 1.0])
