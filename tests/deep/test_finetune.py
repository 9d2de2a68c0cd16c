"""Optional fine-tuning: only the last block and the head learn, seeded, features and Grad-CAM work."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from deep._synthetic import DEEP, SyntheticCohort

from splkit.config import Settings
from splkit.deep import finetune, gradcam
from splkit.deep.backbones import build_backbone, resolve_backbone
from splkit.deep.embed import load_crop


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("finetune")
    cohort = SyntheticCohort(folder / "cohort", n=12, shape=(72, 96))
    backbone = build_backbone(resolve_backbone(DEEP))
    train = list(cohort.table.index[cohort.table["cohort"] == "train"])
    crops = np.stack([load_crop(cohort, p, DEEP)[0] for p in train])
    labels = cohort.table.loc[train, "label"].to_numpy()
    before = {k: v.clone() for k, v in backbone.state_dict().items()}
    model, history = finetune.fine_tune(
        backbone, crops, labels, n_features=8, epochs=3, batch_size=4, seed=0, device="cpu", progress=False
    )
    return cohort, backbone, before, crops, labels, model, history, folder


def test_only_the_last_block_and_the_head_change(trained):
    _, backbone, before, _, _, model, history, _ = trained
    for key, value in backbone.state_dict().items():  # the ImageNet backbone itself is untouched
        assert torch.equal(value, before[key]), key
    tuned = model.backbone.state_dict()
    last_prefixes = (f"trunk.{len(model.backbone.trunk) - 1}.", "target_layer.")  # one block, two names
    last = {k for k in tuned if k.startswith(last_prefixes)}
    changed = {k for k in tuned if tuned[k].is_floating_point() and not torch.equal(tuned[k], before[k])}
    assert changed and changed <= last  # weights moved only inside the last block
    assert list(history["epoch"]) == [1, 2, 3] and np.isfinite(history["training loss"]).all()


def test_fine_tuning_is_seeded(trained):
    _, backbone, _, crops, labels, model, _, _ = trained
    again, _ = finetune.fine_tune(
        backbone, crops, labels, n_features=8, epochs=3, batch_size=4, seed=0, device="cpu", progress=False
    )
    for key, value in model.state_dict().items():
        torch.testing.assert_close(again.state_dict()[key], value)


def test_features_and_gradcam_of_the_saved_network(trained):
    cohort, _, _, _, _, model, _, folder = trained
    features = finetune.finetuned_features(model, cohort, cohort.table.index, DEEP, progress=False)
    assert list(features.columns) == [f"DTL_{i:03d}" for i in range(1, 9)]
    assert features.shape == (12, 8) and features.std().gt(0).all()
    run = folder / "run"
    finetune.save_finetuned_model(run, model, DEEP)
    rebuilt, payload = gradcam.load_gradcam_model(run)  # the Grad-CAM model of the run is the network
    assert isinstance(rebuilt, finetune.FineTunedDTL) and payload["finetuned"]
    again = finetune.finetuned_features(rebuilt, cohort, cohort.table.index, DEEP, progress=False)
    np.testing.assert_allclose(again.to_numpy(), features.to_numpy(), rtol=1e-5, atol=1e-5)
    settings = Settings({"run_dir": str(run), "deep": DEEP, "n_jobs": 1})
    # the two patients with the largest logits lie above the training mean: their malignant map is not empty
    from splkit.deep.preprocess import to_network_input

    crops = np.stack([load_crop(cohort, p, DEEP)[0] for p in cohort.table.index])
    with torch.inference_mode():
        logits = rebuilt(to_network_input(crops, rebuilt.backbone.spec.mean, rebuilt.backbone.spec.std))[:, 0]
    patients = list(cohort.table.index[np.argsort(-logits.numpy())[:2]])
    maps = gradcam.gradcam_maps(settings, cohort, patients, progress=False)
    for patient in patients:
        image = cohort.read_image(patient)
        assert maps[patient].shape == image.shape and maps[patient].max() > maps[patient].min()


def test_fine_tuning_needs_both_classes(trained):
    _, backbone, _, crops, _, _, _, _ = trained
    with pytest.raises(ValueError, match="both classes"):
        finetune.fine_tune(backbone, crops, np.zeros(len(crops)), epochs=1, progress=False)


def test_check_finetune(monkeypatch):
    assert finetune.check_finetune({"finetune": False}) is False
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(UserWarning, match="without a GPU"):
        assert finetune.check_finetune({"finetune": True}) is True


def test_saved_network_has_reproducible_bytes(trained, tmp_path):
    model = trained[5]
    first = finetune.save_finetuned_model(tmp_path / "a", model, DEEP).read_bytes()
    second = finetune.save_finetuned_model(tmp_path / "b", model, DEEP).read_bytes()
    assert first == second  # no temporary file name inside the archive
