"""Check every patient's files and summarise: per-image table, id-free notes, the terminal report.

:func:`check_images` runs :func:`splkit.cohort.checks.check_patient` over the cohort.  What it finds
is kept in two forms: problems and warnings naming the input ids and files (for the user's terminal:
``splkit validate``, the check before ``splkit run``), and counts without ids (:func:`notes`, the
``image_checks`` table by pseudonym) that may go into the run directory and the book.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from splkit.cohort.checks import PLAUSIBLE_SPACING_MM, RoiRules, check_patient
from splkit.cohort.validation import Problem, format_problems
from splkit.run.names import COHORT_LABELS
from splkit.run.progress import progress_bar

#: Columns of :attr:`splkit.cohort.Cohort.image_checks`.
CHECK_COLUMNS = ("intensity", "roi_pixels", "roi_uniform", "width_px", "height_px", "channels")
#: Samples per pixel of a colour image (RGB, RGBA): converted to grey (BT.601 luma) when read.
COLOUR_CHANNELS = (3, 4)

#: What the fast validation does not do, said at the end of its report.
NOT_DECODED = "pixel data not decoded; run with --full or the run decodes every image before the long steps"


@dataclass
class ImageSurvey:
    """Spacing, sources, per-image findings (by input id), problems and warnings of a cohort."""

    spacing: dict[str, tuple[float, float]] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    rows: dict[str, dict] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def check_images(
    ids: list[str],
    root: Path,
    matched: Mapping[str, Mapping[str, Path]],
    column_spacing: Mapping[str, float],
    invalid_spacing: set[str],
    default_spacing_mm: float | None,
    full: bool,
    rules: RoiRules | None,
    progress: bool | None,
) -> ImageSurvey:
    """Check each patient with an image (``matched[folder][id]``); see :func:`check_patient`."""
    survey = ImageSurvey()
    bar = progress_bar(
        ids, desc="checking images", unit="patient", disable=None if progress is None else not progress
    )
    for patient in bar:
        if patient not in matched["images"]:
            continue
        found = check_patient(
            patient,
            root,
            matched["images"][patient],
            matched["masks"].get(patient),
            matched["masks_reader2"].get(patient),
            column_spacing.get(patient),
            default_spacing_mm,
            full=full,
            rules=rules,
            spacing_invalid=patient in invalid_spacing,
        )
        survey.problems += found.problems
        survey.warnings += found.warnings
        survey.rows[patient] = {
            "intensity": found.intensity,
            "roi_pixels": found.roi_pixels,
            "roi_uniform": pd.NA if found.roi_uniform is None else found.roi_uniform,
            "width_px": found.size[0] if found.size else pd.NA,
            "height_px": found.size[1] if found.size else pd.NA,
            "channels": pd.NA if found.channels is None else found.channels,
        }
        if found.spacing is not None:
            survey.spacing[patient] = found.spacing
            survey.sources[patient] = found.source
    return survey


def check_table(rows: Mapping[str, dict], key: Mapping[str, str]) -> pd.DataFrame:
    """The per-image findings by pseudonym (index ``patient``, sorted): intensity rule, lesion pixels,
    uniform lesion (``<NA>`` when the image was not decoded), image size in pixels and samples per
    pixel (3 or 4: an RGB(A) image, e.g. a screen capture, converted to grey)."""
    table = pd.DataFrame.from_dict({key[p]: r for p, r in rows.items()}, orient="index")
    table = table.reindex(columns=list(CHECK_COLUMNS)).sort_index()
    table.index.name = "patient"
    for column in ("roi_pixels", "width_px", "height_px", "channels"):
        table[column] = table[column].astype("Int64")
    table["roi_uniform"] = table["roi_uniform"].astype("boolean")
    return table


def notes(survey: ImageSurvey, n_normalised: int, n_subfolders: int, full: bool) -> list[str]:
    """Sentences without patient ids about what the checks found (for the summary and the book)."""
    out = []
    rules = Counter(r["intensity"] for r in survey.rows.values() if r["intensity"])
    if set(rules) - {"8-bit, as is"}:
        listed = "; ".join(f"{n} image{'s' * (n != 1)} {rule}" for rule, n in rules.most_common())
        out.append(f"grey levels (intensity rule, data/README.md): {listed}")
    if n_normalised:
        out.append(
            f"{n_normalised} file name(s) matched their patient_id after Unicode normalisation (NFC; "
            "macOS writes accented letters decomposed)"
        )
    if n_subfolders:
        out.append(f"{n_subfolders} sub-folder(s) of images/ or masks/ not read (splkit validate names them)")
    low, high = PLAUSIBLE_SPACING_MM
    odd = sum(not all(low <= v <= high for v in s) for s in survey.spacing.values())
    if odd:
        out.append(
            f"{odd} image(s) with a pixel spacing outside the plausible ultrasound range {low:g}-{high:g} mm"
        )
    if full:
        uniform = sum(r["roi_uniform"] is True for r in survey.rows.values())
        if uniform:
            out.append(
                f"{uniform} lesion(s) with a single grey level (uniform ROI: placeholder texture features)"
            )
    return out


def report(warnings: list[Problem], full: bool, preset: str | None) -> str:
    """The closing lines of ``splkit validate``: warnings (with input ids: for the terminal only),
    what was checked and what was not."""
    lines = []
    if warnings:
        lines.append(f"{len(warnings)} warning{'s' * (len(warnings) != 1)} (not errors):")
        lines += [f"  {line}" for line in format_problems(warnings)]
    if preset:
        lines.append(f"lesions and image sizes checked against the radiomics preset '{preset}'")
    else:
        lines.append("radiomics preset constraints not checked (no preset given)")
    lines.append("every image decoded" if full else NOT_DECODED)
    return "\n".join(lines)


def pair_or_scalar(spacing: tuple[float, float]) -> float | tuple[float, float]:
    """A float for square pixels, else the ``(x, y)`` pair."""
    return spacing[0] if np.isclose(spacing[0], spacing[1], rtol=1e-6) else spacing


def _spread(values: pd.Series, digits: int) -> str:
    """``median [min–max]`` of a column (``–`` when empty)."""
    values = pd.to_numeric(values, errors="coerce").dropna()
    if values.empty:
        return "–"
    low, mid, high = (round(float(v), digits) for v in (values.min(), values.median(), values.max()))
    as_text = (lambda v: f"{v:g}") if digits else (lambda v: f"{int(v)}")
    return f"{as_text(mid)} [{as_text(low)}–{as_text(high)}]"


def geometry(
    checks: pd.DataFrame, spacing: Mapping[str, float | tuple[float, float]], cohorts: pd.Series
) -> tuple[pd.DataFrame, dict]:
    """Image sizes (px), pixel spacings (mm) and colour images converted to grey, by cohort and overall.

    ``checks``: :attr:`splkit.cohort.Cohort.image_checks`; ``spacing``: mm by pseudonym (a float, or
    ``(x, y)``: their mean is tabled and the pair counted as non-square); ``cohorts``: the cohort of
    each pseudonym.  Returns the table (one row per cohort, then ``All``: ``median [min–max]``) and the
    numbers for ``results.json`` (overall ``min``/``median``/``max`` of each, ``n_rgb_converted``,
    ``n_non_square_pixels``)."""
    frame = checks.reindex(columns=["width_px", "height_px", "channels"]).copy()
    pairs = {p: (s, s) if np.isscalar(s) else tuple(s) for p, s in spacing.items()}
    frame["spacing_mm"] = pd.Series({p: float(np.mean(s)) for p, s in pairs.items()}, dtype=float)
    frame["non_square"] = pd.Series({p: not np.isclose(*s, rtol=1e-6) for p, s in pairs.items()})
    frame["rgb"] = frame["channels"].isin(COLOUR_CHANNELS).fillna(False).astype(bool)
    frame["cohort"] = cohorts.reindex(frame.index)
    groups = [(str(c), part) for c, part in frame.groupby("cohort", sort=False)]
    order = list(COHORT_LABELS)
    groups.sort(key=lambda g: order.index(g[0]) if g[0] in order else len(order))
    groups = [(COHORT_LABELS.get(c, c), part) for c, part in groups] + [("All", frame)]
    table = pd.DataFrame(
        {
            name: {
                "images": len(part),
                "width, px: median [min–max]": _spread(part["width_px"], 0),
                "height, px: median [min–max]": _spread(part["height_px"], 0),
                "pixel spacing, mm: median [min–max]": _spread(part["spacing_mm"], 4),
                "RGB(A) converted to grey": int(part["rgb"].sum()),
            }
            for name, part in groups
        }
    ).T.rename_axis("cohort")

    def summary(column: str) -> dict[str, float] | None:
        values = pd.to_numeric(frame[column], errors="coerce").dropna()
        if values.empty:
            return None
        return {"min": float(values.min()), "median": float(values.median()), "max": float(values.max())}

    record = {
        "n_images": len(frame),
        "width_px": summary("width_px"),
        "height_px": summary("height_px"),
        "spacing_mm": summary("spacing_mm"),
        "n_rgb_converted": int(frame["rgb"].sum()),
        "n_non_square_pixels": int(frame["non_square"].fillna(False).astype(bool).sum()),
    }
    return table, record
