"""Which presets the fast engine takes, and the engine ``radiomics.engine`` resolves to."""

import pytest

from splkit.radiomics.fast.support import ENGINES, UnsupportedPresetError, choose_engine, unsupported
from splkit.radiomics.presets import load_preset


def params(**changes):
    base = load_preset("ultrasound2d").pyradiomics_params()
    for key, value in changes.items():
        base[key] = value
    return base


def test_shipped_presets():
    assert unsupported(params(), "2d") == []
    problems = " | ".join(unsupported(load_preset("paper1561").pyradiomics_params(), "slice3d"))
    for reason in ("input 'slice3d'", "feature class 'shape'", "image type 'LBP3D'"):
        assert reason in problems


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"setting": {"binCount": 32, "resampledPixelSpacing": [0.5, 0.5]}}, "resampledPixelSpacing"),
        ({"setting": {"normalize": True}}, "normalize=True"),
        ({"setting": {"force2D": True}}, "force2D=True"),
        ({"setting": {"additionalInfo": True}}, "additionalInfo=True"),
        ({"setting": {"weightingNorm": "euclidean"}}, "weightingNorm"),
        ({"setting": {"resegmentRange": [0, 100]}}, "resegmentRange"),
        ({"setting": {"preCrop": True}}, "preCrop=True"),
        ({"setting": {"someNewSetting": 1}}, "setting 'someNewSetting'"),
        ({"imageType": {"Wavelet": {"level": 2}}}, "wavelet level"),
        ({"imageType": {"LoG": {"sigma": [1.0], "lbp2DRadius": 2}}}, "imageType LoG: setting 'lbp2DRadius'"),
        ({"featureClass": {"glcm": ["Dissimilarity"]}}, "glcm features Dissimilarity"),
        ({"featureClass": {}}, "no featureClass"),
        ({"voxelSetting": {"kernelRadius": 2}}, "voxelSetting"),
    ],
)
def test_what_is_unsupported_is_named(change, reason):
    assert any(reason in problem for problem in unsupported(params(**change), "2d"))


def test_default_valued_settings_are_fine():
    settings = {"binWidth": 10, "normalize": None, "force2D": 0, "distances": [1, 2], "gldm_a": 1}
    assert unsupported(params(setting=settings), "2d") == []


def test_choose_engine():
    ultrasound, paper = params(), load_preset("paper1561").pyradiomics_params()
    assert ENGINES == ("auto", "fast", "pyradiomics")
    assert choose_engine(ultrasound, "2d", "auto") == "fast"
    assert choose_engine(ultrasound, "2d", "pyradiomics") == "pyradiomics"
    assert choose_engine(paper, "slice3d", "auto") == "pyradiomics"
    with pytest.raises(UnsupportedPresetError, match="fast cannot extract preset 'paper1561'.*LBP3D"):
        choose_engine(paper, "slice3d", "fast", "paper1561")
    with pytest.raises(ValueError, match="must be one of auto, fast, pyradiomics"):
        choose_engine(ultrasound, "2d", "turbo")
