"""The coalition game SHAP explains, and two ways to evaluate it.

For a patient ``x`` and a background sample ``B`` of training rows, the value of a coalition ``S`` of
features is the model's malignant probability averaged over the background rows with the features
outside ``S`` taken from the background row (the interventional, or *independent*, game of SHAP):
``v(S) = mean_b f(x_S, b_(not S))``.  ``v`` of no feature is the base value; ``v`` of all features is
``f(x)``.  A game answers the two questions the Shapley estimators of :mod:`splkit.explain.coalitions`
ask, for features ``inds`` (the others stay at their background values):

- :meth:`subsets`: ``v`` of every subset of ``inds`` (exact Shapley values), index ``sum 2**t`` over
  the positions ``t`` in ``inds`` of the subset's features;
- :meth:`chains`: ``v`` along permutations, as the antithetic permutation estimator walks them: for
  each order ``p``, no feature, then its first 1, 2, … features, then all but its first 1, 2, …
  features (``2 L + 1`` values).

:class:`ModelGame` works for any classifier: it builds the masked rows and scores them with
``predict_proba``, many coalitions per call.  :class:`KernelGame` is the same game for the book's RBF
support vector machines with Platt-scaled folds (:class:`~splkit.models.svm.TunedPlattSVM`, alone or
after a column selection): the RBF kernel factorises over features,
``exp(-g |z - s|^2) = prod_j exp(-g (z_j - s_j)^2)``, so the kernel between a masked row and a support
vector is a product of one factor per feature, taken from the patient (features in the coalition) or from
the background row (the others).  The factors are computed once; chains are cumulative products,
all subsets products of two halves (a matrix product), and no masked row is ever built.  Both games give
the same numbers up to rounding; :func:`game_for` checks that on the background before using the kernel
game.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit

#: Masked rows scored per ``predict_proba`` call by :class:`ModelGame`.
CHUNK_ROWS = 65_536
#: Elements of the largest array a :class:`KernelGame` step builds (chains are split to stay below).
CHUNK_ELEMENTS = 500_000


def chain_masks(orders: np.ndarray, n_features: int) -> np.ndarray:
    """The coalitions of :meth:`ModelGame.chains` as boolean masks, ``(P * (2 L + 1), n_features)``."""
    n_orders, length = orders.shape
    masks = np.zeros((n_orders, 2 * length + 1, n_features), dtype=bool)
    for k in range(1, length + 1):
        rows = np.arange(n_orders)[:, None]
        masks[rows, k, orders[:, :k]] = True  # the first k features
        masks[rows, length + k, orders[:, k:]] = True  # all but the first k
    return masks.reshape(-1, n_features)


def subset_masks(inds: np.ndarray, n_features: int) -> np.ndarray:
    """Every subset of ``inds`` as a boolean mask, ``(2**L, n_features)``; bit ``t`` is ``inds[t]``."""
    codes = np.arange(2 ** len(inds))
    masks = np.zeros((len(codes), n_features), dtype=bool)
    masks[:, inds] = (codes[:, None] >> np.arange(len(inds))) & 1
    return masks


class ModelGame:
    """The game of any classifier whose ``predict_proba`` takes a DataFrame with ``features``."""

    kind = "model"

    def __init__(self, estimator, features: list[str], background: np.ndarray):
        self.estimator, self.features = estimator, list(features)
        self.background = np.asarray(background, dtype=float)

    def predict(self, rows: np.ndarray) -> np.ndarray:
        """The malignant probability of ``rows`` (``(r, features)``)."""
        frame = pd.DataFrame(np.asarray(rows, dtype=float), columns=self.features)
        return self.estimator.predict_proba(frame)[:, 1]

    def values(self, x: np.ndarray, masks: np.ndarray) -> np.ndarray:
        """``v`` of each coalition ``masks`` (``(C, M)`` booleans) for the patient ``x``."""
        n = len(self.background)
        step = max(1, CHUNK_ROWS // n)
        out = np.empty(len(masks))
        for start in range(0, len(masks), step):
            part = masks[start : start + step]
            rows = np.where(part[:, None, :], x, self.background[None]).reshape(-1, len(x))
            out[start : start + step] = self.predict(rows).reshape(len(part), n).mean(axis=1)
        return out

    def subsets(self, x: np.ndarray, inds: np.ndarray) -> np.ndarray:
        return self.values(x, subset_masks(inds, len(x)))

    def chains(self, x: np.ndarray, orders: np.ndarray) -> np.ndarray:
        values = self.values(x, chain_masks(orders, len(x)))
        return values.reshape(len(orders), 2 * orders.shape[1] + 1)


@dataclass(frozen=True)
class KernelFold:
    """One Platt-scaled RBF SVM: ``expit(-(a * (sum_i alpha_i K(z, sv_i) + intercept) + b))`` with
    ``z = (x[columns] - mean) / scale`` and ``K(z, s) = exp(-gamma |z - s|^2)``."""

    columns: np.ndarray  # the SVM's inputs, as positions among the explained features
    mean: np.ndarray
    scale: np.ndarray
    support: np.ndarray  # support vectors, (n_sv, len(columns))
    alpha: np.ndarray  # dual coefficients, (n_sv,)
    intercept: float
    gamma: float
    a: float
    b: float

    def factors(self, rows: np.ndarray, n_features: int) -> np.ndarray:
        """``(n_features, len(rows), n_sv)``: each feature's factor of the kernel (1 for unused features)."""
        z = (rows[:, self.columns] - self.mean) / self.scale
        out = np.ones((n_features, len(rows), len(self.alpha)))
        for c, j in enumerate(self.columns):
            out[j] *= np.exp(-self.gamma * (z[:, c, None] - self.support[None, :, c]) ** 2)
        return out

    def probability(self, decision: np.ndarray) -> np.ndarray:
        return expit(-(self.a * (decision + self.intercept) + self.b))


