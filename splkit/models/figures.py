"""Plotly figures of notebook 05: ROC curves, calibration plots, decision curves, DeLong matrix.

Each factory takes the tables of :mod:`splkit.stats` / :mod:`splkit.models.evaluation` (never a
fitted model) and returns a styled :class:`plotly.graph_objects.Figure`; notebooks show them with
:func:`splkit.book.plots.show`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from splkit import stats
from splkit.book.format import fmt_p
from splkit.book.plots import MODEL_COLORS, styled
from splkit.run.names import CLINICAL_SVM, IN_SAMPLE

#: Colours of the models beyond the five of the paper.
EXTRA_COLORS = {CLINICAL_SVM: "#17becf", IN_SAMPLE: "#8c564b"}
_FALLBACK = ("#7f7f7f", "#bcbd22", "#e377c2", "#aec7e8")
REFERENCE = {"Treat all": "#555555", "Treat none": "#000000"}


def model_color(model: str, index: int = 0) -> str:
    """A model's colour, the same in every figure of the book."""
    return MODEL_COLORS.get(model) or EXTRA_COLORS.get(model) or _FALLBACK[index % len(_FALLBACK)]


def _dash(model: str) -> str:
    return "dot" if model in (CLINICAL_SVM, IN_SAMPLE) else "solid"


def roc_figure(wide: pd.DataFrame, title: str, aucs: Mapping[str, float] | None = None) -> go.Figure:
    """ROC curves of every model on one cohort.

    Parameters
    ----------
    wide
        ``label`` plus one score column per model (:func:`splkit.models.evaluation.cohort_scores`).
    title
        Figure title.
    aucs
        AUC per model for the legend (computed from the scores when omitted).
    """
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            line=dict(color="#999", dash="dash", width=1),
            name="Chance (AUC 0.5)",
            hoverinfo="skip",
        )
    )
    y = wide["label"].to_numpy()
    for i, model in enumerate(wide.columns[1:]):
        points = stats.roc_points(y, wide[model].to_numpy())
        auc = (aucs or {}).get(model)
        if auc is None:
            auc = stats.delong_auc(y, wide[model].to_numpy()).auc
        fig.add_trace(
            go.Scatter(
                x=points["fpr"],
                y=points["tpr"],
                mode="lines",
                name=f"{model} (AUC {auc:.3f})",
                line=dict(color=model_color(model, i), width=2, dash=_dash(model), shape="hv"),
                customdata=points["threshold"],
                hovertemplate="1 − specificity %{x:.3f}<br>sensitivity %{y:.3f}<br>threshold %{customdata:.3f}",
            )
        )
    fig.update_xaxes(range=[-0.01, 1.01], constrain="domain")
    fig.update_yaxes(range=[-0.01, 1.01], scaleanchor="x", scaleratio=1)
    fig.update_layout(legend=dict(x=0.98, y=0.02, xanchor="right", yanchor="bottom"))
    return styled(
        fig,
        title,
        "1 − specificity (false-positive rate, proportion)",
        "Sensitivity (true-positive rate, proportion)",
        height=520,
        width=560,
    )


def calibration_figure(
    wide: pd.DataFrame, title: str, n_bins: int = 10, level: float = 0.95, columns: int = 3
) -> go.Figure:
    """Calibration of every model on one cohort, one panel per model.

    Binned observed frequency (quantile bins, Wilson CI error bars) against the mean predicted
    probability, a LOWESS-smoothed curve, and the diagonal of perfect calibration.
    """
    models = list(wide.columns[1:])
    rows = math.ceil(len(models) / columns)
    fig = make_subplots(
        rows=rows,
        cols=columns,
        subplot_titles=models,
        horizontal_spacing=0.06,
        vertical_spacing=0.12 if rows > 1 else 0.1,
    )
    y = wide["label"].to_numpy()
    for i, model in enumerate(models):
        r, c = i // columns + 1, i % columns + 1
        color = model_color(model, i)
        prob = wide[model].to_numpy()
        binned = stats.calibration_curve(y, prob, n_bins=n_bins, level=level)
        smooth = stats.smoothed_calibration(y, prob)
        fig.add_trace(
            go.Scatter(
                x=[0, 1],
                y=[0, 1],
                mode="lines",
                line=dict(color="#999", dash="dash", width=1),
                showlegend=False,
                hoverinfo="skip",
            ),
            row=r,
            col=c,
        )
        fig.add_trace(
            go.Scatter(
                x=binned["mean_predicted"],
                y=binned["observed"],
                mode="markers",
                name=model,
                showlegend=False,
                marker=dict(color=color, size=7),
                error_y=dict(
                    type="data",
                    symmetric=False,
                    array=binned["high"] - binned["observed"],
                    arrayminus=binned["observed"] - binned["low"],
                    color=color,
                    thickness=1,
                ),
                customdata=binned["n"],
                hovertemplate="predicted %{x:.2f}<br>observed %{y:.2f}<br>n = %{customdata}",
            ),
            row=r,
            col=c,
        )
        fig.add_trace(
            go.Scatter(
                x=smooth["prob"],
                y=smooth["observed"],
                mode="lines",
                showlegend=False,
                line=dict(color=color, width=2),
                name=f"{model} (LOWESS)",
            ),
            row=r,
            col=c,
        )
    fig.update_xaxes(range=[0, 1])
    fig.update_yaxes(range=[-0.02, 1.02])
    for c in range(1, columns + 1):
        fig.update_xaxes(title_text="Predicted probability", row=rows, col=c)
    for r in range(1, rows + 1):
        fig.update_yaxes(title_text="Observed frequency", row=r, col=1)
    return styled(fig, title, height=330 * rows + 80)


