"""Chapter 6 (``notebooks/06_interpretability.ipynb``), one call per section.

Each function does the section's work on the run of ``settings``, records its ``explain.*`` keys in
``results.json`` and returns what the notebook shows; the SHAP plots (drawn by the ``shap`` library
with matplotlib) are shown as they are drawn.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from splkit.explain.shapley import ShapResult, explain_model, pick_cases
from splkit.models.available import absence_note, fusion_model
from splkit.run import predictions
from splkit.run.engine import Engine
from splkit.run.report import load_results, lookup, record

#: The model whose validation calls pick the cases (and whose probability the captions give).
CASE_MODEL = "CDLR"
#: Features shown by the beeswarm and bar plots, and by each waterfall.
MAX_DISPLAY, MAX_WATERFALL = 15, 10


@dataclass(frozen=True)
class ExplainedModel:
    """SHAP values of one saved model on validation patients, and how exactly they add up."""

    name: str
    result: ShapResult
    additivity_error: float

    @property
    def summary(self) -> str:
        """One line: explainer, patients explained, background size, additivity error."""
        return (
            f"{self.name}: {self.result.method} explainer, {len(self.result.patients)} validation patients, "
            f"{self.result.background_size} background patients, max additivity error "
            f"{self.additivity_error:.1e}"
        )


def explain_saved_model(settings: Any, name: str) -> ExplainedModel:
    """SHAP values of the saved model ``name`` on (a seeded sample of) the validation patients.

    The background is a seeded sample of training patients (``explain.shap_background``); at most
    ``explain.shap_n_explain`` validation patients are explained; blocks are cached in ``.cache/shap``.
    Records ``explain.<name>.method``, ``.n_explained``, ``.additivity_max_error`` and ``.mean_abs_shap``.
    """
    from splkit.models import load_model, model_inputs

    run_path, explain, seed = settings.run_path, settings.explain, settings.seed
    fitted = load_model(run_path, name)
    X, _, cohort = model_inputs(run_path, name)
    X_train, X_valid = X[cohort == "train"], X[cohort == "validation"]
    if len(X_valid) > explain.shap_n_explain:
        X_valid = X_valid.sample(n=explain.shap_n_explain, random_state=seed).sort_index()
    with Engine.from_settings(settings) as engine:  # the profile's compute section
        result = explain_model(
            fitted["estimator"],
            X_train,
            X_valid,
            background_size=explain.shap_background,
            max_evals=explain.shap_max_evals,
            random_state=seed,
            n_jobs=settings.n_jobs,
            cache=True,  # .cache/shap: a rerun with the same model, data and settings reuses the values
            engine=engine,
        )
    output = fitted["estimator"].predict_proba(X_valid)[:, 1]
    error = float(np.max(np.abs(result.explanation.base_values + result.values.sum(axis=1) - output)))
    record(run_path, f"explain.{name}.method", result.method)
    record(run_path, f"explain.{name}.n_explained", len(X_valid))
    record(run_path, f"explain.{name}.additivity_max_error", error)
    record(run_path, f"explain.{name}.mean_abs_shap", result.mean_abs().round(4).to_dict())
    return ExplainedModel(name, result, error)


def explain_models(settings: Any, names: Iterable[str] | None = None) -> dict[str, ExplainedModel]:
    """:func:`explain_saved_model` for each of ``names``, in order (default: the DLR and the fusion model
    of :func:`case_model`; the DLR alone when the cohort has no clinical variables)."""
    names = list(dict.fromkeys(names if names is not None else ["DLR", case_model(settings)]))
    return {name: explain_saved_model(settings, name) for name in names}


def case_model(settings: Any) -> str:
    """The model whose cases the chapter shows: the fusion model (:mod:`splkit.models.available`)."""
    return fusion_model(settings)


def absence(settings: Any) -> str:
    """Why a model is not explained ("" when the run has every model)."""
    return absence_note(settings)


def shap_plots(explained: ExplainedModel) -> None:
    """Show the beeswarm (one dot per patient and feature) and the mean |SHAP| bar chart of a model."""
    import matplotlib.pyplot as plt
    import shap

    explanation, name = explained.result.explanation, explained.name
    shap.plots.beeswarm(explanation, max_display=MAX_DISPLAY, show=False)
    plt.title(f"{name} model: SHAP values on the validation cohort")
    plt.xlabel("SHAP value (contribution to P(malignant))")
    plt.show()
    shap.plots.bar(explanation, max_display=MAX_DISPLAY, show=False)
    plt.title(f"{name} model: mean |SHAP| per feature")
    plt.show()


def largest_share(explained: ExplainedModel) -> str:
    """A Markdown sentence: the input with the largest share of the model's mean |SHAP|."""
    importance = explained.result.mean_abs()
    share = importance / importance.sum()
    return (
        f"In the validation cohort, **{share.index[0]}** carries the largest share of the "
        f"{explained.name} model's attributions ({share.iloc[0]:.0%} of the mean absolute SHAP value)."
    )


