"""The steps of chapter 2 (``notebooks/02_clinical_model.ipynb``): the clinical model.

Each function does one step of the chapter: it records the step's ``clinical.*`` keys in
``results.json``, writes its tables (and the ``Clinical`` rows of ``predictions.csv``, and
``models/Clinical.joblib``) into the run directory, and returns what the notebook shows (tables,
figures, Markdown text).  The notebook holds the prose; the numbers come from here.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sklearn.metrics import roc_auc_score

from splkit.book.format import fmt_p
from splkit.clinical.figures import forest_plot, nomogram_figure
from splkit.clinical.io import describe_terms, format_or_table, odds_ratio_record
from splkit.clinical.nomogram import Nomogram
from splkit.clinical.selection import (
    FALLBACK_RULE,
    NONE_UNIVARIATE,
    ClinicalSelection,
    SelectedClinicalModel,
    out_of_fold_scores,
    select_predictors,
)
from splkit.cohort.run_tables import dictionary_spec, read_run_cohort
from splkit.models.available import NO_CLINICAL, absence_note, has_clinical_arm, record_availability
from splkit.run import predictions
from splkit.run.cache import atomic_dump
from splkit.run.names import MODELS
from splkit.run.report import record, write_table
from splkit.run.rundir import RunDir

#: The model this chapter fits (the first of the book's models).
CLINICAL = MODELS[0]
#: What the chapter says when no variable passes the univariate screen.
NO_MULTIVARIABLE = "No variable passed the univariate screen, so there is no multivariable model."
#: Validation patients whose nomogram points the chapter checks against the model.
NOMOGRAM_EXAMPLES = 5


@dataclass
class ClinicalData:
    """The run's cohort table and data dictionary, and the clinical variables the models may use."""

    table: pd.DataFrame
    variables: pd.DataFrame
    types: dict[str, str]
    levels: dict[str, list[str]]
    usable: list[str]

    @property
    def train(self) -> pd.DataFrame:
        return self.table[self.table["cohort"] == "train"]

    @property
    def others(self) -> pd.DataFrame:
        """Every patient outside the training cohort (validation, external)."""
        return self.table[self.table["cohort"] != "train"]

    @property
    def X_train(self) -> pd.DataFrame:
        return self.train[self.usable]

    @property
    def y_train(self) -> pd.Series:
        return self.train["label"].astype(int)


@dataclass
class ClinicalScores:
    """The ``Clinical`` model's scores (out-of-fold on training) and the fits behind them."""

    scores: pd.DataFrame
    auc: dict[str, float]
    folds: list = field(repr=False)
    fitted: SelectedClinicalModel = field(repr=False)
    not_converged: int = 0


def clinical_arm(settings) -> str:
    """The chapter's first step: "" when the cohort has clinical variables; otherwise the sentence saying
    why there is no clinical model.  Without clinical variables it records ``clinical.predictors: []``
    and ``models.available`` / ``models.absent`` (:mod:`splkit.models.available`, the one rule), fits
    nothing, and turns the chapter's remaining code cells into no-ops."""
    if has_clinical_arm(settings):
        return ""
    record(settings.run_path, "clinical.predictors", [])
    record(settings.run_path, "clinical.absent", NO_CLINICAL)
    record_availability(settings)
    _skip_remaining_cells()
    return absence_note(settings)


