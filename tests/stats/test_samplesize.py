"""Riley et al.'s minimum sample size for a binary outcome, pinned to published values.

Reference values
----------------
* Riley et al., Stat Med 2019;38:1276-1296 (PART II), Chagas disease diagnostic model: 24 candidate
  parameters, prevalence 0.174, anticipated Cox-Snell R² 0.288; the abstract states that the model
  "requires an EPP of at least 4.8".  The same example is the binary example of the R package
  ``pmsampsize`` (``?pmsampsize``) and of Riley et al., BMJ 2020;368:m441.
* ``pmsampsize`` 1.1.3 (CRAN, 2023-12-05), ``tests/testthat/test_bin.R``, tests 4.1-4.4: sample sizes of
  criteria 1, 2, 3 and the final one, and the EPP of each (rounded to 2 decimals).  Its print method
  reports the events as ``ceiling(n * prevalence)``: 662 patients with 116 events.  (Versions before
  1.1.1 rounded max R²_cs to 2 and S to 3 decimals and gave 668 for criterion 2; 1.1.1 removed that
  rounding, and the formulae of the papers give 662.)
"""

import math

import pytest

from splkit.stats import samplesize as ss

# (csrsquared, parameters, prevalence) -> (n1, n2, n3, n_final), (EPP1, EPP2, EPP3, EPP_final)
PMSAMPSIZE_1_1_3 = {
    (0.288, 24, 0.174): ((623, 662, 221, 662), (4.52, 4.8, 1.6, 4.8)),  # test 4.1
    (0.55, 24, 0.174): ((255, 532, 221, 532), (1.85, 3.86, 1.6, 3.86)),  # test 4.2
    (0.288, 36, 0.174): ((934, 992, 221, 992), (4.51, 4.79, 1.07, 4.79)),  # test 4.3
    (0.288, 24, 0.25): ((623, 590, 289, 623), (6.49, 6.15, 3.01, 6.49)),  # test 4.4
}


@pytest.mark.parametrize("inputs", list(PMSAMPSIZE_1_1_3), ids=lambda k: f"R2={k[0]},p={k[1]},phi={k[2]}")
def test_criteria_match_pmsampsize(inputs):
    r2, p, phi = inputs
    (n1, n2, n3, n), epp = PMSAMPSIZE_1_1_3[inputs]
    result = ss.minimum_sample_size(parameters=p, prevalence=phi, r2_cs=r2)
    assert (result.n_shrinkage, result.n_small_difference, result.n_overall_risk, result.n) == (n1, n2, n3, n)
    per_criterion = [round(k * phi / p, 2) for k in (n1, n2, n3)]
    assert per_criterion == list(epp[:3])
    assert round(result.epp, 2) == epp[3]


def test_riley_worked_example():
    """Stat Med 2019 / BMJ 2020 binary example: 662 patients, 116 events, EPP 4.8."""
    result = ss.minimum_sample_size(parameters=24, prevalence=0.174, r2_cs=0.288)
    assert result.n == 662
    assert result.events_required == 116
    assert round(result.epp, 1) == 4.8
    assert result.events == pytest.approx(115.188)
    # the pieces, computed by hand from the formulae
    assert result.max_r2_cs == pytest.approx(0.6032, abs=1e-4)
    assert result.shrinkage_small_difference == pytest.approx(0.9052, abs=1e-4)
    assert result.met_by(662) and not result.met_by(661)


def test_criterion_3_formula():
    assert ss.n_for_overall_risk(0.174) == math.ceil((1.96 / 0.05) ** 2 * 0.174 * 0.826) == 221
    assert ss.n_for_overall_risk(0.5) == 385  # the familiar 1.96² 0.25 / 0.05²


def test_max_r2_is_largest_at_half():
    assert ss.max_cox_snell_r2(0.5) == pytest.approx(0.75)  # 1 - exp(2 ln 0.5) = 1 - 1/4
    assert ss.max_cox_snell_r2(0.174) == pytest.approx(ss.max_cox_snell_r2(0.826))
    assert ss.max_cox_snell_r2(0.1) < ss.max_cox_snell_r2(0.3) < ss.max_cox_snell_r2(0.5)


def test_default_r2_is_15_percent_of_the_maximum():
    result = ss.minimum_sample_size(parameters=10, prevalence=0.4)
    assert result.r2_cs == pytest.approx(0.15 * ss.max_cox_snell_r2(0.4))
    assert ss.cox_snell_from_nagelkerke(0.15, 0.4) == pytest.approx(result.r2_cs)
    # with R²_N = 0.15 criterion 2's shrinkage is 0.15 / 0.20 = 0.75 < 0.9: criterion 1 decides
    assert result.shrinkage_small_difference == pytest.approx(0.75)
    assert result.n == max(result.n_shrinkage, result.n_overall_risk)


def test_more_parameters_need_more_patients():
    sizes = [ss.minimum_sample_size(p, 0.3, 0.1).n for p in (5, 10, 50)]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"parameters": 0, "prevalence": 0.2, "r2_cs": 0.1},
        {"parameters": 5, "prevalence": 0.0, "r2_cs": 0.1},
        {"parameters": 5, "prevalence": 1.0, "r2_cs": 0.1},
        {"parameters": 5, "prevalence": 0.2, "r2_cs": 0.65},  # above max R²_cs (0.632) at 0.2
        {"parameters": 5, "prevalence": 0.2, "r2_cs": -0.1},
    ],
)
def test_bad_inputs_are_errors(kwargs):
    with pytest.raises(ValueError):
        ss.minimum_sample_size(**kwargs)


def test_to_dict_has_events_required():
    record = ss.minimum_sample_size(24, 0.174, 0.288).to_dict()
    assert record["n"] == 662 and record["events_required"] == 116 and record["parameters"] == 24
