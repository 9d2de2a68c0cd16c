"""The scene under the probe: chest wall, pleura, aerated lung, rib, effusion and the lesion.

Every tissue is described on the probe's polar grid by three maps -- diffuse scatter amplitude,
scatterer density and attenuation (dB/cm/MHz) -- plus a map of coherent (specular) reflectors: skin and
fascia, the pleural line, A-line reverberations, rib cortex, air bronchograms and the lesion's deep
interface with aerated lung.  :func:`render` turns the scene into a B-mode image with
:mod:`splkit.simulate.bmode` and returns the exact (display-grid) lesion region for the readers.

The lung signs follow the lung-ultrasound literature: the pleural line and A-lines (reverberations at
multiples of the probe-pleura distance) of aerated lung, and consolidation as a tissue-like region with
air bronchograms and an irregular ("shred") deep border against aerated lung (Lichtenstein & Mezière,
*Chest* 2008;134:117; Lichtenstein et al., *Chest* 2009;135:1421; Volpicelli et al., *Intensive Care
Med* 2012;38:577).  Sparse scatterers (fat, fluid) give pre-Rayleigh statistics (Shankar, *IEEE TUFFC*
2000;47:727); tissue-dependent attenuation yields posterior enhancement behind fluid and the rib shadow.
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


@dataclass
class Scene:
    """Tissue maps on the polar grid plus the specular reflectors (see the module docstring)."""

    probe: bmode.Probe
    amp: np.ndarray  # diffuse scatter amplitude (std) relative to chest-wall muscle
    dens: np.ndarray  # scatterer density: fraction of grid samples that hold a scatterer
    alpha: np.ndarray  # attenuation, dB/cm/MHz
    refl: Reflectors

    @classmethod
    def empty(cls, probe: bmode.Probe) -> Scene:
        shape = (probe.n_samples, probe.n_lines)
        return cls(
            probe,
            np.zeros(shape, np.float32),
            np.ones(shape, np.float32),
            np.zeros(shape, np.float32),
            Reflectors(),
        )

    def set(self, where, amp=None, dens=None, alpha=None) -> None:
        for name, value in (("amp", amp), ("dens", dens), ("alpha", alpha)):
            if value is not None:
                target = getattr(self, name)
                target[where] = value[where] if isinstance(value, np.ndarray) else value


@dataclass
class Layers:
    """Depth (mm) of each interface on every scan line."""

    skin: np.ndarray
    fat: np.ndarray
    muscle: np.ndarray
    pleura: np.ndarray  # parietal pleura
    surface: np.ndarray  # lung surface (visceral pleura): below the pleura, or below an effusion


def _chest_wall(scene: Scene, rng: np.random.Generator) -> Layers:
    """Skin, hypoechoic fat, muscle with fibrillar striations, fascial interfaces, parietal pleura."""
    probe = scene.probe
    m = probe.n_lines
    depth, angles, cols = probe.depths[:, None], probe.angles, np.arange(m)
    tilt = rng.normal(0, 1.0)
    skin = _profile(rng, m, rng.uniform(1.5, 2.5), 0.1, 0.0)
    fat = skin + _profile(rng, m, rng.uniform(2.0, 9.0), 0.4, tilt * 0.3)
    muscle = fat + _profile(rng, m, rng.uniform(6.0, 14.0), 0.4, tilt * 0.7)
    pleura = ndimage.gaussian_filter1d(muscle, m / 20, mode="nearest") + 0.6  # the pleura is smooth
    scene.set(depth < skin, amp=1.5, alpha=1.0)
    scene.set((depth >= skin) & (depth < fat), amp=0.22, dens=0.3, alpha=0.6)
    wall = int(np.ceil(pleura.max() / probe.dr_mm)) + 1  # rows of the chest wall
    wall_depth = depth[:wall]
    lateral_mm = angles[None, :] * (probe.radius_mm + wall_depth)
    period = rng.uniform(1.0, 1.8)
    phase = 2 * np.pi * (wall_depth + rng.uniform(-0.08, 0.08) * lateral_mm) / period
    phase = phase + 1.5 * smooth_field(rng, (wall, m), (60, 30))
    fibres = np.maximum(np.cos(phase), 0) ** 6 * (0.6 + 0.6 * smooth_field(rng, (wall, m), (20, 12)))
    in_muscle = (wall_depth >= fat) & (wall_depth < pleura)
    scene.amp[:wall][in_muscle] = (0.55 + 2.2 * np.clip(fibres, 0, None))[in_muscle]
    scene.alpha[:wall][in_muscle] = 1.0
    for boundary, strength in ((skin, 4.0), (fat, 5.0), (muscle, 3.0)):
        scene.refl.add(boundary, cols, strength * rng.uniform(0.6, 1.0, m))
    return Layers(skin, fat, muscle, pleura, pleura + 1.0)


def _effusion(scene: Scene, layers: Layers, rng: np.random.Generator) -> None:
    """An anechoic layer between the pleurae, thicker towards one side; pushes the lung surface down."""
    probe = scene.probe
    m, depth = probe.n_lines, probe.depths[:, None]
    ramp = np.linspace(-1.0, 1.0, m) * rng.choice([-1.0, 1.0]) * rng.uniform(0.3, 0.9)
    thickness = rng.uniform(3.0, 14.0) * np.clip(0.55 + ramp, 0.12, 1.0)
    layers.surface = layers.surface + thickness.astype(np.float32)
    scene.set((depth >= layers.pleura + 0.8) & (depth < layers.surface), amp=0.05, dens=0.02, alpha=0.02)


def _lesion_interior(scene: Scene, ph: Phenotype, lesion: np.ndarray, normal: np.ndarray, rng) -> None:
    """Texture (log-normal amplitude field), necrosis and air bronchograms, in the lesion's box."""
    probe = scene.probe
    rows_any, cols_any = np.flatnonzero(lesion.any(axis=1)), np.flatnonzero(lesion.any(axis=0))
    box = (slice(rows_any[0], rows_any[-1] + 1), slice(cols_any[0], cols_any[-1] + 1))
    inside = lesion[box]
    amp, dens, alpha = scene.amp[box], scene.dens[box], scene.alpha[box]
    field = smooth_field(rng, inside.shape, (ph.texture_mm / probe.dr_mm, ph.texture_mm / 0.4))
    texture = ph.echogenicity * np.exp(ph.heterogeneity * field - ph.heterogeneity**2 / 2)
    amp[inside], alpha[inside], dens[inside] = texture[inside], 0.6, 1.0
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
            amp[necro], dens[necro], alpha[necro] = 0.06, 0.05, 0.05
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
        _stamp_segments(scene.refl, segments, rng.uniform(8.0, 14.0), probe, lesion)


