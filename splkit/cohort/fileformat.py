"""What a file is, before any decoder sees it: suffixes, signatures, end markers, readable errors.

ITK and pydicom answer a zero-byte file, a text file renamed ``.png`` or a truncated copy with
messages such as *Unable to determine ImageIO reader* or *Error while reading file* followed by C++
paths.  :func:`preflight` reads the first and last bytes of a file and says instead what is wrong
("not a readable PNG (0 bytes)", "truncated PNG ..."); :func:`describe_read_error` turns any
remaining reader exception into one line without the file's path (paths and file names contain
patient ids, and the message may be recorded, e.g. as a radiomics exclusion reason).

References: PNG (ISO/IEC 15948:2004) section 5.2 signature and the ``IEND`` chunk; JPEG (ITU-T T.81)
SOI/EOI markers; DICOM PS3.10 section 7.1 (128-byte preamble + ``DICM``); NIfTI-1/-2 ``sizeof_hdr``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from splkit.cohort.redact import redact_paths


class ImageReadError(ValueError):
    """An image or mask that splkit cannot use; the message says why (without the path)."""


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

#: Names of the formats in messages.
FORMAT_NAMES = {"png": "PNG", "jpeg": "JPEG", "nrrd": "NRRD", "nifti": "NIfTI", "dicom": "DICOM"}

#: The last bytes of a complete file: PNG ends with its IEND chunk, JPEG with the EOI marker.
TRAILERS = {"png": b"IEND\xaeB`\x82", "jpeg": b"\xff\xd9"}

#: Bytes allowed after the end marker (some writers pad).
_TRAILER_SLACK = 16


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
    dtype
        The stored sample type (``"uint8"``, ``"uint16"``, ``"int16"``, ``"float32"``...), or ``None``.
    bits
        The declared bit depth of unsigned integer samples (PNG bit depth, DICOM ``BitsStored``, the
        storage type of NRRD/NIfTI); ``None`` for signed or floating-point samples.
    """

    size: tuple[int, int]
    spacing_mm: tuple[float, float] | None
    spacing_source: str | None
    format: str
    channels: int = 1
    dtype: str | None = None
    bits: int | None = None


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


# ------------------------------------------------------------------------------------- signatures


def sniff(head: bytes) -> str | None:
    """The format the first bytes of a file announce (``None``: not recognised)."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"NRRD"):
        return "nrrd"
    if head[128:132] == b"DICM":
        return "dicom"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if len(head) >= 4 and int.from_bytes(head[:4], "little") in (348, 540):
        return "nifti"
    if len(head) >= 4 and int.from_bytes(head[:4], "big") in (348, 540):
        return "nifti"
    return None


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _signature_ok(fmt: str, found: str | None, suffix: str) -> bool:
    if fmt == "nifti":
        return found == ("gzip" if suffix == ".nii.gz" else "nifti")
    return found == fmt


def preflight(path: str | Path) -> str:
    """Check a file's size, signature and (PNG/JPEG) end marker without decoding; return its format.

    Raises
    ------
    ImageReadError
        ``"not a readable PNG (0 bytes)"``, ``"not a readable PNG: the file holds text, not an image"``,
        ``"not a readable PNG: it is a JPEG file (rename it to .jpg)"``, ``"truncated PNG (...)"``.
    """
    path = Path(path)
    fmt = image_format(path)
    name = FORMAT_NAMES[fmt]
    size = path.stat().st_size
    if size == 0:
        raise ImageReadError(f"not a readable {name} (0 bytes)")
    with path.open("rb") as handle:
        head = handle.read(512)
        handle.seek(max(0, size - len(TRAILERS.get(fmt, b"")) - _TRAILER_SLACK))
        tail = handle.read()
    found = sniff(head)
    suffix = split_suffix(path.name)[1] or ""
    bare_dicom = (
        fmt == "dicom" and found is None and not _looks_like_text(head)
    )  # no preamble: pydicom decides
    if not _signature_ok(fmt, found, suffix) and not bare_dicom:
        if found in FORMAT_NAMES:
            other = FORMAT_NAMES[found]
            right = {"png": ".png", "jpeg": ".jpg", "nrrd": ".nrrd", "nifti": ".nii", "dicom": ".dcm"}[found]
            raise ImageReadError(f"not a readable {name}: it is a {other} file (rename it to {right})")
        if _looks_like_text(head):
            raise ImageReadError(f"not a readable {name}: the file holds text, not an image ({size} bytes)")
        else:
            raise ImageReadError(
                f"not a readable {name}: the file does not start with the {name} signature (corrupt or another format)"
            )
    trailer = TRAILERS.get(fmt)
    if trailer and trailer not in tail:
        raise ImageReadError(
            f"truncated {name} (incomplete file: no end marker after {size} bytes; copy it again)"
        )
    return fmt


# --------------------------------------------------------------------------------- reader errors


def describe_read_error(error: Exception, path: str | Path) -> str:
    """A one-line reason from a reader's exception, without the path (SimpleITK's are C++ traces).

    ITK's bare *Error while reading file* on a complete PNG/JPEG becomes "corrupt PNG pixel data".
    """
    if isinstance(error, ImageReadError):
        return redact_paths(str(error), {"<file>": path})
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    itk = [line for line in lines if "ERROR:" in line]
    detail = (
        re.sub(r"^.*?ERROR:\s*(\w+\(0x[0-9a-fA-F]+\):\s*)?", "", itk[-1])
        if itk
        else (lines[-1] if lines else "")
    )
    detail = redact_paths(detail, {"<file>": path}).replace(": <file>", "").replace(" <file>", "").strip(" :")
    try:
        fmt = image_format(path)
    except ImageReadError:
        fmt = ""
    if fmt in TRAILERS and detail.startswith("Error while reading file"):
        return f"corrupt {FORMAT_NAMES[fmt]} pixel data: the decoder failed although the file is complete"
    return f"cannot read the file ({type(error).__name__}: {detail[:200]})"
