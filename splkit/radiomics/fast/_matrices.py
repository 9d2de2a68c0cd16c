"""numba kernels for the texture matrices of a 2-D ROI at distance 1, equal to pyradiomics' C kernels.

pyradiomics' ``cmatrices.c`` visits the ROI's pixels in raster order and, for a 2-D box of at least 2 x 2
pixels, the four angles ``(1, 1), (1, 0), (1, -1), (0, 1)`` (``(dy, dx)``): the GLCM counts each pixel's
neighbour along every angle; the GLDM and NGTDM look at the neighbours at ``+angle`` then ``-angle`` (the
8-neighbourhood), the NGTDM accumulating ``|i - mean(neighbours)|`` in ``double`` in that order; the GLRLM
counts maximal runs of one grey level along each angle's lines; the GLSZM counts 8-connected zones of one
grey level.  The counts do not depend on the order of the visit and the
NGTDM sums are made in pyradiomics' order, so the matrices are the same numbers, from one visit for the
three neighbourhood matrices instead of three.  :mod:`splkit.radiomics.fast.matrices` chooses these kernels
or pyradiomics' own.
"""

from __future__ import annotations

import numba
import numpy as np

_DY = (1, 1, 1, 0)
_DX = (1, 0, -1, 1)


@numba.njit(cache=True, nogil=True)
def neighbourhood(binned, mask, ng, alpha):  # pragma: no cover - compiled
    """GLCM ``(ng, ng, 4)``, GLDM ``(ng, 17)`` (threshold ``alpha``) and NGTDM ``(ng, 3)`` in one visit.

    The arrays are flattened with a one-pixel border outside the ROI, so every neighbour exists.  Counts
    and neighbour sums are integers (any order gives the same); the NGTDM's ``double`` terms are added in
    raster order as pyradiomics does.  The GLDM has the 17 columns pyradiomics allocates for the eight 2-D
    angles (dependences 0..8 used).
    """
    h, w = binned.shape
    stride = w + 2
    image = np.zeros((h + 2) * stride, np.int64)
    inside = np.zeros((h + 2) * stride, np.bool_)
    for y in range(h):
        for x in range(w):
            image[(y + 1) * stride + x + 1] = binned[y, x]
            inside[(y + 1) * stride + x + 1] = mask[y, x]
    forward = np.array([_DY[a] * stride + _DX[a] for a in range(4)])
    glcm = np.zeros((ng, ng, 4))
    gldm = np.zeros((ng, 17))
    ngtdm = np.zeros((ng, 3))
    for g in range(ng):
        ngtdm[g, 2] = g + 1
    for here in range(stride, (h + 1) * stride):
        if not inside[here]:
            continue
        i = image[here]
        dependent = 0
        count = 0
        total = 0
        for a in range(4):
            for there in (here + forward[a], here - forward[a]):
                if inside[there]:
                    j = image[there]
                    if there > here:
                        glcm[i - 1, j - 1, a] += 1
                    if abs(i - j) <= alpha:
                        dependent += 1
                    count += 1
                    total += j
        gldm[i - 1, dependent] += 1
        # pyradiomics: count and sum in double (exact for these integers); diff = (double)i - sum / count
        diff = 0.0 if count == 0 else np.float64(i) - np.float64(total) / np.float64(count)
        if diff < 0:
            diff *= -1
        ngtdm[i - 1, 0] += 1
        ngtdm[i - 1, 1] += diff
    return glcm, gldm, ngtdm


@numba.njit(cache=True, nogil=True)
def size_zones(binned, mask, ng):  # pragma: no cover - compiled
    """GLSZM ``(ng, largest zone)``: 8-connected zones of one grey level, by grey level and size.

    A depth-first flood fill on the arrays padded by one pixel outside the ROI; each pixel is marked
    when pushed, so it is counted once.
    """
    h, w = binned.shape
    stride = w + 2
    image = np.zeros((h + 2) * stride, np.int64)
    todo = np.zeros((h + 2) * stride, np.bool_)
    for y in range(h):
        for x in range(w):
            image[(y + 1) * stride + x + 1] = binned[y, x]
            todo[(y + 1) * stride + x + 1] = mask[y, x]
    steps = np.array([-stride - 1, -stride, -stride + 1, -1, 1, stride - 1, stride, stride + 1])
    stack = np.empty(h * w, np.int64)
    levels = np.empty(h * w, np.int64)
    sizes = np.empty(h * w, np.int64)
    n_zones = 0
    largest = 0
    for start in range(stride, (h + 1) * stride):
        if not todo[start]:
            continue
        level = image[start]
        todo[start] = False
        stack[0] = start
        top = 1
        size = 0
        while top > 0:
            top -= 1
            here = stack[top]
            size += 1
            for step in steps:
                there = here + step
                if todo[there] and image[there] == level:
                    todo[there] = False
                    stack[top] = there
                    top += 1
        levels[n_zones] = level
        sizes[n_zones] = size
        n_zones += 1
        largest = max(largest, size)
    glszm = np.zeros((ng, largest))
    for z in range(n_zones):
        glszm[levels[z] - 1, sizes[z] - 1] += 1
    return glszm


@numba.njit(cache=True, nogil=True)
def run_lengths(binned, mask, ng):  # pragma: no cover - compiled
    """GLRLM ``(ng, max(h, w), 4)``: maximal runs of one grey level along each angle's lines.

    As ``calculate_glrlm``: a pixel outside the ROI ends a run, and an angle none of whose lines holds two
    ROI pixels has its length-1 counts set to 0 (pyradiomics then drops it as empty).
    """
    h, w = binned.shape
    glrlm = np.zeros((ng, max(h, w), 4))
    for a in range(4):
        dy, dx = _DY[a], _DX[a]
        # line starts: the first row for every angle moving down, plus the first (or last) column
        n_starts = (w if dy else 0) + (h - (1 if dy else 0) if dx else 0)
        most = 0
        for s in range(n_starts):
            if dy and s < w:
                y, x = 0, s
            else:
                y = s - w + 1 if dy else s
                x = 0 if dx > 0 else w - 1
            level, length, elements = -1, 0, 0
            while 0 <= y < h and 0 <= x < w:
                if mask[y, x]:
                    elements += 1
                    if binned[y, x] == level:
                        length += 1
                    else:
                        if level > 0:
                            glrlm[level - 1, length - 1, a] += 1
                        level, length = binned[y, x], 1
                elif level > 0:
                    glrlm[level - 1, length - 1, a] += 1
                    level = -1
                y += dy
                x += dx
            if level > 0:
                glrlm[level - 1, length - 1, a] += 1
            most = max(most, elements)
        if most <= 1:
            glrlm[:, 0, a] = 0
    return glrlm
