"""ROC curves and the area under them, with confidence intervals and the paired DeLong test.

The DeLong variance is computed with the fast algorithm of Sun & Xu (2014), which needs only the
mid-ranks of the scores within the cases, within the controls and in the pooled sample
[delong1988, sunxu2014].  The bootstrap interval resamples cases and controls
separately (stratified), as R's pROC does, and takes percentiles [efron1993].

``y`` is 0/1 with 1 = the positive class (malignant); a larger score means "more likely positive".
Ties between a case and a control count one half, as in the Mann-Whitney statistic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats
from sklearn.metrics import roc_curve
from statsmodels.stats.multitest import multipletests

from splkit.stats._checks import check_labels, check_level, check_scores


@dataclass(frozen=True)
class AUCResult:
    """An AUC with its variance and a confidence interval.

    Attributes
    ----------
    auc : float
        Area under the empirical ROC curve (ties count one half).
    variance : float
        DeLong variance (``method="DeLong"``) or the variance of the bootstrap replicates
        (``method="bootstrap"``).
    low, high : float
        Confidence limits.  DeLong: normal interval ``auc ± z * sqrt(variance)`` clipped to [0, 1]
        (pROC clips the same way).  Bootstrap: percentiles of the replicates.
    method : str
        ``"DeLong"`` or ``"bootstrap"``.
    level : float
        Confidence level of the interval.
    """

    auc: float
    variance: float
    low: float
    high: float
    method: str = "DeLong"
    level: float = 0.95

    def to_dict(self) -> dict:
        """The result as a plain dict (JSON-able)."""
        return asdict(self)


@dataclass(frozen=True)
class DeLongTest:
    """Paired two-sided DeLong test of two AUCs measured on the same patients.

    ``difference = auc_a - auc_b``; ``z = difference / se``; ``p = 2 * (1 - Phi(|z|))``.
    """

    auc_a: float
    auc_b: float
    difference: float
    z: float
    p: float
    se: float = float("nan")

    def to_dict(self) -> dict:
        """The result as a plain dict (JSON-able)."""
        return asdict(self)


def roc_points(y: ArrayLike, score: ArrayLike) -> pd.DataFrame:
    """Every point of the empirical ROC curve.

    Parameters
    ----------
    y : array of 0/1
        Labels, 1 = positive.
    score : array of float
        Scores; a patient is called positive when ``score >= threshold``.

    Returns
    -------
    DataFrame
        Columns ``fpr``, ``tpr``, ``threshold`` from :func:`sklearn.metrics.roc_curve` with
        ``drop_intermediate=False``; the first row is (0, 0, inf).
    """
    y = check_labels(y)
    score = check_scores(score, y.size)
    fpr, tpr, thr = roc_curve(y, score, drop_intermediate=False)
    return pd.DataFrame({"fpr": fpr, "tpr": tpr, "threshold": thr})


def _split(y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scores (k x N) split into cases (k x m) and controls (k x n)."""
    return scores[:, y == 1], scores[:, y == 0]


def _auc_from_ranks(pooled_ranks_cases: np.ndarray, m: int, n: int) -> np.ndarray:
    """Mann-Whitney AUC from the pooled mid-ranks of the cases (last axis = cases)."""
    return (pooled_ranks_cases.sum(axis=-1) - m * (m + 1) / 2.0) / (m * n)


