"""Radiomics: pyradiomics presets, parallel cached extraction, inter-reader ICC.

See :mod:`splkit.radiomics.presets`, :mod:`splkit.radiomics.extract` and :mod:`splkit.radiomics.icc`.
"""

from splkit.radiomics.extract import (
    ExtractionError,
    ExtractionResult,
    FeatureSetError,
    ImageTask,
    count_by_image_type,
    extract_cohort,
    extract_image,
    feature_columns,
    image_type_of,
    pyradiomics_version,
)
from splkit.radiomics.icc import icc
from splkit.radiomics.presets import Preset, PresetError, available_presets, load_preset

__all__ = [
    "ExtractionError",
    "ExtractionResult",
    "FeatureSetError",
    "ImageTask",
    "Preset",
    "PresetError",
    "available_presets",
    "count_by_image_type",
    "extract_cohort",
    "extract_image",
    "feature_columns",
    "icc",
    "image_type_of",
    "load_preset",
    "pyradiomics_version",
]
