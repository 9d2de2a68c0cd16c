"""The scene under the probe: chest wall, pleura, aerated lung, rib, effusion and the lesion.

Every tissue is described on the probe's polar grid by three maps -- diffuse scatter amplitude,
scatterer density and attenuation (dB/cm/MHz) -- plus a map of coherent (specular) reflectors: skin and
fascia, the pleural line, A-line reverberations, rib cortex, air bronchograms and the lesion's deep
interface with aerated lung.  :func:`render` turns the scene into a B-mode image with
:mod:`splkit.simulate.bmode` and returns the exact (display-grid) lesion region for the readers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from splkit.simulate import bmode
from splkit.simulate.lesion import (
    Phenotype,
    bronchogram_segments,
    fill_polygon,
    max_pairwise_distance,
    random_point_inside,
)


@dataclass
class Rendered:
    image: np.ndarray  # uint8 display image
    lesion: np.ndarray  # bool, exact lesion region on the display grid
    max_diameter_mm: float  # largest extent of the displayed lesion
    pleural_depth_mm: float  # depth of the lung surface at the lesion centre


def _interp_matrix(n_out: int, n_in: int) -> np.ndarray:
    """Linear-interpolation weights from ``n_in`` coarse nodes (2 of margin each side) to ``n_out``."""
    pos = np.linspace(2, n_in - 3, n_out)
    low = np.floor(pos).astype(int)
    frac = pos - low
    weights = np.zeros((n_out, n_in), np.float32)
    weights[np.arange(n_out), low] = 1 - frac
    weights[np.arange(n_out), np.minimum(low + 1, n_in - 1)] += frac
    return weights


def smooth_field(rng: np.random.Generator, shape: tuple[int, int], scale: tuple[float, float]) -> np.ndarray:
    """Gaussian random field with unit std and correlation lengths ``scale`` (in grid samples)."""
    coarse_shape = (int(np.ceil(shape[0] / scale[0])) + 4, int(np.ceil(shape[1] / scale[1])) + 4)
    coarse = ndimage.gaussian_filter(rng.standard_normal(coarse_shape), 1.0, mode="wrap").astype(np.float32)
    field = _interp_matrix(shape[0], coarse_shape[0]) @ coarse @ _interp_matrix(shape[1], coarse_shape[1]).T
    return ((field - field.mean()) / (field.std() + 1e-12)).astype(np.float32)


def _profile(rng: np.random.Generator, n: int, base: float, undulation: float, tilt: float) -> np.ndarray:
    """A smooth depth profile across scan lines: ``base`` + tilt + undulation (mm)."""
    x = np.linspace(-1.0, 1.0, n)
    wave = np.convolve(rng.standard_normal(n + 120), np.hanning(121), mode="valid")[:n]
    wave = wave / (wave.std() + 1e-12)
    return (base + tilt * x + undulation * wave).astype(np.float32)


class Reflectors:
    """Specular reflectors collected as (depth in mm, scan line, amplitude) triples."""

    def __init__(self) -> None:
        self.depth: list[np.ndarray] = []
        self.line: list[np.ndarray] = []
        self.amp: list[np.ndarray] = []

    def add(self, depth_mm, line, amplitude) -> None:
        depth_mm, line, amplitude = np.broadcast_arrays(
            np.asarray(depth_mm, np.float64), np.asarray(line, np.int64), np.asarray(amplitude, np.float64)
        )
        self.depth.append(depth_mm.ravel())
        self.line.append(line.ravel())
        self.amp.append(amplitude.ravel())

    def rf(self, probe: bmode.Probe, gain: np.ndarray) -> np.ndarray:
        """Axial RF of all reflectors, each scaled by the round-trip attenuation ``gain`` at its depth."""
        if not self.depth:
            return np.zeros((probe.n_samples, probe.n_lines), np.float32)
        depth, line, amp = (np.concatenate(v) for v in (self.depth, self.line, self.amp))
        row = np.clip(np.round(depth / probe.dr_mm).astype(int), 0, probe.n_samples - 1)
        ok = (line >= 0) & (line < probe.n_lines)
        amp = amp[ok] * gain[row[ok], line[ok]]
        return bmode.coherent_rf(depth[ok], line[ok], amp, probe)


def _stamp_segments(refl: Reflectors, segments, amplitude, probe, inside, step_mm: float = 0.1) -> None:
    """Add reflectors along line segments (physical mm) where ``inside`` (polar grid) holds."""
    for a, b in segments:
        n = max(int(np.linalg.norm(b - a) / step_mm), 2)
        pts = a[None, :] + np.linspace(0, 1, n)[:, None] * (b - a)[None, :]
        i, j = probe.to_polar_index(pts[:, 0], pts[:, 1])
        ii, jj = np.round(i).astype(int), np.round(j).astype(int)
        ok = (ii >= 0) & (ii < inside.shape[0]) & (jj >= 0) & (jj < inside.shape[1])
        ok[ok] = inside[ii[ok], jj[ok]]
        refl.add(i[ok] * probe.dr_mm, jj[ok], amplitude / 2.0)


def render(ph: Phenotype, rng: np.random.Generator, probe: bmode.Probe) -> Rendered:
    """Build one patient's scene and image it.  Deterministic given ``rng``."""
    n, m = probe.n_samples, probe.n_lines
    depth = probe.depths[:, None]
    angles = probe.angles
    amp = np.zeros((n, m), np.float32)
    dens = np.ones((n, m), np.float32)
    alpha = np.zeros((n, m), np.float32)
    refl = Reflectors()
    cols = np.arange(m)

    # --- chest wall: skin, subcutaneous fat, muscle (fibrillar), parietal pleura ----------------
    tilt = rng.normal(0, 1.0)
    skin = _profile(rng, m, rng.uniform(1.5, 2.5), 0.1, 0.0)
    fat = skin + _profile(rng, m, rng.uniform(2.0, 9.0), 0.4, tilt * 0.3)
    muscle = fat + _profile(rng, m, rng.uniform(6.0, 14.0), 0.4, tilt * 0.7)
    pleura = ndimage.gaussian_filter1d(muscle, m / 20, mode="nearest") + 0.6  # the pleura is smooth
    in_skin = depth < skin
    in_fat = (depth >= skin) & (depth < fat)
    in_muscle = (depth >= fat) & (depth < pleura)
    amp[in_skin], alpha[in_skin] = 1.5, 1.0
    amp[in_fat], dens[in_fat], alpha[in_fat] = 0.22, 0.3, 0.6
    wall = int(np.ceil(pleura.max() / probe.dr_mm)) + 1  # rows of the chest wall
    wall_depth = depth[:wall]
    lateral_mm = angles[None, :] * (probe.radius_mm + wall_depth)
    period = rng.uniform(1.0, 1.8)
    phase = 2 * np.pi * (wall_depth + rng.uniform(-0.08, 0.08) * lateral_mm) / period
    phase = phase + 1.5 * smooth_field(rng, (wall, m), (60, 30))
    fibres = np.maximum(np.cos(phase), 0) ** 6 * (0.6 + 0.6 * smooth_field(rng, (wall, m), (20, 12)))
    in_muscle = in_muscle[:wall]
    amp[:wall][in_muscle] = (0.55 + 2.2 * np.clip(fibres, 0, None))[in_muscle]
    alpha[:wall][in_muscle] = 1.0
    for boundary, strength in ((skin, 4.0), (fat, 5.0), (muscle, 3.0)):
        refl.add(boundary, cols, strength * rng.uniform(0.6, 1.0, m))

    # --- effusion (anechoic layer between the pleurae) and the lung surface ---------------------
    lesion_theta = rng.uniform(-0.45, 0.45) * probe.half_angle
    surface = pleura + 1.0
    if ph.effusion:
        ramp = np.linspace(-1.0, 1.0, m) * rng.choice([-1.0, 1.0]) * rng.uniform(0.3, 0.9)
        thickness = rng.uniform(3.0, 14.0) * np.clip(0.55 + ramp, 0.12, 1.0)
        surface = surface + thickness.astype(np.float32)
        fluid = (depth >= pleura + 0.8) & (depth < surface)
        amp[fluid], dens[fluid], alpha[fluid] = 0.05, 0.02, 0.02

    # --- the lesion, placed in the local frame at the lung surface ------------------------------
    centre_line = (lesion_theta + probe.half_angle) / probe.dtheta
    s0 = float(np.interp(centre_line, cols, surface))
    origin = (probe.radius_mm + s0) * np.array([np.sin(lesion_theta), np.cos(lesion_theta)])
    tangent = np.array([np.cos(lesion_theta), -np.sin(lesion_theta)])
    normal = np.array([np.sin(lesion_theta), np.cos(lesion_theta)])
    outline = ph.outline
    xy = origin[None, :] + outline[:, :1] * tangent[None, :] + outline[:, 1:] * normal[None, :]
    pi, pj = probe.to_polar_index(xy[:, 0], xy[:, 1])
    lesion = fill_polygon(pi, pj, (n, m))
    lesion &= depth > surface[None, :] + 0.3

    # aerated lung below the surface: no tissue detail, a faint reverberation haze
    lung = (depth >= surface) & ~lesion
    haze = 0.12 * np.exp(-(depth - surface) / 20.0) + 0.02
    amp[lung] = np.broadcast_to(haze, (n, m))[lung]
    dens[lung], alpha[lung] = 0.5, probe.tgc_db_cm_mhz

    # lesion texture: lognormal amplitude field, tissue attenuation (computed in the lesion's box)
    rows_any, cols_any = np.flatnonzero(lesion.any(axis=1)), np.flatnonzero(lesion.any(axis=0))
    box = (slice(rows_any[0], rows_any[-1] + 1), slice(cols_any[0], cols_any[-1] + 1))
    inside = lesion[box]
    field = smooth_field(rng, inside.shape, (ph.texture_mm / probe.dr_mm, ph.texture_mm / 0.4))
    texture = ph.echogenicity * np.exp(ph.heterogeneity * field - ph.heterogeneity**2 / 2)
    amp[box][inside], alpha[box][inside], dens[box][inside] = texture[inside], 0.6, 1.0
    x_rf, z_rf = (v[box] for v in np.broadcast_arrays(*probe.polar_xz))
    if ph.necrosis:
        core = ndimage.binary_erosion(np.pad(inside, 1), iterations=8)[1:-1, 1:-1]
        for _ in range(int(rng.integers(1, 3))):
            point = random_point_inside(inside, rng, margin=int(3.0 / probe.dr_mm))
            if point is None:
                break
            cx, cz = x_rf[point], z_rf[point]
            rad = rng.uniform(0.15, 0.3) * ph.diameter_mm
            ang = np.arctan2(z_rf - cz, x_rf - cx)
            wobble = (
                1
                + 0.25 * np.sin(3 * ang + rng.uniform(0, 6.3))
                + 0.15 * np.sin(5 * ang + rng.uniform(0, 6.3))
            )
            necro = core & (np.hypot(x_rf - cx, z_rf - cz) < rad * wobble)
            amp[box][necro], dens[box][necro], alpha[box][necro] = 0.06, 0.05, 0.05
    if ph.air_bronchogram:
        segments = []
        for _ in range(int(rng.integers(1, 3))):
            point = random_point_inside(inside, rng, margin=int(4.0 / probe.dr_mm))
            if point is None:
                break
            start = np.array([x_rf[point], z_rf[point]])
            direction = np.arctan2(-normal[1], -normal[0]) + rng.normal(0, 0.5)  # towards the pleura
            segments += bronchogram_segments(start, direction, rng.uniform(6.0, 14.0), rng)
        for _ in range(int(rng.integers(3, 14))):  # bronchi cut across: bright dots
            point = random_point_inside(inside, rng)
            if point is not None:
                p = np.array([x_rf[point], z_rf[point]])
                segments.append((p, p + rng.normal(0, 0.4, 2)))
        _stamp_segments(refl, segments, rng.uniform(8.0, 14.0), probe, lesion)

    # --- pleural line, A-lines, deep lesion/air interface --------------------------------------
    has_lesion = lesion.any(axis=0)
    pleural_amp = np.full(m, 30.0, np.float32) * rng.uniform(0.8, 1.0, m).astype(np.float32)
    pleural_amp[has_lesion] *= 0.45  # no air behind a consolidated segment: weaker reflection
    if ph.pleural_interruption and has_lesion.any():
        idx = np.flatnonzero(has_lesion)
        length = max(int(len(idx) * rng.uniform(0.3, 0.8)), 1)
        start = idx[0] + int(rng.integers(0, max(len(idx) - length, 0) + 1))
        pleural_amp[start : start + length] *= 0.08
    rf_period = probe.wavelength_mm / 2.0  # echoes one RF period apart add up: a thick, bright line
    for k, weight in enumerate((1.0, 0.8, 0.5)):
        refl.add(pleura + rf_period * k, cols, weight * pleural_amp)
    surface_amp = np.where(has_lesion, 0.0, 12.0 if ph.effusion else 0.0) * rng.uniform(0.7, 1.0, m)
    refl.add(surface, cols, surface_amp)
    a_decay, a_start = rng.uniform(0.45, 0.7), rng.uniform(6.0, 11.0)
    # reverberation between the probe face and the air-filled lung surface (which is smooth)
    air = ndimage.gaussian_filter1d(pleura + 1.0, sigma=m / 10, mode="nearest")
    for k in range(2, 12):
        a_depth = k * air
        visible = ~has_lesion & (surface - air < 1.0) & (a_depth < probe.depth_mm - 1)
        for tail in range(3):  # each reverberation is a little longer than the pulse
            amp_k = a_start * a_decay ** (k - 2) * (1.0, 0.6, 0.3)[tail]
            refl.add(a_depth[visible] + 0.35 * tail, cols[visible], amp_k)
    deepest = np.where(has_lesion, n - 1 - np.argmax(lesion[::-1], axis=0), -1)
    deep_ok = has_lesion & (deepest < n - 2)
    interface = rng.uniform(6.0, 12.0) * (1.0 + 0.6 * (ph.shred_mm > 0.8))
    refl.add(
        (deepest[deep_ok] + 1) * probe.dr_mm, cols[deep_ok], interface * rng.uniform(0.3, 1.0, deep_ok.sum())
    )

    # --- rib with acoustic shadow, at one edge of the sector, away from the lesion --------------
    if rng.random() < 0.45:
        side = -np.sign(lesion_theta) if lesion_theta != 0 else 1.0
        theta_r = side * probe.half_angle * rng.uniform(0.7, 0.95)
        at = (theta_r + probe.half_angle) / probe.dtheta
        top = float(np.interp(at, cols, pleura)) - rng.uniform(3, 6)
        top = max(top, float(np.interp(at, cols, fat)) + 1.5)
        half_w = rng.uniform(5.0, 8.0) / (probe.radius_mm + top)
        in_rib_cols = (np.abs(angles - theta_r) < half_w) & ~has_lesion  # never shadow the lesion
        cortex = top + 1.5 * ((angles - theta_r) / half_w) ** 2
        rib_cols = cols[in_rib_cols]
        refl.add(cortex[in_rib_cols], rib_cols, 16.0)
        below = depth > cortex[None, :] + 0.4
        shadow = below & in_rib_cols[None, :]
        alpha[shadow] = 60.0

    # --- image formation ------------------------------------------------------------------------
    density = np.clip(dens, 1e-3, 1.0)
    occupied = rng.random((n, m), dtype=np.float32) < density
    scatter = np.where(occupied, rng.standard_normal((n, m), dtype=np.float32) * amp / np.sqrt(density), 0)
    gain = bmode.attenuation_gain(alpha, probe)
    rf = bmode.rf_from_scatterers((scatter * gain).astype(np.float32), probe, coherent=refl.rf(probe, gain))
    rf += np.float32(0.006) * rng.standard_normal(rf.shape, dtype=np.float32)  # electronic noise before TGC
    gain_db, slope = rng.normal(0.0, 2.0), rng.normal(0.0, 0.06)
    rf *= bmode.tgc_gain(probe, extra_db=gain_db, slope_error=slope)
    polar = bmode.log_compress(
        bmode.display_filter(bmode.envelope(rf)), reference=75.0, dynamic_range_db=probe.dynamic_range_db
    )
    image = np.round(bmode.scan_convert(polar, probe)).astype(np.uint8)

    # --- the exact lesion region on the display grid -------------------------------------------
    rows, cols_px = probe.xz_to_pixel(xy[:, 0], xy[:, 1])
    disp = fill_polygon(rows, cols_px, probe.image_shape)
    (pi_all, pj_all), fan = probe.scan_map
    surface_at_px = np.interp(pj_all, cols, surface)
    disp &= fan & (pi_all * probe.dr_mm > surface_at_px + 0.3)
    disp = _largest_component(disp)
    return Rendered(
        image=image, lesion=disp, max_diameter_mm=_max_extent(disp, probe.pixel_mm), pleural_depth_mm=s0
    )


def _largest_component(mask: np.ndarray) -> np.ndarray:
    labels, count = ndimage.label(mask)
    if count <= 1:
        return mask
    sizes = ndimage.sum_labels(mask, labels, index=np.arange(1, count + 1))
    return labels == (int(np.argmax(sizes)) + 1)


def _max_extent(mask: np.ndarray, pixel_mm: float) -> float:
    """Largest distance between two boundary pixels (maximum diameter, mm)."""
    edge = mask & ~ndimage.binary_erosion(mask)
    return max_pairwise_distance(np.argwhere(edge).astype(np.float64)) * pixel_mm
