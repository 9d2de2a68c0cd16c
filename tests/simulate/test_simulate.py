"""Tests of the simulated SPL cohort (``splkit.simulate``): physics, layout, determinism, realism."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from PIL import Image

from splkit.simulate import (
    PROBE,
    RAYLEIGH_SNR,
    anatomy,
    bmode,
    lesion,
    simulate_clinical_table,
    simulate_cohort,
    speckle_patch,
)
from splkit.simulate.clinical import VARIABLES
from splkit.simulate.generate import sample_patient, simulate_patient

N_SMALL = 12


@pytest.fixture(scope="module")
def cohort(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sim") / "cohort"
    return simulate_cohort(n=N_SMALL, seed=3, out=out, n_reader2=6, progress=False)


def _tree_hash(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# --- physics ---------------------------------------------------------------------------------------
def test_rayleigh_constant():
    assert RAYLEIGH_SNR == pytest.approx(1.913, abs=1e-3)


def test_fully_developed_speckle_is_rayleigh():
    """Dense scatterers through the PSF + Hilbert envelope: mean/std = sqrt(pi/(4-pi)) within 5 %."""
    env = speckle_patch(np.random.default_rng(11))
    core = env[40:-40, 10:-10]  # away from the zero-padded edges of the convolution
    assert core.mean() / core.std() == pytest.approx(RAYLEIGH_SNR, rel=0.05)


def test_sparse_scatterers_are_not_rayleigh():
    """The same chain with very few scatterers per resolution cell gives pre-Rayleigh statistics."""
    rng = np.random.default_rng(5)
    shape = (900, 224)
    scatter = rng.standard_normal(shape, dtype=np.float32) * (rng.random(shape) < 0.003)
    env = bmode.envelope(bmode.rf_from_scatterers(scatter.astype(np.float32), PROBE))[40:-40, 10:-10]
    assert env.mean() / env.std() < 0.9 * RAYLEIGH_SNR


def _fwhm(profile: np.ndarray) -> float:
    """Full width at half maximum of a single-peaked profile, in samples (linear interpolation)."""
    peak = int(np.argmax(profile))
    half = profile[peak] / 2.0
    left = peak - np.flatnonzero(profile[peak::-1] < half)[0]
    right = peak + np.flatnonzero(profile[peak:] < half)[0]
    # interpolate the crossings
    lo = left + (half - profile[left]) / (profile[left + 1] - profile[left])
    hi = right - 1 + (profile[right - 1] - half) / (profile[right - 1] - profile[right])
    return float(hi - lo)


def test_point_spread_function_has_the_stated_resolution():
    """A point reflector at the focus images with the probe's axial and lateral FWHM (within 10 %)."""
    line = PROBE.n_lines // 2
    coherent = bmode.coherent_rf(np.array([PROBE.focus_mm]), np.array([line]), np.array([1.0]), PROBE)
    env = bmode.envelope(bmode.rf_from_scatterers(np.zeros_like(coherent), PROBE, coherent=coherent))
    row = int(np.argmax(env[:, line]))
    axial_mm = _fwhm(env[:, line]) * PROBE.dr_mm
    lateral_mm = _fwhm(env[row, :]) * PROBE.dtheta * (PROBE.radius_mm + PROBE.focus_mm)
    assert axial_mm == pytest.approx(PROBE.axial_fwhm_mm, rel=0.1)
    assert lateral_mm == pytest.approx(PROBE.lateral_fwhm_mm, rel=0.1)


def test_probe_geometry_and_spacing():
    rows, cols = PROBE.image_shape
    assert 380 <= rows <= 600 and 380 <= cols <= 650
    assert 0.15 <= PROBE.pixel_mm <= 0.25
    assert 100 <= PROBE.depth_mm <= 140
    # axial sampling resolves the RF carrier (period lambda/2 in depth) with >= 3 samples
    assert PROBE.wavelength_mm / 2 / PROBE.dr_mm >= 3


