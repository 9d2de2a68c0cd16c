import pandas as pd
import pytest

from splkit.run import predictions


def _scores(model, values):
    return pd.DataFrame(
        {
            "patient": ["P0001", "P0002"],
            "cohort": ["train", "validation"],
            "label": [0, 1],
            "model": model,
            "score": values,
        }
    )


def test_save_replaces_rows_of_the_same_model(tmp_path):
    predictions.save(tmp_path, _scores("Clinical", [0.1, 0.9]))
    predictions.save(tmp_path, _scores("Rad", [0.2, 0.8]))
    predictions.save(tmp_path, _scores("Clinical", [0.3, 0.7]))
    table = predictions.load(tmp_path)
    assert len(table) == 4
    assert table.loc[table.model == "Clinical", "score"].tolist() == [0.3, 0.7]
    wide = predictions.wide(tmp_path, cohort="validation")
    assert wide[["Clinical", "Rad"]].iloc[0].tolist() == [0.7, 0.8]


def test_save_rejects_non_probabilities_and_duplicates(tmp_path):
    with pytest.raises(ValueError, match="probabilities"):
        predictions.save(tmp_path, _scores("Rad", [0.2, 1.5]))
    with pytest.raises(ValueError, match="duplicate"):
        predictions.save(tmp_path, pd.concat([_scores("Rad", [0.2, 0.5])] * 2))
