"""Book pages generated from a run (no hand-copied numbers): the introduction's headline results.

:func:`write_generated_pages` (called by :func:`splkit.book.stage_book`) replaces markers in the staged
book's pages with markdown generated from the run directory:

* ``intro.md``: ``{{ headline_results }}`` -- cohort, headline table of the five models, the paper's
  numbers beside ours, the backbone / weights and radiomics preset (from ``results.json``);
* ``methods.md``: ``{{ settings }}``, ``{{ software }}``, ``{{ data_provenance }}``
  (:mod:`splkit.book.methods`);
* ``data.md``: ``{{ data_source }}``; ``own_data.md``: ``{{ data_contract }}`` (``data/README.md``);
  ``checklist.md``: ``{{ checklist }}`` (:mod:`splkit.book.checklist`); ``tripod_ai.md``: ``{{ tripod_ai }}``
  (:mod:`splkit.book.tripod`).

A number that the run did not record is shown as "not recorded in this run", never guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from splkit.book.format import NOT_RECORDED, fmt, fmt_ci, fmt_p, markdown_table  # noqa: F401 (fmt_p: re-exported)
from splkit.book.format import is_missing as _missing
from splkit.book.intro import (  # the introduction's sections (NO_MODELS re-exported)
    NO_MODELS,  # noqa: F401
    cohort_markdown,
    delong_markdown,
    further_table,
    headline_table,
    held_out,
)
from splkit.book.intro import ci_level as _level
from splkit.book.intro import present_models as _present
from splkit.models.available import NO_CLINICAL_NOTE
from splkit.run.names import COHORT_LABELS
from splkit.run.report import load_results, lookup
from splkit.run.rundir import RunDir

#: Reading order of ``radiomics.counts`` (results.json stores keys sorted alphabetically).
COUNT_ORDER = ("extracted", "icc_defined", "after_icc", "after_mannwhitney", "after_spearman", "after_lasso")

#: Wei et al. 2026 (abstract; doi:10.3389/fonc.2026.1786674): cohort and the CDLR model's results.
PAPER = {
    "n_patients": 609,
    "n_train": 487,
    "n_validation": 122,
    "CDLR.train.auc": 0.987,
    "CDLR.validation.auc": 0.924,
    "CDLR.validation.sensitivity": 0.871,
    "CDLR.validation.specificity": 0.897,
    "CDLR.validation.accuracy": 0.877,
}


def _absence(results: Mapping[str, Any]) -> str:
    return "" if "CDLR" in _present(results) else NO_CLINICAL_NOTE


# --------------------------------------------------------------------------------------- sections


def best_model_sentence(results: Mapping[str, Any]) -> str:
    """Which model has the highest held-out (validation, else external) AUC (from the recorded AUCs)."""
    held = held_out(results)
    aucs = {m: lookup(results, f"models.{m}.{held}.auc") for m in _present(results)}
    aucs = {m: a for m, a in aucs.items() if not _missing(a)}
    if not aucs:
        return f"{COHORT_LABELS[held]} AUCs: {NOT_RECORDED}.\n"
    best = max(aucs, key=aucs.get)
    return (
        f"In the {held} cohort the highest AUC is that of **{best}** "
        f"({fmt_ci(lookup(results, f'models.{best}.{held}'), 'auc', 'auc_delong_low', 'auc_delong_high')}); "
        "whether it differs from the others is in the DeLong table below.\n"
    )


def paper_comparison(results: Mapping[str, Any], simulated: bool) -> str:
    """The paper's reported numbers beside this run's, and why they differ."""
    cohort, held = results.get("cohort") or {}, held_out(results)
    n_held = cohort.get("n_validation") if held == "validation" else cohort.get("n_external")
    rows = [
        [
            "Patients (training / validation)",
            f"{PAPER['n_patients']} ({PAPER['n_train']} / {PAPER['n_validation']})",
            f"{fmt(cohort.get('n_patients'))} ({fmt(cohort.get('n_train'))} / {fmt(n_held)}"
            + (" external)" if held == "external" else ")"),
        ]
    ]
    names = {"auc": "AUC", "sensitivity": "sensitivity", "specificity": "specificity", "accuracy": "accuracy"}
    for key, paper_value in PAPER.items():
        if not key.startswith("CDLR."):
            continue
        _, cohort_key, metric = key.split(".")
        ours_key = held if cohort_key == "validation" else cohort_key  # no validation: the external cohort
        ours = lookup(results, f"models.CDLR.{ours_key}.{metric}")
        label = COHORT_LABELS[cohort_key].lower() + (
            "" if ours_key == cohort_key else f" (this run: {ours_key})"
        )
        rows.append([f"CDLR {names[metric]}, {label}", f"{paper_value:.3f}", fmt(ours)])
    table = markdown_table(["", "Wei et al. 2026 {cite}`wei2026`", "This run"], rows)
    if simulated:
        why = (
            "They are not expected to agree. This run used **simulated** patients: images and clinical "
            "values come from splkit's generative model (see [the data chapter](data.md)), whose signal "
            "strength was chosen so that every step of the pipeline has something to find, not to match "
            "the paper. Agreement or disagreement with the paper says nothing about patients; the numbers "
            "show that the analysis runs and how it reports."
        )
    else:
        why = (
            "This run used **your own cohort**, so differences from the paper reflect a different "
            "population, case mix, scanners, operators and reference standard, plus the analysis choices "
            "the paper's abstract leaves open (thresholds, hyper-parameters, compression of the deep "
            "features). splkit also avoids leaks common in such studies -- training scores of the fused "
            "models are out-of-fold, and PCA and feature selection are fitted on the training cohort "
            "only -- which gives lower but honest training numbers."
        )
    return (
        table
        + "\nThe paper reports only the CDLR model's numbers in its abstract (no intervals). "
        + why
        + "\n"
    )


def pipeline_markdown(results: Mapping[str, Any]) -> str:
    """Backbone and weights, radiomics preset and counts, clinical predictors with odds ratios."""
    deep = results.get("deep") or {}
    radiomics = results.get("radiomics") or {}
    clinical = results.get("clinical") or {}
    fallback = deep.get("fallback")
    lines = [
        f"- **Deep features:** backbone `{fmt(deep.get('backbone'))}` "
        f"(requested: `{fmt(deep.get('backbone_requested'))}`; fallback used: {fmt(fallback)}), "
        f"weights `{fmt(deep.get('weights'))}` from file `{fmt(deep.get('weights_file'))}`, "
        f"sha256 `{fmt(deep.get('weights_sha256'))}`.",
    ]
    if fallback is True:
        reason = deep.get("fallback_reason")
        lines.append(
            "  The requested backbone's weights were not available, so the fallback backbone was used"
            + (f" ({reason})" if reason else "")
            + "; see [chapter 4](notebooks/04_deep_features.ipynb)."
        )
    if deep.get("finetune") is True:
        lines.append(
            "  **Fine-tuned** (`deep.finetune: true`): the last block and a bottleneck head were trained on the "
            "training cohort, so the DTL-based models' training-cohort numbers are optimistic."
        )
    lines.append(f"- **Radiomics:** pyradiomics preset `{fmt(radiomics.get('preset'))}`.")
    counts = radiomics.get("counts")
    if isinstance(counts, Mapping) and counts:
        order = [k for k in COUNT_ORDER if k in counts] + [k for k in counts if k not in COUNT_ORDER]
        counts = {key: counts[key] for key in order}
        steps = [
            f"{key.replace('_', ' ')}: {fmt(value)}"
            for key, value in counts.items()
            if not isinstance(value, Mapping)
        ]
        lines.append(f"  Feature counts: {'; '.join(steps)}.")
    else:
        lines.append(f"  Feature counts: {NOT_RECORDED}.")
    selected = radiomics.get("selected")
    lines.append(
        f"  Selected features ({len(selected)}): " + ", ".join(f"`{name}`" for name in selected) + "."
        if isinstance(selected, list)
        else f"  Selected features: {NOT_RECORDED}."
    )
    predictors = clinical.get("predictors")
    if isinstance(predictors, list):
        ors = clinical.get("odds_ratios") or {}
        described = []
        for name in predictors:
            entry = ors.get(name)
            if isinstance(entry, Mapping):
                described.append(f"`{name}` (OR {fmt_ci(entry, 'or', 'low', 'high')})")
            elif not _missing(entry):
                described.append(f"`{name}` (OR {fmt(entry)})")
            else:
                described.append(f"`{name}`")
        text = ", ".join(described) if described else "none survived selection"
        absent = "Clinical" not in _present(results)
        line = f"- **Clinical predictors** of the Clinical and CDLR models: {text}."
        lines.append(f"- **Clinical predictors:** {NO_CLINICAL_NOTE}" if absent else line)
    else:
        lines.append(f"- **Clinical predictors:** {NOT_RECORDED}.")
    return "\n".join(lines) + "\n"


def intro_markdown(results: Mapping[str, Any], simulated: bool) -> str:
    """Everything that replaces ``{{ headline_results }}`` in the introduction."""
    level = _level(results)
    return "\n".join(
        [
            cohort_markdown(results, simulated),
            best_model_sentence(results),
            *([_absence(results)] if _absence(results) else []),
            "### Headline results",
            "",
            f"Discrimination (AUC with its {level} DeLong interval) and, at each model's threshold chosen on "
            "the training cohort, sensitivity, specificity and accuracy with their intervals. Training "
            "numbers of the fused models are out-of-fold; validation patients were never used for fitting.",
            "",
            headline_table(results),
            "### Compared with the paper",
            "",
            paper_comparison(results, simulated),
            "### Models and features used",
            "",
            pipeline_markdown(results),
            "### Further metrics",
            "",
            further_table(results),
            "### Pairwise DeLong tests",
            "",
            delong_markdown(results),
        ]
    )


# --------------------------------------------------------------------------------------- writing


def load_run_settings(run_dir: Path) -> dict[str, Any]:
    """The run's resolved profile (``settings.yaml``) as a plain dict (empty if absent)."""
    path = RunDir(run_dir).settings_yaml
    return (yaml.safe_load(path.read_text()) or {}) if path.exists() else {}


