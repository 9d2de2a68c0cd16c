"""Tests of splkit.clinical.figures: figures have titles, axis titles and the data they claim."""

import numpy as np
import pandas as pd

from splkit.clinical import make_clinical_pipeline
from splkit.clinical.figures import forest_plot, nomogram_figure, outcome_counts_figure
from splkit.clinical.nomogram import Nomogram


def test_forest_plot_uses_log_axis_and_table_values():
    table = pd.DataFrame(
        {"or": [2.0, 0.5], "low": [1.2, 0.3], "high": [3.5, 0.9], "p": [0.01, 0.02]}, index=["a", "b"]
    )
    fig = forest_plot(table)
    assert fig.layout.xaxis.type == "log" and fig.layout.title.text and fig.layout.xaxis.title.text
    assert list(fig.data[0].x) == [0.5, 2.0]


def test_outcome_counts_and_nomogram_figures():
    rng = np.random.default_rng(0)
    table = pd.DataFrame(
        {
            "label": rng.integers(0, 2, 50),
            "cohort": ["train"] * 40 + ["validation"] * 10,
            "age": rng.normal(60, 10, 50),
            "sex": rng.choice(["female", "male"], 50),
        }
    )
    fig = outcome_counts_figure(table)
    assert sum(sum(bar.y) for bar in fig.data) == 50 and fig.layout.yaxis.title.text
    X = table[["age", "sex"]]
    pipeline = make_clinical_pipeline({"age": "numeric", "sex": "binary"}).fit(X, table["label"])
    fig = nomogram_figure(Nomogram(pipeline, X))
    assert "Total points" in fig.layout.yaxis.ticktext and fig.layout.title.text
