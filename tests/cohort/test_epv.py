"""Tests of splkit.cohort.epv: events per candidate parameter and the small-cohort rule."""

import pytest

from splkit.cohort import epv


def test_epv_counts_the_smaller_outcome_class():
    result = epv.assess(100, 70, {"Clinical": 3, "Rad": 300}, 50, 10, positive="malignant", negative="benign")
    assert result.minority == 30 and result.minority_class == "benign"
    assert result.epv == {"Clinical": 10.0, "Rad": 0.1}
    assert result.level == epv.NONE and epv.markdown(result, {"Clinical": 3, "Rad": 300}) == ""


def test_caution_between_five_and_ten_and_rad_is_never_the_trigger():
    # the default simulated cohort: 487 training patients, 188 benign, 20 clinical terms -> EPV 9.4
    parameters = {"Clinical": 20, "Rad": 1465, "DTL": 128}
    result = epv.assess(487, 299, parameters, 365, 75, positive="malignant", negative="benign")
    assert result.level == epv.CAUTION and result.epv["Clinical"] == pytest.approx(9.4)
    text = epv.markdown(result, parameters)
    assert text.startswith("**Events per candidate parameter (EPV).**") and "Peduzzi" in text
    assert "Warning" not in text and "Clinical 9.4 (20 parameters)" in text
    imaging_only = epv.assess(487, 299, {"Rad": 1465, "DTL": 128}, 365, 75)
    assert imaging_only.level == epv.NONE


def test_warning_for_a_small_cohort_says_intervals_will_be_wide():
    # 40 patients, 12 positive: 32 training (10 positive), 8 validation (2 positive)
    parameters = {"Clinical": 20, "Rad": 1465}
    result = epv.assess(32, 10, parameters, 322, 2, positive="malignant", negative="benign")
    assert result.level == epv.WARNING and result.epv["Clinical"] == pytest.approx(0.5)
    assert result.reasons == ["Clinical EPV 0.5 < 5", "n_train 32 < 322 (Riley criterion 3)"]
    low, high = result.example_interval
    assert 0 < low < 0.5 < high <= 1  # 2 of 2 detected (sensitivity 0.80 rounded): a very wide interval
    text = epv.markdown(result, parameters)
    assert (
        text.startswith("> **Warning: a small cohort.**") and "**confidence intervals will be wide**" in text
    )
    assert "Clinical 0.5 (20 parameters), Rad 0.0068 (1465 parameters)" in text
    assert "criterion 3" in text and "Vittinghoff & McCulloch (2007)" in text
    assert result.to_dict()["example_interval"] == [low, high]


def test_warning_without_validation_positives_has_no_example_interval():
    result = epv.assess(30, 5, {"Clinical": 4}, 300, 0)
    assert result.level == epv.WARNING and result.example_interval is None
    assert "Wilson" not in epv.markdown(result, {"Clinical": 4})
