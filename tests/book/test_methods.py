"""The methods page's generated parts: settings with their meaning, data fingerprint, data contract."""

import shutil
import subprocess

import pytest

from splkit.book import methods as bookmethods


def test_recorded_data_hash_wins_over_computing(tmp_path):
    settings = {"data": {"path": str(tmp_path / "missing"), "simulate": False}}
    text = bookmethods.provenance_markdown(settings, {"cohort": {"data_sha256": "f" * 64}})
    assert "f" * 64 in text and "recorded when the run read it" in text
    text = bookmethods.provenance_markdown(settings, {})
    assert "not recorded in this run" in text


def test_data_fingerprint_matches_the_shell_command(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "P0002.png").write_bytes(b"\x89PNG two")
    (tmp_path / "images" / "P0010.png").write_bytes(b"\x89PNG ten")
    (tmp_path / "clinical.csv").write_text("patient_id,label\nP0002,benign\n")
    (tmp_path / ".splkit_salt").write_text("salt")  # dot-files are not data
    fingerprint = bookmethods.data_fingerprint(tmp_path)
    assert fingerprint["n_files"] == 3
    (tmp_path / ".splkit_salt").write_text("another salt")
    assert bookmethods.data_fingerprint(tmp_path)["sha256"] == fingerprint["sha256"]
    if shutil.which("sha256sum") is None or shutil.which("find") is None:
        pytest.skip("GNU find / sha256sum not available")
    shell = subprocess.run(
        bookmethods.FINGERPRINT_COMMAND, shell=True, cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout.split()[0]
    assert shell == fingerprint["sha256"]
    (tmp_path / "images" / "P0002.png").write_bytes(b"\x89PNG changed")
    assert bookmethods.data_fingerprint(tmp_path)["sha256"] != fingerprint["sha256"]


def test_setting_comments_come_from_the_default_profile():
    comments = bookmethods.setting_comments()
    assert "seed" in comments["seed"]
    assert "pyradiomics" in comments["radiomics.preset"]
    assert "split" in comments["split.validation_fraction"]


def test_data_contract_headings_are_demoted_outside_code(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# Title\n\nText\n\n## Layout\n\n```bash\n# a comment\n```\n")
    text = bookmethods.data_contract_markdown(readme)
    assert "# Title" not in text and "### Layout" in text and "\n# a comment\n" in text
    assert "not found" in bookmethods.data_contract_markdown(tmp_path / "absent.md")


def test_settings_table_says_which_clinical_rule_was_applied(tmp_path):
    import json

    (tmp_path / "settings.yaml").write_text(
        "seed: 1\nclinical:\n  univariate_p: 0.05\n  multivariable_p: 0.05\n"
    )
    assert "| `clinical.multivariable_p` | `0.05` |" in bookmethods.settings_markdown(tmp_path)
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"clinical": {"rule_applied": "selected: 3 variable(s) with ..."}}))
    assert "`0.05` (applied: the standard rule) |" in bookmethods.settings_markdown(tmp_path)
    applied = (
        "none_significant_univariate: no variable had univariate p < 0.05; kept the best univariate "
        "predictor nse (univariate p=0.131)"
    )
    results.write_text(json.dumps({"clinical": {"rule_applied": applied}}))
    text = bookmethods.settings_markdown(tmp_path)
    assert "(applied: **the fallback**, no clinical variable significant" in text
    assert "kept the best univariate predictor nse (univariate p=0.131))" in text
