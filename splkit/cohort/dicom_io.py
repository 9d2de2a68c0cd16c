"""Ultrasound DICOM: one frame, its calibration, its declared bit depth (patient tags never read).

Reference: DICOM PS3.3 C.8.5.5, Ultrasound Region Calibration Module (``PhysicalUnitsXDirection``
code 3 = cm); C.7.6.3, Image Pixel Module (``BitsStored``, ``PixelRepresentation``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from splkit.cohort.fileformat import ImageInfo, ImageReadError

#: DICOM PhysicalUnitsX/YDirection code for centimetres (PS3.3 C.8.5.5.1.15).
DICOM_UNITS_CM = 3


def dicom_spacing(ds) -> tuple[tuple[float, float], str] | None:
    """Pixel spacing ``(x, y)`` in mm of a pydicom dataset, and where it came from.

    Uses the 2-D regions of the Sequence of Ultrasound Regions whose physical units are cm (code 3);
    several calibrated regions must agree.  Falls back to ``PixelSpacing`` (row, column order, mm).
    Returns ``None`` when the file has no calibration.
    """
    deltas = set()
    for region in ds.get("SequenceOfUltrasoundRegions", None) or []:
        units = (region.get("PhysicalUnitsXDirection"), region.get("PhysicalUnitsYDirection"))
        if units != (DICOM_UNITS_CM, DICOM_UNITS_CM):
            continue
        if region.get("RegionSpatialFormat", 1) not in (1, None):  # 1 = 2-D tissue or flow
            continue
        dx, dy = float(region.get("PhysicalDeltaX", 0) or 0), float(region.get("PhysicalDeltaY", 0) or 0)
        if dx > 0 and dy > 0:
            deltas.add((round(abs(dx) * 10.0, 9), round(abs(dy) * 10.0, 9)))
    if len(deltas) > 1:
        listed = ", ".join(f"{x:g} x {y:g} mm" for x, y in sorted(deltas))
        raise ImageReadError(
            f"DICOM has several ultrasound regions with different calibrations ({listed}); "
            "give this patient's spacing in the spacing_mm column"
        )
    if deltas:
        return deltas.pop(), "DICOM ultrasound regions"
    pixel_spacing = ds.get("PixelSpacing", None)
    if pixel_spacing is not None and len(pixel_spacing) == 2 and all(float(v) > 0 for v in pixel_spacing):
        return (float(pixel_spacing[1]), float(pixel_spacing[0])), "DICOM PixelSpacing"
    return None


def _dicom_frames(ds) -> int:
    try:
        return int(ds.get("NumberOfFrames", 1) or 1)
    except (TypeError, ValueError):
        return 1


def _sample_type(ds) -> tuple[str, int | None]:
    """The stored sample type and, for unsigned samples, the declared depth (``BitsStored``)."""
    allocated = int(ds.get("BitsAllocated", 8) or 8)
    stored = int(ds.get("BitsStored", allocated) or allocated)
    if int(ds.get("PixelRepresentation", 0) or 0) == 1:
        return f"int{allocated}", None
    return f"uint{allocated}", stored


def read_dicom(path: Path, pixels: bool) -> tuple[np.ndarray | None, ImageInfo]:
    """The frame of a one-frame DICOM (``None`` without ``pixels``) and its header information."""
    import pydicom

    ds = pydicom.dcmread(str(path), stop_before_pixels=not pixels)
    if "Rows" not in ds or "Columns" not in ds:
        raise ImageReadError("DICOM file has no image (no Rows/Columns)")
    frames = _dicom_frames(ds)
    if frames > 1:
        raise ImageReadError(f"DICOM has {frames} frames (a cine loop); export the one frame to analyse")
    calibration = dicom_spacing(ds)
    dtype, bits = _sample_type(ds)
    info = ImageInfo(
        size=(int(ds.Columns), int(ds.Rows)),
        spacing_mm=calibration[0] if calibration else None,
        spacing_source=calibration[1] if calibration else None,
        format="dicom",
        channels=int(ds.get("SamplesPerPixel", 1) or 1),
        dtype=dtype,
        bits=bits,
    )
    if not pixels:
        return None, info
    array = np.asarray(ds.pixel_array)  # pydicom >= 3 returns YBR data converted to RGB
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).upper()
    if photometric == "PALETTE COLOR":
        from pydicom.pixels import apply_color_lut

        array = apply_color_lut(array, ds)
        depth = 8 * array.dtype.itemsize  # the LUT's entries, not the indices, are the grey levels
        info = dataclasses.replace(info, dtype=f"uint{depth}", bits=depth)
    elif photometric == "MONOCHROME1":  # 0 is white: invert to the usual convention
        array = (2 ** int(ds.get("BitsStored", 8)) - 1) - array.astype(np.int64)
    return array, info
