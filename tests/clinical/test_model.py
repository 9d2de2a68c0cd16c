"""Tests of splkit.clinical: logistic regression tables pinned against R, selection, out-of-fold scores."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from splkit.clinical import ClinicalEncoder, make_clinical_pipeline, multivariable_table, univariate_table
from splkit.clinical.selection import SelectedClinicalModel, out_of_fold_scores, select_predictors

BIRTHWT = Path(__file__).parents[1] / "data" / "birthwt.csv"
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


@pytest.fixture(scope="module")
def birthwt():
    data = pd.read_csv(BIRTHWT)
    return data.drop(columns="low"), data["low"]


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


def test_encoder_imputes_from_training_and_rejects_unseen_levels():
    train = pd.DataFrame({"age": [50.0, np.nan, 70.0, 60.0], "sex": ["male", "female", None, "male"]})
    encoder = ClinicalEncoder({"age": "numeric", "sex": "binary"}).fit(train)
    out = encoder.transform(train)
    assert list(out.columns) == ["age", "sex[male]"]
    assert out["age"].tolist() == [50.0, 60.0, 70.0, 60.0]
    assert out["sex[male]"].tolist() == [1.0, 0.0, 1.0, 1.0]  # missing -> training mode (male)
    with pytest.raises(ValueError, match="'sex'.*not seen in training"):
        encoder.transform(pd.DataFrame({"age": [1.0], "sex": ["unknown"]}))
    with pytest.raises(ValueError, match="non-numeric"):
        ClinicalEncoder({"age": "numeric"}).fit(pd.DataFrame({"age": ["old", 3]}))


def _toy(n=160, seed=0):
    rng = np.random.default_rng(seed)
    age = rng.normal(60, 10, n)
    cea = rng.lognormal(1, 0.8, n)
    noise = rng.normal(0, 1, n)
    sex = rng.choice(["female", "male"], n)
    lp = -0.5 + 0.08 * (age - 60) + 0.6 * np.log(cea) + 0.8 * (sex == "male")
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-lp))).astype(int)
    X = pd.DataFrame(
        {"age": age, "cea": cea, "noise": noise, "sex": sex}, index=[f"P{i:04d}" for i in range(n)]
    )
    X.loc[X.index[::9], "cea"] = np.nan
    return X, pd.Series(y, index=X.index)


def test_select_predictors_keeps_signal_and_excludes_mostly_missing():
    X, y = _toy()
    X = X.assign(gappy=np.where(np.arange(len(X)) % 2 == 0, np.nan, 1.0))
    selection = select_predictors(X, y, {"sex": "binary"}, interval="wald")
    assert "age" in selection.predictors and "noise" not in selection.predictors
    assert any("gappy" in note and "missing" in note for note in selection.notes)
    assert "gappy" not in selection.candidates
    assert set(selection.final["variable"]) == set(selection.predictors)


def test_select_predictors_falls_back_when_nothing_is_significant():
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60)})
    y = pd.Series(rng.integers(0, 2, 60))
    selection = select_predictors(X, y, univariate_p=1e-9, interval="wald")
    assert len(selection.predictors) == 1 and selection.notes


def test_out_of_fold_scores_ignore_validation_rows():
    X, y = _toy()
    train, valid = X.index[:120], X.index[120:]
    pipeline = make_clinical_pipeline({"sex": "binary"})
    oof, other, fitted = out_of_fold_scores(pipeline, X.loc[train], y[train], X.loc[valid], 4, random_state=1)
    altered = X.loc[valid].assign(age=999.0, cea=np.nan)
    oof2, _, fitted2 = out_of_fold_scores(pipeline, X.loc[train], y[train], altered, 4, random_state=1)
    pd.testing.assert_series_equal(oof, oof2)
    np.testing.assert_array_equal(fitted["logit"].coef_, fitted2["logit"].coef_)
    assert fitted["encode"].fill_ == fitted2["encode"].fill_
    assert oof.notna().all() and other.between(0, 1).all() and len(other) == len(valid)
    # out-of-fold scores differ from in-sample ones (each row was scored by a model that never saw it)
    assert not np.allclose(oof, fitted.predict_proba(X.loc[train])[:, 1])


def test_nomogram_points_map_to_the_models_probabilities(birthwt):
    from splkit.clinical.nomogram import Nomogram

    X, y = birthwt
    X = X.copy()
    X.loc[X.index[:5], "lwt"] = np.nan  # missing values: points read off after the pipeline's imputation
    pipeline = make_clinical_pipeline(TYPES).fit(X, y)
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


def test_encoder_follows_declared_levels_and_ordinal_ranks():
    train = pd.DataFrame(
        {
            "grade": ["0", "II", "I", None, "III", "I"],
            "location": ["upper", "lower", "middle", "lower", "upper", None],
            "fever": [0.0, 1.0, 1.0, np.nan, 0.0, 1.0],
        }
    )
    types = {"grade": "ordinal", "location": "categorical", "fever": "binary"}
    levels = {"grade": ["0", "I", "II", "III"], "location": ["upper", "middle", "lower"], "fever": ["0", "1"]}
    encoder = ClinicalEncoder(types, levels).fit(train)
    out = encoder.transform(train)
    assert list(out.columns) == ["grade", "location[middle]", "location[lower]", "fever"]
    assert out["grade"].tolist() == [0.0, 2.0, 1.0, 1.0, 3.0, 1.0]  # missing -> training median rank 1
    assert out["fever"].tolist() == [0.0, 1.0, 1.0, 1.0, 0.0, 1.0]
    # missing -> training mode; upper and lower tie (2 each): the first in level order, upper (reference)
    assert out.loc[5, ["location[middle]", "location[lower]"]].tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="outside its levels"):
        ClinicalEncoder(types, {**levels, "grade": ["0", "I"]}).fit(train)


def test_nomogram_with_ordinal_text_levels_and_categorical():
    from splkit.clinical.nomogram import Nomogram

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


def test_encoder_reads_binary_levels_written_as_floats():
    # cohort.csv stores 0/1 variables as 0.0/1.0; read back as text they must still match levels 0/1
    train = pd.DataFrame({"fever": ["0.0", "1.0", None, "1.0"]})
    out = ClinicalEncoder({"fever": "binary"}, {"fever": ["0", "1"]}).fit_transform(train)
    assert out["fever"].tolist() == [0.0, 1.0, 1.0, 1.0]


def test_selected_model_reselects_inside_each_fold_and_ignores_validation_rows():
    X, y = _toy()
    train, valid = X.index[:120], X.index[120:]
    model = SelectedClinicalModel({"sex": "binary"})
    folds: list = []
    oof, other, fitted = out_of_fold_scores(
        model, X.loc[train], y[train], X.loc[valid], 3, 7, fold_models=folds
    )
    assert len(folds) == 3 and all(hasattr(m, "predictors_") for m in folds)
    assert fitted.predictors_ == select_predictors(X.loc[train], y[train], {"sex": "binary"}).predictors
    altered = X.loc[valid].assign(age=-5.0, sex="female")
    oof2, other2, fitted2 = out_of_fold_scores(model, X.loc[train], y[train], altered, 3, 7)
    pd.testing.assert_series_equal(oof, oof2)
    assert fitted2.predictors_ == fitted.predictors_ and not np.allclose(other, other2)


def test_declared_level_absent_from_training_is_coded_as_reference_with_warning():
    train = pd.DataFrame({"location": ["upper", "lower", "upper", "lower"]})
    encoder = ClinicalEncoder({"location": "categorical"}, {"location": ["upper", "middle", "lower"]}).fit(
        train
    )
    assert encoder.terms_ == ["location[lower]"]
    with pytest.warns(UserWarning, match="absent from training"):
        out = encoder.transform(pd.DataFrame({"location": ["middle", "lower"]}))
    assert out["location[lower]"].tolist() == [0.0, 1.0]


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