def _skip_remaining_cells() -> None:
    """Make every later cell of the running notebook a no-op (its kernel only; nothing outside IPython)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency
        return
    shell = get_ipython()
    if shell is not None:
        shell.input_transformers_cleanup.append(lambda lines: ["pass\n"])


def training_data(settings) -> ClinicalData:
    """Read ``cohort.csv`` and ``variables.csv``; record ``clinical.n_train_rows_imputed``."""
    table, variables = read_run_cohort(settings.run_path)
    types, levels = dictionary_spec(variables)
    usable = (
        [v for v in variables.index if variables.at[v, "included"]]
        if "included" in variables
        else list(variables.index)
    )
    data = ClinicalData(table, variables, types, levels, usable)
    record(settings.run_path, "clinical.n_train_rows_imputed", int(data.X_train.isna().any(axis=1).sum()))
    return data


def data_summary(data: ClinicalData, settings) -> str:
    """Markdown: the training cohort, the patients with a missing value, the kind of interval."""
    affected = data.X_train.isna().any(axis=1)
    interval = "profile likelihood" if settings.clinical.interval == "profile" else "Wald"
    return (
        f"Training cohort: **{len(data.train)} patients** ({int(data.y_train.sum())} malignant), "
        f"{len(data.usable)} clinical variables. "
        f"**{int(affected.sum())} training patients** ({affected.mean():.0%}) have at least one missing value; "
        "the multivariable and final models impute them by the rule above. "
        f"Confidence intervals: **{interval}**."
    )


def select(data: ClinicalData, settings) -> ClinicalSelection:
    """Univariate screen, multivariable model and final model on the training cohort; writes
    ``tables/clinical_univariate.csv``, records ``clinical.interval`` and
    ``clinical.univariate_significant``."""
    clin = settings.clinical
    selection = select_predictors(
        data.X_train,
        data.y_train,
        data.types,
        univariate_p=clin.univariate_p,
        multivariable_p=clin.multivariable_p,
        interval=clin.interval,
        levels=data.levels,
    )
    write_table(settings.run_path, "clinical_univariate", selection.univariate)
    record(settings.run_path, "clinical.interval", clin.interval)
    record(settings.run_path, "clinical.univariate_significant", selection.candidates)
    return selection


def screen_summary(selection: ClinicalSelection, data: ClinicalData, settings) -> str:
    """Markdown: how many variables passed the univariate screen, and which (and, when none did, that
    no clinical variable is associated with the outcome in this cohort)."""
    text = (
        f"**{len(selection.candidates)} of {len(data.usable)} variables** have univariate p < "
        f"{settings.clinical.univariate_p}: "
        + (", ".join(f"`{v}`" for v in selection.candidates) or "none")
        + "."
    )
    if selection.rule == NONE_UNIVARIATE:
        text += (
            " **No clinical variable is significantly associated with the outcome in the training cohort**; "
            "the clinical model below follows the fallback rule."
        )
    return text


def rule_note(selection: ClinicalSelection, settings) -> str:
    """Markdown: which branch of the selection rule made the clinical model, and what it means for the
    Clinical and CDLR models; records ``clinical.rule_applied`` and ``clinical.fallback``."""
    clin = settings.clinical
    applied = selection.rule_applied(clin.univariate_p, clin.multivariable_p)
    record(settings.run_path, "clinical.rule_applied", applied)
    record(settings.run_path, "clinical.fallback", selection.fallback)
    if not selection.fallback:
        n = len(selection.predictors)
        return (
            f"Selection rule applied: the **{n} variable{'s' * (n != 1)}** with univariate p < "
            f"{clin.univariate_p} and multivariable p < {clin.multivariable_p} form the clinical model."
        )
    kept = selection.predictors[0]
    why = (
        f"no variable had univariate p < {clin.univariate_p}"
        if selection.rule == NONE_UNIVARIATE
        else f"no candidate stayed at multivariable p < {clin.multivariable_p}"
    )
    return (
        f"**Fallback rule applied: {why}.** By the rule fixed before the analysis, {FALLBACK_RULE}. "
        f"The clinical model is therefore `{kept}` alone (univariate p = "
        f"{fmt_p(float(selection.univariate_p[kept]))}), a model **not supported by a significant "
        "association**: expect a clinical AUC near 0.5, an odds ratio whose interval includes 1, and a CDLR "
        f"that adds little to the DLR. The CDLR's clinical input is this same variable "
        f"(`clinical.rule_applied` in `results.json`)."
    )


def multivariable(selection: ClinicalSelection, settings) -> tuple[pd.DataFrame | None, object]:
    """The multivariable model of the screened variables: writes ``tables/clinical_multivariable.csv``;
    returns the formatted table and its forest plot (``(None, None)`` when nothing passed the screen)."""
    if selection.multivariable is None:
        return None, None
    write_table(settings.run_path, "clinical_multivariable", selection.multivariable)
    title = "Multivariable logistic regression (training cohort)"
    return format_or_table(selection.multivariable), forest_plot(selection.multivariable, title)


def final_model(
    selection: ClinicalSelection, data: ClinicalData, settings
) -> tuple[pd.DataFrame, str, object]:
    """The final model on the selected predictors: writes ``tables/clinical_final.csv``, records
    ``clinical.predictors``, ``odds_ratios``, ``encoding`` and ``selection_notes``; returns the
    formatted table, a Markdown sentence on the coding of its terms, and its forest plot."""
    run = settings.run_path
    coding = describe_terms(selection.pipeline["encode"], data.variables["unit"].to_dict())
    write_table(run, "clinical_final", selection.final)
    record(run, "clinical.predictors", selection.predictors)
    record(run, "clinical.odds_ratios", odds_ratio_record(selection.final))
    record(run, "clinical.encoding", coding)
    record(run, "clinical.selection_notes", selection.notes)
    text = "Coding of the terms: " + "; ".join(f"`{t}` — {d}" for t, d in coding.items()) + "."
    figure = forest_plot(selection.final, "Final clinical model (training cohort)")
    return format_or_table(selection.final), text, figure


def nomogram(selection: ClinicalSelection, data: ClinicalData) -> tuple[object, pd.DataFrame]:
    """The nomogram of the final model, and its points and probability for a few validation patients
    beside the model's own probability (they agree up to the rounding of the points)."""
    pipeline, predictors = selection.pipeline, selection.predictors
    drawn = Nomogram(pipeline, data.X_train[predictors])
    example = data.others[predictors].head(NOMOGRAM_EXAMPLES)
    check = drawn.points(example).round(1)
    check["probability (nomogram)"] = drawn.probability(check["total"].to_numpy()).round(3)
    check["probability (model)"] = pipeline.predict_proba(example)[:, 1].round(3)
    return nomogram_figure(drawn, "Nomogram of the clinical model"), check


