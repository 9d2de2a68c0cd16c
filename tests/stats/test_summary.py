"""``evaluate``: one flat, JSON-able dict per model and cohort, consistent with the parts."""

from __future__ import annotations

import json

import numpy as np
import pytest
from stats.test_roc import PROC, A, Y

from splkit.stats import (
    brier_score,
    calibration_intercept_slope,
    evaluate,
    format_ci,
    hosmer_lemeshow,
    performance_table,
    threshold_metrics,
    youden_threshold,
)

KEYS = [
    "n", "n_positive", "auc", "auc_var", "auc_delong_low", "auc_delong_high", "auc_boot_low", "auc_boot_high",
    "threshold",
    "accuracy", "accuracy_low", "accuracy_high", "sensitivity", "sensitivity_low", "sensitivity_high",
    "specificity", "specificity_low", "specificity_high", "ppv", "ppv_low", "ppv_high", "npv", "npv_low", "npv_high",
    "f1", "f1_low", "f1_high", "tp", "fp", "tn", "fn",
    "brier", "cal_intercept", "cal_slope", "hl_statistic", "hl_df", "hl_p", "level",
]  # fmt: skip


def test_evaluate_is_flat_json_and_consistent():
    t = youden_threshold(Y, A)
    out = evaluate(Y, A, t, n_boot=500, random_state=11)
    assert list(out) == KEYS
    assert all(type(v) in (int, float) for v in out.values())
    json.dumps(out, allow_nan=False)
    auc, var, low, high = PROC["a"]
    assert (out["auc"], out["auc_var"], out["auc_delong_low"], out["auc_delong_high"]) == pytest.approx(
        (auc, var, low, high), rel=1e-9
    )
    assert out["auc_boot_low"] < out["auc"] < out["auc_boot_high"]
    tab = threshold_metrics(Y, A, t, n_boot=500)
    for name in ["accuracy", "sensitivity", "specificity", "ppv", "npv"]:
        assert (out[name], out[f"{name}_low"], out[f"{name}_high"]) == tuple(
            tab.loc[name, ["estimate", "low", "high"]]
        )
    assert out["tp"] + out["fn"] == out["n_positive"] == int(Y.sum())
    assert out["tp"] + out["fp"] + out["tn"] + out["fn"] == out["n"] == Y.size
    assert out["brier"] == brier_score(Y, A)
    assert (out["cal_intercept"], out["cal_slope"]) == calibration_intercept_slope(Y, A)
    hl = hosmer_lemeshow(Y, A)
    assert (out["hl_statistic"], out["hl_df"], out["hl_p"]) == (hl.statistic, hl.df, hl.p)


def test_evaluate_reproducible():
    one = evaluate(Y, A, 0.5, n_boot=300, random_state=1)
    assert one == evaluate(Y, A, 0.5, n_boot=300, random_state=1)
    assert one != evaluate(Y, A, 0.5, n_boot=300, random_state=2)


def test_evaluate_hl_not_computable_is_nan():
    y = np.array([0, 1, 0, 1, 1, 0])
    p = np.array([0.2, 0.8, 0.2, 0.8, 0.8, 0.2])
    with pytest.warns(UserWarning, match="separate the classes perfectly"):
        out = evaluate(y, p, 0.5, n_boot=50, random_state=0)
    assert np.isnan(out["hl_statistic"]) and np.isnan(out["hl_p"]) and np.isnan(out["cal_slope"])
    assert out["sensitivity"] == 1.0 and out["specificity"] == 1.0


def test_performance_table_layout():
    evals = {
        "A": evaluate(Y, A, 0.5, n_boot=200, random_state=0),
        "B": evaluate(Y, 1 - A, 0.5, n_boot=200, random_state=0),
    }
    tab = performance_table(evals)
    assert tab.index.name == "Model" and list(tab.index) == ["A", "B"]
    assert list(tab.columns) == [
        "AUC (95% CI)",
        "Accuracy",
        "Sensitivity",
        "Specificity",
        "PPV",
        "NPV",
        "F1",
        "Threshold",
    ]
    auc, _, low, high = PROC["a"]
    assert tab.loc["A", "AUC (95% CI)"] == f"{auc:.3f} ({low:.3f}–{high:.3f})"
    boot = performance_table(evals, auc_ci="boot", digits=2)
    assert boot.loc["A", "AUC (95% CI)"] == format_ci(
        evals["A"]["auc"], evals["A"]["auc_boot_low"], evals["A"]["auc_boot_high"], 2
    )


def test_format_ci():
    assert format_ci(0.5, 0.25, 0.75, 2) == "0.50 (0.25–0.75)"
    assert format_ci(float("nan"), 0.1, 0.2) == "–"
    assert format_ci(0.5, float("nan"), float("nan")) == "0.500"
