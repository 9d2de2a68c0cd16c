"""Tests of splkit.clinical.nomogram: points that map exactly to the model's probabilities."""

import numpy as np
import pandas as pd
import pytest

from splkit.clinical import make_clinical_pipeline
from splkit.clinical.nomogram import Nomogram


def test_nomogram_points_map_to_the_models_probabilities(birthwt, birthwt_types):
    X, y = birthwt
    X = X.copy()
    X.loc[X.index[:5], "lwt"] = np.nan  # missing values: points read off after the pipeline's imputation
    pipeline = make_clinical_pipeline(birthwt_types).fit(X, y)
    nomogram = Nomogram(pipeline, X)
    patients = X.iloc[[0, 3, 17, 42, 100, 188]]
    points = nomogram.points(patients)
    np.testing.assert_allclose(
        nomogram.probability(points["total"]), pipeline.predict_proba(patients)[:, 1], rtol=1e-12
    )
    np.testing.assert_allclose(nomogram.total_points_for(nomogram.probability([50.0, 150.0])), [50.0, 150.0])
    # the predictor with the widest contribution range spans 0-100 points; the others less
    spans = {s.predictor: s.extent[1] - s.extent[0] for s in nomogram.scales}
    assert max(spans.values()) == pytest.approx(100.0) and min(spans.values()) > 0
    for scale in nomogram.scales:  # each axis's tick points equal the points of those values
        assert scale.points == pytest.approx(nomogram.points_for(scale.predictor, scale.values).tolist())


def test_nomogram_with_ordinal_text_levels_and_categorical():
    rng = np.random.default_rng(5)
    n = 200
    X = pd.DataFrame(
        {
            "grade": rng.choice(["0", "I", "II", "III"], n),
            "location": rng.choice(["upper", "middle", "lower"], n),
            "size": rng.normal(30, 8, n),
        }
    )
    y = (
        rng.uniform(size=n)
        < 1 / (1 + np.exp(-(X["size"] - 30) / 8 - X["grade"].map({"0": 0, "I": 0.5, "II": 1, "III": 1.5})))
    ).astype(int)
    types = {"grade": "ordinal", "location": "categorical", "size": "numeric"}
    levels = {"grade": ["0", "I", "II", "III"], "location": ["upper", "middle", "lower"]}
    pipeline = make_clinical_pipeline(types, levels).fit(X, y)
    nomogram = Nomogram(pipeline, X)
    grade = next(s for s in nomogram.scales if s.predictor == "grade")
    assert grade.values == ["0", "I", "II", "III"]
    np.testing.assert_allclose(
        nomogram.probability(nomogram.points(X.head(8))["total"]), pipeline.predict_proba(X.head(8))[:, 1]
    )
