"""The numba kernel of :mod:`splkit.radiomics.fast.gaussian`: ITK's ``FilterDataArray`` on many lines at once.

``itkRecursiveSeparableImageFilter.hxx`` filters each line in ``double``: a causal pass, an anti-causal pass,
their sum cast to the output type.  ``MathEMAMAMAM(out, a1, b1, ..., a4, b4)`` is ``out = a1*b1 + a2*b2 +
a3*b3 + a4*b4`` and ``MathSMAMAMAM`` is ``out -= a1*b1 + ...`` (C++ evaluates left to right).  Here the lines
are the columns of a ``(length, n_lines)`` array, so the innermost loop runs across lines: every line gets
exactly ITK's scalar operations (no fast-math, no reassociation), vectorised across lines.  Only the
samples ``lo:hi`` of each line are returned, so the causal pass stops at ``hi`` and the anti-causal pass
at ``lo``; both recursions keep their last four values in ring buffers.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def filter_axis0(data, c, lo, hi):  # pragma: no cover - compiled
    """Recursive filter with coefficients ``c`` (``gaussian.coefficients``) along axis 0; rows ``lo:hi``."""
    ln, n = data.shape
    n0, n1, n2, n3 = c[0], c[1], c[2], c[3]
    d1, d2, d3, d4 = c[4], c[5], c[6], c[7]
    m1, m2, m3, m4 = c[8], c[9], c[10], c[11]
    bn1, bn2, bn3, bn4 = c[12], c[13], c[14], c[15]
    bm1, bm2, bm3, bm4 = c[16], c[17], c[18], c[19]
    ring = np.empty((4, n))
    causal = np.empty((hi - lo, n))
    out = np.empty((hi - lo, n), np.float32)
    for k in range(n):
        v = np.float64(data[0, k])
        x1 = np.float64(data[1, k])
        x2 = np.float64(data[2, k])
        x3 = np.float64(data[3, k])
        s0 = v * n0 + v * n1 + v * n2 + v * n3
        s1 = x1 * n0 + v * n1 + v * n2 + v * n3
        s2 = x2 * n0 + x1 * n1 + v * n2 + v * n3
        s3 = x3 * n0 + x2 * n1 + x1 * n2 + v * n3
        s0 -= v * bn1 + v * bn2 + v * bn3 + v * bn4
        s1 -= s0 * d1 + v * bn2 + v * bn3 + v * bn4
        s2 -= s1 * d1 + s0 * d2 + v * bn3 + v * bn4
        s3 -= s2 * d1 + s1 * d2 + s0 * d3 + v * bn4
        ring[0, k] = s0
        ring[1, k] = s1
        ring[2, k] = s2
        ring[3, k] = s3
    for i in range(4):
        if lo <= i < hi:
            causal[i - lo] = ring[i]
    for i in range(4, hi):
        r0, r1, r2, r3 = i % 4, (i - 1) % 4, (i - 2) % 4, (i - 3) % 4
        for k in range(n):
            s = (
                np.float64(data[i, k]) * n0
                + np.float64(data[i - 1, k]) * n1
                + np.float64(data[i - 2, k]) * n2
                + np.float64(data[i - 3, k]) * n3
            )
            s -= ring[r1, k] * d1 + ring[r2, k] * d2 + ring[r3, k] * d3 + ring[r0, k] * d4
            ring[r0, k] = s
        if i >= lo:
            causal[i - lo] = ring[r0]
    last = ln - 1
    for k in range(n):
        v = np.float64(data[last, k])
        x1 = np.float64(data[last - 1, k])
        x2 = np.float64(data[last - 2, k])
        a0 = v * m1 + v * m2 + v * m3 + v * m4
        a1 = v * m1 + v * m2 + v * m3 + v * m4
        a2 = x1 * m1 + v * m2 + v * m3 + v * m4
        a3 = x2 * m1 + x1 * m2 + v * m3 + v * m4
        a0 -= v * bm1 + v * bm2 + v * bm3 + v * bm4
        a1 -= a0 * d1 + v * bm2 + v * bm3 + v * bm4
        a2 -= a1 * d1 + a0 * d2 + v * bm3 + v * bm4
        a3 -= a2 * d1 + a1 * d2 + a0 * d3 + v * bm4
        ring[last % 4, k] = a0
        ring[(last - 1) % 4, k] = a1
        ring[(last - 2) % 4, k] = a2
        ring[(last - 3) % 4, k] = a3
    for i in range(last, last - 4, -1):
        if lo <= i < hi:
            for k in range(n):
                out[i - lo, k] = np.float32(causal[i - lo, k] + ring[i % 4, k])
    for i in range(ln - 4, lo, -1):
        r0, r1, r2, r3 = (i - 1) % 4, i % 4, (i + 1) % 4, (i + 2) % 4
        for k in range(n):
            s = (
                np.float64(data[i, k]) * m1
                + np.float64(data[i + 1, k]) * m2
                + np.float64(data[i + 2, k]) * m3
                + np.float64(data[i + 3, k]) * m4
            )
            s -= ring[r1, k] * d1 + ring[r2, k] * d2 + ring[r3, k] * d3 + ring[r0, k] * d4
            ring[r0, k] = s
        if i - 1 < hi:
            for k in range(n):
                out[i - 1 - lo, k] = np.float32(causal[i - 1 - lo, k] + ring[r0, k])
    return out
