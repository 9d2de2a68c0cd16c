"""Figures of Grad-CAM heatmaps on the full ultrasound frame, with the lesion mask's contour."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from splkit.deep.embed import as_array


def mask_contours(mask: np.ndarray) -> list[np.ndarray]:
    """Contours (row, col in continuous pixel coordinates) of a binary mask at level 0.5."""
    from skimage.measure import find_contours

    padded = np.pad(np.asarray(mask) > 0, 1).astype(float)
    return [contour - 1 + 0.5 for contour in find_contours(padded, 0.5)]


def frame_panels(
    cohort: Any, maps: Mapping[str, np.ndarray], captions: Iterable[tuple[str, str]]
) -> list[dict[str, Any]]:
    """The panels of :func:`overlay_figure` for ``(patient, caption)`` pairs, in their order.

    Each panel holds the patient's full frame and reader-1 mask (from ``cohort``), the Grad-CAM map of
    ``maps``, the pixel spacing in mm (the image's own; 1 mm for a plain array) and the caption.
    """
    panels = []
    for patient, caption in captions:
        image = cohort.read_image(patient)
        spacing = image.GetSpacing() if hasattr(image, "GetSpacing") else (1.0, 1.0)
        panels.append(
            {
                "image": as_array(image),
                "heatmap": maps[patient],
                "mask": as_array(cohort.read_mask(patient)),
                "spacing": spacing,
                "label": caption,
            }
        )
    return panels


def overlay_figure(
    panels: Sequence[Mapping[str, Any]],
    title: str = "Grad-CAM of the DTL classifier (malignant logit)",
    max_side: int = 192,
    opacity: float = 0.5,
    columns: int = 3,
):
    """Plotly figure: gray frames with the Grad-CAM heatmap and the lesion mask contour, in a grid.

    ``panels``: mappings with ``image`` (2-D), ``heatmap`` (same shape, 0–1), ``mask`` (same shape),
    ``spacing`` (column, row spacing in mm) and ``label`` (subplot title).  Frames are shown in mm and
    subsampled to at most ``max_side`` pixels for the figure (the contour is drawn at full resolution).
    ``columns`` panels per row keep the figure within a book page's width.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    from splkit.book.plots import styled

    ncols = max(1, min(columns, len(panels)))
    nrows = -(-len(panels) // ncols)
    fig = make_subplots(
        rows=nrows,
        cols=ncols,
        subplot_titles=[p["label"] for p in panels],
        horizontal_spacing=0.05,
        vertical_spacing=0.24 / nrows,
    )
    fig.update_annotations(font_size=11)  # subplot titles (may hold a <br>)
    for index, panel in enumerate(panels, start=1):
        row, col = (index - 1) // ncols + 1, (index - 1) % ncols + 1
        image, heatmap = np.asarray(panel["image"], dtype=float), np.asarray(panel["heatmap"], dtype=float)
        sx, sy = (float(s) for s in panel.get("spacing", (1.0, 1.0)))
        step = max(1, int(np.ceil(max(image.shape) / max_side)))
        shown = heatmap[::step, ::step].astype(np.float32)
        shown[shown < 0.02] = np.nan  # transparent outside the crop and where the map is ~0
        gray = np.clip(np.round(image[::step, ::step]), 0, 255).astype(np.uint8)  # 8-bit display, small HTML
        common = dict(dx=sx * step, dy=sy * step, x0=sx * step / 2, y0=sy * step / 2, hoverinfo="skip")
        fig.add_trace(
            go.Heatmap(z=gray, colorscale="gray", showscale=False, **common),
            row=row,
            col=col,
        )
        fig.add_trace(
            go.Heatmap(
                z=shown,
                colorscale="Jet",
                zmin=0,
                zmax=1,
                opacity=opacity,
                showscale=index == len(panels),
                colorbar=dict(title="Grad-CAM", len=0.8),
                **common,
            ),
            row=row,
            col=col,
        )
        for contour in mask_contours(panel["mask"]):
            fig.add_trace(
                go.Scatter(
                    x=contour[:, 1] * sx,
                    y=contour[:, 0] * sy,
                    mode="lines",
                    line=dict(color="#00ff66", width=1.5),
                    name="lesion mask",
                    hoverinfo="skip",
                ),
                row=row,
                col=col,
            )
        fig.update_xaxes(
            title_text="x (mm)" if index > len(panels) - ncols else "",  # bottom panel of each column
            row=row,
            col=col,
            constrain="domain",
            scaleanchor=f"y{'' if index == 1 else index}",
        )
        fig.update_yaxes(
            title_text="depth (mm)" if col == 1 else None, autorange="reversed", row=row, col=col
        )
    styled(fig, title, height=120 + 260 * nrows, width=max(420, 250 * ncols))
    fig.update_layout(showlegend=False)  # the green contour is the lesion mask: say so in the caption
    return fig
