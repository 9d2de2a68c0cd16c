"""Embeddings: shape, cache hit/miss keyed by content, atomic cache writes, errors naming the patient."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from deep._synthetic import DEEP, SyntheticCohort

from splkit.deep import embed
from splkit.deep.backbones import build_backbone, resolve_backbone
from splkit.run.cache import CacheError, ContentCache


@pytest.fixture(scope="module")
def backbone():
    return build_backbone(resolve_backbone(DEEP))


@pytest.fixture
def cohort(tmp_path):
    return SyntheticCohort(tmp_path / "cohort", n=6, shape=(64, 80))


def test_embeddings_then_cache_hit(backbone, cohort, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    first = embed.embed_patients(backbone, cohort, DEEP, cache_dir=cache, progress=False)
    assert first.table.shape == (6, 1280) and first.n_computed == 6 and first.n_cached == 0
    assert first.table.index.name == "patient" and np.isfinite(first.table.to_numpy()).all()
    assert first.table.std().max() > 0  # not constant across patients
    assert len(list(cache.rglob("*.joblib"))) == 6 and not list(cache.rglob("*.tmp"))

    def no_network(*args, **kwargs):
        raise AssertionError("the network ran although every embedding is cached")

    monkeypatch.setattr(embed, "embed_crops", no_network)
    second = embed.embed_patients(backbone, cohort, DEEP, cache_dir=cache, progress=False)
    assert second.n_cached == 6 and second.n_computed == 0
    np.testing.assert_array_equal(first.table.to_numpy(), second.table.to_numpy())


def test_cache_key_changes_with_mask_settings_and_weights(backbone):
    spec = backbone.spec
    key = embed.cache_key(b"img", b"mask", spec, DEEP)
    assert key == embed.cache_key(b"img", b"mask", spec, dict(DEEP))
    assert key != embed.cache_key(b"img", b"mask2", spec, DEEP)
    assert key != embed.cache_key(b"img", b"mask", spec, {**DEEP, "crop_margin": 0.2})
    other = type(spec)(**{**spec.to_dict(), "weights_sha256": "0" * 64})
    assert key != embed.cache_key(b"img", b"mask", other, DEEP)


def test_changed_mask_is_a_cache_miss(backbone, cohort, tmp_path):
    cache = tmp_path / "cache"
    embed.embed_patients(backbone, cohort, DEEP, patients=["P0001"], cache_dir=cache, progress=False)
    from PIL import Image

    mask = cohort.read_mask("P0001").copy()
    mask[:, :] = 0
    mask[10:30, 10:40] = 1
    Image.fromarray(mask).save(cohort.masks["P0001"])
    again = embed.embed_patients(backbone, cohort, DEEP, patients=["P0001"], cache_dir=cache, progress=False)
    assert again.n_computed == 1


def test_cache_entries_are_the_computed_vectors_under_content_keys(backbone, cohort, tmp_path):
    cache = tmp_path / "cache"
    first = embed.embed_patients(backbone, cohort, DEEP, cache_dir=cache, progress=False)
    store = ContentCache(cache, format="joblib")  # the one cache of splkit
    for patient in cohort.table.index:
        key = embed.cache_key(
            cohort.images[patient].read_bytes(), cohort.masks[patient].read_bytes(), backbone.spec, DEEP
        )
        vector = store.get(key)
        assert vector.dtype == np.float32
        np.testing.assert_array_equal(vector, first.table.loc[patient].to_numpy())  # bit-identical


def test_cache_key_ignores_paths(backbone, cohort, tmp_path):
    cache = tmp_path / "cache"
    embed.embed_patients(backbone, cohort, DEEP, patients=["P0002"], cache_dir=cache, progress=False)
    moved = tmp_path / "moved"
    moved.mkdir()
    for files in (cohort.images, cohort.masks):
        files["P0002"] = files["P0002"].rename(moved / files["P0002"].name)
    again = embed.embed_patients(backbone, cohort, DEEP, patients=["P0002"], cache_dir=cache, progress=False)
    assert again.n_cached == 1 and again.n_computed == 0


def test_cache_write_is_atomic(backbone, cohort, tmp_path, monkeypatch):
    import joblib

    def killed_dump(value, filename):
        Path(filename).write_bytes(b"half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(joblib, "dump", killed_dump)
    cache = tmp_path / "cache"
    with pytest.raises(KeyboardInterrupt):
        embed.embed_patients(backbone, cohort, DEEP, patients=["P0001"], cache_dir=cache, progress=False)
    assert not any(p.is_file() for p in cache.rglob("*"))  # neither an entry nor a temporary file


def test_corrupt_cache_entry_is_an_error_naming_the_file(backbone, cohort, tmp_path):
    cache = tmp_path / "cache"
    embed.embed_patients(backbone, cohort, DEEP, patients=["P0001"], cache_dir=cache, progress=False)
    (entry,) = cache.rglob("*.joblib")
    entry.write_bytes(b"garbage")
    with pytest.raises(CacheError, match=entry.name):
        embed.embed_patients(backbone, cohort, DEEP, patients=["P0001"], cache_dir=cache, progress=False)


def test_cache_entry_of_the_wrong_shape_is_an_error(tmp_path):
    store = ContentCache(tmp_path, format="joblib")
    store.put("ab" * 32, np.ones(3, dtype=np.float32))
    with pytest.raises(CacheError, match="shape"):
        embed.load_cached(store, "ab" * 32, 4)
    assert embed.load_cached(store, "cd" * 32, 4) is None


def test_bad_mask_names_patient_and_file_before_the_network_runs(backbone, cohort, monkeypatch, tmp_path):
    from PIL import Image

    Image.fromarray(np.zeros((64, 80), np.uint8)).save(cohort.masks["P0003"])
    monkeypatch.setattr(embed, "embed_crops", lambda *a, **k: pytest.fail("network ran before validation"))
    with pytest.raises(ValueError, match=r"P0003.*P0003_mask\.png.*empty"):
        embed.embed_patients(backbone, cohort, DEEP, cache_dir=tmp_path / "c", progress=False)


def test_throughput_is_positive(backbone):
    assert embed.measure_throughput(backbone, n_images=4, batch_size=4, size=64) > 0
    assert torch.get_num_threads() >= 1


def test_batches_give_the_same_embeddings_and_a_missing_file_names_it(backbone, cohort, tmp_path):
    one_batch = embed.embed_patients(backbone, cohort, DEEP, cache_dir=None, progress=False)
    small = embed.embed_patients(backbone, cohort, {**DEEP, "batch_size": 2}, cache_dir=None, progress=False)
    assert small.table.index.equals(one_batch.table.index)
    np.testing.assert_allclose(small.table.to_numpy(), one_batch.table.to_numpy(), rtol=1e-4, atol=1e-5)
    cohort.images["P0004"].unlink()
    from splkit.run.engine import InputNotReadableError

    with pytest.raises(InputNotReadableError, match=r"P0004: image file .*P0004_image\.png"):
        embed.embed_patients(backbone, cohort, DEEP, cache_dir=None, progress=False)
