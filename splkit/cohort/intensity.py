"""The intensity rule: every image becomes grey levels 0–255 at read time, in this one place.

Radiomics (first-order features), the deep-feature crop (divided by 255) and Grad-CAM all read images
through :func:`splkit.cohort.imaging.read_image`, which applies :func:`to_grey_levels`; so an image has
the same grey levels in every stage.  The rule (``data/README.md``, *Grey levels*):

1. **8-bit** samples (``uint8``) are used as they are: 0–255.  (The simulated cohort is 8-bit, so its
   pixel values are unchanged by this rule.)
2. **Unsigned integer samples with a declared bit depth b > 8** (16-bit PNG, DICOM ``BitsStored`` 12
   or 16, ``uint16`` NRRD/NIfTI) are rescaled linearly by the full range of that depth:
   ``g = v * 255 / (2**b - 1)``.  A 16-bit image whose largest value is below 256 holds 8-bit data
   in a 16-bit file; rescaled it would be nearly black, so it is refused (save it as 8-bit).
3. **Signed integer or floating-point samples** (some NRRD/NIfTI conversions, signed DICOM) declare no
   range: they are used as they are when every value lies within 0–255, and refused otherwise.

RGB(A) images are converted to gray (BT.601 luma) before the rule; luma and the rescaling are both
linear, so the order does not matter.  Mixed bit depths in one cohort are allowed (each image follows
its own declared depth); the cohort summary counts the images under each rule
(:attr:`splkit.cohort.Cohort.image_checks`, column ``intensity``).
"""

from __future__ import annotations

import numpy as np

from splkit.cohort.fileformat import ImageInfo, ImageReadError

#: Bump when the rule changes (caches of features computed from read images should include it).
INTENSITY_RULE_VERSION = 1
#: The top of the grey-level scale every image is mapped to.
GREY_MAX = 255.0

#: Rule labels (what chapter 1 counts).
AS_IS_8BIT = "8-bit, as is"
AS_IS_RANGE = "signed or float values within 0-255, as is"


def declared_bits(info: ImageInfo) -> int | None:
    """The declared bit depth of unsigned integer samples (``None``: signed, float or unknown)."""
    if info.bits is not None:
        return int(info.bits)
    if info.dtype and info.dtype.startswith("uint"):
        return int(info.dtype[4:])
    if info.dtype == "bool":
        return 8
    return None


def rule_for(info: ImageInfo) -> str:
    """The label of the rule an image follows, from its header alone (no decoding).

    ``"8-bit, as is"``, ``"16-bit, rescaled x 255/65535"``, ``"12-bit, rescaled x 255/4095"`` or
    ``"signed or float values within 0-255, as is"``.
    """
    bits = declared_bits(info)
    if bits is None:
        return AS_IS_RANGE
    if bits <= 8:
        return AS_IS_8BIT
    return f"{bits}-bit, rescaled x 255/{2**bits - 1}"


def scale_for(info: ImageInfo) -> float | None:
    """The factor of rule 2 (``None`` for rules 1 and 3: values are used as they are)."""
    bits = declared_bits(info)
    if bits is None or bits <= 8:
        return None
    return GREY_MAX / float(2**bits - 1)


def to_grey_levels(gray: np.ndarray, info: ImageInfo) -> np.ndarray:
    """Apply the rule to a 2-D gray ``float32`` array decoded from the file described by ``info``.

    Returns the array itself for 8-bit images (no copy, identical values), a rescaled ``float32``
    array for deeper unsigned images.

    Raises
    ------
    ImageReadError
        For a >8-bit image whose values all lie below 256, and for signed or floating-point values
        outside 0–255 (or not finite).
    """
    bits = declared_bits(info)
    if bits is not None and bits <= 8:
        return gray
    if bits is not None:
        top = float(np.max(gray)) if gray.size else 0.0
        if top <= GREY_MAX:
            raise ImageReadError(
                f"{bits}-bit image uses only grey levels 0-{top:g} of 0-{2**bits - 1}: 8-bit data saved as "
                f"{bits}-bit? Rescaled to 0-255 it would be nearly black; save it as an 8-bit image"
            )
        return (gray * np.float32(scale_for(info))).astype(np.float32, copy=False)
    if not np.all(np.isfinite(gray)):
        raise ImageReadError("image has values that are not finite numbers (NaN or infinity)")
    low, high = (float(np.min(gray)), float(np.max(gray))) if gray.size else (0.0, 0.0)
    if low < 0 or high > GREY_MAX:
        kind = info.dtype or "signed or floating-point"
        raise ImageReadError(
            f"image has grey levels from {low:g} to {high:g} ({kind} samples, no declared range): splkit "
            "needs 0-255 here; export the B-mode image as an 8-bit or 16-bit unsigned image"
        )
    return gray
