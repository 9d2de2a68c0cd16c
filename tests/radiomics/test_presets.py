"""Presets: pyradiomics' own schema, splkit metadata, and the 2-D ultrasound traps."""

import importlib.util

import pytest
import yaml

from splkit.radiomics.presets import (
    PRESET_DIR,
    PresetError,
    available_presets,
    check_runtime,
    load_preset,
    schema_validate,
)


def _variant(tmp_path, edit, base="ultrasound2d"):
    raw = yaml.safe_load((PRESET_DIR / f"{base}.yaml").read_text())
    edit(raw)
    path = tmp_path / "variant.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_shipped_presets_exist():
    assert {"ultrasound2d", "paper1561"} <= set(available_presets())


@pytest.mark.parametrize("name", ["ultrasound2d", "paper1561"])
def test_shipped_presets_pass_pyradiomics_schema(name):
    preset = load_preset(name)
    validated = schema_validate(preset.params)  # pykwalify with radiomics/schemas/paramSchema.yaml
    assert set(validated) <= {"setting", "featureClass", "imageType", "voxelSetting"}
    assert sum(preset.expected_counts.values()) == preset.total


def test_expected_totals():
    assert load_preset("paper1561").total == 1561
    default = load_preset("ultrasound2d")
    assert 1400 <= default.total <= 1600
    assert default.input == "2d" and default.expected_counts["shape2D"] == 9


def test_schema_rejects_what_pyradiomics_rejects(tmp_path):
    with pytest.raises(PresetError, match="pyradiomics rejects"):
        load_preset(_variant(tmp_path, lambda r: r["setting"].update(binCount=-3)))
    with pytest.raises(PresetError, match="pyradiomics rejects"):
        load_preset(_variant(tmp_path, lambda r: r["setting"].update(notASetting=1)))
    with pytest.raises(PresetError, match="pyradiomics rejects"):
        load_preset(_variant(tmp_path, lambda r: r["imageType"].update(Sobel={})))


def test_force2d_true_on_2d_input_is_refused(tmp_path):
    with pytest.raises(PresetError, match="force2D"):
        load_preset(_variant(tmp_path, lambda r: r["setting"].update(force2D=True)))


def test_3d_shape_on_2d_input_is_refused(tmp_path):
    def edit(raw):
        raw["featureClass"]["shape"] = None

    with pytest.raises(PresetError, match="shape2D"):
        load_preset(_variant(tmp_path, edit))


def test_lbp2d_needs_bin_width_one(tmp_path):
    with pytest.raises(PresetError, match="LBP2D"):
        load_preset(_variant(tmp_path, lambda r: r["imageType"]["LBP2D"].update(binWidth=25.0)))
    with pytest.raises(PresetError, match="LBP2D"):
        load_preset(_variant(tmp_path, lambda r: r["imageType"]["LBP2D"].pop("binCount")))


def test_lbp2d_dependency_present():
    assert importlib.util.find_spec("skimage") is not None  # else LBP2D silently yields nothing


def test_metadata_counts_must_add_up(tmp_path):
    with pytest.raises(PresetError, match="sum"):
        load_preset(_variant(tmp_path, lambda r: r["splkit"].update(total=1)))


def test_paper1561_runtime_check():
    """paper1561 runs where LBP3D can (SciPy's sph_harm or, via the shim, sph_harm_y, and trimesh)."""
    from splkit.radiomics.compat import missing_lbp3d_dependencies

    preset = load_preset("paper1561")
    if not missing_lbp3d_dependencies():
        check_runtime(preset)  # LBP3D can run: nothing to refuse
    else:
        with pytest.raises(RuntimeError, match="LBP3D"):
            check_runtime(preset)
    check_runtime(load_preset("ultrasound2d"))


def test_paper1561_fails_clearly_without_trimesh(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "trimesh" else real(name, *a)
    )
    with pytest.raises(RuntimeError, match="LBP3D") as info:
        check_runtime(load_preset("paper1561"))
    message = str(info.value)
    assert "trimesh" in message and "1288" in message and "1561" in message
    check_runtime(load_preset("ultrasound2d"))
