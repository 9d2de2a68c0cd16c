"""Read ultrasound images and lesion masks into true 2-D SimpleITK images.

Formats: PNG and JPEG (8 or 16 bit; RGB/RGBA screenshots are converted to gray with the ITU-R BT.601
luma weights 0.299 R + 0.587 G + 0.114 B), NRRD, NIfTI (``.nii``/``.nii.gz``) and ultrasound DICOM.
Every reader returns a 2-D image: singleton dimensions (a one-slice NRRD/NIfTI volume) are squeezed;
a real 3-D volume or a multi-frame DICOM cine loop is an error.  Images come back as ``float32``,
masks as ``uint8`` with values {0, 1}.  The pixel grid is what counts: origin is set to (0, 0) and
direction to identity, so an image and its mask align pixel by pixel.

Pixel spacing (mm) is chosen in this order (see ``data/README.md``):

1. an explicit ``spacing_mm`` (the ``spacing_mm`` column of ``clinical.csv``);
2. the file header: for DICOM the *Sequence of Ultrasound Regions* (``PhysicalDeltaX/Y``, in cm when
   ``PhysicalUnitsX/YDirection`` = 3, converted to mm), else ``PixelSpacing``; for NRRD/NIfTI the
   header spacing (taken as mm).  PNG/JPEG carry no trustworthy spacing (their ``pHYs``/DPI fields
   describe printing, not anatomy) and are never read for it;
3. ``default_spacing_mm`` (the profile's ``data.default_spacing_mm``);
4. otherwise an :class:`ImageReadError`.

References: ITU-R Recommendation BT.601-7 (2011), luma coefficients; DICOM PS3.3 C.8.5.5, Ultrasound
Region Calibration Module (``PhysicalUnitsXDirection`` code 3 = cm).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import SimpleITK as sitk

#: ITU-R BT.601 luma weights for R, G, B.
LUMA_WEIGHTS = (0.299, 0.587, 0.114)

#: File suffixes splkit reads (lower case), and the format each one means.
SUFFIXES = {
    ".png": "png",
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".nrrd": "nrrd",
    ".nii": "nifti",
    ".nii.gz": "nifti",
    ".dcm": "dicom",
}

#: DICOM PhysicalUnitsX/YDirection code for centimetres (PS3.3 C.8.5.5.1.15).
DICOM_UNITS_CM = 3

Spacing = float | tuple[float, float]


class ImageReadError(ValueError):
    """An image or mask that splkit cannot use; the message says why (without the path)."""


@dataclass(frozen=True)
class ImageInfo:
    """What a file says about itself.

    Attributes
    ----------
    size
        ``(width, height)`` in pixels (columns, rows) after squeezing singleton dimensions.
    spacing_mm
        ``(x, y)`` pixel spacing in mm from the header, or ``None`` (PNG/JPEG, uncalibrated DICOM).
    spacing_source
        ``"DICOM ultrasound regions"``, ``"DICOM PixelSpacing"``, ``"file header"`` or ``None``.
    format
        One of the values of :data:`SUFFIXES`.
    channels
        Samples per pixel (1 gray, 2 gray + alpha, 3 RGB, 4 RGBA).
    """

    size: tuple[int, int]
    spacing_mm: tuple[float, float] | None
    spacing_source: str | None
    format: str
    channels: int = 1


def split_suffix(name: str) -> tuple[str, str | None]:
    """Split a file name into ``(stem, suffix)`` for the supported suffixes (``None`` if unsupported).

    ``"P.01.nii.gz"`` gives ``("P.01", ".nii.gz")``; the suffix is matched case-insensitively.
    """
    lower = name.lower()
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if lower.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)], suffix
    return name, None


def image_format(path: str | Path) -> str:
    """The format of ``path`` from its suffix; :class:`ImageReadError` if it is not supported."""
    _, suffix = split_suffix(Path(path).name)
    if suffix is None:
        raise ImageReadError(f"unsupported file type (supported: {', '.join(SUFFIXES)})")
    return SUFFIXES[suffix]


# --------------------------------------------------------------------------------------------- DICOM


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


def _read_dicom(path: Path, pixels: bool) -> tuple[np.ndarray | None, ImageInfo]:
    import pydicom

    ds = pydicom.dcmread(str(path), stop_before_pixels=not pixels)
    if "Rows" not in ds or "Columns" not in ds:
        raise ImageReadError("DICOM file has no image (no Rows/Columns)")
    frames = _dicom_frames(ds)
    if frames > 1:
        raise ImageReadError(f"DICOM has {frames} frames (a cine loop); export the one frame to analyse")
    calibration = dicom_spacing(ds)
    info = ImageInfo(
        size=(int(ds.Columns), int(ds.Rows)),
        spacing_mm=calibration[0] if calibration else None,
        spacing_source=calibration[1] if calibration else None,
        format="dicom",
        channels=int(ds.get("SamplesPerPixel", 1) or 1),
    )
    if not pixels:
        return None, info
    array = np.asarray(ds.pixel_array)  # pydicom >= 3 returns YBR data converted to RGB
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).upper()
    if photometric == "PALETTE COLOR":
        from pydicom.pixels import apply_color_lut

        array = apply_color_lut(array, ds)
    elif photometric == "MONOCHROME1":  # 0 is white: invert to the usual convention
        array = (2 ** int(ds.get("BitsStored", 8)) - 1) - array.astype(np.int64)
    return array, info


# ------------------------------------------------------------------------------------- ITK formats


def _squeeze_axes(size: tuple[int, ...]) -> list[int]:
    axes = [axis for axis, n in enumerate(size) if n > 1]
    if len(axes) != 2:
        shape = " x ".join(str(n) for n in size)
        kind = "3-D volume" if len(axes) > 2 else "not a 2-D image"
        raise ImageReadError(f"is a {kind} ({shape} pixels); splkit needs one 2-D frame per patient")
    return axes


def _read_itk(path: Path, fmt: str, pixels: bool) -> tuple[np.ndarray | None, ImageInfo]:
    reader = sitk.ImageFileReader()
    reader.SetFileName(str(path))
    if pixels:
        image = reader.Execute()
        size, spacing, channels = image.GetSize(), image.GetSpacing(), image.GetNumberOfComponentsPerPixel()
    else:
        reader.ReadImageInformation()
        size, spacing, channels = reader.GetSize(), reader.GetSpacing(), reader.GetNumberOfComponents()
    axes = _squeeze_axes(tuple(size))
    header_spacing = None
    if fmt in ("nrrd", "nifti"):
        header_spacing = (float(spacing[axes[0]]), float(spacing[axes[1]]))
    info = ImageInfo(
        size=(int(size[axes[0]]), int(size[axes[1]])),
        spacing_mm=header_spacing,
        spacing_source="file header" if header_spacing else None,
        format=fmt,
        channels=int(channels),
    )
    if not pixels:
        return None, info
    array = sitk.GetArrayFromImage(image)  # axes reversed: (..., y, x[, components])
    n_spatial = image.GetDimension()
    keep = [n_spatial - 1 - a for a in axes]
    drop = tuple(i for i in range(n_spatial) if i not in keep)
    return np.squeeze(array, axis=drop) if drop else array, info


def _read_pil(path: Path, fmt: str, pixels: bool) -> tuple[np.ndarray | None, ImageInfo]:
    """PNG/JPEG modes ITK does not read (gray + alpha, some palettes, 32-bit), through Pillow."""
    from PIL import Image

    with Image.open(path) as image:
        if image.mode == "P":
            image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        channels = len(image.getbands())
        info = ImageInfo(size=image.size, spacing_mm=None, spacing_source=None, format=fmt, channels=channels)
        return (np.asarray(image) if pixels else None), info


def _read_any(path: Path, pixels: bool) -> tuple[np.ndarray | None, ImageInfo]:
    fmt = image_format(path)
    if fmt == "dicom":
        return _read_dicom(path, pixels)
    try:
        return _read_itk(path, fmt, pixels)
    except RuntimeError as error:
        if fmt in ("png", "jpeg") and "Unknown PixelType" in str(error):
            return _read_pil(path, fmt, pixels)
        raise


def read_info(path: str | Path) -> ImageInfo:
    """Read only the header of an image file (size and spacing); cheap for every format."""
    return _read_any(Path(path), pixels=False)[1]


#: The last bytes of a complete file: PNG ends with its IEND chunk, JPEG with the EOI marker.
_TRAILERS = {"png": b"IEND\xaeB`\x82", "jpeg": b"\xff\xd9"}


def check_image(path: str | Path) -> ImageInfo:
    """Cheap check of an image without decoding its pixels: header, channel count, and for PNG/JPEG
    that the file is complete (ends with its end marker), which catches truncated copies."""
    path = Path(path)
    info = read_info(path)
    if info.channels not in (1, 2, 3, 4):
        raise ImageReadError(f"image has {info.channels} channels; expected gray, RGB or RGBA")
    trailer = _TRAILERS.get(info.format)
    if trailer:
        with path.open("rb") as handle:
            handle.seek(max(0, path.stat().st_size - 16))
            tail = handle.read()
        if trailer not in tail:  # a few padding bytes after the marker are tolerated
            raise ImageReadError(
                f"{info.format.upper()} file is incomplete (no end marker): truncated or corrupt"
            )
    return info


def read_array(path: str | Path) -> tuple[np.ndarray, ImageInfo]:
    """Read the pixel data: a ``(rows, columns)`` or ``(rows, columns, channels)`` array, and the header."""
    array, info = _read_any(Path(path), pixels=True)
    if array.ndim not in (2, 3) or array.shape[:2] != (info.size[1], info.size[0]):
        raise ImageReadError(f"pixel data of shape {array.shape} does not match the header size {info.size}")
    return array, info


# -------------------------------------------------------------------------------------- conversion


def to_gray(array: np.ndarray) -> np.ndarray:
    """A 2-D float32 gray image: RGB(A) by the BT.601 luma weights, gray + alpha by its gray channel."""
    if array.ndim == 2:
        return array.astype(np.float32)
    channels = array.shape[2]
    if channels == 1 or channels == 2:  # gray, gray + alpha
        return array[:, :, 0].astype(np.float32)
    if channels in (3, 4):  # RGB, RGBA (alpha dropped)
        rgb = array[:, :, :3].astype(np.float32)
        return rgb @ np.asarray(LUMA_WEIGHTS, dtype=np.float32)
    raise ImageReadError(f"image has {channels} channels; expected gray, RGB or RGBA")


def mask_values(array: np.ndarray) -> np.ndarray:
    """The distinct values of a mask array (fast for 8/16-bit masks)."""
    if array.dtype.kind in "ub" and array.dtype.itemsize <= 2:
        return np.flatnonzero(np.bincount(array.ravel().astype(np.intp, copy=False)))
    return np.unique(array)


def binarize_mask(array: np.ndarray) -> np.ndarray:
    """A {0, 1} ``uint8`` mask from a {0, 1} or {0, 255} mask; :class:`ImageReadError` otherwise."""
    if array.ndim == 3:
        first = array[:, :, 0]
        colour = array[:, :, : min(3, array.shape[2])]
        if array.shape[2] > 1 and not all(
            np.array_equal(first, colour[:, :, c]) for c in range(1, colour.shape[2])
        ):
            raise ImageReadError(
                "mask is a colour image whose channels differ; save it as a gray {0, 1} or {0, 255} image"
            )
        array = first
    values = mask_values(array)
    shown = ", ".join(f"{v:g}" for v in values[:8]) + (", ..." if len(values) > 8 else "")
    if not (set(values.tolist()) <= {0, 1} or set(values.tolist()) <= {0, 255}):
        hint = " (several labels: keep one lesion label)" if len(values) > 2 else ""
        raise ImageReadError(f"mask has values {{{shown}}}{hint}; allowed are {{0, 1}} or {{0, 255}}")
    if values.max(initial=0) == 0:
        raise ImageReadError("mask is empty (no lesion pixels)")
    if values.min() > 0:
        raise ImageReadError("mask covers the whole image (no background pixels)")
    return (array > 0).astype(np.uint8)


def choose_spacing(
    info: ImageInfo, spacing_mm: Spacing | None = None, default_spacing_mm: Spacing | None = None
) -> tuple[tuple[float, float], str]:
    """The ``(x, y)`` spacing in mm and its source, by the order in the module docstring."""
    for value, source in ((spacing_mm, "spacing_mm"), (info.spacing_mm, info.spacing_source)):
        if value is not None:
            return _pair(value), source
    if default_spacing_mm is not None:
        return _pair(default_spacing_mm), "default"
    where = {"png": "PNG", "jpeg": "JPEG"}.get(info.format, f"the {info.format.upper()} header")
    raise ImageReadError(
        f"no pixel spacing: {where} has none; add a spacing_mm column to clinical.csv "
        "or set data.default_spacing_mm in the profile"
    )


def _pair(value: Spacing) -> tuple[float, float]:
    pair = (float(value), float(value)) if np.isscalar(value) else tuple(float(v) for v in value)
    if len(pair) != 2 or not all(np.isfinite(v) and v > 0 for v in pair):
        raise ImageReadError(f"invalid pixel spacing {value!r}: need a positive number of mm")
    return pair  # type: ignore[return-value]


def _to_sitk(array: np.ndarray, spacing: tuple[float, float]) -> sitk.Image:
    image = sitk.GetImageFromArray(np.ascontiguousarray(array))
    image.SetSpacing(spacing)
    return image


def read_image(
    path: str | Path, spacing_mm: Spacing | None = None, default_spacing_mm: Spacing | None = None
) -> sitk.Image:
    """Read an ultrasound image as a 2-D ``float32`` SimpleITK image with spacing in mm.

    Parameters
    ----------
    path
        PNG, JPEG, NRRD, NIfTI or DICOM file.
    spacing_mm
        Explicit spacing (mm; a number or ``(x, y)``); wins over the header.
    default_spacing_mm
        Used when neither ``spacing_mm`` nor the header gives one.
    """
    array, info = read_array(path)
    spacing, _ = choose_spacing(info, spacing_mm, default_spacing_mm)
    return _to_sitk(to_gray(array), spacing)


def read_mask(
    path: str | Path, spacing_mm: Spacing | None = None, default_spacing_mm: Spacing | None = None
) -> sitk.Image:
    """Read a lesion mask as a 2-D ``uint8`` SimpleITK image with values {0, 1} (255 is mapped to 1)."""
    array, info = read_array(path)
    spacing, _ = choose_spacing(info, spacing_mm, default_spacing_mm)
    return _to_sitk(binarize_mask(array), spacing)
