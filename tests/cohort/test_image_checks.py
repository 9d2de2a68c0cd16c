"""Tests of splkit.cohort.image_checks: the id-free notes and the terminal report."""

from __future__ import annotations

from splkit.cohort.image_checks import NOT_DECODED, ImageSurvey, notes, report
from splkit.cohort.validation import Problem


def test_report_groups_warnings_and_says_what_was_not_checked():
    warnings = [Problem(f"P{i}", f"images/P{i}.png", "odd", "odd thing") for i in range(6)]
    text = report(warnings, full=False, preset=None).splitlines()
    assert text == [
        "6 warnings (not errors):",
        "  6 patients: odd thing — P0, P1, P2, P3, P4 and 1 more",
        "radiomics preset constraints not checked (no preset given)",
        NOT_DECODED,
    ]
    assert report([], full=True, preset="ultrasound2d").splitlines() == [
        "lesions and image sizes checked against the radiomics preset 'ultrasound2d'",
        "every image decoded",
    ]


def test_notes_count_without_ids():
    survey = ImageSurvey(
        spacing={"SECRET-1": (0.2, 0.2), "SECRET-2": (30.0, 30.0)},
        rows={
            "SECRET-1": {"intensity": "8-bit, as is", "roi_pixels": 9, "roi_uniform": True},
            "SECRET-2": {"intensity": "16-bit, rescaled x 255/65535", "roi_pixels": 9, "roi_uniform": False},
        },
    )
    text = "\n".join(notes(survey, n_normalised=1, n_subfolders=2, full=True))
    assert "SECRET" not in text
    for part in (
        "1 image 8-bit, as is",
        "1 file name(s)",
        "2 sub-folder(s)",
        "1 image(s) with a pixel",
        "1 lesion(s)",
    ):
        assert part in text
