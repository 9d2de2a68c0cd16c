"""Tests of splkit.cohort: the data contract, validation errors, pseudonyms and the split.

Each hostile cohort is built inside the test: tiny 32 x 32 PNG images and masks written with SimpleITK.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk

from splkit import cli
from splkit.cohort import Cohort, CohortError, Problem, load_cohort, load_cohort_for, write_run_tables
from splkit.cohort.validation import format_problems
from splkit.config import load_profile

SIZE = 32


def write_png(path: Path, array: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(sitk.GetImageFromArray(array), str(path))
    return path


def image_array(seed: int = 0, size: int = SIZE) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (size, size), dtype=np.uint8)


def mask_array(size: int = SIZE, value: int = 255) -> np.ndarray:
    mask = np.zeros((size, size), np.uint8)
    mask[8:20, 10:24] = value
    return mask


def make_cohort(
    root: Path,
    n: int = 10,
    prefix: str = "SIM-",
    labels: list | None = None,
    extra: dict | None = None,
    spacing: bool = True,
    reader2: int = 0,
) -> Path:
    """A valid cohort of ``n`` patients (alternating labels) with age and sex; returns the folder."""
    ids = [f"{prefix}{i}" for i in range(1, n + 1)]
    table = pd.DataFrame(
        {
            "patient_id": ids,
            "label": labels if labels is not None else ["malignant" if i % 2 else "benign" for i in range(n)],
            "age": [50 + i for i in range(n)],
            "sex": ["male" if i % 3 else "female" for i in range(n)],
        }
    )
    if spacing:
        table["spacing_mm"] = 0.2
    for column, values in (extra or {}).items():
        table[column] = values
    root.mkdir(parents=True, exist_ok=True)
    table.to_csv(root / "clinical.csv", index=False)
    for i, patient in enumerate(ids):
        write_png(root / "images" / f"{patient}.png", image_array(i))
        write_png(root / "masks" / f"{patient}.png", mask_array())
        if i < reader2:
            write_png(root / "masks_reader2" / f"{patient}.png", mask_array(value=1))
    return root


def problems_of(root: Path, **kwargs) -> list[Problem]:
    with pytest.raises(CohortError) as caught:
        load_cohort(root, salt="test", **kwargs)
    error = caught.value
    assert str(error).splitlines() == format_problems(error.problems)  # shared problems: one line
    return error.problems


def only(problems: list[Problem], text: str) -> Problem:
    hits = [p for p in problems if text in p.message]
    assert len(hits) == 1, f"expected one problem containing {text!r}, got {[str(p) for p in problems]}"
    return hits[0]


# ------------------------------------------------------------------------------------ a valid cohort


def test_valid_cohort_loads(tmp_path):
    root = make_cohort(tmp_path / "c", n=10, reader2=3)
    cohort = load_cohort(root, salt="s")
    assert isinstance(cohort, Cohort)
    assert cohort.table.index.name == "patient"
    assert list(cohort.table.index) == [f"P{i:04d}" for i in range(1, 11)]
    assert list(cohort.table.columns[:2]) == ["label", "cohort"]
    assert cohort.table["label"].sum() == 5
    assert cohort.clinical_columns == ["age", "sex"]
    assert cohort.variables.loc["age", "type"] == "numeric"
    assert cohort.variables.loc["sex", "type"] == "binary"
    assert cohort.variables.loc["sex", "levels"] == ("female", "male")
    assert set(cohort.variables["source"]) == {"inferred"}
    assert len(cohort.masks_reader2) == 3
    assert cohort.spacing_source == "spacing_mm column of clinical.csv"
    assert set(cohort.spacing.values()) == {0.2}
    patient = cohort.table.index[0]
    image, mask = cohort.read_image(patient), cohort.read_mask(patient)
    assert image.GetDimension() == 2 and image.GetSpacing() == (0.2, 0.2)
    assert image.GetPixelID() == sitk.sitkFloat32 and mask.GetPixelID() == sitk.sitkUInt8
    assert set(np.unique(sitk.GetArrayViewFromImage(mask))) == {0, 1}
    reader2 = next(iter(cohort.masks_reader2))
    assert cohort.read_mask(reader2, reader=2).GetSize() == (SIZE, SIZE)
    assert "10 patients" in cohort.summary()
    headline = cohort.headline()
    assert headline["n_patients"] == 10 and headline["n_reader2_masks"] == 3
    assert sum(c["n"] for c in headline["cohorts"].values()) == 10


def test_labels_zero_one_and_positive_label(tmp_path):
    root = make_cohort(tmp_path / "c", n=10, labels=[i % 2 for i in range(10)])
    assert load_cohort(root, salt="s").table["label"].sum() == 5
    text = make_cohort(tmp_path / "t", n=10, labels=["Benign"] * 3 + ["MALIGNANT"] * 7)
    assert load_cohort(text, salt="s").table["label"].sum() == 7
    assert load_cohort(text, salt="s", positive_label="benign").table["label"].sum() == 3


def test_default_spacing_when_no_column(tmp_path):
    root = make_cohort(tmp_path / "c", spacing=False)
    problems = problems_of(root)
    assert all("no pixel spacing: PNG has none" in p.message for p in problems)
    assert sorted((p.patient, p.file) for p in problems) == sorted(
        (f"SIM-{i}", f"images/SIM-{i}.png") for i in range(1, 11)
    )
    cohort = load_cohort(root, salt="s", default_spacing_mm=0.15)
    assert set(cohort.spacing.values()) == {0.15}
    assert "default" in cohort.spacing_source


def test_dicom_and_nrrd_cohort_spacing_from_headers(tmp_path):
    from cohort.test_imaging import write_dicom

    root = make_cohort(tmp_path / "c", n=10, spacing=False)
    for i in range(1, 6):  # DICOM images calibrated by their ultrasound regions, 0.1 mm
        (root / "images" / f"SIM-{i}.png").unlink()
        write_dicom(root / "images" / f"SIM-{i}.dcm", image_array(i), regions=[{"dx": 0.01, "dy": 0.01}])
    for i in range(6, 11):  # one-slice NRRD volumes with 0.25 mm spacing, masks stay PNG
        (root / "images" / f"SIM-{i}.png").unlink()
        image = sitk.GetImageFromArray(image_array(i)[None])
        image.SetSpacing((0.25, 0.25, 1.0))
        sitk.WriteImage(image, str(root / "images" / f"SIM-{i}.nrrd"))
    cohort = load_cohort(root, salt="s")
    key = cohort.pseudonym_key()
    assert cohort.spacing[key["SIM-1"]] == pytest.approx(0.1) and cohort.spacing[key["SIM-9"]] == 0.25
    assert cohort.spacing_source == "DICOM ultrasound regions (5 patients); file headers (5 patients)"
    image = cohort.read_image(key["SIM-2"])
    assert image.GetSpacing() == pytest.approx((0.1, 0.1)) and image.GetSize() == (SIZE, SIZE)
    assert cohort.read_mask(key["SIM-2"]).GetSpacing() == image.GetSpacing()
    assert "SECRET" not in cohort.summary() and "exactly 1 mm" not in cohort.summary()
    image = sitk.GetImageFromArray(image_array(1))  # spacing 1 x 1: probably not calibrated
    sitk.WriteImage(image, str(root / "images" / "SIM-10.nrrd"))
    assert "1 image header(s) give a spacing of exactly 1 mm" in load_cohort(root, salt="s").summary()


# ------------------------------------------------------------------------------ validation problems


def test_missing_image_and_mask(tmp_path):
    root = make_cohort(tmp_path / "c")
    (root / "images" / "SIM-3.png").unlink()
    (root / "masks" / "SIM-4.png").unlink()
    problems = problems_of(root)
    image = only(problems, "image file is missing")
    assert (image.patient, image.file) == ("SIM-3", "images/SIM-3.<ext>")
    mask = only(problems, "mask file is missing")
    assert (mask.patient, mask.file) == ("SIM-4", "masks/SIM-4.<ext>")
    assert str(mask).startswith("patient SIM-4 (masks/SIM-4.<ext>): ")


def test_size_mismatch(tmp_path):
    root = make_cohort(tmp_path / "c")
    write_png(root / "masks" / "SIM-2.png", mask_array(size=40))
    problem = only(problems_of(root), "40 x 40 pixels")
    assert (problem.patient, problem.file) == ("SIM-2", "masks/SIM-2.png")
    assert "32 x 32" in problem.message


def test_empty_mask(tmp_path):
    root = make_cohort(tmp_path / "c")
    write_png(root / "masks" / "SIM-5.png", np.zeros((SIZE, SIZE), np.uint8))
    problem = only(problems_of(root), "mask is empty")
    assert (problem.patient, problem.file) == ("SIM-5", "masks/SIM-5.png")


def test_mask_with_several_labels_or_bad_values(tmp_path):
    root = make_cohort(tmp_path / "c", reader2=2)
    labels = mask_array(value=1)
    labels[22:26, 4:8] = 2
    write_png(root / "masks" / "SIM-1.png", labels)
    write_png(root / "masks" / "SIM-2.png", mask_array(value=128))
    write_png(root / "masks_reader2" / "SIM-1.png", labels)
    problems = problems_of(root)
    several = [p for p in problems if "several labels" in p.message]
    assert {(p.patient, p.file) for p in several} == {
        ("SIM-1", "masks/SIM-1.png"),
        ("SIM-1", "masks_reader2/SIM-1.png"),
    }
    bad = only(problems, "{0, 128}")
    assert (bad.patient, bad.file) == ("SIM-2", "masks/SIM-2.png")


def test_corrupt_and_unsupported_files(tmp_path):
    root = make_cohort(tmp_path / "c")
    (root / "images" / "SIM-6.png").write_bytes(b"\x89PNG\r\n\x1a\n this is not a png")
    good = (root / "masks" / "SIM-7.png").read_bytes()
    (root / "masks" / "SIM-7.png").write_bytes(good[: len(good) // 2])  # truncated
    (root / "images" / "notes.txt").write_text("hello")
    problems = problems_of(root)
    corrupt = only([p for p in problems if p.patient == "SIM-6"], "truncated PNG")
    assert (corrupt.patient, corrupt.file) == ("SIM-6", "images/SIM-6.png")
    truncated = [p for p in problems if p.patient == "SIM-7"]
    assert len(truncated) == 1 and truncated[0].file == "masks/SIM-7.png"
    assert truncated[0].message.startswith("truncated PNG (incomplete file: no end marker after ")
    unsupported = only(problems, "unsupported image file type")
    assert unsupported.file == "images/notes.txt"


def test_truncated_image_found_without_decoding_and_corrupt_pixels_with_full(tmp_path):
    root = make_cohort(tmp_path / "c")
    good = (root / "images" / "SIM-8.png").read_bytes()
    (root / "images" / "SIM-8.png").write_bytes(good[: len(good) - 40])  # header intact, end cut off
    problem = only(problems_of(root), "incomplete")
    assert (problem.patient, problem.file) == ("SIM-8", "images/SIM-8.png")
    broken = bytearray(good)
    start = broken.index(b"IDAT") + 8
    broken[start : start + 20] = b"\x00" * 20  # complete file, corrupt compressed pixel data
    (root / "images" / "SIM-8.png").write_bytes(bytes(broken))
    load_cohort(root, salt="s")  # the header-only check does not decode the pixels
    problem = only(problems_of(root, full=True), "corrupt PNG pixel data")
    assert (problem.patient, problem.file) == ("SIM-8", "images/SIM-8.png")


def test_table_level_problems(tmp_path):
    root = make_cohort(tmp_path / "c")
    text = (root / "clinical.csv").read_text()
    (root / "clinical.csv").write_text(text.replace("patient_id", "ID", 1).replace("age", "sex", 1))
    messages = {str(p) for p in problems_of(root)}
    assert messages == {
        "clinical.csv: required column 'patient_id' is missing",
        "clinical.csv: column 'sex' appears 2 times",
    }
    (root / "clinical.csv").unlink()
    assert [str(p) for p in problems_of(root)] == ["clinical.csv: file is missing"]


def test_bad_spacing_values_and_empty_table(tmp_path):
    spacing = [0.2, "abc", -1, 0.2, "", 0.2, 0.2, 0.2, 0.2, 0.2]
    root = make_cohort(tmp_path / "c", extra={"spacing_mm": spacing})
    problems = problems_of(root, default_spacing_mm=0.1)  # the empty cell falls back to the default
    assert {(p.patient, p.file) for p in problems} == {("SIM-2", "clinical.csv"), ("SIM-3", "clinical.csv")}
    assert all("need a positive number" in p.message for p in problems)
    empty = make_cohort(tmp_path / "e", n=0)
    assert [str(p) for p in problems_of(empty)] == [
        "images/: folder is missing",
        "masks/: folder is missing",
        "clinical.csv: has no patients",
    ]


def test_semicolon_csv_with_bom_and_capitalised_columns(tmp_path):
    root = make_cohort(tmp_path / "c")
    table = pd.read_csv(root / "clinical.csv").rename(columns={"patient_id": "Patient_ID", "label": "Label"})
    table.to_csv(root / "clinical.csv", sep=";", index=False, encoding="utf-8-sig")
    cohort = load_cohort(root, salt="s")
    assert len(cohort.table) == 10 and cohort.clinical_columns == ["age", "sex"]


def test_duplicate_ids(tmp_path):
    root = make_cohort(tmp_path / "c")
    table = pd.read_csv(root / "clinical.csv")
    pd.concat([table, table.iloc[[2]]]).to_csv(root / "clinical.csv", index=False)
    problems = problems_of(root)
    assert len(problems) == 1
    problem = only(problems, "appears 2 times")
    assert (problem.patient, problem.file) == ("SIM-3", "clinical.csv")
    assert "rows 4, 12" in problem.message


def test_ids_without_images_and_images_without_rows(tmp_path):
    root = make_cohort(tmp_path / "c")
    write_png(root / "images" / "SIM-99.png", image_array())
    write_png(root / "masks" / "SIM-99.png", mask_array())
    table = pd.read_csv(root / "clinical.csv")
    table.loc[len(table)] = ["SIM-50", "benign", 60, "male", 0.2]
    table.to_csv(root / "clinical.csv", index=False)
    write_png(root / "images" / "sim-50.png", image_array())  # wrong case
    write_png(root / "masks_reader2" / "SIM-77.png", mask_array())
    write_png(root / "masks_reader2" / "SIM-1.png", mask_array(size=20))
    problems = problems_of(root)
    orphans = [p for p in problems if "no row in clinical.csv" in p.message]
    assert {(p.patient, p.file) for p in orphans} == {
        ("SIM-99", "images/SIM-99.png"),
        ("SIM-99", "masks/SIM-99.png"),
        ("sim-50", "images/sim-50.png"),
        ("SIM-77", "masks_reader2/SIM-77.png"),
    }
    mismatch = only(problems, "reader-2 mask is 20 x 20 pixels")
    assert (mismatch.patient, mismatch.file) == ("SIM-1", "masks_reader2/SIM-1.png")
    missing = only(problems, "image file is missing")
    assert missing.patient == "SIM-50" and "must match patient_id exactly" in missing.message


def test_labels_not_binary(tmp_path):
    labels = ["benign", "malignant", "maybe", "", "2", "benign", "malignant", "benign", "malignant", "benign"]
    root = make_cohort(tmp_path / "c", labels=labels)
    problems = [p for p in problems_of(root) if p.message.startswith("label is")]
    assert {p.patient for p in problems} == {"SIM-3", "SIM-4", "SIM-5"}
    assert all(p.file == "clinical.csv" for p in problems)
    assert "'maybe'" in next(p.message for p in problems if p.patient == "SIM-3")
    assert "missing" in next(p.message for p in problems if p.patient == "SIM-4")


def test_split_with_one_class(tmp_path):
    cohorts = ["train"] * 6 + ["validation"] * 4
    labels = ["malignant", "benign"] * 3 + ["malignant"] * 4
    root = make_cohort(tmp_path / "c", labels=labels, extra={"cohort": cohorts})
    problem = only(problems_of(root), "only one class")
    assert "validation" in problem.message and problem.file == "clinical.csv"
    too_few = make_cohort(tmp_path / "d", labels=["malignant"] * 9 + ["benign"])
    assert only(problems_of(too_few), "cannot split")


def test_non_numeric_value_in_numeric_column(tmp_path):
    cea = ["1.5", "2.0", "<0.5", "3.1", "2,7", "4.0", "1.1", "2.2", "3.3", "4.4"]
    root = make_cohort(tmp_path / "c", extra={"CEA": cea})
    problems = [p for p in problems_of(root) if p.message.startswith("CEA")]
    assert {(p.patient, p.file) for p in problems} == {("SIM-3", "clinical.csv"), ("SIM-5", "clinical.csv")}
    assert "'<0.5'" in problems[0].message and "decimal point" in problems[1].message


def test_variables_yaml_declares_types_and_allowed_values(tmp_path):
    root = make_cohort(
        tmp_path / "c", extra={"cdfi": ["0", "I", "II", "III", "II", "I", "0", "III", "II", "IV"]}
    )
    (root / "variables.yaml").write_text(
        "age: {type: numeric, unit: years, allowed: [18, 55], description: Age at biopsy}\n"
        "sex: {type: binary, allowed: [female, male]}\n"
        "cdfi: {type: ordinal, allowed: ['0', I, II, III], description: Adler grade}\n"
    )
    problems = problems_of(root)
    assert {(p.patient, p.message.split(" ")[0]) for p in problems} == {
        ("SIM-7", "age"),
        ("SIM-8", "age"),
        ("SIM-9", "age"),
        ("SIM-10", "age"),
        ("SIM-10", "cdfi"),
    }
    (root / "variables.yaml").write_text(
        "variables:\n  age: {type: numeric, unit: years, allowed: null}\n"
        "  sex: {type: binary, unit: null, allowed: [female, male], description: ~}\n"
        "  cdfi: {type: ordinal, allowed: ['0', I, II, III, IV]}\n"
    )
    cohort = load_cohort(root, salt="s")
    assert cohort.variables.loc["age", ["unit", "source"]].tolist() == ["years", "variables.yaml"]
    assert cohort.variables.loc["sex", ["unit", "description", "source"]].tolist() == [
        "",
        "",
        "variables.yaml",
    ]
    encoded = cohort.encoded_clinical()
    assert sorted(encoded["cdfi"].unique()) == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert set(encoded["sex"]) == {0.0, 1.0}


def test_bad_variables_yaml(tmp_path):
    root = make_cohort(tmp_path / "c")
    (root / "variables.yaml").write_text("age: {type: number, units: years}\nweight: {type: numeric}\n")
    problems = problems_of(root)
    assert only(problems, "type 'number'").file == "variables.yaml"
    assert only(problems, "unknown field(s) units").file == "variables.yaml"
    assert only(problems, "'weight' is not a column").file == "variables.yaml"


def test_identifier_like_columns_are_refused(tmp_path):
    n = 40
    extra = {
        "name": [f"Person {i}" for i in range(n)],
        "biopsy_date": [f"2021-01-{i % 28 + 1:02d}" for i in range(n)],
        "record": [100000 + 7 * i for i in range(n)],
        "comment": [f"lesion seen on day {i}" for i in range(n)],
        "copy": [f"SIM-{i + 1}" for i in range(n)],
    }
    root = make_cohort(tmp_path / "c", n=n, extra=extra)
    problems = problems_of(root)
    assert {p.message.split("'")[1] for p in problems} == set(extra)
    assert all(p.file == "clinical.csv" for p in problems)
    (root / "variables.yaml").write_text("record: {type: numeric}\ncomment: {type: categorical}\n")
    assert {p.message.split("'")[1] for p in problems_of(root)} == {"name", "biopsy_date", "copy"}


def test_all_problems_reported_at_once(tmp_path):
    root = make_cohort(tmp_path / "c")
    (root / "images" / "SIM-1.png").unlink()
    write_png(root / "masks" / "SIM-2.png", np.zeros((SIZE, SIZE), np.uint8))
    table = pd.read_csv(root / "clinical.csv")
    table.loc[2, "label"] = "unknown"
    table.to_csv(root / "clinical.csv", index=False)
    with pytest.raises(CohortError) as caught:
        load_cohort(root, salt="s")
    lines = str(caught.value).splitlines()
    assert len(lines) == 3
    assert any(line.startswith("patient SIM-1 (images/SIM-1.<ext>)") for line in lines)
    assert any(line.startswith("patient SIM-2 (masks/SIM-2.png)") for line in lines)
    assert any(line.startswith("patient SIM-3 (clinical.csv)") for line in lines)


def test_missing_values_table_and_exclusion_rule(tmp_path):
    n = 20
    crp = [np.nan if i % 2 else 5.0 + i for i in range(n)]  # 50 % missing
    nse = [np.nan if i == 0 else 10.0 + i for i in range(n)]  # 5 % missing
    root = make_cohort(tmp_path / "c", n=n, extra={"CRP": crp, "NSE": nse})
    cohort = load_cohort(root, salt="s", seed=1)
    assert cohort.missing.loc["CRP", "n_missing"] == 10 and cohort.missing.loc["CRP", "percent"] == 50.0
    assert cohort.missing.loc["NSE", "n_missing"] == 1
    assert (
        cohort.missing.loc[["CRP", "NSE"], ["n_missing_train", "n_missing_validation"]].to_numpy().sum() == 11
    )
    assert "CRP" not in cohort.clinical_columns and "NSE" in cohort.clinical_columns
    assert "missing values: CRP 10 (50 %), NSE 1 (5 %)" in cohort.summary()
    assert not cohort.variables.loc["CRP", "included"]
    assert any("CRP" in note and "> 30 %" in note for note in cohort.notes)
    assert cohort.table["CRP"].isna().sum() == 10  # raw values kept


# ---------------------------------------------------------------------------------------- the split


def test_split_through_load_cohort_is_stratified_and_seeded(tmp_path):
    root = make_cohort(tmp_path / "c", n=20)
    first = load_cohort(root, salt="s", seed=7)
    assert (first.table["cohort"] == "validation").sum() == 4
    assert first.validation["label"].sum() == 2 and first.train["label"].sum() == 8
    again = load_cohort(root, salt="other", seed=7)
    key1, key2 = first.pseudonym_key(), again.pseudonym_key()
    split1 = {i: first.table.at[key1[i], "cohort"] for i in key1}
    split2 = {i: again.table.at[key2[i], "cohort"] for i in key2}
    assert split1 == split2  # the split does not depend on the salt


def test_cohort_column_is_respected(tmp_path):
    cohorts = ["training"] * 4 + ["test"] * 4 + ["External"] * 2
    root = make_cohort(tmp_path / "c", extra={"cohort": cohorts})
    cohort = load_cohort(root, salt="s")
    key = cohort.pseudonym_key()
    assert [cohort.table.at[key[f"SIM-{i}"], "cohort"] for i in range(1, 11)] == (
        ["train"] * 4 + ["validation"] * 4 + ["external"] * 2
    )
    assert "cohort" not in cohort.clinical_columns
    bad = make_cohort(tmp_path / "d", extra={"cohort": ["train"] * 9 + ["holdout"]})
    assert only(problems_of(bad), "cohort is 'holdout'").patient == "SIM-10"


# ------------------------------------------------------------------------------- pseudonymisation


def test_pseudonyms_stable_and_salted(tmp_path):
    root = make_cohort(tmp_path / "c")
    first = load_cohort(root).pseudonym_key()  # creates .splkit_salt
    salt = (root / ".splkit_salt").read_text().strip()
    assert len(salt) == 32 and int(salt, 16) >= 0
    assert load_cohort(root).pseudonym_key() == first
    assert load_cohort(root, salt=salt).pseudonym_key() == first
    other = load_cohort(root, salt="another salt").pseudonym_key()
    assert set(other.values()) == set(first.values()) and other != first


def test_no_input_id_in_run_outputs(tmp_path):
    ids = [f"HOSP-{i:05d}-SMITH" for i in range(12)]
    fever = [1, 0, np.nan] * 4
    root = make_cohort(tmp_path / "c", n=12, prefix="HOSP-X", extra={"fever": fever})
    table = pd.read_csv(root / "clinical.csv")
    for old, new in zip(table["patient_id"], ids, strict=True):
        (root / "images" / f"{old}.png").rename(root / "images" / f"{new}.png")
        (root / "masks" / f"{old}.png").rename(root / "masks" / f"{new}.png")
    table["patient_id"] = ids
    table.to_csv(root / "clinical.csv", index=False)
    cohort = load_cohort(root)
    run_dir = tmp_path / "run"
    write_run_tables(cohort, run_dir)
    written = {p.name: p.read_text() for p in run_dir.iterdir()}
    assert set(written) == {"cohort.csv", "split.csv", "variables.csv"}
    texts = [*written.values(), cohort.summary(), repr(cohort), repr(cohort.images), str(cohort.headline())]
    for text in texts:
        assert not any(patient in text for patient in ids)
        assert "HOSP" not in text and "SMITH" not in text
    table_out = pd.read_csv(run_dir / "cohort.csv")
    fever_written = pd.read_csv(run_dir / "cohort.csv", dtype=str, keep_default_na=False)["fever"]
    assert set(fever_written) == {"0", "1", ""}  # 0/1 codes stay 0/1 (not 1.0), missing stays empty
    assert list(table_out.columns[:3]) == ["patient", "cohort", "label"]
    assert table_out["patient"].str.fullmatch(r"P\d{4}").all()
    assert list(pd.read_csv(run_dir / "split.csv").columns) == ["patient", "cohort"]
    assert {"variable", "type", "unit", "allowed", "description"} <= set(
        pd.read_csv(run_dir / "variables.csv").columns
    )


# ------------------------------------------------------------------------------------ CLI, profile


def test_validate_cli_exit_codes(tmp_path, capsys):
    good = make_cohort(tmp_path / "good")
    assert cli.main(["validate", str(good)]) == 0
    assert "10 patients" in capsys.readouterr().out
    bad = make_cohort(tmp_path / "bad")
    (bad / "masks" / "SIM-1.png").unlink()
    assert cli.main(["validate", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "1 problem" in err and "patient SIM-1 (masks/SIM-1.<ext>): mask file is missing" in err


def test_load_cohort_for_settings(tmp_path):
    root = make_cohort(tmp_path / "c", n=10, spacing=False)
    settings = load_profile(
        "default", overrides={"data": {"path": str(root), "default_spacing_mm": 0.3}, "seed": 3}
    )
    cohort = load_cohort_for(settings)
    assert set(cohort.spacing.values()) == {0.3} and len(cohort.validation) == 2


def test_609_patients_split_487_122_through_the_loader(tmp_path):
    """The whole loader on 609 tiny pairs: the paper's split sizes, stratified (speed: benchmarks/)."""
    labels = ["malignant"] * 365 + ["benign"] * 244
    root = make_cohort(tmp_path / "c", n=609, labels=labels)
    cohort = load_cohort(root, salt="s", seed=609)
    assert (len(cohort.train), len(cohort.validation)) == (487, 122)
    assert (cohort.train["label"].sum(), cohort.validation["label"].sum()) == (292, 73)


