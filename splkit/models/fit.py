"""Fit the Rad, DTL, DLR and CDLR support vector machines (and Clinical-SVM) on the training cohort.

What is fitted where (the book's "what is nested" table comes from :data:`NESTING`):

* Every model's hyper-parameters (C, gamma) are chosen by a stratified K-fold grid search on the
  rows the model is fitted on; out-of-fold (OOF) training scores refit that search inside each outer
  fold (nested cross-validation, Varma & Simon 2006).
* Final Rad / DTL / DLR models use the features notebooks 03/04 selected on the whole training cohort.
  For their OOF scores the selection pipeline itself is refitted inside each outer fold
  (``models.nested_selection: true``), so OOF scores are free of selection optimism.  Inside one fold,
  the grid search runs on features selected on that fold's whole training part (a mild optimism in the
  choice of C and gamma only; the held-out fold is never seen).
* The DLR score fed to the CDLR on the training cohort is the DLR's OOF score; on validation it is the
  score of the DLR fitted on the whole training cohort.  CDLR's own OOF scores nest the whole stack
  (inner OOF DLR scores inside each outer fold); inside an outer fold the DLR selection is fitted once
  on that fold's training part and reused by the inner folds (the same compromise as the grid search
  above; the held-out fold is never seen).
* Each outer fold's selection is computed once per feature source and shared by Rad, DLR and CDLR
  (a joblib cache that lives for one call of :func:`fit_models`).
* Validation rows are never passed to any ``fit``.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import cross_val_predict
from sklearn.pipeline import Pipeline

from splkit.config import Settings
from splkit.models.available import keep_available
from splkit.models.estimators import (
    ColumnSelector,
    StackedClassifier,
    best_params,
    folds,
    svm_from_settings,
)
from splkit.models.inputs import (  # noqa: F401 - re-exported (splkit.models.fit was their home)
    SCORE_NAME,
    ModelInputs,
    load_inputs,
    load_model,
    model_filename,
    model_inputs,
    model_path,
    payload,
    save_model,
)
from splkit.run import predictions as predictions_table
from splkit.run.cache import ContentCache
from splkit.run.names import CLINICAL_SVM, IN_SAMPLE
from splkit.run.progress import progress_bar

#: What each model's out-of-fold training scores nest (shown in notebook 05).
NESTING = pd.DataFrame(
    [
        ("Rad", "yes", "yes (models.nested_selection)", "—"),
        ("DTL", "yes", "yes (models.nested_selection); PCA of notebook 04 is not refitted", "—"),
        ("DLR", "yes", "yes (models.nested_selection)", "—"),
        (
            "CDLR",
            "yes",
            "yes (models.nested_selection), once per outer fold",
            "DLR score out-of-fold, inner folds nested",
        ),
        ("Clinical-SVM", "yes", "predictors of notebook 02 are not reselected", "—"),
        (IN_SAMPLE, "no (apparent training scores)", "no", "in-sample DLR score (the common practice)"),
    ],
    columns=["model", "grid search nested", "feature selection nested", "stacking"],
)

SelectorFactory = Callable[[Settings, str], BaseEstimator]


def default_selector(settings: Settings, source: str) -> BaseEstimator:
    """The selection pipeline of notebooks 03/04 (z-score → Mann–Whitney → Spearman → LASSO), unfitted.

    Both sources use the profile's ``selection`` section (the DTL features go through the same chain).
    """
    from splkit.selection import build_selection_pipeline

    return build_selection_pipeline(settings, n_jobs=1)  # the outer fold loop is already parallel


@dataclass
class FittedModels:
    """What :func:`fit_models` produced."""

    predictions: pd.DataFrame
    estimators: dict[str, BaseEstimator]
    features: dict[str, list[str]]
    best_params: dict[str, dict[str, Any]]
    cdlr_train_dlr_score: pd.Series
    payloads: dict[str, dict[str, Any]] = field(default_factory=dict)
    nesting: pd.DataFrame = field(default_factory=lambda: NESTING.copy())


def model_names(models: Mapping[str, Any], clinical_arm: bool = True) -> list[str]:
    """The models :func:`fit_models` fits for a profile's ``models`` section, in fitting order
    (without the clinical-arm models when the cohort has no clinical variables:
    :func:`splkit.models.available.keep_available`)."""
    names = ["Rad", "DTL", "DLR", "CDLR"]
    if models.get("clinical_svm", True):
        names.append(CLINICAL_SVM)
    if models.get("paper_compatible", False):
        names.append(IN_SAMPLE)
    return keep_available(names, clinical_arm)


def _selection_step(
    factory: SelectorFactory,
    settings: Settings,
    columns: dict[str, list[str]],
    memory: joblib.Memory | None = None,
) -> ColumnTransformer:
    """Fresh selection pipelines applied to each feature source's candidate columns.

    With ``memory``, a source's selection fitted on the same rows is computed once and reused: the Rad,
    DLR and CDLR out-of-fold loops share the radiomics selection of each outer fold (same folds, same
    rows, same settings: same result, so the cache changes timing only).
    """

    def selector(source: str) -> BaseEstimator:
        if memory is None:
            return factory(settings, source)
        # Pipeline caches every step but the last: the selection, behind a no-op final step
        return Pipeline([("selection", factory(settings, source)), ("done", "passthrough")], memory=memory)

    return ColumnTransformer([(source, selector(source), cols) for source, cols in columns.items()])


def _rows(index: pd.Index, cohort: pd.DataFrame, model: str, scores: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patient": index,
            "cohort": cohort.loc[index, "cohort"].to_numpy(),
            "label": cohort.loc[index, "label"].to_numpy(),
            "model": model,
            "score": np.clip(np.asarray(scores, dtype=float), 0.0, 1.0),
        }
    )


#: Whole-step cache of :func:`fit_models` (``cache=True``), keyed by the content of its inputs.
CACHE = ContentCache("models")


def fit_models(
    settings: Settings,
    run_path: str | Path | None = None,
    selector_factory: SelectorFactory | None = None,
    n_jobs: int | None = None,
    save: bool = True,
    progress: bool = True,
    cache: bool = False,
) -> FittedModels:
    """Fit every SVM model on the training cohort, score both cohorts, save scores and models.

    Parameters
    ----------
    settings
        The profile (``seed``, ``models``, ``selection``).
    run_path
        The run directory (default: the profile's).
    selector_factory
        ``(settings, source) -> unfitted transformer`` selecting features from a candidate table
        (``source`` is ``"radiomics"`` or ``"deep"``); default: :func:`default_selector`.
    n_jobs
        Processes for the outer out-of-fold loop (default: the profile's ``n_jobs``).
    save
        Write ``predictions.csv`` rows and ``models/<Model>.joblib``.
    cache
        Reuse the result of an earlier call with identical inputs (:func:`inputs_key`: the feature
        tables, cohort, selections, clinical encoder, settings and the fitting code), stored in
        ``.cache/models/`` (:class:`splkit.run.cache.ContentCache`) and written atomically.
    """
    run_path = Path(run_path) if run_path is not None else settings.run_path
    factory = selector_factory or default_selector
    inputs = load_inputs(run_path)
    if cache:
        result = CACHE.get_or_compute(
            inputs_key(settings, inputs, factory),
            lambda: _fit_models(settings, inputs, factory, n_jobs, progress),
        )
    else:
        result = _fit_models(settings, inputs, factory, n_jobs, progress)
    if save:
        predictions_table.save(run_path, result.predictions)
        for name, saved in result.payloads.items():
            save_model(run_path, name, saved)
    return result


def _source_files() -> list[Path]:
    """The code that fits the models: ``splkit/models/*.py``, every module of ``splkit/selection``, and the
    modules outside them the fits run (the clinical encoder and predictor selection, the shared target
    checks, the folds)."""
    from splkit import selection

    root = Path(__file__).parent.parent
    folders = (Path(__file__).parent, Path(selection.__file__).parent)
    singles = [root / "clinical" / name for name in ("encoding.py", "selection.py", "model.py")]
    singles += [root / "stats" / "_checks.py", root / "stats" / "folds.py"]
    return [path for folder in folders for path in sorted(folder.rglob("*.py"))] + singles


def _source_digest() -> str:
    """SHA-256 of :func:`_source_files` (names relative to ``splkit/`` and contents)."""
    digest = hashlib.sha256()
    root = Path(__file__).parent.parent
    for path in _source_files():
        digest.update(f"{path.relative_to(root).as_posix()}\n".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def inputs_key(settings: Settings, inputs: ModelInputs, factory: SelectorFactory) -> str:
    """Content hash of everything :func:`fit_models` uses (never the run directory's path)."""
    parts = (
        *(getattr(inputs, f.name) for f in fields(inputs)),
        int(settings["seed"]),
        settings["models"].to_dict(),
        settings["selection"].to_dict(),
        f"{factory.__module__}.{factory.__qualname__}",
        _source_digest(),
    )
    return joblib.hash(parts, hash_name="sha1")


def _fit_models(
    settings: Settings,
    inputs: ModelInputs,
    factory: SelectorFactory,
    n_jobs: int | None,
    progress: bool,
) -> FittedModels:
    """:func:`fit_models` without cache or saving."""
    cfg = settings["models"]
    seed = int(settings["seed"])
    n_jobs = int(n_jobs if n_jobs is not None else settings.get("n_jobs", 1))
    nested_selection = bool(cfg.get("nested_selection", True))

    cohort, rad, dtl = inputs.cohort, inputs.rad, inputs.dtl
    rad_sel, dtl_sel = inputs.rad_selected, inputs.dtl_selected
    clin_cols, encoder = inputs.clinical_columns, inputs.encoder
    clash = (set(rad.columns) & set(dtl.columns)) | ((set(rad.columns) | set(dtl.columns)) & set(clin_cols))
    if clash or SCORE_NAME in clin_cols:
        raise ValueError(
            f"feature names shared between feature tables / clinical columns: {sorted(clash)[:10]}"
        )
    X = pd.concat([rad, dtl, cohort[clin_cols]], axis=1)
    is_train = (cohort["cohort"] == "train").to_numpy()  # every other cohort is scored, never fitted
    X_train, X_val = X[is_train], X[~is_train]
    y_train = cohort.loc[is_train, "label"].to_numpy()
    outer = folds(cfg["cv_folds"], seed)

    def svm():
        return svm_from_settings(cfg, seed)

    def oof(estimator: BaseEstimator) -> np.ndarray:
        return cross_val_predict(
            estimator, X_train, y_train, cv=outer, method="predict_proba", n_jobs=n_jobs
        )[:, 1]

    source_columns = {"radiomics": list(rad.columns), "deep": list(dtl.columns)}
    selected = {"radiomics": rad_sel, "deep": dtl_sel}
    plan = {"Rad": ["radiomics"], "DTL": ["deep"], "DLR": ["radiomics", "deep"]}

    def final_pipeline(sources: list[str]) -> tuple[Pipeline, list[str]]:
        features = [f for s in sources for f in selected[s]]
        return Pipeline([("select", ColumnSelector(features)), ("svm", svm())]), features

    cache_dir = tempfile.mkdtemp(prefix="splkit-selection-")
    memory = joblib.Memory(cache_dir, verbose=0)

    def oof_pipeline(sources: list[str]) -> Pipeline:
        if nested_selection:
            step = _selection_step(factory, settings, {s: source_columns[s] for s in sources}, memory)
            return Pipeline([("select", step), ("svm", svm())])
        return final_pipeline(sources)[0]

    meta = Pipeline([("prep", encoder), ("svm", svm())])
    names = model_names(cfg, clinical_arm=inputs.encoder is not None)

    rows, estimators, features, params = [], {}, {}, {}
    train_scores: dict[str, np.ndarray] = {}
    val_scores: dict[str, np.ndarray] = {}
    bar = progress_bar(names, desc="models", unit="model") if progress else names
    try:
        for name in bar:
            if name in plan:
                final, feats = final_pipeline(plan[name])
                final.fit(X_train[feats], y_train)
                train_scores[name] = oof(oof_pipeline(plan[name]))
                val_scores[name] = final.predict_proba(X_val[feats])[:, 1]
                estimators[name], features[name] = final, feats
            elif name == "CDLR":
                dlr_final, dlr_feats = final_pipeline(plan["DLR"])
                dlr_cols = [
                    c for s in plan["DLR"] for c in (source_columns[s] if nested_selection else selected[s])
                ]
                stack = StackedClassifier(
                    dlr_final, meta, dlr_feats, clin_cols, cfg["cv_folds"], seed, SCORE_NAME
                )
                stack.fit(X_train, y_train, base_scores=train_scores["DLR"])
                # inside each outer fold the DLR selection is fitted once on the fold's training part and
                # frozen for the inner folds that make the DLR scores the CDLR learns from
                nested_stack = StackedClassifier(
                    oof_pipeline(plan["DLR"]),
                    meta,
                    dlr_cols,
                    clin_cols,
                    cfg["cv_folds"],
                    seed,
                    SCORE_NAME,
                    freeze_steps=("select",) if nested_selection else (),
                )
                train_scores[name] = oof(nested_stack)
                val_scores[name] = stack.predict_proba(X_val)[:, 1]
                estimators[name], features[name] = stack.meta_, [SCORE_NAME, *clin_cols]
                estimators["CDLR stack"] = stack
            elif name == CLINICAL_SVM:
                final = clone(meta).fit(X_train[clin_cols], y_train)
                train_scores[name] = oof(
                    Pipeline([("select", ColumnSelector(clin_cols)), ("model", clone(meta))])
                )
                val_scores[name] = final.predict_proba(X_val[clin_cols])[:, 1]
                estimators[name], features[name] = final, clin_cols
            elif name == IN_SAMPLE:
                dlr_final, dlr_feats = final_pipeline(plan["DLR"])
                stack = StackedClassifier(
                    dlr_final,
                    meta,
                    dlr_feats,
                    clin_cols,
                    cfg["cv_folds"],
                    seed,
                    SCORE_NAME,
                    stacking="in_sample",
                ).fit(X_train, y_train)
                train_scores[name] = stack.predict_proba(X_train)[:, 1]
                val_scores[name] = stack.predict_proba(X_val)[:, 1]
                estimators[name], features[name] = stack.meta_, [SCORE_NAME, *clin_cols]
                estimators[f"{name} stack"] = stack
            params[name] = best_params(estimators[name])
            rows.append(_rows(X_train.index, cohort, name, train_scores[name]))
            rows.append(_rows(X_val.index, cohort, name, val_scores[name]))

    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)

    table = pd.concat(rows, ignore_index=True)
    saved_settings = {"seed": seed, "models": cfg.to_dict(), "selection": settings.get("selection")}
    if isinstance(saved_settings["selection"], Settings):
        saved_settings["selection"] = saved_settings["selection"].to_dict()
    payloads = {}
    for name in names:
        payloads[name] = payload(estimators[name], features[name], saved_settings, params[name])
        if f"{name} stack" in estimators:  # the whole stack, as splkit.study applies it to new patients
            payloads[name]["stack"] = estimators[f"{name} stack"]
    result = FittedModels(
        predictions=table,
        estimators=estimators,
        features=features,
        best_params=params,
        payloads=payloads,
        cdlr_train_dlr_score=(
            pd.Series(estimators["CDLR stack"].train_base_scores_, index=X_train.index)
            if "CDLR stack" in estimators
            else pd.Series(dtype=float)
        ),
    )
    return result