def _b_lines(scene: Scene, layers: Layers, count: int, has_lesion: np.ndarray, rng) -> np.ndarray:
    """Vertical comet-tail artefacts from the lung surface to the bottom, erasing A-lines (B-lines).

    Returns the scan lines they occupy.
    """
    probe = scene.probe
    m = probe.n_lines
    cols = np.arange(m)
    occupied = np.zeros(m, bool)
    free = np.flatnonzero(~has_lesion)
    for _ in range(count):
        if free.size == 0:
            break
        centre = free[rng.integers(free.size)]
        width = rng.uniform(1.0, 2.0) / (probe.radius_mm + 40.0) / probe.dtheta  # 2-4 mm wide at 4 cm
        band = (np.abs(cols - centre) <= width) & ~has_lesion
        occupied |= band
        below = (probe.depths[:, None] > layers.surface[None, :] + 0.5) & band[None, :]
        strength = rng.uniform(1.0, 1.8) * np.exp(-probe.depths / rng.uniform(60.0, 150.0))[:, None]
        scene.set(below, amp=np.broadcast_to(strength, below.shape), dens=1.0, alpha=probe.tgc_db_cm_mhz)
    return occupied


def _pleura_and_reverberations(scene: Scene, layers: Layers, ph: Phenotype, lesion: np.ndarray, rng) -> None:
    """Pleural line (weaker over the lesion, interrupted by invasion), B- and A-lines, deep interface."""
    probe = scene.probe
    n, m = probe.n_samples, probe.n_lines
    cols, refl = np.arange(m), scene.refl
    has_lesion = lesion.any(axis=0)
    pleural_amp = np.full(m, 30.0, np.float32) * rng.uniform(0.8, 1.0, m).astype(np.float32)
    pleural_amp[has_lesion] *= 0.45  # no air behind a consolidated segment: weaker reflection
    if ph.pleural_interruption and has_lesion.any():
        idx = np.flatnonzero(has_lesion)
        length = max(int(len(idx) * rng.uniform(0.3, 0.8)), 1)
        start = idx[0] + int(rng.integers(0, max(len(idx) - length, 0) + 1))
        pleural_amp[start : start + length] *= 0.08
    b_cols = _b_lines(scene, layers, ph.b_lines, has_lesion, rng)
    rf_period = probe.wavelength_mm / 2.0  # echoes one RF period apart add up: a thick, bright line
    for k, weight in enumerate((1.0, 0.8, 0.5)):
        refl.add(layers.pleura + rf_period * k, cols, weight * pleural_amp)
    surface_amp = np.where(has_lesion, 0.0, 12.0 if ph.effusion else 0.0) * rng.uniform(0.7, 1.0, m)
    refl.add(layers.surface, cols, surface_amp)
    a_decay, a_start = rng.uniform(0.45, 0.7), rng.uniform(6.0, 11.0)
    # reverberation between the probe face and the air-filled lung surface (which is smooth)
    air = ndimage.gaussian_filter1d(layers.pleura + 1.0, sigma=m / 10, mode="nearest")
    for k in range(2, 12):
        a_depth = k * air
        visible = ~has_lesion & ~b_cols & (layers.surface - air < 1.0) & (a_depth < probe.depth_mm - 1)
        for tail in range(3):  # each reverberation is a little longer than the pulse
            amp_k = a_start * a_decay ** (k - 2) * (1.0, 0.6, 0.3)[tail]
            refl.add(a_depth[visible] + 0.35 * tail, cols[visible], amp_k)
    deepest = np.where(has_lesion, n - 1 - np.argmax(lesion[::-1], axis=0), -1)
    deep_ok = has_lesion & (deepest < n - 2)
    interface = rng.uniform(6.0, 12.0) * (1.0 + 0.6 * (ph.shred_mm > 0.8))
    refl.add(
        (deepest[deep_ok] + 1) * probe.dr_mm, cols[deep_ok], interface * rng.uniform(0.3, 1.0, deep_ok.sum())
    )