# ------------------------------------------------------------------ new patients: label optional


def test_labels_optional_for_new_patients(tmp_path):
    root = make_cohort(tmp_path / "c", n=6)
    table = pd.read_csv(root / "clinical.csv").drop(columns="label")
    table.to_csv(root / "clinical.csv", index=False)
    assert "required column 'label' is missing" in only(problems_of(root), "label").message
    cohort = load_cohort(root, salt="s", require_labels=False)
    assert list(cohort.table.columns[:2]) == ["label", "cohort"]
    assert cohort.table["label"].isna().all() and str(cohort.table["label"].dtype) == "Int64"
    assert set(cohort.table["cohort"]) == {"new"}
    assert cohort.headline()["n_patients"] == 6
    # the same pseudonyms as with labels: they depend on the ids and the salt only
    labelled = load_cohort(make_cohort(tmp_path / "l", n=6), salt="s")
    assert cohort.pseudonym_key() == labelled.pseudonym_key()


def test_labels_partly_given_for_new_patients(tmp_path):
    labels = ["malignant", "", "benign", "unknown", "", "1"]
    root = make_cohort(tmp_path / "c", n=6, labels=labels)
    found = problems_of(root, require_labels=False)
    # an empty label is allowed; an invalid one is not, nor mixing codings
    assert {p.patient for p in found} == {"SIM-4", "SIM-6"}
    root = make_cohort(tmp_path / "ok", n=6, labels=["malignant", "", "benign", "", "", ""])
    cohort = load_cohort(root, salt="s", require_labels=False)
    key = cohort.pseudonym_key()
    assert cohort.table.at[key["SIM-1"], "label"] == 1 and cohort.table.at[key["SIM-3"], "label"] == 0
    assert cohort.table["label"].isna().sum() == 4
    assert set(cohort.table["cohort"]) == {"new"}  # no split, one class is fine


