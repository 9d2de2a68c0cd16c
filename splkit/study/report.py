"""Per-patient reports of a fitted study: one static HTML page per patient, and an index.

Each page shows the patient's image with the lesion mask's contour, the Grad-CAM heatmap of the DTL
network (:mod:`splkit.deep.gradcam`, Selvaraju et al., ICCV 2017), the SHAP waterfall of the explained
model (the CDLR, or the DLR when the study has no clinical arm; Lundberg & Lee, NeurIPS 2017), every
model's probability against its training threshold and the out-of-distribution flags of the scores.
Pages work offline: images are embedded as base64 PNG, the style is inline, there is no script.
Patients are named by the cohort's pseudonyms only (never an input id or a file path)::

    study = Study.load("runs/default/study")
    cohort = study.load_cohort("data/new-patients")
    scores = ...                                   # the table of ``splkit predict``
    write_reports(study, cohort, scores, "reports")  # reports/index.html, reports/P0001.html, …
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import html
import io
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from splkit.book.format import fmt
from splkit.run.cache import atomic_write_text

if TYPE_CHECKING:
    from splkit.study.study import Study

#: Suffixes of a model's probability and 0/1 columns in the scores of ``splkit predict`` (a column named
#: as the model itself is read as its probability too).
PROBABILITY_SUFFIX, CLASS_SUFFIX = "_probability", "_class"
#: Columns whose name starts with this are out-of-distribution flags (:mod:`splkit.study.ood`).
FLAG_PREFIX = "ood"
#: Features shown by each waterfall (as chapter 6).
MAX_WATERFALL = 10
#: Grad-CAM values below this are transparent (outside the crop, or no contribution).
CAM_FLOOR = 0.02

STYLE = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:1.5em auto;padding:0 1em;color:#222}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.5em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}
th{background:#f4f4f4}.figures{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0}
figure img{max-width:100%;height:auto;border:1px solid #ddd}figcaption{font-size:.85em;color:#555}
.flag{background:#fde2e1;font-weight:bold}.ok{color:#2b7a2b}.explained{font-weight:bold}
.note{font-size:.85em;color:#555}.warning{background:#fff4d6;padding:.5em;border-left:4px solid #e0a800}
"""


# ------------------------------------------------------------------ columns of the scores table
def probability_column(model: str, columns: Any) -> str | None:
    """The column of ``model``'s probability: ``<Model>`` or ``<Model>_probability`` (``None``: absent)."""
    return next((c for c in (model, model + PROBABILITY_SUFFIX) if c in columns), None)


def model_columns(study: Study, scores: pd.DataFrame) -> dict[str, str]:
    """Model → its probability column, for the study's models scored in ``scores`` (study order)."""
    found = {m: probability_column(m, scores.columns) for m in study.model_names}
    return {m: c for m, c in found.items() if c is not None}


def flag_columns(study: Study, scores: pd.DataFrame) -> tuple[list[str], list[str]]:
    """``(flags, others)``: the out-of-distribution flags (``ood…``) and the other extra columns
    (e.g. the lesion size, the label when given), in the order of ``scores``."""
    models = model_columns(study, scores)
    known = {*models.values(), *(f"{m}{CLASS_SUFFIX}" for m in models)}
    extra = [c for c in scores.columns if c not in known]
    flags = [c for c in extra if str(c).lower().startswith(FLAG_PREFIX)]
    return flags, [c for c in extra if c not in flags]


def call_name(study: Study, call: int | None) -> str:
    """The name of a 0/1 call: the positive label, or benign / negative."""
    positive = study.training.get("positive_label") or "positive"
    negative = "benign" if positive == "malignant" else "negative"
    return {1: positive, 0: negative}.get(call, "—")


def shown(value: Any) -> str:
    """A table cell (missing values as a dash)."""
    try:
        if pd.isna(value):
            return "—"
    except (TypeError, ValueError):  # lists, arrays
        pass
    text = fmt(value.item() if hasattr(value, "item") else value)
    return text if text.strip() else "—"


def is_raised(value: Any) -> bool:
    """Whether a flag's value says the patient is out of distribution (true, non-zero or a text)."""
    try:
        if pd.isna(value):
            return False
    except (TypeError, ValueError):
        return len(value) > 0
    if isinstance(value, (bool, np.bool_, int, np.integer, float, np.floating)):
        return bool(value)
    return str(value).strip().lower() not in ("", "false", "0", "no", "none", "ok", "nan")


