"""The fast radiomics engine: pyradiomics' ``RadiomicsFeatureExtractor.execute``, same names, same values.

:class:`FastExtractor` follows pyradiomics' steps for a true 2-D image (``featureextractor.execute``):
the mask checks of ``imageoperations.getMask``/``checkMask`` (same errors), shape2D on the bounding box
(pyradiomics' own class), then for every image type in pyradiomics' order the filtered image on the
bounding box only (:mod:`splkit.radiomics.fast.filters`), binned once (:mod:`~.discretise`) and shared
by all feature classes, whose features are computed from their matrices in one pass per class
(:mod:`~.firstorder`, :mod:`~.glcm`, :mod:`~.texture`, :mod:`~.ngtdm`).  Feature names and their order
are pyradiomics'; as in pyradiomics a feature whose formula fails is NaN.
"""

from __future__ import annotations

import collections
from collections.abc import Mapping
from functools import cache
from typing import Any

import numpy as np
import SimpleITK as sitk

from splkit.radiomics.fast.discretise import discretise
from splkit.radiomics.fast.filters import Image2D, image_types
from splkit.radiomics.fast.firstorder import FirstOrder
from splkit.radiomics.fast.glcm import GLCM
from splkit.radiomics.fast.ngtdm import NGTDM
from splkit.radiomics.fast.support import UnsupportedPresetError, unsupported
from splkit.radiomics.fast.texture import GLDM, GLRLM, GLSZM

#: pyradiomics' ``RadiomicsFeatureExtractor._getDefaultSettings``
DEFAULT_SETTINGS = {
    "minimumROIDimensions": 2,
    "minimumROISize": None,
    "normalize": False,
    "normalizeScale": 1,
    "removeOutliers": None,
    "resampledPixelSpacing": None,
    "interpolator": "sitkBSpline",
    "preCrop": False,
    "padDistance": 5,
    "distances": [1],
    "force2D": False,
    "force2Ddimension": 0,
    "resegmentRange": None,
    "label": 1,
    "additionalInfo": True,
}
#: Image types whose ROI usually holds few distinct values (pointwise filters of an 8-bit image, LBP codes)
FEW_VALUES = {"original", "square", "squareroot", "logarithm", "exponential", "lbp-2D"}
TEXTURE_CLASSES = {"glcm": GLCM, "glrlm": GLRLM, "glszm": GLSZM, "gldm": GLDM, "ngtdm": NGTDM}


@cache
def default_features(feature_class: str) -> tuple[str, ...]:
    """The features pyradiomics enables for a class given without a list (non-deprecated, its order)."""
    from radiomics import getFeatureClasses

    names = getFeatureClasses()[feature_class].getFeatureNames()
    return tuple(name for name, deprecated in names.items() if not deprecated)


def check_mask(mask: np.ndarray, settings: Mapping[str, Any]) -> tuple[tuple[int, int, int, int], int]:
    """pyradiomics' ``getMask`` and ``checkMask`` on a 2-D label array: the ROI box and pixel count.

    Raises ``ValueError`` with pyradiomics' messages.
    """
    label = int(settings.get("label", 1))
    if mask.dtype.kind == "u" and mask.dtype.itemsize <= 2:  # numpy.unique's values, without a sort
        labels = np.flatnonzero(np.bincount(mask.ravel()))
    else:
        labels = np.unique(mask)
    if len(labels) == 1 and labels[0] == 0:
        raise ValueError("No labels found in this mask (i.e. nothing is segmented)!")
    if label not in labels:
        raise ValueError(f"Label ({label:g}) not present in mask. Choose from {labels[labels != 0]}")
    roi = mask == label
    rows, cols = np.flatnonzero(roi.any(axis=1)), np.flatnonzero(roi.any(axis=0))
    box = (int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1)
    ndims = int(box[1] - box[0] > 1) + int(box[3] - box[2] > 1)
    min_dims = settings.get("minimumROIDimensions", 2)
    if ndims == 0:
        raise ValueError("mask only contains 1 segmented voxel! Cannot extract features for a single voxel.")
    if ndims < min_dims:
        raise ValueError(
            f"mask has too few dimensions (number of dimensions {ndims:d}, minimum required {min_dims:d})"
        )
    count = int(roi.sum())
    min_size = settings.get("minimumROISize")
    if min_size is not None and count <= min_size:
        raise ValueError(f"Size of the ROI is too small (minimum size: {min_size:g}, ROI size: {count:g}")
    return box, count


