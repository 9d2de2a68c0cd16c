"""Perturbation robustness: the perturbed masks (deterministic, as documented, inside the image), the
method and its fallback, and the ICC over perturbed masks through the real extraction."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from splkit.config import load_profile, profile_schema
from splkit.radiomics import robustness as rb
from splkit.radiomics import workflow
from splkit.radiomics.extract import ImageTask

SHA = "ab" * 32


def disc(shape=(128, 128), centre=(64, 64), radius=30.0) -> np.ndarray:
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return (((yy - centre[0]) ** 2 + (xx - centre[1]) ** 2) <= radius**2).astype(np.uint8)


def dice(a, b) -> float:
    return 2 * float((a & b).sum()) / float(a.sum() + b.sum())


def test_schema_lists_the_methods():
    assert list(profile_schema()["radiomics"]["robustness"]) == list(rb.METHODS)
    assert load_profile("default").radiomics.robustness == "readers"


def test_perturbations_are_deterministic():
    mask = disc()
    first, again = rb.perturb(mask, 7, SHA), rb.perturb(mask.copy(), 7, SHA)
    assert len(first) == rb.N_PERTURBATIONS == 4
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert rb.shifts(7, SHA) == rb.shifts(7, SHA)
    # another seed or another mask file draws other shifts (the area changes stay)
    assert rb.shifts(8, SHA) != rb.shifts(7, SHA) or rb.shifts(7, "cd" * 32) != rb.shifts(7, SHA)


def test_area_changes_and_shifts_as_documented():
    mask = disc(radius=30)
    area = mask.sum()
    for fraction in rb.PERTURBATIONS:
        adapted = rb.adapt_area(mask, fraction)
        assert adapted.sum() == pytest.approx((1 + fraction) * area, rel=0.03)
        assert (adapted <= mask).all() if fraction < 0 else (adapted >= mask).all()  # evenly in or out
    shifts = rb.shifts(0, SHA)
    assert all(max(abs(dy), abs(dx)) <= rb.MAX_SHIFT_PX and (dy, dx) != (0, 0) for dy, dx in shifts)
    perturbed = rb.perturb(mask, 0, SHA)
    for fraction, (dy, dx), p in zip(rb.PERTURBATIONS, shifts, perturbed, strict=True):
        np.testing.assert_array_equal(p, rb.translate(rb.adapt_area(mask, fraction), dy, dx))
        centre = np.argwhere(p).mean(axis=0) - np.argwhere(mask).mean(axis=0)
        np.testing.assert_allclose(centre, (dy, dx), atol=0.2)
        assert 0.85 < dice(mask, p) < 0.97  # as the simulated second reader (0.83 to 0.98)
    assert len({p.tobytes() for p in perturbed}) == len(perturbed)  # all differ, none is the original
    assert mask.tobytes() not in {p.tobytes() for p in perturbed}


def test_perturbed_masks_stay_inside_the_image():
    mask = disc(shape=(40, 50), centre=(2, 48), radius=8)  # touches the top and right edges
    for dy, dx in [(-2, 2), (0, 1), (-1, 0)]:  # towards the edges it touches
        moved = rb.translate(mask, dy, dx)
        assert moved.shape == mask.shape and moved.dtype == mask.dtype
        assert moved.sum() < mask.sum()  # pixels left the image; none wrapped round
    assert rb.translate(mask, 2, -2).sum() == mask.sum()  # away from them: nothing lost
    assert rb.translate(mask, -2, 2)[-2:, :].sum() == 0 and rb.translate(mask, -2, 2)[:, :2].sum() == 0
    for p in rb.perturb(mask, 3, SHA):
        assert p.shape == mask.shape and set(np.unique(p)) == {0, 1}
    tiny = np.zeros((10, 10), np.uint8)
    tiny[5, 5] = 1
    assert rb.adapt_area(tiny, -0.2).sum() == 1  # at least one pixel stays
    almost = 1 - tiny
    assert rb.adapt_area(almost, 0.2).sum() < almost.size  # never the whole image


@pytest.mark.parametrize(
    ("requested", "n_both", "method"),
    [
        ("readers", 3, "readers"),
        ("readers", 2, "perturbation"),
        ("readers", 0, "perturbation"),
        ("perturbation", 50, "perturbation"),
        ("none", 0, "none"),
    ],
)
def test_method_and_fallback(requested, n_both, method):
    settings = load_profile("smoke", overrides={"radiomics": {"robustness": requested}})
    chosen = rb.choose_method(settings, n_both)
    assert chosen.method == method and chosen.requested == requested
    assert chosen.fallback == (requested == "readers" and method == "perturbation")
    assert chosen.describe()["label"] == rb.LABELS[method]
    if chosen.fallback:
        assert f"only {n_both} training patients" in chosen.reason
        text = rb.method_sentence(chosen, "ICC3", 0.75, 40)
        assert "perturbation robustness" in text and "but only" in text
    if method == "perturbation":
        assert chosen.describe()["perturbations"]["area_change"] == list(rb.PERTURBATIONS)


def test_fallback_counts_training_patients_with_both_readers():
    settings = load_profile("smoke")
    index = pd.Index([f"P{i:04d}" for i in range(1, 11)], name="patient")
    table = pd.DataFrame({"cohort": ["train"] * 5 + ["validation"] * 5}, index=index)
    reader1 = pd.DataFrame({"original_firstorder_Mean": np.arange(10.0)}, index=index)
    only_validation = reader1.iloc[5:]  # 5 second-reader masks, none in training
    assert workflow.robustness_for(settings, table, reader1, only_validation).method == "perturbation"
    assert workflow.robustness_for(settings, table, reader1, reader1.iloc[:3]).method == "readers"
    assert workflow.robustness_for(settings, table, reader1, reader1.iloc[:0]).method == "perturbation"
    with pytest.raises(ValueError, match="radiomics.robustness must be one of"):
        rb.choose_method({"radiomics": {"robustness": "both"}}, 10)


def small_cohort(folder, n=6, tiny=False):
    """``n`` patients: a uniform bright patch (level by patient) much larger than the lesion mask, in speckle
    far from it, so every perturbed mask sees the same grey levels as the reader-1 mask."""
    rng = np.random.default_rng(0)
    images, masks, index = {}, {}, []
    for i in range(n):
        patient = f"P{i + 1:04d}"
        image = np.clip(rng.rayleigh(30, (96, 96)), 0, 255)
        image[8:88, 8:88] = 60 + 25 * i  # the patch
        radius = 4.5 if tiny and i == n - 1 else 12 + 2 * i  # 69 pixels, 45 once shrunk by 20 %
        mask = disc((96, 96), (48, 48), radius)  # grown by 20 % and shifted: still inside the patch
        for kind, array, store in (("image", image, images), ("mask", mask * 255, masks)):
            path = folder / f"{patient}_{kind}.png"
            Image.fromarray(array.astype(np.uint8)).save(path)
            store[patient] = path
        index.append(patient)
    table = pd.DataFrame(
        {"cohort": "train", "label": np.arange(n) % 2}, index=pd.Index(index, name="patient")
    )
    spacing = {p: 0.25 for p in index}
    return SimpleNamespace(table=table, images=images, masks=masks, masks_reader2={}, spacing=spacing)


def test_icc_over_perturbed_masks_through_the_extraction(tmp_path):
    cohort = small_cohort(tmp_path)
    overrides = {"n_jobs": 1, "radiomics": {"cache_dir": str(tmp_path / "cache")}}
    settings = load_profile("smoke", overrides=overrides)
    reader1 = workflow.extract_for(settings, cohort, reader=1, progress=False).features
    reader2 = workflow.extract_for(settings, cohort, reader=2, progress=False).features
    assert reader2.empty
    filtered = workflow.reproducibility_filter(settings, cohort, reader1, reader2, progress=False)
    assert filtered.robustness.method == "perturbation" and filtered.robustness.fallback
    assert filtered.n_patients == 6 and filtered.cost["images"] == 6 * rb.N_PERTURBATIONS
    assert filtered.cost["images_extracted_now"] == 24 and filtered.cost["seconds_per_patient"] > 0
    # the grey levels inside every perturbed mask are those of the patch: first-order ICC is 1
    for name in ("original_firstorder_Mean", "original_firstorder_Median"):
        assert filtered.values[name] == pytest.approx(1.0, abs=1e-9)
    assert filtered.values["original_shape2D_PixelSurface"] > 0.9  # areas differ between patients
    kept = filtered.values.index[filtered.values >= settings.radiomics.icc_threshold]
    assert list(filtered.candidates.columns) == list(kept) and len(filtered.candidates) == 6

    files = sorted((tmp_path / "cache" / rb.MASK_FOLDER).rglob("*.png"))
    assert len(files) == 6 * rb.N_PERTURBATIONS  # content-hashed, under the radiomics cache
    stamps = [f.stat().st_mtime_ns for f in files]
    again = workflow.reproducibility_filter(settings, cohort, reader1, reader2, progress=False)
    pd.testing.assert_series_equal(again.values, filtered.values)
    assert again.cost["images_extracted_now"] == 0 and again.cost["seconds_per_patient"] is None
    assert [f.stat().st_mtime_ns for f in files] == stamps  # not rewritten

    task = ImageTask("P0001", cohort.images["P0001"], cohort.masks["P0001"], 0.25)
    written = rb.perturbed_mask_files(task, settings.seed, tmp_path / "cache" / rb.MASK_FOLDER)
    assert set(written) <= set(files)
    read = np.asarray(Image.open(written[0]))
    assert read.shape == (96, 96) and set(np.unique(read)) == {0, 255}


def test_none_keeps_every_feature(tmp_path):
    cohort = small_cohort(tmp_path, n=3)
    settings = load_profile("smoke", overrides={"radiomics": {"robustness": "none"}})
    index = cohort.table.index
    reader1 = pd.DataFrame({"original_firstorder_Mean": [1.0, 2.0, 3.0], "diagnostics_x": "a"}, index=index)
    filtered = workflow.reproducibility_filter(settings, cohort, reader1, reader1.iloc[:0])
    assert filtered.robustness.method == "none" and filtered.values.empty and filtered.n_patients == 0
    assert list(filtered.candidates.columns) == ["original_firstorder_Mean"]
    assert "not assessed" in rb.method_sentence(filtered.robustness, "ICC3", 0.75, 0)


def test_a_perturbed_mask_pyradiomics_refuses_leaves_its_patient_out(tmp_path):
    cohort = small_cohort(tmp_path, n=4, tiny=True)  # P0004: 69 pixels, the preset's minimum is 50
    overrides = {
        "n_jobs": 1,
        "radiomics": {"cache_dir": str(tmp_path / "cache"), "robustness": "perturbation"},
    }
    settings = load_profile("smoke", overrides=overrides)
    assert settings.radiomics.allow_exclusions is False  # the reader-1 rule; perturbed masks are excluded
    reader1 = workflow.extract_for(settings, cohort, reader=1, progress=False).features
    filtered = workflow.reproducibility_filter(settings, cohort, reader1, reader1.iloc[:0], progress=False)
    assert [(e["patient"], e["perturbation"]) for e in filtered.cost["excluded"]] == [("P0004", 1)]
    assert filtered.n_patients == 3 and len(filtered.candidates) == 4  # candidates: every patient
    assert "so 1 patient (P0004) is left out of the ICC" in rb.cost_sentence(filtered.cost)
