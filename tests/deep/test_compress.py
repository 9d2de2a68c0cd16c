"""PCA compression: fitted on training rows only, capped at n_train."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.decomposition import PCA

from splkit.deep.compress import DTLCompressor, compress_embeddings, variance_table


@pytest.fixture
def embeddings():
    rng = np.random.default_rng(1)
    index = pd.Index([f"P{i:04d}" for i in range(1, 31)], name="patient")
    return pd.DataFrame(
        rng.normal(size=(30, 12)) @ rng.normal(size=(12, 12)),
        index=index,
        columns=[f"emb_{i:04d}" for i in range(12)],
    )


def test_pca_is_fitted_on_training_rows_only(embeddings):
    train = embeddings.index[:20]
    table, compressor = compress_embeddings(embeddings, train, n_components=5, random_state=0)
    altered = embeddings.copy()
    altered.iloc[20:] = altered.iloc[20:] * 100 + 7  # change every validation row
    table2, compressor2 = compress_embeddings(altered, train, n_components=5, random_state=0)
    np.testing.assert_allclose(compressor.pca_.components_, compressor2.pca_.components_)
    np.testing.assert_allclose(table.loc[train], table2.loc[train])
    assert not np.allclose(table.iloc[20:], table2.iloc[20:])
    # equals an independent sklearn PCA fitted on the training rows
    reference = PCA(n_components=5).fit(embeddings.loc[train])
    np.testing.assert_allclose(
        np.abs(table.iloc[20:].to_numpy()), np.abs(reference.transform(embeddings.iloc[20:])), atol=1e-8
    )
    assert list(table.columns) == ["DTL_001", "DTL_002", "DTL_003", "DTL_004", "DTL_005"]
    assert table.index.name == "patient"


def test_components_capped_at_n_train(embeddings):
    table, compressor = compress_embeddings(embeddings, embeddings.index[:6], n_components=128)
    assert compressor.n_components_ == 6 and table.shape == (30, 6)
    variance = variance_table(compressor)
    assert variance["cumulative"].iloc[-1] == pytest.approx(1.0)


def test_errors():
    with pytest.raises(KeyError, match="P0099"):
        compress_embeddings(pd.DataFrame(np.ones((2, 2)), index=["P0001", "P0002"]), ["P0099"], 2)
    with pytest.raises(ValueError, match="NaN"):
        DTLCompressor(2).fit(np.array([[1.0, np.nan], [2.0, 3.0]]))
    fitted = DTLCompressor(1).fit(pd.DataFrame({"a": [1.0, 2, 3], "b": [1.0, 0, 2]}))
    with pytest.raises(ValueError, match="columns differ"):
        fitted.transform(pd.DataFrame({"b": [1.0], "a": [2.0]}))