# ------------------------------------------------------------------ images
def png_data_uri(figure: Any) -> str:
    """A matplotlib figure as a ``data:image/png;base64`` URI (no metadata naming files)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight", metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def frame_figures(image: Any, mask: Any, heatmap: np.ndarray | None) -> tuple[str, str | None]:
    """The image with the mask contour, and the Grad-CAM overlay (``None`` without a map), as PNG URIs."""
    from matplotlib.figure import Figure

    from splkit.deep.embed import as_array
    from splkit.deep.overlay import mask_contours

    spacing = image.GetSpacing() if hasattr(image, "GetSpacing") else (1.0, 1.0)
    pixels, lesion = as_array(image).astype(float), as_array(mask)
    sx, sy = (float(s) for s in spacing[:2])
    extent = (0, pixels.shape[1] * sx, pixels.shape[0] * sy, 0)
    contours = mask_contours(lesion)

    def draw(overlay: np.ndarray | None) -> str:
        figure = Figure(figsize=(5, 5 * pixels.shape[0] / max(pixels.shape[1], 1) + 0.4))
        axes = figure.add_subplot()
        axes.imshow(pixels, cmap="gray", vmin=0, vmax=255, extent=extent)
        if overlay is not None:
            shown = np.ma.masked_less(np.asarray(overlay, dtype=float), CAM_FLOOR)
            layer = axes.imshow(shown, cmap="jet", vmin=0, vmax=1, alpha=0.5, extent=extent)
            figure.colorbar(layer, ax=axes, fraction=0.04, label="Grad-CAM")
        for contour in contours:
            axes.plot(contour[:, 1] * sx, contour[:, 0] * sy, color="#00ff66", linewidth=1.2)
        axes.set_xlabel("x (mm)")
        axes.set_ylabel("depth (mm)")
        return png_data_uri(figure)

    return draw(None), None if heatmap is None else draw(heatmap)


def waterfall_figure(explanation: Any, title: str) -> str:
    """The SHAP waterfall of one patient (drawn by the ``shap`` library) as a PNG URI."""
    import matplotlib.pyplot as plt
    import shap

    figure = plt.figure()
    try:
        shap.plots.waterfall(explanation, max_display=MAX_WATERFALL, show=False)
        figure = plt.gcf()
        figure.suptitle(title, fontsize=11)
        return png_data_uri(figure)
    finally:
        plt.close("all")


# ------------------------------------------------------------------ HTML
def _img(uri: str | None, caption: str) -> str:
    if uri is None:
        return f'<figure><p class="note">{html.escape(caption)}</p></figure>'
    return f'<figure><img src="{uri}" alt="{html.escape(caption)}"><figcaption>{html.escape(caption)}</figcaption></figure>'


def _bar(probability: float, threshold: float | None) -> str:
    """An inline SVG bar: the probability on 0–1 with the threshold's tick."""
    width = 200
    tick = (
        f'<line x1="{width * threshold:.1f}" x2="{width * threshold:.1f}" y1="0" y2="14" stroke="#000" '
        'stroke-width="2"/>'
        if threshold is not None
        else ""
    )
    colour = "#d7191c" if threshold is not None and probability >= threshold else "#2b83ba"
    return (
        f'<svg width="{width}" height="14" role="img" aria-label="probability {probability:.3f}">'
        f'<rect width="{width}" height="14" fill="#eee"/><rect width="{width * probability:.1f}" height="14" '
        f'fill="{colour}"/>{tick}</svg>'
    )


def probability_table(study: Study, row: pd.Series, models: Mapping[str, str], explained: str | None) -> str:
    """Each model's probability, training threshold, bar and call."""
    thresholds = study.thresholds
    lines = [
        "<table><tr><th>model</th><th>probability</th><th>training threshold</th><th></th><th>call</th></tr>"
    ]
    for model, column in models.items():
        p, threshold = float(row[column]), thresholds.get(model)
        if f"{model}{CLASS_SUFFIX}" in row.index:
            call = int(row[f"{model}{CLASS_SUFFIX}"])
        else:
            call = int(p >= threshold) if threshold is not None else None
        called = call_name(study, call)
        css = ' class="explained"' if model == explained else ""
        lines.append(
            f"<tr{css}><td>{html.escape(model)}</td><td>{fmt(p)}</td><td>{fmt(threshold)}</td>"
            f"<td>{_bar(p, threshold)}</td><td>{html.escape(str(called))}</td></tr>"
        )
    lines.append("</table>")
    return "\n".join(lines)


