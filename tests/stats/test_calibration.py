"""Calibration: Hosmer–Lemeshow (R worked example + hand-computed), intercept/slope and LOWESS
(pinned against R's ``glm`` and ``lowess``), binned curve and Brier score.

R reference values were computed once with R 4.2.2 on the vectors ``Y``, ``A``, ``B``, ``C`` of
``test_stats_roc.py``:

* Hosmer–Lemeshow: the body of ``ResourceSelection::hoslem.test`` 0.3-6 (P. Solymos; not packaged
  in Debian, so pasted), whose degrees of freedom are the number of non-empty groups minus 2::

      hl <- function(y, yhat, g = 10) {
        qq <- unique(quantile(yhat, probs = seq(0, 1, 1/g)))
        cutyhat <- cut(yhat, breaks = qq, include.lowest = TRUE)
        observed <- xtabs(cbind(y0 = 1 - y, y1 = y) ~ cutyhat)
        expected <- xtabs(cbind(yhat0 = 1 - yhat, yhat1 = yhat) ~ cutyhat)
        chisq <- sum((observed - expected)^2/expected, na.rm = TRUE)  # empty groups give 0/0
        G <- length(unique(cutyhat))
        c(chisq, G - 2, 1 - pchisq(chisq, G - 2))
      }
      hl(y, a, 10); hl(y, b, 10); hl(y, c, 5)

  (``na.rm = TRUE`` is our only change: with B's ties two of R's intervals are empty and their
  0/0 cells would make the sum NaN; they contribute nothing.)
* Intercept and slope: ``coef(glm(y ~ qlogis(p), family = binomial))[2]`` and
  ``coef(glm(y ~ 1, offset = qlogis(p), family = binomial))[1]``.
* LOWESS: ``lowess(c, y, f = 2/3, iter = 0, delta = 0)``.
"""

from __future__ import annotations

import numpy as np
import pytest
from stats.test_roc import A, B, C, Y

from splkit.stats import (
    HLResult,
    brier_score,
    calibration_curve,
    calibration_intercept_slope,
    hosmer_lemeshow,
    smoothed_calibration,
    wilson_interval,
)

# R: hl(y, s, g) -> statistic, df, p, non-empty group sizes
R_HL = {
    ("a", 10): (5.6058279223676459, 8, 0.6912890564592219, [7, 5, 6, 6, 6, 6, 7, 5, 6, 6]),
    ("b", 10): (4.1551476573535409, 4, 0.38541590306351237, [6, 18, 14, 8, 8, 6]),  # ties: 10 -> 6 groups
    ("c", 5): (6.6602023132024595, 3, 0.083554174562527228, [13, 11, 14, 12, 10]),
}
# R: glm calibration intercept (offset model), slope, and mean((p - y)^2)
R_CAL = {
    "a": (-0.2341496781041362, 0.92872581974679946, 0.17418666666666666),
    "c": (-0.25735364623701074, 2.3447024157961001, 0.16714166666666666),
}
# R: lowess(c, y, f = 2/3, iter = 0, delta = 0), points 1, 15, 30, 45, 60 of the sorted x
R_LOWESS_X = [0.11, 0.40, 0.49, 0.63, 0.89]
R_LOWESS_Y = [
    -0.080717215329118158,
    0.19585230683256916,
    0.39542535934825102,
    0.78736013045961917,
    0.90565338363828973,
]
SCORES = {"a": A, "b": B, "c": C}


@pytest.mark.parametrize(("name", "groups"), list(R_HL))
def test_hosmer_lemeshow_matches_r(name, groups):
    stat, df, p, sizes = R_HL[(name, groups)]
    res = hosmer_lemeshow(Y, SCORES[name], n_groups=groups)
    assert isinstance(res, HLResult)
    assert res.statistic == pytest.approx(stat, rel=1e-12)
    assert (res.df, res.n_groups_used) == (df, len(sizes))
    assert res.p == pytest.approx(p, rel=1e-9)
    curve = calibration_curve(Y, SCORES[name], n_bins=groups)
    assert curve["n"].tolist() == sizes  # the calibration bins are the HL groups


