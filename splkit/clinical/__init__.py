"""Chapter 2: the clinical model — encoding, univariate and multivariable logistic regression, nomogram.

:mod:`~splkit.clinical.model` holds the encoder and the statsmodels fits, :mod:`~splkit.clinical.selection`
the predictor-selection rule, :mod:`~splkit.clinical.io` the run-directory glue and the formatted tables,
:mod:`~splkit.clinical.figures` the forest plot and outcome counts, :mod:`~splkit.clinical.nomogram` the
nomogram.
"""

from splkit.clinical.model import (
    MAX_MISSING,
    NUMERIC_TYPES,
    ClinicalEncoder,
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