class KernelGame:
    """The game of an RBF SVM with Platt-scaled folds, by the kernel's factorisation over features."""

    kind = "kernel"

    def __init__(self, folds: list[KernelFold], background: np.ndarray):
        self.folds, self.background = folds, np.asarray(background, dtype=float)
        self._background_factors: list[np.ndarray] | None = None

    def __getstate__(self) -> dict:  # the background factors are recomputed (milliseconds), not shipped
        return {**self.__dict__, "_background_factors": None}

    def background_factors(self) -> list[np.ndarray]:
        if self._background_factors is None:
            m = self.background.shape[1]
            self._background_factors = [fold.factors(self.background, m) for fold in self.folds]
        return self._background_factors

    def predict(self, rows: np.ndarray) -> np.ndarray:
        """The model's malignant probability of whole ``rows`` (every feature present)."""
        m, total = rows.shape[1], np.zeros(len(rows))
        for fold in self.folds:
            kernel = fold.factors(rows, m).prod(axis=0)
            total += fold.probability(kernel @ fold.alpha)
        return total / len(self.folds)

    def _fixed(self, background: np.ndarray, inds: np.ndarray) -> np.ndarray:
        """The product of the background factors of the features outside ``inds``: ``(n, n_sv)``."""
        outside = np.setdiff1d(np.arange(len(background)), inds)
        return background[outside].prod(axis=0) if len(outside) else np.ones(background.shape[1:])

    def subsets(self, x: np.ndarray, inds: np.ndarray) -> np.ndarray:
        """Meet in the middle: the kernels of the subsets of each half of ``inds``, then for every
        background row one matrix product sums ``alpha_i * first-half product * second-half product``."""
        half, total = len(inds) // 2, 0.0
        for fold, background in zip(self.folds, self.background_factors(), strict=True):
            patient = fold.factors(x[None], len(x))[:, 0]
            first = _subset_products(self._fixed(background, inds), patient, background, inds[:half])
            second = _subset_products(np.ones(background.shape[1:]), patient, background, inds[half:])
            weighted = (first * fold.alpha).transpose(1, 0, 2)  # (n, 2**half, n_sv)
            decision = weighted @ second.transpose(1, 2, 0)  # (n, 2**half, 2**(L - half))
            code = decision.transpose(0, 2, 1).reshape(len(background[0]), -1)  # s2 * 2**half + s1
            total = total + fold.probability(code).mean(axis=0)
        return total / len(self.folds)

    def chains(self, x: np.ndarray, orders: np.ndarray) -> np.ndarray:
        """Running products along each order: forward (the first k features from the patient, the rest
        from the background row) and backward (the first k from the background row)."""
        n_orders, length = orders.shape
        n, out = len(self.background), np.zeros((2 * length + 1, n_orders))
        for fold, background in zip(self.folds, self.background_factors(), strict=True):
            patient = fold.factors(x[None], len(x))[:, 0]
            fixed = self._fixed(background, orders[0])
            size = max(1, CHUNK_ELEMENTS // ((length + 1) * n * len(fold.alpha)))
            for start in range(0, n_orders, size):
                steps = orders[start : start + size].T  # (L, P): the k-th feature of each order
                pre_a, suf_a = _running_products(patient[steps], 1.0)  # (L+1, P, n_sv)
                pre_b, suf_b = _running_products(background[steps], fixed)  # (L+1, P, n, n_sv)
                forward = suf_b @ (pre_a * fold.alpha)[..., None]  # (L+1, P, n, 1)
                backward = pre_b[1:] @ (suf_a[1:] * fold.alpha)[..., None]  # (L, P, n, 1)
                decision = np.concatenate([forward, backward])[..., 0]
                out[:, start : start + size] += fold.probability(decision).mean(axis=2)
        return out.T / len(self.folds)


def _subset_products(start, patient, background, inds) -> np.ndarray:
    """``(2**len(inds), n, n_sv)``: for each subset (bit t = ``inds[t]``) ``start`` times the patient's
    factors of its features and the background's factors of the others."""
    products = start[None]
    for j in inds:
        products = np.concatenate([products * background[j], products * patient[j]])
    return products


def _running_products(factors: np.ndarray, end) -> tuple[np.ndarray, np.ndarray]:
    """``prefix[k] = end * prod(factors[:k])`` and ``suffix[k] = end * prod(factors[k:])`` along axis 0
    (``L`` factors, ``L + 1`` products), one contiguous multiplication per step."""
    length = len(factors)
    prefix, suffix = np.empty((2, length + 1, *factors.shape[1:]))
    prefix[0] = suffix[length] = end
    for k in range(length):
        np.multiply(prefix[k], factors[k], out=prefix[k + 1])
        np.multiply(suffix[length - k], factors[length - k - 1], out=suffix[length - k - 1])
    return prefix, suffix


def kernel_folds(estimator, features: list[str]) -> list[KernelFold] | None:
    """The folds of a fitted RBF SVM with Platt-scaled folds (``calibrated_``, as
    :class:`~splkit.models.svm.TunedPlattSVM` keeps them), alone or at the end of a pipeline of column
    selections; ``None`` for any other model."""
    names, columns, model = list(features), np.arange(len(features)), estimator
    if hasattr(model, "steps"):
        *selections, (_, model) = model.steps
        for _, step in selections:
            wanted = getattr(step, "columns", None)
            if type(step).__name__ != "ColumnSelector" or wanted is None or set(wanted) - set(names):
                return None
            columns = np.array([columns[names.index(name)] for name in wanted])
            names = list(wanted)
    folds = []
    for item in getattr(model, "calibrated_", None) or []:
        (mean, scale, svc), (a, b) = item
        if getattr(svc, "kernel", None) != "rbf" or np.shape(svc.dual_coef_)[0] != 1:
            return None
        folds.append(
            KernelFold(
                columns,
                np.asarray(mean, float),
                np.asarray(scale, float),
                np.asarray(svc.support_vectors_, float),
                np.asarray(svc.dual_coef_[0], float),
                float(svc.intercept_[0]),
                float(svc._gamma),
                float(a),
                float(b),
            )
        )
    return folds or None


def game_for(estimator, features: list[str], background: np.ndarray) -> ModelGame | KernelGame:
    """The :class:`KernelGame` of an RBF SVM with Platt-scaled folds when it reproduces the model's
    probabilities of the background rows (to 1e-10), else the :class:`ModelGame`."""
    model = ModelGame(estimator, features, background)
    folds = kernel_folds(estimator, features)
    if folds is not None:
        kernel = KernelGame(folds, background)
        reference = model.predict(model.background)
        if np.allclose(kernel.predict(model.background), reference, rtol=0, atol=1e-10):
            return kernel
    return model
