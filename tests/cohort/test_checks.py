"""Tests of splkit.cohort.checks: radiomics preset constraints, spacing plausibility."""

from __future__ import annotations

import numpy as np

from splkit.cohort.checks import (
    PLAUSIBLE_SPACING_MM,
    RoiRules,
    log_problem,
    roi_problems,
    roi_rules,
    spacing_warning,
)


class FakePreset:
    name = "mine"
    meta = {"input": "2d"}
    params = {"setting": {"minimumROISize": 10}, "imageType": {"LoG": {"sigma": [1.0, 3.0]}}}


def test_rules_from_a_preset_object_and_a_mapping():
    assert roi_rules(None) is None
    assert roi_rules(FakePreset()) == RoiRules("mine", 10, 2, (1.0, 3.0))
    sliced = FakePreset()
    sliced.meta = {"input": "slice3d"}
    assert roi_rules(sliced).log_sigmas == ()
    assert roi_rules({"setting": {"minimumROIDimensions": 1}}) == RoiRules("custom", None, 1, ())


def test_roi_size_and_dimensions():
    rules = RoiRules("mine", minimum_size=10)
    mask = np.zeros((8, 8), np.uint8)
    mask[2:4, 2:7] = 1  # exactly 10 pixels: refused, as pyradiomics does
    ((message, group),) = roi_problems(mask, rules)
    assert message.startswith("lesion has 10 pixels; the radiomics preset 'mine' needs more than 10")
    assert group.startswith("lesion too small for the radiomics preset 'mine'")
    mask[4, 2] = 1
    assert roi_problems(mask, rules) == []
    dot = np.zeros((8, 8), np.uint8)
    dot[3, 3] = 1
    assert roi_problems(dot, RoiRules("mine"))[0][0].startswith("lesion is a single pixel")


def test_log_sigmas_need_enough_pixels():
    rules = RoiRules("mine", log_sigmas=(1.0, 3.0))
    assert log_problem((40, 40), (0.1, 0.1), rules) is None  # 3 / 0.1 + 1 = 31 <= 40
    message, _ = log_problem((40, 20), (0.1, 0.1), rules)
    assert "sigma 3 mm needs at least 31 pixels per side" in message


def test_spacing_plausibility():
    assert PLAUSIBLE_SPACING_MM == (0.01, 2.0)
    assert spacing_warning((0.2, 0.2), "x") is None
    message, group = spacing_warning((0.1, 25.0), "the file header")
    assert message.startswith("pixel spacing 0.1 x 25 mm (from the file header) is outside")
    assert group.startswith("pixel spacing outside the plausible ultrasound range 0.01-2 mm per pixel")
