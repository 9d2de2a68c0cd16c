"""One pixel spacing for every image before radiomics: the rule, and the resampling itself.

Texture features depend on the pixel grid: a GLCM at distance 1 looks 0.25 mm away on one scanner and
0.30 mm on another, and the LoG and wavelet filters see different scales.  A cohort with mixed spacings
is therefore resampled to one isotropic spacing before extraction (IBSI, Zwanenburg et al., Radiology
2020;295:328-338, section 2.4 "interpolation"):

- the image by linear interpolation (no overshoot of the grey levels, unlike B-splines);
- the mask by linear interpolation of its 0/1 values, then kept where >= 0.5 (IBSI's recommendation; a
  nearest-neighbour mask shifts the border by up to half a pixel);
- the new grid covers the same physical extent, centred on the old one.

``radiomics.resample_mm`` in the profile: ``auto`` (default) resamples only when the spacings differ,
to the median spacing of the training patients (so validation and external patients never choose it);
a number resamples every image to that spacing; ``none`` never resamples (the chapter then warns when
the spacings differ).  Resampling a speckle pattern interpolates the very texture it measures, which is
why a single-spacing cohort (the simulated default) is left alone.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import SimpleITK as sitk

#: Relative difference below which two spacings count as equal.
TOLERANCE = 1e-4
#: Bump when :func:`resample_pair` changes what it returns (part of the radiomics cache key).
RESAMPLE_RULE_VERSION = 1


def isotropic(spacing: float | tuple[float, float]) -> float:
    """A patient's spacing as one number (the mean of ``(x, y)``)."""
    return float(np.mean(spacing))


def target_spacing(
    setting: Any, spacings: Mapping[str, float | tuple[float, float]], training: Iterable[str]
) -> float | None:
    """The spacing (mm) every image is resampled to, or ``None`` for no resampling.

    Parameters
    ----------
    setting
        ``radiomics.resample_mm``: ``"auto"``, ``"none"``/``None`` or a positive number.
    spacings
        Every patient's spacing (pseudonym -> mm).
    training
        The training patients (the median is theirs).
    """
    if setting is None or (isinstance(setting, str) and setting.lower() == "none"):
        return None
    if not (isinstance(setting, str) and setting.lower() == "auto"):
        value = float(setting)
        if not value > 0:
            raise ValueError(
                f"radiomics.resample_mm must be auto, none or a positive number, got {setting!r}"
            )
        return value
    values = {p: s for p, s in spacings.items()}
    if not values or not spacings_differ(values.values()):
        return None
    train = [isotropic(values[p]) for p in training if p in values]
    if not train:
        raise ValueError("radiomics.resample_mm: auto needs training patients with a known spacing")
    return float(np.median(train))


def spacings_differ(spacings: Iterable[float | tuple[float, float]]) -> bool:
    """Whether any two spacings (or the two axes of one) differ by more than :data:`TOLERANCE`."""
    flat = [float(v) for s in spacings for v in np.atleast_1d(s)]
    return bool(flat) and (max(flat) - min(flat)) > TOLERANCE * max(flat)


def _grid(image: sitk.Image, spacing_mm: float) -> tuple[list[int], list[float]]:
    """Size and origin of the ``spacing_mm`` grid over the same physical extent, centred on the old grid."""
    old_spacing, old_size = image.GetSpacing(), image.GetSize()
    size = [max(int(round(n * s / spacing_mm)), 1) for n, s in zip(old_size, old_spacing, strict=True)]
    origin = [
        o + ((n - 1) * s - (m - 1) * spacing_mm) / 2
        for o, n, s, m in zip(image.GetOrigin(), old_size, old_spacing, size, strict=True)
    ]
    return size, origin


def resample_pair(image: sitk.Image, mask: sitk.Image, spacing_mm: float) -> tuple[sitk.Image, sitk.Image]:
    """``image`` (linear) and ``mask`` (linear, then >= 0.5) on an isotropic ``spacing_mm`` grid.

    Unchanged (the same objects) when the image already has that spacing.
    """
    if all(math.isclose(s, spacing_mm, rel_tol=TOLERANCE) for s in image.GetSpacing()):
        return image, mask
    size, origin = _grid(image, spacing_mm)
    resampler = sitk.ResampleImageFilter()
    resampler.SetSize(size)
    resampler.SetOutputSpacing((spacing_mm,) * image.GetDimension())
    resampler.SetOutputOrigin(origin)
    resampler.SetOutputDirection(image.GetDirection())
    resampler.SetInterpolator(sitk.sitkLinear)
    resampler.SetDefaultPixelValue(0.0)
    resampled = resampler.Execute(sitk.Cast(image, sitk.sitkFloat32))
    mask_input = sitk.Cast(mask == 1, sitk.sitkFloat32)
    mask_input.CopyInformation(image)
    fraction = resampler.Execute(mask_input)
    new_mask = sitk.Cast(fraction >= 0.5, sitk.sitkUInt8)
    new_mask.CopyInformation(resampled)
    return resampled, new_mask


def summary(
    rule: Any, target: float | None, spacings: Iterable[float | tuple[float, float]]
) -> dict[str, Any]:
    """``radiomics.resampling`` of ``results.json``: the rule, the spacing every image was resampled to
    (``None``: none) and the range of the native spacings (mm)."""
    native = [isotropic(s) for s in spacings]
    return {
        "rule": rule,
        "target_mm": target,
        "native_mm": {"min": min(native), "median": float(np.median(native)), "max": max(native)},
    }


def sentence(done: Mapping[str, Any] | None) -> str:
    """Markdown for chapter 3 from :func:`summary`: whether, and to what spacing, images were resampled."""
    if not done:
        return ""
    native, target, rule = done["native_mm"], done["target_mm"], done["rule"]
    same = math.isclose(native["min"], native["max"], rel_tol=TOLERANCE)
    span = f"{native['min']:g} mm" if same else f"{native['min']:g} to {native['max']:g} mm"
    if target is None:
        if same:
            return f"Every image has the same pixel spacing ({span}): no resampling."
        return (
            f"The native pixel spacings range over {span} and were **not** resampled "
            f"(`radiomics.resample_mm: {rule}`): texture features are not strictly comparable across spacings."
        )
    why = "the training patients' median, " if str(rule) == "auto" else ""
    return (
        f"The native pixel spacings range over {span}: every image and mask was **resampled to {target:g} mm** "
        f"({why}`radiomics.resample_mm: {rule}`) before extraction, the image by linear interpolation and the "
        "mask by linear interpolation kept at >= 0.5 (IBSI, Zwanenburg et al. 2020), so every texture matrix "
        "looks at the same physical distances."
    )
