"""Calibration: do predicted probabilities match observed frequencies?

Binned curve with Wilson intervals, LOWESS-smoothed curve, calibration intercept and slope
(logistic recalibration, Steyerberg's *Clinical Prediction Models*), the Hosmer–Lemeshow test
[hosmer1980] and the Brier score.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from numpy.typing import ArrayLike
from scipy import stats
from statsmodels.nonparametric.smoothers_lowess import lowess
from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

from splkit.stats._checks import check_labels, check_level, check_scores
from splkit.stats.thresholds import wilson_interval

#: probabilities are clipped to [EPS, 1 - EPS] before taking logits
EPS = 1e-8


@dataclass(frozen=True)
class HLResult:
    """Hosmer–Lemeshow goodness-of-fit test.

    ``statistic`` = sum over groups and both outcomes of (observed - expected)² / expected;
    ``df = n_groups_used - 2``; ``p`` from the chi-squared distribution with ``df``.
    """

    statistic: float
    df: int
    p: float
    n_groups_used: int

    def to_dict(self) -> dict:
        """The result as a plain dict (JSON-able)."""
        return asdict(self)


def quantile_groups(prob: np.ndarray, n_groups: int) -> np.ndarray:
    """Group index (0, 1, …) of each probability by quantile cut points, as R's ``hoslem.test``.

    The cut points are ``unique(quantile(prob, seq(0, 1, 1/g)))`` (R's default type-7 quantile, the
    same as numpy's ``linear``); intervals are closed on the right and the lowest one includes its
    left end (R's ``cut(..., include.lowest = TRUE)``).  With tied probabilities cut points
    coincide and fewer groups result; empty groups are dropped and the rest renumbered.
    """
    if n_groups < 1:
        raise ValueError(f"need at least one group, got {n_groups}")
    breaks = np.unique(np.quantile(prob, np.linspace(0.0, 1.0, n_groups + 1)))
    if breaks.size == 1:
        return np.zeros(prob.size, dtype=int)
    idx = np.maximum(np.searchsorted(breaks, prob, side="left"), 1) - 1
    _, groups = np.unique(idx, return_inverse=True)
    return groups


def _bins(prob: np.ndarray, n_bins: int, strategy: str) -> np.ndarray:
    if strategy == "quantile":
        return quantile_groups(prob, n_bins)
    if strategy == "uniform":
        idx = np.searchsorted(np.arange(1, n_bins) / n_bins, prob, side="right")  # [k/n, (k+1)/n)
        _, groups = np.unique(idx, return_inverse=True)
        return groups
    raise ValueError(f"strategy must be 'quantile' or 'uniform', got {strategy!r}")


def calibration_curve(
    y: ArrayLike, prob: ArrayLike, n_bins: int = 10, level: float = 0.95, strategy: str = "quantile"
) -> pd.DataFrame:
    """Binned calibration curve with Wilson intervals for the observed frequency.

    Parameters
    ----------
    y, prob : arrays
        Labels (0/1) and predicted probabilities.
    n_bins : int
        Number of bins asked for; quantile bins that collapse on tied probabilities merge, and empty
        bins are not shown.
    level : float
        Confidence level of the intervals.
    strategy : {"quantile", "uniform"}
        Quantile cut points (as the Hosmer–Lemeshow groups) or equal-width bins on [0, 1].

    Returns
    -------
    DataFrame
        One row per non-empty bin: ``bin``, ``n``, ``events``, ``mean_predicted``, ``observed``
        (events / n), ``low``, ``high`` (Wilson).
    """
    y = check_labels(y, need_both=False)
    prob = check_scores(prob, y.size, "prob", probability=True)
    level = check_level(level)
    groups = _bins(prob, int(n_bins), strategy)
    rows = []
    for g in range(groups.max() + 1):
        sel = groups == g
        n, k = int(sel.sum()), int(y[sel].sum())
        low, high = wilson_interval(k, n, level)
        rows.append((g + 1, n, k, float(prob[sel].mean()), k / n, low, high))
    return pd.DataFrame(rows, columns=["bin", "n", "events", "mean_predicted", "observed", "low", "high"])


def smoothed_calibration(y: ArrayLike, prob: ArrayLike, frac: float = 2 / 3) -> pd.DataFrame:
    """LOWESS-smoothed calibration curve (statsmodels ``lowess`` of ``y`` on ``prob``).

    No robustness iterations (``it=0``), as for a 0/1 outcome the robustifying weights would treat
    the minority class as outliers (the choice of Harrell's ``val.prob``).  The smoothed values are
    clipped to [0, 1].

    Returns
    -------
    DataFrame
        Columns ``prob`` (sorted) and ``observed`` (the smoothed event frequency).
    """
    y = check_labels(y, need_both=False)
    prob = check_scores(prob, y.size, "prob", probability=True)
    if not 0 < frac <= 1:
        raise ValueError(f"frac must lie in (0, 1], got {frac}")
    fit = lowess(y.astype(float), prob, frac=frac, it=0, return_sorted=True)
    return pd.DataFrame({"prob": fit[:, 0], "observed": np.clip(fit[:, 1], 0.0, 1.0)})


def _logit(prob: np.ndarray) -> np.ndarray:
    p = np.clip(prob, EPS, 1 - EPS)
    return np.log(p / (1 - p))


def calibration_intercept_slope(y: ArrayLike, prob: ArrayLike) -> tuple[float, float]:
    """Calibration intercept (calibration-in-the-large) and calibration slope.

    * slope: coefficient of ``logit(p)`` in the logistic regression ``y ~ 1 + logit(p)``;
    * intercept: the intercept of ``y ~ 1`` with ``logit(p)`` as offset (slope fixed at 1).

    Perfect calibration gives (0, 1); a slope below 1 means predictions too extreme (overfitting).
    Probabilities are clipped to [1e-8, 1 - 1e-8] before the logit.  Fitted with statsmodels GLM
    (binomial, logit link).  When ``logit(p)`` separates the classes perfectly the slope is not
    identified: it is returned as NaN with a warning (the intercept is still defined).

    References
    ----------
    Steyerberg, *Clinical Prediction Models* (2019), ch. 15; Cox (1958).
    """
    y = check_labels(y)
    prob = check_scores(prob, y.size, "prob", probability=True)
    lp = _logit(prob)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PerfectSeparationWarning)
        slope_fit = sm.GLM(y, sm.add_constant(lp), family=sm.families.Binomial()).fit()
    slope = float(slope_fit.params[1])
    if any(issubclass(w.category, PerfectSeparationWarning) for w in caught):
        warnings.warn(
            "calibration slope undefined: the predictions separate the classes perfectly; returning NaN",
            UserWarning,
            stacklevel=2,
        )
        slope = float("nan")
    intercept_fit = sm.GLM(y, np.ones((y.size, 1)), family=sm.families.Binomial(), offset=lp).fit()
    return float(intercept_fit.params[0]), slope


def hosmer_lemeshow(y: ArrayLike, prob: ArrayLike, n_groups: int = 10) -> HLResult:
    """Hosmer–Lemeshow test on quantile groups of the predicted probability.

    Groups as R's ``ResourceSelection::hoslem.test`` (see :func:`quantile_groups`).  With
    ``O_g``/``E_g`` the observed/expected events and ``n_g`` the size of group ``g``::

        C = sum_g (O_g - E_g)^2 / E_g + ((n_g - O_g) - (n_g - E_g))^2 / (n_g - E_g)

    referred to chi-squared with ``G - 2`` degrees of freedom, where ``G`` is the number of groups
    actually used: when tied probabilities make quantile cut points coincide, ``G`` drops below
    ``n_groups`` and so do the degrees of freedom (``hoslem.test`` keeps ``g - 2`` in that case).
    Needs ``G >= 3``.

    References
    ----------
    Hosmer & Lemeshow (1980).
    """
    y = check_labels(y, need_both=False)
    prob = check_scores(prob, y.size, "prob", probability=True)
    groups = quantile_groups(prob, int(n_groups))
    used = int(groups.max()) + 1
    if used < 3:
        raise ValueError(
            f"Hosmer-Lemeshow needs at least 3 distinct probability groups; the predictions form {used}"
        )
    n = np.bincount(groups).astype(float)
    observed = np.bincount(groups, weights=y.astype(float))
    expected = np.bincount(groups, weights=prob)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = (observed - expected) ** 2 / expected + (observed - expected) ** 2 / (n - expected)
    statistic = float(np.sum(terms))
    df = used - 2
    return HLResult(statistic, df, float(stats.chi2.sf(statistic, df)), used)


def brier_score(y: ArrayLike, prob: ArrayLike) -> float:
    """Mean squared difference between predicted probability and outcome (0 = perfect)."""
    y = check_labels(y, need_both=False)
    prob = check_scores(prob, y.size, "prob", probability=True)
    return float(np.mean((prob - y) ** 2))


# --- logistic recalibration (updating a model for a new setting) ------------------------------------

#: The two updating methods of Van Calster et al. (2016, 2019) that keep the model's ranking.
RECALIBRATION_METHODS = ("intercept", "logistic")


@dataclass(frozen=True)
class Recalibration:
    """A logistic recalibration of predicted probabilities: ``logit(p') = intercept + slope * logit(p)``.

    ``method="intercept"`` (recalibration-in-the-large) fixes the slope at 1 and re-estimates the
    intercept (the calibration-in-the-large, an offset model); ``method="logistic"`` re-estimates both
    (the calibration intercept and slope of ``y ~ 1 + logit(p)``).  ``*_se`` are the maximum-likelihood
    standard errors (NaN for a fixed slope); ``low``/``high`` the Wald intervals at ``level``.
    """

    method: str
    intercept: float
    slope: float
    intercept_se: float
    slope_se: float
    level: float = 0.95

    def apply(self, prob: ArrayLike) -> np.ndarray:
        """The recalibrated probabilities of ``prob`` (clipped as for the fit)."""
        lp = _logit(np.asarray(prob, dtype=float))
        return 1.0 / (1.0 + np.exp(-(self.intercept + self.slope * lp)))

    def interval(self, name: str) -> tuple[float, float]:
        """Wald interval of ``"intercept"`` or ``"slope"``."""
        z = stats.norm.ppf(0.5 + self.level / 2.0)
        value, se = getattr(self, name), getattr(self, f"{name}_se")
        return float(value - z * se), float(value + z * se)

    def to_dict(self) -> dict:
        """The fit with its intervals, as a plain dict (JSON-able)."""
        out = asdict(self)
        for name in ("intercept", "slope"):
            out[f"{name}_low"], out[f"{name}_high"] = self.interval(name)
        return out


def _newton_logistic(
    y: np.ndarray, X: np.ndarray, offset: np.ndarray, max_iter: int = 100, tol: float = 1e-12
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Maximum likelihood of ``y ~ Bernoulli(expit(offset + X beta))`` by Newton-Raphson (= IRLS).

    Returns ``(beta, covariance, converged)``; the covariance is the inverse Fisher information.
    """
    beta = np.zeros(X.shape[1])
    converged = False
    for _ in range(max_iter):
        eta = offset + X @ beta
        mu = 1.0 / (1.0 + np.exp(-eta))
        w = mu * (1.0 - mu)
        info = X.T @ (X * w[:, None])
        step = np.linalg.solve(info, X.T @ (y - mu))
        beta = beta + step
        if np.max(np.abs(step)) < tol * (1.0 + np.max(np.abs(beta))):
            converged = True
            break
    mu = 1.0 / (1.0 + np.exp(-(offset + X @ beta)))
    info = X.T @ (X * (mu * (1.0 - mu))[:, None])
    return beta, np.linalg.inv(info), converged and bool(np.all(np.abs(beta) < 1e3))


def recalibrate(
    y: ArrayLike, prob: ArrayLike, method: str = "logistic", level: float = 0.95
) -> Recalibration:
    """Fit the recalibration of ``prob`` to the outcomes ``y`` of a new setting (e.g. an external cohort).

    * ``"intercept"`` -- recalibration-in-the-large: ``logit(p') = a + logit(p)``; ``a`` is the
      calibration-in-the-large (the intercept of :func:`calibration_intercept_slope`) and corrects a
      different outcome prevalence;
    * ``"logistic"`` -- logistic recalibration: ``logit(p') = a + b logit(p)``; ``b`` is the calibration
      slope and also corrects predictions that are too extreme (``b < 1``) or too modest (``b > 1``).

    Neither changes the ranking of patients (the AUC).  Fitted by maximum likelihood (Newton-Raphson);
    the tests pin the estimates and standard errors to statsmodels' binomial GLM (with ``offset`` for
    the intercept-only fit).  Probabilities are clipped to [1e-8, 1 - 1e-8] before the logit.  When the
    fit does not converge (the predictions separate the classes) the estimates are NaN, with a warning.

    References
    ----------
    Van Calster et al., J Clin Epidemiol 2016;74:167-176 (the calibration hierarchy); Van Calster et al.,
    BMC Med 2019;17:230; Steyerberg, *Clinical Prediction Models* (2019), ch. 20 (updating methods).
    """
    if method not in RECALIBRATION_METHODS:
        raise ValueError(f"method must be one of {RECALIBRATION_METHODS}, got {method!r}")
    y = check_labels(y)
    prob = check_scores(prob, y.size, "prob", probability=True)
    level = check_level(level)
    lp = _logit(prob)
    X = np.ones((y.size, 1)) if method == "intercept" else np.column_stack([np.ones(y.size), lp])
    offset = lp if method == "intercept" else np.zeros(y.size)
    try:
        with np.errstate(over="ignore"):
            beta, cov, ok = _newton_logistic(y.astype(float), X, offset)
    except np.linalg.LinAlgError:
        ok = False
    if ok and method == "intercept":
        values = (beta[0], 1.0, np.sqrt(cov[0, 0]), float("nan"))
    elif ok:
        values = (beta[0], beta[1], np.sqrt(cov[0, 0]), np.sqrt(cov[1, 1]))
    else:
        warnings.warn(
            f"{method} recalibration did not converge (the predictions separate the classes); returning NaN",
            UserWarning,
            stacklevel=2,
        )
        values = (float("nan"),) * 4
    return Recalibration(method, *(float(v) for v in values), level=level)