def test_hosmer_lemeshow_hand_example():
    # Nine patients, 3 groups.  Type-7 quantile cut points at 1/3 and 2/3 are 0.3667 and 0.6333, so the
    # groups are {0.1, 0.2, 0.3}, {0.4, 0.5, 0.6}, {0.7, 0.8, 0.9}, with O (observed events) = 1, 2, 2 and
    # E (expected events) = 0.6, 1.5, 2.4.  C = sum (O - E)^2 / E + (O - E)^2 / (n - E):
    #   0.16/0.6 + 0.16/2.4 = 1/3;  0.25/1.5 + 0.25/1.5 = 1/3;  0.16/2.4 + 0.16/0.6 = 1/3  ->  C = 1, df = 1.
    p = np.arange(1, 10) / 10
    y = np.array([0, 0, 1, 0, 1, 1, 1, 1, 0])
    res = hosmer_lemeshow(y, p, n_groups=3)
    assert res.statistic == pytest.approx(1.0, rel=1e-12)
    assert (res.df, res.n_groups_used) == (1, 3)
    assert res.p == pytest.approx(0.31731050786291415, rel=1e-12)  # 1 - pchisq(1, 1)


def test_hosmer_lemeshow_hand_example_with_ties():
    # Four tied risks of 0.2: with g = 4 the cut points 0, .25, .5, .75, 1 -> 0.2, 0.2, 0.4, 0.6, 0.8 collapse to
    # 0.2, 0.4, 0.6, 0.8, giving 3 groups (df = 1 instead of 2): [0.2, 0.4] = {0.2 x 4, 0.4}, (0.4, 0.6] = {0.5, 0.6},
    # (0.6, 0.8] = {0.7, 0.8}.  O = 2, 1, 2; E = 1.2, 1.1, 1.5; n = 5, 2, 2.
    p = np.array([0.2, 0.2, 0.2, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8])
    y = np.array([0, 0, 1, 0, 1, 0, 1, 1, 1])
    expected = (0.64 / 1.2 + 0.64 / 3.8) + (0.01 / 1.1 + 0.01 / 0.9) + (0.25 / 1.5 + 0.25 / 0.5)
    res = hosmer_lemeshow(y, p, n_groups=4)
    assert res.statistic == pytest.approx(expected, rel=1e-12)
    assert (res.df, res.n_groups_used) == (1, 3)


def test_hosmer_lemeshow_needs_three_groups():
    with pytest.raises(ValueError, match="at least 3"):
        hosmer_lemeshow(np.array([0, 1, 0, 1]), np.array([0.2, 0.2, 0.7, 0.7]))


@pytest.mark.parametrize("name", ["a", "c"])
def test_intercept_slope_and_brier_match_r(name):
    intercept, slope, brier = R_CAL[name]
    got_intercept, got_slope = calibration_intercept_slope(Y, SCORES[name])
    assert got_intercept == pytest.approx(intercept, rel=1e-6)
    assert got_slope == pytest.approx(slope, rel=1e-6)
    assert brier_score(Y, SCORES[name]) == pytest.approx(brier, rel=1e-12)


def test_perfectly_calibrated_logistic_has_intercept_zero_slope_one():
    rng = np.random.default_rng(5)
    p = rng.uniform(0.02, 0.98, 20000)
    y = (rng.random(p.size) < p).astype(int)
    intercept, slope = calibration_intercept_slope(y, p)
    assert abs(intercept) < 0.05 and abs(slope - 1) < 0.05
    # predictions pushed to the extremes (logit doubled) give a slope near 1/2
    extreme = 1 / (1 + np.exp(-2 * np.log(p / (1 - p))))
    assert calibration_intercept_slope(y, extreme)[1] == pytest.approx(0.5, abs=0.05)


def test_smoothed_calibration_matches_r_lowess():
    sm = smoothed_calibration(Y, C)
    assert list(sm.columns) == ["prob", "observed"]
    assert np.all(np.diff(sm["prob"]) >= 0)
    idx = [0, 14, 29, 44, 59]
    np.testing.assert_allclose(sm["prob"].to_numpy()[idx], R_LOWESS_X)
    np.testing.assert_allclose(
        sm["observed"].to_numpy()[idx], np.clip(R_LOWESS_Y, 0, 1), rtol=1e-9, atol=1e-12
    )


def test_calibration_curve_columns_and_wilson():
    curve = calibration_curve(Y, A, n_bins=5)
    assert list(curve.columns) == ["bin", "n", "events", "mean_predicted", "observed", "low", "high"]
    assert curve["n"].sum() == Y.size and curve["events"].sum() == Y.sum()
    for _, row in curve.iterrows():
        assert (row["low"], row["high"]) == pytest.approx(wilson_interval(int(row["events"]), int(row["n"])))
        assert row["observed"] == pytest.approx(row["events"] / row["n"])
    uniform = calibration_curve(Y, A, n_bins=10, strategy="uniform")
    assert uniform["n"].sum() == Y.size
    counts, _ = np.histogram(A, bins=np.arange(11) / 10)  # [0, .1), [.1, .2), ..., [.9, 1]
    assert uniform["n"].tolist() == counts[counts > 0].tolist()
    with pytest.raises(ValueError, match="strategy"):
        calibration_curve(Y, A, strategy="kmeans")


