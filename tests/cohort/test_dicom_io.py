"""Tests of splkit.cohort.dicom_io: the declared bit depth of a DICOM frame drives the intensity rule."""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk
from cohort.test_imaging import write_dicom

from splkit.cohort.dicom_io import read_dicom
from splkit.cohort.imaging import read_image


def test_12_bit_dicom_is_rescaled_by_bits_stored(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 4096, (20, 30)).astype(np.uint16)
    path = write_dicom(tmp_path / "a.dcm", pixels, pixel_spacing=[0.1, 0.1])
    import pydicom

    ds = pydicom.dcmread(path)
    ds.BitsStored, ds.HighBit = 12, 11
    ds.save_as(path)
    _, info = read_dicom(path, pixels=False)
    assert (info.dtype, info.bits) == ("uint16", 12)
    image = sitk.GetArrayFromImage(read_image(path))
    np.testing.assert_allclose(image, pixels * (255 / 4095), rtol=1e-5)
