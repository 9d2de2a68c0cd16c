"""Bootstrap optimism correction of the models' training-cohort performance.

Harrell's enhanced bootstrap (Harrell, *Regression Modeling Strategies*, 2nd ed. 2015, §5.3.5; Efron
1983; Steyerberg et al., J Clin Epidemiol 2001;54:774-781): draw ``B`` resamples of the training cohort
with replacement; in each, repeat the **whole** fitting procedure; the model of resample ``b`` scored on
resample ``b`` (apparent) minus the same model scored on the original training cohort (test) is that
resample's optimism.  The mean optimism over the resamples is subtracted from the apparent performance of
the final models (fitted on the whole training cohort, :func:`splkit.models.fit_models`, scored on it).

What each resample repeats:

* the clinical predictor selection of chapter 2 (:class:`splkit.clinical.selection.SelectedClinicalModel`:
  the logistic ``Clinical`` model, and the predictors the Clinical-SVM and CDLR use);
* the Rad and DTL feature selection (the selection factory, as notebooks 03/04 ran it);
* every SVM's (C, gamma) grid search and Platt scaling (:class:`~splkit.models.estimators.TunedPlattSVM`);
* the CDLR stack: the meta model learns from out-of-fold DLR scores of the resample (the DLR's feature
  selection is fitted once on the resample and kept for the inner folds, as inside an outer fold of
  :func:`~splkit.models.fit.fit_models`).

Without a clinical arm (an imaging-only cohort, :func:`splkit.models.available.has_clinical_arm`) only
the Rad, DTL and DLR models exist: no clinical selection is repeated, and the DLR is fitted on its own
(with a clinical arm it is the CDLR stack's base, refitted on all rows of the resample).

Not repeated: the ICC filter and the PCA of chapters 3/4 (the candidate tables are inputs).  Resampling is
stratified (each class within itself).  A patient drawn twice stays on one side of every inner fold split
(grid search, Platt folds, LASSO folds, stacking: :func:`splkit.stats.folds.copies_together`), so the
resample's inner cross-validation does not reward memorising, as the original fit's does not.  Known limit:
Harrell's estimate under-corrects models that memorise their training rows, since the resample's model is
tested on the original cohort, two thirds of which it saw (Efron & Tibshirani 1997); the .632+ estimate of
AUC and Brier score, from the same resamples' out-of-bag patients, is reported beside it.

Resample ``b`` draws its rows from its own seed (``SeedSequence(seed).spawn``: child ``b``), so it does not
depend on ``B`` or ``n_jobs``; each is cached by content (``.cache/optimism/``).  Monte Carlo SE of a
corrected number: the standard deviation of the per-resample optimism over ``sqrt(B)``.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import sklearn
from sklearn.base import BaseEstimator, clone
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline

from splkit.clinical.encoding import ClinicalEncoder
from splkit.clinical.selection import SelectedClinicalModel
from splkit.config import Settings
from splkit.models.available import has_clinical_arm
from splkit.models.estimators import ColumnSelector, StackedClassifier, svm_from_settings
from splkit.models.fit import FittedModels, SelectorFactory, default_selector, inputs_key, model_names
from splkit.models.inputs import SCORE_NAME, ModelInputs, load_inputs
from splkit.run.cache import CACHE_ROOT, ContentCache, content_key
from splkit.run.names import CLINICAL_SVM, IN_SAMPLE
from splkit.run.progress import progress_bar
from splkit.run.rundir import RunDir
from splkit.stats import brier_score, calibration_intercept_slope
from splkit.stats.folds import copies_together

#: The per-resample cache (one entry per resample, keyed by the procedure's content and ``b``).
CACHE = ContentCache("optimism")
#: The measures corrected: ROC AUC, calibration slope, Brier score.
MEASURES = ("auc", "slope", "brier")
#: Bump when the resampling scheme changes (it is part of every cache key).
SCHEME = "stratified-bootstrap-2"  # 2: a patient's copies stay in one inner fold


@dataclass(frozen=True)
class Procedure:
    """Everything one resample refits, as picklable unfitted templates (a worker gets no profile)."""

    X: pd.DataFrame  # training rows: radiomics and DTL candidates, every usable clinical variable
    y: np.ndarray
    sources: dict[str, list[str]]  # "radiomics"/"deep" -> candidate columns
    selectors: dict[str, BaseEstimator]  # the selection factory's unfitted pipelines
    svm: BaseEstimator
    clinical: SelectedClinicalModel | None  # None: no clinical arm (imaging-only cohort)
    usable: list[str]
    cv_folds: int
    seed: int
    models: list[str]


@dataclass
class OptimismResult:
    """What :func:`bootstrap_optimism` returns.

    ``summary`` is indexed by (model, measure) with columns ``apparent``, ``optimism``, ``corrected``,
    ``mc_se`` and ``n`` (resamples in which the measure was defined on both sides);
    ``optimism`` holds one row per resample × model, one column per measure.
    """

    summary: pd.DataFrame
    optimism: pd.DataFrame
    n_boot: int
    seconds: list[float] = field(default_factory=list)  # per resample computed here (cache misses)


def resample_rows(y: np.ndarray, seed: int, b: int) -> np.ndarray:
    """Row positions of stratified bootstrap resample ``b``: each class drawn with replacement within itself.

    The generator is child ``b`` of ``SeedSequence(seed)``, so resample ``b`` does not depend on how many
    resamples are drawn, or where.
    """
    rng = np.random.default_rng(np.random.SeedSequence(int(seed)).spawn(b + 1)[b])
    y = np.asarray(y)
    parts = [rng.choice(np.flatnonzero(y == c), size=int((y == c).sum()), replace=True) for c in (0, 1)]
    return np.sort(np.concatenate(parts))


def _encoder(spec: SelectedClinicalModel, columns: list[str]) -> ClinicalEncoder:
    types, levels = spec.types or {}, spec.levels or {}
    return ClinicalEncoder(
        types={c: types[c] for c in columns if c in types},
        levels={c: list(levels[c]) for c in columns if c in levels},
    )


def _fit(proc: Procedure, X: pd.DataFrame, y: np.ndarray) -> dict[str, tuple[BaseEstimator, Any]]:
    """Fit every model's whole procedure on ``(X, y)``: ``{model: (estimator, input columns or None)}``."""
    clinical, failed = None, False
    if proc.clinical is not None:
        try:
            clinical = clone(proc.clinical).fit(X[proc.usable], y)
        except np.linalg.LinAlgError:  # a singular design in a small resample: no clinical arm this time
            failed = True
    clin = list(clinical.predictors_) if clinical is not None else []
    feats = {
        s: list(clone(sel).fit(X[proc.sources[s]], y).get_feature_names_out())
        for s, sel in proc.selectors.items()
    }
    plan, dlr = {"Rad": feats["radiomics"], "DTL": feats["deep"]}, feats["radiomics"] + feats["deep"]

    def svm_on(columns: list[str]) -> Pipeline:
        return Pipeline([("select", ColumnSelector(columns)), ("svm", clone(proc.svm))])

    def meta(columns: list[str]) -> Pipeline:
        return Pipeline([("prep", _encoder(proc.clinical, columns)), ("svm", clone(proc.svm))])

    fitted: dict[str, tuple[BaseEstimator, Any]] = {}
    if clinical is not None:
        fitted["Clinical"] = (clinical, proc.usable)
    for name in proc.models:
        if failed and name in ("CDLR", CLINICAL_SVM):
            continue  # counted as a resample without this model (OptimismResult.summary's n)
        if name in plan:
            fitted[name] = (svm_on(plan[name]).fit(X, y), None)
        elif name == "DLR" and ("CDLR" not in proc.models or failed):  # no stack to take it from
            fitted[name] = (svm_on(dlr).fit(X, y), None)
        elif name == "CDLR":
            stack = StackedClassifier(
                svm_on(dlr), meta(clin), dlr, clin, proc.cv_folds, proc.seed, SCORE_NAME
            )
            fitted[name] = (stack.fit(X, y), None)
            fitted["DLR"] = (stack.base_, None)  # the stack's base: the DLR refitted on all rows
        elif name == CLINICAL_SVM:
            fitted[name] = (meta(clin).fit(X[clin], y), clin)
    return fitted


