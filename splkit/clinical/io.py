"""Formatted odds-ratio tables, their results.json record, the term coding, and saving the model.

The run's cohort tables are read by :func:`splkit.cohort.read_run_cohort`; ``dictionary_spec`` is
re-exported here from :mod:`splkit.cohort.run_tables` for the callers that still import it from here.
"""

from __future__ import annotations

import pandas as pd

from splkit.book.format import fmt_p
from splkit.clinical.encoding import NUMERIC_TYPES


def format_or_table(table: pd.DataFrame, digits: int = 2) -> pd.DataFrame:
    """A display copy of an odds-ratio table: ``OR (95 % CI)`` text and p-values as the field writes them."""
    out = pd.DataFrame(index=table.index)
    if "variable" in table.columns:
        out["Variable"] = table["variable"]
    if "n" in table.columns:
        out["n"] = table["n"]
    out["OR (95 % CI)"] = [
        "" if pd.isna(r["or"]) else f"{r['or']:.{digits}f} ({r['low']:.{digits}f}–{r['high']:.{digits}f})"
        for _, r in table.iterrows()
    ]
    out["p"] = table["p"].map(lambda p: fmt_p(p, missing=""))
    if "p_variable" in table.columns and (table["p_variable"] != table["p"]).any():
        out["p (variable)"] = table["p_variable"].map(lambda p: fmt_p(p, missing=""))
    if "vif" in table.columns:
        out["VIF"] = table["vif"].map(lambda v: f"{v:.2f}")
    if "note" in table.columns:
        out["Note"] = table["note"].fillna("")
    out.index.name = "Term"
    return out


def odds_ratio_record(table: pd.DataFrame) -> dict[str, dict[str, float]]:
    """``{term: {or, low, high, p}}`` for results.json."""
    return {
        str(term): {
            "or": float(r["or"]),
            "low": float(r["low"]),
            "high": float(r["high"]),
            "p": float(r["p"]),
        }
        for term, r in table.iterrows()
    }


def describe_terms(encoder, units: dict[str, str] | None = None) -> dict[str, str]:
    """How each model term is coded, e.g. ``{"sex[male]": "sex: male vs female (reference)"}``.

    ``units`` (``variables.csv``'s ``unit``) makes numeric terms read "per 1 ng/mL".
    """
    units = units or {}
    out = {}
    for term, column in encoder.term_source_.items():
        kind = encoder.types_[column]
        if kind in NUMERIC_TYPES:
            ranks = encoder.ranks_.get(column)
            unit = str(units.get(column) or "").strip()
            if ranks:
                out[term] = (
                    f"{column}: per level, levels coded {', '.join(f'{k} = {v:g}' for k, v in ranks.items())}"
                )
            elif kind == "ordinal":
                out[term] = f"{column}: per level (ordinal)"
            else:
                out[term] = (
                    f"{column}: per 1 {unit}"
                    if unit and unit.lower() not in ("null", "nan")
                    else f"{column}: per unit"
                )
        else:
            levels = encoder.levels_[column]
            level = term[len(column) + 1 : -1] if term != column else levels[1]
            out[term] = f"{column}: {level} vs {levels[0]} (reference)"
    return out
