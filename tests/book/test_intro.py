"""The introduction's cohorts (issue 14): an external cohort is shown beside training and validation."""

from __future__ import annotations

import copy

from conftest import MODELS, synthetic_results

from splkit.book import intro
from splkit.book import pages as bookpages
from splkit.book.format import fmt_ci, fmt_p


def _with_external_column() -> dict:
    """A development table with a ``cohort`` column holding external patients (120 = 85 + 17 + 18)."""
    results = synthetic_results()
    results["cohort"].update(n_patients=120, n_train=85, n_validation=17, n_external=18)
    for model in MODELS:
        row = copy.deepcopy(results["models"][model]["validation"])
        row["auc"] = 0.6 + MODELS.index(model) / 100
        results["models"][model]["external"] = row
    results["delong"]["external"] = {"CDLR_vs_Rad": 0.0421}
    return results


def _with_external_centre() -> dict:
    """Another centre scored in chapter 7 (``external.*``), only the study's models."""
    results = synthetic_results()
    results["external"] = {
        "n": 60,
        "prevalence": 0.45,
        "models": {
            m: {**results["models"][m]["validation"], "auc": 0.7 + i / 100} for i, m in enumerate(MODELS[1:])
        },
        "delong": {"CDLR_vs_Rad": 0.0123},
        "delong_holm": {"CDLR_vs_Rad": 0.0369},
    }
    return results


def test_without_external_cohort_only_training_and_validation():
    results = synthetic_results()
    assert intro.shown_cohorts(results) == {"train": "Training", "validation": "Validation"}
    page = bookpages.intro_markdown(results, simulated=True)
    assert "| External" not in page and "external" not in intro.cohort_markdown(results, True)


def test_external_patients_of_the_cohort_column_are_counted_and_tabled():
    results = _with_external_column()
    assert list(intro.shown_cohorts(results)) == ["train", "validation", "external"]
    text = intro.cohort_markdown(results, simulated=False)
    assert "**120 patients** (85 training, 17 validation, 18 external)" in text
    page = bookpages.intro_markdown(results, simulated=False)
    for model in MODELS:
        row = results["models"][model]["external"]
        assert (
            f"| **{model}** | External | {fmt_ci(row, 'auc', 'auc_delong_low', 'auc_delong_high')} |" in page
        )
        assert f"| {model} | External | {fmt_ci(row, 'auc', 'auc_boot_low', 'auc_boot_high')} |" in page
    assert "External p" in page and f"| {fmt_p(0.0421)} |" in page


def test_external_count_falls_back_on_what_the_split_leaves_over():
    results = _with_external_column()
    del results["cohort"]["n_external"]
    assert "(85 training, 17 validation, 18 external)" in intro.cohort_markdown(results, True)


def test_external_centre_of_chapter_7_is_shown_beside_training_and_validation():
    results = _with_external_centre()
    assert intro.shown_cohorts(results)[intro.EXTERNAL_CENTRE] == "External"
    text = intro.cohort_markdown(results, simulated=True)
    assert "**external cohort of 60 patients** from another centre (45.0 % positive) was scored" in text
    assert intro.EXTERNAL_CHAPTER in text
    table = intro.headline_table(results)
    assert "| **Clinical** | External |" not in table  # not scored there: no row, no invention
    for model in MODELS[1:]:
        row = results["external"]["models"][model]
        assert (
            f"| **{model}** | External | {fmt_ci(row, 'auc', 'auc_delong_low', 'auc_delong_high')} |" in table
        )
    delong = intro.delong_markdown(results)
    assert "External p" in delong and "0.012" in delong


def test_both_external_kinds_get_their_own_labels():
    results = _with_external_column()
    results["external"] = _with_external_centre()["external"]
    assert list(intro.shown_cohorts(results).values()) == [
        "Training",
        "Validation",
        "External",
        "External centre",
    ]
    assert "| **CDLR** | External centre |" in intro.headline_table(results)


def test_without_validation_the_external_cohort_is_the_held_out_one():
    """A cohort column with training and external patients only: no empty validation rows; the best-model
    sentence and the paper comparison use the external cohort, and say so."""
    results = _with_external_column()
    results["cohort"].update(n_patients=103, n_validation=0)
    for model in MODELS:
        del results["models"][model]["validation"]
    del results["delong"]["validation"]
    assert intro.held_out(results) == "external"
    assert list(intro.shown_cohorts(results)) == ["train", "external"]
    page = bookpages.intro_markdown(results, simulated=False)
    assert "| Validation |" not in page
    best = max(MODELS, key=lambda m: results["models"][m]["external"]["auc"])
    assert f"In the external cohort the highest AUC is that of **{best}**" in page
    assert "(85 / 18 external)" in page and "CDLR AUC, validation (this run: external)" in page
    assert intro.held_out(synthetic_results()) == "validation"


def test_held_out_cohort_prefers_validation_then_external():
    from splkit.run.names import held_out_cohort

    assert held_out_cohort(["train", "validation", "external"]) == "validation"
    assert held_out_cohort(["external", "train"]) == "external"
    try:
        held_out_cohort(["train"])
    except ValueError as error:
        assert "no validation or external cohort" in str(error)
    else:
        raise AssertionError("a training cohort alone has no held-out cohort")


def test_a_measure_recorded_without_value_is_undefined_not_missing():
    """NPV with no negative calls, a Hosmer-Lemeshow p with too few groups: recorded as null, shown as
    "undefined" with the note; a key the run never recorded stays "not recorded"."""
    from splkit.book.format import NOT_RECORDED, UNDEFINED, UNDEFINED_NOTE, absent

    results = synthetic_results()
    row = results["models"]["Rad"]["validation"]
    row.update(npv=None, npv_low=None, npv_high=None, hl_p=None)
    table = intro.further_table(results)
    assert f"| {UNDEFINED} |" in table and UNDEFINED_NOTE in table
    assert absent(row, "npv") == UNDEFINED and absent(row, "never_recorded") == NOT_RECORDED
    assert UNDEFINED_NOTE not in intro.further_table(synthetic_results())
