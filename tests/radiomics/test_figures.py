"""Notebook 03 figures: each has a title and axis titles, and shows what it claims."""

import numpy as np
import pandas as pd

from splkit.radiomics import figures
from splkit.selection import LassoSelector


def _titled(fig):
    layout = fig.layout
    assert layout.title.text and layout.xaxis.title.text and layout.yaxis.title.text
    return fig


def test_figures_have_titles_and_data():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(80, 5)), columns=[f"original_firstorder_F{i}" for i in range(5)])
    y = (X.iloc[:, 0] + rng.normal(scale=0.5, size=80) > 0).astype(int)
    lasso = LassoSelector(cv=3, n_alphas=8, random_state=0).fit(X, y)
    _titled(figures.features_per_image_type({"shape2D": 9, "original": 91}))
    icc = pd.Series([0.9, 0.5, np.nan, 0.8], name="ICC3")
    fig = _titled(figures.icc_histogram(icc, 0.75))
    assert "2 at or above 0.75" in fig.layout.title.text
    _titled(figures.selection_funnel_figure(pd.DataFrame({"step": ["a", "b"], "n_features": [10, 3]})))
    path = _titled(figures.lasso_path_figure(lasso))
    assert {t.name for t in path.data if t.showlegend} == set(lasso.coef_.index)
    cv = _titled(figures.lasso_cv_figure(lasso))
    assert len(cv.data[0].x) == 8
    _titled(figures.coefficient_figure(lasso.coef_.to_frame("coefficient")))
