import json

import numpy as np
import pandas as pd
import pytest

from splkit.run.report import load_results, lookup, record, write_table


def test_record_nested_keys_and_numpy_values(tmp_path):
    record(tmp_path, "models.CDLR.validation.auc", np.float64(0.91))
    record(tmp_path, "models.CDLR.training.auc", 0.95)
    record(tmp_path, "cohort.n_patients", np.int64(609))
    record(tmp_path, "radiomics.selected", np.array(["a", "b"]))
    record(tmp_path, "x.nan", float("nan"))
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["models"]["CDLR"] == {"training": {"auc": 0.95}, "validation": {"auc": 0.91}}
    assert results["cohort"]["n_patients"] == 609
    assert results["radiomics"]["selected"] == ["a", "b"]
    assert results["x"]["nan"] is None
    assert lookup(load_results(tmp_path), "models.CDLR.validation.auc") == 0.91


def test_record_replaces_existing_value(tmp_path):
    record(tmp_path, "a.b", 1)
    record(tmp_path, "a.b", 2)
    assert load_results(tmp_path) == {"a": {"b": 2}}


def test_record_rejects_bad_keys(tmp_path):
    with pytest.raises(ValueError):
        record(tmp_path, "a..b", 1)


def test_write_table_leaves_no_temporary_files(tmp_path):
    path = write_table(tmp_path, "t", pd.DataFrame({"x": [1, 2]}))
    assert path.exists()
    assert [p.name for p in path.parent.iterdir()] == ["t.csv"]
