"""The clinical model: encoding, logistic regression tables and predictor selection.

The clinical model is the classic two-step logistic regression of diagnostic radiology papers
(e.g. Wei et al., Front. Oncol. 2026): every clinical variable is tested alone (univariate logistic
regression) on the training cohort; those with p below ``clinical.univariate_p`` enter one
multivariable logistic regression, and those with p below ``clinical.multivariable_p`` there become the
clinical predictors.  The final model is refitted on the predictors alone.  This module holds the
estimators and the tables; :mod:`splkit.clinical.selection` the selection rule.

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
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.pipeline import Pipeline
from statsmodels.stats.outliers_influence import variance_inflation_factor

NUMERIC_TYPES = ("numeric", "ordinal")
LEVEL_TYPES = ("binary", "categorical")
MAX_MISSING = 0.30


def infer_type(values: pd.Series) -> str:
    """``numeric`` for numbers (``binary`` when they are 0/1 only), else ``binary`` or ``categorical``."""
    present = values.dropna()
    if pd.api.types.is_numeric_dtype(values):
        return "binary" if set(np.unique(present)) <= {0, 1} else "numeric"
    return "binary" if present.nunique() <= 2 else "categorical"


class ClinicalEncoder(TransformerMixin, BaseEstimator):
    """Impute and encode clinical variables into a numeric design matrix (fitted on training only).

    Numeric columns are imputed with the training median.  Ordinal columns are used as numbers when
    their values are numbers, else as the rank (0, 1, ...) of their level in ``levels``, then imputed
    with the training median.  Binary and categorical columns are imputed with the training mode and
    dummy-coded against their first level (the order of ``levels``, i.e. ``allowed`` in the data
    dictionary, else sorted; declared levels absent from training get no term and are coded like the
    reference, with a warning): ``sex`` with levels
    female/male becomes the term ``sex[male]``; a 0/1 column stays one term with the column's name.

    Parameters
    ----------
    types
        ``{column: numeric|ordinal|binary|categorical}``; columns not named are inferred.
    levels
        ``{column: [level, ...]}`` in order (first = reference, for binary the second is coded 1).
    """

    def __init__(self, types: dict[str, str] | None = None, levels: dict[str, list] | None = None):
        self.types = types
        self.levels = levels

    def fit(self, X: pd.DataFrame, y=None) -> ClinicalEncoder:
        X = _as_frame(X)
        given, declared = dict(self.types or {}), dict(self.levels or {})
        self.features_ = list(X.columns)
        self.types_, self.fill_, self.levels_, self.ranks_, self.declared_ = {}, {}, {}, {}, {}
        self.terms_, self.term_source_ = [], {}
        for column in self.features_:
            kind = given.get(column) or infer_type(X[column])
            if kind not in NUMERIC_TYPES + LEVEL_TYPES:
                raise ValueError(f"clinical variable {column!r} has unknown type {kind!r}")
            order = [str(v) for v in declared.get(column) or []]
            if kind == "ordinal" and not _is_numeric(X[column]):
                if not order:
                    raise ValueError(f"ordinal variable {column!r} has text values but no ordered levels")
                self.ranks_[column] = {level: float(rank) for rank, level in enumerate(order)}
            if kind in NUMERIC_TYPES:
                numbers = self._numbers(X[column], column)
                if numbers.notna().sum() == 0:
                    raise ValueError(f"clinical variable {column!r} has no values in the training data")
                self.fill_[column] = float(numbers.median())
                terms = [column]
            else:
                present = _level_text(X[column]).dropna()
                seen = set(present)
                unknown = sorted(seen - set(order)) if order else []
                if unknown:
                    raise ValueError(
                        f"clinical variable {column!r} has values {unknown} outside its levels {order}"
                    )
                levels = [level for level in order if level in seen] if order else sorted(seen)
                if len(levels) < 2:
                    raise ValueError(
                        f"clinical variable {column!r} has fewer than two levels in training: {levels}"
                    )
                self.fill_[column] = present.value_counts().reindex(levels).idxmax()
                self.levels_[column] = levels
                self.declared_[column] = order
                zero_one = kind == "binary" and levels == ["0", "1"]
                terms = [column] if zero_one else [f"{column}[{level}]" for level in levels[1:]]
            self.types_[column] = kind
            self.terms_ += terms
            self.term_source_.update({term: column for term in terms})
        return self

    def _numbers(self, values: pd.Series, column: str) -> pd.Series:
        if column in getattr(self, "ranks_", {}):
            text = _level_text(values)
            numbers = text.map(self.ranks_[column])
            bad = text.notna() & numbers.isna()
            if bad.any():
                raise ValueError(
                    f"ordinal variable {column!r} has values {sorted(set(text[bad]))} outside its levels"
                )
            return numbers.astype(float)
        return _numeric(values, column)

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        X = _as_frame(X)
        absent = [c for c in self.features_ if c not in X.columns]
        if absent:
            raise ValueError(f"clinical data lack the columns {absent} the encoder was fitted on")
        out = {}
        for column in self.features_:
            if self.types_[column] in NUMERIC_TYPES:
                out[column] = self._numbers(X[column], column).fillna(self.fill_[column]).astype(float)
                continue
            values = _level_text(X[column]).fillna(self.fill_[column])
            levels = self.levels_[column]
            unseen = set(values) - set(levels)
            unknown = sorted(unseen - set(self.declared_.get(column, [])))
            if unknown:
                rows = X.index[values.isin(unknown)].tolist()[:5]
                raise ValueError(
                    f"clinical variable {column!r} has levels {unknown} not seen in training (rows {rows})"
                )
            if unseen:  # declared levels absent from training: no coefficient, coded as the reference
                warnings.warn(
                    f"clinical variable {column!r}: levels {sorted(unseen)} were absent from training and are "
                    f"coded as the reference level {levels[0]!r}",
                    stacklevel=2,
                )
            if levels == ["0", "1"] and self.types_[column] == "binary":
                out[column] = (values == "1").astype(float)
            else:
                for level in levels[1:]:
                    out[f"{column}[{level}]"] = (values == level).astype(float)
        return pd.DataFrame(out, index=X.index)[self.terms_]

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.asarray(self.terms_, dtype=object)


class LogitClassifier(ClassifierMixin, BaseEstimator):
    """Unpenalised maximum-likelihood logistic regression (statsmodels ``Logit``) as a scikit-learn
    classifier, so the fitted pipeline and the published odds-ratio table are the same model."""

    def __init__(self, maxiter: int = 200):
        self.maxiter = maxiter

    def fit(self, X: pd.DataFrame, y) -> LogitClassifier:
        X = _as_frame(X)
        y = np.asarray(y).astype(int)
        self.classes_ = np.array([0, 1])
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.result_ = fit_logit(X, y, maxiter=self.maxiter)
        params = self.result_.params
        self.intercept_ = np.array([params["const"]])
        self.coef_ = params.drop("const").to_numpy()[None, :]
        return self

    def decision_function(self, X) -> np.ndarray:
        X = _as_frame(X)
        return self.intercept_[0] + X[list(self.feature_names_in_)].to_numpy(float) @ self.coef_[0]

    def predict_proba(self, X) -> np.ndarray:
        p = special.expit(self.decision_function(X))
        return np.column_stack([1 - p, p])

    def predict(self, X) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


def make_clinical_pipeline(
    types: dict[str, str] | None = None, levels: dict[str, list] | None = None
) -> Pipeline:
    """Imputation + encoding + logistic regression, the whole clinical model as one estimator."""
    return Pipeline([("encode", ClinicalEncoder(types, levels)), ("logit", LogitClassifier())])


def fit_logit(X: pd.DataFrame, y, maxiter: int = 200):
    """Fit ``y ~ 1 + X`` by maximum likelihood; warn when it did not converge (e.g. separation)."""
    design = sm.add_constant(_as_frame(X).astype(float), has_constant="add")
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
            reduced = fit_logit(encoder.transform(X)[keep], y)
            table.loc[list(terms), "p_variable"] = stats.chi2.sf(2 * (result.llf - reduced.llf), len(terms))
    return table, pipeline


def _as_frame(X) -> pd.DataFrame:
    return X if isinstance(X, pd.DataFrame) else pd.DataFrame(X)


def _is_numeric(values: pd.Series) -> bool:
    present = values.dropna()
    return bool(pd.to_numeric(present, errors="coerce").notna().all())


def _level_text(values: pd.Series) -> pd.Series:
    """Values as level text: 1.0 and "1.0" -> "1", "male" -> "male", missing stays missing."""

    def text(v):
        if pd.isna(v):
            return np.nan
        if isinstance(v, str):
            try:
                number = float(v)
            except ValueError:
                return v.strip()
            return str(int(number)) if number.is_integer() else v.strip()
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            return str(int(v))
        return str(v)

    return values.map(text).astype(object)


def _numeric(values: pd.Series, column: str) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce")
    bad = values.notna() & numbers.isna()
    if bad.any():
        examples = values[bad].unique().tolist()[:3]
        raise ValueError(f"numeric clinical variable {column!r} has non-numeric values {examples}")
    return numbers
