"""Explanations of fitted models: SHAP values and the validation cases worth explaining.

SHAP values are computed model-agnostically on the model's malignant probability (Lundberg & Lee,
*A unified approach to interpreting model predictions*, NeurIPS 2017) with an interventional
(independent) masker whose background is a seeded sample of training patients: the game of
:mod:`splkit.explain.games`.  With up to :data:`EXACT_MAX_FEATURES` features every coalition is
evaluated and the values are the exact Shapley values; otherwise antithetic permutation sampling
(Štrumbelj & Kononenko, Knowl. Inf. Syst. 2014), seeded, estimates them (:mod:`splkit.explain.coalitions`,
the estimators of shap's Exact and Permutation explainers, same draws and same numbers).  Both satisfy
additivity exactly: base value + sum of SHAP values = model output for every explained patient.  The
book's SVMs are evaluated through their kernel's factorisation over features (:class:`KernelGame`),
thousands of times faster than scoring masked rows.  SHAP explains the *model*, not the disease.
"""

from __future__ import annotations

import inspect
from contextlib import closing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from splkit.explain import coalitions, games
from splkit.run.cache import CACHE_ROOT, ContentCache, content_key
from splkit.run.engine import Engine

if TYPE_CHECKING:
    import shap

#: Up to this many features every coalition is evaluated (2^M per background row): exact values.
EXACT_MAX_FEATURES = 12
#: Patients per parallel task (fixed, so that results do not depend on the number of processes).
BLOCK_SIZE = 8
#: Where ``explain_model(cache=True)`` keeps computed blocks (a :class:`~splkit.run.cache.ContentCache`).
CACHE_DIR = CACHE_ROOT / "shap"


@dataclass(frozen=True)
class ShapResult:
    """SHAP values of one model for ``patients`` (pseudonyms), computed by ``method``."""

    explanation: shap.Explanation
    patients: list[str]
    method: str
    background_size: int

    @property
    def values(self) -> pd.DataFrame:
        return pd.DataFrame(
            self.explanation.values, index=self.patients, columns=self.explanation.feature_names
        )

    def for_patient(self, patient: str) -> shap.Explanation:
        """The single-patient explanation (for a waterfall plot)."""
        return self.explanation[self.patients.index(patient)]

    def mean_abs(self) -> pd.Series:
        """Mean |SHAP| per feature, largest first (the global importance bar)."""
        return self.values.abs().mean().sort_values(ascending=False).rename("mean_abs_shap")


def explain_model(
    estimator,
    X_background: pd.DataFrame,
    X_explain: pd.DataFrame,
    background_size: int = 50,
    max_evals: int = 500,
    random_state: int = 0,
    n_jobs: int = 1,
    cache: bool = False,
    engine: Engine | None = None,
) -> ShapResult:
    """SHAP values of ``estimator``'s malignant probability for the rows of ``X_explain``.

    Parameters
    ----------
    estimator
        A fitted classifier with ``predict_proba`` taking a DataFrame with ``X_explain``'s columns.
    X_background
        Training-cohort inputs; a seeded sample of ``background_size`` rows is the masker's background.
    X_explain
        The patients to explain (index = pseudonyms).
    max_evals
        Coalitions per patient for the permutation estimator (at least 2 × features + 1).
    random_state
        Seeds the background sample and the permutations: same seed, same values.
    n_jobs
        Processes; patients are explained in fixed blocks of :data:`BLOCK_SIZE` rows (block ``b`` seeded
        ``random_state + b``), so the values do not depend on ``n_jobs`` (nor on ``engine``).
    cache
        Reuse blocks computed before with the same model, background, rows and settings
        (``.cache/shap/``, keyed by their content).
    engine
        Where the blocks run (:class:`splkit.run.engine.Engine`, one task per block; default: the local
        pool of ``n_jobs`` processes).  The game (model and background) goes with each task.
    """
    import shap

    features = list(X_explain.columns)
    if list(X_background.columns) != features:
        raise ValueError("background and explained rows must have the same columns in the same order")
    n_background = min(background_size, len(X_background))
    background = X_background.sample(n=n_background, random_state=random_state).to_numpy(dtype=float)
    data = X_explain.to_numpy(dtype=float)
    method = "exact" if len(features) <= EXACT_MAX_FEATURES else "permutation"
    evals = max(max_evals, 2 * len(features) + 1)
    tasks = [
        (data[start : start + BLOCK_SIZE], random_state + b)
        for b, start in enumerate(range(0, len(data), BLOCK_SIZE))
    ]
    store = ContentCache(CACHE_DIR, format="joblib") if cache else None
    keys = block_keys(estimator, features, background, tasks, method, evals) if store is not None else []
    blocks: list[Any] = [store.get(key) for key in keys] if store is not None else [None] * len(tasks)
    todo = [i for i, block in enumerate(blocks) if block is None]
    if todo:
        game = games.game_for(estimator, features, background)
        engine = engine if engine is not None else Engine("local", workers=n_jobs)
        with closing(engine.map(_shap_block, [tasks[i] for i in todo], game, method, evals)) as results:
            for position, block in results:
                blocks[todo[position]] = block
                if store is not None:
                    store.put(keys[todo[position]], block)
    explanation = shap.Explanation(
        values=np.vstack([values for values, _ in blocks]),
        base_values=np.concatenate([base for _, base in blocks]),
        data=data,
        feature_names=features,
    )
    return ShapResult(explanation, list(X_explain.index), method, n_background)