def test_probabilities_outside_unit_interval_rejected():
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]; position 1"):
        brier_score(np.array([0, 1]), np.array([0.2, 1.2]))


# --- logistic recalibration (Van Calster et al. 2016/2019), pinned to statsmodels' binomial GLM ---------


def _miscalibrated(n=400, seed=5, shift=-0.8, spread=1.6):
    """Outcomes from true risks, and predictions too high (``shift``) and too extreme (``spread``)."""
    rng = np.random.default_rng(seed)
    lp = rng.normal(0.0, 1.2, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-lp))).astype(int)
    prob = 1 / (1 + np.exp(-(spread * lp - shift)))
    return y, prob


def test_recalibration_in_the_large_matches_statsmodels_offset_glm():
    import statsmodels.api as sm

    from splkit.stats import recalibrate

    y, prob = _miscalibrated()
    lp = np.log(prob / (1 - prob))
    glm = sm.GLM(y, np.ones((y.size, 1)), family=sm.families.Binomial(), offset=lp).fit(tol=1e-14)
    fit = recalibrate(y, prob, method="intercept")
    assert fit.intercept == pytest.approx(glm.params[0], abs=1e-9)
    assert fit.intercept_se == pytest.approx(glm.bse[0], rel=1e-6)
    assert fit.slope == 1.0 and np.isnan(fit.slope_se)
    assert fit.interval("intercept") == pytest.approx(tuple(glm.conf_int()[0]), rel=1e-6)
    assert fit.intercept == pytest.approx(calibration_intercept_slope(y, prob)[0], abs=1e-8)
    # after recalibration-in-the-large the mean prediction equals the observed rate (the score equation)
    assert fit.apply(prob).mean() == pytest.approx(y.mean(), abs=1e-9)


def test_logistic_recalibration_matches_statsmodels_glm():
    import statsmodels.api as sm

    from splkit.stats import recalibrate

    y, prob = _miscalibrated()
    lp = np.log(prob / (1 - prob))
    glm = sm.GLM(y, sm.add_constant(lp), family=sm.families.Binomial()).fit(tol=1e-14)
    fit = recalibrate(y, prob, method="logistic")
    np.testing.assert_allclose([fit.intercept, fit.slope], glm.params, atol=1e-9)
    np.testing.assert_allclose([fit.intercept_se, fit.slope_se], glm.bse, rtol=1e-6)
    assert fit.slope == pytest.approx(calibration_intercept_slope(y, prob)[1], abs=1e-8)
    assert 1 / 1.6 - 0.15 < fit.slope < 1 / 1.6 + 0.15  # the simulated over-extremity is recovered
    # recalibrated predictions are calibrated on the data they were fitted on: intercept 0, slope 1
    a, b = calibration_intercept_slope(y, fit.apply(prob))
    assert (a, b) == pytest.approx((0.0, 1.0), abs=1e-6)
    d = fit.to_dict()
    assert d["method"] == "logistic" and d["slope_low"] < d["slope"] < d["slope_high"]


def test_recalibration_keeps_the_ranking_and_refuses_bad_input():
    from splkit.stats import delong_auc, recalibrate

    y, prob = _miscalibrated(n=120, seed=9)
    fit = recalibrate(y, prob)
    assert np.array_equal(np.argsort(fit.apply(prob), kind="stable"), np.argsort(prob, kind="stable"))
    assert delong_auc(y, fit.apply(prob)).auc == pytest.approx(delong_auc(y, prob).auc, abs=1e-12)
    with pytest.raises(ValueError, match="method"):
        recalibrate(y, prob, method="isotonic")


def test_recalibration_of_separating_predictions_is_nan_with_a_warning():
    from splkit.stats import recalibrate

    y = np.array([0, 0, 0, 1, 1, 1])
    prob = np.array([0.1, 0.2, 0.3, 0.7, 0.8, 0.9])
    with pytest.warns(UserWarning, match="did not converge"):
        fit = recalibrate(y, prob, method="logistic")
    assert np.isnan(fit.slope) and np.isnan(fit.intercept)
