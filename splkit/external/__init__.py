"""External validation (chapter 7): the frozen study of chapter 5 applied to a cohort from another centre.

:mod:`.cohort` loads the external cohort with its own pseudonyms (``E0001``…, never colliding with the
development cohort's ``P0001``…); :mod:`.casemix` compares its case mix with the training cohort (a
membership model, Debray et al. 2015); :mod:`.chapter` is the notebook's glue: scores, discrimination,
the training-threshold operating point, calibration and logistic recalibration, decision curves.
Nothing is refitted on the external cohort except the recalibration, which is reported as such.
"""

from splkit.external.casemix import MembershipResult, membership_model
from splkit.external.cohort import EXTERNAL_PREFIX, external_pseudonyms, has_external, load_external_cohort

__all__ = [
    "EXTERNAL_PREFIX",
    "MembershipResult",
    "external_pseudonyms",
    "has_external",
    "load_external_cohort",
    "membership_model",
]
