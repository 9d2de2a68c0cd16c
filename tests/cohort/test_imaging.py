"""Tests of splkit.cohort.imaging: every format read as a true 2-D image with spacing in mm."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from splkit.cohort import imaging
from splkit.cohort.imaging import ImageReadError, read_image, read_info, read_mask

US_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.6.1"


def write(path: Path, array: np.ndarray, spacing=None, vector: bool = False) -> Path:
    image = sitk.GetImageFromArray(array, isVector=vector)
    if spacing is not None:
        image.SetSpacing(spacing)
    sitk.WriteImage(image, str(path))
    return path


def gray(rows: int = 20, cols: int = 30, dtype=np.uint8, high: int = 255) -> np.ndarray:
    return np.random.default_rng(1).integers(0, high, (rows, cols)).astype(dtype)


def as_array(image: sitk.Image) -> np.ndarray:
    return sitk.GetArrayFromImage(image)


def write_dicom(
    path: Path,
    pixels: np.ndarray,
    regions: list[dict] | None = None,
    pixel_spacing: list[float] | None = None,
    photometric: str | None = None,
    frames: int | None = None,
) -> Path:
    """A minimal uncompressed ultrasound DICOM file written with pydicom."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = US_IMAGE_STORAGE
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = US_IMAGE_STORAGE
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "US"
    ds.PatientID = "SECRET-ID-123"
    ds.PatientName = "Doe^Jane"
    colour = pixels.ndim == (4 if frames else 3)
    ds.Rows, ds.Columns = pixels.shape[-3:-1] if colour else pixels.shape[-2:]
    ds.SamplesPerPixel = 3 if colour else 1
    ds.PhotometricInterpretation = photometric or ("RGB" if colour else "MONOCHROME2")
    if colour:
        ds.PlanarConfiguration = 0
    if frames:
        ds.NumberOfFrames = frames
    ds.BitsAllocated = ds.BitsStored = 8 * pixels.dtype.itemsize
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 0
    ds.PixelData = np.ascontiguousarray(pixels).tobytes()
    if regions is not None:
        items = []
        for region in regions:
            item = Dataset()
            item.RegionSpatialFormat = region.get("format", 1)
            item.RegionDataType = 1
            item.PhysicalUnitsXDirection = region.get("units", 3)
            item.PhysicalUnitsYDirection = region.get("units", 3)
            item.PhysicalDeltaX = region["dx"]
            item.PhysicalDeltaY = region["dy"]
            items.append(item)
        ds.SequenceOfUltrasoundRegions = items
    if pixel_spacing is not None:
        ds.PixelSpacing = pixel_spacing
    ds.save_as(path, enforce_file_format=True)
    return path


# --------------------------------------------------------------------------------------- PNG / JPEG


def test_png_8_bit(tmp_path):
    array = gray()
    image = read_image(write(tmp_path / "a.png", array), spacing_mm=0.1)
    assert image.GetDimension() == 2 and image.GetSize() == (30, 20)
    assert image.GetPixelID() == sitk.sitkFloat32 and image.GetSpacing() == (0.1, 0.1)
    np.testing.assert_array_equal(as_array(image), array.astype(np.float32))


def test_png_16_bit_is_rescaled_to_0_255_by_its_bit_depth(tmp_path):
    array = gray(dtype=np.uint16, high=65535)
    assert array.max() > 255
    path = write(tmp_path / "a.png", array)
    assert (read_info(path).dtype, read_info(path).bits) == ("uint16", 16)
    image = read_image(path, default_spacing_mm=0.2)
    expected = array.astype(np.float32) * np.float32(255 / 65535)
    np.testing.assert_allclose(as_array(image), expected, rtol=1e-6)
    assert image.GetSpacing() == (0.2, 0.2)


@pytest.mark.parametrize("channels", [3, 4])
def test_rgb_and_rgba_screenshots_become_bt601_luma(tmp_path, channels):
    rgb = np.random.default_rng(2).integers(0, 255, (20, 30, channels)).astype(np.uint8)
    image = read_image(write(tmp_path / "a.png", rgb, vector=True), spacing_mm=0.1)
    expected = 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]
    assert image.GetDimension() == 2 and image.GetNumberOfComponentsPerPixel() == 1
    np.testing.assert_allclose(as_array(image), expected, atol=1e-3)


def test_palette_and_gray_alpha_png(tmp_path):
    from PIL import Image

    rgb = np.random.default_rng(5).integers(0, 255, (20, 30, 3)).astype(np.uint8)
    Image.fromarray(rgb).convert("P").save(tmp_path / "palette.png")
    expected = np.asarray(Image.open(tmp_path / "palette.png").convert("RGB")) @ np.array(
        imaging.LUMA_WEIGHTS
    )
    np.testing.assert_allclose(as_array(read_image(tmp_path / "palette.png", 0.1)), expected, atol=1e-3)
    Image.fromarray(rgb[..., 0]).convert("LA").save(tmp_path / "la.png")  # ITK cannot read gray + alpha
    assert read_info(tmp_path / "la.png").channels == 2
    np.testing.assert_array_equal(as_array(read_image(tmp_path / "la.png", 0.1)), rgb[..., 0])