def test_cohort_column_kept_for_new_patients(tmp_path):
    root = make_cohort(tmp_path / "c", n=4, extra={"cohort": ["external", "", "External", "somewhere"]})
    found = problems_of(root, require_labels=False)
    assert [p.patient for p in found] == ["SIM-4"] and "cohort is 'somewhere'" in found[0].message
    root = make_cohort(tmp_path / "ok", n=4, extra={"cohort": ["external", "", "External", ""]})
    cohort = load_cohort(root, salt="s", require_labels=False)
    key = cohort.pseudonym_key()
    assert cohort.table.loc[[key["SIM-1"], key["SIM-3"]], "cohort"].tolist() == ["external"] * 2
    assert cohort.table.loc[[key["SIM-2"], key["SIM-4"]], "cohort"].tolist() == ["new"] * 2
    assert str(cohort.table["label"].dtype) == "int64"  # every label given: unchanged dtype


# ------------------------------------------------------------------------------ the optional centre


def test_centre_column_is_kept_and_not_a_variable(tmp_path):
    centres = ["Hospital A", "Hospital B"] * 5
    root = make_cohort(tmp_path / "c", extra={"Center": centres})  # any capitalisation, US spelling
    cohort = load_cohort(root, salt="test")
    assert "centre" not in cohort.variables.index and "Center" not in cohort.variables.index
    key = cohort.pseudonym_key()
    assert cohort.table.loc[key["SIM-2"], "centre"] == "Hospital B"
    write_run_tables(cohort, tmp_path / "run")  # the run's tables keep their columns
    assert "centre" not in pd.read_csv(tmp_path / "run" / "cohort.csv").columns
    assert "centre" not in load_cohort(make_cohort(tmp_path / "d"), salt="test").table.columns


def test_centre_must_not_carry_ids(tmp_path):
    centres = ["Hospital A"] * 7 + ["", "SIM-3", "ward of SIM-10"]
    problems = problems_of(make_cohort(tmp_path / "c", extra={"centre": centres}))
    assert only(problems, "centre is empty").patient == "SIM-8"
    assert {p.patient for p in problems if "patient id" in p.message} == {"SIM-9", "SIM-10"}
    many = [f"site {i}" for i in range(30)]
    problems = problems_of(make_cohort(tmp_path / "d", n=30, extra={"centre": many}))
    assert "looks like an identifier" in only(problems, "distinct values").message
