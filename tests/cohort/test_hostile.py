"""Hostile cohorts (issue 18): bad input never gets past the door, and patient ids never leave.

Each case is a tiny cohort (32 x 32 PNGs, see ``test_load.make_cohort``) broken in one way; the test
asserts the exact behaviour: an error naming patient + file + problem, a warning, or the documented
rule (``data/README.md``).
"""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk
from cohort.test_load import SIZE, image_array, make_cohort, only, problems_of, write_png

from splkit.cohort import CohortError, load_cohort, load_cohort_for, write_run_tables
from splkit.cohort.image_checks import NOT_DECODED
from splkit.config import load_profile
from splkit.radiomics.presets import load_preset


@pytest.fixture(scope="module")
def preset():
    return load_preset("ultrasound2d")


def pixels(cohort, patient_id: str) -> np.ndarray:
    return sitk.GetArrayFromImage(cohort.read_image(cohort.pseudonym_key()[patient_id]))


# ---------------------------------------------------------------------------------- intensity rule


def test_default_8_bit_cohort_keeps_its_pixel_values(tmp_path):
    cohort = load_cohort(make_cohort(tmp_path / "c"), salt="s", full=True)
    for i in range(10):
        np.testing.assert_array_equal(pixels(cohort, f"SIM-{i + 1}"), image_array(i).astype(np.float32))
    assert cohort.intensity_counts() == {"8-bit, as is": 10}
    assert not any("grey levels" in note for note in cohort.notes)


def test_16_bit_image_gives_the_same_grey_levels_as_8_bit(tmp_path):
    root = make_cohort(tmp_path / "c")
    write_png(root / "images" / "SIM-2.png", image_array(1).astype(np.uint16) * 257)  # same scene
    cohort = load_cohort(root, salt="s", full=True)
    np.testing.assert_allclose(pixels(cohort, "SIM-2"), image_array(1), atol=1e-3)
    assert cohort.intensity_counts() == {"8-bit, as is": 9, "16-bit, rescaled x 255/65535": 1}
    assert (
        "grey levels (intensity rule, data/README.md): 9 images 8-bit, as is; "
        "1 image 16-bit, rescaled x 255/65535" in cohort.summary()
    )
    assert cohort.headline()["intensity_rules"] == cohort.intensity_counts()


def test_8_bit_data_in_a_16_bit_file_is_refused_when_decoded(tmp_path):
    root = make_cohort(tmp_path / "c")
    write_png(root / "images" / "SIM-3.png", image_array(2).astype(np.uint16))  # values 0-254 only
    cohort = load_cohort(root, salt="s")  # the header says 16-bit: fine without decoding
    assert cohort.intensity_counts()["16-bit, rescaled x 255/65535"] == 1
    problem = only(problems_of(root, full=True), "16-bit image uses only grey levels")
    assert (problem.patient, problem.file) == ("SIM-3", "images/SIM-3.png")
    assert problem.message.startswith("16-bit image uses only grey levels 0-254 of 0-65535")
    assert "save it as an 8-bit image" in problem.message


def test_float_nrrd_outside_0_255_is_refused_and_inside_is_kept(tmp_path):
    root = make_cohort(tmp_path / "c")
    (root / "images" / "SIM-4.png").unlink()
    inside = image_array(3).astype(np.float32)
    sitk.WriteImage(sitk.GetImageFromArray(inside), str(root / "images" / "SIM-4.nrrd"))
    cohort = load_cohort(root, salt="s", full=True)
    np.testing.assert_array_equal(pixels(cohort, "SIM-4"), inside)
    assert cohort.intensity_counts()["signed or float values within 0-255, as is"] == 1
    sitk.WriteImage(sitk.GetImageFromArray(inside * 10 - 500), str(root / "images" / "SIM-4.nrrd"))
    problem = only(problems_of(root, full=True), "image has grey levels from -500 to")
    assert (problem.patient, problem.file) == ("SIM-4", "images/SIM-4.nrrd")
    assert "export the B-mode image as an 8-bit or 16-bit unsigned image" in problem.message


# ---------------------------------------------------------------------------------------------- ROI


