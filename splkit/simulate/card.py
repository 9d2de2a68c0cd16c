"""A plain-language description of the simulated cohort, for the book's data chapter."""

from __future__ import annotations

from splkit.simulate import clinical
from splkit.simulate.generate import PROBE


def model_card() -> str:
    """Markdown describing how the simulated cohort is generated (numbers taken from the code)."""
    p = PROBE
    rows, cols = p.image_shape
    missing = ", ".join(f"{name} {rate:.0%}" for name, rate in clinical.MISSING_RATES.items())
    return f"""**Simulated data.** No image or value in this cohort comes from a patient. splkit generates it
(`splkit simulate`, module `splkit.simulate`) so that the book runs anywhere; every number in this book
describes the simulator, not a clinical population.

- **Outcome.** Each patient is malignant with probability {clinical.MALIGNANT_SHARE:.0%}. A latent
  severity shared by both modalities plus separate noise gives an imaging latent
  (`{clinical.DELTA_IMG} × malignant + noise`) and a clinical latent (`{clinical.DELTA_CLIN} × malignant +
  noise`); the noises correlate with ρ² = {clinical.RHO**2:.2f}. Neither modality identifies the outcome, and
  they are partly independent, so combining them can help.
- **Lesion.** From the imaging latent: malignant lesions tend to be larger, round, lobulated or
  spiculated masses with irregular margins, heterogeneous echo, anechoic necrosis and interruption of the
  pleural line; benign ones tend to be wedge-shaped or irregular consolidations with air bronchograms,
  more homogeneous echo and sometimes a pleural effusion. All of these overlap between the classes.
- **Image.** Lung ultrasound physics: chest wall (skin, fat, striated muscle), a bright pleural line,
  aerated lung shown only by A-line reverberations, sometimes a rib with its acoustic shadow; the lesion
  abuts the pleura and replaces aerated lung. Random scatterers are convolved with a {p.f0_mhz:g} MHz
  pulse-echo point-spread function ({p.axial_fwhm_mm:g} mm axial, {p.lateral_fwhm_mm:g} mm lateral
  resolution), attenuated with depth, envelope-detected, log-compressed ({p.dynamic_range_db:g} dB) and
  scan-converted to a convex sector {p.depth_mm:g} mm deep: {rows} × {cols} pixels of {p.pixel_mm:g} mm.
- **Masks.** A reader's smoothed outline of the lesion; a second reader, for a random subset, clicks
  fewer points, smooths more and drifts slightly in or out (Dice with reader 1 about 0.85–0.95).
- **Clinical table.** From the clinical latent: age, sex, smoking and pack-years, cough, haemoptysis,
  fever, CEA, CYFRA21-1, NSE, CRP, WBC, colour-Doppler grade and lobe, with the directions reported for
  subpleural lesions (older, male, smokers, higher CEA/CYFRA21-1 towards malignant; fever, higher
  CRP/WBC towards benign). Lesion size, air bronchogram and effusion are read off the simulated lesion.
  Laboratory values are missing completely at random ({missing}).
"""
