"""Parts of the introduction's generated results (:mod:`splkit.book.pages` assembles the page)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from splkit.book.format import NOT_RECORDED, fmt_p, markdown_table
from splkit.run.names import COHORT_LABELS

COHORTS = {c: COHORT_LABELS[c] for c in ("train", "validation")}


def delong_markdown(results: Mapping[str, Any]) -> str:
    """Pairwise DeLong p-values (``delong.<cohort>.<A>_vs_<B>``; Holm-adjusted from ``delong_holm``)."""
    delong = results.get("delong") or {}
    if not delong:
        return f"DeLong comparisons between models: {NOT_RECORDED}.\n"
    holm = results.get("delong_holm") or {}

    def p_of(value: Any) -> Any:
        return value.get("p") if isinstance(value, Mapping) else value

    pairs = list(dict.fromkeys(pair for cohort in COHORTS for pair in (delong.get(cohort) or {})))
    header, rows = ["Comparison"], []
    for label in COHORTS.values():
        header += [f"{label} p", f"{label} p (Holm)"] if holm else [f"{label} p"]
    for pair in pairs:
        row = [pair.replace("_vs_", " vs ")]
        for cohort in COHORTS:
            row.append(fmt_p(p_of((delong.get(cohort) or {}).get(pair))))
            if holm:
                row.append(fmt_p(p_of((holm.get(cohort) or {}).get(pair))))
        rows.append(row)
    note = "\nTwo-sided DeLong tests of equal AUC on the same patients"
    note += (
        "; Holm's adjustment accounts for the number of comparisons within a cohort.\n"
        if holm
        else " (unadjusted for multiple comparisons).\n"
    )
    return markdown_table(header, rows) + note
