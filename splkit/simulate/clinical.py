"""Latent severities and the clinical table of the simulated cohort.

Each patient has a label ``y`` (1 = malignant, share 58 %, as in SPL biopsy cohorts: 52-63 %) and a
shared latent severity ``eta``.  Two modality latents carry the label with *separate* noise:

    t_img  = DELTA_IMG  * y + RHO * eta + sqrt(1 - RHO^2) * e_img
    t_clin = DELTA_CLIN * y + RHO * eta + sqrt(1 - RHO^2) * e_clin,     eta, e_img, e_clin ~ N(0, 1)

so imaging and clinical information are correlated within a class (RHO^2 of their noise is shared) but
each adds something the other lacks.  Clinical variables are noisy functions of ``t_clin``; the
ultrasound descriptors in the table (size, air bronchogram, effusion) are read off the simulated image.
Directions follow ``paper.md``: towards malignant older age, male sex, smoking, higher CEA and
CYFRA21-1, larger lesions; towards benign fever, higher CRP and WBC, air bronchograms.  NSE, cough,
haemoptysis and the colour-Doppler grade carry little signal (CDFI slightly higher in benign, inflamed
consolidations); the lobe carries none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MALIGNANT_SHARE = 0.58
DELTA_IMG = 1.8
DELTA_CLIN = 1.2
RHO = 0.3

LOBES = ("RUL", "RML", "RLL", "LUL", "LLL")

#: The data dictionary written to ``variables.yaml`` (order = column order of ``clinical.csv``).
VARIABLES: dict[str, dict] = {
    "age": {"type": "numeric", "unit": "years", "allowed": None, "description": "Age at biopsy"},
    "sex": {"type": "binary", "unit": None, "allowed": ["female", "male"], "description": "Sex"},
    "smoking": {"type": "binary", "unit": None, "allowed": [0, 1], "description": "Current or former smoker"},
    "pack_years": {
        "type": "numeric",
        "unit": "pack-years",
        "allowed": None,
        "description": "Cumulative smoking",
    },
    "cough": {"type": "binary", "unit": None, "allowed": [0, 1], "description": "Cough at presentation"},
    "hemoptysis": {"type": "binary", "unit": None, "allowed": [0, 1], "description": "Haemoptysis"},
    "fever": {"type": "binary", "unit": None, "allowed": [0, 1], "description": "Fever (>= 37.3 C)"},
    "cea": {"type": "numeric", "unit": "ng/mL", "allowed": None, "description": "Carcinoembryonic antigen"},
    "cyfra21_1": {
        "type": "numeric",
        "unit": "ng/mL",
        "allowed": None,
        "description": "Cytokeratin 19 fragment",
    },
    "nse": {"type": "numeric", "unit": "ng/mL", "allowed": None, "description": "Neuron-specific enolase"},
    "crp": {"type": "numeric", "unit": "mg/L", "allowed": None, "description": "C-reactive protein"},
    "wbc": {"type": "numeric", "unit": "10^9/L", "allowed": None, "description": "White blood cell count"},
    "lesion_size_mm": {
        "type": "numeric",
        "unit": "mm",
        "allowed": None,
        "description": "Maximum lesion diameter measured on ultrasound",
    },
    "air_bronchogram": {
        "type": "binary",
        "unit": None,
        "allowed": [0, 1],
        "description": "Air bronchogram on US",
    },
    "pleural_effusion": {
        "type": "binary",
        "unit": None,
        "allowed": [0, 1],
        "description": "Pleural effusion on US",
    },
    "cdfi_grade": {
        "type": "ordinal",
        "unit": None,
        "allowed": [0, 1, 2, 3],
        "description": "Colour Doppler flow grade (Adler 0-3)",
    },
    "location": {
        "type": "categorical",
        "unit": None,
        "allowed": list(LOBES),
        "description": "Lobe of the lesion",
    },
}

#: Missing-completely-at-random rates of the laboratory values (not measured for every patient).
MISSING_RATES = {"cea": 0.04, "cyfra21_1": 0.09, "nse": 0.12, "crp": 0.08, "wbc": 0.02}


@dataclass(frozen=True)
class Latents:
    label: int  # 1 = malignant
    t_img: float
    t_clin: float


def sample_latents(rng: np.random.Generator, malignant_share: float = MALIGNANT_SHARE) -> Latents:
    """Draw the label and the two modality latents of one patient (see the module docstring);
    ``malignant_share`` is the prevalence (another centre's, :mod:`splkit.simulate.centre`)."""
    y = int(rng.random() < malignant_share)
    eta, e_img, e_clin = rng.standard_normal(3)
    noise = np.sqrt(1.0 - RHO**2)
    return Latents(
        label=y,
        t_img=float(DELTA_IMG * y + RHO * eta + noise * e_img),
        t_clin=float(DELTA_CLIN * y + RHO * eta + noise * e_clin),
    )


def _bern(rng: np.random.Generator, logit: float) -> int:
    return int(rng.random() < 1.0 / (1.0 + np.exp(-logit)))


def sample_clinical(
    t: float,
    rng: np.random.Generator,
    lesion_size_mm: float,
    air_bronchogram: bool,
    pleural_effusion: bool,
    age_shift_years: float = 0.0,
) -> dict:
    """One patient's clinical variables given the clinical latent ``t`` and the image descriptors
    (``age_shift_years``: another centre's older or younger case mix)."""
    age = float(np.clip(np.round(rng.normal(54.0 + age_shift_years + 5.0 * t, 11.0)), 18, 90))
    male = _bern(rng, 0.1 + 0.35 * t)
    smoking = _bern(rng, -2.0 + 0.4 * t + 1.8 * male)
    pack_years = float(np.round(np.exp(rng.normal(np.log(18.0) + 0.15 * t, 0.55)), 0)) if smoking else 0.0
    row = {
        "age": age,
        "sex": "male" if male else "female",
        "smoking": smoking,
        "pack_years": pack_years,
        "cough": _bern(rng, 0.5 - 0.1 * t),
        "hemoptysis": _bern(rng, -2.2 + 0.35 * t),
        "fever": _bern(rng, -0.8 - 0.7 * t),
        "cea": float(np.round(np.exp(rng.normal(np.log(2.2) + 0.4 * t, 0.9)), 2)),
        "cyfra21_1": float(np.round(np.exp(rng.normal(np.log(2.4) + 0.3 * t, 0.7)), 2)),
        "nse": float(np.round(np.exp(rng.normal(np.log(12.5) + 0.06 * t, 0.3)), 2)),
        "crp": float(np.round(np.exp(rng.normal(np.log(14.0) - 0.4 * t, 1.1)), 1)),
        "wbc": float(np.round(np.exp(rng.normal(np.log(7.6) - 0.07 * t, 0.28)), 2)),
        "lesion_size_mm": float(np.round(lesion_size_mm * np.exp(rng.normal(0, 0.06)), 1)),
        "air_bronchogram": int(air_bronchogram),
        "pleural_effusion": int(pleural_effusion),
        "cdfi_grade": int(np.clip(np.floor(rng.normal(1.5 - 0.15 * t, 0.9)), 0, 3)),
        "location": str(rng.choice(LOBES, p=[0.27, 0.09, 0.25, 0.21, 0.18])),
    }
    for name, rate in MISSING_RATES.items():
        if rng.random() < rate:
            row[name] = float("nan")
    return row
