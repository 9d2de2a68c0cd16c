from pathlib import Path

from splkit.cohort.redact import redact_paths


def test_full_paths_and_file_names_become_labels(tmp_path):
    image = tmp_path / "cohort" / "images" / "2019-0042.png"
    text = f"cannot read {image} (2019-0042.png); also {image.resolve()}"
    out = redact_paths(text, {"<image>": image})
    assert "2019-0042" not in out
    assert out == "cannot read <image> (<image>); also <image>"


def test_pairs_are_accepted_and_other_text_is_kept():
    assert redact_paths("a b.png c", [("<mask>", Path("/x/b.png"))]) == "a <mask> c"