def is_simulated(settings: Mapping[str, Any]) -> bool:
    """Whether the run analysed the simulated cohort (``data.simulate``)."""
    return bool((settings.get("data") or {}).get("simulate", False))


def _fill(page: Path, replacements: Mapping[str, str]) -> None:
    if not page.exists():
        return
    text = page.read_text()
    for marker, content in replacements.items():
        text = text.replace(marker, content)
    page.write_text(text)


def model_card_markdown(run_dir: Path) -> str:
    """The study's ``model_card.md`` (written by :meth:`splkit.study.Study.save`) without its title, or
    a sentence saying the run saved no study."""
    card = RunDir(run_dir).study / "model_card.md"
    if not card.exists():
        return "This run saved no fitted study (chapter 5 saves it), so there is no model card.\n"
    lines = card.read_text().splitlines()
    body = lines[1:] if lines and lines[0].startswith("# ") else lines
    return "\n".join(body).strip() + "\n"  # the card's ## sections are this page's sections


def write_generated_pages(stage: Path, run_dir: Path) -> None:
    """Fill the generated parts of the staged book from the run directory."""
    from splkit.book import checklist, tripod
    from splkit.book import methods as bookmethods

    stage, run_dir = Path(stage), Path(run_dir)
    results = load_results(run_dir)
    settings = load_run_settings(run_dir)
    simulated = is_simulated(settings)
    _fill(stage / "intro.md", {"{{ headline_results }}": intro_markdown(results, simulated)})
    _fill(
        stage / "methods.md",
        {
            "{{ settings }}": bookmethods.settings_markdown(run_dir),
            "{{ software }}": bookmethods.software_markdown(),
            "{{ data_provenance }}": bookmethods.provenance_markdown(settings, results),
        },
    )
    _fill(stage / "data.md", {"{{ data_source }}": bookmethods.data_source_markdown(settings, results)})
    _fill(stage / "own_data.md", {"{{ data_contract }}": bookmethods.data_contract_markdown()})
    robustness = lookup(results, "radiomics.robustness.method")  # readers | perturbation | none (chapter 3)
    _fill(
        stage / "checklist.md",
        {"{{ checklist }}": checklist.checklist_markdown(simulated, _absence(results), robustness)},
    )
    external = (stage / "notebooks" / "07_external_validation.ipynb").exists()
    _fill(
        stage / "tripod_ai.md", {"{{ tripod_ai }}": tripod.tripod_markdown(simulated, external, robustness)}
    )
    _fill(stage / "model_card.md", {"{{ model_card }}": model_card_markdown(run_dir)})