def decision_curve_figure(curves: pd.DataFrame, title: str) -> go.Figure:
    """Net benefit against threshold probability for each model, Treat all and Treat none.

    ``curves`` is :func:`splkit.stats.decision_curves` output (``model, threshold, net_benefit``).
    """
    fig = go.Figure()
    names = list(dict.fromkeys(curves["model"]))
    for i, model in enumerate(names):
        part = curves[curves["model"] == model]
        if model in REFERENCE:
            line = dict(color=REFERENCE[model], width=1.5, dash="dash" if model == "Treat all" else "solid")
        else:
            line = dict(color=model_color(model, i), width=2, dash=_dash(model))
        fig.add_trace(
            go.Scatter(
                x=part["threshold"],
                y=part["net_benefit"],
                mode="lines",
                name=model,
                line=line,
                hovertemplate="threshold %{x:.2f}<br>net benefit %{y:.3f}",
            )
        )
    prevalence = curves.loc[curves["model"] == "Treat all", "net_benefit"].max()
    top = max(float(np.nanmax(curves["net_benefit"])), 0.05)
    fig.update_yaxes(range=[-0.05 * max(top, prevalence), top * 1.08])
    fig.update_xaxes(range=[0, 1])
    return styled(
        fig,
        title,
        "Threshold probability of malignancy (biopsy if risk ≥ threshold)",
        "Net benefit (true positives per patient)",
        height=480,
    )


def delong_heatmap(pvalues: pd.DataFrame, title: str, adjusted: pd.DataFrame | None = None) -> go.Figure:
    """Pairwise DeLong p-values as an annotated heat map (raw p; Holm-adjusted in brackets if given)."""
    names = list(pvalues.index)
    raw = pvalues.to_numpy(dtype=float)
    text = []
    for i in range(len(names)):
        line = []
        for j in range(len(names)):
            if i == j or not np.isfinite(raw[i, j]):
                line.append("")
                continue
            cell = fmt_p(raw[i, j])
            if adjusted is not None:
                cell += f"<br>(Holm {fmt_p(float(adjusted.iloc[i, j]))})"
            line.append(cell)
        text.append(line)
    fig = go.Figure(
        go.Heatmap(
            z=np.where(np.isfinite(raw), np.log10(np.clip(raw, 1e-4, 1)), np.nan),
            x=names,
            y=names,
            text=text,
            texttemplate="%{text}",
            colorscale="Blues_r",
            zmin=-4,
            zmax=0,
            colorbar=dict(
                title="p",
                tickvals=[-4, -3, -2, np.log10(0.05), -1, 0],
                ticktext=["≤0.0001", "0.001", "0.01", "0.05", "0.1", "1"],
            ),
            hovertemplate="%{y} vs %{x}<br>p = %{text}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed", showgrid=False)
    fig.update_xaxes(showgrid=False)
    return styled(fig, title, "Model", "Model", height=120 + 70 * len(names), width=160 + 110 * len(names))


def models_in(curves: pd.DataFrame) -> Sequence[str]:
    """Model names of a decision-curve table without the reference strategies."""
    return [m for m in dict.fromkeys(curves["model"]) if m not in REFERENCE]
