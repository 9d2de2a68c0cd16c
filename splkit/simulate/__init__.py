"""The simulated subpleural pulmonary lesion (SPL) cohort: splkit's default, fully synthetic data.

SIMULATED DATA.  No image or value here comes from a patient.  The generator exists so that the book
runs end to end on a fresh machine, and so that radiomics and CNN features computed on it mean
something: images are formed by a physical model of B-mode ultrasound, and the label acts on images and
clinical variables through known, overlapping distributions.

Generative model (per patient ``i``; every random draw uses generators spawned from
``numpy.random.SeedSequence(seed, spawn_key=(i,))``, so a patient does not depend on ``n``)
------------------------------------------------------------------------------------------------------
1. **Label and latents** (:mod:`.clinical`).  ``y ~ Bernoulli(0.58)`` (1 = malignant).  A shared latent
   ``eta`` and two modality latents with separate noise,
   ``t_img = 1.8 y + 0.3 eta + 0.95 e_img`` and ``t_clin = 1.2 y + 0.3 eta + 0.95 e_clin``
   (all ``e`` standard normal): imaging and clinical data are partly independent, so fusing them can
   help, and neither identifies the label perfectly.
2. **Lesion phenotype** (:mod:`.lesion`), from ``t_img`` through logistic / log-normal links: shape
   (mass -- round, lobulated, spiculated -- more likely when malignant; wedge or irregular consolidation
   when benign), maximum diameter (log-normal, median 28 mm, larger when malignant), margin irregularity
   and spicules, internal heterogeneity (log-normal texture field), anechoic necrosis, pleural line
   interruption (malignant), air bronchograms, B-lines beside the lesion and pleural effusion (benign).
3. **Scene** (:mod:`.anatomy`) on the probe's polar grid: skin, hypoechoic subcutaneous fat, muscle with
   fibrillar striations, fascial interfaces, a bright pleural line; aerated lung below it shows only
   A-line reverberations at integer multiples of the pleural depth and a faint haze; optionally a rib
   with its acoustic shadow and an anechoic effusion between the pleurae.  The lesion abuts the lung
   surface and replaces aerated lung: tissue speckle inside, a bright deep interface with air below
   it, no A-lines beneath it, a weaker (or, when interrupted, absent) pleural line above it.
4. **Image formation** (:mod:`.bmode`): scatterers with tissue-dependent density and amplitude plus
   coherent reflectors, depth attenuation (tissue-dependent, dB/cm/MHz: posterior enhancement behind
   fluid and shadowing behind bone arise from it), convolution with a pulse-echo PSF (2.5 MHz
   Gaussian-modulated cosine, 0.8 mm axial and 2 mm lateral FWHM), electronic noise, TGC, Hilbert
   envelope, 60 dB log compression to 8 bits and scan conversion to a convex sector (45 mm radius,
   56 degree, 100 mm deep) at an isotropic **0.25 mm** pixel spacing (422 x 545 pixels).
5. **Masks**: the reader outlines the visible lesion with a smoothed polygon (vertices every ~2 mm,
   small systematic offset, jitter); a second reader (for ``n_reader2`` random patients) clicks less
   densely, smooths more and drifts in or out by ~0.5 mm, giving Dice ~0.85-0.95 with reader 1.
6. **Clinical table** (:mod:`.clinical`), from ``t_clin``: age, sex, smoking and pack-years, cough,
   haemoptysis, fever, CEA, CYFRA21-1, NSE, CRP, WBC (log-normal laboratory values), CDFI grade,
   lobe; plus the ultrasound descriptors read off the simulated lesion (maximum diameter with 6 %
   measurement error, air bronchogram, effusion).  Laboratory values are missing completely at
   random (2-12 %).

Public API
----------
:func:`simulate_cohort` writes the cohort folder (``clinical.csv``, ``variables.yaml``, ``images/``,
``masks/``, ``masks_reader2/``, ``simulation.yaml``); :func:`simulate_clinical_table` returns the
clinical table alone, without rendering images; :func:`model_card` describes the model in markdown for
the book.  ``centre="external"`` (:mod:`.centre`) simulates a second hospital for external validation:
another scanner gain and pixel spacing, older patients and a lower prevalence, the same disease model.  The folder also holds a ``.splkit_salt`` derived from the seed, so the pseudonyms and the
split of a simulated cohort are the same on every machine.
"""

from splkit.simulate.bmode import RAYLEIGH_SNR, Probe, speckle_patch
from splkit.simulate.card import model_card
from splkit.simulate.centre import DEVELOPMENT, EXTERNAL, Centre
from splkit.simulate.generate import PROBE, simulate_clinical_table, simulate_cohort, simulate_patient

__all__ = [
    "DEVELOPMENT",
    "EXTERNAL",
    "Centre",
    "PROBE",
    "RAYLEIGH_SNR",
    "Probe",
    "model_card",
    "simulate_clinical_table",
    "simulate_cohort",
    "simulate_patient",
    "speckle_patch",
]
