"""Backbone + weights resolution: torchvision's TORCH_HOME lookup offline, loud fallback, no silent random."""

from __future__ import annotations

import urllib.request
import warnings

import numpy as np
import pytest
import torch
import torchvision

from splkit.deep import backbones
from splkit.deep.backbones import WeightsUnavailableError, build_backbone, resolve_backbone


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """An empty TORCH_HOME and no network: downloads raise."""

    def no_network(*args, **kwargs):
        raise OSError("network blocked by the test")

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)
    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    return tmp_path / "torch_home"


def _resnet_settings(**changes):
    deep = {"backbone": "resnet50", "weights": "imagenet", "weights_path": None, "allow_fallback": False}
    deep.update(changes)
    return deep


def test_resnet50_loads_from_torch_home_without_network(offline):
    expected = offline / "hub" / "checkpoints" / "resnet50-0676ba61.pth"
    assert backbones.resnet50_expected_path() == expected  # torchvision's exact file name
    expected.parent.mkdir(parents=True)
    state = torchvision.models.resnet50().state_dict()
    torch.save(state, expected)
    with pytest.warns(UserWarning, match="not the file torchvision publishes"):  # random file, wrong hash
        spec = resolve_backbone(_resnet_settings())
    assert (spec.name, spec.fallback, spec.weights_file, spec.embedding_dim) == (
        "resnet50",
        False,
        "resnet50-0676ba61.pth",
        2048,
    )
    assert spec.weights_sha256 == backbones.sha256_file(expected)
    model = build_backbone(spec)
    assert torch.equal(model.trunk[0].weight, state["conv1.weight"])  # the file's weights, not fresh ones
    with torch.inference_mode():
        assert model(torch.zeros(1, 3, 64, 64)).shape == (1, 2048)


def test_missing_resnet50_without_fallback_says_where_to_put_the_file(offline):
    with pytest.raises(WeightsUnavailableError) as info:
        resolve_backbone(_resnet_settings(allow_fallback=False))
    message = str(info.value)
    assert str(offline / "hub" / "checkpoints" / "resnet50-0676ba61.pth") in message
    assert "weights_path" in message and "allow_fallback" in message


def test_fallback_only_when_allowed_is_loud_and_recorded(offline, tmp_path):
    from splkit.deep import record_backbone
    from splkit.run.report import load_results

    with pytest.warns(UserWarning, match="FALLBACK"):
        spec = resolve_backbone(_resnet_settings(allow_fallback=True))
    assert spec.requested == "resnet50" and spec.name == "efficientnet_lite0" and spec.fallback
    assert spec.weights == "imagenet" and spec.weights_file == "efficientnet-lite0-57934424.pth"
    assert "network blocked" in spec.fallback_reason
    record_backbone(tmp_path / "run", spec)
    deep = load_results(tmp_path / "run")["deep"]
    assert deep["fallback"] is True and deep["backbone"] == "efficientnet_lite0"
    assert deep["backbone_requested"] == "resnet50" and deep["weights_sha256"] == spec.weights_sha256


def test_explicit_weights_path(tmp_path, offline):
    path = tmp_path / "my_resnet.pth"
    torch.save(torchvision.models.resnet50().state_dict(), path)
    spec = resolve_backbone(_resnet_settings(weights_path=str(path)))
    assert spec.weights_path == str(path) and not spec.fallback
    with pytest.raises(WeightsUnavailableError, match="does not exist"):
        resolve_backbone(_resnet_settings(weights_path=str(tmp_path / "absent.pth"), allow_fallback=True))


def test_random_weights_only_by_name_and_loudly(offline):
    with pytest.warns(UserWarning, match="RANDOMLY INITIALISED"):
        spec = resolve_backbone(_resnet_settings(weights="random"), seed=3)
    assert spec.weights == "random" and spec.weights_sha256 is None and spec.seed == 3
    a, b = build_backbone(spec), build_backbone(spec)
    assert torch.equal(a.trunk[0].weight, b.trunk[0].weight)  # seeded
    with pytest.raises(ValueError, match="weights must be"):
        resolve_backbone(_resnet_settings(weights="none"))


def test_changed_weights_file_is_refused(tmp_path, offline):
    path = tmp_path / "w.pth"
    torch.save(torchvision.models.resnet50().state_dict(), path)
    spec = resolve_backbone(_resnet_settings(weights_path=str(path)))
    torch.save(torchvision.models.resnet50().state_dict(), path)
    with pytest.raises(ValueError, match="sha256"):
        build_backbone(spec)


def test_efficientnet_lite0_imagenet_weights_recognise_a_cat():
    """Architecture, shipped weights and normalisation together: skimage's 'chelsea' photo is a cat.

    Reference: ImageNet classes 281-285 are the domestic cats (tabby, tiger cat, Persian, Siamese,
    Egyptian cat); torchvision's ResNet50_Weights meta lists the class names.
    """
    from skimage import data
    from skimage.transform import resize

    from splkit.deep.efficientnet_lite import EfficientNetLite0

    spec = resolve_backbone({"backbone": "efficientnet_lite0", "weights": "imagenet"})
    model = EfficientNetLite0()
    model.load_efficientnet_pytorch_state_dict(torch.load(spec.weights_path, weights_only=True))
    model.eval()
    image = resize(data.chelsea(), (224, 224), anti_aliasing=True).astype(np.float32)
    x = (
        torch.from_numpy(image).permute(2, 0, 1)[None] - torch.tensor(spec.mean)[:, None, None]
    ) / torch.tensor(spec.std)[:, None, None]
    with torch.inference_mode():
        probabilities = model(x).softmax(1)[0]
    assert int(probabilities.argmax()) in range(281, 286)
    assert float(probabilities[281:286].sum()) > 0.8


def test_unknown_backbone():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="deep.backbone"):
            resolve_backbone({"backbone": "vgg16"})


def test_default_profile_falls_back_offline_and_smoke_uses_lite0(offline):
    from splkit.config import load_profile

    default = load_profile("default").deep
    assert default.backbone == "resnet50" and default.allow_fallback and default.weights == "imagenet"
    with pytest.warns(UserWarning, match="FALLBACK"):
        assert resolve_backbone(default).name == "efficientnet_lite0"
    smoke = load_profile("smoke").deep
    assert smoke.weights == "imagenet"  # real weights in CI: no silent random features
    assert resolve_backbone(smoke).name == smoke.backbone


def test_statements_say_random_and_fallback_in_bold(offline):
    from splkit.deep import check_finetune
    from splkit.deep.outputs import backbone_statement, backbone_table

    with pytest.warns(UserWarning):
        random_spec = resolve_backbone(_resnet_settings(weights="random"), seed=1)
        fallback_spec = resolve_backbone(_resnet_settings(allow_fallback=True))
    assert "**The resnet50 backbone of this run has RANDOMLY INITIALISED weights" in backbone_statement(
        random_spec
    )
    statement = backbone_statement(fallback_spec)
    assert "**Fallback" in statement and fallback_spec.weights_sha256 in statement
    assert backbone_table(fallback_spec).loc["fallback", "value"].startswith("yes")
    assert check_finetune({"finetune": False}) is False
