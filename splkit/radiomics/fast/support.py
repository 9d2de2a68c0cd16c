"""Which presets the fast engine computes exactly as pyradiomics, and which engine extracts a preset.

:func:`unsupported` reads a preset's content (input geometry, image types with their settings, feature
classes and names, global settings) and lists everything the fast engine does not reproduce; an empty
list means the preset is supported.  :func:`choose_engine` turns the profile's ``radiomics.engine``
(``auto`` | ``fast`` | ``pyradiomics``) into the engine that runs: ``auto`` uses the fast engine only
for a supported preset.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from splkit.radiomics.fast import firstorder, glcm, ngtdm
from splkit.radiomics.fast.filters import IMAGE_TYPES

#: ``radiomics.engine`` values
ENGINES = ("auto", "fast", "pyradiomics")


class UnsupportedPresetError(ValueError):
    """The preset asks for something the fast engine does not compute (use the pyradiomics engine)."""


#: Feature classes and the pyradiomics features each computes (names as ``get<Name>FeatureValue``)
CLASS_FEATURES: dict[str, tuple[str, ...]] = {
    "firstorder": firstorder.FEATURES,
    "glcm": glcm.FEATURES,
    "glrlm": (
        "GrayLevelNonUniformity",
        "GrayLevelNonUniformityNormalized",
        "GrayLevelVariance",
        "HighGrayLevelRunEmphasis",
        "LongRunEmphasis",
        "LongRunHighGrayLevelEmphasis",
        "LongRunLowGrayLevelEmphasis",
        "LowGrayLevelRunEmphasis",
        "RunEntropy",
        "RunLengthNonUniformity",
        "RunLengthNonUniformityNormalized",
        "RunPercentage",
        "RunVariance",
        "ShortRunEmphasis",
        "ShortRunHighGrayLevelEmphasis",
        "ShortRunLowGrayLevelEmphasis",
    ),
    "glszm": (
        "GrayLevelNonUniformity",
        "GrayLevelNonUniformityNormalized",
        "GrayLevelVariance",
        "HighGrayLevelZoneEmphasis",
        "LargeAreaEmphasis",
        "LargeAreaHighGrayLevelEmphasis",
        "LargeAreaLowGrayLevelEmphasis",
        "LowGrayLevelZoneEmphasis",
        "SizeZoneNonUniformity",
        "SizeZoneNonUniformityNormalized",
        "SmallAreaEmphasis",
        "SmallAreaHighGrayLevelEmphasis",
        "SmallAreaLowGrayLevelEmphasis",
        "ZoneEntropy",
        "ZonePercentage",
        "ZoneVariance",
    ),
    "gldm": (
        "DependenceEntropy",
        "DependenceNonUniformity",
        "DependenceNonUniformityNormalized",
        "DependenceVariance",
        "GrayLevelNonUniformity",
        "GrayLevelVariance",
        "HighGrayLevelEmphasis",
        "LargeDependenceEmphasis",
        "LargeDependenceHighGrayLevelEmphasis",
        "LargeDependenceLowGrayLevelEmphasis",
        "LowGrayLevelEmphasis",
        "SmallDependenceEmphasis",
        "SmallDependenceHighGrayLevelEmphasis",
        "SmallDependenceLowGrayLevelEmphasis",
    ),
    "ngtdm": ngtdm.FEATURES,
}

#: Settings the fast engine honours (any value) ...
FREE_SETTINGS = {
    "label",
    "binWidth",
    "binCount",
    "minimumROIDimensions",
    "minimumROISize",
    "distances",
    "symmetricalGLCM",
    "gldm_a",
    "voxelArrayShift",
    "geometryTolerance",
    "force2Ddimension",
    "padDistance",
    "interpolator",
    "normalizeScale",
    "correctMask",  # image and mask share their geometry in splkit (extract.prepare_inputs)
    "resegmentMode",
    "resegmentShape",
    "label_channel",
    "kernelRadius",
    "maskedKernel",
    "initValue",
    "voxelBatch",
}
#: ... and those it honours only at pyradiomics' default value (None, or any false value for False)
DEFAULT_ONLY = {
    "force2D": False,
    "normalize": False,
    "removeOutliers": None,
    "resampledPixelSpacing": None,
    "resegmentRange": None,
    "weightingNorm": None,
    "additionalInfo": False,
    "preCrop": False,
}
#: Per-image-type settings of the filters
FILTER_SETTINGS = {
    "LoG": {"sigma"},
    "Wavelet": {"wavelet", "level", "start_level"},
    "Gradient": {"gradientUseSpacing"},
    "LBP2D": {"lbp2DRadius", "lbp2DSamples", "lbp2DMethod"},
}


def _is_default(value: Any, default: Any) -> bool:
    return value is None if default is None else not value


def _setting_problems(where: str, settings: Mapping[str, Any], image_type: str | None) -> list[str]:
    problems = []
    allowed = FREE_SETTINGS | set(DEFAULT_ONLY) | FILTER_SETTINGS.get(image_type or "", set())
    if image_type is None:  # global settings may carry any filter's settings
        allowed |= set().union(*FILTER_SETTINGS.values())
    for key, value in settings.items():
        if key not in allowed:
            problems.append(f"{where}: setting {key!r}")
        elif key in DEFAULT_ONLY and not _is_default(value, DEFAULT_ONLY[key]):
            problems.append(f"{where}: {key}={value!r} (only {DEFAULT_ONLY[key]!r})")
    if image_type in (None, "Wavelet"):
        if settings.get("level", 1) != 1 or settings.get("start_level", 0) != 0:
            problems.append(f"{where}: wavelet level/start_level other than 1/0")
    return problems


def unsupported(params: Mapping[str, Any], input_kind: str = "2d") -> list[str]:
    """What the fast engine does not compute in these pyradiomics parameters (empty: all of it)."""
    problems = []
    if input_kind != "2d":
        problems.append(f"input {input_kind!r} (the fast engine takes true 2-D images only)")
    classes = params.get("featureClass") or {}
    if not classes:
        problems.append("no featureClass (pyradiomics would enable every class, 3-D shape included)")
    for name, features in classes.items():
        if name == "shape2D":
            continue
        if name not in CLASS_FEATURES:
            problems.append(f"feature class {name!r}")
            continue
        unknown = sorted(set(features or ()) - set(CLASS_FEATURES[name]))
        if unknown:
            problems.append(f"{name} features {', '.join(unknown)}")
    for image_type, custom in (params.get("imageType") or {}).items():
        if image_type not in IMAGE_TYPES:
            problems.append(f"image type {image_type!r}")
        else:
            problems += _setting_problems(f"imageType {image_type}", custom or {}, image_type)
    problems += _setting_problems("setting", params.get("setting") or {}, None)
    if params.get("voxelSetting"):
        problems.append("voxelSetting (voxel-based extraction)")
    return problems


def choose_engine(params: Mapping[str, Any], input_kind: str, engine: str = "auto", name: str = "") -> str:
    """The engine that extracts a preset (its pyradiomics ``params`` and ``input_kind``): ``fast`` or
    ``pyradiomics``.

    ``auto``: ``fast`` when :func:`unsupported` finds nothing, else ``pyradiomics``.  ``fast`` for a
    preset it does not support raises :class:`UnsupportedPresetError` naming what is unsupported.
    """
    if engine not in ENGINES:
        raise ValueError(f"radiomics.engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if engine == "pyradiomics":
        return engine
    problems = unsupported(params, input_kind)
    if problems and engine == "fast":
        raise UnsupportedPresetError(
            f"radiomics.engine: fast cannot extract preset {name!r}: it does not support "
            + "; ".join(problems)
            + ". Use radiomics.engine: pyradiomics (or auto)."
        )
    return "pyradiomics" if problems else "fast"