def _score(model: tuple[BaseEstimator, list[str] | None], X: pd.DataFrame) -> np.ndarray:
    estimator, columns = model
    return estimator.predict_proba(X if columns is None else X[columns])[:, 1]


def one_resample(proc: Procedure, b: int) -> dict[str, Any]:
    """Resample ``b``: its rows and, per model, the scores of the resample's model on the resample
    (``apparent``) and on the original training rows (``test``); ``seconds`` is its wall time."""
    start = time.perf_counter()
    rows = resample_rows(proc.y, proc.seed, b)
    Xb, yb = proc.X.iloc[rows].reset_index(drop=True), proc.y[rows]
    X = proc.X.reset_index(drop=True)
    # a patient's copies stay in one fold of every inner cross-validation (splkit.stats.folds)
    with warnings.catch_warnings(), copies_together():  # and no separation / convergence warnings
        warnings.simplefilter("ignore")
        fitted = _fit(proc, Xb, yb)
        scores = {name: (_score(m, Xb), _score(m, X)) for name, m in fitted.items()}
    return {"rows": rows, "scores": scores, "seconds": time.perf_counter() - start}


def measures(y: np.ndarray, score: np.ndarray) -> dict[str, float]:
    """ROC AUC, calibration slope and Brier score; NaN where undefined (one class; constant scores; a
    slope when the scores separate the classes)."""
    score = np.clip(score, 0.0, 1.0)
    if len(np.unique(y)) < 2:
        return {"auc": np.nan, "slope": np.nan, "brier": brier_score(y, score)}
    slope = np.nan
    if np.ptp(score) > 0:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, slope = calibration_intercept_slope(y, score)
    return {"auc": float(roc_auc_score(y, score)), "slope": slope, "brier": brier_score(y, score)}


