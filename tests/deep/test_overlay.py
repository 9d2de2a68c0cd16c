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


def test_frame_panels_take_frame_mask_and_spacing_from_the_cohort(tmp_path):
    import SimpleITK as sitk
    from deep._synthetic import SyntheticCohort

    from splkit.deep.overlay import frame_panels

    cohort = SyntheticCohort(tmp_path, n=3, shape=(40, 50))
    maps = {p: np.full((40, 50), 0.5, np.float32) for p in cohort.table.index}
    panels = frame_panels(cohort, maps, [("P0002", "second"), ("P0001", "first")])
    assert [p["label"] for p in panels] == ["second", "first"]  # the order of the captions
    np.testing.assert_array_equal(panels[0]["image"], cohort.read_image("P0002"))
    np.testing.assert_array_equal(panels[1]["mask"], cohort.read_mask("P0001"))
    assert panels[0]["heatmap"] is maps["P0002"] and panels[0]["spacing"] == (1.0, 1.0)  # plain arrays

    class ItkCohort:  # a splkit.cohort.Cohort reads SimpleITK images that carry their spacing in mm
        def read_image(self, patient):
            image = sitk.GetImageFromArray(cohort.read_image(patient))
            image.SetSpacing((0.2, 0.3))
            return image

        def read_mask(self, patient):
            return sitk.GetImageFromArray(cohort.read_mask(patient))

    (panel,) = frame_panels(ItkCohort(), maps, [("P0003", "third")])
    assert panel["spacing"] == (0.2, 0.3) and panel["image"].shape == (40, 50)
