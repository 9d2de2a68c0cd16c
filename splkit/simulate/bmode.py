"""B-mode image formation for a convex probe: scatterers -> RF -> envelope -> log -> sector.

The chain follows the standard linear-systems model of pulse-echo ultrasound (Bamber & Dickinson 1980,
*Phys. Med. Biol.* 25:463; Jensen 1991, *J. Acoust. Soc. Am.* 89:182; Szabo, *Diagnostic Ultrasound
Imaging*, 2nd ed., ch. 8):

1. a scattering function ``s(r, theta)`` on the probe's polar grid (depth ``r`` along each scan line,
   one column per scan line): tissue-dependent density and amplitude of diffuse scatterers plus
   coherent (specular) reflectors;
2. depth attenuation along each line (tissue-dependent coefficient in dB/cm/MHz, round trip);
3. the RF echo ``rf = s * h``, with a separable pulse-echo point-spread function ``h``: a
   Gaussian-modulated cosine along depth (carrier period lambda/2 in depth because of the round trip)
   and a Gaussian across lines (beam width);
4. electronic noise, then time-gain compensation (TGC) with a nominal attenuation coefficient;
5. envelope detection, ``|hilbert(rf)|`` along depth, and the scanner's mild smoothing;
6. log compression over a fixed dynamic range to 8 bits;
7. scan conversion of the polar image to a Cartesian sector (bilinear), black outside the fan.

With dense scatterers (many per resolution cell) the envelope is Rayleigh distributed: fully developed
speckle with mean/std = sqrt(pi / (4 - pi)) = 1.913 (Burckhardt 1978, *IEEE Trans. Sonics Ultrason.*
25:1; Wagner et al. 1983, *IEEE Trans. Sonics Ultrason.* 30:156).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy import ndimage, signal

RAYLEIGH_SNR = float(np.sqrt(np.pi / (4.0 - np.pi)))  # 1.913: envelope mean/std of fully developed speckle


@dataclass(frozen=True)
class Probe:
    """Geometry and imaging parameters of the simulated convex (curvilinear) probe.

    Defaults model a low-frequency convex probe as used for lung ultrasound: 2.5 MHz, 45 mm radius of
    curvature, a 56 degree sector, 100 mm display depth, 0.8 mm axial and 2 mm lateral resolution
    (FWHM at the focus), displayed at an isotropic 0.25 mm pixel spacing (~545 x 421 pixels).
    """

    f0_mhz: float = 2.5
    sound_speed_m_s: float = 1540.0
    radius_mm: float = 45.0
    half_angle_deg: float = 28.0
    depth_mm: float = 100.0
    n_lines: int = 224
    samples_per_period: int = 3
    axial_fwhm_mm: float = 0.8
    lateral_fwhm_mm: float = 2.0
    focus_mm: float = 50.0
    pixel_mm: float = 0.25
    dynamic_range_db: float = 60.0
    tgc_db_cm_mhz: float = 0.55

    # --- polar (acquisition) grid -------------------------------------------------------------
    @property
    def wavelength_mm(self) -> float:
        return self.sound_speed_m_s / (self.f0_mhz * 1e6) * 1e3

    @property
    def dr_mm(self) -> float:
        """Depth sampling: ``samples_per_period`` samples per RF period (lambda/2 in depth)."""
        return self.wavelength_mm / 2.0 / self.samples_per_period

    @property
    def n_samples(self) -> int:
        return int(np.ceil(self.depth_mm / self.dr_mm))

    @property
    def half_angle(self) -> float:
        return float(np.deg2rad(self.half_angle_deg))

    @property
    def dtheta(self) -> float:
        return 2.0 * self.half_angle / (self.n_lines - 1)

    @cached_property
    def depths(self) -> np.ndarray:
        """Depth below the probe surface of each RF sample (mm)."""
        return (np.arange(self.n_samples) * self.dr_mm).astype(np.float32)

    @cached_property
    def angles(self) -> np.ndarray:
        """Steering angle of each scan line (rad, 0 = straight down, positive = image right)."""
        return (-self.half_angle + np.arange(self.n_lines) * self.dtheta).astype(np.float32)

    @cached_property
    def polar_xz(self) -> tuple[np.ndarray, np.ndarray]:
        """Physical (x, z) in mm of every RF sample; origin at the probe's centre of curvature."""
        radius = self.radius_mm + self.depths[:, None]
        return radius * np.sin(self.angles)[None, :], radius * np.cos(self.angles)[None, :]

    def to_polar_index(self, x: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fractional (sample, line) indices of physical points (mm)."""
        depth = np.hypot(x, z) - self.radius_mm
        theta = np.arctan2(x, z)
        return depth / self.dr_mm, (theta + self.half_angle) / self.dtheta

    # --- Cartesian (display) grid -------------------------------------------------------------
    @property
    def image_shape(self) -> tuple[int, int]:
        outer = self.radius_mm + self.depth_mm
        width = 2.0 * outer * np.sin(self.half_angle)
        height = outer - self.radius_mm * np.cos(self.half_angle)
        return int(np.ceil(height / self.pixel_mm)), int(np.ceil(width / self.pixel_mm))

    @cached_property
    def pixel_xz(self) -> tuple[np.ndarray, np.ndarray]:
        """Physical (x, z) in mm of every display pixel centre."""
        rows, cols = self.image_shape
        z0 = self.radius_mm * np.cos(self.half_angle)
        x = (np.arange(cols) - (cols - 1) / 2.0) * self.pixel_mm
        z = z0 + np.arange(rows) * self.pixel_mm
        return np.meshgrid(x.astype(np.float32), z.astype(np.float32))

    def xz_to_pixel(self, x: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fractional (row, col) display indices of physical points (mm)."""
        rows, cols = self.image_shape
        z0 = self.radius_mm * np.cos(self.half_angle)
        return (z - z0) / self.pixel_mm, x / self.pixel_mm + (cols - 1) / 2.0

    @cached_property
    def scan_map(self) -> tuple[np.ndarray, np.ndarray]:
        """Polar coordinates sampled by each display pixel, and the fan (inside-sector) mask."""
        x, z = self.pixel_xz
        i, j = self.to_polar_index(x, z)
        fan = (i >= 0) & (i <= self.n_samples - 1) & (j >= 0) & (j <= self.n_lines - 1)
        return np.stack([i, j]).astype(np.float32), fan

    @cached_property
    def scan_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """Flat indices of the four polar neighbours of each display pixel and their bilinear weights
        (all zero outside the fan)."""
        (i, j), fan = self.scan_map
        i, j = i.ravel().astype(np.float64), j.ravel().astype(np.float64)
        i0 = np.clip(np.floor(i), 0, self.n_samples - 2).astype(np.int64)
        j0 = np.clip(np.floor(j), 0, self.n_lines - 2).astype(np.int64)
        di, dj = np.clip(i - i0, 0, 1), np.clip(j - j0, 0, 1)
        index = np.stack(
            [
                i0 * self.n_lines + j0,
                i0 * self.n_lines + j0 + 1,
                (i0 + 1) * self.n_lines + j0,
                (i0 + 1) * self.n_lines + j0 + 1,
            ]
        )
        weights = np.stack([(1 - di) * (1 - dj), (1 - di) * dj, di * (1 - dj), di * dj]) * fan.ravel()
        return index, weights.astype(np.float32)

    # --- point-spread function ----------------------------------------------------------------
    @cached_property
    def axial_kernel(self) -> np.ndarray:
        """Pulse-echo RF pulse along depth: Gaussian envelope times cosine carrier (period lambda/2)."""
        sigma = self.axial_fwhm_mm / (2.0 * np.sqrt(2.0 * np.log(2.0)))
        half = int(np.ceil(3.0 * sigma / self.dr_mm))
        r = np.arange(-half, half + 1) * self.dr_mm
        kernel = np.exp(-0.5 * (r / sigma) ** 2) * np.cos(2.0 * np.pi * r / (self.wavelength_mm / 2.0))
        return (kernel / np.sqrt(np.sum(kernel**2))).astype(np.float32)

    @cached_property
    def lateral_kernel(self) -> np.ndarray:
        """Beam profile across lines: Gaussian with the lateral FWHM at the focal depth."""
        sigma = self.lateral_fwhm_mm / (2.0 * np.sqrt(2.0 * np.log(2.0))) / (self.radius_mm + self.focus_mm)
        sigma_lines = sigma / self.dtheta
        half = int(np.ceil(3.0 * sigma_lines))
        k = np.arange(-half, half + 1)
        kernel = np.exp(-0.5 * (k / sigma_lines) ** 2)
        return (kernel / np.sqrt(np.sum(kernel**2))).astype(np.float32)


def axial_pulse(offset_mm: np.ndarray, probe: Probe) -> np.ndarray:
    """The (continuous) axial pulse of :attr:`Probe.axial_kernel` evaluated at ``offset_mm``."""
    sigma = probe.axial_fwhm_mm / (2.0 * np.sqrt(2.0 * np.log(2.0)))
    half = int(np.ceil(3.0 * sigma / probe.dr_mm))
    r = np.arange(-half, half + 1) * probe.dr_mm
    norm = np.sqrt(
        np.sum((np.exp(-0.5 * (r / sigma) ** 2) * np.cos(4.0 * np.pi * r / probe.wavelength_mm)) ** 2)
    )
    pulse = np.exp(-0.5 * (offset_mm / sigma) ** 2) * np.cos(4.0 * np.pi * offset_mm / probe.wavelength_mm)
    return pulse / norm


def coherent_rf(depth_mm: np.ndarray, line: np.ndarray, amplitude: np.ndarray, probe: Probe) -> np.ndarray:
    """Axial RF echoes of specular point reflectors at exact (sub-sample) depths on given lines.

    Placing each reflector at its true depth keeps the carrier phase continuous along a smooth
    interface; rounding depths to samples would make neighbouring lines interfere destructively.
    """
    n, m = probe.n_samples, probe.n_lines
    out = np.zeros(n * m, np.float64)
    if len(depth_mm) == 0:
        return out.reshape(n, m).astype(np.float32)
    half = (len(probe.axial_kernel) - 1) // 2
    pos = np.asarray(depth_mm, np.float64) / probe.dr_mm
    idx = np.floor(pos).astype(np.int64)[:, None] + np.arange(-half, half + 2)[None, :]
    values = np.asarray(amplitude, np.float64)[:, None] * axial_pulse(
        (idx - pos[:, None]) * probe.dr_mm, probe
    )
    lines = np.broadcast_to(np.asarray(line, np.int64)[:, None], idx.shape)
    ok = (idx >= 0) & (idx < n) & (lines >= 0) & (lines < m)
    out += np.bincount((idx * m + lines)[ok], weights=values[ok], minlength=n * m)
    return out.reshape(n, m).astype(np.float32)


def rf_from_scatterers(scatter: np.ndarray, probe: Probe, coherent: np.ndarray | None = None) -> np.ndarray:
    """Convolve a scattering function on the polar grid with the pulse-echo PSF (separable).

    ``coherent`` is an optional axial RF of specular reflectors (:func:`coherent_rf`), added before the
    lateral (beam) convolution.
    """
    rf = ndimage.convolve1d(scatter, probe.axial_kernel, axis=0, mode="constant")
    if coherent is not None:
        rf = rf + coherent
    return ndimage.convolve1d(rf, probe.lateral_kernel, axis=1, mode="nearest")


def envelope(rf: np.ndarray) -> np.ndarray:
    """Envelope detection: magnitude of the analytic signal (Hilbert transform along depth)."""
    return np.abs(signal.hilbert(rf, axis=0)).astype(np.float32)


def display_filter(env: np.ndarray, sigma: tuple[float, float] = (1.0, 0.6)) -> np.ndarray:
    """The scanner's mild speckle smoothing of the envelope before log compression (samples, lines).

    Without it, log compression turns the envelope's isolated zeros into black cracks that real
    scanners (which filter and interpolate) do not show; the speckle grain itself is kept.
    """
    return ndimage.gaussian_filter(env, sigma=sigma, mode="nearest")


def attenuation_gain(atten_db_cm_mhz: np.ndarray, probe: Probe) -> np.ndarray:
    """Round-trip amplitude factor from the depth integral of the local attenuation coefficient."""
    nepers_per_unit = np.float32(2.0 * (probe.dr_mm / 10.0) * probe.f0_mhz * np.log(10.0) / 20.0)
    return np.exp(-nepers_per_unit * np.cumsum(atten_db_cm_mhz, axis=0, dtype=np.float32))


def tgc_gain(probe: Probe, extra_db: float = 0.0, slope_error: float = 0.0) -> np.ndarray:
    """Time-gain compensation: undo a nominal attenuation, with an operator gain and slope error."""
    depth_cm = probe.depths / 10.0
    db = 2.0 * probe.tgc_db_cm_mhz * (1.0 + slope_error) * probe.f0_mhz * depth_cm + extra_db
    return np.power(10.0, db / 20.0).astype(np.float32)[:, None]


def log_compress(env: np.ndarray, reference: float, dynamic_range_db: float) -> np.ndarray:
    """Map an envelope to [0, 255]: ``reference`` -> 255, ``reference`` - DR dB -> 0 (float)."""
    db = 20.0 * np.log10(np.maximum(env, 1e-12) / reference)
    return np.clip((db + dynamic_range_db) * (255.0 / dynamic_range_db), 0.0, 255.0).astype(np.float32)


def scan_convert(polar: np.ndarray, probe: Probe) -> np.ndarray:
    """Bilinear scan conversion of a polar image to the display sector; zero outside the fan."""
    index, weights = probe.scan_weights
    rows, cols = probe.image_shape
    return np.einsum("kp,kp->p", polar.ravel()[index], weights).reshape(rows, cols)


def speckle_patch(rng: np.random.Generator, probe: Probe | None = None, shape: tuple[int, int] = (900, 224)):
    """Envelope of a homogeneous, densely scattering patch (for checking speckle statistics)."""
    probe = probe or Probe()
    scatter = rng.standard_normal(shape, dtype=np.float32)
    return envelope(rf_from_scatterers(scatter, probe))
