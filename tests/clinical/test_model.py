"""Tests of splkit.clinical.model: logistic regression tables pinned against R, profile intervals."""

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from splkit.clinical import multivariable_table, univariate_table
from splkit.clinical.model import LogitClassifier

TYPES = {"race": "categorical", "smoke": "binary", "ht": "binary", "ui": "binary", "ptl": "numeric"}

# Reference values from R 4.2.2 (Debian r-base-core) with MASS 7.3-58 on the Hosmer & Lemeshow low
# birth weight data (MASS::birthwt), obtained once with this script (it also wrote tests/data/birthwt.csv):
#
#   library(MASS)
#   d <- birthwt
#   d$race <- factor(c("white", "black", "other")[d$race])   # levels sorted: black (reference), other, white
#   write.csv(d[, c("low", "age", "lwt", "race", "smoke", "ptl", "ht", "ui")], "birthwt.csv", row.names = FALSE)
#   prof_bound <- function(fit, term, side, level = 0.95) {   # exact root of the profile deviance
#     X <- model.matrix(fit); y <- fit$y; j <- which(colnames(X) == term)
#     b <- coef(fit)[[j]]; se <- sqrt(diag(vcov(fit)))[[j]]; q <- qchisq(level, 1)
#     f <- function(v) {
#       g <- glm.fit(X[, -j, drop = FALSE], y, offset = v * X[, j], family = binomial(),
#                    start = coef(fit)[-j], control = glm.control(epsilon = 1e-15, maxit = 1000))
#       (g$deviance - fit$deviance) - q
#     }
#     hi <- b + side * se; while (f(hi) < 0) hi <- hi + side * se
#     uniroot(f, sort(c(b, hi)), tol = 1e-13)$root
#   }
#   report <- function(fit) {
#     s <- coef(summary(fit)); w <- confint.default(fit); p <- suppressMessages(confint(fit))
#     for (t in rownames(s)[-1]) cat(sprintf('"%s": (%.10f, %.10f, %.10f, %.10f, %.10f, %.10f, %.10f, %.10f),\n',
#         t, s[t, 1], s[t, 2], s[t, 4], w[t, 1], w[t, 2], prof_bound(fit, t, -1), prof_bound(fit, t, 1), p[t, 1]))
#   }
#   ctl <- glm.control(epsilon = 1e-15, maxit = 100)
#   fit <- glm(low ~ age + lwt + race + smoke + ptl + ht + ui, data = d, family = binomial, control = ctl)
#   report(fit); drop1(fit, test = "LRT")["race", "Pr(>Chi)"]
#   report(glm(low ~ lwt, data = d, family = binomial, control = ctl))
#   f2 <- glm(low ~ race, data = d, family = binomial, control = ctl); report(f2)
#   anova(f2, test = "LRT")["race", "Pr(>Chi)"]
#
# Columns: coef, SE, Wald p, Wald low, Wald high (confint.default), profile low, profile high (exact
# roots), and MASS::confint's lower bound (spline-interpolated profile, agrees to ~1e-4).
R_MULTIVARIABLE = {
    "age": (
        -0.0270697793,
        0.0364526143,
        0.4577227601,
        -0.0985155905,
        0.0443760319,
        -0.1001893078,
        0.0433761964,
        -0.1001922822,
    ),
    "lwt": (
        -0.0151825629,
        0.0069279024,
        0.0284149540,
        -0.0287610020,
        -0.0016041237,
        -0.0295733469,
        -0.0022579828,
        -0.0295739211,
    ),
    "race[other]": (
        -0.4015842680,
        0.5388708315,
        0.4561309421,
        -1.4577516901,
        0.6545831541,
        -1.4648694348,
        0.6627891950,
        -1.4649033494,
    ),
    "race[white]": (
        -1.2632193755,
        0.5264677413,
        0.0164208846,
        -2.2950771875,
        -0.2313615636,
        -2.3150704586,
        -0.2341551426,
        -2.3151185909,
    ),
    "smoke": (
        0.9233491572,
        0.4008583153,
        0.0212546491,
        0.1376812963,
        1.7090170182,
        0.1495970699,
        1.7307381412,
        0.1496018411,
    ),
    "ptl": (
        0.5417551195,
        0.3462665624,
        0.1176859063,
        -0.1369148718,
        1.2204251108,
        -0.1262768744,
        1.2463002598,
        -0.1262886231,
    ),
    "ht": (
        1.8336956099,
        0.6917699881,
        0.0080317969,
        0.4778513476,
        3.1895398722,
        0.5123188816,
        3.2777824131,
        0.5122907485,
    ),
    "ui": (
        0.7585965042,
        0.4593918212,
        0.0986760928,
        -0.1417949201,
        1.6589879285,
        -0.1524254561,
        1.6622239509,
        -0.1524623341,
    ),
}
R_RACE_DROP_LRT_P = 0.0254242329293
R_UNIVARIATE = {
    "lwt": (
        -0.0140582612,
        0.0061695884,
        0.0226885685,
        -0.0261504323,
        -0.0019660901,
        -0.0269611991,
        -0.0026495243,
        -0.0269619839,
    ),
    "race[other]": (
        -0.2086388651,
        0.4705159736,
        0.6574578653,
        -1.1308332275,
        0.7135554972,
        -1.1291280279,
        0.7286683074,
        -1.1291444736,
    ),
    "race[white]": (
        -0.8448102969,
        0.4634141221,
        0.0683013148,
        -1.7530852862,
        0.0634646924,
        -1.7534658788,
        0.0773224106,
        -1.7534862277,
    ),
}
R_UNIVARIATE_RACE_LRT_P = 0.0816606523045
TOL = 1e-4