def _fast_delong(y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """AUCs (k,) and their DeLong covariance matrix (k x k) for k score rows (Sun & Xu 2014).

    With ``T_x``, ``T_y``, ``T_z`` the mid-ranks of the cases among cases, of the controls among
    controls and of all patients pooled, the structural components are
    ``V10 = (T_z[cases] - T_x) / n`` and ``V01 = 1 - (T_z[controls] - T_y) / m``, and
    ``S = cov(V10) / m + cov(V01) / n`` (sample covariances, ddof = 1).
    """
    cases, controls = _split(y, scores)
    m, n = cases.shape[1], controls.shape[1]
    if m < 2 or n < 2:
        raise ValueError(f"the DeLong variance needs at least 2 cases and 2 controls (got {m} and {n})")
    tx = stats.rankdata(cases, axis=1)
    ty = stats.rankdata(controls, axis=1)
    tz = stats.rankdata(np.concatenate([cases, controls], axis=1), axis=1)
    auc = _auc_from_ranks(tz[:, :m], m, n)
    v10 = (tz[:, :m] - tx) / n
    v01 = 1.0 - (tz[:, m:] - ty) / m
    cov = np.atleast_2d(np.cov(v10)) / m + np.atleast_2d(np.cov(v01)) / n
    return auc, cov


def delong_auc(y: ArrayLike, score: ArrayLike, level: float = 0.95) -> AUCResult:
    """AUC with DeLong's variance and normal confidence interval.

    Parameters
    ----------
    y : array of 0/1
        Labels, 1 = positive; at least two of each class.
    score : array of float
        Scores (higher = more likely positive).
    level : float
        Confidence level.

    Returns
    -------
    AUCResult
        ``method="DeLong"``; the interval ``auc ± z_{(1+level)/2} * sqrt(variance)`` is clipped to
        [0, 1], as pROC's ``ci.auc(method="delong")`` does.

    References
    ----------
    DeLong, DeLong & Clarke-Pearson (1988); Sun & Xu (2014).
    """
    y = check_labels(y)
    level = check_level(level)
    score = check_scores(score, y.size)
    auc, cov = _fast_delong(y, score[None, :])
    var = float(cov[0, 0])
    half = stats.norm.ppf(0.5 + level / 2.0) * np.sqrt(var)
    a = float(auc[0])
    return AUCResult(a, var, float(max(0.0, a - half)), float(min(1.0, a + half)), "DeLong", level)


def bootstrap_aucs(
    y: ArrayLike, score: ArrayLike, n_boot: int = 2000, random_state: int | np.random.Generator | None = None
) -> np.ndarray:
    """AUCs of ``n_boot`` stratified bootstrap samples (cases and controls resampled separately).

    Vectorised: all samples are ranked at once, so 2000 replicates of ~120 patients take a few
    milliseconds.
    """
    y = check_labels(y)
    score = check_scores(score, y.size)
    if int(n_boot) < 1:
        raise ValueError(f"n_boot must be a positive integer, got {n_boot}")
    rng = np.random.default_rng(random_state)
    cases, controls = score[y == 1], score[y == 0]
    m, n = cases.size, controls.size
    draws = np.concatenate(
        [
            cases[rng.integers(0, m, size=(int(n_boot), m))],
            controls[rng.integers(0, n, size=(int(n_boot), n))],
        ],
        axis=1,
    )
    ranks = stats.rankdata(draws, axis=1)
    return _auc_from_ranks(ranks[:, :m], m, n)


def bootstrap_auc(
    y: ArrayLike,
    score: ArrayLike,
    n_boot: int = 2000,
    level: float = 0.95,
    random_state: int | np.random.Generator | None = None,
) -> AUCResult:
    """AUC with a stratified bootstrap percentile confidence interval.

    Parameters
    ----------
    y, score : arrays
        Labels (0/1) and scores.
    n_boot : int
        Number of bootstrap samples.
    level : float
        Confidence level.
    random_state : int, Generator or None
        Seed of the resampling.

    Returns
    -------
    AUCResult
        ``auc`` of the original sample, ``variance`` of the replicates (ddof = 1), percentile limits,
        ``method="bootstrap"``.

    References
    ----------
    Efron & Tibshirani (1993), ch. 13; stratification by class as in pROC's ``ci.auc``.
    """
    y = check_labels(y)
    level = check_level(level)
    score = check_scores(score, y.size)
    auc = _auc(y, score)
    reps = bootstrap_aucs(y, score, n_boot=n_boot, random_state=random_state)
    low, high = np.quantile(reps, [0.5 - level / 2.0, 0.5 + level / 2.0])
    var = float(np.var(reps, ddof=1)) if reps.size > 1 else float("nan")
    return AUCResult(auc, var, float(low), float(high), "bootstrap", level)


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    """Mann-Whitney AUC of one score (ties between a case and a control count one half)."""
    cases = y == 1
    ranks = stats.rankdata(np.concatenate([score[cases], score[~cases]]))
    m, n = int(cases.sum()), int((~cases).sum())
    return float(_auc_from_ranks(ranks[:m], m, n))


def delong_test(y: ArrayLike, score_a: ArrayLike, score_b: ArrayLike) -> DeLongTest:
    """Paired, two-sided DeLong test that two AUCs on the same patients are equal.

    ``se = sqrt(var_a + var_b - 2 cov_ab)`` from the Sun & Xu covariance matrix;
    ``z = (auc_a - auc_b) / se``.  When the two scores rank every case-control pair alike the
    difference and its standard error are both zero; the test then returns ``z = 0``, ``p = 1``.

    References
    ----------
    DeLong, DeLong & Clarke-Pearson (1988); Sun & Xu (2014); pROC ``roc.test(method="delong",
    paired=TRUE)`` gives the same numbers.
    """
    y = check_labels(y)
    a = check_scores(score_a, y.size, "score_a")
    b = check_scores(score_b, y.size, "score_b")
    auc, cov = _fast_delong(y, np.vstack([a, b]))
    return _pair_test(auc, cov, 0, 1)


def _pair_test(auc: np.ndarray, cov: np.ndarray, i: int, j: int) -> DeLongTest:
    diff = float(auc[i] - auc[j])
    var = float(cov[i, i] + cov[j, j] - 2.0 * cov[i, j])
    se = float(np.sqrt(max(var, 0.0)))
    if se <= 1e-15:
        if abs(diff) <= 1e-15:
            return DeLongTest(float(auc[i]), float(auc[j]), diff, 0.0, 1.0, se)
        return DeLongTest(float(auc[i]), float(auc[j]), diff, float(np.sign(diff) * np.inf), 0.0, se)
    z = diff / se
    return DeLongTest(float(auc[i]), float(auc[j]), diff, z, float(2.0 * stats.norm.sf(abs(z))), se)


def delong_matrix(y: ArrayLike, scores: Mapping[str, ArrayLike], adjust: str | None = None) -> pd.DataFrame:
    """Paired DeLong p-values between every pair of scores.

    Parameters
    ----------
    y : array of 0/1
        Labels.
    scores : mapping name -> array
        Scores of each model on the same patients, in the same order.
    adjust : None or str
        ``None`` (default): raw p-values.  Otherwise a ``method`` of
        :func:`statsmodels.stats.multitest.multipletests` (e.g. ``"holm"``) applied to the
        k(k-1)/2 pairwise tests.

    Returns
    -------
    DataFrame
        Symmetric matrix of two-sided p-values, index and columns in the order of ``scores``,
        NaN on the diagonal.  Unadjusted by default: with k models there are k(k-1)/2 tests, so a
        family-wise claim needs ``adjust="holm"`` (or a similar correction).
    """
    y = check_labels(y)
    names = list(scores)
    if len(names) < 2:
        raise ValueError(f"delong_matrix needs at least two scores, got {names}")
    mat = np.vstack([check_scores(scores[name], y.size, f"score {name!r}") for name in names])
    auc, cov = _fast_delong(y, mat)
    out = np.full((len(names), len(names)), np.nan)
    upper = np.triu_indices(len(names), k=1)
    pvals = np.array([_pair_test(auc, cov, i, j).p for i, j in zip(*upper, strict=True)])
    if adjust is not None:
        pvals = multipletests(pvals, method=adjust)[1]
    out[upper] = pvals
    out.T[upper] = pvals
    return pd.DataFrame(out, index=pd.Index(names, name="model"), columns=pd.Index(names, name="model"))
