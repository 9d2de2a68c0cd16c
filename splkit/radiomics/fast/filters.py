"""pyradiomics' image types (``imageoperations.get<Type>Image``) on the ROI's bounding box only.

pyradiomics filters the whole image, then crops every filtered image to the mask's bounding box
(``cropToTumorMask``, no padding); only the box's values reach the features.  Here each filter computes the
box's values only, bit for bit as pyradiomics would:

- pointwise filters (Square, SquareRoot, Logarithm, Exponential) take their scaling from the whole image
  (its maximum absolute value) and apply pyradiomics' float64 arithmetic to the box;
- local filters (Gradient: a 3-pixel derivative; LBP2D: bilinear samples at ``radius``; the stationary
  wavelet transform: ``dec_len`` taps per axis) run on the box plus a margin, clipped at the image border,
  where the border conditions are then the same as on the whole image;
- LoG: :mod:`splkit.radiomics.fast.gaussian` (the recursive filters need whole lines).

``tests/radiomics/test_fast_filters.py`` compares every image type with pyradiomics' on the box.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import SimpleITK as sitk

from splkit.radiomics.fast.gaussian import log_box

#: Image types the fast engine computes (pyradiomics' names)
IMAGE_TYPES = (
    "Original",
    "LoG",
    "Wavelet",
    "Square",
    "SquareRoot",
    "Logarithm",
    "Exponential",
    "Gradient",
    "LBP2D",
)


@dataclass
class Image2D:
    """A float32 2-D image (numpy rows = y), its SimpleITK spacing ``(x, y)`` and the ROI box.

    ``box`` is ``(y0, y1, x0, x1)``, upper bounds exclusive.
    """

    array: np.ndarray
    spacing: tuple[float, float]
    box: tuple[int, int, int, int]
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def shape(self) -> tuple[int, int]:
        return self.array.shape

    def crop(self, array: np.ndarray | None = None) -> np.ndarray:
        y0, y1, x0, x1 = self.box
        return (self.array if array is None else array)[y0:y1, x0:x1]

    def window(self, margin: int) -> tuple[tuple[int, int, int, int], tuple[int, int, int, int]]:
        """The box grown by ``margin`` (clipped to the image) and the box inside that window."""
        y0, y1, x0, x1 = self.box
        h, w = self.shape
        wy0, wy1, wx0, wx1 = (
            max(y0 - margin, 0),
            min(y1 + margin, h),
            max(x0 - margin, 0),
            min(x1 + margin, w),
        )
        return (wy0, wy1, wx0, wx1), (y0 - wy0, y1 - wy0, x0 - wx0, x1 - wx0)

    def max_abs(self) -> np.float64:
        """``numpy.max(numpy.abs(im))`` of the whole image in float64, as pyradiomics' pointwise filters."""
        if "max_abs" not in self._cache:
            self._cache["max_abs"] = np.float64(np.max(np.abs(self.array)))
        return self._cache["max_abs"]

    def transposed(self) -> np.ndarray:
        if "transposed" not in self._cache:
            self._cache["transposed"] = np.ascontiguousarray(self.array.T)
        return self._cache["transposed"]


