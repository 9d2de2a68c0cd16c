"""Tests of splkit.cohort.intensity: the grey-level rule (data/README.md, Grey levels)."""

from __future__ import annotations

import numpy as np
import pytest

from splkit.cohort.fileformat import ImageInfo, ImageReadError
from splkit.cohort.intensity import AS_IS_8BIT, AS_IS_RANGE, rule_for, to_grey_levels


def info(dtype: str, bits: int | None = None) -> ImageInfo:
    return ImageInfo(size=(4, 3), spacing_mm=None, spacing_source=None, format="png", dtype=dtype, bits=bits)


def test_rule_labels_from_the_header():
    assert rule_for(info("uint8", 8)) == AS_IS_8BIT == "8-bit, as is"
    assert rule_for(info("uint16", 16)) == "16-bit, rescaled x 255/65535"
    assert rule_for(info("uint16", 12)) == "12-bit, rescaled x 255/4095"  # DICOM BitsStored 12
    assert rule_for(info("int16")) == rule_for(info("float32")) == AS_IS_RANGE


def test_8_bit_is_returned_untouched():
    gray = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert to_grey_levels(gray, info("uint8", 8)) is gray


def test_deeper_unsigned_images_are_rescaled_by_their_declared_depth():
    gray = np.array([[0, 4095, 2048, 300]], dtype=np.float32)
    np.testing.assert_allclose(to_grey_levels(gray, info("uint16", 12)), gray * 255 / 4095, rtol=1e-6)
    full = np.array([[0, 65535, 257 * 100, 300]], dtype=np.float32)
    np.testing.assert_allclose(to_grey_levels(full, info("uint16", 16))[0, :3], [0, 255, 100], atol=1e-3)
    with pytest.raises(ImageReadError, match=r"^16-bit image uses only grey levels 0-255 of 0-65535"):
        to_grey_levels(np.array([[0, 255]], dtype=np.float32), info("uint16", 16))


def test_signed_and_float_values_must_lie_within_0_255():
    inside = np.array([[0.0, 12.5, 255.0]], dtype=np.float32)
    assert to_grey_levels(inside, info("float32")) is inside
    with pytest.raises(ImageReadError, match=r"grey levels from -1024 to 3071 \(int16 samples"):
        to_grey_levels(np.array([[-1024, 3071]], dtype=np.float32), info("int16"))
    with pytest.raises(ImageReadError, match="not finite"):
        to_grey_levels(np.array([[np.nan, 1]], dtype=np.float32), info("float32"))
