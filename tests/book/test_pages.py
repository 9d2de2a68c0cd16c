"""Generated book pages: the introduction's numbers are results.json's, missing ones say so."""

from __future__ import annotations

import json
import re
import shutil

import pytest
import yaml
from conftest import MODELS, synthetic_results

from splkit.book import BOOK_SOURCES
from splkit.book import methods as bookmethods
from splkit.book import pages as bookpages
from splkit.config import load_profile

COHORTS = {"train": "Training", "validation": "Validation"}


def test_headline_table_rows_are_the_recorded_numbers():
    results = synthetic_results()
    page = bookpages.intro_markdown(results, simulated=True)
    for model in MODELS:
        for cohort, label in COHORTS.items():
            r = results["models"][model][cohort]
            expected = (
                f"| **{model}** | {label} "
                f"| {r['auc']:.3f} ({r['auc_delong_low']:.3f}–{r['auc_delong_high']:.3f}) "
                f"| {r['sensitivity']:.3f} ({r['sensitivity_low']:.3f}–{r['sensitivity_high']:.3f}) "
                f"| {r['specificity']:.3f} ({r['specificity_low']:.3f}–{r['specificity_high']:.3f}) "
                f"| {r['accuracy']:.3f} ({r['accuracy_low']:.3f}–{r['accuracy_high']:.3f}) "
                f"| {r['threshold']:.3f} |"
            )
            assert expected in page, expected
            further = (
                f"| {model} | {label} | {r['auc']:.3f} ({r['auc_boot_low']:.3f}–{r['auc_boot_high']:.3f}) "
                f"| {r['ppv']:.3f} ({r['ppv_low']:.3f}–{r['ppv_high']:.3f}) "
            )
            assert further in page, further


def test_cohort_paper_and_pipeline_numbers_appear():
    results = synthetic_results()
    page = bookpages.intro_markdown(results, simulated=True)
    assert "**487 patients** (389 training, 98 validation)" in page
    assert "malignant share 58.3 %" in page
    cdlr = results["models"]["CDLR"]
    for label, paper, ours in [
        ("CDLR AUC, training", "0.987", cdlr["train"]["auc"]),
        ("CDLR AUC, validation", "0.924", cdlr["validation"]["auc"]),
        ("CDLR sensitivity, validation", "0.871", cdlr["validation"]["sensitivity"]),
        ("CDLR specificity, validation", "0.897", cdlr["validation"]["specificity"]),
        ("CDLR accuracy, validation", "0.877", cdlr["validation"]["accuracy"]),
    ]:
        assert f"| {label} | {paper} | {ours:.3f} |" in page
    assert "| Patients (training / validation) | 609 (487 / 122) | 487 (389 / 98) |" in page
    assert "backbone `efficientnet_lite0` (requested: `resnet50`; fallback used: yes)" in page
    assert f"weights `imagenet` from file `efficientnet_lite0.pth`, sha256 `{'cd' * 32}`" in page
    assert "preset `ultrasound2d`" in page
    assert "Fine-tuned" not in page
    results["deep"]["finetune"] = True
    assert "**Fine-tuned** (`deep.finetune: true`)" in bookpages.intro_markdown(results, simulated=True)
    assert (
        "extracted: 1234; after icc: 812; after mannwhitney: 301; after spearman: 57; after lasso: 9" in page
    )
    assert "`age` (OR 1.041 (1.010–1.073))" in page and "`cea` (OR 2.457 (1.346–4.484))" in page
    for pair, p in results["delong"]["validation"].items():
        train_p = bookpages.fmt_p(results["delong"]["train"][pair])
        expected = f"| {pair.replace('_vs_', ' vs ')} | {train_p} | {bookpages.fmt_p(p)} |"
        assert expected in page
    best = max(MODELS, key=lambda m: results["models"][m]["validation"]["auc"])
    assert f"highest AUC is that of **{best}**" in page


def test_delong_table_with_holm_adjusted_p():
    results = synthetic_results()
    results["delong_holm"] = {"train": {"CDLR_vs_Rad": 0.5}, "validation": {"CDLR_vs_Rad": 0.0002}}
    table = bookpages.delong_markdown(results)
    train_p = bookpages.fmt_p(results["delong"]["train"]["CDLR_vs_Rad"])
    val_p = bookpages.fmt_p(results["delong"]["validation"]["CDLR_vs_Rad"])
    assert f"| CDLR vs Rad | {train_p} | 0.500 | {val_p} | <0.001 |" in table
    assert "Holm" in table


def test_simulated_and_own_data_explain_the_difference_from_the_paper():
    results = synthetic_results()
    assert "**simulated** patients" in bookpages.intro_markdown(results, simulated=True)
    own = bookpages.intro_markdown(results, simulated=False)
    assert "**your own cohort**" in own and "**simulated** patients" not in own


def test_missing_keys_say_not_recorded_and_invent_nothing():
    page = bookpages.intro_markdown({}, simulated=True)
    assert "The cohort's size and split are not recorded in this run." in page
    assert page.count(bookpages.NO_MODELS) == 2  # headline and further tables
    # the only numbers with decimals on the page are the paper's
    decimals = set(re.findall(r"\d\.\d{3}", page))
    assert decimals == {"0.987", "0.924", "0.871", "0.897", "0.877"}


