"""splkit.study.ood: the training range of the model inputs and the out-of-distribution flags.

Synthetic features and run directories only (fast).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk

from splkit.run.rundir import RunDir
from splkit.study.ood import (
    FLAG_COLUMNS,
    OOD_FILE,
    MissingTrainingRange,
    TrainingRange,
    lesion_size,
    pixel_area,
    save_training_range,
)


def training_features(n: int = 50, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    index = pd.Index([f"P{i:04d}" for i in range(1, n + 1)], name="patient")
    return pd.DataFrame(
        {"rad_a": rng.normal(0, 1, n), "DTL_001": rng.normal(5, 2, n), "age": rng.integers(30, 80, n)},
        index=index,
    ).astype(float)


@pytest.fixture
def reference() -> TrainingRange:
    features = training_features()
    return TrainingRange.fit(
        features, lesion_area_mm2=np.arange(1, 101), lesion_pixels=np.arange(1, 101) * 16
    )


def test_fit_min_max_and_percentiles(reference):
    features = training_features()
    assert reference.minimum.to_dict() == features.min().to_dict()
    assert reference.maximum.to_dict() == features.max().to_dict()
    assert reference.lesion_area_mm2 == pytest.approx(np.percentile(np.arange(1, 101), [1, 99]))
    assert reference.n_train == 50
    assert "3 features" in repr(reference)


def test_training_patients_are_never_flagged(reference):
    features = training_features()
    # rescoring may differ in the last bits: within the tolerance
    wobble = features * (1 + 1e-14)
    lesion = pd.DataFrame({"lesion_pixels": 800, "lesion_area_mm2": 50.0}, index=features.index)
    flags = reference.flags(wobble, lesion)
    assert list(flags.columns) == list(FLAG_COLUMNS)
    assert not flags["ood"].any() and (flags["ood_n_features"] == 0).all()
    assert (flags["ood_features"] == "").all()


def test_features_outside_the_range_are_named(reference):
    X = pd.DataFrame(
        {
            "rad_a": [0.0, reference.maximum["rad_a"] + 1, np.nan],
            "DTL_001": [reference.minimum["DTL_001"] - 0.5, 5.0, 5.0],
            "age": [200.0, 50.0, np.nan],  # missing clinical values are imputed, not flagged
            "not_in_range": [1e9, 1e9, 1e9],  # no stored range: not checked
        },
        index=pd.Index(["P0001", "P0002", "P0003"], name="patient"),
    )
    lesion = pd.DataFrame(
        {"lesion_pixels": [16, 800, 8000], "lesion_area_mm2": [1.0, 50.0, 500.0]}, index=X.index
    )
    flags = reference.flags(X, lesion)
    assert flags["ood_n_features"].tolist() == [2, 1, 0]
    assert flags["ood_features"].tolist() == ["DTL_001; age", "rad_a", ""]
    assert flags["ood_lesion_size"].tolist() == [True, False, True]  # below p1, inside, above p99
    assert flags["ood"].tolist() == [True, True, True]
    assert flags["lesion_pixels"].tolist() == [16, 800, 8000]
    only = reference.flags(X, lesion, columns=["rad_a"])  # only the columns the models read
    assert only["ood_n_features"].tolist() == [0, 1, 0]


def test_save_load_and_missing_range(tmp_path, reference):
    path = reference.save(tmp_path)
    assert path.name == OOD_FILE
    back = TrainingRange.load(tmp_path)
    pd.testing.assert_series_equal(back.minimum, reference.minimum)
    pd.testing.assert_series_equal(back.maximum, reference.maximum)
    assert back.lesion_area_mm2 == reference.lesion_area_mm2 and back.n_train == reference.n_train
    with pytest.raises(MissingTrainingRange, match="lacks its training range"):
        TrainingRange.load(tmp_path / "other")


def test_pixel_area():
    assert pixel_area(0.2) == pytest.approx(0.04)
    assert pixel_area((0.2, 0.3)) == pytest.approx(0.06)
    assert pixel_area("[0.25, 0.25]") == pytest.approx(0.0625)
    assert pixel_area("(0.1, 0.4)") == pytest.approx(0.04)


def test_lesion_size_from_checks_or_masks(tmp_path):
    mask = np.zeros((20, 20), np.uint8)
    mask[2:7, 3:9] = 1
    sitk.WriteImage(sitk.GetImageFromArray(mask), str(tmp_path / "m.png"))

    def read_mask(patient):
        return sitk.ReadImage(str(tmp_path / "m.png"))

    cohort = SimpleNamespace(
        table=pd.DataFrame(index=pd.Index(["P0001", "P0002"], name="patient")),
        image_checks=pd.DataFrame(
            {"roi_pixels": pd.array([100, pd.NA], dtype="Int64")}, index=["P0001", "P0002"]
        ),
        spacing={"P0001": 0.5, "P0002": (0.1, 0.2)},
        read_mask=read_mask,
    )
    size = lesion_size(cohort)
    assert size["lesion_pixels"].tolist() == [100, 30]
    assert size["lesion_area_mm2"].tolist() == pytest.approx([25.0, 30 * 0.02])


def fake_run(root) -> RunDir:
    """The run-directory files the training range reads (8 patients, 6 training)."""
    run = RunDir(root)
    (run.root / "features").mkdir(parents=True)
    patients = [f"P{i:04d}" for i in range(1, 9)]
    cohorts = ["train"] * 6 + ["validation"] * 2
    pd.DataFrame({"patient": patients, "cohort": cohorts}).to_csv(run.split_csv, index=False)
    values = np.arange(1.0, 9.0)
    values[-1] = 1000.0  # a validation patient: outside the training range, not part of it
    index = pd.Index(patients, name="patient")
    pd.DataFrame({"rad_a": values}, index=index).to_parquet(run.rad_candidates)
    pd.DataFrame({"DTL_001": -values}, index=index).to_parquet(run.dtl_candidates)
    pd.DataFrame(
        {
            "diagnostics_Mask-original_VoxelNum": (values * 100).astype(int),
            "diagnostics_Image-original_Spacing": "[0.5, 0.5]",
        },
        index=index,
    ).to_parquet(run.radiomics)
    pd.DataFrame(
        {
            "patient": patients,
            "cohort": cohorts,
            "label": [0, 1] * 4,
            "age": values + 40,
            "sex": ["f", "m"] * 4,
        }
    ).to_csv(run.cohort_csv, index=False)
    pd.DataFrame({"variable": ["age", "sex"], "type": ["numeric", "binary"]}).to_csv(
        run.variables_csv, index=False
    )
    return run


def test_from_run_uses_training_patients_only(tmp_path):
    run = fake_run(tmp_path / "run")
    reference = TrainingRange.from_run(run.root)
    assert list(reference.minimum.index) == ["rad_a", "DTL_001", "age"]  # numeric clinical only
    assert reference.maximum.to_dict() == {"rad_a": 6.0, "DTL_001": -1.0, "age": 46.0}
    areas = np.arange(1.0, 7.0) * 100 * 0.25
    assert reference.lesion_area_mm2 == pytest.approx(tuple(np.percentile(areas, [1, 99])))
    assert reference.n_train == 6
    path = save_training_range(run.root)
    assert path == run.study / OOD_FILE and TrainingRange.load(run.study).n_train == 6
    (run.root / "features" / "radiomics.parquet").unlink()
    with pytest.raises(FileNotFoundError, match="radiomics.parquet is missing"):
        TrainingRange.from_run(run.root)


def test_unseen_clinical_levels_are_flagged():
    reference = TrainingRange.fit(
        training_features(), lesion_area_mm2=np.arange(1, 101), lesion_pixels=np.arange(1, 101) * 16
    )
    reference.levels = {"location": ["lower", "upper"], "smoking": ["0", "1"], "cdfi_grade": ["0", "1", "2"]}
    X = pd.DataFrame(
        {
            "location": ["upper", "middle", np.nan],  # "middle": a level no training patient had
            "smoking": [1.0, 0.0, 2.0],  # 1.0 reads as the level "1"
            "cdfi_grade": [3, 1, 2],
        },
        index=pd.Index(["P0001", "P0002", "P0003"], name="patient"),
    )
    lesion = pd.DataFrame({"lesion_pixels": 800, "lesion_area_mm2": 50.0}, index=X.index)
    flags = reference.flags(X, lesion)
    assert flags["ood_levels"].tolist() == ["cdfi_grade=3", "location=middle", "smoking=2"]
    assert flags["ood"].all()
    assert reference.flags(X, lesion, columns=["location"])["ood_levels"].tolist() == [
        "",
        "location=middle",
        "",
    ]
    back = TrainingRange.from_dict(reference.to_dict())
    assert back.levels == reference.levels
    legacy = {k: v for k, v in reference.to_dict().items() if k != "levels"}
    assert TrainingRange.from_dict(legacy).levels == {}  # a study saved before the level check
