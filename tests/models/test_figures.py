"""splkit.models.figures: every figure has a title and axis titles, one trace per model, and the
reference lines (chance, perfect calibration, treat all / treat none)."""

import numpy as np
import pandas as pd
import pytest

from splkit import stats
from splkit.models import figures as ep

MODELS = ["Clinical", "Rad", "DTL", "DLR", "CDLR", "CDLR (in-sample stacking)"]


@pytest.fixture(scope="module")
def wide():
    rng = np.random.default_rng(11)
    label = np.tile([0, 1], 30)
    scores = {
        m: np.clip(0.5 + (0.1 + 0.05 * i) * (label - 0.5) * 2 + rng.normal(0, 0.2, 60), 0.01, 0.99)
        for i, m in enumerate(MODELS)
    }
    frame = pd.DataFrame({"label": label, **scores}, index=[f"P{i:04d}" for i in range(1, 61)])
    return frame


def test_roc_figure(wide):
    fig = ep.roc_figure(wide, "ROC curves, validation cohort")
    assert fig.layout.title.text == "ROC curves, validation cohort"
    assert fig.layout.xaxis.title.text.startswith("1 − specificity")
    assert fig.layout.yaxis.title.text.startswith("Sensitivity")
    assert len(fig.data) == 1 + len(MODELS)
    auc = stats.delong_auc(wide["label"], wide["Rad"]).auc
    assert fig.data[2].name == f"Rad (AUC {auc:.3f})"
    assert fig.data[2].line.color == ep.model_color("Rad")


def test_calibration_figure(wide):
    fig = ep.calibration_figure(wide, "Calibration", n_bins=5)
    assert fig.layout.title.text == "Calibration"
    assert [a.text for a in fig.layout.annotations] == MODELS
    assert fig.layout.xaxis4.title.text == "Predicted probability"
    assert fig.layout.yaxis.title.text == "Observed frequency"
    assert len(fig.data) == 3 * len(MODELS)  # diagonal, binned points with CIs, LOWESS per panel


def test_decision_curve_figure(wide):
    curves = stats.decision_curves(wide["label"], {m: wide[m] for m in MODELS}, np.arange(0.05, 0.96, 0.05))
    fig = ep.decision_curve_figure(curves, "Decision curves")
    assert fig.layout.xaxis.title.text.startswith("Threshold probability")
    assert fig.layout.yaxis.title.text.startswith("Net benefit")
    assert [t.name for t in fig.data] == [*MODELS, "Treat all", "Treat none"]
    assert ep.models_in(curves) == MODELS


def test_delong_heatmap_shows_raw_and_holm(wide):
    y = wide["label"].to_numpy()
    scores = {m: wide[m].to_numpy() for m in MODELS}
    raw, holm = stats.delong_matrix(y, scores), stats.delong_matrix(y, scores, adjust="holm")
    fig = ep.delong_heatmap(raw, "DeLong p-values", holm)
    assert fig.layout.title.text == "DeLong p-values" and fig.layout.xaxis.title.text == "Model"
    text = fig.data[0].text
    assert text[0][0] == "" and "Holm" in text[0][1]
    assert len(text) == len(MODELS)
