"""One formatter per kind of number, shared by the notebooks, the figures and the generated pages."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

#: What a page shows for a value the run did not record.
NOT_RECORDED = "not recorded in this run"
#: A measure the run recorded as having no value (NPV when no patient is called negative, a
#: Hosmer-Lemeshow p with fewer than three groups): the run computed it, and it does not exist.
UNDEFINED = "undefined"
#: What an "undefined" cell means, under a table that has one.
UNDEFINED_NOTE = (
    "*undefined*: the measure has no value in that cohort (PPV or NPV when no patient is called positive "
    "or negative at the training threshold; the Hosmer–Lemeshow test with too few risk groups).\n"
)


def is_missing(value: Any) -> bool:
    """``None`` or a float NaN."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt(value: Any, digits: int = 3, missing: str = NOT_RECORDED) -> str:
    """A value for a page: floats with ``digits`` decimals, booleans as yes/no; missing -> ``missing``."""
    if is_missing(value):
        return missing
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def fmt_p(value: Any, missing: str = NOT_RECORDED) -> str:
    """A p-value: ``<0.001`` or three decimals (the APA and most journals' style); missing -> ``missing``."""
    if is_missing(value) or not math.isfinite(float(value)):
        return missing
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def absent(row: Mapping[str, Any] | None, key: str) -> str:
    """How a page shows a missing ``row[key]``: :data:`UNDEFINED` when the run recorded the key without a
    value, :data:`NOT_RECORDED` when it did not record it."""
    return UNDEFINED if isinstance(row, Mapping) and key in row else NOT_RECORDED


def with_undefined_note(table: str) -> str:
    """A Markdown table, followed by :data:`UNDEFINED_NOTE` when one of its cells is :data:`UNDEFINED`."""
    return table + ("\n" + UNDEFINED_NOTE if f"| {UNDEFINED} |" in table else "")


def fmt_ci(
    row: Mapping[str, Any] | None, metric: str, low: str | None = None, high: str | None = None
) -> str:
    """``"0.826 (0.722–0.930)"`` from ``row[metric]`` and its interval keys (``<metric>_low/_high``)."""
    row = row or {}
    estimate = row.get(metric)
    if is_missing(estimate):
        return absent(row, metric)
    lo, hi = row.get(low or f"{metric}_low"), row.get(high or f"{metric}_high")
    if is_missing(lo) or is_missing(hi):
        return fmt(estimate)
    return f"{fmt(estimate)} ({fmt(lo)}–{fmt(hi)})"


def fmt_tick(value: Any) -> str:
    """An axis tick: whole floats without decimals, others with three significant digits."""
    if isinstance(value, float) and value.is_integer():
        return f"{value:g}"
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A pipe table for a generated Markdown page (``|`` in cells escaped)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"