def _cut(array: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    y0, y1, x0, x1 = box
    return array[y0:y1, x0:x1]


def original(image: Image2D, **kwargs) -> Iterator[tuple[np.ndarray, str]]:
    yield image.crop(), "original"


def laplacian_of_gaussian(image: Image2D, **kwargs) -> Iterator[tuple[np.ndarray, str]]:
    """``getLoGImage``: one image per sigma (mm), skipped where pyradiomics skips it."""
    size = np.array(image.shape[::-1])
    spacing = np.array(image.spacing)
    if np.min(size) < 4:
        return
    for sigma in kwargs.get("sigma", []):
        if sigma > 0.0 and np.all(size >= np.ceil(sigma / spacing) + 1):
            name = "log-sigma-{}-mm-3D".format(str(sigma).replace(".", "-"))
            yield log_box(image.array, image.spacing, sigma, image.box, image.transposed()), name


def _wavelet_axis(lo: int, hi: int, n: int, margin: int) -> tuple[int, int, bool]:
    """The window of one axis for the periodic SWT: ``(start, stop, pad)``.

    Inside the image: the box plus ``margin``, even length.  Otherwise the whole axis, padded by one
    wrapped sample when odd, as pyradiomics' ``_swt3`` does.
    """
    start, stop = lo - margin, hi + margin
    if start >= 0 and stop <= n:
        if (stop - start) % 2:
            if stop < n:
                stop += 1
            elif start > 0:
                start -= 1
            else:
                return 0, n, n % 2 == 1
        return start, stop, False
    return 0, n, n % 2 == 1


def wavelet(image: Image2D, **kwargs) -> Iterator[tuple[np.ndarray, str]]:
    """``getWaveletImage`` (one level, 2-D): the detail sub-bands LH, HL, HH, then the approximation LL.

    ``pywt.swtn`` in periodisation mode sums ``dec_len`` taps per output sample in a fixed order whatever
    the signal length, so a window reaching ``dec_len`` beyond the box gives the box's values exactly.
    """
    import pywt

    name = kwargs.get("wavelet", "coif1")
    filters = name if isinstance(name, pywt.Wavelet) else pywt.Wavelet(name)
    margin = int(filters.dec_len)
    y0, y1, x0, x1 = image.box
    h, w = image.shape
    ys, ye, ypad = _wavelet_axis(y0, y1, h, margin)
    xs, xe, xpad = _wavelet_axis(x0, x1, w, margin)
    data = image.array[ys:ye, xs:xe]
    if ypad or xpad:
        data = np.pad(data, ((0, int(ypad)), (0, int(xpad))), "wrap")
    decomposition = pywt.swtn(data, filters, level=1, start_level=0, axes=(1, 0))[0]
    inner = (y0 - ys, y1 - ys, x0 - xs, x1 - xs)
    for key, band in decomposition.items():
        if key != "aa":
            yield _cut(band, inner), "wavelet-" + key.replace("a", "L").replace("d", "H")
    yield _cut(decomposition["aa"], inner), "wavelet-LL"


def square(image: Image2D, **kwargs) -> Iterator[tuple[np.ndarray, str]]:
    """``getSquareImage``: ``(c x)^2``, ``c = 1 / sqrt(max|x|)`` over the whole image."""
    coeff = 1 / np.sqrt(image.max_abs())
    yield (coeff * image.crop().astype("float64")) ** 2, "square"


def square_root(image: Image2D, **kwargs) -> Iterator[tuple[np.ndarray, str]]:
    """``getSquareRootImage``: ``sign(x) sqrt(|x| c)``, ``c = max|x|`` over the whole image."""
    coeff = image.max_abs()
    im = image.crop().astype("float64")
    im[im > 0] = np.sqrt(im[im > 0] * coeff)
    im[im < 0] = -np.sqrt(-im[im < 0] * coeff)
    yield im, "squareroot"


def _signed_log(im: np.ndarray) -> np.ndarray:
    im[im > 0] = np.log(im[im > 0] + 1)
    im[im < 0] = -np.log(-(im[im < 0] - 1))
    return im


def logarithm(image: Image2D, **kwargs) -> Iterator[tuple[np.ndarray, str]]:
    """``getLogarithmImage``: ``sign(x) log(|x| + 1)`` scaled by ``max|x| / max|log image|``.

    ``|log image|`` grows with ``|x|``, so its maximum is taken over the pixels within 1e-6 (relative) of
    ``max|x|`` only: far more than any rounding of ``log`` could reorder.
    """
    im_max = image.max_abs()
    whole = np.abs(image.array)
    candidates = _signed_log(image.array[whole >= np.float32(im_max * (1 - 1e-6))].astype("float64"))
    scale = im_max / np.max(np.abs(candidates))
    yield _signed_log(image.crop().astype("float64")) * scale, "logarithm"


def exponential(image: Image2D, **kwargs) -> Iterator[tuple[np.ndarray, str]]:
    """``getExponentialImage``: ``exp(c x)``, ``c = log(max|x|) / max|x|`` over the whole image."""
    im_max = image.max_abs()
    coeff = np.log(im_max) / im_max
    yield np.exp(coeff * image.crop().astype("float64")), "exponential"


def gradient(image: Image2D, **kwargs) -> Iterator[tuple[np.ndarray, str]]:
    """``getGradientImage``: SimpleITK's gradient magnitude (central differences) on the box + 1 pixel."""
    window, inner = image.window(1)
    part = sitk.GetImageFromArray(np.ascontiguousarray(_cut(image.array, window)))
    part.SetSpacing(image.spacing)
    magnitude = sitk.GradientMagnitudeImageFilter()
    magnitude.SetUseImageSpacing(kwargs.get("gradientUseSpacing", True))
    magnitude.SetNumberOfThreads(1)
    yield _cut(sitk.GetArrayFromImage(magnitude.Execute(part)), inner), "gradient"


def lbp_2d(image: Image2D, **kwargs) -> Iterator[tuple[np.ndarray, str]]:
    """``getLBP2DImage``: scikit-image's local binary pattern on the box + ``ceil(radius) + 1`` pixels."""
    from skimage.feature import local_binary_pattern

    radius = kwargs.get("lbp2DRadius", 1)
    window, inner = image.window(int(math.ceil(radius)) + 1)
    codes = local_binary_pattern(
        _cut(image.array, window),
        P=kwargs.get("lbp2DSamples", 8),
        R=radius,
        method=kwargs.get("lbp2DMethod", "uniform"),
    )
    yield _cut(codes, inner), "lbp-2D"


GENERATORS = {
    "Original": original,
    "LoG": laplacian_of_gaussian,
    "Wavelet": wavelet,
    "Square": square,
    "SquareRoot": square_root,
    "Logarithm": logarithm,
    "Exponential": exponential,
    "Gradient": gradient,
    "LBP2D": lbp_2d,
}


def image_types(
    image: Image2D, enabled: Mapping[str, Mapping[str, Any]], settings: Mapping[str, Any]
) -> Iterator[tuple[np.ndarray, str, dict[str, Any]]]:
    """``(values on the box, image type name, settings)`` in pyradiomics' order, as its ``execute`` chains
    the ``get<Type>Image`` generators (global settings updated by each type's own)."""
    for image_type, custom in enabled.items():
        kwargs = {**settings, **(custom or {})}
        for values, name in GENERATORS[image_type](image, **kwargs):
            yield values, name, kwargs
