"""Everything about one model on one cohort in one flat, JSON-able dict."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from splkit.stats._checks import check_labels, check_scores
from splkit.stats.calibration import brier_score, calibration_intercept_slope, hosmer_lemeshow
from splkit.stats.roc import bootstrap_auc, delong_auc
from splkit.stats.thresholds import threshold_metrics


def evaluate(
    y: ArrayLike,
    score: ArrayLike,
    threshold: float,
    level: float = 0.95,
    n_boot: int = 2000,
    random_state: int | np.random.Generator | None = None,
    n_bins: int = 10,
) -> dict:
    """Discrimination, operating point and calibration of one model on one cohort.

    Parameters
    ----------
    y, score : arrays
        Labels (0/1, 1 = malignant) and predicted probabilities.
    threshold : float
        Classification threshold (``score >= threshold`` is positive), normally the Youden
        threshold chosen on the training cohort.
    level : float
        Confidence level of every interval.
    n_boot : int
        Bootstrap samples (AUC percentile interval and F1 interval).
    random_state : int, Generator or None
        Seed; the AUC and F1 bootstraps get independent streams spawned from it.
    n_bins : int
        Hosmer–Lemeshow groups.

    Returns
    -------
    dict
        Flat dict of floats/ints: ``n``, ``n_positive``, ``auc``, ``auc_var``, ``auc_delong_low``,
        ``auc_delong_high``, ``auc_boot_low``, ``auc_boot_high``, ``threshold``, then for each of
        accuracy, sensitivity, specificity, ppv, npv, f1: ``<metric>``, ``<metric>_low``,
        ``<metric>_high``; ``tp``, ``fp``, ``tn``, ``fn``, ``brier``, ``cal_intercept``, ``cal_slope``,
        ``hl_statistic``, ``hl_df``, ``hl_p``, ``level``.  Hosmer–Lemeshow entries are NaN (None in
        JSON) when the predictions form fewer than 3 groups.
    """
    y = check_labels(y)
    score = check_scores(score, y.size, probability=True)
    if not np.isfinite(threshold):
        raise ValueError(f"threshold must be finite, got {threshold}")
    seed_auc, seed_f1 = np.random.default_rng(random_state).spawn(2)
    de = delong_auc(y, score, level=level)
    bo = bootstrap_auc(y, score, n_boot=n_boot, level=level, random_state=seed_auc)
    out: dict = {
        "n": int(y.size),
        "n_positive": int(y.sum()),
        "auc": de.auc,
        "auc_var": de.variance,
        "auc_delong_low": de.low,
        "auc_delong_high": de.high,
        "auc_boot_low": bo.low,
        "auc_boot_high": bo.high,
        "threshold": float(threshold),
    }
    metrics = threshold_metrics(y, score, threshold, level=level, n_boot=n_boot, random_state=seed_f1)
    for name, row in metrics.iterrows():
        out[name] = float(row["estimate"])
        out[f"{name}_low"] = float(row["low"])
        out[f"{name}_high"] = float(row["high"])
    pred = score >= threshold
    out.update(
        tp=int(np.sum(pred & (y == 1))),
        fp=int(np.sum(pred & (y == 0))),
        tn=int(np.sum(~pred & (y == 0))),
        fn=int(np.sum(~pred & (y == 1))),
    )
    out["brier"] = brier_score(y, score)
    out["cal_intercept"], out["cal_slope"] = calibration_intercept_slope(y, score)
    try:
        hl = hosmer_lemeshow(y, score, n_groups=n_bins)
        out.update(hl_statistic=hl.statistic, hl_df=hl.df, hl_p=hl.p)
    except ValueError:
        out.update(hl_statistic=float("nan"), hl_df=float("nan"), hl_p=float("nan"))
    out["level"] = float(level)
    return out


TABLE_METRICS = {
    "accuracy": "Accuracy",
    "sensitivity": "Sensitivity",
    "specificity": "Specificity",
    "ppv": "PPV",
    "npv": "NPV",
    "f1": "F1",
}


def format_ci(estimate: float, low: float, high: float, digits: int = 3) -> str:
    """``"0.826 (0.722–0.930)"``; ``"–"`` when the estimate is missing, ``"0.826"`` without limits."""
    if estimate is None or (isinstance(estimate, float) and math.isnan(estimate)):
        return "–"
    if low is None or high is None or math.isnan(low) or math.isnan(high):
        return f"{estimate:.{digits}f}"
    return f"{estimate:.{digits}f} ({low:.{digits}f}–{high:.{digits}f})"


def performance_table(
    results: Mapping[str, Mapping], digits: int = 3, auc_ci: str = "delong"
) -> pd.DataFrame:
    """The performance table of radiomics papers, one row per model, from :func:`evaluate` dicts.

    Parameters
    ----------
    results : mapping model name -> dict returned by :func:`evaluate`
        One cohort's evaluations.
    digits : int
        Decimals shown.
    auc_ci : {"delong", "boot"}
        Which AUC interval to show.

    Returns
    -------
    DataFrame
        Index ``Model``; columns ``AUC (95% CI)``, ``Accuracy``, ``Sensitivity``, ``Specificity``,
        ``PPV``, ``NPV``, ``F1`` (each "estimate (low–high)") and ``Threshold``.  The CI label uses
        the level the evaluations were made at.
    """
    if auc_ci not in ("delong", "boot"):
        raise ValueError(f"auc_ci must be 'delong' or 'boot', got {auc_ci!r}")
    rows = {}
    for model, res in results.items():
        pct = f"{100 * res.get('level', 0.95):g}% CI"
        row = {
            f"AUC ({pct})": format_ci(res["auc"], res[f"auc_{auc_ci}_low"], res[f"auc_{auc_ci}_high"], digits)
        }
        for key, label in TABLE_METRICS.items():
            row[label] = format_ci(res[key], res[f"{key}_low"], res[f"{key}_high"], digits)
        row["Threshold"] = f"{res['threshold']:.{digits}f}"
        rows[model] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("Model")
