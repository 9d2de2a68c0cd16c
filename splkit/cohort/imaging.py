"""Read ultrasound images and lesion masks into true 2-D SimpleITK images.

Formats: PNG and JPEG (8 or 16 bit; RGB/RGBA screenshots are converted to gray with the ITU-R BT.601
luma weights 0.299 R + 0.587 G + 0.114 B), NRRD, NIfTI (``.nii``/``.nii.gz``) and ultrasound DICOM.
Every reader returns a 2-D image: singleton dimensions (a one-slice NRRD/NIfTI volume) are squeezed;
a real 3-D volume or a multi-frame DICOM cine loop is an error.  Images come back as ``float32``
grey levels 0–255 (the intensity rule of :mod:`splkit.cohort.intensity`: 8-bit as is, deeper images
rescaled by their declared bit depth), masks as ``uint8`` with values {0, 1}.  Before any decoder
runs, :func:`splkit.cohort.fileformat.preflight` checks the file's size, signature and end marker, and
every failure is an :class:`ImageReadError` whose message holds no path.  The pixel grid is what
counts: origin is set to (0, 0) and direction to identity, so an image and its mask align pixel by
pixel.

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

import re
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from splkit.cohort import intensity
from splkit.cohort.dicom_io import DICOM_UNITS_CM, dicom_spacing, read_dicom
from splkit.cohort.fileformat import (
    SUFFIXES,
    TRAILERS,
    ImageInfo,
    ImageReadError,
    describe_read_error,
    image_format,
    preflight,
    split_suffix,
)

__all__ = [
    "DICOM_UNITS_CM",
    "LUMA_WEIGHTS",
    "SUFFIXES",
    "TRAILERS",
    "ImageInfo",
    "ImageReadError",
    "binarize_mask",
    "check_image",
    "choose_spacing",
    "dicom_spacing",
    "image_format",
    "read_array",
    "read_image",
    "read_info",
    "read_mask",
    "split_suffix",
    "to_gray",
]

#: ITU-R BT.601 luma weights for R, G, B.
LUMA_WEIGHTS = (0.299, 0.587, 0.114)

#: A mask with more distinct values than this is not a label image (an image, or an anti-aliased export).
MASK_MAX_LABEL_VALUES = 10

Spacing = float | tuple[float, float]


# ------------------------------------------------------------------------------------- ITK formats


def _squeeze_axes(size: tuple[int, ...]) -> list[int]:
    axes = [axis for axis, n in enumerate(size) if n > 1]
    if len(axes) != 2:
        shape = " x ".join(str(n) for n in size)
        kind = "3-D volume" if len(axes) > 2 else "not a 2-D image"
        raise ImageReadError(f"is a {kind} ({shape} pixels); splkit needs one 2-D frame per patient")
    return axes


_ITK_TYPES = {"unsigned integer": "uint", "signed integer": "int", "float": "float"}


def _itk_sample_type(pixel_id: int) -> str | None:
    """``"uint16"`` for SimpleITK's "16-bit unsigned integer" (also "vector of ..."), else ``None``."""
    found = re.search(
        r"(\d+)-bit (unsigned integer|signed integer|float)", sitk.GetPixelIDValueAsString(pixel_id)
    )
    return f"{_ITK_TYPES[found.group(2)]}{found.group(1)}" if found else None


def _read_itk(path: Path, fmt: str, pixels: bool) -> tuple[np.ndarray | None, ImageInfo]:
    reader = sitk.ImageFileReader()
    reader.SetFileName(str(path))
    if pixels:
        image = reader.Execute()
        size, spacing, channels = image.GetSize(), image.GetSpacing(), image.GetNumberOfComponentsPerPixel()
        dtype = _itk_sample_type(image.GetPixelID())
    else:
        reader.ReadImageInformation()
        size, spacing, channels = reader.GetSize(), reader.GetSpacing(), reader.GetNumberOfComponents()
        dtype = _itk_sample_type(reader.GetPixelID())
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
        dtype=dtype,
        bits=int(dtype[4:]) if dtype and dtype.startswith("uint") else None,
    )
    if not pixels:
        return None, info
    array = sitk.GetArrayFromImage(image)  # axes reversed: (..., y, x[, components])
    n_spatial = image.GetDimension()
    keep = [n_spatial - 1 - a for a in axes]
    drop = tuple(i for i in range(n_spatial) if i not in keep)
    return np.squeeze(array, axis=drop) if drop else array, info


