"""Checks of each patient's image and masks: readability, masks, spacing, the radiomics preset, the ROI.

:func:`check_patient` is called once per patient by :func:`splkit.cohort.load_cohort`.  Masks are
always decoded (their values matter); an image is checked from its header, signature and end marker,
and decoded only with ``full=True`` (then corrupt pixel data, the intensity rule's refusals and uniform
lesions are found too).  Problems are errors; warnings (implausible spacing, a uniform lesion) are
reported and counted but do not stop the analysis.

Radiomics preset constraints (pyradiomics ``imageoperations.checkMask`` and ``getLoGImage``, checked
here so that notebook 03 does not stop on one patient per rerun):

- ``minimumROISize`` N: the lesion needs **more than** N pixels (pyradiomics fails when size <= N);
- ``minimumROIDimensions`` d (default 2): the lesion's bounding box must extend over d axes;
- LoG sigmas (mm): the image needs at least ``ceil(sigma / spacing) + 1`` pixels along each axis
  (and 4), else pyradiomics skips the filter and the extraction's feature-count check stops the run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from splkit.cohort import imaging, intensity
from splkit.cohort.validation import Problem

#: Plausible pixel spacing of a B-mode ultrasound image, in mm per pixel; outside it is a warning.
PLAUSIBLE_SPACING_MM = (0.01, 2.0)


@dataclass(frozen=True)
class RoiRules:
    """What a radiomics preset demands of each lesion and image (see the module docstring)."""

    preset: str
    minimum_size: int | None = None
    minimum_dimensions: int = 2
    log_sigmas: tuple[float, ...] = ()


def roi_rules(preset: Any) -> RoiRules | None:
    """The constraints of a radiomics preset: a :class:`splkit.radiomics.presets.Preset`, a preset name
    or YAML path (loaded with :func:`splkit.radiomics.presets.load_preset`), or ``None`` (no checks)."""
    if preset is None:
        return None
    if isinstance(preset, RoiRules):
        return preset
    if isinstance(preset, (str, Path)):
        from splkit.radiomics.presets import load_preset

        preset = load_preset(preset)
    params: Mapping[str, Any] = getattr(preset, "params", preset)
    meta: Mapping[str, Any] = getattr(preset, "meta", {}) or {}
    setting = params.get("setting") or {}
    log = (
        (params.get("imageType") or {}).get("LoG", None) if "LoG" in (params.get("imageType") or {}) else None
    )
    sigmas: tuple[float, ...] = ()
    if log is not None and meta.get("input", "2d") == "2d":  # one-slice volumes never get LoG (size 1 < 4)
        sigmas = tuple(float(s) for s in ((log or {}).get("sigma") or setting.get("sigma") or []))
    size = setting.get("minimumROISize")
    return RoiRules(
        preset=str(getattr(preset, "name", "custom")),
        minimum_size=int(size) if size is not None else None,
        minimum_dimensions=int(setting.get("minimumROIDimensions", 2)),
        log_sigmas=sigmas,
    )


def roi_problems(mask: np.ndarray, rules: RoiRules) -> list[tuple[str, str]]:
    """``(message, group)`` for each preset constraint a {0, 1} mask breaks."""
    found = []
    rows, cols = np.nonzero(mask)
    n = int(rows.size)
    if n == 0:
        return found
    height, width = int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)
    dims = int(height > 1) + int(width > 1)
    name = rules.preset
    if dims < rules.minimum_dimensions:
        shape = "a single pixel" if dims == 0 else f"a line ({height} x {width} pixels)"
        found.append(
            (
                f"lesion is {shape}; the radiomics preset '{name}' needs a {rules.minimum_dimensions}-D lesion "
                f"(minimumROIDimensions {rules.minimum_dimensions}): pyradiomics would stop on this patient",
                f"lesion thinner than the radiomics preset '{name}' allows (minimumROIDimensions "
                f"{rules.minimum_dimensions})",
            )
        )
    if rules.minimum_size is not None and n <= rules.minimum_size:
        found.append(
            (
                f"lesion has {n} pixels; the radiomics preset '{name}' needs more than {rules.minimum_size} "
                f"(minimumROISize {rules.minimum_size}): pyradiomics would stop on this patient",
                f"lesion too small for the radiomics preset '{name}' (minimumROISize {rules.minimum_size}: "
                f"more than {rules.minimum_size} pixels needed)",
            )
        )
    return found


def log_problem(
    size: tuple[int, int], spacing: tuple[float, float], rules: RoiRules
) -> tuple[str, str] | None:
    """``(message, group)`` when the image is too small for one of the preset's LoG sigmas."""
    if not rules.log_sigmas:
        return None
    needs = [(s, max(4, *(math.ceil(s / d) + 1 for d in spacing))) for s in rules.log_sigmas if s > 0]
    failing = [(s, need) for s, need in needs if min(size) < need]
    if not failing:
        return None
    sigma, need = max(failing, key=lambda item: item[1])
    return (
        f"image of {size[0]} x {size[1]} pixels at {spacing[0]:g} x {spacing[1]:g} mm is too small for the "
        f"LoG filter of the radiomics preset '{rules.preset}' (sigma {sigma:g} mm needs at least {need} "
        "pixels per side): pyradiomics would skip it and the extraction stop; check the pixel spacing",
        f"image too small for the LoG sigmas of the radiomics preset '{rules.preset}' (check the pixel spacing)",
    )


