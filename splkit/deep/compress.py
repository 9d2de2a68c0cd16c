"""Compression of the pooled embeddings to the DTL candidate features by PCA fitted on training only.

The paper compresses the 2048-d ResNet-50 embedding to 128 features before selection.  Here that is a
principal component analysis (Pearson 1901; Jolliffe, *Principal Component Analysis*, 2002) fitted on
the training cohort only — validation embeddings are projected with the training fit — with the
number of components capped at the number of training patients and the embedding dimension.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import PCA
from sklearn.utils.validation import check_is_fitted


def dtl_names(n: int) -> list[str]:
    """``DTL_001`` … names of the compressed features."""
    return [f"DTL_{i:03d}" for i in range(1, n + 1)]


class DTLCompressor(TransformerMixin, BaseEstimator):
    """PCA of the embeddings to at most ``n_components`` ``DTL_###`` features (scikit-learn transformer).

    Parameters
    ----------
    n_components
        Requested components; the fit uses ``min(n_components, n_samples, n_features)``.
    random_state
        Seed of the randomized SVD solver (used by scikit-learn for large inputs).

    Attributes
    ----------
    pca_ : sklearn.decomposition.PCA
    n_components_ : int
        Components actually used.
    explained_variance_ratio_ : ndarray
    feature_names_in_ : ndarray
        Embedding column names seen in ``fit`` (when fitted on a DataFrame).
    """

    def __init__(self, n_components: int = 128, random_state: int | None = None):
        self.n_components = n_components
        self.random_state = random_state

    def fit(self, X, y=None):
        X = self._validate(X, reset=True)
        n = int(min(self.n_components, X.shape[0], X.shape[1]))
        if n < 1:
            raise ValueError(f"PCA needs at least one training sample and feature, got shape {X.shape}")
        self.pca_ = PCA(n_components=n, random_state=self.random_state).fit(X)
        self.n_components_ = n
        self.explained_variance_ratio_ = self.pca_.explained_variance_ratio_
        return self

    def transform(self, X):
        check_is_fitted(self, "pca_")
        return self.pca_.transform(self._validate(X, reset=False))

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        check_is_fitted(self, "pca_")
        return np.asarray(dtl_names(self.n_components_), dtype=object)

    def _validate(self, X, reset: bool) -> np.ndarray:
        if isinstance(X, pd.DataFrame):
            if reset:
                self.feature_names_in_ = np.asarray(X.columns, dtype=object)
            elif hasattr(self, "feature_names_in_") and list(X.columns) != list(self.feature_names_in_):
                raise ValueError("embedding columns differ from those the PCA was fitted on")
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2:
            raise ValueError(f"expected a 2-D embedding matrix, got shape {X.shape}")
        if not np.isfinite(X).all():
            raise ValueError("embeddings contain NaN or infinite values")
        if reset:
            self.n_features_in_ = X.shape[1]
        return X


def compress_embeddings(
    embeddings: pd.DataFrame,
    train_patients: Iterable[str],
    n_components: int,
    random_state: int | None = None,
) -> tuple[pd.DataFrame, DTLCompressor]:
    """Fit the PCA on the training patients' embeddings and project every patient.

    Returns the ``DTL_###`` table (index ``patient``, all rows of ``embeddings``) and the fitted
    :class:`DTLCompressor`.
    """
    train = list(train_patients)
    missing = sorted(set(train) - set(embeddings.index))
    if missing:
        raise KeyError(
            f"training patients without an embedding: {missing[:5]}{'…' if len(missing) > 5 else ''}"
        )
    compressor = DTLCompressor(n_components=n_components, random_state=random_state).fit(
        embeddings.loc[train]
    )
    table = pd.DataFrame(
        compressor.transform(embeddings), index=embeddings.index, columns=compressor.get_feature_names_out()
    )
    table.index.name = "patient"
    return table, compressor


def variance_table(compressor: DTLCompressor) -> pd.DataFrame:
    """Explained variance ratio per component and cumulatively (training cohort)."""
    ratio = compressor.explained_variance_ratio_
    return pd.DataFrame(
        {"component": dtl_names(len(ratio)), "explained_variance": ratio, "cumulative": np.cumsum(ratio)}
    )
