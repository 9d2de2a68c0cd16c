"""Minimum sample size for developing a prediction model with a binary outcome (Riley et al.).

Riley et al. [riley2019]_ [riley2020]_ ask a development sample to meet three criteria, each giving a
minimum number of patients ``n``; the minimum sample size is the largest of the three:

1. **small overfitting**: an expected global shrinkage factor ``S >= 0.9`` for ``p`` candidate
   predictor parameters and an anticipated Cox–Snell R² ``R²_cs``::

       n1 = p / ((S - 1) ln(1 - R²_cs / S))

2. **small optimism in the apparent fit**: an absolute difference ``delta <= 0.05`` between the apparent
   and the adjusted Nagelkerke R².  It is criterion 1 with the shrinkage that gives that difference::

       S_2 = R²_cs / (R²_cs + delta max(R²_cs)),   max(R²_cs) = 1 - exp(2 lnL_null / n)

   where ``lnL_null / n = phi ln(phi) + (1 - phi) ln(1 - phi)`` for the outcome prevalence ``phi``;

3. **precise overall risk**: the intercept-only model estimates the prevalence within a margin of error
   ``0.05`` (95 % confidence)::

       n3 = (1.96 / 0.05)² phi (1 - phi)

Each ``n`` is rounded up; the events ``E = n phi`` and the events per candidate parameter ``EPP = E / p``
follow from the largest.  When no previous model gives ``R²_cs``, Riley et al. [riley2020]_ suggest a
conservative value: the ``R²_cs`` that corresponds to a Nagelkerke R² of 0.15, i.e.
``R²_cs = 0.15 max(R²_cs)`` (:data:`DEFAULT_NAGELKERKE`).

This is an own implementation of the published formulae (no ``pmsampsize`` dependency); the tests pin the
R package's published values (``pmsampsize`` 1.1.3, ``tests/testthat/test_bin.R``), which follow the same
formulae without intermediate rounding.

References
----------
.. [riley2019] Riley RD, Snell KIE, Ensor J, Burke DL, Harrell FE Jr, Moons KGM, Collins GS. Minimum
   sample size for developing a multivariable prediction model: PART II - binary and time-to-event
   outcomes. Stat Med 2019;38:1276-1296. doi:10.1002/sim.7992
.. [riley2020] Riley RD, Ensor J, Snell KIE, Harrell FE Jr, Martin GP, Reitsma JB, Moons KGM, Collins G,
   van Smeden M. Calculating the sample size required for developing a clinical prediction model. BMJ
   2020;368:m441. doi:10.1136/bmj.m441
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

#: Target expected shrinkage of criterion 1 (Riley et al. 2019, 2020).
DEFAULT_SHRINKAGE = 0.9
#: Largest acceptable difference between apparent and adjusted Nagelkerke R² (criterion 2).
DEFAULT_DELTA = 0.05
#: Margin of error of the overall risk (criterion 3), at 95 % confidence.
DEFAULT_MARGIN = 0.05
#: Nagelkerke R² assumed when nothing better is known: R²_cs = 0.15 max(R²_cs) (Riley et al. 2020).
DEFAULT_NAGELKERKE = 0.15
Z_95 = 1.96


@dataclass(frozen=True)
class SampleSize:
    """The minimum sample size of Riley et al.'s three criteria for a binary outcome.

    Attributes
    ----------
    parameters
        Candidate predictor parameters ``p``.
    prevalence
        Anticipated outcome prevalence ``phi``.
    r2_cs
        Anticipated Cox–Snell R².
    max_r2_cs
        Largest Cox–Snell R² possible at this prevalence.
    shrinkage
        Target shrinkage of criterion 1.
    shrinkage_small_difference
        The shrinkage criterion 2 requires (``S_2``).
    n_shrinkage, n_small_difference, n_overall_risk
        Minimum ``n`` of criteria 1, 2 and 3.
    n
        The minimum sample size: the largest of the three.
    events
        ``n phi`` (not rounded; round up to report a count of events).
    epp
        Events per candidate parameter, ``n phi / p``.
    """

    parameters: int
    prevalence: float
    r2_cs: float
    max_r2_cs: float
    shrinkage: float
    shrinkage_small_difference: float
    n_shrinkage: int
    n_small_difference: int
    n_overall_risk: int
    n: int
    events: float
    epp: float

    @property
    def events_required(self) -> int:
        """The events as a count (``ceil(n phi)``, as ``pmsampsize`` prints it)."""
        return math.ceil(round(self.events, 9))

    def met_by(self, n: int) -> bool:
        """Whether a development sample of ``n`` patients meets all three criteria."""
        return n >= self.n

    def to_dict(self) -> dict[str, float | int]:
        """The fields plus ``events_required``, for ``results.json``."""
        return {**asdict(self), "events_required": self.events_required}


def _check_prevalence(prevalence: float) -> float:
    prevalence = float(prevalence)
    if not 0 < prevalence < 1:
        raise ValueError(f"the prevalence must lie strictly between 0 and 1, got {prevalence}")
    return prevalence


def _check_r2(r2_cs: float, shrinkage: float) -> float:
    r2_cs = float(r2_cs)
    if not 0 < r2_cs < shrinkage:
        raise ValueError(
            f"the anticipated Cox-Snell R² must lie between 0 and the shrinkage {shrinkage}, got {r2_cs}"
        )
    return r2_cs


def max_cox_snell_r2(prevalence: float) -> float:
    """The largest Cox–Snell R² a model can reach for a binary outcome of this prevalence.

    ``max(R²_cs) = 1 - exp(2 lnL_null / n)`` with ``lnL_null / n = phi ln(phi) + (1 - phi) ln(1 - phi)``,
    the log-likelihood per patient of the intercept-only model.

    References
    ----------
    Riley et al., Stat Med 2019;38:1276-1296; Riley et al., BMJ 2020;368:m441.
    """
    phi = _check_prevalence(prevalence)
    loglik_per_patient = phi * math.log(phi) + (1 - phi) * math.log(1 - phi)
    return 1 - math.exp(2 * loglik_per_patient)


def cox_snell_from_nagelkerke(r2_nagelkerke: float, prevalence: float) -> float:
    """The Cox–Snell R² of a Nagelkerke R² at this prevalence: ``R²_N max(R²_cs)``.

    With ``r2_nagelkerke = 0.15`` this is Riley et al.'s conservative default (BMJ 2020;368:m441).
    """
    if not 0 < r2_nagelkerke < 1:
        raise ValueError(f"the Nagelkerke R² must lie between 0 and 1, got {r2_nagelkerke}")
    return float(r2_nagelkerke) * max_cox_snell_r2(prevalence)


def n_for_shrinkage(parameters: int, r2_cs: float, shrinkage: float = DEFAULT_SHRINKAGE) -> int:
    """Criterion 1: patients for an expected shrinkage ``>= shrinkage`` with ``parameters`` candidates.

    ``n = p / ((S - 1) ln(1 - R²_cs / S))``, rounded up (Riley et al., Stat Med 2019;38:1276-1296).
    """
    if int(parameters) < 1:
        raise ValueError(f"need at least one candidate parameter, got {parameters}")
    if not 0 < shrinkage < 1:
        raise ValueError(f"the shrinkage must lie between 0 and 1, got {shrinkage}")
    r2_cs = _check_r2(r2_cs, shrinkage)
    return math.ceil(int(parameters) / ((shrinkage - 1) * math.log(1 - r2_cs / shrinkage)))


def shrinkage_for_small_difference(r2_cs: float, max_r2_cs: float, delta: float = DEFAULT_DELTA) -> float:
    """Criterion 2's shrinkage: ``S = R²_cs / (R²_cs + delta max(R²_cs))``.

    A model with this expected shrinkage has apparent and adjusted Nagelkerke R² at most ``delta`` apart
    (Riley et al., Stat Med 2019;38:1276-1296).
    """
    if not 0 < delta < 1:
        raise ValueError(f"delta must lie between 0 and 1, got {delta}")
    return float(r2_cs) / (float(r2_cs) + delta * float(max_r2_cs))


def n_for_overall_risk(prevalence: float, margin: float = DEFAULT_MARGIN, z: float = Z_95) -> int:
    """Criterion 3: patients to estimate the overall risk within ``± margin``.

    ``n = (z / margin)² phi (1 - phi)``, rounded up (Riley et al., BMJ 2020;368:m441).
    """
    phi = _check_prevalence(prevalence)
    if not 0 < margin < 1:
        raise ValueError(f"the margin of error must lie between 0 and 1, got {margin}")
    return math.ceil((z / margin) ** 2 * phi * (1 - phi))


def minimum_sample_size(
    parameters: int,
    prevalence: float,
    r2_cs: float | None = None,
    shrinkage: float = DEFAULT_SHRINKAGE,
    delta: float = DEFAULT_DELTA,
    margin: float = DEFAULT_MARGIN,
) -> SampleSize:
    """The minimum development sample size for a binary-outcome prediction model (criteria 1–3).

    Parameters
    ----------
    parameters
        Candidate predictor parameters ``p``: every regression coefficient the model development may
        estimate, counting those considered in data-driven selection (not only those kept), and one per
        dummy term of a categorical predictor.
    prevalence
        Anticipated outcome prevalence.
    r2_cs
        Anticipated Cox–Snell R² (e.g. a previous model's optimism-adjusted value).  ``None``: Riley et
        al.'s conservative default ``0.15 max(R²_cs)`` (a Nagelkerke R² of 0.15).
    shrinkage, delta, margin
        Targets of criteria 1, 2 and 3 (defaults 0.9, 0.05, 0.05 as recommended).

    Returns
    -------
    SampleSize
        Each criterion's ``n``, the minimum ``n`` (the largest), events and events per parameter.

    References
    ----------
    Riley et al., Stat Med 2019;38:1276-1296; Riley et al., BMJ 2020;368:m441.  With
    ``parameters=24, prevalence=0.174, r2_cs=0.288`` (the binary example of both papers and of the R
    package ``pmsampsize``) the criteria give 623, 662 and 221 patients: 662 patients, 116 events,
    EPP 4.8.
    """
    phi = _check_prevalence(prevalence)
    max_r2 = max_cox_snell_r2(phi)
    r2 = DEFAULT_NAGELKERKE * max_r2 if r2_cs is None else float(r2_cs)
    if r2 >= max_r2:
        raise ValueError(
            f"the anticipated Cox-Snell R² {r2} is not below its maximum {max_r2:.3f} at prevalence {phi}"
        )
    n1 = n_for_shrinkage(parameters, r2, shrinkage)
    s2 = shrinkage_for_small_difference(r2, max_r2, delta)
    n2 = n_for_shrinkage(parameters, r2, s2)
    n3 = n_for_overall_risk(phi, margin)
    n = max(n1, n2, n3)
    return SampleSize(
        parameters=int(parameters),
        prevalence=phi,
        r2_cs=r2,
        max_r2_cs=max_r2,
        shrinkage=float(shrinkage),
        shrinkage_small_difference=s2,
        n_shrinkage=n1,
        n_small_difference=n2,
        n_overall_risk=n3,
        n=n,
        events=n * phi,
        epp=n * phi / int(parameters),
    )
