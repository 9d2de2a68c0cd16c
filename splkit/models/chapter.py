"""Chapter 5 (``05_models.ipynb``) as steps: each records its ``models.*`` / ``delong.*`` keys in
``results.json``, writes its tables and figures, and returns what the chapter shows.

Fitting is :func:`splkit.models.fit_models`; everything after it reads only ``predictions.csv``
(through :func:`evaluate`), exactly as a reader could re-evaluate the saved scores::

    fitted = models.fit_models(settings, settings.run_path, cache=True)
    best, note = chapter.hyperparameters(settings, fitted)
    evaluation = chapter.evaluate(settings)
    for cohort in evaluation.cohorts:
        display(*chapter.performance(evaluation, cohort))
    pairs = chapter.delong_tests(evaluation)
    ...
    chapter.record_results(evaluation, fitted, pairs, nri_idi)
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from typing import Any

import pandas as pd
from IPython.display import Markdown

from splkit import stats
from splkit.book.plots import show
from splkit.models import evaluation as ev
from splkit.models import figures
from splkit.models.available import absence_note, fusion_model, keep_available, record_availability
from splkit.models.data import feature_names
from splkit.models.hyperparameters import hyperparameters  # noqa: F401 - the notebook's step
from splkit.models.notes import optimism_note  # noqa: F401 - the notebook's step
from splkit.run import predictions
from splkit.run.names import CLINICAL_SVM, COHORT_LABELS, IN_SAMPLE, MODEL_ORDER, held_out_cohort
from splkit.run.report import load_results, record, write_table
from splkit.run.rundir import RunDir

#: The model the study asks about: compared against each other model (the pre-specified family).
FUSION = "CDLR"
#: Columns of the in-sample stacking comparison.
IN_SAMPLE_COLUMNS = [
    "auc",
    "auc_delong_low",
    "auc_delong_high",
    "sensitivity",
    "specificity",
    "brier",
    "cal_slope",
]


def _quiet(function):
    """Silence the two expected calibration warnings while ``function`` runs.

    Calibration slopes of near-perfect (training) scores trigger statsmodels' separation warning; the
    estimates are still reported (and are then extreme, which is itself informative), and an undefined
    slope is shown as a missing value.
    """

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Perfect separation")
            warnings.filterwarnings("ignore", message="calibration slope undefined")
            return function(*args, **kwargs)

    return wrapper


def _label(cohort: str) -> str:
    return COHORT_LABELS.get(cohort, cohort).lower()


# --- inputs and fitting ---------------------------------------------------------------------------


def inputs_table(settings) -> pd.DataFrame:
    """What goes into each model, as chapters 2-4 chose it on the training cohort."""
    results = load_results(settings.run_path)
    n_clin = len(list(results["clinical"]["predictors"]))
    n_rad = len(feature_names(results["radiomics"]["selected"], "radiomics.selected"))
    n_dtl = len(feature_names(results["deep"]["selected"], "deep.selected"))
    clin = f"{n_clin} clinical predictor{'s' if n_clin != 1 else ''}"
    if results["clinical"].get("fallback"):
        clin += " (the fallback rule of chapter 2: no variable was significant)"
    inputs = {
        "Clinical": f"{clin} (logistic regression, chapter 2)",
        CLINICAL_SVM: clin,
        "Rad": f"{n_rad} radiomics features (chapter 3)",
        "DTL": f"{n_dtl} DTL components (chapter 4)",
        "DLR": f"{n_rad + n_dtl} radiomics + DTL features",
        FUSION: f"DLR score + {clin}",
    }
    order = keep_available([m for m in MODEL_ORDER if m in inputs], not absence_note(settings))
    record_availability(settings)
    return pd.DataFrame({"inputs": [inputs[m] for m in order]}, index=pd.Index(order, name="Model"))


def nesting_table(fitted) -> pd.DataFrame:
    """Per fitted model, what its out-of-fold training scores repeat inside each fold."""
    nesting = fitted.nesting
    return nesting.set_index("model").loc[[m for m in nesting.model if m in fitted.best_params]]


# --- evaluation from predictions.csv --------------------------------------------------------------


@dataclass
class Evaluation:
    """The predictions table, the cohorts it holds and every model × cohort evaluation."""

    settings: Any
    table: pd.DataFrame
    cohorts: list[str]
    metrics: pd.DataFrame

    @property
    def run(self) -> RunDir:
        return RunDir(self.settings.run_path)

    @property
    def level(self) -> float:
        return float(self.settings.stats.ci_level)

    @property
    def fusion(self) -> str:
        """The model fusing every arm this run has (:func:`splkit.models.available.fusion_model`)."""
        return fusion_model(self.settings)

    @property
    def held_out(self) -> str:
        """``validation``, or ``external`` when the cohort column has no validation patients."""
        return held_out_cohort(self.cohorts)

    def scores(self, cohort: str) -> pd.DataFrame:
        return ev.cohort_scores(self.table, cohort)


@_quiet
def evaluate(settings) -> Evaluation:
    """Evaluate every model on every cohort of ``predictions.csv`` at the training-cohort Youden
    threshold (``tables/model_metrics.csv``)."""
    table = predictions.load(settings.run_path)
    cohorts = [c for c in COHORT_LABELS if c in set(table.cohort)]  # train, validation[, external]
    metrics = ev.evaluate_all(table, settings, threshold_cohort="train", cohorts=cohorts)
    write_table(settings.run_path, "model_metrics", metrics, index=False)
    return Evaluation(settings, table, cohorts, metrics)


def performance(evaluation: Evaluation, cohort: str) -> list:
    """A heading and the paper-style performance table of one cohort (``tables/performance_<cohort>.csv``)."""
    perf = ev.performance_table(evaluation.metrics, cohort)
    write_table(evaluation.run, f"performance_{cohort}", perf)
    return [Markdown(f"**{COHORT_LABELS[cohort]} cohort** (threshold: training-cohort Youden)"), perf]


def validation_auc_note(evaluation: Evaluation) -> Markdown:
    """Held-out (validation, else external) AUCs with DeLong CIs, and which model has the highest."""
    metrics, held = evaluation.metrics, evaluation.held_out
    best = metrics[metrics.cohort == held].sort_values("auc", ascending=False).iloc[0]
    name = _label(held)
    return Markdown(
        f"{name.capitalize()} AUCs (95 % CI, DeLong): {ev.auc_summary(metrics, held)}. The highest {name} AUC is "
        f"the **{best.model}** model's. Training AUCs are out-of-fold, so they are directly comparable to the "
        f"{name} AUCs; a training AUC far above the {name} AUC would indicate overfitting that the "
        "out-of-fold scheme failed to catch."
    )


@_quiet
def own_youden(evaluation: Evaluation) -> list:
    """The optimistic variant: held-out metrics at the held-out cohort's own Youden threshold
    (``tables/performance_<cohort>_own_youden.csv``), shown without the (unchanged) AUC columns."""
    held = evaluation.held_out
    metrics = ev.evaluate_all(evaluation.table, evaluation.settings, threshold_cohort=None, cohorts=[held])
    perf = ev.performance_table(metrics, held)
    write_table(evaluation.run, f"performance_{held}_own_youden", perf)
    shown = perf.drop(columns=[c for c in perf.columns if c.startswith("AUC")])
    title = f"**{COHORT_LABELS[held]} cohort, threshold re-estimated on {_label(held)} (optimistic)**"
    return [Markdown(title), shown]


def roc(evaluation: Evaluation, cohort: str) -> None:
    """Show (and save as ``figures/roc_<cohort>.html``) the ROC curves of one cohort."""
    aucs = evaluation.metrics.set_index(["cohort", "model"])["auc"].loc[cohort].to_dict()
    fig = figures.roc_figure(evaluation.scores(cohort), f"ROC curves, {_label(cohort)} cohort", aucs=aucs)
    show(fig, evaluation.run, f"roc_{cohort}")


def delong_tests(evaluation: Evaluation) -> dict[str, pd.DataFrame]:
    """Paired DeLong tests of every pair of models per cohort (``tables/delong_<cohort>.csv``), shown as
    p-value matrices (``figures/delong_<cohort>.html``)."""
    pairs = {}
    for cohort in evaluation.cohorts:
        pairs[cohort] = ev.delong_comparisons(evaluation.table, cohort)
        raw, holm = ev.delong_matrices(evaluation.table, cohort)
        write_table(evaluation.run, f"delong_{cohort}", pairs[cohort], index=False)
        fig = figures.delong_heatmap(raw, f"DeLong p-values, {_label(cohort)} cohort", holm)
        show(fig, evaluation.run, f"delong_{cohort}")
    return pairs


def fusion_family(evaluation: Evaluation, pairs: dict[str, pd.DataFrame]) -> list:
    """Per cohort, a heading and the fusion-model-against-each-model family with its own Holm adjustment
    (the CDLR; the DLR, with the sentence saying why, when the cohort has no clinical variables)."""
    fusion, note = evaluation.fusion, absence_note(evaluation.settings)
    out: list = [Markdown(note)] if note else []
    for cohort, table in pairs.items():
        out += [Markdown(f"**{fusion} against each other model, {_label(cohort)} cohort**")]
        out += [ev.family_comparisons(table, fusion)]
    return out


@_quiet
def calibration(evaluation: Evaluation, cohort: str) -> list:
    """Show the calibration panels of one cohort (``figures/calibration_<cohort>.html``); a heading and
    the Brier / intercept / slope / Hosmer-Lemeshow table (``tables/calibration_<cohort>.csv``)."""
    fig = figures.calibration_figure(
        evaluation.scores(cohort),
        f"Calibration, {_label(cohort)} cohort",
        n_bins=int(evaluation.settings.stats.calibration_bins),
        level=evaluation.level,
    )
    show(fig, evaluation.run, f"calibration_{cohort}")
    table = ev.calibration_table(evaluation.metrics, cohort)
    write_table(evaluation.run, f"calibration_{cohort}", table)
    return [Markdown(f"**Calibration, {_label(cohort)} cohort**"), table]


def decision_curves(evaluation: Evaluation, cohort: str) -> None:
    """Net benefit of every model and the reference strategies (``tables/decision_curves_<cohort>.csv``,
    ``figures/dca_<cohort>.html``)."""
    wide = evaluation.scores(cohort)
    scores = {m: wide[m].to_numpy() for m in wide.columns[1:]}
    curves = stats.decision_curves(wide["label"].to_numpy(), scores, ev.dca_thresholds(evaluation.settings))
    write_table(evaluation.run, f"decision_curves_{cohort}", curves, index=False)
    title = f"Decision curves, {_label(cohort)} cohort"
    show(figures.decision_curve_figure(curves, title), evaluation.run, f"dca_{cohort}")


def biopsies_avoided(evaluation: Evaluation) -> pd.DataFrame:
    """Unnecessary biopsies avoided per 100 held-out patients at the profile's thresholds
    (``tables/biopsies_avoided_<cohort>.csv``; records ``models.biopsies_avoided_<cohort>``; the cohort
    is validation, or external without one)."""
    thresholds, held = list(evaluation.settings.stats.biopsy_thresholds), evaluation.held_out
    avoided = ev.biopsies_table(evaluation.table, held, thresholds)
    write_table(evaluation.run, f"biopsies_avoided_{held}", avoided)
    record(evaluation.run, f"models.biopsies_avoided_{held}", avoided.to_dict(orient="index"))
    return avoided


def reclassification(evaluation: Evaluation) -> pd.DataFrame:
    """NRI and IDI of the CDLR against each other model, every cohort (``tables/nri_idi.csv``)."""
    fusion = evaluation.fusion
    parts = [ev.reclassification(evaluation.table, c, fusion, evaluation.level) for c in evaluation.cohorts]
    nri_idi = pd.concat(parts, ignore_index=True)
    write_table(evaluation.run, "nri_idi", nri_idi, index=False)
    return nri_idi


def reclassification_table(nri_idi: pd.DataFrame) -> pd.DataFrame:
    """:func:`reclassification`'s rows for display: NRI and IDI with CIs and p-values."""
    return ev.reclassification_table(nri_idi)


