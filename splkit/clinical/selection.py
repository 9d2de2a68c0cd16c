"""Selection of the clinical predictors, and the selection as an estimator for honest out-of-fold scores.

The rule (Wei et al., Front. Oncol. 2026, and most radiomics nomogram papers): variables with univariate
p below ``clinical.univariate_p`` enter one multivariable logistic regression; those with multivariable
p below ``clinical.multivariable_p`` are the predictors; the final model is refitted on them.  When that
leaves no predictor -- no variable passes the univariate screen, or none stays significant in the
multivariable model -- the clinical model is the single variable with the smallest univariate p
(:data:`FALLBACK_RULE`), flagged as such (:attr:`ClinicalSelection.rule`), so the Clinical model and the
CDLR that stacks its predictors exist for every cohort with clinical variables and follow one rule.
:class:`SelectedClinicalModel` wraps the whole procedure as a scikit-learn classifier, so
cross-validation can repeat the selection inside every fold (Hastie, Tibshirani & Friedman, *The
Elements of Statistical Learning*, 2nd ed., sect. 7.10.2: selecting on all data and then
cross-validating is optimistic).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from splkit.clinical.encoding import as_frame
from splkit.clinical.model import MAX_MISSING, multivariable_table, univariate_table
from splkit.stats._checks import binary_target

#: :attr:`ClinicalSelection.rule` values: the standard rule, and why the fallback applied.
SELECTED = "selected"
NONE_UNIVARIATE = "none_significant_univariate"
NONE_MULTIVARIABLE = "none_significant_multivariable"
#: The fallback, as the book states it (chapter 2).
FALLBACK_RULE = (
    "when no variable passes the univariate screen, or none stays significant in the multivariable model, "
    "the clinical model is the single variable with the smallest univariate p, fitted alone and flagged "
    "as such; a weak clinical model is reported as weak rather than dropped, so the Clinical and CDLR "
    "models are defined by the same rule in every cohort"
)


@dataclass
class ClinicalSelection:
    """What :func:`select_predictors` did: the tables, the candidates, the predictors and why."""

    univariate: pd.DataFrame
    candidates: list[str]
    multivariable: pd.DataFrame | None
    predictors: list[str]
    final: pd.DataFrame
    pipeline: Pipeline
    notes: list[str] = field(default_factory=list)
    #: :data:`SELECTED`, or why the fallback applied (:data:`NONE_UNIVARIATE`, :data:`NONE_MULTIVARIABLE`).
    rule: str = SELECTED
    #: The univariate p of each variable (``p_variable``; NaN-free), which the fallback ranks.
    univariate_p: pd.Series = field(default_factory=lambda: pd.Series(dtype=float), repr=False)

    @property
    def fallback(self) -> bool:
        """Whether the clinical model is the fallback (no variable significant), not the standard rule."""
        return self.rule != SELECTED

    def rule_applied(self, univariate_p: float = 0.05, multivariable_p: float = 0.05) -> str:
        """One line for ``results.json`` (``clinical.rule_applied``): the rule, and the kept variable."""
        if not self.fallback:
            return (
                f"{SELECTED}: {len(self.predictors)} variable(s) with univariate p < {univariate_p} "
                f"and multivariable p < {multivariable_p}"
            )
        kept = self.predictors[0]
        why = (
            "no variable had univariate p < {}"
            if self.rule == NONE_UNIVARIATE
            else "no candidate had multivariable p < {}"
        )
        threshold = univariate_p if self.rule == NONE_UNIVARIATE else multivariable_p
        return (
            f"{self.rule}: {why.format(threshold)}; kept the best univariate predictor {kept} "
            f"(univariate p={float(self.univariate_p[kept]):.3g})"
        )


def _variable_p(table: pd.DataFrame) -> pd.Series:
    return table.dropna(subset=["p_variable"]).groupby("variable", sort=False)["p_variable"].first()


def select_predictors(
    X: pd.DataFrame,
    y,
    types: dict[str, str] | None = None,
    univariate_p: float = 0.05,
    multivariable_p: float = 0.05,
    interval: str = "profile",
    level: float = 0.95,
    max_missing: float = MAX_MISSING,
    levels: dict[str, list] | None = None,
) -> ClinicalSelection:
    """Univariate screen, multivariable model, then the final model on the surviving predictors.

    Rule: variables with univariate ``p_variable < univariate_p`` enter the multivariable model; those
    with multivariable ``p_variable < multivariable_p`` are the predictors (one pass, no stepwise
    iteration).  When that leaves no predictor (no variable passes the screen, or none stays significant
    in the multivariable model), the variable with the smallest univariate p is kept alone
    (:data:`FALLBACK_RULE`) — so a clinical model always exists, ``rule`` says which case applied and a
    note says so.
    """
    notes: list[str] = []
    uni = univariate_table(X, y, types, interval, level, max_missing, levels)
    for variable, note in uni.loc[uni["note"].fillna("") != "", ["variable", "note"]].itertuples(index=False):
        notes.append(f"{variable}: {note}")
    p_uni = _variable_p(uni)
    if p_uni.empty:
        raise ValueError("no clinical variable could be estimated; cannot build a clinical model")
    candidates = p_uni.index[p_uni < univariate_p].tolist()
    multi, rule, predictors = None, SELECTED, []
    if not candidates:
        rule = NONE_UNIVARIATE
    else:
        multi, _ = multivariable_table(X[candidates], y, types, interval, level, levels)
        p_multi = _variable_p(multi)
        predictors = [v for v in candidates if p_multi[v] < multivariable_p]
        rule = SELECTED if predictors else NONE_MULTIVARIABLE
    if not predictors:
        predictors = [p_uni.idxmin()]
        why = (
            f"no variable had univariate p < {univariate_p}"
            if rule == NONE_UNIVARIATE
            else f"no candidate had multivariable p < {multivariable_p}"
        )
        notes.append(f"{why}; kept the smallest univariate p: {predictors[0]}")
    final, pipeline = multivariable_table(X[predictors], y, types, interval, level, levels)
    return ClinicalSelection(uni, candidates, multi, predictors, final, pipeline, notes, rule, p_uni)


def out_of_fold_scores(
    estimator,
    X_train: pd.DataFrame,
    y_train,
    X_other: pd.DataFrame | None = None,
    n_splits: int = 5,
    random_state: int | None = None,
    fold_models: list | None = None,
) -> tuple[pd.Series, pd.Series, object]:
    """Out-of-fold probabilities for training rows and fitted-on-all-training ones for ``X_other``.

    Each fold refits a clone of the whole ``estimator`` (imputation and encoding included) on the other
    folds of a :class:`~sklearn.model_selection.StratifiedKFold` (shuffled with ``random_state``).
    Rows of ``X_other`` never reach any fit.  Returns ``(oof, other, fitted_on_all_training)``; the
    fold models are appended to ``fold_models`` when a list is given.
    """
    y = np.asarray(y_train).astype(int)
    oof = pd.Series(np.nan, index=X_train.index, dtype=float)
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    for fit_rows, score_rows in folds.split(X_train, y):
        model = clone(estimator).fit(X_train.iloc[fit_rows], y[fit_rows])
        oof.iloc[score_rows] = model.predict_proba(X_train.iloc[score_rows])[:, 1]
        if fold_models is not None:
            fold_models.append(model)
    fitted = clone(estimator).fit(X_train, y)
    other = pd.Series(dtype=float)
    if X_other is not None and len(X_other):
        other = pd.Series(fitted.predict_proba(X_other)[:, 1], index=X_other.index)
    return oof, other, fitted


class SelectedClinicalModel(ClassifierMixin, BaseEstimator):
    """:func:`select_predictors` + the final logistic model as one classifier.

    ``fit`` runs the univariate screen and the multivariable selection on the data it is given and
    fits the final pipeline (imputation, encoding, logistic regression) on the selected predictors;
    ``predict_proba`` uses that pipeline.  Selection uses p-values only, which do not depend on the
    interval type, so Wald intervals are computed internally (faster).
    """

    def __init__(
        self,
        types: dict[str, str] | None = None,
        levels: dict[str, list] | None = None,
        univariate_p: float = 0.05,
        multivariable_p: float = 0.05,
        max_missing: float = MAX_MISSING,
    ):
        self.types = types
        self.levels = levels
        self.univariate_p = univariate_p
        self.multivariable_p = multivariable_p
        self.max_missing = max_missing

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.input_tags.allow_nan = True  # imputed inside the pipeline
        tags.input_tags.string = True  # levels may be text
        tags.input_tags.categorical = True
        return tags

    def fit(self, X: pd.DataFrame, y) -> SelectedClinicalModel:
        X = as_frame(X, fitted=self, reset=True)
        y, self.classes_ = binary_target(y, len(X), "SelectedClinicalModel")
        y = pd.Series(y, index=X.index)
        self.selection_ = select_predictors(
            X,
            y,
            self.types,
            self.univariate_p,
            self.multivariable_p,
            interval="wald",
            max_missing=self.max_missing,
            levels=self.levels,
        )
        self.predictors_ = list(self.selection_.predictors)
        self.rule_ = self.selection_.rule  # SELECTED, or why the single-best-variable fallback applied
        self.pipeline_ = self.selection_.pipeline
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self, "pipeline_")
        X = as_frame(X, fitted=self)
        missing = [c for c in self.predictors_ if c not in X.columns]
        if missing:
            raise ValueError(f"SelectedClinicalModel: X lacks the clinical predictors {missing}")
        return self.pipeline_.predict_proba(X[self.predictors_])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        positive = self.predict_proba(X)[:, 1] >= 0.5
        return self.classes_[positive.astype(int)]
