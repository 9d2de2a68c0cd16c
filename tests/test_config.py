import re

import pytest

from splkit.config import CONFIG_DIR, ProfileError, deep_merge, load_profile, profile_problems, profile_schema


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


# --- schema validation ---------------------------------------------------------------------------


def _profile(tmp_path, text: str):
    """A profile extending default, written to ``tmp_path/x.yaml``."""
    path = tmp_path / "x.yaml"
    path.write_text(f"extends: {CONFIG_DIR / 'default.yaml'}\nname: x\n{text}")
    return path


@pytest.mark.parametrize("name", ["default", "smoke"])
def test_shipped_profiles_match_the_schema(name):
    raw = load_profile(name).to_dict()
    assert profile_problems(raw) == []
    # and the schema names every key the shipped profiles use (nothing is unknown by accident)
    schema = profile_schema()
    for section, values in raw.items():
        assert section in schema
        if isinstance(values, dict):
            assert set(values) <= set(schema[section])


def test_every_profile_in_config_validates():
    for path in sorted(CONFIG_DIR.glob("*.yaml")):
        load_profile(path.stem)


def test_misspelt_top_level_key_names_the_file_and_the_closest_key(tmp_path):
    path = _profile(tmp_path, "radiomic:\n  icc_threshold: 0.8\n")
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    message = str(caught.value)
    assert "x.yaml" in message
    assert "unknown setting 'radiomic'" in message
    assert "did you mean 'radiomics'?" in message
    assert "(valid: name, seed, run_dir, n_jobs, data, split, clinical, radiomics" in message
    assert isinstance(caught.value, ValueError) and len(caught.value.problems) == 1


def test_misspelt_nested_key_suggests_within_its_section(tmp_path):
    with pytest.raises(
        ProfileError, match=r"unknown setting 'deep\.backbon' — did you mean 'deep\.backbone'\?"
    ):
        load_profile(_profile(tmp_path, "deep:\n  backbon: resnet50\n"))


def test_key_in_the_wrong_section_points_to_the_right_one(tmp_path):
    with pytest.raises(
        ProfileError, match=r"unknown setting 'icc_threshold' — did you mean 'radiomics\.icc_threshold'"
    ):
        load_profile(_profile(tmp_path, "icc_threshold: 0.8\n"))


def test_enumerated_value_names_the_valid_choices(tmp_path):
    with pytest.raises(ProfileError) as caught:
        load_profile(_profile(tmp_path, "deep:\n  backbone: resnet5\n"))
    assert (
        "deep.backbone: 'resnet5' is not one of resnet50, efficientnet_lite0 — did you mean 'resnet50'?"
        in str(caught.value)
    )


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"clinical": {"interval": "Wald"}}, "clinical.interval: 'Wald' is not one of profile, wald"),
        ({"selection": {"lasso_rule": "1-se"}}, "selection.lasso_rule: '1-se' is not one of min, 1se"),
        ({"radiomics": {"icc_type": "ICC1"}}, "radiomics.icc_type: 'ICC1' is not one of ICC2, ICC3"),
        (
            {"radiomics": {"icc_patients": "validation"}},
            "radiomics.icc_patients: 'validation' is not one of train, all",
        ),
        ({"deep": {"weights": "none"}}, "deep.weights: 'none' is not one of imagenet, random"),
        (
            {"deep": {"gradcam_baseline": "mean"}},
            "deep.gradcam_baseline: 'mean' is not one of training_mean, zero",
        ),
        ({"data": {"missing": "drop"}}, "data.missing: 'drop' is not one of median_impute"),
    ],
)
def test_every_enumeration_is_enforced(override, expected):
    with pytest.raises(ProfileError, match=re.escape(expected)):
        load_profile("default", overrides=override)


def test_wrong_types_fail(tmp_path):
    path = _profile(
        tmp_path,
        "seed: '609'\ndeep:\n  finetune: 'yes'\n  finetune_learning_rate: 1e-4\n"
        "models:\n  svm_C: [1, ten]\n  cv_folds: 2.5\nstats: 200\n",
    )
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    problems = caught.value.problems
    assert all(line.startswith("profile ") and "x.yaml" in line for line in problems)
    joined = "\n".join(problems)
    assert "seed: expected an integer, got text '609'" in joined
    assert "deep.finetune: expected true or false, got text 'yes'" in joined
    assert "deep.finetune_learning_rate: expected a number, got text '1e-4' (YAML reads" in joined
    assert "models.svm_C[1]: expected a number, got text 'ten'" in joined
    assert "models.cv_folds: expected an integer, got number 2.5" in joined
    assert "stats: expected a section of settings, got integer 200" in joined
    assert len(problems) == 6


