"""The nomogram of a fitted clinical logistic model: points per predictor, total points -> probability.

The classic construction (Harrell, *Regression Modeling Strategies*, 2nd ed., 2015, sect. 10.10;
``rms::nomogram``): each predictor's contribution to the linear predictor, ``c_j(x) = sum_t beta_t x_t``
over its terms, is shifted to start at 0 over the training range of the predictor and scaled so that
the predictor with the widest contribution range spans 0-100 points.  The total points then map back
linearly onto the linear predictor, and the logistic function gives the probability:

    points_j(x) = 100 (c_j(x) - min c_j) / R,      R = max_j (max c_j - min c_j)
    lp = beta_0 + sum_j min c_j + total * R / 100,  p = 1 / (1 + exp(-lp))

so the nomogram reproduces the model's own probabilities exactly (a test checks it).  Missing values are
imputed by the pipeline's encoder before points are read off, as the model does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special
from sklearn.pipeline import Pipeline

from splkit.clinical.encoding import NUMERIC_TYPES


@dataclass
class NomogramScale:
    """One predictor's axis: the values shown and the points they are worth."""

    predictor: str
    kind: str
    values: list
    points: list[float]
    extent: tuple[float, float]


class Nomogram:
    """Points scales of a fitted clinical pipeline (``encode`` + ``logit`` steps).

    Parameters
    ----------
    pipeline
        A fitted :func:`splkit.clinical.make_clinical_pipeline`.
    X_train
        The training data the pipeline was fitted on (sets each numeric predictor's range).
    n_ticks
        About how many labelled values per numeric axis.
    display_quantile
        Continuous axes span the ``q`` to ``1 - q`` quantiles of the training values, so a few extreme
        laboratory values do not squeeze every other axis; default ``q = 10 / max(n, 200)``, as
        ``rms::datadist``.  Points of values outside stay exact (the scales extend linearly).
    """

    def __init__(
        self,
        pipeline: Pipeline,
        X_train: pd.DataFrame,
        n_ticks: int = 6,
        display_quantile: float | None = None,
    ):
        self.encoder = pipeline["encode"]
        logit = pipeline["logit"]
        self.coef = pd.Series(logit.coef_[0], index=list(logit.feature_names_in_))
        self.intercept = float(logit.intercept_[0])
        self.predictors = list(self.encoder.features_)
        self._raw = X_train[self.predictors]
        encoded = self.encoder.transform(self._raw)
        q = 10 / max(len(X_train), 200) if display_quantile is None else display_quantile
        self.value_range = {}
        for predictor in self.predictors:
            if self.encoder.types_[predictor] == "numeric":
                values = encoded[predictor]
                self.value_range[predictor] = (float(values.quantile(q)), float(values.quantile(1 - q)))
            elif self.encoder.types_[predictor] == "ordinal":
                self.value_range[predictor] = (
                    float(encoded[predictor].min()),
                    float(encoded[predictor].max()),
                )
        self.low, self.high = {}, {}
        for predictor in self.predictors:
            if predictor in self.value_range:
                terms = self._terms(predictor)
                contribution = np.asarray(self.value_range[predictor]) * float(self.coef[terms].iloc[0])
            else:
                contribution = self._level_contributions(predictor)
            self.low[predictor] = float(np.min(contribution))
            self.high[predictor] = float(np.max(contribution))
        self.range = max(self.high[p] - self.low[p] for p in self.predictors) or 1.0
        self.scales = [self._scale(p, n_ticks) for p in self.predictors]

    def _terms(self, predictor: str) -> list[str]:
        return [t for t in self.encoder.terms_ if self.encoder.term_source_[t] == predictor]

    def _contribution(self, encoded: pd.DataFrame, predictor: str) -> np.ndarray:
        terms = self._terms(predictor)
        return encoded[terms].to_numpy(float) @ self.coef[terms].to_numpy()

    def _level_contributions(self, predictor: str) -> np.ndarray:
        levels = self.encoder.levels_[predictor]
        frame = pd.DataFrame({predictor: levels})
        encoded = self._encode_one(predictor, frame)
        return self._contribution(encoded, predictor)

    def _encode_one(self, predictor: str, frame: pd.DataFrame) -> pd.DataFrame:
        # other predictors' values do not change this predictor's contribution: any training row will do
        full = pd.DataFrame(
            {p: [self._raw[p].iloc[0]] * len(frame) for p in self.predictors}, index=frame.index
        )
        full[predictor] = frame[predictor].to_numpy()
        return self.encoder.transform(full)

    def _scale(self, predictor: str, n_ticks: int) -> NomogramScale:
        kind = self.encoder.types_[predictor]
        ranks = self.encoder.ranks_.get(predictor)
        if ranks:  # an ordinal variable with text levels: ticks at its levels, placed by rank
            low, high = self.value_range[predictor]
            ticks = [level for level, rank in ranks.items() if low <= rank <= high]
            extent = self.points_for(predictor, [ticks[0], ticks[-1]])
        elif kind in NUMERIC_TYPES:
            low, high = self.value_range[predictor]
            if kind == "ordinal":
                ticks = sorted(self._raw[predictor].dropna().astype(float).unique().tolist())
            else:
                ticks = nice_ticks(low, high, n_ticks)
            extent = self.points_for(predictor, [low, high])
        else:
            ticks = list(self.encoder.levels_[predictor])
            extent = self.points_for(predictor, ticks)
        points = self.points_for(predictor, ticks)
        return NomogramScale(
            predictor, kind, list(ticks), points.tolist(), (float(min(extent)), float(max(extent)))
        )

    def points_for(self, predictor: str, values) -> np.ndarray:
        """Points of ``predictor`` at the given values."""
        encoded = self._encode_one(predictor, pd.DataFrame({predictor: list(values)}))
        return 100.0 * (self._contribution(encoded, predictor) - self.low[predictor]) / self.range

    def points(self, X: pd.DataFrame) -> pd.DataFrame:
        """Points per predictor and ``total`` for each row of ``X`` (missing values imputed)."""
        encoded = self.encoder.transform(X[self.predictors])
        out = pd.DataFrame(
            {p: 100.0 * (self._contribution(encoded, p) - self.low[p]) / self.range for p in self.predictors},
            index=X.index,
        )
        out["total"] = out.sum(axis=1)
        return out

    def linear_predictor(self, total_points) -> np.ndarray:
        """The model's linear predictor (log-odds) at the given total points."""
        offset = self.intercept + sum(self.low.values())
        return offset + np.asarray(total_points, dtype=float) * self.range / 100.0

    def probability(self, total_points) -> np.ndarray:
        """Predicted probability at the given total points."""
        return special.expit(self.linear_predictor(total_points))

    def total_points_for(self, probability) -> np.ndarray:
        """Total points at which the model predicts ``probability`` (inverse of :meth:`probability`)."""
        p = np.asarray(probability, dtype=float)
        offset = self.intercept + sum(self.low.values())
        return (np.log(p / (1 - p)) - offset) * 100.0 / self.range

    @property
    def max_total(self) -> float:
        """The largest total points on the displayed axes."""
        return sum(100.0 * (self.high[p] - self.low[p]) / self.range for p in self.predictors)


def nice_ticks(low: float, high: float, n: int = 6) -> list[float]:
    """Round tick values inside ``[low, high]`` (1-2-2.5-5 steps)."""
    if not np.isfinite(low) or not np.isfinite(high) or high <= low:
        return [low]
    raw = (high - low) / max(n - 1, 1)
    magnitude = 10 ** np.floor(np.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    ticks = np.arange(np.ceil(low / step) * step, high + step * 1e-9, step)
    ticks = [t for t in ticks if low - 1e-9 <= t <= high + 1e-9] or [low, high]
    return [float(np.round(t, 10)) for t in ticks]
