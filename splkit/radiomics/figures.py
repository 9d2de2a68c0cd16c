"""Plotly figures of notebook 03: extraction summary, ICC distribution, selection funnel, LASSO."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from splkit.book.plots import MODEL_COLORS, styled

RAD_COLOR = MODEL_COLORS["Rad"]


def features_per_image_type(counts: Mapping[str, int]) -> go.Figure:
    """Bar chart of extracted features per image type."""
    fig = go.Figure(go.Bar(x=list(counts), y=list(counts.values()), marker_color=RAD_COLOR))
    return styled(fig, "Radiomics features extracted per image type", "image type (filter)", "features (n)")


def icc_histogram(values: pd.Series, threshold: float) -> go.Figure:
    """Histogram of inter-reader ICC with the threshold marked."""
    finite = values.dropna().clip(lower=-1)
    fig = go.Figure(
        go.Histogram(x=finite, xbins=dict(start=-1, end=1.0001, size=0.025), marker_color=RAD_COLOR)
    )
    fig.add_vline(
        x=threshold,
        line_dash="dash",
        line_color="#444",
        annotation_text=f"threshold {threshold:g}",
        annotation_position="top left",
    )
    kept = int((values >= threshold).sum())
    title = f"Inter-reader ICC of {len(values)} features ({kept} at or above {threshold:g})"
    return styled(fig, title, f"{values.name or 'ICC'} (reader 1 vs reader 2, unitless)", "features (n)")


def selection_funnel_figure(steps: pd.DataFrame) -> go.Figure:
    """Funnel of the number of features surviving each selection step (``step``, ``n_features``)."""
    fig = go.Figure(
        go.Funnel(
            y=list(steps["step"]), x=list(steps["n_features"]), marker_color=RAD_COLOR, textinfo="value"
        )
    )
    fig = styled(
        fig,
        "Radiomics feature selection: features remaining after each step",
        "features (n)",
        "selection step",
    )
    return fig


def _log_lambda(lasso) -> np.ndarray:
    return np.log10(lasso.lambdas_)


def _mark_lambdas(fig: go.Figure, lasso) -> None:
    fig.add_vline(
        x=np.log10(lasso.lambda_min_),
        line_dash="dot",
        line_color="#444",
        annotation_text="lambda.min",
        annotation_position="top left",
    )
    fig.add_vline(
        x=np.log10(lasso.lambda_1se_),
        line_dash="dash",
        line_color="#444",
        annotation_text="lambda.1se",
        annotation_position="top right",
    )


def lasso_path_figure(lasso) -> go.Figure:
    """Coefficient paths of the L1 logistic regression (features ever non-zero) against log10 lambda."""
    fig = go.Figure()
    path = lasso.coef_path_
    x = _log_lambda(lasso)
    for name in path.columns[(path != 0).any()]:
        selected = name in lasso.coef_.index
        fig.add_trace(
            go.Scatter(
                x=x,
                y=path[name],
                mode="lines",
                name=name,
                showlegend=selected,
                line=dict(width=2 if selected else 1),
                opacity=1 if selected else 0.35,
            )
        )
    _mark_lambdas(fig, lasso)
    fig = styled(
        fig,
        "LASSO coefficient paths (selected features in the legend)",
        "log10(lambda) (penalty, unitless)",
        "coefficient (per SD of the feature, log-odds)",
        height=520,
    )
    fig.update_xaxes(autorange="reversed")
    return fig


def lasso_cv_figure(lasso) -> go.Figure:
    """Mean cross-validated binomial deviance +- 1 SE against log10 lambda, with lambda.min / lambda.1se."""
    x = _log_lambda(lasso)
    mean, se = lasso.cv_mean_.to_numpy(), lasso.cv_se_.to_numpy()
    n_nonzero = (lasso.coef_path_ != 0).sum(axis=1).to_numpy()
    fig = go.Figure(
        go.Scatter(
            x=x,
            y=mean,
            mode="markers+lines",
            marker_color=RAD_COLOR,
            name="mean deviance",
            error_y=dict(type="data", array=se, visible=True, color="#999"),
            customdata=n_nonzero,
            hovertemplate="log10 lambda %{x:.2f}<br>deviance %{y:.3f}<br>%{customdata} features",
        )
    )
    _mark_lambdas(fig, lasso)
    fig = styled(
        fig,
        f"LASSO {lasso.cv}-fold cross-validation (training cohort)",
        "log10(lambda) (penalty, unitless)",
        "binomial deviance (mean +- 1 SE)",
    )
    fig.update_xaxes(autorange="reversed")
    return fig


def coefficient_figure(table: pd.DataFrame) -> go.Figure:
    """Horizontal bars of the selected features' LASSO coefficients."""
    table = table.sort_values("coefficient")
    colors = np.where(table["coefficient"] > 0, "#d7191c", "#2b83ba")
    fig = go.Figure(go.Bar(x=table["coefficient"], y=table.index, orientation="h", marker_color=colors))
    return styled(
        fig,
        "Selected radiomics features: LASSO coefficients",
        "coefficient (log-odds of malignancy per SD)",
        "feature",
        height=max(300, 28 * len(table) + 120),
    )


def first_component(before: pd.DataFrame, after: pd.DataFrame, train: pd.Index) -> pd.DataFrame:
    """The first principal component of the candidate features before and after harmonisation.

    One projection for both (z-scores and PCA fitted on the training patients' unharmonised features,
    Jolliffe, Principal Component Analysis, 2002), so that the two panels share an axis.
    """
    from sklearn.decomposition import PCA
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pca = make_pipeline(StandardScaler(), PCA(n_components=1)).fit(before.loc[train])
    return pd.DataFrame(
        {"before": pca.transform(before)[:, 0], "after": pca.transform(after[before.columns])[:, 0]},
        index=before.index,
    )


def centre_share(values: pd.Series, centres: pd.Series) -> float:
    """Share of the variance of ``values`` between centres (eta squared: between / total sum of squares)."""
    grand = values.mean()
    between = values.groupby(centres).agg(lambda v: len(v) * (v.mean() - grand) ** 2).sum()
    total = ((values - grand) ** 2).sum()
    return float(between / total) if total > 0 else 0.0


def harmonisation_figure(component: pd.DataFrame, centres: pd.Series) -> go.Figure:
    """Per-centre box plots of the first principal component, before and after ComBat."""
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, subplot_titles=("before ComBat", "after ComBat"))
    palette = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"]
    for i, centre in enumerate(sorted(centres.unique())):
        rows = centres == centre
        for col, stage in enumerate(("before", "after"), start=1):
            fig.add_trace(
                go.Box(
                    y=component.loc[rows, stage],
                    name=str(centre),
                    marker_color=palette[i % len(palette)],
                    showlegend=False,
                ),
                row=1,
                col=col,
            )
    return styled(
        fig,
        "Radiomics candidates per centre: first principal component before and after ComBat",
        "centre",
        "first principal component (training z-scores, unitless)",
    )
