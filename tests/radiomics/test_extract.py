"""Extraction: feature counts, the known traps, equality with plain pyradiomics, engines, cache, failures."""

import json

import numpy as np
import pytest
import SimpleITK as sitk
import yaml
from radiomics import imageoperations
from radiomics.featureextractor import RadiomicsFeatureExtractor

from splkit.radiomics import extract as ex
from splkit.radiomics.presets import PRESET_DIR, load_preset


def speckle(seed=0, n=64, bright=80, spacing=0.2):
    """A speckle-like 8-bit image with a brighter ellipse lesion (and its mask)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:n, :n]
    mask = (((yy - n / 2) / (n * 0.3)) ** 2 + ((xx - n / 2 + 2) / (n * 0.22)) ** 2 <= 1).astype(np.uint8)
    image = np.clip(rng.rayleigh(40, (n, n)) + bright * mask, 0, 255).astype(np.uint8)
    im, ma = sitk.GetImageFromArray(image), sitk.GetImageFromArray(mask)
    im.SetSpacing((spacing, spacing))
    ma.SetSpacing((spacing, spacing))
    return im, ma


@pytest.fixture(scope="module")
def preset():
    return load_preset("ultrasound2d")


@pytest.fixture(scope="module")
def extracted(preset):
    image, mask = speckle()
    return ex.extract_image(image, mask, preset)


def test_counts_per_image_type(extracted, preset):
    counts = ex.count_by_image_type(extracted)
    assert counts == preset.expected_counts
    assert sum(counts.values()) == preset.total == 1465
    assert any(k.startswith("diagnostics_") for k in extracted)
    assert extracted["diagnostics_Image-original_Dimensionality"] == "2D"


def test_provenance_columns(extracted):
    image, mask = speckle()
    roi = sitk.GetArrayFromImage(mask) == 1
    assert extracted["diagnostics_Mask-original_VoxelNum"] == int(roi.sum())
    assert extracted["diagnostics_Mask-original_VolumeNum"] == 1
    assert extracted["diagnostics_Mask-original_Maximum"] == sitk.GetArrayFromImage(image)[roi].max()
    assert extracted["diagnostics_Configuration_Preset"] == "ultrasound2d"
    assert json.loads(extracted["diagnostics_Image-original_Spacing"]) == [0.2, 0.2]


def test_shape2d_not_3d_shape(extracted):
    assert "original_shape2D_PixelSurface" in extracted
    assert not any("_shape_" in k for k in extracted)


def test_same_values_as_plain_pyradiomics(extracted, preset):
    """splkit's extraction (numpy bin edges) equals unpatched pyradiomics on the same float32 image."""
    image, mask = speckle()
    plain = RadiomicsFeatureExtractor(preset.pyradiomics_params())
    assert not getattr(imageoperations.getBinEdges, "splkit_patched", False)
    reference = plain.execute(sitk.Cast(image, sitk.sitkFloat32), mask)
    features = ex.feature_columns(reference)
    assert features == ex.feature_columns(extracted)
    np.testing.assert_array_equal([extracted[k] for k in features], [float(reference[k]) for k in features])


def test_engines_give_the_same_features(extracted, preset):
    """``auto`` picks the fast engine for ultrasound2d; the pyradiomics engine gives the same numbers."""
    image, mask = speckle()
    reference = ex.extract_image(image, mask, preset, radiomics_engine="pyradiomics")
    fast = ex.extract_image(image, mask, preset, radiomics_engine="fast")
    names = ex.feature_columns(reference)
    assert names == ex.feature_columns(fast) == ex.feature_columns(extracted)
    np.testing.assert_array_equal([fast[k] for k in names], [reference[k] for k in names])
    np.testing.assert_array_equal([extracted[k] for k in names], [reference[k] for k in names])
    assert extracted["diagnostics_Configuration_Engine"] == fast["diagnostics_Configuration_Engine"] == "fast"
    assert reference["diagnostics_Configuration_Engine"] == "pyradiomics"
    assert {k for k in reference if k.startswith("diagnostics_")} == {
        k for k in fast if k.startswith("diagnostics_")
    }


