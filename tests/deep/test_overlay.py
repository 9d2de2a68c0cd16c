"""Grad-CAM overlay figure: frame in mm, heatmap, mask contour at the right place."""

from __future__ import annotations

import numpy as np

from splkit.deep.overlay import mask_contours, overlay_figure


def test_mask_contour_surrounds_the_mask():
    mask = np.zeros((20, 30), np.uint8)
    mask[5:10, 8:20] = 1
    (contour,) = mask_contours(mask)
    assert contour[:, 0].min() >= 4.5 and contour[:, 0].max() <= 10.5  # rows 5..9 (edges at 5 and 10)
    assert contour[:, 1].min() >= 7.5 and contour[:, 1].max() <= 20.5


def test_overlay_figure():
    image = np.tile(np.linspace(0, 255, 80, dtype=np.float32), (60, 1))
    mask = np.zeros((60, 80), np.uint8)
    mask[20:40, 30:50] = 1
    heatmap = np.zeros(image.shape, np.float32)
    heatmap[15:45, 25:55] = 1
    panels = [{"image": image, "heatmap": heatmap, "mask": mask, "spacing": (0.2, 0.3), "label": "P0001"}] * 2
    fig = overlay_figure(panels)
    assert fig.layout.title.text and fig.layout.xaxis.title.text == "x (mm)"
    assert fig.layout.yaxis.title.text == "depth (mm)"
    contours = [trace for trace in fig.data if trace.type == "scatter"]
    assert len(contours) == 2 and np.max(contours[0].x) <= 50 * 0.2 + 0.2


def test_overlay_figure_wraps_panels_into_rows():
    image = np.full((60, 80), 100.0, np.float32)
    mask = np.zeros((60, 80), np.uint8)
    mask[20:40, 30:50] = 1
    panel = {
        "image": image,
        "heatmap": np.ones_like(image),
        "mask": mask,
        "spacing": (0.2, 0.3),
        "label": "P",
    }
    fig = overlay_figure([panel] * 5, columns=3)
    assert fig.layout.yaxis4.domain[1] < fig.layout.yaxis1.domain[0]  # the fourth panel starts row 2
    assert fig.layout.xaxis4.domain == fig.layout.xaxis1.domain  # in the first column
    assert fig.layout.width <= 800  # fits a book page
