"""First-order features: pyradiomics' class on the same ROI, every feature bit for bit."""

import numpy as np
import pytest
import SimpleITK as sitk
from radiomics.firstorder import RadiomicsFirstOrder

from splkit.radiomics.fast.discretise import discretise
from splkit.radiomics.fast.firstorder import FEATURES, FirstOrder


@pytest.mark.parametrize(
    ("values", "few"),
    [
        (np.random.default_rng(0).integers(0, 256, (40, 50)).astype(np.float32), True),  # 8-bit, few values
        (np.random.default_rng(1).normal(-3, 40, (40, 50)).astype(np.float32), False),  # continuous, signed
        (np.random.default_rng(2).normal(-3, 40, (40, 50)), True),  # few_values asked, but not few: direct
        (np.random.default_rng(3).integers(0, 10, (9, 9)).astype(float), True),  # tiny (under 600 pixels)
    ],
)
@pytest.mark.parametrize("shift", [0, 100])
def test_every_feature_equals_pyradiomics(values, few, shift):
    mask = np.random.default_rng(9).random(values.shape) < 0.7
    settings = {"binCount": 32, "voxelArrayShift": shift, "label": 1}
    image = sitk.GetImageFromArray(values)
    image.SetSpacing((0.2, 0.3))
    label = sitk.GetImageFromArray(mask.astype(np.uint8))
    label.CopyInformation(image)
    reference = RadiomicsFirstOrder(image, label, **settings)
    for name in FEATURES:
        reference.enableFeatureByName(name)
    expected = reference.execute()
    ours = FirstOrder(discretise(values, mask, settings), image.GetSpacing(), shift, few_values=few)
    for name in FEATURES:
        assert float(np.squeeze(ours.compute(name))) == float(np.squeeze(expected[name])), name
