"""Chapter 6 (``notebooks/06_interpretability.ipynb``), one call per section.

Each function does the section's work on the run of ``settings``, records its ``explain.*`` keys in
``results.json`` and returns what the notebook shows; the SHAP plots (drawn by the ``shap`` library
with matplotlib) are shown as they are drawn.  With an external cohort
(:mod:`splkit.explain.external`) every section shows its patients beside the validation patients:
SHAP values, cases and Grad-CAM maps, from the same training background, models and thresholds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from splkit.explain.external import ExternalPatients, external_patients
from splkit.explain.shapley import ShapResult, explain_model, pick_cases
from splkit.models.available import absence_note, fusion_model
from splkit.run import predictions
from splkit.run.engine import Engine
from splkit.run.names import COHORT_LABELS
from splkit.run.report import load_results, lookup, record

#: The model whose validation calls pick the cases (and whose probability the captions give).
CASE_MODEL = "CDLR"
#: Features shown by the beeswarm and bar plots, and by each waterfall.
MAX_DISPLAY, MAX_WATERFALL = 15, 10
#: The cohorts the chapter explains, in order (those the run has).
COHORTS = ("validation", "external")


@dataclass(frozen=True)
class ExplainedModel:
    """SHAP values of one saved model per explained cohort, and how exactly they add up."""

    name: str
    results: dict[str, ShapResult]  # cohort -> SHAP values of (a seeded sample of) its patients
    errors: dict[str, float]  # cohort -> max |base + sum of SHAP values - model output|
    more: Callable[[str], Any] | None = field(default=None, compare=False, repr=False)

    @property
    def result(self) -> ShapResult:
        """The first cohort's values (validation, when the run has validation patients)."""
        return next(iter(self.results.values()))

    @property
    def additivity_error(self) -> float:
        return max(self.errors.values())

    @property
    def summary(self) -> str:
        """One line: explainer, patients explained per cohort, background size, additivity error."""
        counts = " and ".join(f"{len(r.patients)} {cohort}" for cohort, r in self.results.items())
        return (
            f"{self.name}: {self.result.method} explainer, {counts} patients, "
            f"{self.result.background_size} background patients, max additivity error "
            f"{self.additivity_error:.1e}"
        )

    def explanation(self, patient: str) -> Any:
        """One patient's explanation (a waterfall's), computed now if the patient was not sampled."""
        for result in self.results.values():
            if patient in result.patients:
                return result.for_patient(patient)
        return self.more(patient) if self.more is not None else None