# --- layout and contents --------------------------------------------------------------------------
def test_layout_and_clinical_table(cohort: Path):
    table = pd.read_csv(cohort / "clinical.csv")
    assert list(table.columns[:3]) == ["patient_id", "label", "spacing_mm"]
    assert "cohort" not in table.columns
    assert set(VARIABLES) <= set(table.columns)
    assert len(table) == N_SMALL and table["patient_id"].is_unique
    assert table["patient_id"].str.fullmatch(r"SIM-20\d\d-\d{5}").all()
    assert not table["patient_id"].str.fullmatch(r"P\d+").any()
    assert set(table["label"]) <= {"benign", "malignant"}
    assert (table["spacing_mm"] == PROBE.pixel_mm).all()
    variables = yaml.safe_load((cohort / "variables.yaml").read_text())
    assert set(variables) == set(VARIABLES)
    for spec in variables.values():
        assert spec["type"] in {"numeric", "binary", "categorical", "ordinal"}
        assert {"unit", "allowed", "description"} <= set(spec)
    assert yaml.safe_load((cohort / "simulation.yaml").read_text())["simulated"] is True
    for pid in table["patient_id"]:
        image = np.asarray(Image.open(cohort / "images" / f"{pid}.png"))
        mask = np.asarray(Image.open(cohort / "masks" / f"{pid}.png"))
        assert image.dtype == np.uint8 and image.ndim == 2 and image.shape == PROBE.image_shape
        assert mask.shape == image.shape
        assert set(np.unique(mask)) == {0, 255}
        assert image[0, 0] == 0 and image[0, -1] == 0  # black outside the fan
        assert image[mask > 0].mean() > 20  # the lesion is tissue, not air
    assert len(list((cohort / "masks_reader2").glob("*.png"))) == 6


def test_lesion_abuts_the_pleura():
    for index in range(6):
        patient = sample_patient(7, index)
        scene = anatomy.render(patient.phenotype, np.random.default_rng(index), PROBE)
        x, z = PROBE.pixel_xz
        depth = np.hypot(x, z)[scene.lesion] - PROBE.radius_mm
        assert scene.lesion.sum() > 200
        assert depth.min() < scene.pleural_depth_mm + 3.0  # touches the lung surface
        assert depth.min() > scene.pleural_depth_mm - 6.0  # and does not sit in the chest wall


def test_reported_size_matches_the_image():
    """The table's lesion size (with 6 % measurement error) agrees with the lesion as displayed."""
    ratios = []
    for index in range(8):
        patient = sample_patient(2, index)
        scene = anatomy.render(patient.phenotype, np.random.default_rng(index), PROBE)
        ratios.append(patient.row["lesion_size_mm"] / scene.max_diameter_mm)
    assert 0.85 < np.median(ratios) < 1.15  # lesions cut by the sector edge are measured larger


def test_second_reader_disagrees_realistically(cohort: Path):
    scores = []
    for path in sorted((cohort / "masks_reader2").glob("*.png")):
        m1 = np.asarray(Image.open(cohort / "masks" / path.name)) > 0
        m2 = np.asarray(Image.open(path)) > 0
        scores.append(lesion.dice(m1, m2))
    assert all(s < 0.995 for s in scores)  # not copies
    assert all(s > 0.6 for s in scores)
    assert 0.8 <= np.median(scores) <= 0.98


def test_reader_mask_is_a_smoothed_outline():
    row, image, mask1, mask2 = simulate_patient(4, 2, reader2=True)
    assert mask2 is not None and 0.75 < lesion.dice(mask1, mask2) < 0.995


def test_clinical_table_matches_cohort(cohort: Path):
    written = pd.read_csv(cohort / "clinical.csv")
    fast = simulate_clinical_table(N_SMALL, seed=3)
    pd.testing.assert_frame_equal(
        written, fast.astype(written.dtypes.to_dict()), check_exact=False, rtol=1e-9
    )


def test_loader_accepts_the_simulated_cohort(cohort: Path):
    from splkit.cohort import load_cohort

    loaded = load_cohort(cohort, positive_label="malignant")
    assert len(loaded.table) == N_SMALL
    assert set(loaded.spacing.values()) == {PROBE.pixel_mm}
    assert len(loaded.masks_reader2) == 6
    assert (cohort / ".splkit_salt").is_file()  # deterministic, so pseudonyms agree across machines


def test_loader_accepts_simulated_dicom(tmp_path: Path):
    from splkit.cohort import load_cohort

    out = simulate_cohort(n=14, seed=0, out=tmp_path / "dcm", dicom=True, n_reader2=0, progress=False)
    loaded = load_cohort(out, positive_label="malignant", full=True)
    assert all(v == pytest.approx(PROBE.pixel_mm) for v in loaded.spacing.values())


def test_model_card_is_labelled_simulated():
    from splkit.simulate import model_card

    text = model_card()
    assert text.startswith("**Simulated data.**") and f"{PROBE.pixel_mm:g} mm" in text


