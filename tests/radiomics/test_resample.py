"""splkit.radiomics.resample: the one-spacing rule and an IBSI-style resampling of image and mask."""

import numpy as np
import pytest
import SimpleITK as sitk

from splkit.radiomics.resample import resample_pair, spacings_differ, target_spacing


def _pair(shape=(60, 80), spacing=0.25):
    rows, cols = np.mgrid[: shape[0], : shape[1]]
    array = (rows + 2 * cols).astype(np.float32)  # a linear ramp: linear interpolation keeps it exact
    disc = ((rows - 30) ** 2 + (cols - 40) ** 2 <= 15**2).astype(np.uint8)
    image, mask = sitk.GetImageFromArray(array), sitk.GetImageFromArray(disc)
    for im in (image, mask):
        im.SetSpacing((spacing, spacing))
    return image, mask


def test_auto_resamples_only_mixed_spacings_to_the_training_median():
    same = {"P1": 0.25, "P2": 0.25, "P3": 0.25}
    assert target_spacing("auto", same, ["P1", "P2"]) is None
    mixed = {"P1": 0.2, "P2": 0.3, "P3": 0.25, "P4": 0.1}
    assert target_spacing("auto", mixed, ["P1", "P2", "P3"]) == pytest.approx(0.25)  # P4 not training
    assert target_spacing(0.5, same, []) == 0.5
    assert target_spacing("none", mixed, ["P1"]) is None and target_spacing(None, mixed, ["P1"]) is None
    with pytest.raises(ValueError, match="positive number"):
        target_spacing(-1, mixed, ["P1"])
    assert spacings_differ([0.25, (0.25, 0.3)]) and not spacings_differ([0.25, (0.25, 0.25)])


def test_resampling_keeps_extent_values_and_area():
    image, mask = _pair()
    new_image, new_mask = resample_pair(image, mask, 0.5)
    assert new_image.GetSpacing() == (0.5, 0.5) and new_image.GetSize() == (40, 30)
    assert new_mask.GetSize() == new_image.GetSize() and new_mask.GetSpacing() == (0.5, 0.5)
    # the physical centre of the grid is kept
    old_centre = np.array(
        image.TransformContinuousIndexToPhysicalPoint([(n - 1) / 2 for n in image.GetSize()])
    )
    new_centre = np.array(
        new_image.TransformContinuousIndexToPhysicalPoint([(n - 1) / 2 for n in new_image.GetSize()])
    )
    assert np.allclose(old_centre, new_centre)
    # a linear ramp stays linear: each new pixel equals the ramp at its physical position
    arr = sitk.GetArrayFromImage(new_image)
    point = new_image.TransformIndexToPhysicalPoint((10, 12))
    index = image.TransformPhysicalPointToContinuousIndex(point)
    assert arr[12, 10] == pytest.approx(index[1] + 2 * index[0], abs=1e-3)
    # the disc keeps its area (mm^2) to within a pixel's worth of its border
    area_old = sitk.GetArrayFromImage(mask).sum() * 0.25**2
    area_new = sitk.GetArrayFromImage(new_mask).sum() * 0.5**2
    assert area_new == pytest.approx(area_old, rel=0.05)


def test_same_spacing_is_left_alone():
    image, mask = _pair(spacing=0.3)
    new_image, new_mask = resample_pair(image, mask, 0.3)
    assert new_image is image and new_mask is mask


def test_summary_and_sentence_say_what_was_done():
    from splkit.radiomics.resample import sentence, summary

    same = summary("auto", None, [0.25, (0.25, 0.25)])
    assert same["native_mm"] == {"min": 0.25, "median": 0.25, "max": 0.25}
    assert "same pixel spacing (0.25 mm): no resampling" in sentence(same)
    mixed = summary("auto", 0.25, [0.25, 0.3, 0.25])
    assert "resampled to 0.25 mm" in sentence(mixed) and "training patients' median" in sentence(mixed)
    refused = summary("none", None, [0.25, 0.3])
    assert "**not** resampled" in sentence(refused) and sentence(None) == ""


def test_workflow_applies_the_rule_to_the_tasks(tmp_path):
    from types import SimpleNamespace

    import pandas as pd

    from splkit.radiomics.workflow import image_tasks, resample_target

    table = pd.DataFrame({"cohort": ["train", "train", "validation"]}, index=["P1", "P2", "P3"])
    cohort = SimpleNamespace(
        table=table,
        spacing={"P1": 0.2, "P2": 0.3, "P3": 0.9},
        images={p: tmp_path / f"{p}.png" for p in table.index},
        masks={p: tmp_path / f"m{p}.png" for p in table.index},
        masks_reader2={},
    )
    settings = {"radiomics": {"resample_mm": "auto"}}
    assert resample_target(settings, cohort) == pytest.approx(0.25)  # validation's 0.9 takes no part
    tasks = image_tasks(cohort, 1, resample_target(settings, cohort))
    assert [t.resample_mm for t in tasks] == pytest.approx([0.25, 0.25, 0.25])
    assert resample_target({"radiomics": {"resample_mm": "none"}}, cohort) is None