def test_uniform_lesion_is_a_warning_with_patient_and_file(tmp_path):
    root = make_cohort(tmp_path / "c")
    flat = image_array(4)
    flat[8:20, 10:24] = 77  # the mask's rectangle
    write_png(root / "images" / "SIM-5.png", flat)
    fast = load_cohort(root, salt="s")
    assert fast.image_checks["roi_uniform"].isna().all() and fast.headline()["n_uniform_rois"] is None
    assert fast.validation_report().endswith(NOT_DECODED)
    assert NOT_DECODED == (
        "pixel data not decoded; run with --full or the run decodes every image before the long steps"
    )
    cohort = load_cohort(root, salt="s", full=True)
    (warning,) = cohort.warnings
    assert (warning.patient, warning.file) == ("SIM-5", "images/SIM-5.png")
    assert warning.message == (
        "all 168 lesion pixels have the grey level 77 (a uniform lesion): texture features would be "
        "pyradiomics placeholders; check the image and the mask"
    )
    assert int(cohort.image_checks["roi_uniform"].sum()) == 1 and cohort.headline()["n_uniform_rois"] == 1
    assert "patient SIM-5 (images/SIM-5.png): all 168 lesion pixels" in cohort.validation_report()
    assert "1 lesion(s) with a single grey level" in cohort.summary() and "SIM-5" not in cohort.summary()


def test_lesions_under_the_preset_minimum_are_all_listed(tmp_path, preset):
    root = make_cohort(tmp_path / "c", reader2=3)
    small = np.zeros((SIZE, SIZE), np.uint8)
    small[5:12, 5:12] = 255  # 49 pixels
    write_png(root / "masks" / "SIM-2.png", small)
    small[5:12, 12] = 255  # exactly 56: fine
    write_png(root / "masks" / "SIM-3.png", small)
    edge = np.zeros((SIZE, SIZE), np.uint8)
    edge[3:13, 3:8] = 1  # exactly 50 pixels: pyradiomics refuses size <= minimumROISize
    write_png(root / "masks_reader2" / "SIM-1.png", edge)
    line = np.zeros((SIZE, SIZE), np.uint8)
    line[10, 2:30] = 255
    write_png(root / "masks" / "SIM-7.png", line)
    load_cohort(root, salt="s")  # without a preset, nothing to check
    problems = problems_of(root, preset=preset)
    assert {(p.patient, p.file) for p in problems} == {
        ("SIM-2", "masks/SIM-2.png"),
        ("SIM-1", "masks_reader2/SIM-1.png"),
        ("SIM-7", "masks/SIM-7.png"),
    }
    assert only(problems, "lesion has 49").message == (
        "lesion has 49 pixels; the radiomics preset 'ultrasound2d' needs more than 50 (minimumROISize 50): "
        "pyradiomics would stop on this patient"
    )
    assert only(problems, "lesion has 50").message.startswith("reader-2 mask: lesion has 50 pixels")
    assert only(problems, "lesion is a line (1 x 28 pixels)").patient == "SIM-7"


def test_load_cohort_for_checks_the_profile_preset(tmp_path):
    root = make_cohort(tmp_path / "c")
    small = np.zeros((SIZE, SIZE), np.uint8)
    small[5:10, 5:10] = 1
    write_png(root / "masks" / "SIM-6.png", small)
    settings = load_profile("default", overrides={"data": {"path": str(root)}})
    with pytest.raises(CohortError) as caught:
        load_cohort_for(settings)
    assert str(caught.value).startswith("patient SIM-6 (masks/SIM-6.png): lesion has 25 pixels")


def test_spacing_too_small_for_the_log_sigmas(tmp_path, preset):
    root = make_cohort(tmp_path / "c", extra={"spacing_mm": [0.2] * 9 + [0.0025]})
    problem = only(problems_of(root, preset=preset), "too small for the LoG filter")
    assert (problem.patient, problem.file) == ("SIM-10", "images/SIM-10.png")
    assert problem.message.startswith(
        "image of 32 x 32 pixels at 0.0025 x 0.0025 mm is too small for the LoG filter of the radiomics "
        "preset 'ultrasound2d' (sigma 5 mm needs at least 2001 pixels per side)"
    )


# ------------------------------------------------------------------------------------ broken files