# --- determinism ----------------------------------------------------------------------------------
def test_same_seed_byte_identical_and_seed_matters(tmp_path: Path):
    a = simulate_cohort(n=4, seed=1, out=tmp_path / "a", n_reader2=2, progress=False)
    b = simulate_cohort(n=4, seed=1, out=tmp_path / "b", n_reader2=2, progress=False)
    c = simulate_cohort(n=4, seed=2, out=tmp_path / "c", n_reader2=2, progress=False)
    assert _tree_hash(a) == _tree_hash(b)
    hashes_c = _tree_hash(c)
    assert (a / "clinical.csv").read_bytes() != (c / "clinical.csv").read_bytes()
    assert set(_tree_hash(a).values()).isdisjoint(v for k, v in hashes_c.items() if k.startswith("images"))


def test_parallel_and_serial_generation_agree(tmp_path: Path):
    serial = simulate_cohort(n=4, seed=5, out=tmp_path / "serial", n_reader2=2, n_jobs=1, progress=False)
    parallel = simulate_cohort(n=4, seed=5, out=tmp_path / "parallel", n_reader2=2, n_jobs=2, progress=False)
    assert _tree_hash(serial) == _tree_hash(parallel)


def test_patients_do_not_depend_on_n():
    small, large = simulate_clinical_table(5, seed=9), simulate_clinical_table(8, seed=9)
    pd.testing.assert_frame_equal(small, large.iloc[:5])


def test_regenerate_replaces_only_simulated_folders(tmp_path: Path):
    out = simulate_cohort(n=2, seed=0, out=tmp_path / "sim", n_reader2=0, progress=False)
    simulate_cohort(n=3, seed=0, out=out, n_reader2=0, progress=False)
    assert len(pd.read_csv(out / "clinical.csv")) == 3
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp folders left
    real = tmp_path / "real"
    (real / "images").mkdir(parents=True)
    with pytest.raises(FileExistsError, match="not a simulated cohort"):
        simulate_cohort(n=2, seed=0, out=real, progress=False)


def test_is_current_detects_a_stale_folder(tmp_path: Path, monkeypatch):
    from splkit.simulate import generate

    out = simulate_cohort(n=2, seed=0, out=tmp_path / "sim", n_reader2=0, progress=False)
    assert generate.is_current(out, n=2, seed=0)
    assert not generate.is_current(out, n=3, seed=0)
    assert not generate.is_current(out, n=2, seed=1)
    assert not generate.is_current(tmp_path / "absent", n=2, seed=0)
    monkeypatch.setattr(generate, "GENERATOR_VERSION", "older-or-newer")
    assert not generate.is_current(out, n=2, seed=0)


def test_dicom_output(tmp_path: Path):
    import pydicom

    out = simulate_cohort(n=2, seed=0, out=tmp_path / "dcm", dicom=True, n_reader2=0, progress=False)
    table = pd.read_csv(out / "clinical.csv")
    assert "spacing_mm" not in table.columns
    for pid in table["patient_id"]:
        ds = pydicom.dcmread(out / "images" / f"{pid}.dcm")
        assert ds.SOPClassUID == pydicom.uid.UltrasoundImageStorage
        assert ds.PhotometricInterpretation == "MONOCHROME2"
        region = ds.SequenceOfUltrasoundRegions[0]
        assert region.PhysicalUnitsXDirection == 3 and region.PhysicalUnitsYDirection == 3
        assert region.PhysicalDeltaX == pytest.approx(PROBE.pixel_mm / 10)
        mask = np.asarray(Image.open(out / "masks" / f"{pid}.png"))
        assert ds.pixel_array.shape == mask.shape


# --- the cohort behaves like an SPL cohort ---------------------------------------------------------
@pytest.fixture(scope="module")
def table609() -> pd.DataFrame:
    return simulate_clinical_table(609, seed=0)


def test_malignant_share_and_missingness(table609: pd.DataFrame):
    share = (table609["label"] == "malignant").mean()
    assert 0.55 <= share <= 0.65
    for column in ("cyfra21_1", "nse", "crp"):
        assert 0.03 <= table609[column].isna().mean() <= 0.18
    assert table609[["age", "sex", "label", "lesion_size_mm"]].notna().all().all()