def test_jpeg_reads_as_gray(tmp_path):
    array = np.tile(np.linspace(0, 250, 32, dtype=np.uint8), (16, 1))
    image = read_image(write(tmp_path / "a.jpg", array), spacing_mm=0.1)
    assert image.GetSize() == (32, 16)
    assert np.abs(as_array(image) - array).mean() < 3  # lossy, but close


def test_png_spacing_is_never_taken_from_the_file(tmp_path):
    path = write(tmp_path / "a.png", gray(), spacing=(0.35, 0.35))
    assert read_info(path).spacing_mm is None
    with pytest.raises(ImageReadError, match="no pixel spacing: PNG has none"):
        read_image(path)


# -------------------------------------------------------------------------------------- NRRD / NIfTI


@pytest.mark.parametrize("suffix", [".nrrd", ".nii", ".nii.gz"])
def test_one_slice_volume_is_squeezed_to_true_2d(tmp_path, suffix):
    array = gray()[None, :, :]  # (z=1, y, x)
    path = write(tmp_path / f"a{suffix}", array, spacing=(0.12, 0.15, 5.0))
    info = read_info(path)
    assert info.size == (30, 20) and info.spacing_mm == pytest.approx((0.12, 0.15))
    image = read_image(path)
    assert image.GetDimension() == 2 and image.GetSize() == (30, 20)
    assert image.GetSpacing() == pytest.approx((0.12, 0.15))
    np.testing.assert_array_equal(as_array(image), array[0])
    assert read_image(path, spacing_mm=0.3).GetSpacing() == (0.3, 0.3)  # the column wins over the header


def test_2d_nifti_and_singleton_first_axis(tmp_path):
    path = write(tmp_path / "a.nii.gz", gray(), spacing=(0.2, 0.25))
    assert read_image(path).GetSpacing() == pytest.approx((0.2, 0.25))
    odd = write(tmp_path / "b.nrrd", gray()[:, :, None], spacing=(9.0, 0.1, 0.2))  # x is the singleton
    image = read_image(odd)
    assert image.GetSize() == (30, 20) and image.GetSpacing() == pytest.approx((0.1, 0.2))


def test_real_3d_volume_is_refused(tmp_path):
    path = write(tmp_path / "v.nrrd", np.zeros((3, 20, 30), np.uint8))
    with pytest.raises(ImageReadError, match=r"3-D volume \(30 x 20 x 3 pixels\)"):
        read_image(path)


def test_nrrd_mask_float_values(tmp_path):
    mask = np.zeros((20, 30), np.float32)
    mask[5:10, 5:10] = 1.0
    image = read_mask(write(tmp_path / "m.nrrd", mask, spacing=(0.1, 0.1)))
    assert image.GetPixelID() == sitk.sitkUInt8 and as_array(image).sum() == 25


# -------------------------------------------------------------------------------------------- DICOM


def test_dicom_ultrasound_regions_cm_to_mm(tmp_path):
    pixels = gray()
    path = write_dicom(tmp_path / "a.dcm", pixels, regions=[{"dx": 0.0125, "dy": 0.015}])
    info = read_info(path)
    assert (
        info.spacing_mm == pytest.approx((0.125, 0.15)) and info.spacing_source == "DICOM ultrasound regions"
    )
    image = read_image(path)
    assert image.GetDimension() == 2 and image.GetSize() == (30, 20)
    assert image.GetSpacing() == pytest.approx((0.125, 0.15))
    np.testing.assert_array_equal(as_array(image), pixels)


def test_dicom_region_choice(tmp_path):
    pixels = gray()
    # a spectral-Doppler region (format 3, units s / cm/s) is ignored; two equal B-mode regions agree
    regions = [
        {"dx": 0.01, "dy": 0.01},
        {"dx": 0.01, "dy": 0.01},
        {"dx": 0.5, "dy": 0.5, "format": 3, "units": 4},
    ]
    assert read_info(write_dicom(tmp_path / "a.dcm", pixels, regions=regions)).spacing_mm == pytest.approx(
        (0.1, 0.1)
    )
    clash = write_dicom(
        tmp_path / "b.dcm", pixels, regions=[{"dx": 0.01, "dy": 0.01}, {"dx": 0.02, "dy": 0.02}]
    )
    with pytest.raises(ImageReadError, match="several ultrasound regions with different calibrations"):
        read_info(clash)


