"""Youden threshold, Wilson intervals (against statsmodels) and threshold metrics."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score, roc_curve
from stats.test_roc import A, B, Y
from statsmodels.stats.proportion import proportion_confint

from splkit.stats import threshold_metrics, wilson_interval, youden_threshold


@pytest.mark.parametrize(
    ("k", "n"), [(0, 10), (1, 10), (5, 10), (10, 10), (37, 67), (55, 55), (3, 122), (1, 1)]
)
@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
def test_wilson_matches_statsmodels(k, n, level):
    ref = proportion_confint(k, n, alpha=1 - level, method="wilson")
    assert wilson_interval(k, n, level) == pytest.approx(ref, abs=1e-12)


def test_wilson_hand_value():
    # k = 8, n = 10, z = 1.959964: centre = (0.8 + z²/20) / (1 + z²/10), half = z sqrt(0.016 + z²/400) / (1 + z²/10)
    z = 1.959963984540054
    centre = (0.8 + z**2 / 20) / (1 + z**2 / 10)
    half = z * np.sqrt(0.8 * 0.2 / 10 + z**2 / 400) / (1 + z**2 / 10)
    assert wilson_interval(8, 10) == pytest.approx((centre - half, centre + half), abs=1e-14)
    # R 4.2.2: prop.test(8, 10, correct = FALSE)$conf.int (the Wilson score interval)
    assert wilson_interval(8, 10) == pytest.approx((0.49016247153664183, 0.94331784854562473), abs=1e-14)


def test_wilson_rejects_bad_counts():
    with pytest.raises(ValueError, match="0 <= k <= n"):
        wilson_interval(5, 3)
    assert all(np.isnan(wilson_interval(0, 0)))


def test_youden_maximises_j_and_matches_sklearn_idiom():
    for score in (A, B):
        t = youden_threshold(Y, score)
        fpr, tpr, thr = roc_curve(Y, score, drop_intermediate=False)
        assert t == thr[np.argmax(tpr - fpr)]
        pred = score >= t
        j = pred[Y == 1].mean() + (~pred[Y == 0]).mean() - 1
        assert j == pytest.approx(np.max(tpr - fpr))


def test_youden_ties_go_to_highest_threshold():
    y = np.array([0, 0, 1, 0, 1, 1])
    s = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    # t = 0.3: sens 1, spec 2/3 -> J = 2/3;  t = 0.5: sens 2/3, spec 1 -> J = 2/3  (a tie)
    assert youden_threshold(y, s) == 0.5


def test_threshold_metrics_hand_counts():
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 1])
    s = np.array([0.9, 0.8, 0.7, 0.2, 0.6, 0.3, 0.2, 0.1, 0.1, 0.5])
    # at 0.5: TP = 4 (0.9, 0.8, 0.7, 0.5), FN = 1 (0.2), FP = 1 (0.6), TN = 4
    tab = threshold_metrics(y, s, 0.5, n_boot=500, random_state=0)
    assert list(tab.index) == ["accuracy", "sensitivity", "specificity", "ppv", "npv", "f1"]
    assert list(tab.columns) == ["estimate", "low", "high", "method", "numerator", "denominator"]
    expected = {
        "accuracy": (8, 10),
        "sensitivity": (4, 5),
        "specificity": (4, 5),
        "ppv": (4, 5),
        "npv": (4, 5),
        "f1": (8, 10),
    }
    for name, (k, n) in expected.items():
        row = tab.loc[name]
        assert (row["numerator"], row["denominator"]) == (k, n)
        assert row["estimate"] == pytest.approx(k / n)
        if name != "f1":
            assert row["method"] == "Wilson"
            assert (row["low"], row["high"]) == pytest.approx(wilson_interval(k, n), abs=1e-15)
    assert tab.loc["f1", "method"] == "bootstrap"
    assert tab.loc["f1", "estimate"] == pytest.approx(f1_score(y, s >= 0.5))
    assert tab.loc["f1", "low"] <= tab.loc["f1", "estimate"] <= tab.loc["f1", "high"]


def test_f1_bootstrap_reproducible_and_seeded():
    t = youden_threshold(Y, A)
    one = threshold_metrics(Y, A, t, random_state=1)
    assert one.equals(threshold_metrics(Y, A, t, random_state=1))
    assert not one.equals(threshold_metrics(Y, A, t, random_state=2))
    assert 0 < one.loc["f1", "low"] < one.loc["f1", "estimate"] < one.loc["f1", "high"] < 1


def test_threshold_metrics_empty_denominator_is_nan():
    tab = threshold_metrics(
        np.array([0, 1, 0, 1]), np.array([0.1, 0.2, 0.3, 0.4]), 0.9, n_boot=50, random_state=0
    )
    assert np.isnan(tab.loc["ppv", "estimate"]) and tab.loc["ppv", "denominator"] == 0
    assert tab.loc["sensitivity", "estimate"] == 0.0
