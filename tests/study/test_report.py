"""splkit.study.report: one offline HTML page per patient (image, Grad-CAM, SHAP waterfall, probabilities at
the training thresholds, out-of-distribution flags) and an index, naming patients by pseudonym only.

Reuses the synthetic fitted run of ``test_study`` (48 PNG patients, the real stages).
"""

from __future__ import annotations

import base64
import copy
import re

import numpy as np
import pandas as pd
import pytest
from study.test_study import fitted_run, study, unlabelled  # noqa: F401 - fixtures

from splkit.book.format import fmt
from splkit.study.report import explanations, flag_columns, write_reports

PNG = b"\x89PNG\r\n\x1a\n"


def renamed(cohort, n: int = 4):
    """The first ``n`` validation patients of ``cohort`` under other pseudonyms (``S001``…): the input
    names (``P0001``…, also in the image file names) must then appear nowhere in the reports."""
    new = unlabelled(cohort)
    patients = list(new.table.index[:n])
    names = {p: f"S{i + 1:03d}" for i, p in enumerate(patients)}
    new.table = new.table.loc[patients].rename(index=names)
    for attribute in ("images", "masks", "masks_reader2", "spacing"):
        setattr(new, attribute, {names[p]: getattr(cohort, attribute)[p] for p in patients})
    return new, patients


def predict_scores(fitted, cohort) -> pd.DataFrame:
    """The table of ``splkit predict``: probabilities, classes, flags (the second patient flagged), extras."""
    proba, classes = fitted.predict_proba(cohort), fitted.predict(cohort)
    scores = pd.concat([proba.add_suffix("_probability"), classes.add_suffix("_class")], axis=1)
    scores["ood_n_features"] = 0
    scores["ood_features"] = ""
    scores["lesion_area_mm2"] = 123.5
    scores["ood"] = False
    scores.iloc[1, scores.columns.get_loc("ood_n_features")] = 2
    scores.iloc[1, scores.columns.get_loc("ood_features")] = "DTL_001; age"
    scores.iloc[1, scores.columns.get_loc("ood")] = True
    scores["something_else"] = "x"
    return scores


@pytest.fixture(scope="module")
def reports(fitted_run, study, tmp_path_factory):  # noqa: F811 - the imported fixtures
    _, cohort = fitted_run
    new, originals = renamed(cohort)
    scores = predict_scores(study, new)
    paths = write_reports(study, new, scores, tmp_path_factory.mktemp("reports"))
    return paths, scores, new, originals


def test_one_page_per_patient_and_an_index(reports):
    paths, scores, _, _ = reports
    assert [p.name for p in paths] == ["index.html", *(f"{p}.html" for p in scores.index)]
    index = paths[0].read_text()
    for patient in scores.index:
        assert f'href="{patient}.html"' in index


def test_pages_embed_the_images_and_show_probabilities_thresholds_and_flags(reports, study):  # noqa: F811
    paths, scores, _, _ = reports
    threshold = study.thresholds["CDLR"]
    for path, (_, row) in zip(paths[1:], scores.iterrows(), strict=True):
        text = path.read_text()
        images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
        assert len(images) == 3, "image with contour, Grad-CAM overlay, SHAP waterfall"
        assert all(base64.b64decode(image).startswith(PNG) for image in images)
        assert fmt(float(row["CDLR_probability"])) in text and fmt(threshold) in text
        assert "<script" not in text and "http://" not in text and "https://" not in text
        assert "something_else" in text and "lesion_area_mm2" in text
        assert ("flag(s) raised" in text) == bool(row["ood"])


def test_no_input_id_or_file_name_anywhere(reports, fitted_run):  # noqa: F811
    paths, _, new, originals = reports
    for path in paths:
        text = path.read_text()
        assert not [p for p in originals if p in text], f"an input id in {path.name}"
        assert "_image.png" not in text and "_mask.png" not in text


def test_shap_adds_up_to_the_cdlr_probability_and_gradcam_covers_the_frame(reports, study):  # noqa: F811
    _, scores, new, _ = reports
    patients = list(scores.index[:2])
    subset = copy.copy(new)
    subset.table = new.table.loc[patients]
    result, maps = explanations(study, subset, patients)
    total = result.explanation.base_values + result.values.sum(axis=1).to_numpy()
    np.testing.assert_allclose(total, scores.loc[patients, "CDLR_probability"], atol=1e-9)
    for patient in patients:
        assert maps[patient].shape == np.asarray(new.read_image(patient)).shape
        assert 0 <= maps[patient].min() and maps[patient].max() <= 1


def test_flag_columns_tell_flags_from_other_columns(study):  # noqa: F811
    columns = ["CDLR_probability", "CDLR_class", "DLR", "ood", "ood_features", "lesion_pixels", "label"]
    flags, others = flag_columns(study, pd.DataFrame(columns=columns))
    assert flags == ["ood", "ood_features"] and others == ["lesion_pixels", "label"]
