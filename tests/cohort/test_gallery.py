"""Tests of splkit.cohort.gallery with a tiny in-memory cohort."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import SimpleITK as sitk

from splkit.cohort.gallery import gallery_figure, pick_gallery_patients


class _Cohort:
    def __init__(self):
        self.table = pd.DataFrame(
            {"label": [0, 1, 0, 1, 1], "cohort": ["train"] * 4 + ["validation"]},
            index=pd.Index([f"P000{i}" for i in range(1, 6)], name="patient"),
        )

    def read_image(self, patient):
        image = sitk.GetImageFromArray(
            np.random.default_rng(int(patient[1:])).integers(0, 255, (40, 50)).astype(np.uint8)
        )
        image.SetSpacing((0.2, 0.2))
        return image

    def read_mask(self, patient):
        mask = np.zeros((40, 50), np.uint8)
        mask[10:25, 15:35] = 1
        return sitk.GetImageFromArray(mask)


def test_gallery_pairs_benign_with_malignant_and_captions_use_pseudonyms():
    cohort = _Cohort()
    pairs = pick_gallery_patients(cohort.table, n_per_class=2, random_state=0)
    assert list(pairs.columns) == ["benign", "malignant"] and len(pairs) == 2
    assert set(pairs["benign"]) <= {"P0001", "P0003"} and set(pairs["malignant"]) <= {
        "P0002",
        "P0004",
        "P0005",
    }
    assert pairs.equals(pick_gallery_patients(cohort.table, n_per_class=2, random_state=0))
    fig = gallery_figure(cohort, pairs)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0].startswith(pairs.loc[0, "benign"]) and "malignant" in titles[1]
    assert all(ax.collections for ax in fig.axes)  # a contour on every image