def test_engine_resolution(preset):
    assert ex.resolve_engine(preset) == ex.resolve_engine(preset, "fast") == "fast"
    assert ex.resolve_engine(preset, "pyradiomics") == "pyradiomics"
    assert ex.resolve_engine(load_preset("paper1561")) == "pyradiomics"  # a one-slice volume: pyradiomics
    with pytest.raises(ValueError, match="fast cannot extract preset 'paper1561'.*input 'slice3d'"):
        ex.resolve_engine(load_preset("paper1561"), "fast")
    with pytest.raises(ValueError, match="radiomics.engine must be one of"):
        ex.resolve_engine(preset, "quick")


def test_uint8_input_is_cast_to_float32(extracted, preset):
    image, mask = speckle()
    assert image.GetPixelID() == sitk.sitkUInt8
    as_float = ex.extract_image(sitk.Cast(image, sitk.sitkFloat32), mask, preset)
    names = ex.feature_columns(extracted)
    np.testing.assert_array_equal([extracted[k] for k in names], [as_float[k] for k in names])


def test_uint8_bin_edges_overflow_is_real_and_avoided():
    """pyradiomics' getBinEdges under NumPy 2 wraps around in uint8 when the ROI max is >= 206 (width 25)."""
    values = np.array([3, 90, 150, 210], dtype=np.uint8)
    original = imageoperations.getBinEdges
    right = original(values.astype(np.float32), binWidth=25)
    with np.errstate(over="ignore"):
        try:
            wrong = original(values, binWidth=25)
        except (OverflowError, ValueError):  # an exception is also an acceptable way to be wrong
            wrong = None
    assert wrong is None or len(wrong) != len(right) or not np.allclose(wrong, right)
    patched = ex.numpy_bin_edges_function(original)
    np.testing.assert_array_equal(patched(values, binWidth=25), right)


@pytest.mark.parametrize("bin_width", [1, 5, 25, 0.37])
def test_numpy_bin_edges_equal_pyradiomics_on_float32(bin_width):
    rng = np.random.default_rng(3)
    original = imageoperations.getBinEdges
    patched = ex.numpy_bin_edges_function(original)
    for values in (
        rng.uniform(-50, 300, 5000).astype(np.float32),
        np.full(10, 50.0, dtype=np.float32),
        rng.normal(0, 1e-3, 200),
    ):
        expected, got = original(values, binWidth=bin_width), patched(values, binWidth=bin_width)
        assert np.asarray(got).dtype == np.asarray(expected).dtype
        np.testing.assert_array_equal(got, expected)


def test_patch_is_temporary():
    with ex.numpy_bin_edges():
        assert imageoperations.getBinEdges.splkit_patched
    assert not getattr(imageoperations.getBinEdges, "splkit_patched", False)


def test_lbp2d_uses_several_bins(extracted):
    # with the default bin width 25 every LBP code (0..9) falls into one bin: uniformity would be 1
    assert extracted["lbp-2D_firstorder_Uniformity"] < 0.9
    assert extracted["lbp-2D_glcm_JointEntropy"] > 1


def test_dropped_filter_fails_loudly(tmp_path):
    """pyradiomics skips a LoG sigma larger than the image with a log message; splkit raises."""
    raw = yaml.safe_load((PRESET_DIR / "ultrasound2d.yaml").read_text())
    raw["imageType"]["LoG"]["sigma"] = [0.5, 1.0, 2.0, 3.0, 50.0]
    raw["splkit"]["expected_counts"]["log-sigma-50-0-mm-3D"] = raw["splkit"]["expected_counts"].pop(
        "log-sigma-5-0-mm-3D"
    )
    path = tmp_path / "bigsigma.yaml"
    path.write_text(yaml.safe_dump(raw))
    image, mask = speckle()
    with pytest.raises(ex.FeatureSetError, match="log-sigma-50-0-mm-3D: expected 91, got 0"):
        ex.extract_image(image, mask, load_preset(path))


def test_2d_input_required(preset):
    image, mask = speckle()
    with pytest.raises(ValueError, match="2-D"):
        ex.extract_image(sitk.JoinSeries(image), sitk.JoinSeries(mask), preset)


# --- cohort extraction and cache --------------------------------------------------------------


def write_case(folder, name, seed, empty_mask=False):
    image, mask = speckle(seed)
    if empty_mask:
        mask = mask * 0
    folder.mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(image, str(folder / f"{name}_img.nrrd"))
    sitk.WriteImage(mask, str(folder / f"{name}_mask.nrrd"))
    return ex.ImageTask(name, folder / f"{name}_img.nrrd", folder / f"{name}_mask.nrrd", 0.2)