def _clinical_template(settings: Settings, run_path: Path) -> tuple[SelectedClinicalModel, list[str]]:
    """Chapter 2's selection procedure (types and levels of ``variables.csv``) and its usable variables."""
    from splkit.cohort.run_tables import dictionary_spec, read_run_variables

    variables = read_run_variables(run_path)
    types, levels = dictionary_spec(variables)
    included = variables["included"] if "included" in variables else pd.Series(True, index=variables.index)
    clin = settings["clinical"]
    model = SelectedClinicalModel(types, levels, float(clin["univariate_p"]), float(clin["multivariable_p"]))
    return model, [str(v) for v in variables.index if included[v]]


def procedure(settings: Settings, inputs: ModelInputs, run_path: Path, factory: SelectorFactory) -> Procedure:
    """The resampled procedure of a run: training rows, unfitted selection / SVM / clinical templates."""
    cfg, seed = settings["models"], int(settings["seed"])
    clinical_arm = has_clinical_arm(run_path)
    clinical, usable = _clinical_template(settings, run_path) if clinical_arm else (None, [])
    is_train = (inputs.cohort["cohort"] == "train").to_numpy()
    X = pd.concat([inputs.rad, inputs.dtl, inputs.cohort[usable]], axis=1)[is_train]
    return Procedure(
        X=X,
        y=inputs.cohort.loc[is_train, "label"].to_numpy().astype(int),
        sources={"radiomics": list(inputs.rad.columns), "deep": list(inputs.dtl.columns)},
        selectors={s: factory(settings, s) for s in ("radiomics", "deep")},
        svm=svm_from_settings(cfg, seed),
        clinical=clinical,
        usable=usable,
        cv_folds=int(cfg["cv_folds"]),
        seed=seed,
        models=[m for m in model_names(cfg, clinical_arm=clinical_arm) if m != IN_SAMPLE],
    )