def score_patients(selection: ClinicalSelection, data: ClinicalData, settings) -> ClinicalScores:
    """Score every patient with the whole selection procedure: out-of-fold on training (stratified
    ``models.cv_folds``-fold, shuffled with the seed, the selection repeated in each fold), from the
    refit on all training patients elsewhere.  Saves the ``Clinical`` rows of ``predictions.csv`` and
    records ``clinical.auc`` (point estimates per cohort)."""
    clin = settings.clinical
    estimator = SelectedClinicalModel(
        data.types, data.levels, univariate_p=clin.univariate_p, multivariable_p=clin.multivariable_p
    )
    folds: list = []
    with warnings.catch_warnings(record=True) as caught:  # fold fits on few patients: count, don't scroll
        warnings.simplefilter("always")
        oof, other_scores, fitted = out_of_fold_scores(
            estimator,
            data.X_train,
            data.y_train,
            data.others[data.usable],
            n_splits=settings.models.cv_folds,
            random_state=settings.seed,
            fold_models=folds,
        )
    if fitted.predictors_ != selection.predictors:
        raise RuntimeError(
            f"the refit on all training patients selected {fitted.predictors_}, not {selection.predictors}"
        )
    scores = pd.concat([oof, other_scores]).rename("score").to_frame()
    scores = scores.join(data.table[["cohort", "label"]]).rename_axis("patient").reset_index()
    scores["model"] = CLINICAL
    predictions.save(settings.run_path, scores)
    auc = {c: roc_auc_score(g["label"], g["score"]) for c, g in scores.groupby("cohort")}
    record(settings.run_path, "clinical.auc", auc)
    not_converged = sum("did not converge" in str(w.message) for w in caught)
    return ClinicalScores(scores, auc, folds, fitted, not_converged)


def convergence_note(scores: ClinicalScores) -> str:
    """A sentence on the fold fits that did not converge (empty when all did)."""
    if not scores.not_converged:
        return ""
    return (
        f"{scores.not_converged} logistic fits inside the folds did not converge (a level or value range "
        "with one outcome only, i.e. separation, in a fold); their p-values are unreliable and rarely "
        "pass the screen"
    )


def auc_summary(scores: ClinicalScores) -> str:
    """Markdown: the clinical score's AUC per cohort (out-of-fold on training)."""
    return (
        "AUC of the clinical score (point estimates; confidence intervals and comparisons with the other models "
        "are in the model comparison chapter): "
        + ", ".join(f"{c} {'(out-of-fold) ' if c == 'train' else ''}{a:.3f}" for c, a in scores.auc.items())
        + "."
    )


def fold_stability(scores: ClinicalScores, selection: ClinicalSelection, settings) -> pd.DataFrame:
    """Which predictors each fold selected (✓), beside the selection on all training patients;
    records ``clinical.fold_predictors``."""
    predictors = selection.predictors
    chosen = sorted({p for f in scores.folds for p in f.predictors_} | set(predictors))
    table = pd.DataFrame(
        {
            f"fold {i + 1}": {v: "✓" if v in m.predictors_ else "" for v in chosen}
            for i, m in enumerate(scores.folds)
        }
    )
    table["all training"] = ["✓" if v in predictors else "" for v in table.index]
    record(settings.run_path, "clinical.fold_predictors", [m.predictors_ for m in scores.folds])
    return table.rename_axis("predictor selected")


def score_summary(scores: ClinicalScores) -> pd.DataFrame:
    """The distribution of the scores by cohort and outcome."""
    return scores.scores.groupby(["cohort", "label"])["score"].describe().round(3)


def save_clinical_model(scores: ClinicalScores, data: ClinicalData, settings) -> Path:
    """Save the pipeline refitted on all training patients, with its predictors and settings, as
    ``models/Clinical.joblib``; return the path."""
    predictors = scores.fitted.predictors_
    return atomic_dump(
        {
            "estimator": scores.fitted.pipeline_,
            "features": predictors,
            "settings": {
                **settings.clinical.to_dict(),
                "cv_folds": settings.models.cv_folds,
                "seed": settings.seed,
                "types": {p: data.types.get(p) for p in predictors},
                "levels": {p: data.levels[p] for p in predictors if p in data.levels},
            },
        },
        RunDir(settings.run_path).model(CLINICAL),
    )