def test_dicom_pixel_spacing_fallback_and_no_calibration(tmp_path):
    pixels = gray()
    path = write_dicom(tmp_path / "a.dcm", pixels, pixel_spacing=[0.3, 0.2])  # row (y), column (x)
    assert read_image(path).GetSpacing() == pytest.approx((0.2, 0.3))
    bare = write_dicom(tmp_path / "b.dcm", pixels, regions=[{"dx": 1.0, "dy": 1.0, "units": 0}])
    with pytest.raises(ImageReadError, match="no pixel spacing: the DICOM header has none"):
        read_image(bare)
    assert read_image(bare, default_spacing_mm=0.25).GetSpacing() == (0.25, 0.25)


def test_dicom_rgb_monochrome1_and_multiframe(tmp_path):
    rgb = np.random.default_rng(3).integers(0, 255, (20, 30, 3)).astype(np.uint8)
    image = read_image(write_dicom(tmp_path / "rgb.dcm", rgb, pixel_spacing=[0.1, 0.1]))
    expected = rgb @ np.array(imaging.LUMA_WEIGHTS)
    np.testing.assert_allclose(as_array(image), expected, atol=1e-3)
    pixels = gray()
    inverted = read_image(
        write_dicom(tmp_path / "m1.dcm", pixels, pixel_spacing=[0.1, 0.1], photometric="MONOCHROME1")
    )
    np.testing.assert_array_equal(as_array(inverted), 255 - pixels.astype(np.float32))
    cine = write_dicom(tmp_path / "cine.dcm", np.stack([pixels, pixels]), pixel_spacing=[0.1, 0.1], frames=2)
    with pytest.raises(ImageReadError, match="2 frames"):
        read_info(cine)


def test_dicom_ybr_full_is_converted_to_rgb_then_gray(tmp_path):
    from pydicom.pixels import convert_color_space

    rgb = np.random.default_rng(4).integers(0, 255, (20, 30, 3)).astype(np.uint8)
    ybr = convert_color_space(rgb, "RGB", "YBR_FULL")
    path = write_dicom(tmp_path / "ybr.dcm", ybr, pixel_spacing=[0.1, 0.1], photometric="YBR_FULL")
    expected = rgb @ np.array(imaging.LUMA_WEIGHTS)
    np.testing.assert_allclose(as_array(read_image(path)), expected, atol=1.5)  # YBR round trip: +-1


def test_dicom_patient_tags_do_not_reach_the_image(tmp_path):
    path = write_dicom(tmp_path / "a.dcm", gray(), pixel_spacing=[0.1, 0.1])
    assert pydicom.dcmread(path).PatientID == "SECRET-ID-123"
    image = read_image(path)
    assert all("SECRET" not in image.GetMetaData(k) for k in image.GetMetaDataKeys())


# -------------------------------------------------------------------------------------------- masks


def test_mask_0_255_and_0_1(tmp_path):
    for value in (1, 255):
        mask = np.zeros((20, 30), np.uint8)
        mask[2:6, 3:9] = value
        image = read_mask(write(tmp_path / f"m{value}.png", mask), spacing_mm=0.1)
        assert image.GetPixelID() == sitk.sitkUInt8 and image.GetDimension() == 2
        assert set(np.unique(as_array(image))) == {0, 1} and as_array(image).sum() == 24


def test_mask_problems(tmp_path):
    mask = np.zeros((20, 30), np.uint8)
    with pytest.raises(ImageReadError, match="mask is empty"):
        read_mask(write(tmp_path / "empty.png", mask), spacing_mm=0.1)
    mask[:] = 255
    with pytest.raises(ImageReadError, match="covers the whole image"):
        read_mask(write(tmp_path / "full.png", mask), spacing_mm=0.1)
    mask[:5] = 0
    mask[10:] = 2
    with pytest.raises(ImageReadError, match=r"values \{0, 2, 255\} \(several labels"):
        read_mask(write(tmp_path / "labels.png", mask), spacing_mm=0.1)
    rgb = np.zeros((20, 30, 3), np.uint8)
    rgb[2:5, 2:5, 0] = 255  # a red outline-like blob
    with pytest.raises(ImageReadError, match="colour image whose channels differ"):
        read_mask(write(tmp_path / "red.png", rgb, vector=True), spacing_mm=0.1)
    rgb[2:5, 2:5, :] = 255  # white on black saved as RGB is fine
    assert as_array(read_mask(write(tmp_path / "white.png", rgb, vector=True), spacing_mm=0.1)).sum() == 9


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_check_image_finds_truncated_files_without_decoding(tmp_path, suffix):
    path = write(tmp_path / f"a{suffix}", gray(64, 64))
    assert imaging.check_image(path).size == (64, 64)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 30])
    with pytest.raises(ImageReadError, match="truncated (PNG|JPEG) .incomplete file"):
        imaging.check_image(path)


def test_unsupported_suffix_and_split_suffix():
    assert imaging.split_suffix("P.01.nii.gz") == ("P.01", ".nii.gz")
    assert imaging.split_suffix("A.PNG") == ("A", ".png")
    assert imaging.split_suffix("notes.txt") == ("notes.txt", None)
    with pytest.raises(ImageReadError, match="unsupported file type"):
        imaging.image_format("x.bmp")
