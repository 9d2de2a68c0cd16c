"""Operating points: the Youden threshold and the metrics of a dichotomised score, with CIs.

A patient is called positive when ``score >= threshold``.  Proportions (accuracy, sensitivity,
specificity, PPV, NPV) get Wilson score intervals [wilson1927]; F1, which is not a simple
proportion, gets a stratified bootstrap percentile interval [efron1993].
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from splkit.stats._checks import check_labels, check_level, check_scores

METRICS = ("accuracy", "sensitivity", "specificity", "ppv", "npv", "f1")


def youden_threshold(y: ArrayLike, score: ArrayLike) -> float:
    """The threshold that maximises Youden's J = sensitivity + specificity - 1.

    Candidates are the distinct observed scores; at candidate ``t`` a patient is positive when
    ``score >= t``, so the returned value reproduces the optimal classification on the data it was
    chosen on.  Ties (several thresholds with the same maximal J) go to the **highest** threshold,
    i.e. the most specific one — the same choice as ``thresholds[argmax(tpr - fpr)]`` on
    :func:`sklearn.metrics.roc_curve` output.  Choose it on the training cohort and apply it
    unchanged to validation.

    References
    ----------
    Youden (1950).
    """
    y = check_labels(y)
    score = check_scores(score, y.size)
    candidates = np.unique(score)[::-1]  # descending
    pos = np.sort(score[y == 1])
    neg = np.sort(score[y == 0])
    sens = (pos.size - np.searchsorted(pos, candidates, side="left")) / pos.size
    spec = np.searchsorted(neg, candidates, side="left") / neg.size
    j = sens + spec - 1.0
    best = np.flatnonzero(j >= j.max() - 1e-12)[0]  # first = highest threshold among ties
    return float(candidates[best])


def wilson_interval(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion ``k / n``.

    ``(p + z²/2n ± z sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)`` with ``z`` the ``(1+level)/2`` normal
    quantile.  Returns ``(nan, nan)`` when ``n == 0``.

    References
    ----------
    Wilson (1927); equals ``statsmodels.stats.proportion.proportion_confint(method="wilson")``.
    """
    level = check_level(level)
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return float("nan"), float("nan")
    z = stats.norm.ppf(0.5 + level / 2.0)
    p = k / n
    denom = 1.0 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return float(low), float(high)


def confusion_counts(y: ArrayLike, score: ArrayLike, threshold: float) -> dict[str, int]:
    """``tp, fp, tn, fn`` when ``score >= threshold`` is called positive."""
    y = check_labels(y, need_both=False)
    score = check_scores(score, y.size)
    pred = score >= threshold
    return {
        "tp": int(np.sum(pred & (y == 1))),
        "fp": int(np.sum(pred & (y == 0))),
        "tn": int(np.sum(~pred & (y == 0))),
        "fn": int(np.sum(~pred & (y == 1))),
    }


def _f1_bootstrap(
    y: np.ndarray, pred: np.ndarray, n_boot: int, level: float, random_state
) -> tuple[float, float]:
    """Stratified bootstrap percentile interval of F1 at a fixed classification."""
    rng = np.random.default_rng(random_state)
    pos, neg = pred[y == 1], pred[y == 0]
    m, n = pos.size, neg.size
    tp = pos[rng.integers(0, m, size=(n_boot, m))].sum(axis=1) if m else np.zeros(n_boot)
    fp = neg[rng.integers(0, n, size=(n_boot, n))].sum(axis=1) if n else np.zeros(n_boot)
    fn = m - tp
    denom = 2 * tp + fp + fn
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(denom > 0, 2 * tp / np.where(denom > 0, denom, 1), np.nan)
    f1 = f1[np.isfinite(f1)]
    if f1.size == 0:
        return float("nan"), float("nan")
    low, high = np.quantile(f1, [0.5 - level / 2.0, 0.5 + level / 2.0])
    return float(low), float(high)


def threshold_metrics(
    y: ArrayLike,
    score: ArrayLike,
    threshold: float,
    level: float = 0.95,
    n_boot: int = 2000,
    random_state: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Accuracy, sensitivity, specificity, PPV, NPV and F1 at ``score >= threshold``, with CIs.

    Parameters
    ----------
    y, score : arrays
        Labels (0/1, 1 = positive) and scores.
    threshold : float
        Classification threshold (e.g. the training-cohort Youden threshold).
    level : float
        Confidence level.
    n_boot : int
        Bootstrap samples for the F1 interval (cases and controls resampled separately).
    random_state : int, Generator or None
        Seed of that bootstrap.

    Returns
    -------
    DataFrame
        Index ``metric`` (accuracy, sensitivity, specificity, ppv, npv, f1); columns ``estimate``,
        ``low``, ``high``, ``method`` ("Wilson" or "bootstrap"), ``numerator``, ``denominator``.
        For F1 numerator = 2 TP and denominator = 2 TP + FP + FN.  A metric with denominator 0
        (e.g. PPV when nobody is called positive) is NaN.
    """
    y = check_labels(y, need_both=False)
    score = check_scores(score, y.size)
    level = check_level(level)
    if not np.isfinite(threshold):
        raise ValueError(f"threshold must be finite, got {threshold}")
    c = confusion_counts(y, score, threshold)
    tp, fp, tn, fn = c["tp"], c["fp"], c["tn"], c["fn"]
    fractions = {
        "accuracy": (tp + tn, tp + fp + tn + fn),
        "sensitivity": (tp, tp + fn),
        "specificity": (tn, tn + fp),
        "ppv": (tp, tp + fp),
        "npv": (tn, tn + fn),
    }
    rows = []
    for name, (k, n) in fractions.items():
        low, high = wilson_interval(k, n, level)
        rows.append((name, k / n if n else np.nan, low, high, "Wilson", k, n))
    f1_den = 2 * tp + fp + fn
    f1_low, f1_high = _f1_bootstrap(y, score >= threshold, int(n_boot), level, random_state)
    rows.append(("f1", 2 * tp / f1_den if f1_den else np.nan, f1_low, f1_high, "bootstrap", 2 * tp, f1_den))
    table = pd.DataFrame(
        rows, columns=["metric", "estimate", "low", "high", "method", "numerator", "denominator"]
    )
    return table.set_index("metric")
