"""splkit.study.card: the model card's sections, numbers from results.json, limitations and hashes."""

from __future__ import annotations

from types import SimpleNamespace

from splkit.study.card import SECTIONS, model_card

VALIDATION = {
    "auc": 0.8074,
    "auc_delong_low": 0.6277,
    "auc_delong_high": 0.9871,
    "sensitivity": 0.6,
    "sensitivity_low": 0.357,
    "sensitivity_high": 0.802,
    "specificity": 1.0,
    "cal_intercept": 0.5346,
    "cal_slope": 1.2064,
    "brier": 0.1726,
    "hl_p": 0.0004,
    "n": 24,
    "n_positive": 15,
}
RESULTS = {
    "cohort": {"n_train": 96, "n_validation": 24, "malignant_share": 0.6083},
    "deep": {
        "backbone": "resnet50",
        "backbone_requested": "efficientnet_lite0",
        "fallback": True,
        "fallback_reason": "weights not found",
    },
    "models": {
        "DLR": {"train": {"n": 96, "n_positive": 58}, "validation": VALIDATION},
        "CDLR": {"train": {"n": 96, "n_positive": 58}, "validation": {**VALIDATION, "auc": 0.8123}},
    },
}
MANIFEST = {
    "created": "2026-01-01T00:00:00+00:00",
    "versions": {"splkit": "0.1.0", "numpy": "2.0.0"},
    "radiomics": {"preset": "ultrasound2d", "preset_sha256": "a" * 64},
    "deep": {"weights_file": "w.pth", "weights_sha256": "b" * 64},
    "training": {"data_sha256": "c" * 64},
    "files": {"models.joblib": "d" * 64},
}


def fake_study(simulate: bool = True, fallback: bool = True):
    """What the card reads of a :class:`~splkit.study.Study`."""
    return SimpleNamespace(
        settings={"name": "smoke", "data": {"simulate": simulate, "positive_label": "malignant"}},
        manifest=MANIFEST,
        training={"positive_label": "malignant", "n_train": 96, "data_sha256": "c" * 64},
        results=RESULTS,
        model_names=["Clinical", "DLR", "CDLR"],
        thresholds={"Clinical": 0.5, "DLR": 0.74, "CDLR": 0.741},
        clinical=SimpleNamespace(predictors_=["age", "cyfra21_1"]),
        models=SimpleNamespace(
            inputs_={"DLR": ["rad_1", "DTL_001"], "CDLR": ["rad_1", "DTL_001", "age", "cyfra21_1"]},
            best_params_={"DLR": {"C": 1.0, "gamma": "scale"}},
        ),
        deep=SimpleNamespace(
            describe=lambda: {
                "backbone": "resnet50",
                "weights": "imagenet",
                "compression": "PCA (training)",
                "n_features": 32,
                "fallback": fallback,
            }
        ),
        radiomics=SimpleNamespace(describe=lambda: {"preset": "ultrasound2d"}),
    )


def test_the_card_has_every_section_and_the_validation_numbers():
    card = model_card(fake_study(), RESULTS)
    headings = [line[3:] for line in card.splitlines() if line.startswith("## ")]
    assert headings == list(SECTIONS)
    assert "0.812 (0.628–0.987)" in card and "0.807 (0.628–0.987)" in card  # AUC with the DeLong interval
    assert "0.600 (0.357–0.802)" in card  # sensitivity with its interval
    assert "| CDLR | 0.535 | 1.206 | 0.173 | <0.001 |" in card  # calibration
    assert "58 of 96 (60.4 %)" in card and "| simulated data | yes |" in card
    assert "`rad_1`, `DTL_001`, `age`, `cyfra21_1`" in card and "0.741" in card
    assert "a" * 64 in card and "d" * 64 in card and "| numpy | 2.0.0 |" in card
    assert "BMJ 2024;385:e078378" in card and "| 23a |" in card


def test_limitations_name_simulated_data_and_the_fallback_backbone():
    card = model_card(fake_study(), RESULTS)
    limitations = card.split("## Known limitations")[1].split("## ")[0]
    assert "Simulated data" in limitations and "Single centre" in limitations
    assert "Fallback backbone" in limitations and "efficientnet_lite0" in limitations
    real = model_card(fake_study(simulate=False, fallback=False), {**RESULTS, "deep": {"fallback": False}})
    assert "Simulated data" not in real and "Fallback backbone" not in real


def test_missing_results_say_so_instead_of_failing():
    card = model_card(fake_study(), {})
    assert "Validation performance: not recorded in this run" in card