def test_clinical_directions(table609: pd.DataFrame):
    mal = table609["label"] == "malignant"
    med = table609.groupby(mal)[["age", "cea", "cyfra21_1", "crp", "lesion_size_mm"]].median()
    assert med.loc[True, "age"] > med.loc[False, "age"]
    assert med.loc[True, "cea"] > med.loc[False, "cea"]
    assert med.loc[True, "cyfra21_1"] > med.loc[False, "cyfra21_1"]
    assert med.loc[True, "crp"] < med.loc[False, "crp"]
    assert med.loc[True, "lesion_size_mm"] > med.loc[False, "lesion_size_mm"]
    assert table609.loc[mal, "air_bronchogram"].mean() < table609.loc[~mal, "air_bronchogram"].mean()
    assert table609.loc[mal, "fever"].mean() < table609.loc[~mal, "fever"].mean()


def test_clinical_logistic_auc_is_plausible(table609: pd.DataFrame):
    """Cross-validated logistic regression on the clinical table: informative, not trivially perfect."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    y = (table609["label"] == "malignant").astype(int)
    x = table609.drop(columns=["patient_id", "label", "spacing_mm"])
    x["sex"] = (x["sex"] == "male").astype(int)
    for col in ("cea", "cyfra21_1", "nse", "crp"):
        x[col] = np.log(x[col])
    x = pd.get_dummies(x, columns=["location"], dtype=float)
    x = x.fillna(x.median())
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    scores = cross_val_predict(model, x, y, cv=folds, method="predict_proba")[:, 1]
    auc = roc_auc_score(y, scores)
    assert 0.68 <= auc <= 0.92


# --- the external centre (splkit.simulate.centre) ---------------------------------------------------

#: sha256 of the development centre's output, taken before centres existed: the default cohort must not
#: change without a GENERATOR_VERSION bump.
DEFAULT_TABLE_SHA256 = "23241382e9fe6666188768c4f6e581b046be61fa81d7bbcf02f2b07f05bc766b"
DEFAULT_PATIENT5_SHA256 = (
    "3b140c7074ea91420bb4cc1f88b92895633dcda0538493cb33253eb20d432461",
    "07142de211ba7c75a86dfb11eca80f297b3d28b65aa889199453274f5ce16073",
    "f70f80d50e3fdd075975d60a18f798a6819f4caa0415cc39463f0d5616d88315",
)


def test_the_development_centre_output_is_unchanged():
    table = simulate_clinical_table(n=40, seed=0)
    text = table.to_csv(index=False, lineterminator="\n").encode()
    assert hashlib.sha256(text).hexdigest() == DEFAULT_TABLE_SHA256
    _, image, mask1, mask2 = simulate_patient(0, 5, reader2=True)
    assert (
        tuple(hashlib.sha256(a.tobytes()).hexdigest() for a in (image, mask1, mask2))
        == DEFAULT_PATIENT5_SHA256
    )


def test_the_external_centre_differs_in_scanner_case_mix_and_prevalence():
    from splkit.simulate import DEVELOPMENT, EXTERNAL

    dev = simulate_clinical_table(n=300, seed=1)
    ext = simulate_clinical_table(n=300, seed=1, centre="external")
    assert ext["patient_id"].str.startswith("EXT-").all() and not set(ext.patient_id) & set(dev.patient_id)
    assert (ext["spacing_mm"] == EXTERNAL.pixel_mm).all() and EXTERNAL.pixel_mm != DEVELOPMENT.pixel_mm
    assert (ext["label"] == "malignant").mean() < (dev["label"] == "malignant").mean()
    assert ext["age"].mean() > dev["age"].mean() + 2
    _, image, mask, _ = simulate_patient(1, 2, centre="external")
    assert image.shape == bmode.Probe(pixel_mm=EXTERNAL.pixel_mm).image_shape and mask.shape == image.shape


def test_an_external_folder_records_its_centre_and_is_stale_for_another(tmp_path):
    from splkit.simulate.generate import is_current

    out = simulate_cohort(n=2, seed=4, out=tmp_path / "ext", n_reader2=0, progress=False, centre="external")
    provenance = yaml.safe_load((out / "simulation.yaml").read_text())
    assert provenance["centre"]["name"] == "external" and provenance["pixel_spacing_mm"] == 0.3
    assert is_current(out, n=2, seed=4, centre="external")
    assert not is_current(out, n=2, seed=4)  # a development cohort is asked for: regenerate
    clinical = pd.read_csv(out / "clinical.csv")
    assert clinical["patient_id"].str.startswith("EXT-").all()
