"""Plotly figure factories in one house style, and the one way notebooks show a figure.

Figures are shown with :func:`show`, which emits both plotly's own mime type (interactive in
JupyterLab) and an HTML ``<div>`` *without* the plotly library inlined; the book loads
``plotly.min.js`` once from ``_static`` so figures are interactive offline.
"""

from __future__ import annotations

import json
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio

from splkit.run.cache import atomic_write_text
from splkit.run.names import CLASS_COLORS, MODEL_COLORS  # noqa: F401 - the house colours
from splkit.run.rundir import RunDir

#: Both axes: a visible line, light grid, outside ticks, margins that grow to fit long tick labels.
AXIS_STYLE = dict(
    showline=True, linecolor="#444", gridcolor="#e5e5e5", zeroline=False, ticks="outside", automargin=True
)

TEMPLATE = go.layout.Template(
    layout=go.Layout(
        font=dict(family="Helvetica, Arial, sans-serif", size=13),
        paper_bgcolor="white",
        plot_bgcolor="white",
        xaxis=AXIS_STYLE,
        yaxis=AXIS_STYLE,
        legend=dict(bgcolor="rgba(255,255,255,0.8)"),
        margin=dict(l=60, r=20, t=60, b=55),
        colorway=list(MODEL_COLORS.values()),
    )
)
pio.templates["splkit"] = TEMPLATE


def styled(
    fig: go.Figure,
    title: str,
    x_title: str | None = None,
    y_title: str | None = None,
    height: int = 450,
    width: int | None = None,
) -> go.Figure:
    """Apply the house style, a title and axis titles (with units) to ``fig``."""
    fig.update_layout(template="splkit", title=dict(text=title, x=0.02), height=height, width=width)
    if x_title is not None:
        fig.update_xaxes(title_text=x_title)
    if y_title is not None:
        fig.update_yaxes(title_text=y_title)
    return fig


def figure_html(fig: go.Figure) -> str:
    """The figure as an HTML fragment that expects ``Plotly`` to be loaded by the page."""
    return fig.to_html(
        full_html=False, include_plotlyjs=False, config={"displaylogo": False, "responsive": True}
    )


def show(fig: go.Figure, run_dir: str | Path | None = None, name: str | None = None) -> None:
    """Display ``fig`` in the notebook and, with ``run_dir`` and ``name``, save it as HTML there."""
    from IPython.display import display

    html = figure_html(fig)
    if run_dir is not None and name is not None:
        atomic_write_text(RunDir(run_dir).figure(name), html)
    display({"application/vnd.plotly.v1+json": json.loads(fig.to_json()), "text/html": html}, raw=True)


def plotly_js_path() -> Path:
    """The ``plotly.min.js`` shipped with the installed plotly package (served from the book's _static)."""
    import plotly

    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not path.exists():
        raise FileNotFoundError(f"plotly.min.js not found in the plotly package at {path}")
    return path