@dataclass(frozen=True)
class Cases:
    """The most confident TP/TN/FP/FN validation patients of :data:`CASE_MODEL` at its training threshold."""

    threshold: float
    table: pd.DataFrame  # case, patient, label, score
    scores: pd.DataFrame  # the model's validation predictions (patient, cohort, label, model, score)
    model: str = CASE_MODEL

    @property
    def threshold_text(self) -> str:
        return f"Training-cohort Youden threshold of the {self.model} model: **{self.threshold:.3f}**."

    @property
    def shown(self) -> pd.DataFrame:
        """The table as the book shows it."""
        names = {"label": "label (1 = malignant)", "score": f"{self.model} probability"}
        return self.table.rename(columns=names)


def validation_cases(settings: Any) -> Cases:
    """Pick the four cases at the training-cohort Youden threshold of chapter 5; records ``explain.cases``."""
    run_path, model = settings.run_path, case_model(settings)
    threshold = lookup(load_results(run_path), f"models.{model}.train.threshold")
    if threshold is None:
        raise KeyError(f"results.json lacks models.{model}.train.threshold: run chapter 5 first")
    scores = predictions.load(run_path)
    valid = scores[(scores.model == model) & (scores.cohort == "validation")]
    cases = pick_cases(valid[["patient", "label", "score"]], threshold)
    record(run_path, "explain.cases", cases.to_dict(orient="records"))
    return Cases(threshold, cases, valid, model)


def waterfall_plots(explained: ExplainedModel, cases: Cases) -> None:
    """Show one waterfall per case whose patient was explained (base value → the patient's probability)."""
    import matplotlib.pyplot as plt
    import shap

    result = explained.result
    for row in cases.table.itertuples():
        if row.patient not in result.patients:
            continue
        shap.plots.waterfall(result.for_patient(row.patient), max_display=MAX_WATERFALL, show=False)
        plt.title(
            f"{row.case}: {row.patient}, {cases.model} P(malignant) = {row.score:.2f}, "
            f"{'malignant' if row.label == 1 else 'benign'} at biopsy"
        )
        plt.show()


def gradcam_figure(settings: Any, cases: Cases) -> go.Figure:
    """Grad-CAM of the DTL classifier for the cases and ``explain.gradcam_n_extra`` seeded other
    validation patients, on their full frames (the ``gradcam_validation`` figure)."""
    from splkit.cohort import load_cohort_for
    from splkit.deep.gradcam import gradcam_maps
    from splkit.deep.overlay import frame_panels, overlay_figure

    cohort = load_cohort_for(settings)
    rng = np.random.default_rng(settings.seed)
    others = sorted(set(cases.scores.patient) - set(cases.table.patient))
    size = min(settings.explain.gradcam_n_extra, len(others))
    extra = sorted(rng.choice(others, size=size, replace=False))
    wanted = [(row.case, row.patient) for row in cases.table.itertuples()] + [("other", p) for p in extra]
    maps = gradcam_maps(settings, cohort, [patient for _, patient in wanted])
    score = cases.scores.set_index("patient").score
    captions = [(p, f"{p} · {case}<br>{cases.model} p = {score[p]:.2f}") for case, p in wanted]
    return overlay_figure(frame_panels(cohort, maps, captions))
