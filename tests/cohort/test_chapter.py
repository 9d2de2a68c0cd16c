"""Tests of splkit.cohort.chapter: every step of notebook 01 on a small cohort folder."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from cohort.test_load import make_cohort

from splkit.cohort import chapter, load_cohort_for
from splkit.cohort.table1 import table_one
from splkit.config import load_profile
from splkit.run.names import COHORT_LABELS
from splkit.run.report import load_results
from splkit.run.rundir import RunDir


@pytest.fixture(scope="module")
def cohort_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    crp = [np.nan if i % 5 < 2 else float(i) for i in range(30)]  # 40 % missing: excluded from the models
    make_cohort(root, n=30, extra={"crp": crp, "fever": [0, 1] * 15})
    run = RunDir(tmp_path_factory.mktemp("run"))
    settings = load_profile(
        "default",
        overrides={"data": {"path": str(root), "simulate": False, "salt": "s"}, "seed": 3},
        run_dir=run.root,
    )
    return run, settings, load_cohort_for(settings)


def test_data_source_says_when_data_are_simulated(cohort_run):
    _, settings, _ = cohort_run
    assert chapter.data_source(settings).startswith("Data: the cohort folder")
    simulated = load_profile("smoke")
    assert "**These data are simulated.**" in chapter.data_source(simulated)
    assert "n = 120" in chapter.data_source(simulated)


def test_write_cohort_writes_the_run_tables_and_headline(cohort_run):
    run, settings, cohort = cohort_run
    headline = chapter.write_cohort(cohort, settings)
    assert run.cohort_csv.is_file() and run.split_csv.is_file() and run.variables_csv.is_file()
    recorded = load_results(run.root)["cohort"]
    assert recorded["n_patients"] == 30 and recorded["n_train"] + recorded["n_validation"] == 30
    assert recorded["malignant_share"] == 0.5 and len(recorded["data_sha256"]) == 64
    assert headline.loc["n_malignant", "value"] == 15 and list(headline.columns) == ["value"]
    assert list(chapter.data_dictionary(cohort).columns) == chapter.DICTIONARY_COLUMNS


def test_missing_values(cohort_run):
    run, settings, cohort = cohort_run
    shown, text = chapter.missing_values(cohort, settings)
    assert run.table("missing_values").is_file() and (shown["n_missing"] > 0).all()
    recorded = load_results(run.root)["cohort"]
    assert recorded["excluded_variables"] == ["crp"] and "Excluded for more than 30 % missing" in text
    assert recorded["rows_with_missing"] == 0 and text.startswith("**0 of 30 patients**")


@pytest.mark.filterwarnings("ignore:Degrees of freedom:RuntimeWarning")  # a tiny subgroup, SD of one value
def test_table_one_and_comparability(cohort_run):
    run, settings, cohort = cohort_run
    t1 = chapter.describe(cohort, settings)
    assert run.table("table1").is_file() and run.table("table1_tests").is_file()
    comparison, text = chapter.compare_cohorts(t1, settings)
    recorded = load_results(run.root)["cohort"]["comparability"]
    assert set(recorded) == set(comparison.index) == {"age", "sex", "crp", "fever"}
    assert comparison["p"].str.fullmatch(r"\d\.\d{3}").all()
    assert text.startswith(f"{int(comparison['differs'].sum())} of 4 variables differ")
    assert "between training and validation at p < 0.05" in text


@pytest.mark.parametrize(
    ("cohorts", "phrase"),
    [
        (["train", "external"], "between training and external at p"),
        (["train", "validation", "external"], "among the training, validation and external cohorts at p"),
    ],
)
def test_comparability_sentence_names_the_cohorts_compared(cohort_run, cohorts, phrase):
    """A cohort column with external patients: the sentence names the cohorts the test compared."""
    _, settings, _ = cohort_run
    rng = np.random.default_rng(0)
    n = 60
    frame = pd.DataFrame(
        {
            "label": (np.arange(n) // len(cohorts)) % 2,
            "cohort": np.resize(cohorts, n),
            "age": rng.normal(60, 10, n),
        }
    )
    t1 = table_one(frame, {"age": "numeric"})
    assert t1.cohorts == [COHORT_LABELS[c] for c in cohorts]
    _, text = chapter.compare_cohorts(t1, settings)
    assert phrase in text


def test_figures(cohort_run):
    run, settings, cohort = cohort_run
    bars = chapter.outcome_counts(cohort)
    assert sum(sum(bar.y) for bar in bars.data) == 30
    fig = chapter.gallery(cohort, settings)
    assert run.figure("gallery", ".png").is_file() and len(fig.axes) == 2 * chapter.GALLERY_PER_CLASS
    plt.close(fig)


def test_sample_size_table_and_record(cohort_run):
    run, settings, cohort = cohort_run
    table, text = chapter.sample_size(cohort, settings)
    assert list(table.index) == ["Clinical", "Rad", "DTL", "DLR", "CDLR"]
    assert table.loc["DTL", "candidate parameters p"] == min(128, len(cohort.train))
    recorded = load_results(run.root)["cohort"]["sample_size"]
    assert recorded["r2_cs"] == pytest.approx(0.15 * recorded["max_r2_cs"])  # Riley's conservative default
    assert recorded["models"]["Rad"]["met"] is False
    assert run.table("sample_size").is_file()
    override = load_profile(
        "default",
        overrides={
            "data": {"path": str(settings.data.path), "simulate": False, "salt": "s"},
            "stats": {"anticipated_r2_cs": 0.2},
        },
        run_dir=run.root,
    )
    _, text = chapter.sample_size(cohort, override)
    assert "0.200 (set in the profile)" in text


def test_sample_size_shows_epv_and_warns_for_a_small_cohort(cohort_run):
    run, settings, cohort = cohort_run
    table, text = chapter.sample_size(cohort, settings)
    recorded = load_results(run.root)["cohort"]["sample_size"]
    minority = min(recorded["events_train"], recorded["n_train"] - recorded["events_train"])
    p_clinical = int(table.loc["Clinical", "candidate parameters p"])
    assert recorded["epv"]["Clinical"] == pytest.approx(minority / p_clinical)
    assert table.loc["Clinical", "EPV, training"] == round(minority / p_clinical, 2)
    # 24 training patients: below Riley's criterion 3, so a warning, whatever the clinical EPV
    assert recorded["small_cohort"]["level"] == "warning"
    assert any("Riley criterion 3" in r for r in recorded["small_cohort"]["reasons"])
    assert "**Warning: a small cohort.**" in text and "confidence intervals will be wide" in text
    assert "95 % Wilson interval" in text and "Vittinghoff & McCulloch (2007)" in text  # EPV 12 / 3 < 5


def test_image_geometry_by_cohort_and_colour_images(tmp_path):
    import SimpleITK as sitk
    from cohort.test_load import image_array, make_cohort

    root = make_cohort(tmp_path / "data", n=12)
    for i, name in enumerate(["SIM-1", "SIM-2"]):  # two RGB screen captures, grey content
        grey = image_array(i)
        rgb = sitk.GetImageFromArray(np.stack([grey] * 3, axis=-1), isVector=True)
        sitk.WriteImage(rgb, str(root / "images" / f"{name}.png"))
    run = RunDir(tmp_path / "run")
    settings = load_profile(
        "default", overrides={"data": {"path": str(root), "simulate": False, "salt": "s"}}, run_dir=run.root
    )
    cohort = load_cohort_for(settings, full=True)
    assert int(cohort.image_checks["channels"].isin([3, 4]).sum()) == 2
    table, text = chapter.image_geometry(cohort, settings)
    assert list(table.index)[-1] == "All" and {"Training", "Validation"} <= set(table.index)
    assert table.loc["All", "images"] == 12 and table.loc["All", "RGB(A) converted to grey"] == 2
    assert table.loc["All", "width, px: median [min–max]"] == "32 [32–32]"
    assert table.loc["All", "pixel spacing, mm: median [min–max]"] == "0.2 [0.2–0.2]"
    recorded = load_results(run.root)["cohort"]
    assert recorded["n_rgb_converted"] == 2 and recorded["images"]["width_px"]["median"] == 32
    assert "**2 of 12 images** were stored in colour" in text and "same size and pixel spacing" in text
    assert run.table("image_geometry").is_file()


def test_image_geometry_says_when_sizes_and_spacings_differ(tmp_path):
    from cohort.test_load import image_array, make_cohort, mask_array, write_png

    spacings = [[0.2, 0.25, 0.3][i % 3] for i in range(12)]
    root = make_cohort(tmp_path / "data", n=12, extra={"spacing_mm": spacings})
    write_png(root / "images" / "SIM-3.png", image_array(3, size=48))
    write_png(root / "masks" / "SIM-3.png", mask_array(size=48))
    run = RunDir(tmp_path / "run")
    settings = load_profile(
        "default", overrides={"data": {"path": str(root), "simulate": False, "salt": "s"}}, run_dir=run.root
    )
    table, text = chapter.image_geometry(load_cohort_for(settings), settings)
    assert table.loc["All", "width, px: median [min–max]"] == "32 [32–48]"
    assert table.loc["All", "pixel spacing, mm: median [min–max]"] == "0.25 [0.2–0.3]"
    assert "2 image sizes and 3 pixel spacings" in text and "resamples every image to 0.25 mm first" in text
    off = load_profile(
        "default",
        overrides={
            "data": {"path": str(root), "simulate": False, "salt": "s"},
            "radiomics": {"resample_mm": "none"},
        },
        run_dir=run.root,
    )
    assert "does not resample" in chapter.image_geometry(load_cohort_for(off), off)[1]
    assert "No image was stored in colour" in text
    recorded = load_results(run.root)["cohort"]["images"]
    assert recorded["spacing_mm"] == {"min": 0.2, "median": 0.25, "max": 0.3}
    assert recorded["n_rgb_converted"] == 0 and recorded["n_non_square_pixels"] == 0
