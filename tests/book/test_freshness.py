"""splkit.book.freshness: a notebook is skipped only when its chained key and the run directory match."""

import json

from splkit.book import freshness


def _notebooks(tmp_path):
    folder = tmp_path / "nb"
    folder.mkdir()
    paths = []
    for name in ("01_a.ipynb", "02_b.ipynb", "03_c.ipynb"):
        (folder / name).write_text(json.dumps({"cells": [name]}))
        paths.append(folder / name)
    return paths


def test_keys_chain_and_follow_every_input(tmp_path):
    notebooks = _notebooks(tmp_path)
    cohort = tmp_path / "cohort"
    cohort.mkdir()
    (cohort / "clinical.csv").write_text("patient_id,label\nA,1\n")
    digest = freshness.inputs_digest({"seed": 1, "run_dir": "runs/x"}, [cohort])
    keys = freshness.notebook_keys(notebooks, digest)
    assert digest == freshness.inputs_digest({"seed": 1, "run_dir": "elsewhere"}, [cohort])  # path-free
    assert digest != freshness.inputs_digest({"seed": 2, "run_dir": "runs/x"}, [cohort])
    (cohort / "clinical.csv").write_text("patient_id,label\nA,0\n")
    assert digest != freshness.inputs_digest({"seed": 1, "run_dir": "runs/x"}, [cohort])
    notebooks[1].write_text(json.dumps({"cells": ["edited"]}))
    edited = freshness.notebook_keys(notebooks, digest)
    assert edited["01_a.ipynb"] == keys["01_a.ipynb"]
    assert edited["02_b.ipynb"] != keys["02_b.ipynb"] and edited["03_c.ipynb"] != keys["03_c.ipynb"]


def test_up_to_date_needs_the_recorded_run_directory(tmp_path):
    notebooks = _notebooks(tmp_path)
    run = tmp_path / "run"
    (run / "notebooks").mkdir(parents=True)
    (run / "results.json").write_text("{}")
    keys = freshness.notebook_keys(notebooks, "digest")
    assert freshness.up_to_date(run, keys) == set()  # no state yet
    freshness.remember(run, keys)
    assert freshness.up_to_date(run, keys) == set(keys)
    changed = dict(keys, **{"02_b.ipynb": "other", "03_c.ipynb": "other"})
    assert freshness.up_to_date(run, changed) == {"01_a.ipynb"}  # the leading notebooks that match
    (run / "book").mkdir()
    (run / "book" / "intro.md").write_text("a rebuilt book")  # the book build's folder does not count
    assert freshness.up_to_date(run, keys) == set(keys)
    (run / "results.json").write_text('{"edited": true}')  # the run directory changed since
    assert freshness.up_to_date(run, keys) == set()
    freshness.remember(run, keys)
    freshness.forget(run)
    assert freshness.up_to_date(run, keys) == set()
    assert (
        "cohort" not in (run / "notebooks").iterdir().__next__().name
        if any((run / "notebooks").iterdir())
        else True
    )
