"""The membership model (Debray et al. 2015) on synthetic cohorts with a known difference in case mix."""

import numpy as np
import pandas as pd
import pytest

from splkit.external.casemix import design, membership_model


def _cohort(n, seed, age_mean=55.0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "age": rng.normal(age_mean, 10, n),
            "cea": np.exp(rng.normal(1, 0.8, n)),
            "sex": rng.choice(["female", "male"], n),
            "lobe": rng.choice(["RUL", "RLL", "LUL"], n),
        }
    )
    frame.loc[frame.sample(frac=0.1, random_state=seed).index, "cea"] = np.nan
    return frame


def test_same_case_mix_gives_an_auc_near_one_half():
    result = membership_model(_cohort(200, 1), _cohort(100, 2), folds=5, random_state=0)
    assert 0.35 < result.auc < 0.65
    assert result.low < 0.5 < result.high
    assert (result.n_development, result.n_external) == (200, 100)


def test_older_external_patients_are_recognised():
    result = membership_model(_cohort(200, 1), _cohort(100, 2, age_mean=70.0), folds=5, random_state=0)
    assert result.auc > 0.8
    assert result.coefficients.abs().idxmax() == "age" and result.coefficients["age"] > 0
    summary = result.to_dict()
    assert list(summary["largest_coefficients"])[0] == "age"
    assert summary["n_variables"] == result.coefficients.size


def test_design_one_hot_encodes_text_and_keeps_missing():
    frame = pd.DataFrame({"x": [1.0, np.nan, 3.0], "lobe": ["RUL", None, "LUL"], "flag": [0, 1, 1]})
    X = design(frame, {"flag": "binary"})
    assert list(X.columns) == ["x", "lobe=RUL", "flag=1"]
    assert np.isnan(X.loc[1, "lobe=RUL"]) and X.loc[0, "lobe=RUL"] == 1.0


def test_membership_needs_shared_columns_and_enough_patients():
    with pytest.raises(ValueError, match="share no column"):
        membership_model(pd.DataFrame({"a": [1.0] * 10}), pd.DataFrame({"b": [1.0] * 10}))
    with pytest.raises(ValueError, match="at least 5"):
        membership_model(_cohort(50, 1), _cohort(3, 2), folds=5)