def _rib(scene: Scene, layers: Layers, lesion_theta: float, has_lesion: np.ndarray, rng) -> None:
    """A rib at one edge of the sector: bright cortex, complete acoustic shadow; never over the lesion."""
    probe = scene.probe
    angles, cols = probe.angles, np.arange(probe.n_lines)
    side = -np.sign(lesion_theta) if lesion_theta != 0 else 1.0
    theta_r = side * probe.half_angle * rng.uniform(0.7, 0.95)
    at = (theta_r + probe.half_angle) / probe.dtheta
    top = float(np.interp(at, cols, layers.pleura)) - rng.uniform(3, 6)
    top = max(top, float(np.interp(at, cols, layers.fat)) + 1.5)
    half_w = rng.uniform(5.0, 8.0) / (probe.radius_mm + top)
    in_rib_cols = (np.abs(angles - theta_r) < half_w) & ~has_lesion
    cortex = top + 1.5 * ((angles - theta_r) / half_w) ** 2
    scene.refl.add(cortex[in_rib_cols], cols[in_rib_cols], 16.0)
    shadow = (probe.depths[:, None] > cortex[None, :] + 0.4) & in_rib_cols[None, :]
    scene.alpha[shadow] = 60.0  # bone: the beam does not get through


def _form_image(scene: Scene, rng: np.random.Generator, gain_db: float = 0.0) -> np.ndarray:
    """Scatterers -> attenuation -> PSF -> noise -> TGC -> envelope -> log -> sector (uint8);
    ``gain_db``: the centre's receive gain, around which the operator's gain varies."""
    probe = scene.probe
    shape = (probe.n_samples, probe.n_lines)
    density = np.clip(scene.dens, 1e-3, 1.0)
    occupied = rng.random(shape, dtype=np.float32) < density
    scatter = np.where(
        occupied, rng.standard_normal(shape, dtype=np.float32) * scene.amp / np.sqrt(density), 0
    )
    gain = bmode.attenuation_gain(scene.alpha, probe)
    rf = bmode.rf_from_scatterers(
        (scatter * gain).astype(np.float32), probe, coherent=scene.refl.rf(probe, gain)
    )
    rf += np.float32(0.006) * rng.standard_normal(rf.shape, dtype=np.float32)  # electronic noise before TGC
    operator_db, slope = rng.normal(0.0, 2.0), rng.normal(0.0, 0.06)  # operator gain, TGC mismatch
    rf *= bmode.tgc_gain(probe, extra_db=operator_db + gain_db, slope_error=slope)
    polar = bmode.log_compress(
        bmode.display_filter(bmode.envelope(rf)), reference=75.0, dynamic_range_db=probe.dynamic_range_db
    )
    return np.round(bmode.scan_convert(polar, probe)).astype(np.uint8)