def flags_table(row: pd.Series, flags: Sequence[str], others: Sequence[str] = ()) -> str:
    """The out-of-distribution flags of one patient (raised ones highlighted), then the other values."""
    rest = "".join(
        f"<tr><td>{html.escape(str(c))}</td><td>{html.escape(shown(row[c]))}</td></tr>" for c in others
    )
    rest = f"<table><tr><th>also in the scores</th><th>value</th></tr>{rest}</table>" if others else ""
    if not flags:
        return '<p class="note">The scores carry no out-of-distribution flags.</p>' + rest
    raised = [f for f in flags if is_raised(row[f])]
    summary = (
        f'<p class="warning">{len(raised)} flag(s) raised: the patient differs from the training cohort; '
        "treat the probabilities with caution.</p>"
        if raised
        else '<p class="ok">No flag raised: within the training cohort\'s ranges.</p>'
    )
    cells = "".join(
        f"<tr{' class=flag' if f in raised else ''}><td>{html.escape(str(f))}</td>"
        f"<td>{html.escape(shown(row[f]))}</td></tr>"
        for f in flags
    )
    return f"{summary}<table><tr><th>check</th><th>value</th></tr>{cells}</table>{rest}"


def page(title: str, body: str) -> str:
    """A complete offline HTML page."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>\n<body>\n{body}\n"
        '<p class="note">splkit study report — for research and teaching, not for clinical use. SHAP and '
        "Grad-CAM explain the models, not the disease.</p>\n</body></html>\n"
    )


# ------------------------------------------------------------------ the reports
def _subset(cohort: Any, patients: Sequence[str]) -> Any:
    """``cohort`` restricted to ``patients``."""
    table = cohort.table.loc[list(patients)]
    if dataclasses.is_dataclass(cohort):
        return dataclasses.replace(cohort, table=table)
    subset = copy.copy(cohort)
    subset.table = table
    return subset


def explanations(study: Study, cohort: Any, patients: Sequence[str]) -> tuple[Any, dict[str, np.ndarray]]:
    """``(SHAP result or None, Grad-CAM maps)`` of ``patients``; empty when the study cannot explain."""
    explainer = study.explainer
    if explainer is None:
        return None, {}
    shap_result = None
    if explainer.model_ is not None and explainer.background_ is not None:
        X = study.features(cohort, study._stages_for([explainer.model_]))
        shap_result = explainer.shap_values(study.models, X.loc[list(patients)])
    maps = explainer.gradcam(study.deep, cohort, patients) if explainer.gradcam_ is not None else {}
    return shap_result, maps


def patient_page(
    study: Study,
    cohort: Any,
    patient: str,
    row: pd.Series,
    shap_result: Any,
    heatmap: np.ndarray | None,
    flags: tuple[Sequence[str], Sequence[str]],
) -> str:
    """The HTML page of one patient (``flags``: :func:`flag_columns`)."""
    models = model_columns(study, row.to_frame().T)
    explained = study.explainer.model_ if study.explainer is not None else None
    image_uri, cam_uri = frame_figures(cohort.read_image(patient), cohort.read_mask(patient), heatmap)
    kind = (
        study.explainer.describe().get("gradcam") if study.explainer is not None else None
    ) or "DTL network"
    figures = [
        _img(image_uri, "Ultrasound image; green: the lesion mask's contour (reader 1)."),
        _img(
            cam_uri if heatmap is not None else None,
            f"Grad-CAM of the DTL {kind} (malignant logit) on the full frame; zero outside the lesion crop."
            if heatmap is not None
            else "Grad-CAM: not available (the study holds no Grad-CAM model).",
        ),
    ]
    if shap_result is not None and patient in shap_result.patients:
        column = probability_column(explained, row.index)
        p = float(row[column]) if column is not None else None
        title = f"{explained} for {patient}" + (f": P = {p:.3f}" if p is not None else "")
        waterfall = waterfall_figure(shap_result.for_patient(patient), title)
        shap_html = _img(
            waterfall,
            f"SHAP waterfall of the {explained} model: from the average training prediction (E[f(X)], "
            f"{len(study.explainer.background_)} training patients) to this patient's probability f(x).",
        )
    else:
        shap_html = '<p class="note">SHAP: not available (the study holds no SHAP background).</p>'
    body = [
        f"<h1>Patient {html.escape(patient)}</h1>",
        '<p><a href="index.html">All patients</a></p>',
        "<h2>Probabilities at the training thresholds</h2>",
        probability_table(study, row, models, explained),
        '<p class="note">Positive call when the probability is at or above the training cohort\'s Youden '
        "threshold (black tick).</p>",
        "<h2>Out-of-distribution flags</h2>",
        flags_table(row, *flags),
        "<h2>Image and Grad-CAM</h2>",
        f'<div class="figures">{"".join(figures)}</div>',
        "<h2>Why this probability (SHAP)</h2>",
        shap_html,
    ]
    return page(f"Patient {patient}", "\n".join(body))


def index_page(study: Study, scores: pd.DataFrame, pages: Mapping[str, str], flags: Sequence[str]) -> str:
    """The index: one row per patient with a link, the explained model's probability and call, flags."""
    explained = study.explainer.model_ if study.explainer is not None else None
    models = model_columns(study, scores)
    model = explained if explained in models else (list(models)[-1] if models else None)
    threshold = study.thresholds.get(model) if model is not None else None
    rows = []
    for patient, row in scores.iterrows():
        p = float(row[models[model]]) if model is not None else None
        raised = sum(is_raised(row[f]) for f in flags)
        rows.append(
            f'<tr{" class=flag" if raised else ""}><td><a href="{html.escape(pages[patient])}">'
            f"{html.escape(str(patient))}</a></td><td>{fmt(p)}</td>"
            f"<td>{call_name(study, None if p is None or threshold is None else int(p >= threshold))}</td>"
            f"<td>{raised}</td></tr>"
        )
    body = (
        f"<h1>Study report: {len(scores)} patients</h1>"
        f"<p>{html.escape(str(model))} probability at the training threshold {fmt(threshold)}.</p>"
        f"<table><tr><th>patient</th><th>{html.escape(str(model))} probability</th><th>call</th>"
        f"<th>flags raised</th></tr>{''.join(rows)}</table>"
    )
    return page("Study report", body)


