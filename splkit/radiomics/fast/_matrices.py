"""numba kernels for the texture matrices of a 2-D ROI at distance 1, equal to pyradiomics' C kernels.

pyradiomics' ``cmatrices.c`` visits the ROI's pixels in raster order and, for a 2-D box of at least 2 x 2
pixels, the four angles ``(1, 1), (1, 0), (1, -1), (0, 1)`` (``(dy, dx)``): the GLCM counts each pixel's
neighbour along every angle; the GLDM and NGTDM look at the neighbours at ``+angle`` then ``-angle`` (the
8-neighbourhood), the NGTDM accumulating ``|i - mean(neighbours)|`` in ``double`` in that order; the GLSZM
counts 8-connected zones of one grey level.  The counts do not depend on the order of the visit and the
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

    The arrays are padded by one pixel outside the ROI, so every neighbour exists.  The GLDM has the 17
    columns pyradiomics allocates for eight 2-D angles (dependences 0..8 used).
    """
    h, w = binned.shape
    image = np.zeros((h + 2, w + 2), np.int64)
    inside = np.zeros((h + 2, w + 2), np.bool_)
    image[1:-1, 1:-1] = binned
    inside[1:-1, 1:-1] = mask
    dy = np.array(_DY)
    dx = np.array(_DX)
    glcm = np.zeros((ng, ng, 4))
    gldm = np.zeros((ng, 17))
    ngtdm = np.zeros((ng, 3))
    for g in range(ng):
        ngtdm[g, 2] = g + 1
    for y in range(1, h + 1):
        for x in range(1, w + 1):
            if not inside[y, x]:
                continue
            i = image[y, x]
            for a in range(4):
                if inside[y + dy[a], x + dx[a]]:
                    glcm[i - 1, image[y + dy[a], x + dx[a]] - 1, a] += 1
            dependent = 0
            count = 0
            total = 0
            for d in (1, -1):
                for a in range(4):
                    ny, nx = y + d * dy[a], x + d * dx[a]
                    if inside[ny, nx]:
                        j = image[ny, nx]
                        if abs(i - j) <= alpha:
                            dependent += 1
                        count += 1
                        total += j
            gldm[i - 1, dependent] += 1
            # pyradiomics: double count, sum (exact for these integers); diff = (double)i - sum / count
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
    zones = np.zeros((ng, h * w + 1), np.int64)
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
        zones[level - 1, size] += 1
        largest = max(largest, size)
    return zones[:, 1 : largest + 1].astype(np.float64)