def render(ph: Phenotype, rng: np.random.Generator, probe: bmode.Probe, gain_db: float = 0.0) -> Rendered:
    """Build one patient's scene and image it (``gain_db``: the centre's receive gain).  Deterministic
    given ``rng``."""
    n, m = probe.n_samples, probe.n_lines
    depth, cols = probe.depths[:, None], np.arange(m)
    scene = Scene.empty(probe)
    layers = _chest_wall(scene, rng)
    lesion_theta = rng.uniform(-0.45, 0.45) * probe.half_angle
    if ph.effusion:
        _effusion(scene, layers, rng)

    # the lesion, placed in the local frame (u along, v below the lung surface) at its centre line
    s0 = float(np.interp((lesion_theta + probe.half_angle) / probe.dtheta, cols, layers.surface))
    origin = (probe.radius_mm + s0) * np.array([np.sin(lesion_theta), np.cos(lesion_theta)])
    tangent = np.array([np.cos(lesion_theta), -np.sin(lesion_theta)])
    normal = np.array([np.sin(lesion_theta), np.cos(lesion_theta)])
    xy = origin[None, :] + ph.outline[:, :1] * tangent[None, :] + ph.outline[:, 1:] * normal[None, :]
    lesion = fill_polygon(*probe.to_polar_index(xy[:, 0], xy[:, 1]), (n, m))
    lesion &= depth > layers.surface[None, :] + 0.3
    if not lesion.any():
        raise ValueError("the lesion lies entirely outside the sector or above the lung surface")

    # aerated lung below the surface: no tissue detail, a faint reverberation haze
    haze = np.broadcast_to(0.12 * np.exp(-(depth - layers.surface) / 20.0) + 0.02, (n, m))
    scene.set((depth >= layers.surface) & ~lesion, amp=haze, dens=0.5, alpha=probe.tgc_db_cm_mhz)
    _lesion_interior(scene, ph, lesion, normal, rng)
    _pleura_and_reverberations(scene, layers, ph, lesion, rng)
    if rng.random() < 0.45:
        _rib(scene, layers, lesion_theta, lesion.any(axis=0), rng)
    image = _form_image(scene, rng, gain_db)

    # the exact lesion region on the display grid
    rows, cols_px = probe.xz_to_pixel(xy[:, 0], xy[:, 1])
    disp = fill_polygon(rows, cols_px, probe.image_shape)
    (pi_all, pj_all), fan = probe.scan_map
    disp &= fan & (pi_all * probe.dr_mm > np.interp(pj_all, cols, layers.surface) + 0.3)
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