def test_one_missing_cohort_and_missing_intervals():
    results = synthetic_results()
    del results["models"]["Rad"]["validation"]
    results["models"]["DTL"]["train"]["auc_delong_low"] = None
    page = bookpages.headline_table(results)
    nr = bookpages.NOT_RECORDED
    assert f"| **Rad** | Validation | {nr} | – | – | – | – |" in page
    assert f"| Rad | Validation | {nr} | – | – | – | – | – |" in bookpages.further_table(results)
    assert f"| **DTL** | Training | {results['models']['DTL']['train']['auc']:.3f} | " in page
    assert f"| **Rad** | Training | {results['models']['Rad']['train']['auc']:.3f} (" in page


def test_formatting_helpers():
    assert bookpages.fmt(None) == bookpages.NOT_RECORDED
    assert bookpages.fmt(float("nan")) == bookpages.NOT_RECORDED
    assert bookpages.fmt(0.12345) == "0.123"
    assert bookpages.fmt(12) == "12"
    assert bookpages.fmt(True) == "yes"
    assert bookpages.fmt_p(0.0004) == "<0.001"
    assert bookpages.fmt_p(0.0123) == "0.012"
    assert bookpages.fmt_ci({"a": 0.5, "a_low": 0.4, "a_high": 0.6}, "a") == "0.500 (0.400–0.600)"
    assert bookpages.fmt_ci({"a": 0.5}, "a") == "0.500"


def _fake_run_dir(tmp_path, simulate: bool = True):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    settings = load_profile("smoke", run_dir=run_dir).to_dict()
    settings["data"]["simulate"] = simulate
    settings["data"]["path"] = str(tmp_path / "cohort")
    (tmp_path / "cohort" / "images").mkdir(parents=True)
    (tmp_path / "cohort" / "images" / "P1.png").write_bytes(b"image")
    (tmp_path / "cohort" / "simulation.yaml").write_text("n: 120\nseed: 0\n")
    (run_dir / "settings.yaml").write_text(yaml.safe_dump(settings, sort_keys=False))
    results = synthetic_results()
    del results["cohort"]["data_sha256"]
    (run_dir / "results.json").write_text(json.dumps(results))
    return run_dir


@pytest.mark.parametrize("simulate", [True, False])
def test_write_generated_pages_fills_every_marker(tmp_path, simulate):
    run_dir = _fake_run_dir(tmp_path, simulate)
    stage = tmp_path / "stage"
    shutil.copytree(BOOK_SOURCES, stage, ignore=shutil.ignore_patterns("_build"))
    bookpages.write_generated_pages(stage, run_dir)
    for page in stage.glob("*.md"):
        assert "{{" not in page.read_text(), f"unfilled marker in {page.name}"
    methods = (stage / "methods.md").read_text()
    assert "| `seed` | `609` |" in methods
    assert bookmethods.data_fingerprint(tmp_path / "cohort")["sha256"] in methods
    assert "| numpy |" in methods
    data = (stage / "data.md").read_text()
    assert ("n: 120" in data) is simulate
    checklist_page = (stage / "checklist.md").read_text()
    assert ("| ✗ not with simulated data |" in checklist_page) is simulate


def _page_text(path) -> str:
    import html

    return html.unescape(re.sub(r"<[^>]+>", " ", path.read_text()))


def _check_intro_against_results(run_dir, html_dir) -> None:
    results = json.loads((run_dir / "results.json").read_text())
    text = " ".join(_page_text(html_dir / "intro.html").split())
    checked = 0
    for model in MODELS:
        for cohort in COHORTS:
            row = results.get("models", {}).get(model, {}).get(cohort)
            if not row:
                continue
            for metric, low, high in [
                ("auc", "auc_delong_low", "auc_delong_high"),
                ("sensitivity", None, None),
                ("specificity", None, None),
                ("accuracy", None, None),
            ]:
                expected = bookpages.fmt_ci(row, metric, low, high)
                assert expected in text, f"{model} {cohort} {metric}: {expected} not in the introduction"
                checked += 1
    assert f"{results['cohort']['n_patients']} patients" in text
    assert checked > 0 or not results.get("models")


def test_built_fake_intro_numbers_equal_results_json(fake_book):
    run_dir, html_dir = fake_book
    _check_intro_against_results(run_dir, html_dir)


@pytest.mark.slow
def test_smoke_intro_numbers_equal_results_json(smoke_run):
    run_dir, html_dir = smoke_run
    _check_intro_against_results(run_dir, html_dir)


def test_model_card_page_shows_the_study_card_or_says_there_is_none(tmp_path):
    run = tmp_path / "run"
    assert "no fitted study" in bookpages.model_card_markdown(run)
    (run / "study").mkdir(parents=True)
    (run / "study" / "model_card.md").write_text(
        "# Model card\n\nFitted study `x`.\n\n## Intended use\n\nResearch.\n"
    )
    page = bookpages.model_card_markdown(run)
    assert not page.startswith("# ") and "\n## Intended use" in page and "Fitted study `x`." in page
