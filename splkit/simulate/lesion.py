"""Lesion phenotypes, their geometry, internal structures and the readers' outlines.

A phenotype is drawn from the patient's *imaging* latent severity ``t`` (see :mod:`splkit.simulate`):
every attribute is a noisy, overlapping function of ``t``, so benign and malignant lesions differ in
distribution, never deterministically.  Geometry lives in a local frame at the lung surface:
``u`` along the pleura (mm), ``v`` depth below it (mm); shapes are built a little above the surface and
clipped by it, so every lesion abuts the pleura.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage
from scipy.spatial import ConvexHull, QhullError
from skimage import measure

SHAPES = ("round", "lobulated", "spiculated", "wedge", "irregular")


def _sigmoid(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-x)))


@dataclass
class Phenotype:
    """Imaging attributes of one lesion (what a sonographer would describe)."""

    shape: str
    diameter_mm: float  # nominal size (maximum extent before clipping by the pleura)
    aspect: float  # depth / width elongation of masses; height / base of wedges
    echogenicity: float  # diffuse scatter amplitude relative to chest-wall muscle
    heterogeneity: float  # std of the log-amplitude texture field inside the lesion
    texture_mm: float  # correlation length of that field
    necrosis: bool
    air_bronchogram: bool
    pleural_interruption: bool
    effusion: bool
    margin_sd_mm: float  # low-frequency margin irregularity
    shred_mm: float  # high-frequency (shred-sign) irregularity of the deep margin
    n_spicules: int
    depth_fraction: float  # centre depth below the surface / radius (masses)
    outline: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))  # (u, v) boundary, mm

    @property
    def size_mm(self) -> float:
        """Maximum diameter of the part of the outline below the lung surface (what is measured)."""
        return max_pairwise_distance(self.outline[self.outline[:, 1] > 0.3])


def sample_phenotype(t: float, rng: np.random.Generator) -> Phenotype:
    """Draw lesion attributes given the imaging latent severity ``t`` (benign ~ 0, malignant ~ 1.5).

    Directions follow the SPL ultrasound literature summarised in ``paper.md``: malignant lesions are
    larger, rounder or lobulated with irregular/spiculated margins, heterogeneous, with necrosis and
    pleural line interruption; benign ones are wedge-shaped or irregular consolidations with air
    bronchograms, more homogeneous, sometimes with an effusion.
    """
    mass = rng.random() < _sigmoid(-0.9 + 1.1 * t)
    if mass:
        weights = np.array([1.0, 0.6 + 0.3 * max(t, 0), 0.2 + 0.5 * max(t, 0)])
        shape = str(rng.choice(SHAPES[:3], p=weights / weights.sum()))
    else:
        shape = "wedge" if rng.random() < 0.55 else "irregular"
    diameter = float(np.clip(np.exp(rng.normal(np.log(28.0) + 0.17 * t, 0.33)), 9.0, 75.0))
    ph = Phenotype(
        shape=shape,
        diameter_mm=diameter,
        aspect=float(np.clip(rng.normal(0.9 if mass else 0.7, 0.15), 0.45, 1.3)),
        echogenicity=float(np.exp(rng.normal(np.log(0.55) - 0.06 * t, 0.22))),
        heterogeneity=float(np.clip(rng.normal(0.22 + 0.14 * t, 0.1), 0.05, 0.9)),
        texture_mm=float(rng.uniform(2.0, 6.0)),
        necrosis=bool(diameter > 18 and rng.random() < _sigmoid(-2.4 + 1.1 * t)),
        air_bronchogram=bool(rng.random() < _sigmoid(0.3 - 1.2 * t)),
        pleural_interruption=bool(rng.random() < _sigmoid(-1.8 + 1.1 * t)),
        effusion=bool(rng.random() < _sigmoid(-1.5 - 0.35 * t)),
        margin_sd_mm=float(np.clip(rng.normal(0.6 + 0.35 * t, 0.3), 0.1, 2.5)),
        shred_mm=float(np.clip(rng.normal(1.2 - 0.4 * t, 0.4), 0.1, 2.5)) if not mass else 0.3,
        n_spicules=int(rng.integers(6, 16)) if shape == "spiculated" else 0,
        depth_fraction=float(rng.uniform(0.25, 0.8)),
    )
    ph.outline = lesion_outline(ph, rng)
    return ph


def max_pairwise_distance(points: np.ndarray) -> float:
    """Largest distance between two of ``points`` (n, 2): the maximum (Feret) diameter."""
    if len(points) < 2:
        return 0.0
    try:
        points = points[ConvexHull(points).vertices]
    except QhullError:  # collinear or too few points: the brute force below is exact anyway
        pass
    return float(np.sqrt(((points[:, None, :] - points[None, :, :]) ** 2).sum(-1)).max())


def periodic_noise(rng: np.random.Generator, n: int, kmin: int, kmax: int, beta: float = 1.0) -> np.ndarray:
    """Smooth random periodic function on ``n`` points (sum of harmonics ``kmin..kmax``), unit std."""
    phi = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    k = np.arange(kmin, kmax + 1)
    amp = k ** (-beta) * rng.normal(1.0, 0.3, k.size)
    phase = rng.uniform(0, 2 * np.pi, k.size)
    out = np.sum(amp[:, None] * np.cos(k[:, None] * phi[None, :] + phase[:, None]), axis=0)
    return out / (out.std() + 1e-12)


def _normals(points: np.ndarray) -> np.ndarray:
    """Unit outward normals (for counter-clockwise polygons in (u, v) = (right, down) frame)."""
    tangent = np.roll(points, -1, axis=0) - np.roll(points, 1, axis=0)
    normal = np.stack([tangent[:, 1], -tangent[:, 0]], axis=1)
    normal /= np.linalg.norm(normal, axis=1, keepdims=True) + 1e-12
    area = 0.5 * np.sum(points[:, 0] * np.roll(points[:, 1], -1) - np.roll(points[:, 0], -1) * points[:, 1])
    return normal if area < 0 else -normal


def lesion_outline(ph: Phenotype, rng: np.random.Generator, n: int = 720) -> np.ndarray:
    """Boundary polygon ``(n, 2)`` of the lesion in the local surface frame ``(u, v)`` in mm."""
    radius = ph.diameter_mm / 2.0
    if ph.shape in ("round", "lobulated", "spiculated"):
        phi = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
        tilt = rng.uniform(-0.4, 0.4)
        ell = 1.0 + (ph.aspect - 1.0) * np.sin(phi + tilt) ** 2
        r = radius * ell
        if ph.shape == "lobulated":
            r = r * (1.0 + rng.uniform(0.07, 0.14) * periodic_noise(rng, n, 3, 6, 0.5))
        r = r * (1.0 + ph.margin_sd_mm / radius * 0.5 * periodic_noise(rng, n, 4, 24, 0.8))
        for _ in range(ph.n_spicules):
            centre = rng.uniform(0, 2 * np.pi)
            width = rng.uniform(0.025, 0.06)
            d = np.angle(np.exp(1j * (phi - centre)))
            r = r + rng.uniform(0.1, 0.35) * radius * np.exp(-np.abs(d) / width)
        centre_v = ph.depth_fraction * radius * (0.5 + 0.5 * ph.aspect)
        pts = np.stack([r * np.cos(phi), centre_v + r * np.sin(phi)], axis=1)
    else:
        width = ph.diameter_mm
        height = width * ph.aspect * (0.9 if ph.shape == "wedge" else 0.55)
        top = -0.15 * height - 2.0
        if ph.shape == "wedge":
            apex = (rng.uniform(-0.2, 0.2) * width, height)
            corners = np.array([[-width / 2, top], apex, [width / 2, top]])
        else:
            m = 9
            u = np.linspace(-width / 2, width / 2, m)
            v = height * np.sqrt(np.clip(1 - (2 * u / width) ** 2, 0, 1)) ** 0.7 * rng.uniform(0.6, 1.1, m)
            corners = np.concatenate([[[-width / 2, top]], np.stack([u, np.maximum(v, 1.0)], 1)[1:-1]])
            corners = np.concatenate([corners, [[width / 2, top]]])
        closed = np.concatenate([corners, corners[:1]])
        seg = np.linalg.norm(np.diff(closed, axis=0), axis=1)
        s = np.concatenate([[0], np.cumsum(seg)])
        grid = np.linspace(0, s[-1], n, endpoint=False)
        pts = np.stack([np.interp(grid, s, closed[:, 0]), np.interp(grid, s, closed[:, 1])], axis=1)
        # round the corners a little, as consolidations are not polygons
        pts = ndimage.gaussian_filter1d(pts, sigma=n / 60, axis=0, mode="wrap")
        normal = _normals(pts)
        deep = np.clip(pts[:, 1] / max(height, 1e-6), 0, 1)  # the shred sign lives on the deep margin
        offset = ph.margin_sd_mm * periodic_noise(rng, n, 3, 20, 0.8)
        offset = offset + ph.shred_mm * deep * periodic_noise(rng, n, 20, 70, 0.3)
        pts = pts + normal * offset[:, None]
    return pts


def polygon_area(points: np.ndarray) -> float:
    x, y = points[:, 0], points[:, 1]
    return float(0.5 * abs(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y)))


def random_point_inside(
    mask: np.ndarray, rng: np.random.Generator, margin: int = 0
) -> tuple[int, int] | None:
    """A random pixel of ``mask`` at least ``margin`` pixels from its edge (None if there is none)."""
    inner = ndimage.binary_erosion(np.pad(mask, 1), iterations=margin)[1:-1, 1:-1] if margin > 0 else mask
    idx = np.flatnonzero(inner)
    if idx.size == 0:
        return None
    return tuple(int(v) for v in np.unravel_index(idx[rng.integers(idx.size)], mask.shape))


def bronchogram_segments(
    start: np.ndarray, direction: float, length: float, rng: np.random.Generator, depth: int = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """A branching tree of line segments (air-filled bronchi), from ``start`` along ``direction``."""
    end = start + length * np.array([np.cos(direction), np.sin(direction)])
    segments = [(start, end)]
    if depth < 3 and length > 2.0:
        for sign in (-1, 1):
            if rng.random() < 0.8:
                angle = direction + sign * rng.uniform(0.25, 0.6)
                segments += bronchogram_segments(end, angle, length * rng.uniform(0.55, 0.8), rng, depth + 1)
    return segments


def reader_outline(
    true_mask: np.ndarray,
    rng: np.random.Generator,
    click_px: float,
    offset_mean_px: float,
    offset_sd_px: float,
    jitter_px: float,
    smooth: float,
) -> np.ndarray:
    """A reader's mask: a smoothed polygon clicked along the visible boundary of ``true_mask``.

    The reader places vertices every ``click_px`` pixels along the boundary, with a systematic outward
    offset (``offset_mean_px``), a slowly varying offset (``offset_sd_px``), per-click jitter and
    smoothing of ``smooth`` vertices; the polygon is then filled.
    """
    padded = np.pad(true_mask, 1)
    contours = measure.find_contours(padded.astype(np.float32), 0.5)
    if not contours:
        raise ValueError("lesion mask is empty")
    contour = max(contours, key=len) - 1.0
    seg = np.linalg.norm(np.diff(contour, axis=0), axis=1)
    s = np.concatenate([[0], np.cumsum(seg)])
    n = max(int(s[-1] / click_px), 8)
    grid = np.linspace(0, s[-1], n, endpoint=False) + rng.uniform(0, s[-1] / n)
    grid = np.mod(grid, s[-1])
    pts = np.stack([np.interp(grid, s, contour[:, 0]), np.interp(grid, s, contour[:, 1])], axis=1)
    normal = _normals(pts[:, ::-1])[:, ::-1]  # normals in (row, col) order
    offset = offset_mean_px + offset_sd_px * periodic_noise(rng, n, 1, 4, 1.0)
    pts = pts + normal * offset[:, None] + rng.normal(0, jitter_px, pts.shape)
    if smooth > 0:
        pts = ndimage.gaussian_filter1d(pts, sigma=smooth, axis=0, mode="wrap")
    # densify so the filled polygon is a smooth curve rather than a coarse polygon
    closed = np.concatenate([pts, pts[:1]])
    t = np.linspace(0, n, 8 * n, endpoint=False)
    dense = np.stack([np.interp(t, np.arange(n + 1), closed[:, k]) for k in (0, 1)], axis=1)
    dense = ndimage.gaussian_filter1d(dense, sigma=4.0, axis=0, mode="wrap")
    return fill_polygon(dense[:, 0], dense[:, 1], true_mask.shape)


def fill_polygon(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Boolean mask of the polygon with vertices ``(rows, cols)`` (pixel centres at integers)."""
    canvas = Image.new("1", (int(shape[1]), int(shape[0])), 0)
    ImageDraw.Draw(canvas).polygon(list(zip(cols.tolist(), rows.tolist(), strict=True)), fill=1, outline=1)
    return np.array(canvas, dtype=bool)


def dice(a: np.ndarray, b: np.ndarray) -> float:
    """Sorensen-Dice overlap of two boolean masks."""
    a, b = a.astype(bool), b.astype(bool)
    return float(2.0 * np.logical_and(a, b).sum() / max(a.sum() + b.sum(), 1))