def in_sample_comparison(evaluation: Evaluation) -> list:
    """The CDLR against its in-sample stacking variant (``models.paper_compatible: true``): the table and
    a sentence on the optimism, or a note that the variant was not fitted."""
    metrics = evaluation.metrics
    if IN_SAMPLE not in set(evaluation.table.model):
        return [
            Markdown(
                "This run's profile has `models.paper_compatible: false`, so the in-sample variant was not fitted."
            )
        ]
    rows = metrics[metrics.model.isin([FUSION, IN_SAMPLE])].set_index(["model", "cohort"])
    compare = rows[IN_SAMPLE_COLUMNS].round(3)
    gap, held = compare["auc"].unstack("cohort"), evaluation.held_out
    return [
        compare,
        Markdown(
            f"Training AUC with in-sample stacking {gap.loc[IN_SAMPLE, 'train']:.3f} against "
            f"{gap.loc[FUSION, 'train']:.3f} out-of-fold; {_label(held)} AUC {gap.loc[IN_SAMPLE, held]:.3f} "
            f"against {gap.loc[FUSION, held]:.3f}. The gap between the in-sample training AUC and the "
            f"{_label(held)} AUC is the optimism such papers report as training performance."
        ),
    ]


# --- bootstrap optimism correction ---------------------------------------------------------------


