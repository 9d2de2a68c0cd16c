"""Feature selection as scikit-learn transformers, fitted on the training cohort only.

The usual radiomics selection chain (e.g. Wei et al. 2026; Hao et al. 2025), each step a transformer
that takes and returns a :class:`pandas.DataFrame` and keeps the column names:

1. :class:`ICCFilter` keeps features reproducible between two readers' masks (ICC >= threshold;
   Koo & Li, J Chiropr Med 2016;15:155-163);
2. :class:`ZScore` standardises with the training mean and standard deviation;
3. :class:`MannWhitneyFilter` keeps features whose two-sided Mann-Whitney U p-value is below a threshold;
4. :class:`SpearmanFilter` removes redundancy: of two features with Spearman ``|rho|`` above a threshold
   the more significant (smaller Mann-Whitney p) is kept, greedily from the most significant down;
5. :class:`LassoSelector` fits an L1-penalised logistic regression over a glmnet-style path of
   ``lambda`` values, chooses ``lambda`` by stratified k-fold cross-validated binomial deviance with
   the ``min`` or the one-standard-error (``1se``) rule (Friedman, Hastie & Tibshirani, J Stat Softw
   2010;33(1); Hastie, Tibshirani & Friedman, *Elements of Statistical Learning*, 2nd ed., sec. 7.10)
   and keeps the features with a non-zero coefficient.

:func:`build_selection_pipeline` makes the chain from a profile; :func:`fit_selection` fits it on the
training rows of a feature table; :func:`selection_funnel` counts the survivors of each step;
:func:`select_features` does all three for a chapter (radiomics and DTL alike).
"""

from splkit.selection.filters import ICCFilter, MannWhitneyFilter, SpearmanFilter, ZScore, mannwhitney_pvalues
from splkit.selection.lasso import LassoSelector
from splkit.selection.pipeline import (
    Selection,
    build_selection_pipeline,
    fit_selection,
    select_features,
    selection_funnel,
)

__all__ = [
    "ICCFilter",
    "LassoSelector",
    "MannWhitneyFilter",
    "Selection",
    "SpearmanFilter",
    "ZScore",
    "build_selection_pipeline",
    "fit_selection",
    "mannwhitney_pvalues",
    "select_features",
    "selection_funnel",
]
