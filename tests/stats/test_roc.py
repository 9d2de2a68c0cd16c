"""ROC/AUC tests, pinned against R's pROC.

The reference values below were computed once with R 4.2.2 and pROC 1.18.0 (Debian packages
``r-base-core`` and ``r-cran-proc``) by this script (the vectors are ``Y``, ``A``, ``B``, ``C`` below)::

    library(pROC)
    rocs <- lapply(list(a = a, b = b, c = c),
                   function(s) roc(y, s, levels = c(0, 1), direction = "<", quiet = TRUE))
    for (k in names(rocs)) {
      r <- rocs[[k]]; ci <- ci.auc(r, method = "delong", conf.level = 0.95)
      cat(sprintf("%s auc=%.17g var=%.17g low=%.17g high=%.17g\\n", k, auc(r), var(r), ci[1], ci[3]))
    }
    for (p in list(c("a", "b"), c("a", "c"), c("b", "c"))) {
      t <- roc.test(rocs[[p[1]]], rocs[[p[2]]], method = "delong", paired = TRUE)
      cat(sprintf("%s-%s z=%.17g p=%.17g\\n", p[1], p[2], t$statistic, t$p.value))
    }
    # clipping case: yy = CLIP_Y, s = CLIP_S
    r <- roc(yy, s, levels = c(0, 1), direction = "<", quiet = TRUE); ci.auc(r, method = "delong")

60 patients (27 positive); the scores have many ties (B has only nine distinct values).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score, roc_curve

from splkit.stats import (
    AUCResult,
    bootstrap_auc,
    bootstrap_aucs,
    delong_auc,
    delong_matrix,
    delong_test,
    roc_points,
)

# fmt: off
Y = np.array([1, 1, 1, 1, 0, 1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 0, 0, 1,
              0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 1])
A = np.array([0.99, 0.82, 0.84, 0.29, 0.78, 0.35, 0.55, 0.86, 0.14, 0.79, 0.1, 0.67, 0.57, 0.28, 0.52, 0.33, 0.45,
              0.31, 0.86, 0.32, 0.22, 0.63, 0.59, 0.59, 0.64, 0.44, 0.99, 0.44, 0.38, 0.36, 0.66, 0.36, 0.51, 0.99,
              0.65, 0.54, 0.17, 0.26, 0.37, 0.64, 0.17, 0.69, 0.17, 0.19, 0.4, 0.01, 0.01, 0.68, 0.4, 0.56, 0.41,
              0.19, 0.35, 0.99, 0.41, 0.31, 0.3, 0.8, 0.84, 0.45])
B = np.array([0.9, 0.3, 0.4, 0.6, 1.0, 0.7, 0.3, 0.8, 0.2, 0.3, 0.2, 0.5, 0.5, 0.3, 0.7, 0.3, 0.7, 0.6, 0.2, 0.4, 0.6,
              0.7, 0.6, 0.5, 0.3, 0.8, 0.3, 0.4, 0.3, 0.8, 0.3, 0.5, 0.3, 0.5, 0.3, 0.3, 0.5, 0.3, 0.7, 0.3, 0.5, 0.6,
              0.8, 0.3, 0.7, 0.6, 0.6, 0.4, 0.3, 0.6, 0.5, 0.2, 0.5, 0.3, 0.2, 0.2, 0.4, 0.7, 0.7, 0.3])
C = np.array([0.75, 0.78, 0.8, 0.44, 0.66, 0.47, 0.55, 0.63, 0.13, 0.88, 0.11, 0.61, 0.45, 0.22, 0.66, 0.37, 0.33,
              0.49, 0.82, 0.53, 0.3, 0.61, 0.66, 0.49, 0.8, 0.66, 0.89, 0.47, 0.41, 0.42, 0.58, 0.43, 0.51, 0.67,
              0.42, 0.58, 0.42, 0.46, 0.42, 0.48, 0.31, 0.57, 0.13, 0.33, 0.42, 0.26, 0.2, 0.64, 0.52, 0.62, 0.25,
              0.16, 0.55, 0.86, 0.29, 0.52, 0.4, 0.55, 0.79, 0.54])
CLIP_Y = np.array([0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1])
CLIP_S = np.concatenate([np.linspace(0.02, 0.3, 8), [0.35], np.linspace(0.4, 0.99, 10)])
# fmt: on

# pROC 1.18.0: auc, var(roc), ci.auc(method = "delong") lower and upper limit
PROC = {
    "a": (0.82603815937149272, 0.0028094227671014056, 0.72215225142560913, 0.92992406731737631),
    "b": (0.65432098765432101, 0.0049575570350448772, 0.51632007750744069, 0.79232189780120132),
    "c": (0.88215488215488214, 0.0020073155945770985, 0.79434246733382696, 0.96996729697593731),
}
# pROC 1.18.0: roc.test(method = "delong", paired = TRUE): statistic z and p-value
PROC_TEST = {
    ("a", "b"): (1.8495252549758401, 0.06438200452651377),
    ("a", "c"): (-1.7033084093003557, 0.088510367702354528),
    ("b", "c"): (-2.5943528371509039, 0.0094769174679524178),
}
# pROC 1.18.0 on (CLIP_Y, CLIP_S): the upper limit is clipped to 1
PROC_CLIP = (0.92045454545454541, 0.0064566115702479341, 0.76296547450571839, 1.0)
SCORES = {"a": A, "b": B, "c": C}


@pytest.mark.parametrize("name", ["a", "b", "c"])
def test_delong_auc_matches_proc(name):
    res = delong_auc(Y, SCORES[name])
    auc, var, low, high = PROC[name]
    assert isinstance(res, AUCResult) and res.method == "DeLong"
    assert res.auc == pytest.approx(auc, abs=1e-12)
    assert res.auc == pytest.approx(roc_auc_score(Y, SCORES[name]), abs=1e-12)
    assert res.variance == pytest.approx(var, rel=1e-9)
    assert (res.low, res.high) == pytest.approx((low, high), abs=1e-9)


def test_delong_ci_is_clipped_like_proc():
    res = delong_auc(CLIP_Y, CLIP_S)
    assert (res.auc, res.variance, res.low, res.high) == pytest.approx(PROC_CLIP, rel=1e-9)
    assert res.high == 1.0


@pytest.mark.parametrize(("first", "second"), list(PROC_TEST))
def test_delong_test_matches_proc(first, second):
    z, p = PROC_TEST[(first, second)]
    res = delong_test(Y, SCORES[first], SCORES[second])
    assert res.z == pytest.approx(z, rel=1e-9)
    assert res.p == pytest.approx(p, rel=1e-9)
    assert res.difference == pytest.approx(PROC[first][0] - PROC[second][0], abs=1e-12)
    assert (res.auc_a, res.auc_b) == pytest.approx((PROC[first][0], PROC[second][0]), abs=1e-12)


def test_delong_matrix_symmetric_with_proc_p_values():
    mat = delong_matrix(Y, SCORES)
    assert list(mat.index) == list(mat.columns) == ["a", "b", "c"]
    assert np.isnan(np.diag(mat.to_numpy())).all()
    np.testing.assert_allclose(mat.to_numpy(), mat.to_numpy().T, equal_nan=True)
    for (i, j), (_, p) in PROC_TEST.items():
        assert mat.loc[i, j] == pytest.approx(p, rel=1e-9)


def test_delong_matrix_holm_adjustment():
    raw = [PROC_TEST[k][1] for k in [("a", "b"), ("a", "c"), ("b", "c")]]
    # Holm by hand: sorted p = (0.0095, 0.0644, 0.0885) -> (3 p1, max(3 p1, 2 p2), max(.., p3))
    p_bc, p_ab, p_ac = 3 * raw[2], max(3 * raw[2], 2 * raw[0]), max(3 * raw[2], 2 * raw[0], raw[1])
    mat = delong_matrix(Y, SCORES, adjust="holm")
    assert (mat.loc["b", "c"], mat.loc["a", "b"], mat.loc["c", "a"]) == pytest.approx(
        (p_bc, p_ab, p_ac), rel=1e-9
    )


def test_delong_test_identical_scores():
    res = delong_test(Y, A, A)
    assert res.difference == 0 and res.p == 1.0


def test_delong_symmetric_in_argument_order():
    ab, ba = delong_test(Y, A, B), delong_test(Y, B, A)
    assert ab.z == pytest.approx(-ba.z) and ab.p == pytest.approx(ba.p)


def test_auc_below_half_is_not_flipped():
    res = delong_auc(Y, 1 - A)
    assert res.auc == pytest.approx(1 - PROC["a"][0])
    assert res.variance == pytest.approx(PROC["a"][1], rel=1e-9)


def test_roc_points_match_sklearn():
    pts = roc_points(Y, B)
    fpr, tpr, thr = roc_curve(Y, B, drop_intermediate=False)
    assert list(pts.columns) == ["fpr", "tpr", "threshold"]
    np.testing.assert_array_equal(pts["fpr"], fpr)
    np.testing.assert_array_equal(pts["tpr"], tpr)
    np.testing.assert_array_equal(pts["threshold"], thr)
    assert np.trapezoid(pts["tpr"], pts["fpr"]) == pytest.approx(PROC["b"][0])


def test_bootstrap_replicates_match_a_naive_loop():
    reps = bootstrap_aucs(Y, A, n_boot=50, random_state=7)
    rng = np.random.default_rng(7)
    pos, neg = A[Y == 1], A[Y == 0]
    pi = rng.integers(0, pos.size, size=(50, pos.size))
    ni = rng.integers(0, neg.size, size=(50, neg.size))
    for b in range(50):
        s = np.concatenate([pos[pi[b]], neg[ni[b]]])
        yy = np.r_[np.ones(pos.size), np.zeros(neg.size)]
        assert reps[b] == pytest.approx(roc_auc_score(yy, s), abs=1e-12)


def test_bootstrap_auc_reproducible_and_close_to_delong():
    one = bootstrap_auc(Y, A, n_boot=2000, random_state=3)
    two = bootstrap_auc(Y, A, n_boot=2000, random_state=3)
    assert one == two and one.method == "bootstrap"
    assert one.auc == pytest.approx(PROC["a"][0])
    assert one.low < one.auc < one.high
    # the bootstrap variance estimates the same quantity as DeLong's (within Monte-Carlo error)
    assert one.variance == pytest.approx(PROC["a"][1], rel=0.2)
    assert bootstrap_auc(Y, A, n_boot=200, random_state=4) != one


def test_bootstrap_ci_agrees_with_proc():
    # pROC 1.18.0: set.seed(1); ci.auc(roc(y, a, levels = c(0, 1), direction = "<"), method = "bootstrap",
    #   boot.n = 20000, boot.stratified = TRUE) -> 0.71492704826038156, 0.92031425364758701.
    # Different random streams, so equal only up to Monte-Carlo error.
    res = bootstrap_auc(Y, A, n_boot=20000, random_state=0)
    assert (res.low, res.high) == pytest.approx((0.71492704826038156, 0.92031425364758701), abs=0.006)


def test_bootstrap_is_fast():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 122)
    s = rng.random(122)
    start = time.perf_counter()
    bootstrap_auc(y, s, n_boot=2000, random_state=0)
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize(
    ("y", "score", "message"),
    [
        (np.array([0, 1, 2]), np.array([0.1, 0.2, 0.3]), "0/1"),
        (np.array([1, 1, 1]), np.array([0.1, 0.2, 0.3]), "both classes"),
        (np.array([0, 1, 1]), np.array([0.1, 0.2]), "3 labels"),
        (np.array([0, 1, 1]), np.array([0.1, np.nan, 0.3]), "finite"),
        (np.array([0, 1, 1, 0]), np.array([0.1, 0.5, 0.3, 0.2]), None),
    ],
)
def test_bad_input_is_rejected(y, score, message):
    if message is None:  # one case is fine for the AUC but too small for DeLong's variance
        assert delong_auc(np.array([0, 1, 1, 0]), score).auc == 1.0
        with pytest.raises(ValueError, match="at least 2 cases"):
            delong_auc(np.array([0, 1, 0, 0]), score)
        return
    with pytest.raises(ValueError, match=message):
        delong_auc(y, score)


def test_matrix_needs_two_scores():
    with pytest.raises(ValueError, match="at least two"):
        delong_matrix(Y, {"a": A})
    assert isinstance(delong_matrix(Y, {"a": A, "b": B}), pd.DataFrame)