@_quiet
def optimism(evaluation: Evaluation, fitted, selector_factory=None, cache: bool = True) -> list:
    """Optimism-corrected training AUC, calibration slope and Brier score of every model
    (:func:`splkit.models.optimism.bootstrap_optimism`, ``stats.n_optimism`` resamples), beside the
    out-of-fold and validation AUCs (``tables/optimism.csv``; records ``models.<Model>.optimism``).
    Returns the table and a note on what it means (or only a note when ``stats.n_optimism`` < 2)."""
    from splkit.models.optimism import bootstrap_optimism
    from splkit.models.optimism_report import optimism_table, results_entry

    settings = evaluation.settings
    n_boot = int(settings.stats.n_optimism)
    if n_boot < 2:
        return [Markdown("This run's profile has `stats.n_optimism` below 2: no optimism correction.")]
    result = bootstrap_optimism(
        settings, fitted, n_boot=n_boot, selector_factory=selector_factory, cache=cache
    )
    table = optimism_table(result, evaluation.metrics, list(MODEL_ORDER))
    flat = table.set_axis([f"{m} {c}" for m, c in table.columns], axis=1)
    write_table(evaluation.run, "optimism", flat)
    for model in table.index:
        record(evaluation.run, f"models.{model}.optimism", results_entry(result, model))
    return [table.round(3), optimism_note(table, n_boot)]