def block_keys(estimator, features, background, tasks, method, max_evals) -> list[str]:
    """The cache keys of the blocks ``tasks`` (``(rows, seed)`` pairs): their inputs' content (model,
    background, settings, rows, seed; the model hashed once) and the code that computes them — never a
    path (nor an array's memory layout)."""
    code = "".join(inspect.getsource(module) for module in (games, coalitions))
    code += inspect.getsource(_shap_block)
    background = np.ascontiguousarray(background)
    shared = content_key("shap-model", code, estimator, features, background, method, max_evals)
    return [content_key("shap-block", shared, np.ascontiguousarray(rows), seed) for rows, seed in tasks]


def _shap_block(
    item: tuple[np.ndarray, int], game, method: str, max_evals: int
) -> tuple[np.ndarray, np.ndarray]:
    """SHAP values and base values of one block ``item`` = (rows, seed) of :func:`explain_model`."""
    rows, seed = item
    rng = np.random.RandomState(seed)  # one stream per block, its patients in order (as shap seeds)
    results = [
        coalitions.exact_shapley(game, x)
        if method == "exact"
        else coalitions.permutation_shapley(game, x, max_evals, rng)
        for x in rows
    ]
    values = np.array([phi for phi, _ in results], dtype=float).reshape(len(rows), -1)
    return values, np.array([base for _, base in results], dtype=float)


def pick_cases(scores: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """One true positive, true negative, false positive and false negative, the most confident of each.

    ``scores`` has columns ``patient, label, score`` (one model, one cohort); a patient is called
    malignant when ``score >= threshold``.  Returns rows ``case`` (TP/TN/FP/FN), ``patient``, ``label``,
    ``score``; a case with no patient (e.g. no false negatives) is absent.
    """
    table = scores.assign(predicted=(scores["score"] >= threshold).astype(int))
    kinds = {
        "TP": (table.label == 1) & (table.predicted == 1),
        "TN": (table.label == 0) & (table.predicted == 0),
        "FP": (table.label == 0) & (table.predicted == 1),
        "FN": (table.label == 1) & (table.predicted == 0),
    }
    # most confident: highest score when called malignant, lowest when called benign; ties by patient id
    rows = []
    for case, mask in kinds.items():
        candidates = table[mask]
        if candidates.empty:
            continue
        ascending = case in ("TN", "FN")
        best = candidates.sort_values(["score", "patient"], ascending=[ascending, True]).iloc[0]
        rows.append(
            {"case": case, "patient": best.patient, "label": int(best.label), "score": float(best.score)}
        )
    return pd.DataFrame(rows, columns=["case", "patient", "label", "score"])