def test_types_accept_ints_as_floats_and_null_where_allowed():
    settings = load_profile(
        "default",
        overrides={
            "split": {"validation_fraction": 1},  # an int where a float is expected
            "data": {"default_spacing_mm": None, "salt": "abc"},  # null-able; an optional key
            "deep": {"weights_path": None},
            "models": {"svm_gamma": ["scale", 1]},
        },
    )
    assert settings.split.validation_fraction == 1
    with pytest.raises(ProfileError, match="expected true or false, got integer 1"):
        load_profile("default", overrides={"deep": {"finetune": 1}})
    with pytest.raises(ProfileError, match="expected an integer, got boolean True"):
        load_profile("default", overrides={"seed": True})
    with pytest.raises(ProfileError, match=r"deep\.image_size: expected an integer, got null"):
        load_profile("default", overrides={"deep": {"image_size": None}})


def test_several_problems_are_reported_together_one_line_each(tmp_path):
    path = _profile(tmp_path, "radiomic: {}\ndeep:\n  backbone: resnet5\n  image_size: big\n")
    with pytest.raises(ProfileError) as caught:
        load_profile(path, overrides={"stats": {"n_bootstrapp": 10}})
    lines = str(caught.value).splitlines()
    assert lines == caught.value.problems and len(lines) == 4

    def line(text):
        (found,) = [line for line in lines if text in line]
        return found

    assert "x.yaml" in line("unknown setting 'radiomic'")
    assert "x.yaml" in line("deep.backbone: 'resnet5'")
    assert "x.yaml" in line("deep.image_size: expected an integer, got text 'big'")
    overridden = line("unknown setting 'stats.n_bootstrapp' — did you mean 'stats.n_bootstrap'?")
    assert overridden.startswith("overrides of profile ")


def test_overrides_are_validated_and_named_as_the_source():
    with pytest.raises(ProfileError) as caught:
        load_profile("smoke", overrides={"deep": {"backbone": "resnet5"}})
    (line,) = caught.value.problems
    assert line.startswith("overrides of profile 'config/smoke.yaml': deep.backbone: 'resnet5'")


def test_problem_is_attributed_to_the_file_that_sets_it(tmp_path):
    parent = tmp_path / "parent.yaml"
    parent.write_text(f"extends: {CONFIG_DIR / 'default.yaml'}\ndeep:\n  n_component: 8\n")
    child = tmp_path / "child.yaml"
    child.write_text("extends: parent.yaml\nname: child\nclinical:\n  interval: Profile\n")
    with pytest.raises(ProfileError) as caught:
        load_profile(child)
    interval, n_component = caught.value.problems  # in the order of the merged profile
    assert (
        "parent.yaml" in n_component
        and "'deep.n_component' — did you mean 'deep.n_components'?" in n_component
    )
    assert (
        "child.yaml" in interval
        and "'Profile' is not one of profile, wald — did you mean 'profile'?" in interval
    )


def test_missing_required_setting_is_a_profile_error(tmp_path):
    lone = tmp_path / "lone.yaml"
    lone.write_text("name: lone\nrun_dir: runs/lone\ndata: {path: data/x}\n")
    with pytest.raises(ProfileError, match="lacks the required setting 'seed'"):
        load_profile(lone)


def test_schema_enumerations_match_the_code():
    schema = profile_schema()
    icc = pytest.importorskip("splkit.radiomics.icc")
    assert sorted(schema["radiomics"]["icc_type"]) == sorted(icc.ICC_TYPES)
    pytest.importorskip("torch")
    backbones = pytest.importorskip("splkit.deep.backbones")
    gradcam = pytest.importorskip("splkit.deep.gradcam")
    assert list(schema["deep"]["backbone"]) == list(backbones.BACKBONES)
    assert list(schema["deep"]["gradcam_baseline"]) == list(gradcam.BASELINES)
