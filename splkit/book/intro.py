"""The introduction's generated results (:mod:`splkit.book.pages` assembles the page).

Which cohorts the introduction shows is decided here, once, from ``results.json``
(:func:`shown_cohorts`): training and validation, and an external cohort beside them whenever the run
has one -- patients whose ``cohort`` column says ``external`` (evaluated by chapter 5:
``models.<Model>.external``, ``delong.external``; counted by chapter 1: ``cohort.n_external``) and/or
another centre scored by the frozen study in chapter 7 (``external.n``, ``external.models.<Model>``,
``external.delong``).  The cohort sentence, the headline and further tables and the DeLong table all
follow that one list.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from splkit.book.format import NOT_RECORDED, absent, fmt, fmt_ci, fmt_p, markdown_table, with_undefined_note
from splkit.book.format import is_missing as _missing
from splkit.run.names import COHORT_LABELS, MODELS
from splkit.run.report import lookup

#: The development cohorts every run has.
COHORTS = {c: COHORT_LABELS[c] for c in ("train", "validation")}
#: The cohort key of another centre scored in chapter 7 (``external.*`` in results.json).
EXTERNAL_CENTRE = "external_centre"
#: Chapter 7's page, linked from the cohort sentence.
EXTERNAL_CHAPTER = "notebooks/07_external_validation.ipynb"

NO_MODELS = "The models' results are not recorded in this run (chapter 5 records them).\n"


def present_models(results: Mapping[str, Any]) -> list[str]:
    """The book's models this run has (``models.absent``: :mod:`splkit.models.available`)."""
    return [m for m in MODELS if m not in (lookup(results, "models.absent") or {})]


def model_row(results: Mapping[str, Any], model: str, cohort: str) -> Any:
    """A model's recorded metrics in one of :func:`shown_cohorts` (``None`` when not recorded)."""
    if cohort == EXTERNAL_CENTRE:
        return lookup(results, f"external.models.{model}")
    return lookup(results, f"models.{model}.{cohort}")


def held_out(results: Mapping[str, Any]) -> str:
    """The run's held-out cohort: ``validation``, or ``external`` when the cohort column put every
    non-training patient in an external cohort (no internal validation; :func:`splkit.run.names.held_out_cohort`)."""
    n_validation = (results.get("cohort") or {}).get("n_validation")
    if not _missing(n_validation) and int(n_validation) == 0 and _n_external(results) > 0:
        return "external"
    return "validation"


def shown_cohorts(results: Mapping[str, Any]) -> dict[str, str]:
    """``{cohort key: label}`` of the cohorts the introduction shows, in reading order: training,
    validation, then ``external`` (the cohort column's external patients) and :data:`EXTERNAL_CENTRE`
    (chapter 7's centre) when the run recorded them.  Both external kinds are labelled "External" when
    only one is present; with both, chapter 7's is "External centre".  Validation is left out when the
    run has none (:func:`held_out`)."""
    out = {c: label for c, label in COHORTS.items() if c == "train" or held_out(results) == c}
    in_table = _n_external(results) > 0 or _recorded_for(results, "external")
    centre = not _missing(lookup(results, "external.n")) or _recorded_for(results, EXTERNAL_CENTRE)
    if in_table:
        out["external"] = COHORT_LABELS["external"]
    if centre:
        out[EXTERNAL_CENTRE] = "External centre" if in_table else COHORT_LABELS["external"]
    return out


def _recorded_for(results: Mapping[str, Any], cohort: str) -> bool:
    return any(isinstance(model_row(results, m, cohort), Mapping) for m in MODELS)


def _n_external(results: Mapping[str, Any]) -> int:
    """External patients of the development table: ``cohort.n_external``, else what the recorded
    counts leave over (``n_patients - n_train - n_validation``), else 0."""
    cohort = results.get("cohort") or {}
    recorded = cohort.get("n_external")
    if not _missing(recorded):
        return int(recorded)
    counts = [cohort.get(k) for k in ("n_patients", "n_train", "n_validation")]
    if any(_missing(c) for c in counts):
        return 0
    return max(int(counts[0]) - int(counts[1]) - int(counts[2]), 0)


def any_model_recorded(results: Mapping[str, Any]) -> bool:
    cohorts = shown_cohorts(results)
    return any(isinstance(model_row(results, m, c), Mapping) for m in MODELS for c in cohorts)


def ci_level(results: Mapping[str, Any]) -> str:
    """The confidence level of the recorded intervals (``"95 %"`` when none is recorded)."""
    for model in MODELS:
        for cohort in shown_cohorts(results):
            row = model_row(results, model, cohort)
            level = row.get("level") if isinstance(row, Mapping) else None
            if not _missing(level):
                return f"{100 * level:g} %"
    return "95 %"