# --- results and summary --------------------------------------------------------------------------


def record_results(
    evaluation: Evaluation, fitted, pairs: dict[str, pd.DataFrame], nri_idi: pd.DataFrame
) -> str:
    """Record ``models.<Model>.<cohort>.*``, ``best_params``, ``delong[_holm].*``, ``models.nri_idi`` and
    the training Youden thresholds; returns a one-line receipt."""
    run = evaluation.run
    ev.record_evaluation(run, evaluation.metrics, pairs, nri_idi, fitted.best_params)
    record_availability(evaluation.settings)
    record(run, "models.thresholds_train_youden", ev.youden_thresholds(evaluation.table, "train"))
    return f"recorded {len(evaluation.metrics)} model × cohort evaluations in {run.results_json}"


def summary(evaluation: Evaluation, pairs: dict[str, pd.DataFrame]) -> Markdown:
    """The chapter's answer: the CDLR on the held-out cohort (validation, else external), every model's AUC,
    the DeLong family, calibration."""
    held = evaluation.held_out
    name = _label(held)
    val = evaluation.metrics[evaluation.metrics.cohort == held].set_index("model")
    fusion, note = evaluation.fusion, absence_note(evaluation.settings)
    cdlr = val.loc[fusion]
    paper = " The paper reports 0.924, 0.871, 0.897 and 0.877 on its own cohort." if fusion == FUSION else ""
    lines = [f"- {note}"] if note else []
    lines += [
        f"- On the {name} cohort the {fusion} reached an AUC of {cdlr.auc:.3f} "
        f"(95 % CI {cdlr.auc_delong_low:.3f}–{cdlr.auc_delong_high:.3f}), with sensitivity {cdlr.sensitivity:.3f}, "
        f"specificity {cdlr.specificity:.3f} and accuracy {cdlr.accuracy:.3f} at the training-cohort Youden threshold "
        f"({cdlr.threshold:.3f}).{paper}",
        f"- {name.capitalize()} AUCs of all models: " + ev.auc_summary(evaluation.metrics, held) + ".",
    ]
    family = ev.family_comparisons(pairs[held], fusion)
    better = family[(family[f"AUC {fusion} − model"] > 0) & (family[f"p (Holm, {fusion} family)"] < 0.05)]
    lines.append(
        f"- After Holm adjustment (paired DeLong tests, {fusion} against each other model) the {fusion}'s {name} AUC is "
        + (
            "significantly higher than that of " + ", ".join(better.index)
            if len(better)
            else "not significantly higher than any other model's"
        )
        + f"; with a {name} cohort of this size only large differences can be detected."
    )
    slope = (
        f"slope {cdlr.cal_slope:.2f}."
        if pd.notna(cdlr.cal_slope)
        else "slope not estimable (the scores separate the classes)."
    )
    lines.append(
        f"- Calibration on {name}: {fusion} Brier score {cdlr.brier:.3f}, intercept {cdlr.cal_intercept:.2f}, {slope}"
    )
    return Markdown("\n".join(lines))
