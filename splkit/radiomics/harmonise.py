"""Multi-centre harmonisation of radiomics features: ComBat fitted on the training patients only.

:class:`ComBat` is the location/scale batch adjustment of Johnson, Li & Rabinovic (Adjusting batch
effects in microarray expression data using empirical Bayes methods. Biostatistics 2007;8:118-127),
parametric empirical Bayes, as Fortin et al. applied it to imaging features (Harmonization of cortical
thickness measurements across scanners and sites. NeuroImage 2018;167:104-120; reference code
``neuroCombat``).  Each feature ``g`` of patient ``j`` at centre ``i`` is modelled as
``x_ijg = alpha_g + gamma_ig + sqrt(delta_ig) * eps_ijg``; ``fit`` estimates the grand mean
``alpha_g`` (sample-weighted mean of the centre means), the pooled within-centre variance, and the
centre effects ``gamma*_ig`` and ``delta*_ig`` shrunk towards a normal / inverse-gamma prior whose
hyper-parameters are estimated across the features of each centre (sva's ``it.sol``); ``transform``
removes them: ``(z - gamma*_i) / sqrt(delta*_i) * sqrt(var_pooled) + alpha`` with
``z = (x - alpha) / sqrt(var_pooled)``.

Choices made here (and why):

- **No covariates.**  The label cannot be a protected covariate (new patients have none) and the
  clinical variables are modelled separately; a centre whose prevalence differs from the others
  therefore has part of its disease signal removed with its centre effect (Fortin 2018, section 2.4).
- **Fitted on the training patients only**, then applied unchanged to validation, external and new
  patients (``neuroCombatFromTraining``).  Pooling every patient before the split -- as WORC does --
  lets the validation patients shape the adjustment of the training features (a leak).
- **A centre without training patients is an error naming it**: its effects were never estimated, and
  passing its features through unharmonised would silently mix two feature scales in one model.
- A feature constant in training (zero pooled variance) passes through unchanged; with fewer than two
  (non-constant) features there is no prior to estimate and the centre effects are not shrunk.
- The iteration and its convergence rule (relative change < ``tol`` = 1e-4) are those of sva and
  neuroCombat, so that the numbers reproduce theirs (pinned in ``tests/radiomics/test_harmonise.py``).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

#: The settings of ``radiomics.harmonise``.
METHODS = ("none", "combat")
#: The run's fitted ComBat (``RunDir.model``: ``models/radiomics_combat.joblib``), written by chapter 3.
COMBAT_MODEL = "radiomics_combat"


def centre_labels(batch: Any, n: int) -> np.ndarray:
    """Centre names as stripped text, checked: one per row, none missing."""
    if batch is None:
        raise ValueError("ComBat needs the centre of every patient (batch=None)")
    values = pd.Series(np.asarray(batch, dtype=object).ravel())
    if len(values) != n:
        raise ValueError(f"batch has {len(values)} centres for {n} rows")
    missing = values.isna() | (values.astype(str).str.strip() == "")
    if missing.any():
        raise ValueError(
            f"{int(missing.sum())} rows have no centre; ComBat needs the centre of every patient"
        )
    return values.astype(str).str.strip().to_numpy()


def _priors(delta_hat: np.ndarray) -> tuple[float, float]:
    """Inverse-gamma hyper-parameters (a, b) by the method of moments (Johnson 2007, sva's aprior/bprior)."""
    m, s2 = float(np.mean(delta_hat)), float(np.var(delta_hat, ddof=1))
    if not s2 > 0:  # identical variances: the limit a, b -> inf, delta* -> m
        return np.inf, np.inf
    return (2 * s2 + m**2) / s2, (m * s2 + m**3) / s2


def _shrink(z: np.ndarray, tol: float, max_iter: int, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Parametric EB posterior of one centre's (gamma, delta) per feature; ``z``: its standardised rows."""
    n = z.shape[0]
    g_hat, d_hat = z.mean(axis=0), z.var(axis=0, ddof=1)
    d_hat = np.where(d_hat == 0, 1.0, d_hat)  # as neuroCombat's convert_zeroes
    if z.shape[1] < 2:
        return g_hat, d_hat
    g_bar, t2 = g_hat.mean(), g_hat.var(ddof=1)
    a, b = _priors(d_hat)
    if not np.isfinite(a):
        return (t2 * n * g_hat + d_hat * g_bar) / (t2 * n + d_hat), np.full_like(d_hat, d_hat.mean())
    g_old, d_old = g_hat, d_hat
    with np.errstate(divide="ignore", invalid="ignore"):
        for _ in range(max_iter):
            g_new = (t2 * n * g_hat + d_old * g_bar) / (t2 * n + d_old)
            d_new = (0.5 * ((z - g_new) ** 2).sum(axis=0) + b) / (n / 2.0 + a - 1.0)
            # sva's rule, signed denominators included, so that the numbers reproduce sva / neuroCombat
            change = max(np.max(np.abs(g_new - g_old) / g_old), np.max(np.abs(d_new - d_old) / d_old))
            g_old, d_old = g_new, d_new
            if change <= tol:
                return g_new, d_new
    warnings.warn(f"ComBat: the empirical Bayes fit of centre {name!r} did not converge", stacklevel=3)
    return g_new, d_new


class ComBat(TransformerMixin, BaseEstimator):
    """ComBat harmonisation (parametric empirical Bayes, no covariates), fitted on one cohort, applied to any.

    Parameters
    ----------
    tol
        Convergence threshold of the empirical Bayes iteration (relative change; sva's 1e-4).
    max_iter
        Iteration limit (sva has none; a warning names the centre when it is reached).

    Attributes
    ----------
    centres_ : ndarray of str
        The training centres (sorted); ``n_per_centre_`` their training patients.
    grand_mean_, var_pooled_ : ndarray of shape (n_features,)
        Sample-weighted grand mean and pooled within-centre variance (``alpha`` and ``sigma^2``).
    gamma_star_, delta_star_ : ndarray of shape (n_centres, n_features)
        The shrunk additive and multiplicative centre effects (standardised scale).
    gamma_hat_, delta_hat_ : ndarray of shape (n_centres, n_features)
        The unshrunk (least-squares) estimates, for reporting.

    Examples
    --------
    >>> combat = ComBat().fit(train_features, train_centres)      # doctest: +SKIP
    >>> combat.transform(validation_features, validation_centres)  # doctest: +SKIP
    """

    def __init__(self, tol: float = 1e-4, max_iter: int = 1000):
        self.tol = tol
        self.max_iter = max_iter

    def fit(self, X: Any, batch: Any) -> ComBat:
        """Estimate the centre effects on ``X`` (the training patients) with their centres ``batch``.

        Raises
        ------
        ValueError
            Fewer than two centres, a centre with fewer than two patients (named), a missing centre,
            or a missing / infinite feature value.
        """
        X = validate_data(self, X, dtype=np.float64, ensure_min_samples=4)
        batch = centre_labels(batch, X.shape[0])
        self.centres_, counts = np.unique(batch, return_counts=True)
        if len(self.centres_) < 2:
            raise ValueError(
                f"ComBat needs at least two training centres; all training patients are from {self.centres_[0]!r}"
            )
        small = [f"{c!r} ({k})" for c, k in zip(self.centres_, counts, strict=True) if k < 2]
        if small:
            raise ValueError(f"ComBat needs at least two training patients per centre: {', '.join(small)}")
        self.n_per_centre_ = dict(zip(self.centres_.tolist(), counts.tolist(), strict=True))
        means = np.vstack([X[batch == c].mean(axis=0) for c in self.centres_])
        self.grand_mean_ = counts @ means / X.shape[0]
        residual = X - means[np.searchsorted(self.centres_, batch)]
        self.var_pooled_ = (residual**2).mean(axis=0)
        self.constant_ = self.var_pooled_ == 0
        keep = ~self.constant_
        z = (X[:, keep] - self.grand_mean_[keep]) / np.sqrt(self.var_pooled_[keep])
        shape = (len(self.centres_), X.shape[1])
        self.gamma_hat_, self.delta_hat_ = np.zeros(shape), np.ones(shape)
        self.gamma_star_, self.delta_star_ = np.zeros(shape), np.ones(shape)
        for i, centre in enumerate(self.centres_):
            rows = z[batch == centre]
            self.gamma_hat_[i, keep], self.delta_hat_[i, keep] = rows.mean(axis=0), rows.var(axis=0, ddof=1)
            self.gamma_star_[i, keep], self.delta_star_[i, keep] = _shrink(
                rows, self.tol, self.max_iter, str(centre)
            )
        return self

    def transform(self, X: Any, batch: Any) -> Any:
        """Remove the training-estimated centre effects (a DataFrame keeps its index and columns).

        Raises
        ------
        ValueError
            A centre without training patients (named, with the training centres), or a missing centre.
        """
        check_is_fitted(self, "gamma_star_")
        frame = X if isinstance(X, pd.DataFrame) else None
        values = validate_data(self, X, dtype=np.float64, reset=False)
        batch = centre_labels(batch, values.shape[0])
        unseen = sorted(set(batch) - set(self.centres_))
        if unseen:
            raise ValueError(
                f"centre(s) {', '.join(map(repr, unseen))} had no training patients: ComBat estimated on the "
                f"training cohort cannot harmonise them (training centres: {', '.join(map(repr, self.centres_))})"
            )
        row = np.searchsorted(self.centres_, batch)
        scale = np.sqrt(np.where(self.constant_, 1.0, self.var_pooled_))
        z = (values - self.grand_mean_) / scale
        out = (z - self.gamma_star_[row]) / np.sqrt(self.delta_star_[row]) * scale + self.grand_mean_
        out[:, self.constant_] = values[:, self.constant_]
        if frame is not None:
            return pd.DataFrame(out, index=frame.index, columns=frame.columns)
        return out

    def fit_transform(self, X: Any, batch: Any = None, **fit_params: Any) -> Any:
        """``fit(X, batch).transform(X, batch)``."""
        return self.fit(X, batch).transform(X, batch)

    def describe(self) -> dict[str, Any]:
        """For ``results.json`` and the manifest: method, training patients per centre, features."""
        check_is_fitted(self, "gamma_star_")
        return {
            "method": "ComBat (parametric empirical Bayes, no covariates), fitted on the training cohort",
            "centres": dict(self.n_per_centre_),
            "n_features": int(self.n_features_in_),
        }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True  # ``batch`` is fit's second argument
        return tags


def harmonise_method(settings: Any) -> str:
    """``radiomics.harmonise`` of a profile (``none`` when absent), checked."""
    method = str((settings["radiomics"].get("harmonise") if settings.get("radiomics") else None) or "none")
    if method not in METHODS:
        raise ValueError(f"radiomics.harmonise must be one of {', '.join(METHODS)}, got {method!r}")
    return method


def centres_of(table: pd.DataFrame, patients: Any) -> pd.Series:
    """The ``centre`` of ``patients`` from a cohort table; an error when clinical.csv had no centre column."""
    if "centre" not in table.columns:
        raise ValueError(
            "radiomics.harmonise is 'combat' but the cohort has no centre column: add 'centre' to "
            "clinical.csv (data/README.md) or set radiomics.harmonise: none"
        )
    return table["centre"].reindex(pd.Index(patients))


def fit_on_training(features: pd.DataFrame, table: pd.DataFrame) -> tuple[ComBat, pd.DataFrame]:
    """ComBat estimated on the training patients of ``features`` only, applied to every row.

    Parameters
    ----------
    features
        Index ``patient`` (every cohort), the candidate feature columns.
    table
        The cohort table (``cohort`` and ``centre`` columns, index ``patient``).

    Returns
    -------
    The fitted :class:`ComBat` and the harmonised ``features`` (same index and columns).
    """
    centres = centres_of(table, features.index)
    train = features.index.intersection(table.index[table["cohort"] == "train"])
    combat = ComBat().fit(features.loc[train], centres.loc[train])
    return combat, combat.transform(features, centres)