def test_cache_hit_miss_and_values(tmp_path, preset):
    tasks = [write_case(tmp_path / "data", f"P000{i}", seed=i) for i in (1, 2)]
    cache = tmp_path / "cache"
    first = ex.extract_cohort(tasks, preset, cache_dir=cache, n_jobs=1, progress=False)
    assert (first.n_computed, first.n_cached) == (2, 0)
    assert list(first.features.index) == ["P0001", "P0002"]
    assert len(list(cache.rglob("*.json"))) == 2
    assert first.features.loc["P0001", "diagnostics_Image-original_SHA256"] == ex.file_sha256(tasks[0].image)
    second = ex.extract_cohort(tasks, preset, cache_dir=cache, n_jobs=1, progress=False)
    assert (second.n_computed, second.n_cached) == (0, 2)
    assert second.features.equals(first.features)
    # new mask content -> a miss for that patient only
    image, mask = speckle(9)
    sitk.WriteImage(sitk.BinaryDilate(mask, [2, 2]), str(tasks[0].mask))
    third = ex.extract_cohort(tasks, preset, cache_dir=cache, n_jobs=1, progress=False)
    assert (third.n_computed, third.n_cached) == (1, 1)
    # a different spacing is a different extraction
    moved = [ex.ImageTask(t.patient, t.image, t.mask, 0.3) for t in tasks]
    assert ex.cache_key(moved[1], preset) != ex.cache_key(tasks[1], preset)
    # so is another engine ("auto" is the engine it resolves to)
    assert ex.cache_key(tasks[1], preset, "pyradiomics") != ex.cache_key(tasks[1], preset, "fast")
    assert ex.cache_key(tasks[1], preset, "auto") == ex.cache_key(tasks[1], preset, "fast")
    by_pyradiomics = ex.extract_cohort(
        tasks, preset, cache_dir=cache, n_jobs=1, progress=False, radiomics_engine="pyradiomics"
    )
    assert (by_pyradiomics.n_computed, by_pyradiomics.n_cached) == (2, 0)
    assert set(by_pyradiomics.features["diagnostics_Configuration_Engine"]) == {"pyradiomics"}
    names = ex.feature_columns(by_pyradiomics.features.columns)
    assert by_pyradiomics.features[names].equals(third.features[names])


def test_fast_engine_refuses_an_unsupported_preset_before_any_work(tmp_path):
    tasks = [write_case(tmp_path, "P0001", 1)]
    with pytest.raises(ValueError, match="fast cannot extract preset 'paper1561'"):
        ex.extract_cohort(tasks, "paper1561", n_jobs=1, progress=False, radiomics_engine="fast")


def test_parallel_equals_serial(tmp_path, preset):
    tasks = [write_case(tmp_path / "data", f"P000{i}", seed=i) for i in (1, 2, 3)]
    serial = ex.extract_cohort(tasks, preset, n_jobs=1, progress=False)
    parallel = ex.extract_cohort(tasks, preset, n_jobs=2, progress=False)
    cols = ex.feature_columns(serial.features.columns)
    assert parallel.features[cols].equals(serial.features[cols])


def test_failed_image_stops_or_is_excluded(tmp_path, preset):
    tasks = [write_case(tmp_path, "P0001", 1), write_case(tmp_path, "P0002", 2, empty_mask=True)]
    with pytest.raises(
        ex.ExtractionError, match=r"patient P0002 \(image P0002_img.nrrd, mask P0002_mask.nrrd\)"
    ):
        ex.extract_cohort(tasks, preset, n_jobs=1, progress=False)
    result = ex.extract_cohort(tasks, preset, n_jobs=1, progress=False, allow_exclusions=True)
    assert list(result.features.index) == ["P0001"]
    assert [e["patient"] for e in result.excluded] == ["P0002"]
    assert result.excluded[0]["reason"]


def test_exclusion_reason_carries_no_path_or_file_name(tmp_path, preset):
    """The recorded reason goes to results.json and the book: file names carry patient ids."""
    folder = tmp_path / "ZZ-SECRET-7"
    tasks = [write_case(folder, "P0001", 1), write_case(folder, "ZZ-SECRET-7", 2, empty_mask=True)]
    tasks[1] = ex.ImageTask("P0002", tasks[1].image, tasks[1].mask, 0.2)
    sitk.WriteImage(
        sitk.Image(8, 8, sitk.sitkUInt8), str(tasks[1].mask)
    )  # wrong geometry: ITK names the file
    result = ex.extract_cohort(tasks, preset, n_jobs=1, progress=False, allow_exclusions=True)
    assert "SECRET" not in json.dumps(result.excluded)


