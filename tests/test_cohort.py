"""Tests of splkit.cohort: the data contract, validation errors, pseudonyms and the split.

Each hostile cohort is built inside the test: tiny 32 x 32 PNG images and masks written with SimpleITK.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk

from splkit import cli
from splkit.cohort import Cohort, CohortError, Problem, load_cohort, load_cohort_for, write_run_tables
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
    assert str(error).count("\n") == len(error.problems) - 1  # one line per problem
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
    corrupt = only([p for p in problems if p.patient == "SIM-6"], "PNG critical error")
    assert (corrupt.patient, corrupt.file) == ("SIM-6", "images/SIM-6.png")
    assert corrupt.message.startswith("cannot read the file (RuntimeError: ")
    truncated = [p for p in problems if p.patient == "SIM-7"]
    assert len(truncated) == 1 and truncated[0].file == "masks/SIM-7.png"
    assert "cannot read the file" in truncated[0].message
    unsupported = only(problems, "unsupported image file type")
    assert unsupported.file == "images/notes.txt"


def test_duplicate_ids(tmp_path):
    root = make_cohort(tmp_path / "c")
    table = pd.read_csv(root / "clinical.csv")
    pd.concat([table, table.iloc[[2]]]).to_csv(root / "clinical.csv", index=False)
    problem = only(problems_of(root), "appears 2 times")
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
    problems = problems_of(root)
    orphans = [p for p in problems if "no row in clinical.csv" in p.message]
    assert {(p.patient, p.file) for p in orphans} == {
        ("SIM-99", "images/SIM-99.png"),
        ("SIM-99", "masks/SIM-99.png"),
        ("sim-50", "images/sim-50.png"),
    }
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
        "variables:\n  age: {type: numeric, unit: years}\n  cdfi: {type: ordinal, allowed: ['0', I, II, III, IV]}\n"
    )
    cohort = load_cohort(root, salt="s")
    assert cohort.variables.loc["age", ["unit", "source"]].tolist() == ["years", "variables.yaml"]
    assert cohort.variables.loc["sex", "source"] == "inferred"
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


def test_identifier_like_column_is_refused(tmp_path):
    root = make_cohort(tmp_path / "c", n=24, extra={"name": [f"Person {i}" for i in range(24)]})
    assert "looks like an identifier" in only(problems_of(root), "name").message


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
    assert not cohort.variables.loc["CRP", "included"]
    assert any("CRP" in note and "> 30 %" in note for note in cohort.notes)
    assert cohort.table["CRP"].isna().sum() == 10  # raw values kept


# ---------------------------------------------------------------------------------------- the split


def test_split_609_is_487_122_and_stratified(tmp_path):
    from splkit.cohort import _split

    labels = pd.Series([1] * 365 + [0] * 244, index=[f"ID{i:03d}" for i in range(609)], name="label")
    cohorts = _split(labels.to_frame(), 0.2, 609)
    counts = cohorts.value_counts()
    assert (counts["train"], counts["validation"]) == (487, 122)
    share = labels.groupby(cohorts).mean()
    assert abs(share["train"] - share["validation"]) < 0.01
    assert cohorts.equals(
        _split(labels.sample(frac=1, random_state=3).to_frame(), 0.2, 609).reindex(labels.index)
    )


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
    root = make_cohort(tmp_path / "c", n=12, prefix="HOSP-X")
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
    texts = [*written.values(), cohort.summary(), repr(cohort)]
    for text in texts:
        assert not any(patient in text for patient in ids)
        assert "HOSP" not in text and "SMITH" not in text
    table_out = pd.read_csv(run_dir / "cohort.csv")
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


def test_validation_speed(tmp_path):
    """Validation reads every image and mask; 100 small pairs must take well under a second or two."""
    root = make_cohort(tmp_path / "c", n=100)
    start = time.perf_counter()
    load_cohort(root, salt="s")
    assert time.perf_counter() - start < 5.0