def cohort_markdown(results: Mapping[str, Any], simulated: bool) -> str:
    """One paragraph: who was studied, cohort size and split (external patients included), malignant
    share, pixel spacing source; and chapter 7's external centre when the run scored one."""
    cohort = results.get("cohort") or {}
    if _missing(cohort.get("n_patients")):
        return "The cohort's size and split are not recorded in this run.\n"
    share = cohort.get("malignant_share")
    share_text = NOT_RECORDED if _missing(share) else f"{100 * share:.1f} %"
    source = (
        "a **simulated** cohort generated by `splkit.simulate`"
        if simulated
        else "the researcher's own cohort"
    )
    n_external = _n_external(results)
    split = f"{fmt(cohort.get('n_train'))} training, {fmt(cohort.get('n_validation'))} validation"
    if n_external:
        split += f", {fmt(n_external)} external"
    text = (
        f"This run analysed {source}: **{fmt(cohort.get('n_patients'))} patients** ({split}); "
        f"malignant share {share_text}; pixel spacing from {fmt(cohort.get('spacing_source'))}.\n"
    )
    external = results.get("external") or {}
    if not _missing(external.get("n")):
        prevalence = external.get("prevalence")
        share = "" if _missing(prevalence) else f" ({100 * prevalence:.1f} % positive)"
        text += (
            f"An **external cohort of {fmt(external.get('n'))} patients** from another centre"
            f"{share} was scored by the frozen study in [the external validation chapter]({EXTERNAL_CHAPTER}); "
            "its rows are in the tables below beside training and validation.\n"
        )
    return text


def headline_table(results: Mapping[str, Any]) -> str:
    """AUC (DeLong CI), sensitivity, specificity, accuracy (CIs) of every model in every shown cohort."""
    level = ci_level(results)
    header = [
        "Model",
        "Cohort",
        f"AUC ({level} CI, DeLong)",
        "Sensitivity",
        "Specificity",
        "Accuracy",
        "Threshold",
    ]
    return per_model_table(
        results,
        header,
        lambda row: [
            fmt_ci(row, "auc", "auc_delong_low", "auc_delong_high"),
            fmt_ci(row, "sensitivity"),
            fmt_ci(row, "specificity"),
            fmt_ci(row, "accuracy"),
            fmt(row.get("threshold")),
        ],
        bold=True,
    )


def further_table(results: Mapping[str, Any]) -> str:
    """Bootstrap AUC interval, PPV, NPV, F1, Brier score and Hosmer–Lemeshow p of every model (and the
    note on *undefined* cells when there are any)."""
    header = ["Model", "Cohort", "AUC (bootstrap CI)", "PPV", "NPV", "F1", "Brier", "Hosmer–Lemeshow p"]
    table = per_model_table(
        results,
        header,
        lambda row: [
            fmt_ci(row, "auc", "auc_boot_low", "auc_boot_high"),
            fmt_ci(row, "ppv"),
            fmt_ci(row, "npv"),
            fmt_ci(row, "f1"),
            fmt(row.get("brier"), missing=absent(row, "brier")),
            fmt_p(row.get("hl_p"), missing=absent(row, "hl_p")),
        ],
    )
    return with_undefined_note(table)


def per_model_table(
    results: Mapping[str, Any],
    header: list[str],
    cells: Callable[[Mapping[str, Any]], list[str]],
    bold: bool = False,
) -> str:
    """One row per model and shown cohort: name, cohort, then ``cells(row)`` of :func:`model_row`.

    A model not recorded in an external cohort (chapter 7 scores only the study's models) has no row
    there; a model not recorded in training or validation says so."""
    if not any_model_recorded(results):
        return NO_MODELS
    rows = []
    for model in present_models(results):
        name = f"**{model}**" if bold else model
        for cohort, label in shown_cohorts(results).items():
            row = model_row(results, model, cohort)
            if isinstance(row, Mapping):
                rows.append([name, label, *cells(row)])
            elif cohort in COHORTS:
                rows.append([name, label, NOT_RECORDED, *["–"] * (len(header) - 3)])
    return markdown_table(header, rows)


def _delong_of(results: Mapping[str, Any], cohort: str, holm: bool) -> Mapping[str, Any]:
    if cohort == EXTERNAL_CENTRE:
        return lookup(results, "external.delong_holm" if holm else "external.delong") or {}
    return lookup(results, f"{'delong_holm' if holm else 'delong'}.{cohort}") or {}


def delong_markdown(results: Mapping[str, Any]) -> str:
    """Pairwise DeLong p-values per shown cohort (``delong.<cohort>.<A>_vs_<B>``, chapter 7's
    ``external.delong``; Holm-adjusted from ``delong_holm`` / ``external.delong_holm``)."""
    shown = shown_cohorts(results)
    if not any(_delong_of(results, c, False) for c in shown):
        return f"DeLong comparisons between models: {NOT_RECORDED}.\n"
    cohorts = {c: label for c, label in shown.items() if c in COHORTS or _delong_of(results, c, False)}
    holm = any(_delong_of(results, c, True) for c in cohorts)

    def p_of(value: Any) -> Any:
        return value.get("p") if isinstance(value, Mapping) else value

    pairs = list(dict.fromkeys(pair for cohort in cohorts for pair in _delong_of(results, cohort, False)))
    header, rows = ["Comparison"], []
    for label in cohorts.values():
        header += [f"{label} p", f"{label} p (Holm)"] if holm else [f"{label} p"]
    for pair in pairs:
        row = [pair.replace("_vs_", " vs ")]
        for cohort in cohorts:
            row.append(fmt_p(p_of(_delong_of(results, cohort, False).get(pair))))
            if holm:
                row.append(fmt_p(p_of(_delong_of(results, cohort, True).get(pair))))
        rows.append(row)
    note = "\nTwo-sided DeLong tests of equal AUC on the same patients"
    note += (
        "; Holm's adjustment accounts for the number of comparisons within a cohort.\n"
        if holm
        else " (unadjusted for multiple comparisons).\n"
    )
    return markdown_table(header, rows) + note
