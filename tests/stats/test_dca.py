"""Decision curve analysis, cross-checked against the independent ``dcurves`` package (1.1.x) and a
hand-computed value."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from dcurves import dca
from stats.test_roc import A, B, C, Y

from splkit.stats import TREAT_ALL, TREAT_NONE, biopsies_avoided, decision_curves, net_benefit

THRESHOLDS = np.round(np.arange(0.01, 1.0, 0.01), 2)


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    data = pd.DataFrame({"y": Y, "a": A, "b": B, "c": C})
    return dca(data=data, outcome="y", modelnames=["a", "b", "c"], thresholds=THRESHOLDS, nper=100)


def test_net_benefit_matches_dcurves(reference):
    curves = decision_curves(Y, {"a": A, "b": B, "c": C}, THRESHOLDS)
    assert list(curves.columns) == ["model", "threshold", "net_benefit"]
    assert list(curves["model"].unique()) == ["a", "b", "c", TREAT_ALL, TREAT_NONE]
    names = {"a": "a", "b": "b", "c": "c", TREAT_ALL: "all", TREAT_NONE: "none"}
    for ours, theirs in names.items():
        got = curves[curves["model"] == ours].sort_values("threshold")
        ref = reference[reference["model"] == theirs].sort_values("threshold")
        np.testing.assert_allclose(got["threshold"], ref["threshold"])
        np.testing.assert_allclose(got["net_benefit"], ref["net_benefit"], atol=1e-12)


@pytest.mark.parametrize("name", ["a", "c"])
def test_biopsies_avoided_matches_dcurves(reference, name):
    ours = biopsies_avoided(Y, {"a": A, "c": C}[name], THRESHOLDS)
    ref = reference[reference["model"] == name].sort_values("threshold")
    assert list(ours.columns) == ["threshold", "net_benefit", "net_benefit_all", "biopsies_avoided_per_100"]
    np.testing.assert_allclose(ours["biopsies_avoided_per_100"], ref["net_intervention_avoided"], atol=1e-9)


def test_net_benefit_hand_value():
    # 10 patients, 4 with cancer.  At pt = 0.25 (odds 1/3) the rule score >= 0.25 biopsies 0.9, 0.7, 0.3 (cancers)
    # and 0.6, 0.25 (benign): TP = 3, FP = 2, so NB = 3/10 - 2/10 * 1/3 = 0.23333...
    # Treat all: 4/10 - 6/10 * 1/3 = 0.2; biopsies avoided per 100 = 100 * (0.23333 - 0.2) / (1/3) = 10.
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    s = np.array([0.9, 0.7, 0.3, 0.1, 0.6, 0.25, 0.2, 0.1, 0.05, 0.0])
    assert net_benefit(y, s, [0.25])[0] == pytest.approx(3 / 10 - 2 / 10 / 3)
    row = biopsies_avoided(y, s, [0.25]).iloc[0]
    assert row["net_benefit_all"] == pytest.approx(0.2)
    assert row["biopsies_avoided_per_100"] == pytest.approx(10.0)


def test_thresholds_must_be_inside_unit_interval():
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        net_benefit(Y, A, [0.0, 0.5])
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        biopsies_avoided(Y, A, [0.5, 1.0])
