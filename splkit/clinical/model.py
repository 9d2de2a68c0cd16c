"""The clinical model: logistic regression, its odds-ratio tables and profile-likelihood intervals.

The clinical model is the classic two-step logistic regression of diagnostic radiology papers
(e.g. Wei et al., Front. Oncol. 2026): every clinical variable is tested alone (univariate logistic
regression) on the training cohort; those with p below ``clinical.univariate_p`` enter one
multivariable logistic regression, and those with p below ``clinical.multivariable_p`` there become the
clinical predictors.  The final model is refitted on the predictors alone.  This module holds the
estimators and the tables; :mod:`splkit.clinical.encoding` the imputation and encoding,
:mod:`splkit.clinical.selection` the selection rule.

Everything is fitted on the training cohort only.  Missing values follow the project rule
(``data/README.md``): inside the fitted pipeline, numeric / ordinal variables are imputed with the
training median and binary / categorical ones with the training mode; a variable with more than
``max_missing`` (30 %) missing values in training is excluded.  Univariate fits use the available cases
of each variable (no imputation is needed for one variable at a time).

Odds ratios come from :class:`statsmodels.discrete.discrete_model.Logit` (maximum likelihood);
p-values are Wald z tests (as R's ``summary.glm``); confidence intervals are Wald or profile
likelihood (Venzon & Moolgavkar, Appl. Stat. 1988), the latter found by root-finding on the profile
deviance, which is what R's ``confint`` approximates by spline interpolation.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import optimize, special, stats
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_array, check_is_fitted
from statsmodels.stats.outliers_influence import variance_inflation_factor

from splkit.clinical.encoding import ClinicalEncoder, as_frame
from splkit.stats._checks import binary_target

MAX_MISSING = 0.30


class LogitClassifier(ClassifierMixin, BaseEstimator):
    """Unpenalised maximum-likelihood logistic regression (statsmodels ``Logit``) as a scikit-learn
    classifier, so the fitted pipeline and the published odds-ratio table are the same model.

    Binary: of the two labels of ``y`` the greater (``classes_[1]``, 1 for 0/1 outcomes) is the event.
    ``X`` is the numeric design (finite); a DataFrame's columns are found by name at predict time.
    """

    def __init__(self, maxiter: int = 200):
        self.maxiter = maxiter

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags

    def _design(self, X) -> pd.DataFrame:
        """``X`` as a finite numeric DataFrame with the fitted columns (checked as ``check_array``)."""
        X = as_frame(X, fitted=self)
        if hasattr(self, "feature_names_in_"):
            missing = [c for c in self.feature_names_in_ if c not in X.columns]
            if missing:
                raise ValueError(f"LogitClassifier: X lacks the fitted terms {missing[:5]}")
            X = X[list(self.feature_names_in_)]
        check_array(X, dtype="numeric", estimator=self)
        return X

    def fit(self, X: pd.DataFrame, y) -> LogitClassifier:
        X = as_frame(X, fitted=self, reset=True)
        check_array(X, dtype="numeric", estimator=self)
        y, self.classes_ = binary_target(y, len(X), "LogitClassifier")
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)  # the terms, also for arrays
        self.result_ = fit_logit(X, y, maxiter=self.maxiter)
        params = self.result_.params
        self.intercept_ = np.array([params["const"]])
        self.coef_ = params.drop("const").to_numpy()[None, :]
        return self

    def decision_function(self, X) -> np.ndarray:
        check_is_fitted(self, "coef_")
        return self.intercept_[0] + self._design(X).to_numpy(float) @ self.coef_[0]

    def predict_proba(self, X) -> np.ndarray:
        p = special.expit(self.decision_function(X))
        return np.column_stack([1 - p, p])

    def predict(self, X) -> np.ndarray:
        positive = self.predict_proba(X)[:, 1] >= 0.5
        return self.classes_[positive.astype(int)]


def make_clinical_pipeline(
    types: dict[str, str] | None = None, levels: dict[str, list] | None = None
) -> Pipeline:
    """Imputation + encoding + logistic regression, the whole clinical model as one estimator."""
    return Pipeline([("encode", ClinicalEncoder(types, levels)), ("logit", LogitClassifier())])


def fit_logit(X: pd.DataFrame, y, maxiter: int = 200):
    """Fit ``y ~ 1 + X`` by maximum likelihood; warn when it did not converge (e.g. separation)."""
    design = sm.add_constant(as_frame(X).astype(float), has_constant="add")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = sm.Logit(np.asarray(y, dtype=float), design).fit(disp=0, method="newton", maxiter=maxiter)
    if not result.mle_retvals.get("converged", True):
        warnings.warn(
            f"logistic regression on {list(X.columns)} did not converge (separation?)", stacklevel=2
        )
    return result


def _offset_logit_loglik(X: np.ndarray, y: np.ndarray, offset: np.ndarray, start: np.ndarray):
    """Maximise the logistic log-likelihood of ``y ~ X`` with a fixed ``offset`` (damped Newton).

    The log-likelihood is concave, so Newton steps with step halving converge from any start; a tiny
    ridge keeps the Hessian invertible when fitted probabilities approach 0 or 1.
    """

    def loglik(theta: np.ndarray) -> float:
        eta = offset + X @ theta
        return float(np.sum(y * eta - np.logaddexp(0.0, eta)))

    theta, ll = start.astype(float).copy(), loglik(start)
    for _ in range(200):
        if X.shape[1] == 0:
            break
        p = special.expit(offset + X @ theta)
        hessian = X.T @ (X * (p * (1 - p))[:, None])
        hessian += 1e-12 * (np.trace(hessian) + 1.0) * np.eye(X.shape[1])
        step = np.linalg.solve(hessian, X.T @ (y - p))
        t = 1.0
        while t > 1e-10 and loglik(theta + t * step) < ll - 1e-14 * (1 + abs(ll)):
            t /= 2
        theta = theta + t * step
        new_ll = loglik(theta)
        done = abs(new_ll - ll) <= 1e-15 * (1 + abs(ll)) and np.max(np.abs(t * step)) < 1e-12
        ll = new_ll
        if done:
            break
    return ll, theta


def profile_interval(result, term: str, level: float = 0.95) -> tuple[float, float]:
    """Profile-likelihood confidence interval of one coefficient of a fitted ``Logit`` result.

    The bounds are the two roots of ``2 (l(beta_hat) - l_p(b)) = chi2_1(level)``, where the profile
    log-likelihood ``l_p(b)`` refits all other coefficients with ``b * x_term`` as an offset
    (Venzon & Moolgavkar 1988), found with Brent's method to 1e-10.  R's ``confint`` approximates the
    same roots by spline interpolation of a coarse profile.  A bound that the deviance never reaches
    (separation) is infinite.
    """
    X = np.asarray(result.model.exog, dtype=float)
    y = np.asarray(result.model.endog, dtype=float)
    j = list(result.model.exog_names).index(term)
    others, x_j = np.delete(X, j, axis=1), X[:, j]
    target = stats.chi2.ppf(level, 1)
    beta, se = float(result.params.iloc[j]), float(result.bse.iloc[j])
    theta_hat = np.delete(np.asarray(result.params, dtype=float), j)
    warm = {}

    def excess(b: float) -> float:
        nearest = min(warm, key=lambda v: abs(v - b)) if warm else None
        start = warm[nearest] if nearest is not None else theta_hat
        ll, theta = _offset_logit_loglik(others, y, b * x_j, start)
        warm[b] = theta
        return 2.0 * (result.llf - ll) - target

    bounds = []
    for sign in (-1.0, 1.0):
        warm.clear()
        step = se if np.isfinite(se) and se > 0 else 1.0
        inner = beta
        for _ in range(12):
            outer = beta + sign * step
            if excess(outer) > 0:
                bounds.append(optimize.brentq(excess, min(inner, outer), max(inner, outer), xtol=1e-11))
                break
            inner, step = outer, step * 2
        else:
            bounds.append(sign * np.inf)
    return bounds[0], bounds[1]


def odds_ratio_table(result, interval: str = "profile", level: float = 0.95) -> pd.DataFrame:
    """Coefficient, SE, odds ratio with its CI and Wald p for each term (intercept excluded)."""
    if interval not in ("profile", "wald"):
        raise ValueError(f"clinical.interval must be 'profile' or 'wald', got {interval!r}")
    terms = [name for name in result.model.exog_names if name != "const"]
    wald = result.conf_int(alpha=1 - level)
    rows = []
    for term in terms:
        low, high = profile_interval(result, term, level) if interval == "profile" else wald.loc[term]
        with np.errstate(over="ignore"):  # a bound of a separated fit is infinite: exp() -> inf
            low, high = np.exp(np.asarray([low, high], dtype=float))
        rows.append(
            {
                "term": term,
                "coef": result.params[term],
                "se": result.bse[term],
                "or": np.exp(result.params[term]),
                "low": low,
                "high": high,
                "p": result.pvalues[term],
            }
        )
    return pd.DataFrame(rows).set_index("term")


def missing_share(X: pd.DataFrame) -> pd.Series:
    """Fraction of missing values per column."""
    return X.isna().mean()


def univariate_table(
    X: pd.DataFrame,
    y,
    types: dict[str, str] | None = None,
    interval: str = "profile",
    level: float = 0.95,
    max_missing: float = MAX_MISSING,
    levels: dict[str, list] | None = None,
) -> pd.DataFrame:
    """Univariate logistic regression of ``y`` on each column of ``X`` (available cases).

    Returns one row per term with ``variable, n, n_missing, or, low, high, p`` and ``p_variable``: the
    Wald p for one-term variables, the likelihood-ratio test p for multi-level categoricals.  Variables
    with more than ``max_missing`` missing are listed with ``note`` and no estimate.
    """
    y = pd.Series(np.asarray(y).astype(int), index=X.index)
    rows = []
    for column in X.columns:
        present = X[column].notna()
        share = 1 - present.mean()
        base = {"variable": column, "n": int(present.sum()), "n_missing": int((~present).sum())}
        if share > max_missing:
            rows.append(
                {**base, "term": column, "note": f"excluded: {share:.0%} missing (> {max_missing:.0%})"}
            )
            continue
        try:
            encoder = ClinicalEncoder(types, levels)
            design = encoder.fit_transform(X.loc[present, [column]])
        except ValueError as err:
            rows.append({**base, "term": column, "note": f"not estimable: {err}"})
            continue
        result = fit_logit(design, y[present])
        table = odds_ratio_table(result, interval, level)
        p_var = table["p"].iloc[0] if len(table) == 1 else result.llr_pvalue
        for term, row in table.iterrows():
            rows.append({**base, "term": term, **row.to_dict(), "p_variable": p_var, "note": ""})
    out = pd.DataFrame(rows)
    columns = [
        "variable",
        "term",
        "n",
        "n_missing",
        "coef",
        "se",
        "or",
        "low",
        "high",
        "p",
        "p_variable",
        "note",
    ]
    return out.reindex(columns=columns).set_index("term")


def multivariable_table(
    X: pd.DataFrame,
    y,
    types: dict[str, str] | None = None,
    interval: str = "profile",
    level: float = 0.95,
    levels: dict[str, list] | None = None,
) -> tuple[pd.DataFrame, Pipeline]:
    """One logistic regression on all columns of ``X`` (imputed by the pipeline rule) with VIFs.

    Returns the table (``variable, or, low, high, p, p_variable, vif``; ``p_variable`` is the
    likelihood-ratio test of dropping the variable for multi-level categoricals, else the Wald p) and
    the fitted pipeline.
    """
    pipeline = make_clinical_pipeline(types, levels).fit(X, y)
    encoder, result = pipeline["encode"], pipeline["logit"].result_
    table = odds_ratio_table(result, interval, level)
    table.insert(0, "variable", [encoder.term_source_[t] for t in table.index])
    design = result.model.exog
    table["vif"] = (
        [variance_inflation_factor(design, i) for i in range(1, design.shape[1])] if len(table) > 1 else 1.0
    )
    table["p_variable"] = table["p"]
    for variable, terms in table.groupby("variable").groups.items():
        if len(terms) > 1:
            keep = [c for c in encoder.transform(X).columns if encoder.term_source_[c] != variable]
            # the variable alone: the reduced model is the intercept-only one
            reduced_llf = fit_logit(encoder.transform(X)[keep], y).llf if keep else result.llnull
            table.loc[list(terms), "p_variable"] = stats.chi2.sf(2 * (result.llf - reduced_llf), len(terms))
    return table, pipeline
