"""Tests of splkit.cohort.fileformat: what a file is before any decoder sees it."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from splkit.cohort.fileformat import ImageReadError, describe_read_error, preflight, sniff


def write(path, array=None):
    sitk.WriteImage(sitk.GetImageFromArray(np.zeros((8, 8), np.uint8) if array is None else array), str(path))
    return path


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".nrrd", ".nii", ".nii.gz"])
def test_written_files_pass_and_are_recognised(tmp_path, suffix):
    path = write(tmp_path / f"a{suffix}")
    assert preflight(path) == {".jpg": "jpeg", ".nii.gz": "nifti", ".nii": "nifti"}.get(suffix, suffix[1:])
    assert sniff(path.read_bytes()[:512]) in ("png", "jpeg", "nrrd", "nifti", "gzip")


def test_empty_text_and_renamed_files(tmp_path):
    (tmp_path / "e.nrrd").write_bytes(b"")
    with pytest.raises(ImageReadError, match=r"^not a readable NRRD \(0 bytes\)$"):
        preflight(tmp_path / "e.nrrd")
    (tmp_path / "t.dcm").write_text("hello")
    with pytest.raises(ImageReadError, match="^not a readable DICOM: the file holds text"):
        preflight(tmp_path / "t.dcm")
    png = write(tmp_path / "p.png")
    png.rename(tmp_path / "p.jpg")
    with pytest.raises(
        ImageReadError, match=r"^not a readable JPEG: it is a PNG file \(rename it to .png\)$"
    ):
        preflight(tmp_path / "p.jpg")
    (tmp_path / "b.png").write_bytes(bytes(range(256)) * 2)
    with pytest.raises(ImageReadError, match="does not start with the PNG signature"):
        preflight(tmp_path / "b.png")


def test_describe_read_error_drops_the_path(tmp_path):
    path = tmp_path / "PAT-77.png"
    error = RuntimeError(
        "Exception thrown in SimpleITK ImageFileReader_Execute: /x/itkPNGImageIO.cxx:249:\n"
        f"ITK ERROR: PNGImageIO(0x5629): Error while reading file: {path}\n"
    )
    assert describe_read_error(error, path) == (
        "corrupt PNG pixel data: the decoder failed although the file is complete"
    )
    other = describe_read_error(OSError(f"cannot open {path}"), path)
    assert "PAT-77" not in other and other.startswith("cannot read the file (OSError: cannot open")