def write_reports(study: Study, cohort: Any, scores: pd.DataFrame, out_dir: str | Path) -> list[Path]:
    """Write one HTML page per patient of ``scores`` and ``index.html`` into ``out_dir``.

    Parameters
    ----------
    study
        A fitted or loaded :class:`~splkit.study.Study` (with its explainer for Grad-CAM and SHAP).
    cohort
        The patients' :class:`~splkit.cohort.Cohort` (images and masks; index = pseudonyms).
    scores
        The table of ``splkit predict``: index = pseudonymised patient; per model ``<Model>_probability``
        (or ``<Model>``) and ``<Model>_class`` (0/1); the out-of-distribution flags (``ood…``); any other
        column (lesion size, label, cohort) is shown beside the flags.
    out_dir
        The folder of the pages (created).

    Returns
    -------
    list of Path
        ``index.html``, then the patients' pages in the order of ``scores``.
    """
    patients = [str(p) for p in scores.index]
    missing = [p for p in patients if p not in cohort.table.index]
    if missing:
        raise KeyError(f"patients {missing[:10]} of the scores are not in the cohort")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    scores = scores.set_axis(patients)
    subset = _subset(cohort, patients)
    shap_result, maps = explanations(study, subset, patients)
    flags = flag_columns(study, scores)
    names = {p: re.sub(r"[^A-Za-z0-9_.-]", "_", p) + ".html" for p in patients}
    paths = []
    for patient, row in scores.iterrows():
        text = patient_page(study, subset, patient, row, shap_result, maps.get(patient), flags)
        paths.append(atomic_write_text(out_dir / names[patient], text))
    index = atomic_write_text(out_dir / "index.html", index_page(study, scores, names, flags[0]))
    return [index, *paths]