def spacing_warning(spacing: tuple[float, float], source: str) -> tuple[str, str] | None:
    """``(message, group)`` when a spacing lies outside :data:`PLAUSIBLE_SPACING_MM`."""
    low, high = PLAUSIBLE_SPACING_MM
    if all(low <= value <= high for value in spacing):
        return None
    shown = f"{spacing[0]:g}" if spacing[0] == spacing[1] else f"{spacing[0]:g} x {spacing[1]:g}"
    plausible = f"{low:g}-{high:g} mm per pixel"
    return (
        f"pixel spacing {shown} mm (from {source}) is outside the plausible ultrasound range {plausible}: "
        "check the unit (mm per pixel)",
        f"pixel spacing outside the plausible ultrasound range {plausible} (check the unit: mm per pixel)",
    )


@dataclass
class PatientCheck:
    """What :func:`check_patient` found for one patient."""

    spacing: tuple[float, float] | None = None
    source: str | None = None
    intensity: str | None = None
    roi_pixels: int | None = None
    roi_uniform: bool | None = None  # None: the image was not decoded
    size: tuple[int, int] | None = None  # (width, height) in pixels, from the header
    channels: int | None = None  # samples per pixel as stored (decoded: as read; 3/4 = RGB(A), made grey)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def check_patient(
    patient: str,
    root: Path,
    image: Path,
    mask: Path | None,
    mask2: Path | None,
    spacing_mm: float | None,
    default_spacing_mm: float | None,
    full: bool = False,
    rules: RoiRules | None = None,
    spacing_invalid: bool = False,
) -> PatientCheck:
    """Check one patient's files (``spacing_invalid``: the ``spacing_mm`` cell is already reported)."""
    out = PatientCheck()

    def rel(path: Path) -> str:
        return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)

    def add(target: list[Problem], path: Path, message: str, group: str | None = None) -> None:
        target.append(Problem(patient, rel(path), message, group))

    info = gray = None
    try:
        if full:
            array, info = imaging.read_array(image)
            gray = intensity.to_grey_levels(imaging.to_gray(array), info)
        else:
            info = imaging.check_image(image)
    except imaging.ImageReadError as error:
        add(out.problems, image, str(error))
    if info is not None:
        out.intensity = intensity.rule_for(info)
        out.size, out.channels = tuple(info.size), int(info.channels)
        if gray is not None:  # palettes (PNG, DICOM) are decoded to RGB: count what was converted
            out.channels = int(array.shape[2]) if array.ndim == 3 else 1
        if not spacing_invalid:
            try:
                out.spacing, out.source = imaging.choose_spacing(info, spacing_mm, default_spacing_mm)
            except imaging.ImageReadError as error:
                add(out.problems, image, str(error))
    if out.spacing is not None:
        where = "clinical.csv" if out.source == "spacing_mm" else rel(image)
        source = {"spacing_mm": "the spacing_mm column", "default": "the profile default"}.get(
            out.source, f"the {out.source}"
        )
        warning = spacing_warning(out.spacing, source)
        if warning:
            out.warnings.append(Problem(patient, where, *warning))
        too_small = log_problem(info.size, out.spacing, rules) if rules else None
        if too_small:
            add(out.problems, image, *too_small)
    for path, kind in ((mask, "mask"), (mask2, "reader-2 mask")):
        if path is None:
            continue
        mask_info = binary = None
        try:
            array, mask_info = imaging.read_array(path)
            binary = imaging.binarize_mask(array)
        except imaging.ImageReadError as error:
            message = str(error)
            if kind != "mask" and message.startswith("mask"):
                message = "reader-2 " + message
            if imaging.image_format(path) == "jpeg" and "values" in message:
                message += " (JPEG compression changes mask values: save masks as PNG or NRRD)"
            add(out.problems, path, message)
        if mask_info is not None and info is not None and mask_info.size != info.size:
            add(
                out.problems,
                path,
                f"{kind} is {mask_info.size[0]} x {mask_info.size[1]} pixels but the image "
                f"{image.name} is {info.size[0]} x {info.size[1]}",
            )
            continue
        if binary is None:
            continue
        for message, group in roi_problems(binary, rules) if rules else []:
            add(out.problems, path, message if kind == "mask" else f"{kind}: {message}", group)
        if kind == "mask":
            out.roi_pixels = int(binary.sum())
            if gray is not None and gray.shape == binary.shape:
                out.roi_uniform = _uniform_warning(out, patient, rel(image), gray[binary > 0])
    return out


def _uniform_warning(out: PatientCheck, patient: str, file: str, values: np.ndarray) -> bool:
    """Warn when every lesion pixel has the same grey level; return whether it did."""
    if values.size == 0 or values.min() != values.max():
        return False
    out.warnings.append(
        Problem(
            patient,
            file,
            f"all {values.size} lesion pixels have the grey level {float(values[0]):g} (a uniform lesion): "
            "texture features would be pyradiomics placeholders; check the image and the mask",
            "all lesion pixels have one grey level (a uniform lesion: texture features would be placeholders)",
        )
    )
    return True
