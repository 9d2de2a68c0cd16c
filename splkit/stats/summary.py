"""Everything about one model on one cohort in one flat, JSON-able dict."""

from __future__ import annotations

import numpy as np
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