class FastExtractor:
    """pyradiomics' extraction for a supported preset (:func:`~.support.unsupported` is empty).

    Parameters
    ----------
    params
        pyradiomics parameters (``featureClass``, ``imageType``, ``setting``), as in a preset.
    input_kind
        The preset's ``splkit.input``; only ``2d`` is supported.
    """

    def __init__(self, params: Mapping[str, Any], input_kind: str = "2d") -> None:
        problems = unsupported(params, input_kind)
        if problems:
            raise UnsupportedPresetError(
                "the fast radiomics engine does not support "
                + "; ".join(problems)
                + " (use engine: pyradiomics)"
            )
        self.settings = {**DEFAULT_SETTINGS, **(params.get("setting") or {})}
        self.image_types = dict(params.get("imageType") or {"Original": {}})
        classes = params["featureClass"]
        self.features = {
            name: tuple(listed) if listed else default_features(name) for name, listed in classes.items()
        }

    def execute(self, image: sitk.Image, mask: sitk.Image) -> dict[str, float]:
        """Features of a 2-D ``float32`` image and its mask (same geometry), named and ordered as pyradiomics'."""
        if image.GetDimension() != 2 or mask.GetDimension() != 2 or image.GetSize() != mask.GetSize():
            raise ValueError("the fast radiomics engine takes a 2-D image and a mask of the same size")
        if image.GetPixelID() != sitk.sitkFloat32:  # pyradiomics' arithmetic follows the pixel type
            raise ValueError(
                "the fast radiomics engine takes a float32 image (splkit.radiomics.extract.prepare_inputs)"
            )
        labels = sitk.GetArrayFromImage(mask)
        box, _ = check_mask(labels, self.settings)
        y0, y1, x0, x1 = box
        roi_mask = labels[y0:y1, x0:x1] == int(self.settings.get("label", 1))
        array = sitk.GetArrayFromImage(image)
        values = collections.OrderedDict()
        if "shape2D" in self.features:
            values.update(self._shape(array, labels, image.GetSpacing(), box))
        source = Image2D(array, tuple(image.GetSpacing()), box)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for box_values, type_name, settings in image_types(source, self.image_types, self.settings):
                values.update(self._image_type(box_values, roi_mask, type_name, settings, image.GetSpacing()))
        return values

    def _shape(self, image: np.ndarray, labels: np.ndarray, spacing, box) -> dict[str, float]:
        """pyradiomics' own shape2D class on the bounding box (``computeShape``)."""
        from radiomics.shape2D import RadiomicsShape2D

        y0, y1, x0, x1 = box
        cropped = []
        for array in (image[y0:y1, x0:x1], labels[y0:y1, x0:x1].astype(np.uint32)):
            part = sitk.GetImageFromArray(np.ascontiguousarray(array))
            part.SetSpacing(spacing)
            cropped.append(part)
        shape = RadiomicsShape2D(*cropped, **self.settings)
        for name in self.features["shape2D"]:
            shape.enableFeatureByName(name)
        return {f"original_shape2D_{k}": float(np.squeeze(v)) for k, v in shape.execute().items()}

    def _image_type(self, box_values, roi_mask, type_name, settings, spacing) -> dict[str, float]:
        roi = discretise(box_values, roi_mask, settings)
        out = {}
        for class_name, names in self.features.items():
            if class_name.startswith("shape"):
                continue
            if class_name == "firstorder":
                calculator = FirstOrder(
                    roi, spacing, settings.get("voxelArrayShift", 0), few_values=type_name in FEW_VALUES
                )
            else:
                calculator = TEXTURE_CLASSES[class_name](roi, settings)
            for name in names:
                try:
                    value = float(np.squeeze(calculator.compute(name)))
                except Exception:  # noqa: BLE001 - pyradiomics logs the failure and returns NaN
                    value = np.nan
                out[f"{type_name}_{class_name}_{name}"] = value
        return out


def make_extractor(params: Mapping[str, Any], input_kind: str = "2d", engine: str = "fast"):
    """A feature extractor for pyradiomics parameters: :class:`FastExtractor` (``engine="fast"``) or
    pyradiomics' ``RadiomicsFeatureExtractor`` (``"pyradiomics"``), pyradiomics' logging quietened."""
    import logging

    import radiomics
    from radiomics.featureextractor import RadiomicsFeatureExtractor

    radiomics.setVerbosity(logging.ERROR)
    if engine == "fast":
        return FastExtractor(params, input_kind)
    if engine == "pyradiomics":
        return RadiomicsFeatureExtractor(params)
    raise ValueError(f"unknown radiomics engine {engine!r} (fast or pyradiomics)")
