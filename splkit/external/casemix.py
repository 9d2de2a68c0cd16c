"""Case mix: how different is the external cohort from the training cohort?

A *membership model* (Debray et al., J Clin Epidemiol 2015;68:279-289) predicts which cohort a patient
belongs to -- external (1) or training (0) -- from the variables the prediction model sees.  Its
cross-validated AUC summarises the difference in case mix: near 0.5 the external patients could have
come from the training centre (validation then tests *reproducibility*); near 1 they are clearly
different (it tests *transportability*).  The model is an L2-penalised logistic regression on
standardised variables, missing values imputed by the median (all fitted within each fold); the AUC is
that of the out-of-fold probabilities, with a DeLong interval.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from splkit import stats


@dataclass
class MembershipResult:
    """The membership model's cross-validated AUC (external vs training) and its full-data coefficients."""

    auc: float
    low: float
    high: float
    n_development: int
    n_external: int
    folds: int
    level: float
    coefficients: pd.Series = field(repr=False)

    def to_dict(self) -> dict:
        """The numbers for ``results.json`` (the five largest standardised coefficients by size)."""
        top = self.coefficients.abs().sort_values(ascending=False).head(5).index
        return {
            "auc": self.auc,
            "auc_low": self.low,
            "auc_high": self.high,
            "n_development": self.n_development,
            "n_external": self.n_external,
            "folds": self.folds,
            "level": self.level,
            "n_variables": int(self.coefficients.size),
            "largest_coefficients": {str(k): float(self.coefficients[k]) for k in top},
        }


def design(frame: pd.DataFrame, types: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Numeric design columns: numeric variables as floats, others one indicator per level (missing kept)."""
    types = dict(types or {})
    out = {}
    for column in frame.columns:
        values = frame[column]
        numeric = types.get(column, "numeric" if pd.api.types.is_numeric_dtype(values) else "categorical")
        if numeric == "numeric":
            out[column] = pd.to_numeric(values, errors="coerce").astype(float)
            continue
        text = values.map(lambda v: v if pd.isna(v) else str(v))
        levels = sorted(text.dropna().unique())
        for level in levels[1:]:  # the first level is the reference
            out[f"{column}={level}"] = text.map(lambda v, lv=level: np.nan if pd.isna(v) else float(v == lv))
    return pd.DataFrame(out, index=frame.index)


def membership_model(
    development: pd.DataFrame,
    external: pd.DataFrame,
    types: Mapping[str, str] | None = None,
    folds: int = 5,
    level: float = 0.95,
    random_state: int = 0,
) -> MembershipResult:
    """Cross-validated AUC of a logistic model telling ``external`` rows from ``development`` rows.

    Parameters
    ----------
    development, external
        One row per patient; the columns both share are used (a column only one cohort has would make
        membership trivial).  Columns of ``types`` (variable -> ``numeric``/``binary``/...) other than
        ``numeric`` are one-hot encoded; without a type, a numeric dtype is numeric.
    folds
        Stratified cross-validation folds (shuffled with ``random_state``).
    """
    shared = [c for c in development.columns if c in external.columns]
    if not shared:
        raise ValueError("the development and external tables share no column")
    both = pd.concat([development[shared], external[shared]], axis=0, ignore_index=True)
    X = design(both, types)
    X = X.loc[:, X.notna().any() & (X.nunique() > 1)]
    if X.shape[1] == 0:
        raise ValueError("no variable varies across the two cohorts")
    y = np.r_[np.zeros(len(development), int), np.ones(len(external), int)]
    if min(len(development), len(external)) < folds:
        raise ValueError(f"each cohort needs at least {folds} patients for {folds}-fold cross-validation")
    model = make_pipeline(
        SimpleImputer(strategy="median", keep_empty_features=True),
        StandardScaler(),
        LogisticRegression(C=1.0, max_iter=5000),
    )
    cv = StratifiedKFold(folds, shuffle=True, random_state=random_state)
    oof = cross_val_predict(model, X, y, cv=cv, method="predict_proba")[:, 1]
    auc = stats.delong_auc(y, oof, level=level)
    model.fit(X, y)
    coefficients = pd.Series(model[-1].coef_[0], index=X.columns, name="coefficient")
    return MembershipResult(
        auc.auc, auc.low, auc.high, len(development), len(external), folds, level, coefficients
    )