def _check(table, reference, interval):
    for term, (coef, se, p, wlow, whigh, plow, phigh, _) in reference.items():
        row = table.loc[term]
        low, high = (plow, phigh) if interval == "profile" else (wlow, whigh)
        assert np.log(row["or"]) == pytest.approx(coef, abs=TOL)
        assert row["se"] == pytest.approx(se, abs=TOL)
        assert row["p"] == pytest.approx(p, abs=TOL)
        assert np.log(row["low"]) == pytest.approx(low, abs=TOL), term
        assert np.log(row["high"]) == pytest.approx(high, abs=TOL), term


@pytest.mark.parametrize("interval", ["profile", "wald"])
def test_multivariable_matches_r_glm(birthwt, interval):
    X, y = birthwt
    table, pipeline = multivariable_table(X, y, TYPES, interval=interval)
    _check(table, R_MULTIVARIABLE, interval)
    assert table.loc["race[white]", "p_variable"] == pytest.approx(R_RACE_DROP_LRT_P, abs=TOL)
    assert pipeline["logit"].result_.llf == pytest.approx(-100.7134756019, abs=TOL)
    assert (table["vif"] >= 1).all()


def test_univariate_matches_r_glm(birthwt):
    X, y = birthwt
    table = univariate_table(X, y, TYPES, interval="profile")
    _check(table, R_UNIVARIATE, "profile")
    assert table.loc["race[other]", "p_variable"] == pytest.approx(R_UNIVARIATE_RACE_LRT_P, abs=TOL)
    assert set(table["variable"]) == set(X.columns)


def test_profile_interval_is_open_ended_under_separation():
    # x = 1 -> always y = 1 (quasi-complete separation): the MLE of beta_x is infinite, so is the upper
    # profile bound (R's confint fails here).  The lower bound must satisfy the profile equation, checked
    # by maximising the profile log-likelihood over the intercept with scipy.
    from scipy import optimize, stats

    from splkit.clinical import fit_logit, odds_ratio_table

    x = np.r_[np.ones(10), np.zeros(30)]
    y = np.r_[np.ones(10), np.tile([0, 1], 15)]
    with pytest.warns(UserWarning, match="did not converge"):
        result = fit_logit(pd.DataFrame({"x": x}), y)
    row = odds_ratio_table(result, "profile").loc["x"]
    assert np.isinf(row["high"]) and np.isfinite(row["low"])
    b = np.log(row["low"])

    def neg_profile(a):
        eta = a + b * x
        return -np.sum(y * eta - np.logaddexp(0, eta))

    profile_ll = -optimize.minimize_scalar(neg_profile, bounds=(-10, 10), method="bounded").fun
    supremum = 30 * np.log(0.5)  # x = 1 fitted perfectly, x = 0 group at its 50 % rate
    assert 2 * (supremum - profile_ll) == pytest.approx(stats.chi2.ppf(0.95, 1), abs=1e-4)


@parametrize_with_checks([LogitClassifier()], xfail_strict=True)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_logit_classifier_labels_and_input_checks(birthwt):
    X, y = birthwt
    design = X[["age", "lwt"]]
    with pytest.raises(NotFittedError):
        LogitClassifier().predict(design)
    coded = LogitClassifier().fit(design, y)
    named = LogitClassifier().fit(design, y.map({0: "normal", 1: "low"}))  # "normal" > "low": the event
    np.testing.assert_allclose(named.coef_, -coded.coef_, rtol=1e-10)
    assert list(named.classes_) == ["low", "normal"] and set(named.predict(design)) <= {"low", "normal"}
    with pytest.raises(ValueError, match="continuous"):  # was silently truncated to 0 by astype(int)
        LogitClassifier().fit(design, np.linspace(0, 0.9, len(y)))
    with pytest.raises(ValueError, match="NaN"):
        LogitClassifier().fit(design.assign(age=np.nan), y)
    on_arrays = LogitClassifier().fit(design.to_numpy(), y.to_numpy())
    with pytest.raises(ValueError, match="X has 3 features, but LogitClassifier is expecting 2"):
        on_arrays.predict(X[["age", "lwt", "ptl"]].to_numpy())