def test_corrupt_pixels_pass_the_fast_check_and_fail_the_full_one(tmp_path):
    root = make_cohort(tmp_path / "c")
    data = bytearray((root / "images" / "SIM-8.png").read_bytes())
    start = data.index(b"IDAT") + 8
    data[start : start + 30] = bytes(30)  # end marker intact
    (root / "images" / "SIM-8.png").write_bytes(bytes(data))
    cohort = load_cohort(root, salt="s")
    assert not cohort.pixels_decoded and cohort.validation_report().splitlines()[-1] == NOT_DECODED
    problem = only(problems_of(root, full=True), "corrupt")
    assert str(problem) == (
        "patient SIM-8 (images/SIM-8.png): corrupt PNG pixel data: the decoder failed although the file "
        "is complete"
    )


def test_empty_text_renamed_and_truncated_files_say_what_they_are(tmp_path):
    root = make_cohort(tmp_path / "c")
    (root / "images" / "SIM-1.png").write_bytes(b"")
    (root / "images" / "SIM-2.png").write_text("patient_id,label\nSIM-2,benign\n")
    jpeg = root / "x.jpg"
    sitk.WriteImage(sitk.GetImageFromArray(image_array(2)), str(jpeg))
    jpeg.rename(root / "images" / "SIM-3.png")
    good = (root / "masks" / "SIM-4.png").read_bytes()
    (root / "masks" / "SIM-4.png").write_bytes(good[: len(good) // 2])
    problems = {(p.patient, p.file): p.message for p in problems_of(root)}
    assert problems[("SIM-1", "images/SIM-1.png")] == "not a readable PNG (0 bytes)"
    assert problems[("SIM-2", "images/SIM-2.png")].startswith(
        "not a readable PNG: the file holds text, not an image"
    )
    assert (
        problems[("SIM-3", "images/SIM-3.png")] == "not a readable PNG: it is a JPEG file (rename it to .jpg)"
    )
    assert problems[("SIM-4", "masks/SIM-4.png")].startswith(
        f"truncated PNG (incomplete file: no end marker after {len(good) // 2} bytes"
    )
    assert not any("ImageIO" in m or "RuntimeError" in m for m in problems.values())


def test_read_errors_hold_no_path_or_id(tmp_path):
    from splkit.cohort import imaging

    path = tmp_path / "HOSP-00042-SMITH.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100) + b"IEND\xaeB`\x82")
    with pytest.raises(imaging.ImageReadError) as caught:
        imaging.read_image(path, spacing_mm=0.2)
    assert "HOSP" not in str(caught.value) and str(tmp_path) not in str(caught.value)


# ------------------------------------------------------------------------------------- the table


def test_mixed_label_coding_names_patients_and_rows(tmp_path):
    labels = [
        "benign",
        "malignant",
        "1",
        "benign",
        "0",
        "malignant",
        "benign",
        "malignant",
        "benign",
        "malignant",
    ]
    problems = problems_of(make_cohort(tmp_path / "c", labels=labels))
    assert {(p.patient, p.file) for p in problems} == {("SIM-3", "clinical.csv"), ("SIM-5", "clinical.csv")}
    assert only(problems, "row 4").message == (
        "label '1' (row 4) is a 0/1 code but 8 other labels are text (benign/malignant); use one coding"
    )


def test_patient_id_na_is_an_id(tmp_path):
    root = make_cohort(tmp_path / "c", prefix="X")
    for folder in ("images", "masks"):
        (root / folder / "X1.png").rename(root / folder / "NA.png")
    table = pd.read_csv(root / "clinical.csv")
    table.loc[0, "patient_id"] = "NA"
    table.to_csv(root / "clinical.csv", index=False)
    assert "NA" in load_cohort(root, salt="s").pseudonym_key()


def test_nfd_file_name_matches_nfc_id(tmp_path):
    root = make_cohort(tmp_path / "c")
    nfc = unicodedata.normalize("NFC", "José-1")
    table = pd.read_csv(root / "clinical.csv")
    table.loc[0, "patient_id"] = nfc
    table.to_csv(root / "clinical.csv", index=False)
    for folder in ("images", "masks"):
        (root / folder / "SIM-1.png").rename(root / folder / f"{unicodedata.normalize('NFD', nfc)}.png")
    cohort = load_cohort(root, salt="s")
    assert nfc in cohort.pseudonym_key()
    assert any("Unicode normalisation (NFC" in note for note in cohort.notes)


def test_european_csv_semicolons_and_decimal_commas(tmp_path):
    root = make_cohort(tmp_path / "c", extra={"CEA": [f"{1 + i / 10:.1f}" for i in range(10)]})
    table = pd.read_csv(root / "clinical.csv", dtype=str)
    for column in ("spacing_mm", "CEA"):
        table[column] = table[column].str.replace(".", ",", regex=False)
    table.to_csv(root / "clinical.csv", sep=";", index=False)
    cohort = load_cohort(root, salt="s")
    assert set(cohort.spacing.values()) == {0.2} and cohort.table["CEA"].max() == pytest.approx(1.9)
    assert any("semicolon-separated with decimal commas" in note for note in cohort.notes)
    table.to_csv(root / "clinical.csv", index=False)  # comma-separated: decimal commas are quoted
    problems = problems_of(root)
    hints = [p for p in problems if "decimal comma / semicolon separator" in p.message]
    assert len(hints) == 1 and hints[0].patient is None and hints[0].file == "clinical.csv"
    assert len(str(CohortError(problems)).splitlines()) <= 4  # grouped, not one line per value


def test_negative_spacing_is_one_message(tmp_path):
    root = make_cohort(tmp_path / "c", extra={"spacing_mm": [0.2] * 9 + [-0.2]})
    (problem,) = problems_of(root)
    assert (
        str(problem)
        == "patient SIM-10 (clinical.csv): spacing_mm is '-0.2'; need a positive number (mm per pixel)"
    )


def test_mask_identical_to_the_image(tmp_path):
    root = make_cohort(tmp_path / "c")
    write_png(root / "masks" / "SIM-9.png", image_array(8))
    problem = only(problems_of(root), "looks like an image")
    assert (problem.patient, problem.file) == ("SIM-9", "masks/SIM-9.png")
    n = len(np.unique(image_array(8)))
    assert (
        problem.message
        == f"mask looks like an image: {n} distinct values; a mask has 0 and one label (1 or 255)"
    )


def test_implausible_spacing_is_a_warning(tmp_path):
    root = make_cohort(tmp_path / "c", extra={"spacing_mm": [0.2] * 8 + [25, 0.0025]})
    cohort = load_cohort(root, salt="s")
    assert {(w.patient, w.file) for w in cohort.warnings} == {
        ("SIM-9", "clinical.csv"),
        ("SIM-10", "clinical.csv"),
    }
    assert next(w for w in cohort.warnings if w.patient == "SIM-9").message == (
        "pixel spacing 25 mm (from the spacing_mm column) is outside the plausible ultrasound range "
        "0.01-2 mm per pixel: check the unit (mm per pixel)"
    )
    assert "2 image(s) with a pixel spacing outside the plausible ultrasound range" in cohort.summary()


def test_stray_sub_folder_is_reported(tmp_path):
    root = make_cohort(tmp_path / "c")
    write_png(root / "images" / "old" / "SIM-1.png", image_array())
    cohort = load_cohort(root, salt="s")
    (warning,) = cohort.warnings
    assert str(warning) == (
        "images/old/: sub-folder with 1 file is not read: splkit reads only the files directly in images/; "
        "move the folder out of the cohort folder"
    )


def test_shared_problem_is_one_line_with_count_and_first_patients(tmp_path):
    root = make_cohort(tmp_path / "c", spacing=False)
    with pytest.raises(CohortError) as caught:
        load_cohort(root, salt="s")
    assert len(caught.value.problems) == 10
    assert str(caught.value) == (
        "10 patients: no pixel spacing: PNG has none; add a spacing_mm column to clinical.csv or set "
        "data.default_spacing_mm in the profile — SIM-1, SIM-2, SIM-3, SIM-4, SIM-5 and 5 more"
    )


def test_no_input_id_in_what_may_be_written(tmp_path):
    root = make_cohort(tmp_path / "c", prefix="HOSP-SMITH-", extra={"spacing_mm": [0.2] * 9 + [25]})
    flat = image_array(0)
    flat[8:20, 10:24] = 9
    write_png(root / "images" / "HOSP-SMITH-1.png", flat)
    write_png(root / "images" / "old" / "HOSP-SMITH-1.png", flat)
    cohort = load_cohort(root, salt="s", full=True)
    assert len(cohort.warnings) == 3 and "HOSP-SMITH" in cohort.validation_report()
    write_run_tables(cohort, tmp_path / "run")
    texts = [p.read_text() for p in (tmp_path / "run").iterdir()]
    texts += [cohort.summary(), str(cohort.headline()), cohort.image_checks.to_csv(), repr(cohort)]
    assert not any("HOSP" in text or "SMITH" in text for text in texts)
