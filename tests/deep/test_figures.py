"""Chapter 4's figures: variance in %, loss per epoch, training scatter with honest axis titles."""

from __future__ import annotations

import numpy as np
import pandas as pd

from splkit.deep.figures import loss_figure, training_scatter, variance_figure
from splkit.run.names import CLASS_COLORS, MODEL_COLORS


def test_variance_figure_in_percent():
    variance = pd.DataFrame(
        {"component": ["DTL_001", "DTL_002"], "explained_variance": [0.6, 0.3], "cumulative": [0.6, 0.9]}
    )
    fig = variance_figure(variance)
    bars, line = fig.data
    np.testing.assert_allclose(bars.y, [60, 30])
    np.testing.assert_allclose(line.y, [60, 90])
    assert list(bars.x) == [1, 2] and bars.marker.color == MODEL_COLORS["DTL"]
    assert fig.layout.yaxis.title.text == "explained variance (% of training variance)"


def test_loss_figure():
    fig = loss_figure(pd.DataFrame({"epoch": [1, 2, 3], "training loss": [0.7, 0.5, 0.4]}))
    assert list(fig.data[0].y) == [0.7, 0.5, 0.4] and fig.layout.xaxis.title.text == "epoch"


def test_training_scatter_plots_training_patients_by_class():
    patients = [f"P{i:04d}" for i in range(1, 7)]
    candidates = pd.DataFrame({"DTL_001": range(6), "DTL_002": range(6, 12)}, index=patients, dtype=float)
    labels = pd.Series([0, 1, 0, 1, 0, 1], index=patients)
    train = pd.Index(patients[:4])
    variance = pd.DataFrame({"explained_variance": [0.5, 0.25], "cumulative": [0.5, 0.75]})
    fig = training_scatter(candidates, labels, train, {0: "benign", 1: "malignant"}, variance)
    benign, malignant = fig.data
    assert list(benign.text) == ["P0001", "P0003"] and list(malignant.text) == ["P0002", "P0004"]
    assert benign.name == "benign (n = 2)" and malignant.marker.color == CLASS_COLORS[1]
    assert fig.layout.xaxis.title.text.startswith("DTL_001 (PC 1, 50.0 % of variance")
    tuned = training_scatter(candidates, labels, train, {0: "benign", 1: "malignant"})
    assert tuned.layout.yaxis.title.text == "DTL_002 (bottleneck unit 2, a.u.)"