def _sample(rows: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    return rows if len(rows) <= n else rows.sample(n=n, random_state=seed).sort_index()


def explain_saved_model(settings: Any, name: str, engine: Engine | None = None) -> ExplainedModel:
    """SHAP values of the saved model ``name`` on (a seeded sample of) the validation patients, and of
    the external patients when the run has them.

    The background is a seeded sample of training patients (``explain.shap_background``); at most
    ``explain.shap_n_explain`` patients of each cohort are explained; blocks are cached in ``.cache/shap``.
    Records ``explain.<name>.method``, ``.n_explained``, ``.additivity_max_error`` and ``.mean_abs_shap``
    (validation) and the same under ``explain.<name>.external`` (external patients).
    """
    from splkit.models import load_model, model_inputs

    run_path, explain, seed = settings.run_path, settings.explain, settings.seed
    estimator = load_model(run_path, name)["estimator"]
    X, _, cohort = model_inputs(run_path, name)
    X_train = X[cohort == "train"]
    external = external_patients(settings)
    everyone = {c: X[cohort == c] for c in COHORTS if c != "external" and (cohort == c).any()}
    if external is not None:
        everyone["external"] = external.checked_inputs(name, X, cohort, estimator)
    options = dict(
        background_size=explain.shap_background,
        max_evals=explain.shap_max_evals,
        random_state=seed,
        n_jobs=settings.n_jobs,
        cache=True,  # .cache/shap: a rerun with the same model, data and settings reuses the values
    )
    results, errors = {}, {}
    with nullcontext(engine) if engine is not None else Engine.from_settings(settings) as running:
        for name_of_cohort, rows in everyone.items():
            rows = _sample(rows, explain.shap_n_explain, seed)
            result = explain_model(estimator, X_train, rows, engine=running, **options)
            output = estimator.predict_proba(rows)[:, 1]
            total = result.explanation.base_values + result.values.sum(axis=1)
            results[name_of_cohort] = result
            errors[name_of_cohort] = float(np.max(np.abs(total - output)))
    for name_of_cohort, result in results.items():
        prefix = f"explain.{name}" + ("" if name_of_cohort == "validation" else f".{name_of_cohort}")
        record(run_path, f"{prefix}.method", result.method)
        record(run_path, f"{prefix}.n_explained", len(result.patients))
        record(run_path, f"{prefix}.additivity_max_error", errors[name_of_cohort])
        record(run_path, f"{prefix}.mean_abs_shap", result.mean_abs().round(4).to_dict())
    rows = pd.concat(everyone.values())

    def more(patient: str) -> Any:  # a case patient outside the sample: explained on its own
        if patient not in rows.index:
            return None
        one = explain_model(estimator, X_train, rows.loc[[patient]], **{**options, "n_jobs": 1})
        return one.explanation[0]

    return ExplainedModel(name, results, errors, more)


def explain_models(settings: Any, names: Iterable[str] | None = None) -> dict[str, ExplainedModel]:
    """:func:`explain_saved_model` for each of ``names``, in order (default: the DLR and the fusion model
    of :func:`case_model`; the DLR alone when the cohort has no clinical variables), on one engine."""
    names = list(dict.fromkeys(names if names is not None else ["DLR", case_model(settings)]))
    with Engine.from_settings(settings) as engine:  # the profile's compute section, started once
        return {name: explain_saved_model(settings, name, engine) for name in names}


def case_model(settings: Any) -> str:
    """The model whose cases the chapter shows: the fusion model (:mod:`splkit.models.available`)."""
    return fusion_model(settings)


def absence(settings: Any) -> str:
    """Why a model is not explained ("" when the run has every model)."""
    return absence_note(settings)


def external_note(settings: Any) -> str:
    """What the chapter shows of the external cohort ("" for a run without external patients)."""
    external = external_patients(settings)
    if external is None:
        return ""
    return (
        f"**External cohort.** This run has an external cohort: {external.sentence()}. Each section "
        "shows them beside the validation patients — SHAP values (same training background), their "
        "most confident true and false calls at the same training threshold, and Grad-CAM maps — so "
        "that the explanations can be compared between the centres."
    )


def shap_plots(explained: ExplainedModel) -> None:
    """Show a beeswarm (one dot per patient and feature) per cohort and the mean |SHAP| bar chart of a
    model (one bar per cohort and feature with an external cohort)."""
    import matplotlib.pyplot as plt
    import shap

    name = explained.name
    for cohort, result in explained.results.items():
        shap.plots.beeswarm(result.explanation, max_display=MAX_DISPLAY, show=False)
        plt.title(f"{name} model: SHAP values on the {cohort} cohort")
        plt.xlabel("SHAP value (contribution to P(malignant))")
        plt.show()
    if len(explained.results) == 1:
        shap.plots.bar(explained.result.explanation, max_display=MAX_DISPLAY, show=False)
        plt.title(f"{name} model: mean |SHAP| per feature")
    else:
        groups = {COHORT_LABELS[c]: r.explanation for c, r in explained.results.items()}
        shap.plots.bar(groups, max_display=MAX_DISPLAY, show=False)
        plt.title(f"{name} model: mean |SHAP| per feature and cohort")
    plt.show()


def largest_share(explained: ExplainedModel) -> str:
    """A Markdown sentence per cohort: the input with the largest share of the model's mean |SHAP|."""
    sentences = []
    for cohort, result in explained.results.items():
        importance = result.mean_abs()
        share = importance / importance.sum()
        sentences.append(
            f"In the {cohort} cohort, **{share.index[0]}** carries the largest share of the "
            f"{explained.name} model's attributions ({share.iloc[0]:.0%} of the mean absolute SHAP value)."
        )
    return " ".join(sentences)


@dataclass(frozen=True)
class Cases:
    """The most confident TP/TN/FP/FN patients of each explained cohort of :data:`CASE_MODEL` at its
    training threshold."""

    threshold: float
    table: pd.DataFrame  # case, patient, label, score (and cohort, with an external cohort)
    scores: pd.DataFrame  # the model's predictions of those cohorts (patient, cohort, label, model, score)
    model: str = CASE_MODEL
    external: ExternalPatients | None = field(default=None, compare=False, repr=False)

    @property
    def threshold_text(self) -> str:
        return f"Training-cohort Youden threshold of the {self.model} model: **{self.threshold:.3f}**."

    @property
    def shown(self) -> pd.DataFrame:
        """The table as the book shows it."""
        names = {"label": "label (1 = malignant)", "score": f"{self.model} probability"}
        return self.table.rename(columns=names)


def validation_cases(settings: Any) -> Cases:
    """Pick the four cases at the training-cohort Youden threshold of chapter 5 among the validation
    patients, and among the external patients when the run has them; records ``explain.cases``
    (validation) and ``explain.external.cases``."""
    run_path, model = settings.run_path, case_model(settings)
    threshold = lookup(load_results(run_path), f"models.{model}.train.threshold")
    if threshold is None:
        raise KeyError(f"results.json lacks models.{model}.train.threshold: run chapter 5 first")
    scores = predictions.load(run_path)
    scores = scores[(scores.model == model) & (scores.cohort == "validation")]
    external = external_patients(settings)
    if external is not None:
        scores = pd.concat([scores, external.scores[external.scores.model == model]], ignore_index=True)
    tables = []
    for cohort in COHORTS if external is not None else ["validation"]:
        picked = pick_cases(scores[scores.cohort == cohort][["patient", "label", "score"]], threshold)
        if cohort == "validation":
            record(run_path, "explain.cases", picked.to_dict(orient="records"))
        elif not picked.empty:
            record(run_path, f"explain.{cohort}.cases", picked.to_dict(orient="records"))
        if external is None:
            tables.append(picked)
        elif not picked.empty:
            tables.append(picked.assign(cohort=cohort)[["cohort", *picked.columns]])
    table = pd.concat(tables, ignore_index=True) if tables else pick_cases(scores.iloc[:0], threshold)
    return Cases(threshold, table, scores, model, external)


def waterfall_plots(explained: ExplainedModel, cases: Cases) -> None:
    """Show one waterfall per case (base value → the patient's probability)."""
    import matplotlib.pyplot as plt
    import shap

    for row in cases.table.itertuples():
        explanation = explained.explanation(row.patient)
        if explanation is None:
            continue
        where = f"{row.cohort} " if "cohort" in cases.table.columns else ""
        shap.plots.waterfall(explanation, max_display=MAX_WATERFALL, show=False)
        plt.title(
            f"{where}{row.case}: {row.patient}, {cases.model} P(malignant) = {row.score:.2f}, "
            f"{'malignant' if row.label == 1 else 'benign'} at biopsy"
        )
        plt.show()


def gradcam_figure(settings: Any, cases: Cases) -> go.Figure:
    """Grad-CAM of the DTL classifier for the cases and ``explain.gradcam_n_extra`` seeded other
    patients of each cohort, on their full frames (the ``gradcam_validation`` figure)."""
    from splkit.cohort import load_cohort_for
    from splkit.deep.gradcam import gradcam_frames
    from splkit.deep.overlay import frame_panels, overlay_figure

    development = load_cohort_for(settings)
    rng = np.random.default_rng(settings.seed)
    score = cases.scores.set_index("patient").score
    wanted = []  # (cohort of images, patient, caption)
    for cohort in COHORTS:
        table = cases.table[cases.table.cohort == cohort] if "cohort" in cases.table else cases.table
        if cohort == "external" and cases.external is None:
            continue
        images = cases.external.cohort if cohort == "external" else development
        others = sorted(set(cases.scores[cases.scores.cohort == cohort].patient) - set(table.patient))
        extra = sorted(
            rng.choice(others, size=min(settings.explain.gradcam_n_extra, len(others)), replace=False)
        )
        where = "external " if cohort == "external" else ""
        rows = [(row.case, row.patient) for row in table.itertuples()] + [("other", p) for p in extra]
        wanted += [
            (images, p, f"{p} · {where}{case}<br>{cases.model} p = {score[p]:.2f}") for case, p in rows
        ]
    maps = gradcam_frames(settings, [(images, p) for images, p, _ in wanted])
    panels = [
        panel
        for (images, p, caption), heatmap in zip(wanted, maps, strict=True)
        for panel in frame_panels(images, {p: heatmap}, [(p, caption)])
    ]
    return overlay_figure(panels)
