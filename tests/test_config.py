import pytest

from splkit.config import CONFIG_DIR, deep_merge, load_profile


def test_default_profile_loads():
    settings = load_profile("default")
    assert settings.name == "default"
    assert settings.seed == 609
    assert settings.run_path.name == "default"
    assert settings.deep.backbone == "resnet50"


def test_smoke_extends_default_and_overrides_only_what_it_names():
    default, smoke = load_profile("default"), load_profile("smoke")
    assert smoke.name == "smoke"
    assert smoke.data.simulate_n < default.data.simulate_n
    assert smoke.stats.n_bootstrap < default.stats.n_bootstrap
    # untouched settings are inherited
    assert smoke.seed == default.seed
    assert smoke.radiomics.icc_threshold == default.radiomics.icc_threshold


def test_overrides_and_run_dir(tmp_path):
    settings = load_profile("smoke", overrides={"stats": {"n_bootstrap": 7}}, run_dir=tmp_path)
    assert settings.stats.n_bootstrap == 7
    assert settings.run_path == tmp_path


def test_settings_are_read_only():
    settings = load_profile("default")
    with pytest.raises(AttributeError):
        settings.seed = 1
    with pytest.raises(TypeError):
        settings.models.svm_C[0] = 5  # lists are frozen to tuples


def test_unknown_profile_names_the_known_ones():
    with pytest.raises(FileNotFoundError, match="smoke"):
        load_profile("nope")


def test_profile_path_and_self_extension(tmp_path):
    own = tmp_path / "mine.yaml"
    own.write_text(f"extends: {CONFIG_DIR / 'default.yaml'}\nname: mine\nseed: 1\n")
    settings = load_profile(own)
    assert settings.name == "mine" and settings.seed == 1 and settings.deep.image_size == 224
    loop = tmp_path / "loop.yaml"
    loop.write_text(f"extends: {loop}\n")
    with pytest.raises(ValueError, match="extends itself"):
        load_profile(loop)


def test_deep_merge_replaces_lists_and_merges_maps():
    merged = deep_merge({"a": {"x": 1, "y": [1, 2]}, "b": 1}, {"a": {"y": [3]}, "c": 2})
    assert merged == {"a": {"x": 1, "y": [3]}, "b": 1, "c": 2}