def apparent_scores(fitted: FittedModels, inputs: ModelInputs, run_path: Path) -> dict[str, np.ndarray]:
    """The final models (fitted on the whole training cohort) scored on the training cohort; ``Clinical``
    from chapter 2's ``models/Clinical.joblib`` when it exists."""
    is_train = (inputs.cohort["cohort"] == "train").to_numpy()
    X = pd.concat([inputs.rad, inputs.dtl, inputs.cohort], axis=1)[is_train]
    est = fitted.estimators
    out = {
        m: est[m].predict_proba(X[fitted.features[m]])[:, 1]
        for m in ("Rad", "DTL", "DLR", CLINICAL_SVM)
        if m in est
    }
    if "CDLR stack" in est:
        out["CDLR"] = est["CDLR stack"].predict_proba(X)[:, 1]
    path = RunDir(run_path).model("Clinical")
    if path.exists():
        saved = joblib.load(path)
        out["Clinical"] = saved["estimator"].predict_proba(X[list(saved["features"])])[:, 1]
    return out


def _key(settings: Settings, inputs: ModelInputs, proc: Procedure, factory: SelectorFactory) -> str:
    from splkit import clinical

    code = sorted((p.name, p.read_bytes()) for p in Path(clinical.__file__).parent.glob("*.py"))
    # inputs_key: the inputs, seed, models/selection settings and the models + selection code
    clinical = proc.clinical.get_params() if proc.clinical is not None else None
    parts = (proc.X, clinical, proc.usable, code, sklearn.__version__)
    return content_key(SCHEME, inputs_key(settings, inputs, factory), *parts)


def _cached(proc: Procedure, b: int, key: str | None, root: str | None) -> dict[str, Any]:
    if key is None:
        return one_resample(proc, b)
    cache, entry = ContentCache(Path(root)), content_key(key, b)
    found = cache.get(entry)
    if found is None:
        cache.put(entry, found := one_resample(proc, b))
        found = {**found, "computed": True}
    return found