#: Pillow modes: (sample type, declared bit depth).  PNG stores at most 16 bits, so Pillow's 32-bit
#: "I" mode of a PNG holds 16-bit samples.
_PIL_MODES = {
    "I;16": ("uint16", 16),
    "I;16B": ("uint16", 16),
    "I;16L": ("uint16", 16),
    "F": ("float32", None),
}


def _read_pil(path: Path, fmt: str, pixels: bool) -> tuple[np.ndarray | None, ImageInfo]:
    """PNG/JPEG modes ITK does not read (gray + alpha, some palettes, 32-bit), through Pillow."""
    from PIL import Image

    with Image.open(path) as image:
        if image.mode == "P":
            image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        channels = len(image.getbands())
        dtype, bits = _PIL_MODES.get(image.mode, ("uint8", 8))
        if image.mode == "I":
            dtype, bits = ("uint16", 16) if fmt == "png" else ("int32", None)
        info = ImageInfo(
            size=image.size,
            spacing_mm=None,
            spacing_source=None,
            format=fmt,
            channels=channels,
            dtype=dtype,
            bits=bits,
        )
        return (np.asarray(image) if pixels else None), info


def _read_any(path: Path, pixels: bool) -> tuple[np.ndarray | None, ImageInfo]:
    """Read header (and pixels); every failure is an :class:`ImageReadError` without the path."""
    try:
        fmt = preflight(path)
        if fmt == "dicom":
            return read_dicom(path, pixels)
        try:
            return _read_itk(path, fmt, pixels)
        except RuntimeError as error:
            if fmt in ("png", "jpeg") and "Unknown PixelType" in str(error):
                return _read_pil(path, fmt, pixels)
            raise
    except ImageReadError:
        raise
    except Exception as error:  # noqa: BLE001 - ITK, pydicom, Pillow, OS errors: one readable line
        raise ImageReadError(describe_read_error(error, path)) from None


def read_info(path: str | Path) -> ImageInfo:
    """Read only the header of an image file (size, spacing, sample type); cheap for every format."""
    return _read_any(Path(path), pixels=False)[1]


def check_image(path: str | Path) -> ImageInfo:
    """Cheap check of an image without decoding its pixels: size, signature, header, channel count,
    and for PNG/JPEG that the file is complete (ends with its end marker), which catches truncated
    copies.  Corrupt compressed pixel data inside a complete file is only found by decoding
    (:func:`read_image`, or validation with ``full=True``)."""
    info = read_info(path)
    if info.channels not in (1, 2, 3, 4):
        raise ImageReadError(f"image has {info.channels} channels; expected gray, RGB or RGBA")
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


def _not_a_label_image(array: np.ndarray, values: np.ndarray) -> str:
    """Why a mask with many distinct values is not a mask: an image, or an anti-aliased export."""
    top = values.max()
    share = float(np.count_nonzero((array == 0) | (array == top))) / max(array.size, 1)
    if share >= 0.9:
        return (
            f"mask has {len(values)} distinct values, mostly 0 and {top:g} with in-between values at the "
            "lesion edge (an anti-aliased or compressed export); a mask has 0 and one label (1 or 255)"
        )
    return f"mask looks like an image: {len(values)} distinct values; a mask has 0 and one label (1 or 255)"


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
    if len(values) > MASK_MAX_LABEL_VALUES:
        raise ImageReadError(_not_a_label_image(array, values))
    shown = ", ".join(f"{v:g}" for v in values)
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
    raise ImageReadError(no_spacing_message(info.format))


def no_spacing_message(fmt: str) -> str:
    """The message for an image without any pixel spacing (the same for every such patient)."""
    where = {"png": "PNG", "jpeg": "JPEG"}.get(fmt, f"the {fmt.upper()} header")
    return (
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
    """Read an ultrasound image as a 2-D ``float32`` SimpleITK image of grey levels 0–255, spacing in mm.

    Every stage (radiomics, deep features, Grad-CAM, the gallery) reads images here, so every stage
    sees the same grey levels: :func:`splkit.cohort.intensity.to_grey_levels` (8-bit as is, deeper
    unsigned images rescaled by their declared bit depth).

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
    return _to_sitk(intensity.to_grey_levels(to_gray(array), info), spacing)


def read_mask(
    path: str | Path, spacing_mm: Spacing | None = None, default_spacing_mm: Spacing | None = None
) -> sitk.Image:
    """Read a lesion mask as a 2-D ``uint8`` SimpleITK image with values {0, 1} (255 is mapped to 1)."""
    array, info = read_array(path)
    spacing, _ = choose_spacing(info, spacing_mm, default_spacing_mm)
    return _to_sitk(binarize_mask(array), spacing)
