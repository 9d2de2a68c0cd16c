"""The compute engine: profile settings, the local pool, and a Dask LocalCluster giving the same numbers
(radiomics, embeddings, SHAP), also when a worker is killed mid-run."""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk

from splkit.config import load_profile
from splkit.radiomics import extract as ex
from splkit.run.cache import ContentCache
from splkit.run.engine import Engine, InputNotReadableError


def speckle_case(folder, patient, seed, n=48):
    """A speckle-like 8-bit image with a brighter ellipse lesion, and its mask, as NRRD files."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:n, :n]
    mask = (((yy - n / 2) / (n * 0.3)) ** 2 + ((xx - n / 2 + 2) / (n * 0.22)) ** 2 <= 1).astype(np.uint8)
    image = np.clip(rng.rayleigh(40, (n, n)) + (60 + seed) * mask, 0, 255).astype(np.uint8)
    folder.mkdir(parents=True, exist_ok=True)
    paths = folder / f"{patient}_img.nrrd", folder / f"{patient}_mask.nrrd"
    for array, path in zip((image, mask), paths, strict=True):
        itk = sitk.GetImageFromArray(array)
        itk.SetSpacing((0.2, 0.2))
        sitk.WriteImage(itk, str(path))
    return ex.ImageTask(patient, *paths, 0.2)


# --- settings and the local engine ---------------------------------------------------------------


def test_engine_from_settings():
    default = load_profile("default")
    assert default.compute.engine == "local"
    engine = Engine.from_settings(default)
    assert (engine.kind, engine.workers, engine.distributed) == ("local", default.n_jobs, False)
    assert Engine.from_settings({"n_jobs": 3}).workers == 3  # a run made before `compute` existed
    dask = Engine.from_settings({"compute": {"engine": "dask", "scheduler": "tcp://h:8786", "workers": 4}})
    assert (dask.kind, dask.scheduler, dask.workers, dask.distributed) == ("dask", "tcp://h:8786", 4, True)
    with pytest.raises(ValueError, match="compute.engine"):
        Engine("spark")
    with pytest.raises(ValueError, match="needs compute.engine: dask"):
        Engine("local", scheduler="tcp://h:8786")


def test_local_pool_yields_every_item_and_advances_the_bar():
    class Bar:
        n = 0

        def update(self, k):
            self.n += k

    bar = Bar()
    with Engine("local", workers=2) as engine:
        results = dict(engine.map(pow, [1, 2, 3, 4, 5], 2, progress=bar))
    assert results == {0: 1, 1: 4, 2: 9, 3: 16, 4: 25} and bar.n == 5
    assert dict(Engine("local", workers=1).map(pow, [3], 3)) == {0: 27}


def test_local_pool_raises_the_first_error():
    with pytest.raises(ZeroDivisionError):
        list(Engine("local", workers=2).map(divmod, [1, 2, 3], 0))


# --- a Dask LocalCluster: same numbers ---------------------------------------------------------------


@pytest.fixture(scope="module")
def dask_engine():
    pytest.importorskip("distributed")
    with Engine("dask", workers=2) as engine:
        engine.start()
        yield engine


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cases")
    return [speckle_case(folder, f"P{i:04d}", seed=i) for i in range(1, 13)]


def _kill_a_worker_when(engine, done, killed):
    """Kill -9 one worker process of ``engine`` once ``done()`` (results so far) is at least 1."""
    deadline = time.monotonic() + 60
    while not done() and time.monotonic() < deadline:
        time.sleep(0.02)
    pid = next(iter(engine.client.run(os.getpid).values()))
    os.kill(pid, signal.SIGKILL)
    killed.append(done())


def test_radiomics_on_dask_equals_local_even_when_a_worker_dies(tmp_path, cases, dask_engine):
    local = ex.extract_cohort(cases, "ultrasound2d", cache_dir=tmp_path / "local", n_jobs=2, progress=False)
    on_dask = ex.extract_cohort(cases, "ultrasound2d", cache_dir=tmp_path / "dask", engine=dask_engine)
    assert on_dask.n_computed == len(cases)
    pd.testing.assert_frame_equal(on_dask.features, local.features, check_exact=True)
    assert on_dask.features.equals(local.features)

    cache = tmp_path / "killed"
    killed: list[int] = []
    killer = threading.Thread(
        target=_kill_a_worker_when, args=(dask_engine, lambda: len(list(cache.rglob("*.json"))), killed)
    )
    killer.start()
    survived = ex.extract_cohort(cases, "ultrasound2d", cache_dir=cache, engine=dask_engine, progress=False)
    killer.join()
    entries = list(cache.rglob("*.json"))
    assert killed and killed[0] < len(cases) - 2, "the kill should land mid-run"
    assert len(entries) == len(cases)
    assert survived.features.equals(local.features)
    store = ContentCache(cache, format="json")
    for entry in entries:  # every entry whole (no half-written file under an entry's name)
        assert store.get(entry.stem)["values"] == json.loads(entry.read_text())["values"]


def test_embeddings_on_dask_equal_local(tmp_path, dask_engine):
    from deep._synthetic import DEEP, SyntheticCohort

    from splkit.deep import embed
    from splkit.deep.backbones import build_backbone, resolve_backbone

    deep = {**DEEP, "batch_size": 3}
    backbone = build_backbone(resolve_backbone(deep))
    cohort = SyntheticCohort(tmp_path / "cohort", n=10, shape=(64, 80))
    # one torch thread, as on a Dask worker: torch's thread count changes the last digits
    local = embed.embed_patients(
        backbone, cohort, deep, n_jobs=1, cache_dir=tmp_path / "local", progress=False
    )
    on_dask = embed.embed_patients(
        backbone, cohort, deep, cache_dir=tmp_path / "dask", progress=False, engine=dask_engine
    )
    assert on_dask.n_computed == 10 and len(list((tmp_path / "dask").rglob("*.joblib"))) == 10
    np.testing.assert_array_equal(on_dask.table.to_numpy(), local.table.to_numpy())
    assert on_dask.table.equals(local.table)
    assert on_dask.geometries == local.geometries


def test_shap_on_dask_equals_local(dask_engine):
    from sklearn.linear_model import LogisticRegression

    from splkit.explain.shapley import explain_model

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(40, 3)), columns=["a", "b", "c"])
    y = (X["a"] + rng.normal(size=40) > 0).astype(int)
    model = LogisticRegression().fit(X, y)
    rows = X.iloc[:12]  # two blocks
    local = explain_model(model, X, rows, background_size=5, n_jobs=1)
    on_dask = explain_model(model, X, rows, background_size=5, engine=dask_engine)
    assert on_dask.values.equals(local.values)


def test_an_input_the_worker_cannot_read_is_an_error_naming_it(tmp_path, cases, dask_engine):
    missing = ex.ImageTask("P0099", tmp_path / "not_here_img.nrrd", cases[0].mask, 0.2)
    with pytest.raises(InputNotReadableError, match=r"P0099: image file .*not_here_img\.nrrd.*same path"):
        ex.extract_cohort([cases[0], missing], "ultrasound2d", engine=dask_engine, allow_exclusions=True)
