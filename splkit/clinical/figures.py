"""Plotly figures of the cohort and clinical chapters: outcome counts, forest plot, nomogram."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from splkit.book.format import fmt_p, fmt_tick
from splkit.book.plots import CLASS_COLORS, MODEL_COLORS, styled
from splkit.clinical.nomogram import Nomogram
from splkit.run.names import COHORT_LABELS


def outcome_counts_figure(
    table: pd.DataFrame, positive: str = "malignant", negative: str = "benign"
) -> go.Figure:
    """Grouped bars: patients per cohort and outcome (``label`` 0/1, ``cohort``), with counts and shares."""
    counts = (
        table.groupby(["cohort", "label"]).size().unstack(fill_value=0).reindex(columns=[0, 1], fill_value=0)
    )
    order = [c for c in COHORT_LABELS if c in counts.index] + [
        c for c in counts.index if c not in COHORT_LABELS
    ]
    counts = counts.loc[order]
    names = [COHORT_LABELS.get(c, c) for c in counts.index]
    fig = go.Figure()
    for label, name in ((0, negative), (1, positive)):
        share = counts[label] / counts.sum(axis=1)
        fig.add_bar(
            x=names,
            y=counts[label],
            name=name,
            marker_color=CLASS_COLORS[label],
            text=[f"{n} ({s:.0%})" for n, s in zip(counts[label], share, strict=True)],
            textposition="outside",
        )
    fig.update_layout(barmode="group")
    fig.update_yaxes(range=[0, counts.to_numpy().max() * 1.2])
    return styled(fig, "Patients by cohort and outcome", "Cohort", "Patients (n)", height=380)


def forest_plot(table: pd.DataFrame, title: str = "Multivariable logistic regression") -> go.Figure:
    """Odds ratios with 95 % CIs on a log axis; ``table`` indexed by term with ``or, low, high, p``."""
    table = table.iloc[::-1]
    labels = [str(t) for t in table.index]
    hover = [
        f"{t}: OR {r['or']:.3g} (95% CI {r['low']:.3g}–{r['high']:.3g}), p = {r['p']:.3g}"
        for t, r in table.iterrows()
    ]
    fig = go.Figure(
        go.Scatter(
            x=table["or"],
            y=labels,
            mode="markers",
            marker=dict(size=10, symbol="square", color=MODEL_COLORS["Clinical"]),
            error_x=dict(
                type="data",
                symmetric=False,
                array=(table["high"] - table["or"]).clip(upper=1e6),
                arrayminus=table["or"] - table["low"],
                thickness=2,
            ),
            hovertext=hover,
            hoverinfo="text",
            showlegend=False,
        )
    )
    fig.add_vline(x=1, line_dash="dash", line_color="#666")
    fig.update_xaxes(type="log")
    for label, (_, row) in zip(labels, table.iterrows(), strict=True):
        fig.add_annotation(
            x=1.0,
            xref="paper",
            y=label,
            xanchor="left",
            showarrow=False,
            text=f"{row['or']:.2f} ({row['low']:.2f}–{row['high']:.2f}), p={fmt_p(row['p'])}",
            font=dict(size=11),
        )
    fig.update_layout(margin=dict(r=260))
    return styled(
        fig, title, "Odds ratio (95 % CI), log scale", "Predictor", height=max(260, 70 + 45 * len(labels))
    )


def nomogram_figure(
    nomogram: Nomogram, title: str = "Nomogram of the clinical model", labels=None
) -> go.Figure:
    """Draw a nomogram: a points ruler, one axis per predictor, total points and probability axes.

    Total points and probability share one axis rescaled to the 0-100 width of the points ruler.
    """
    labels = labels or {}
    rows = [
        "Points",
        *[labels.get(s.predictor, s.predictor) for s in nomogram.scales],
        "Total points",
        "Probability of malignancy",
    ]
    fig = go.Figure()
    y = {name: len(rows) - i for i, name in enumerate(rows)}

    def ruler(name, x_ticks, tick_text, extent, color="#333"):
        level = y[name]
        fig.add_trace(
            go.Scatter(
                x=list(extent),
                y=[level, level],
                mode="lines",
                line=dict(color=color, width=2),
                hoverinfo="skip",
                showlegend=False,
            )
        )
        fig.add_trace(
            go.Scatter(
                x=list(x_ticks),
                y=[level] * len(x_ticks),
                mode="markers+text",
                text=tick_text,
                textposition="top center",
                marker=dict(symbol="line-ns-open", size=10, color=color),
                textfont=dict(size=11),
                hoverinfo="text",
                hovertext=tick_text,
                showlegend=False,
            )
        )

    points_ticks = np.arange(0, 101, 10)
    ruler("Points", points_ticks, [f"{t:g}" for t in points_ticks], (0, 100))
    for scale in nomogram.scales:
        text = [fmt_tick(v) for v in scale.values]
        ruler(labels.get(scale.predictor, scale.predictor), scale.points, text, scale.extent, "#1f77b4")
    total_max = nomogram.max_total
    factor = 100.0 / total_max if total_max > 0 else 1.0
    total_ticks = _round_ticks(total_max)
    ruler("Total points", np.asarray(total_ticks) * factor, [f"{t:g}" for t in total_ticks], (0, 100))
    probs = np.array([0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99])
    at = nomogram.total_points_for(probs) * factor
    inside = (at >= -1e-9) & (at <= 100 + 1e-9)
    ruler(
        "Probability of malignancy",
        at[inside],
        [f"{p:g}" for p in probs[inside]],
        (
            max(0.0, at[inside].min()) if inside.any() else 0,
            min(100.0, at[inside].max()) if inside.any() else 100,
        ),
        "#d62728",
    )
    fig.update_yaxes(
        tickvals=list(y.values()), ticktext=list(y.keys()), showgrid=False, range=[0.3, len(rows) + 0.7]
    )
    fig.update_xaxes(range=[-5, 105], showgrid=False, showticklabels=False)
    fig = styled(
        fig,
        title,
        "Points (each predictor's value is read off against the top ruler)",
        None,
        height=110 + 70 * len(rows),
    )
    fig.update_xaxes(showline=False, ticks="")
    fig.update_layout(margin=dict(l=190))
    return fig


def _round_ticks(high: float, n: int = 8) -> list[float]:
    if high <= 0:
        return [0.0]
    raw = high / n
    magnitude = 10 ** np.floor(np.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [float(t) for t in np.arange(0, high + 1e-9, step)]
