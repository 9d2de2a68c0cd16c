"""Grad-CAM of the DTL classifier: exact linear layers, frame-shaped non-constant heatmaps, save/rebuild."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from deep._synthetic import DEEP, SyntheticCohort

from splkit.config import Settings
from splkit.deep import gradcam
from splkit.deep.backbones import build_backbone, resolve_backbone
from splkit.deep.compress import compress_embeddings
from splkit.deep.embed import embed_patients


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gradcam")
    cohort = SyntheticCohort(folder / "cohort", n=12, shape=(72, 96))
    spec = resolve_backbone(DEEP)
    backbone = build_backbone(spec)
    emb = embed_patients(backbone, cohort, DEEP, cache_dir=None, progress=False)
    train = cohort.table.index[cohort.table["cohort"] == "train"]
    candidates, compressor = compress_embeddings(emb.table, train, DEEP["n_components"], random_state=0)
    head = gradcam.fit_gradcam_head(candidates, cohort.table["label"], train, cv_folds=2, random_state=0)
    model = gradcam.DTLClassifier(backbone, compressor, head, head.feature_names_)
    return cohort, spec, backbone, emb, candidates, compressor, head, model, folder


def test_classifier_reproduces_pca_and_logistic_head(fitted):
    cohort, spec, backbone, emb, candidates, compressor, head, model, _ = fitted
    from splkit.deep.embed import load_crop
    from splkit.deep.preprocess import to_network_input

    crops = np.stack([load_crop(cohort, p, DEEP)[0] for p in cohort.table.index[:3]])
    with torch.inference_mode():
        logits = model(to_network_input(crops, spec.mean, spec.std))[:, 0].numpy()
    expected = head.decision_function(candidates.iloc[:3][head.feature_names_])
    np.testing.assert_allclose(logits, expected, rtol=1e-3, atol=1e-3)


def test_gradcam_maps_have_the_frame_shape_and_are_not_constant(fitted):
    cohort, spec, backbone, emb, candidates, compressor, head, model, folder = fitted
    run = folder / "run"
    gradcam.save_gradcam_model(run, spec, compressor, head, DEEP)
    settings = Settings({"run_dir": str(run), "deep": DEEP, "n_jobs": 1})
    # the two most malignant-looking patients: their logit exceeds the average patient's, so some location
    # contributes positively and the malignant map cannot be empty
    scores = pd.Series(head.decision_function(candidates[head.feature_names_]), index=candidates.index)
    patients = list(scores.nlargest(2).index)
    maps = gradcam.gradcam_maps(settings, cohort, patients, progress=False)  # rebuilt from the run dir
    assert set(maps) == set(patients)
    for patient, heatmap in maps.items():
        image = cohort.read_image(patient)
        assert heatmap.shape == image.shape and heatmap.dtype == np.float32
        assert 0 <= heatmap.min() and heatmap.max() <= 1
        assert heatmap.std() > 0.01 and heatmap.max() > 0.5  # not constant


def test_missing_model_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="notebook 04"):
        gradcam.load_gradcam_model(tmp_path)


def test_baselines_give_the_same_logit_and_the_map_decomposes_it(fitted):
    cohort, spec, backbone, emb, candidates, compressor, head, model, _ = fitted
    from splkit.deep.embed import load_crop
    from splkit.deep.preprocess import to_network_input

    zero = gradcam.DTLClassifier(backbone, compressor, head, head.feature_names_, baseline="zero")
    crops = np.stack([load_crop(cohort, p, DEEP)[0] for p in cohort.table.index[:3]])
    x = to_network_input(crops, spec.mean, spec.std)
    with torch.no_grad():
        logits = model(x)[:, 0]
        torch.testing.assert_close(zero(x)[:, 0], logits, rtol=1e-4, atol=1e-4)
        # linear after the target layer: the per-location contributions sum to logit - logit(mean patient)
        activations = model.target_layer(backbone.forward_features(x))
        weights = (model.head.weight @ model.pca.weight)[0] / activations[0, 0].numel()
        contributions = torch.einsum("k,nkij->n", weights, activations)
        mean_patient_logit = model.head(model.pca(torch.zeros(1, model.pca.in_features)))[0, 0]
    torch.testing.assert_close(contributions, logits - mean_patient_logit, rtol=1e-3, atol=1e-3)
    with pytest.raises(ValueError, match="baseline"):
        gradcam.DTLClassifier(backbone, compressor, head, head.feature_names_, baseline="median")


def test_targets(fitted):
    cohort, model = fitted[0], fitted[7]
    from splkit.deep.embed import load_crop

    crops = np.stack([load_crop(cohort, p, DEEP)[0] for p in cohort.table.index[:2]])
    malignant = gradcam.gradcam_crops(model, crops, target="malignant")
    benign = gradcam.gradcam_crops(model, crops, target="benign")
    predicted = gradcam.gradcam_crops(model, crops, target="predicted")
    assert malignant.shape == benign.shape == predicted.shape == (2, DEEP["image_size"], DEEP["image_size"])
    assert not np.allclose(malignant, benign)
    for row in range(2):
        assert np.allclose(predicted[row], malignant[row]) or np.allclose(predicted[row], benign[row])
    with pytest.raises(ValueError, match="target"):
        gradcam.gradcam_crops(model, crops, target="lesion")


def test_gradcam_frames_mix_cohorts_in_one_batch(fitted, tmp_path):
    """Patients of two cohorts (a validation and an external one) share a batch; each map is the one its
    cohort's image gives alone."""
    cohort, spec, backbone, emb, candidates, compressor, head, model, folder = fitted
    other = SyntheticCohort(tmp_path / "external", n=3, shape=cohort.read_image("P0001").shape, seed=5)
    settings = Settings({"run_dir": str(folder / "run"), "deep": DEEP, "n_jobs": 1})
    frames = [(cohort, "P0001"), (other, "P0002"), (cohort, "P0003")]
    mixed = gradcam.gradcam_frames(settings, frames, model=model, progress=False)
    alone = gradcam.gradcam_maps(settings, other, ["P0002"], model=model, progress=False)
    np.testing.assert_allclose(mixed[1], alone["P0002"], atol=1e-5)
    first = gradcam.gradcam_maps(settings, cohort, ["P0001", "P0003"], model=model, progress=False)
    np.testing.assert_allclose(mixed[0], first["P0001"], atol=1e-5)
    np.testing.assert_allclose(mixed[2], first["P0003"], atol=1e-5)
