"""Imputation and encoding of the clinical variables into a numeric design matrix.

:class:`ClinicalEncoder` applies the project's missing-value rule (``data/README.md``) inside every
fitted clinical pipeline: numeric and ordinal variables are imputed with the training median, binary
and categorical ones with the training mode, and level-typed variables are dummy-coded against their
first (reference) level.  It is fitted on the training cohort only.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted

NUMERIC_TYPES = ("numeric", "ordinal")
LEVEL_TYPES = ("binary", "categorical")


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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # missing values are imputed
        tags.input_tags.string = True  # levels may be text
        tags.input_tags.categorical = True
        return tags

    def fit(self, X: pd.DataFrame, y=None) -> ClinicalEncoder:
        X = as_frame(X, fitted=self, reset=True)
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
                present = level_text(X[column]).dropna()
                seen = set(present)
                unknown = sorted(seen - set(order)) if order else []
                if unknown:
                    raise ValueError(
                        f"clinical variable {column!r} has values {unknown} outside its levels {order}"
                    )
                levels = [level for level in order if level in seen] if order else sorted(seen)
                if len(levels) < 2:
                    raise ValueError(
                        f"clinical variable {column!r} has fewer than two levels in training "
                        f"(n_samples={len(X)}): {levels}"
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
            text = level_text(values)
            numbers = text.map(self.ranks_[column])
            bad = text.notna() & numbers.isna()
            if bad.any():
                raise ValueError(
                    f"ordinal variable {column!r} has values {sorted(set(text[bad]))} outside its levels"
                )
            return numbers.astype(float)
        return _numeric(values, column)

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        check_is_fitted(self, "terms_")
        X = as_frame(X, fitted=self)
        absent = [c for c in self.features_ if c not in X.columns]
        if absent:
            raise ValueError(f"clinical data lack the columns {absent} the encoder was fitted on")
        out = {}
        for column in self.features_:
            if self.types_[column] in NUMERIC_TYPES:
                out[column] = self._numbers(X[column], column).fillna(self.fill_[column]).astype(float)
                continue
            values = level_text(X[column]).fillna(self.fill_[column])
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
        check_is_fitted(self, "terms_")
        return np.asarray(self.terms_, dtype=object)


def as_frame(X, fitted: BaseEstimator | None = None, reset: bool = False) -> pd.DataFrame:
    """``X`` as a DataFrame: a DataFrame as given, else a 2-D array-like (columns ``0, 1, ...``).

    An array is checked as scikit-learn's ``check_array`` does (dense, 2-D, real, at least one row and
    column; missing values allowed: the pipeline imputes them), a DataFrame for at least one column.
    With ``fitted``: ``reset`` records ``n_features_in_`` (and ``feature_names_in_`` for text column
    names, scikit-learn's convention) on it; otherwise an array must have the fitted number of columns
    (a DataFrame's are found by name).
    """
    if isinstance(X, pd.DataFrame):
        if X.shape[1] == 0:  # no rows: each variable's own error says it has no values
            raise ValueError(f"Found a table without columns (shape={X.shape}); at least one is required")
    else:
        X = pd.DataFrame(check_array(X, dtype=None, ensure_all_finite=False, estimator=fitted))
        if fitted is not None and not reset and X.shape[1] != fitted.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(fitted).__name__} is expecting "
                f"{fitted.n_features_in_} features as input."
            )
    if fitted is not None and reset:
        fitted.n_features_in_ = X.shape[1]
        if all(isinstance(c, str) for c in X.columns):
            fitted.feature_names_in_ = np.asarray(X.columns, dtype=object)
        elif hasattr(fitted, "feature_names_in_"):
            del fitted.feature_names_in_
    return X


def _is_numeric(values: pd.Series) -> bool:
    present = values.dropna()
    return bool(pd.to_numeric(present, errors="coerce").notna().all())


def level_text(values: pd.Series) -> pd.Series:
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