def test_killed_extraction_then_rerun_equals_an_uninterrupted_run(tmp_path, preset):
    """kill -9 of a parallel extraction after some images are cached; the rerun completes from the cache
    with features equal to an uninterrupted run, and no half-written entry is ever read."""
    import os
    import signal
    import subprocess
    import sys
    import textwrap
    import time

    from splkit.config import PROJECT_ROOT

    tasks = [write_case(tmp_path / "data", f"P00{i:02d}", seed=i) for i in range(1, 17)]
    cache = tmp_path / "cache"
    script = textwrap.dedent(f"""
        from splkit.radiomics import extract as ex
        tasks = [ex.ImageTask(p, ex.Path(i), ex.Path(m), 0.2) for p, i, m in {[(t.patient, str(t.image), str(t.mask)) for t in tasks]!r}]
        ex.extract_cohort(tasks, "ultrasound2d", cache_dir={str(cache)!r}, n_jobs=2, progress=False)
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-c", script], env=env, start_new_session=True)
    deadline = time.monotonic() + 120
    while len(list(cache.rglob("*.json"))) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "the extraction finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)  # the run and its worker processes
    proc.wait()
    time.sleep(1)  # let the killed workers go
    n_cached_before = len(list(cache.rglob("*.json")))
    assert 2 <= n_cached_before < len(tasks), "the kill should land mid-run"
    rerun = ex.extract_cohort(tasks, preset, cache_dir=cache, n_jobs=2, progress=False)
    assert rerun.n_cached == n_cached_before and rerun.n_computed == len(tasks) - n_cached_before
    clean = ex.extract_cohort(tasks, preset, n_jobs=1, progress=False)
    assert rerun.features.equals(clean.features)


def test_paper1561_counts_without_lbp3d(tmp_path):
    """The paper preset's declared counts (one-slice volume, 3-D shape, 8 wavelets) match pyradiomics."""
    raw = yaml.safe_load((PRESET_DIR / "paper1561.yaml").read_text())
    raw["imageType"].pop("LBP3D")
    raw["splkit"].pop("requires_lbp3d")
    for key in ("lbp-3D-m1", "lbp-3D-m2", "lbp-3D-k"):
        raw["splkit"]["expected_counts"].pop(key)
    raw["splkit"]["total"] = 1561 - 3 * 91
    path = tmp_path / "paper_no_lbp3d.yaml"
    path.write_text(yaml.safe_dump(raw))
    image, mask = speckle()
    values = ex.extract_image(image, mask, load_preset(path))
    assert len(ex.feature_columns(values)) == 1288
    assert "original_shape_VoxelVolume" in values and "wavelet-HHH_glcm_Idm" in values


def test_paper1561_gives_exactly_1561_features():
    """The paper's own feature set, LBP3D included (SciPy >= 1.17 through splkit.radiomics.compat)."""
    import scipy.special

    pytest.importorskip("trimesh")
    before = getattr(scipy.special, "sph_harm", None)
    preset = load_preset("paper1561")
    image, mask = speckle()
    values = ex.extract_image(image, mask, preset)
    assert ex.count_by_image_type(values) == preset.expected_counts
    assert len(ex.feature_columns(values)) == preset.total == 1561
    assert all(np.isfinite(values[f"lbp-3D-{t}_firstorder_Mean"]) for t in ("m1", "m2", "k"))
    assert getattr(scipy.special, "sph_harm", None) is before  # the shim was scoped to the extraction


def test_unreadable_file_is_an_error_even_with_exclusions(tmp_path, preset):
    """A file a worker cannot read is never excluded silently (on a cluster: a file-system mismatch)."""
    from splkit.run.engine import InputNotReadableError

    tasks = [write_case(tmp_path, "P0001", 1), write_case(tmp_path, "P0002", 2)]
    tasks[1].image.unlink()
    with pytest.raises(InputNotReadableError, match=r"P0002: image file .*P0002_img\.nrrd"):
        ex.extract_cohort(tasks, preset, n_jobs=1, progress=False, allow_exclusions=True)
