"""Chapter 4's plotly figures: the DTL features' variance, the fine-tuning loss, the training scatter.

Grad-CAM overlays are :mod:`splkit.deep.overlay`'s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from splkit.book.plots import styled
from splkit.run.names import CLASS_COLORS, MODEL_COLORS


def variance_figure(variance: pd.DataFrame) -> go.Figure:
    """Explained training variance per principal component (bars) and cumulatively (line), in %.

    ``variance``: :func:`splkit.deep.compress.variance_table`.
    """
    components = np.arange(1, len(variance) + 1)
    fig = go.Figure()
    fig.add_bar(
        x=components,
        y=100 * variance["explained_variance"],
        name="per component",
        marker_color=MODEL_COLORS["DTL"],
    )
    fig.add_scatter(
        x=components,
        y=100 * variance["cumulative"],
        name="cumulative",
        mode="lines+markers",
        line=dict(color="#444"),
    )
    return styled(
        fig,
        "Training-cohort variance of the embedding kept by the DTL features",
        "principal component (DTL feature number)",
        "explained variance (% of training variance)",
    )


def loss_figure(history: pd.DataFrame) -> go.Figure:
    """Training loss per epoch of the fine-tuning (``history`` from :func:`splkit.deep.finetune.fine_tune`)."""
    fig = go.Figure(go.Scatter(x=history["epoch"], y=history["training loss"], mode="lines+markers"))
    return styled(fig, "Fine-tuning on the training cohort", "epoch", "training loss (binary cross-entropy)")


def training_scatter(
    candidates: pd.DataFrame,
    labels: pd.Series,
    train: Sequence[str],
    class_names: Mapping[int, str],
    variance: pd.DataFrame | None = None,
) -> go.Figure:
    """Training patients on ``DTL_001`` x ``DTL_002``, coloured by the reference standard.

    With ``variance`` (the PCA's :func:`~splkit.deep.compress.variance_table`) the axes are principal
    components and say how much variance each keeps; without, they are fine-tuned bottleneck units.
    """
    train = pd.Index(train)
    fig = go.Figure()
    for value in (0, 1):
        rows = train[labels.loc[train].to_numpy() == value]
        fig.add_scatter(
            x=candidates.loc[rows, "DTL_001"],
            y=candidates.loc[rows, "DTL_002"],
            mode="markers",
            name=f"{class_names[value]} (n = {len(rows)})",
            marker=dict(color=CLASS_COLORS[value], size=7, opacity=0.75),
            text=list(rows),
            hovertemplate="%{text}<extra></extra>",
        )
    if variance is None:
        titles = ("Training patients on the first two fine-tuned DTL features",) + tuple(
            f"DTL_00{k} (bottleneck unit {k}, a.u.)" for k in (1, 2)
        )
    else:
        titles = ("Training embeddings on the first two principal components",) + tuple(
            f"DTL_00{k} (PC {k}, {100 * variance['explained_variance'].iloc[k - 1]:.1f} % of variance; "
            "score, a.u.)"
            for k in (1, 2)
        )
    return styled(fig, *titles)
