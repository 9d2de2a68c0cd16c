"""Chapter 2: the clinical model — encoding, univariate and multivariable logistic regression, nomogram.

:mod:`~splkit.clinical.encoding` holds the imputation and encoding, :mod:`~splkit.clinical.model` the
statsmodels fits and odds-ratio tables, :mod:`~splkit.clinical.selection` the predictor-selection rule,
:mod:`~splkit.clinical.io` the formatted tables, :mod:`~splkit.clinical.figures` the forest plot and
outcome counts, :mod:`~splkit.clinical.nomogram` the nomogram, and :mod:`~splkit.clinical.chapter` the
glue of notebook 02 (out-of-fold scores, fold stability, the saved ``Clinical`` model).
"""

from splkit.clinical.encoding import NUMERIC_TYPES, ClinicalEncoder
from splkit.clinical.model import (
    MAX_MISSING,
    fit_logit,
    make_clinical_pipeline,
    multivariable_table,
    odds_ratio_table,
    univariate_table,
)

__all__ = [
    "MAX_MISSING",
    "NUMERIC_TYPES",
    "ClinicalEncoder",
    "fit_logit",
    "make_clinical_pipeline",
    "multivariable_table",
    "odds_ratio_table",
    "univariate_table",
]