def bootstrap_optimism(
    settings: Settings,
    fitted: FittedModels,
    run_path: str | Path | None = None,
    n_boot: int | None = None,
    selector_factory: SelectorFactory | None = None,
    n_jobs: int | None = None,
    cache: bool | ContentCache = False,
    progress: bool = True,
) -> OptimismResult:
    """Optimism-corrected AUC, calibration slope and Brier score of every model on the training cohort.

    Parameters
    ----------
    settings
        The profile (``seed``, ``models``, ``selection``, ``clinical``, ``stats.n_optimism``).
    fitted
        :func:`splkit.models.fit_models`' result: its final models give the apparent performance.
    run_path
        The run directory (default: the profile's).
    n_boot
        Resamples ``B`` (default: ``stats.n_optimism``).
    selector_factory
        As for :func:`~splkit.models.fit_models` (default: the profile's selection chain).
    n_jobs
        Processes over resamples (default: the profile's ``n_jobs``); the result does not depend on it.
    cache
        ``True``: reuse resamples from ``.cache/optimism/`` (:data:`CACHE`); or a
        :class:`~splkit.run.cache.ContentCache`; ``False``: compute every resample.

    Returns
    -------
    OptimismResult
        ``corrected = apparent - mean(apparent_b - test_b)``; ``mc_se = sd(apparent_b - test_b) / sqrt(n)``.

    References
    ----------
    Harrell, *Regression Modeling Strategies* (2015), §5.3; Steyerberg et al., J Clin Epidemiol
    2001;54:774-781; Efron & Tibshirani, *An Introduction to the Bootstrap* (1993), §17.6.
    """
    run_path = Path(run_path) if run_path is not None else settings.run_path
    factory = selector_factory or default_selector
    n_boot = int(n_boot if n_boot is not None else settings["stats"]["n_optimism"])
    n_jobs = int(n_jobs if n_jobs is not None else settings.get("n_jobs", 1))
    if n_boot < 2:
        raise ValueError(f"the bootstrap optimism needs at least 2 resamples, got {n_boot}")
    inputs = load_inputs(run_path)
    proc = procedure(settings, inputs, run_path, factory)
    store = CACHE if cache is True else (cache or None)
    key = _key(settings, inputs, proc, factory) if store is not None else None
    root = str(store.root) if store is not None else str(CACHE_ROOT)
    jobs = (joblib.delayed(_cached)(proc, b, key, root) for b in range(n_boot))
    done = joblib.Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
    if progress:
        done = progress_bar(done, total=n_boot, desc="optimism", unit="resample")
    resamples = list(done)

    scores = apparent_scores(fitted, inputs, run_path)
    apparent = {m: measures(proc.y, s) for m, s in scores.items()}
    rows = []
    for b, res in enumerate(resamples):
        yb, out = proc.y[res["rows"]], np.setdiff1d(np.arange(len(proc.y)), res["rows"])
        for model in apparent:
            if model not in res["scores"]:  # its fit failed in this resample (a singular clinical design)
                continue
            app, test = res["scores"][model]
            a, t, o = measures(yb, app), measures(proc.y, test), measures(proc.y[out], test[out])
            oob = {f"{m}_oob": o[m] for m in ("auc", "brier")}
            rows.append({"resample": b, "model": model, **{m: a[m] - t[m] for m in MEASURES}, **oob})
    optimism = pd.DataFrame(rows)
    no_info = {m: {"auc": 0.5, "brier": _no_information_brier(proc.y, s)} for m, s in scores.items()}
    seconds = [r["seconds"] for r in resamples if r.get("computed", key is None)]
    return OptimismResult(summarise(apparent, optimism, no_info), optimism, n_boot, seconds)


def _no_information_brier(y: np.ndarray, p: np.ndarray) -> float:
    """The Brier score when outcomes and predictions are unrelated: the mean of ``(y_i - p_j)^2`` over all pairs."""
    return float(np.mean(y) - 2 * np.mean(y) * np.mean(p) + np.mean(p**2))


def plus632(apparent: float, oob: float, no_info: float) -> float:
    """Efron & Tibshirani's (1997, JASA 92:548) .632+ estimate of a loss (lower is better) from its apparent,
    out-of-bag (leave-one-out bootstrap) and no-information values."""
    oob = min(oob, no_info)
    rate = (oob - apparent) / (no_info - apparent) if oob > apparent and no_info > apparent else 0.0
    weight = 0.632 / (1 - 0.368 * rate)
    return (1 - weight) * apparent + weight * oob


def summarise(apparent: dict, optimism: pd.DataFrame, no_info: dict) -> pd.DataFrame:
    """Per model and measure: apparent, mean optimism, corrected, Monte Carlo SE, resamples used, and for AUC
    and Brier the mean out-of-bag value and the .632+ estimate (AUC as the loss ``1 - AUC``)."""
    out = []
    for model, values in apparent.items():
        per = optimism[optimism.model == model]
        for m in MEASURES:
            o = per[m].dropna().to_numpy()
            mean = float(o.mean()) if o.size else np.nan
            se = float(o.std(ddof=1) / np.sqrt(o.size)) if o.size > 1 else np.nan
            oob = float(per[f"{m}_oob"].mean()) if m in no_info[model] else np.nan
            est = np.nan
            if m in no_info[model]:
                loss = [(1 - v) if m == "auc" else v for v in (values[m], oob, no_info[model][m])]
                est = (1 - plus632(*loss)) if m == "auc" else plus632(*loss)
            out.append((model, m, values[m], mean, values[m] - mean, se, int(o.size), oob, est))
    columns = ["model", "measure", "apparent", "optimism", "corrected", "mc_se", "n", "oob", "plus632"]
    return pd.DataFrame(out, columns=columns).set_index(["model", "measure"])
