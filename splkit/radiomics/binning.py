"""pyradiomics' fixed-bin-width edges with ``numpy.min``/``numpy.max``, and safe for integer input.

pyradiomics 3.1 ``imageoperations.getBinEdges`` takes the ROI minimum and maximum with Python's builtin
``min``/``max`` (an element-by-element loop) and computes the top edge as ``max + 2 * binWidth`` in the
array's dtype; under NumPy 2 a ``uint8`` ROI with maximum >= 206 and bin width 25 wraps around.
:func:`numpy_bin_edges` swaps in :func:`numpy_bin_edges_function` while splkit extracts: identical
edges on float input (tested against the original), integers promoted to float64.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np


def numpy_bin_edges_function(original):
    """pyradiomics' ``getBinEdges`` with ``numpy.min``/``numpy.max`` (and integer input promoted)."""

    def getBinEdges(parameterValues, **kwargs):  # noqa: N802 (pyradiomics' name)
        values = np.asarray(parameterValues)
        if kwargs.get("binCount") is not None or values.size == 0:
            return original(parameterValues, **kwargs)
        return fixed_width_edges(values, kwargs.get("binWidth", 25))

    getBinEdges.splkit_patched = True
    return getBinEdges


def fixed_width_edges(values, bin_width=25):
    """The fixed-bin-width edges of :func:`numpy_bin_edges_function` for a non-empty array of values."""
    values = np.asarray(values)
    if values.dtype.kind in "iub":  # promote: max + 2 * binWidth must not wrap around
        values = values.astype(np.float64)
    return _bin_edges(values.min(), values.max(), bin_width)


def _bin_edges(minimum, maximum, bin_width):
    """The fixed-bin-width branch of pyradiomics 3.1 ``getBinEdges``, verbatim apart from min/max."""
    low_bound = minimum - (minimum % bin_width)
    high_bound = maximum + 2 * bin_width
    edges = np.arange(low_bound, high_bound, bin_width)
    if len(edges) == 1:  # flat region: one bin, as pyradiomics does
        edges = [edges[0] - 0.5, edges[0] + 0.5]
    return edges


@contextlib.contextmanager
def numpy_bin_edges() -> Iterator[None]:
    """Temporarily use :func:`numpy_bin_edges_function` inside pyradiomics."""
    from radiomics import imageoperations

    original = imageoperations.getBinEdges
    if getattr(original, "splkit_patched", False):
        yield
        return
    imageoperations.getBinEdges = numpy_bin_edges_function(original)
    try:
        yield
    finally:
        imageoperations.getBinEdges = original
