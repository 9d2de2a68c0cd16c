"""Chapter 7 (``07_external_validation.ipynb``) as steps: the frozen study of chapter 5 on an external cohort.

Each step records its ``external.*`` keys in ``results.json``, writes its tables and figures, and returns
what the chapter shows.  Nothing is refitted: the study scores the external patients with the training
cohort's features, models and Youden thresholds; only the logistic recalibration is estimated on the
external cohort, and it is reported as an update a user of the model would need, not as performance::

    ext = chapter.score(settings)            # tables/external_predictions.csv (patients E0001…)
    chapter.performance(ext); chapter.roc(ext); chapter.delong(ext)
    chapter.calibration(ext); chapter.recalibration(ext); chapter.decision_curves(ext)
    chapter.table1(ext); chapter.membership(ext); chapter.summary(ext)
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from IPython.display import Markdown

from splkit import stats
from splkit.book.format import fmt, fmt_ci, fmt_p
from splkit.book.plots import show
from splkit.cohort import dictionary_spec, read_run_cohort
from splkit.cohort.table1 import comparability, table_one
from splkit.external.casemix import membership_model
from splkit.external.cohort import load_external_cohort
from splkit.models import evaluation as ev
from splkit.models import figures
from splkit.run.names import model_order
from splkit.run.report import record, write_table
from splkit.run.rundir import RunDir

#: The model the study asks about (chapter 5).
FUSION = "CDLR"
COHORT = "external"


@dataclass
class External:
    """The external cohort as the chapter needs it: settings, its clinical table, scores and thresholds."""

    settings: Any
    table: pd.DataFrame  # index patient (E0001…): label, cohort, clinical variables
    predictions: pd.DataFrame  # long: patient, cohort, label, model, score
    thresholds: dict[str, float]
    features: pd.DataFrame  # the model inputs of every external patient
    spacing_source: str

    @property
    def run(self) -> RunDir:
        return RunDir(self.settings.run_path)

    @property
    def level(self) -> float:
        return float(self.settings.stats.ci_level)

    @property
    def wide(self) -> pd.DataFrame:
        return ev.cohort_scores(self.predictions, COHORT)

    @property
    def y(self) -> np.ndarray:
        return self.wide["label"].to_numpy()

    @property
    def models(self) -> list[str]:
        return list(self.wide.columns[1:])


def score(settings) -> External:
    """Load the saved study (``<run>/study``), read the external cohort with the study's data rules and
    score it (``tables/external_predictions.csv``; records ``external.n``, ``n_positive``, ``prevalence``,
    ``spacing_source``, ``thresholds``)."""
    from splkit.study import Study

    run = RunDir(settings.run_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # library versions: chapter 5 saved it in this run
        study = Study.load(run.study)
    cohort = load_external_cohort(study, settings)
    proba = study.predict_proba(cohort)
    features = study.features(cohort)  # cached per image: the extraction above is not repeated
    long = proba.reset_index().melt(id_vars="patient", var_name="model", value_name="score")
    long.insert(1, "cohort", COHORT)
    long.insert(2, "label", cohort.table.loc[long["patient"], "label"].to_numpy())
    write_table(run, "external_predictions", long, index=False)
    n, n_pos = len(cohort.table), int(cohort.table["label"].sum())
    record(run, "external.n", n)
    record(run, "external.n_positive", n_pos)
    record(run, "external.prevalence", n_pos / n)
    record(run, "external.spacing_source", cohort.spacing_source)
    record(run, "external.thresholds", study.thresholds)
    return External(settings, cohort.table, long, study.thresholds, features, cohort.spacing_source)


def overview(ext: External) -> pd.DataFrame:
    """Patients and outcomes of the training and external cohorts side by side."""
    train, _ = read_run_cohort(ext.run)
    train = train[train["cohort"] == "train"]
    rows = {
        "Training": (len(train), int(train["label"].sum())),
        "External": (len(ext.table), int(ext.table["label"].sum())),
    }
    out = pd.DataFrame(rows, index=["Patients", "Positive (label 1)"]).T
    out["Prevalence"] = (out["Positive (label 1)"] / out["Patients"]).map(fmt)
    out.index.name = "Cohort"
    return out


def _evaluate(ext: External) -> dict[str, dict]:
    cfg = ext.settings.stats
    out = {}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Perfect separation")
        warnings.filterwarnings("ignore", message="calibration slope undefined")
        for model in ext.models:
            if model in ext.thresholds:
                out[model] = stats.evaluate(
                    ext.y,
                    ext.wide[model].to_numpy(),
                    ext.thresholds[model],
                    level=ext.level,
                    n_boot=int(cfg.n_bootstrap),
                    random_state=int(ext.settings.seed),
                    n_bins=int(cfg.calibration_bins),
                )
    return out


def performance(ext: External) -> pd.DataFrame:
    """AUC (DeLong CI) and the operating point at the training threshold (Wilson CIs) of every model
    (``tables/performance_external.csv``; records ``external.models.<Model>.*``)."""
    results = _evaluate(ext)
    for model, row in results.items():
        record(ext.run, f"external.models.{model}", row)
    table = stats.performance_table(results, auc_ci="delong")
    write_table(ext.run, "performance_external", table)
    return table


def roc(ext: External) -> None:
    """Show (and save as ``figures/roc_external.html``) the ROC curves on the external cohort."""
    aucs = {m: stats.delong_auc(ext.y, ext.wide[m].to_numpy()).auc for m in ext.models}
    show(figures.roc_figure(ext.wide, "ROC curves, external cohort", aucs=aucs), ext.run, "roc_external")


def delong(ext: External) -> pd.DataFrame:
    """Paired DeLong tests of every pair of models (``tables/delong_external.csv``; records
    ``external.delong.*`` and ``external.delong_holm.*``); the CDLR family with its own Holm adjustment."""
    pairs = ev.delong_comparisons(ext.predictions, COHORT)
    write_table(ext.run, "delong_external", pairs, index=False)
    record(ext.run, "external.delong", {f"{r.model_a}_vs_{r.model_b}": r.p for r in pairs.itertuples()})
    record(
        ext.run, "external.delong_holm", {f"{r.model_a}_vs_{r.model_b}": r.p_holm for r in pairs.itertuples()}
    )
    return ev.family_comparisons(pairs, FUSION) if FUSION in ext.models else pairs


def calibration(ext: External) -> None:
    """Show the calibration panels of every model on the external cohort (``figures/calibration_external.html``)."""
    fig = figures.calibration_figure(
        ext.wide,
        "Calibration, external cohort",
        n_bins=int(ext.settings.stats.calibration_bins),
        level=ext.level,
    )
    show(fig, ext.run, "calibration_external")


def recalibration_fits(y: np.ndarray, prob: np.ndarray, level: float = 0.95) -> dict[str, Any]:
    """Calibration-in-the-large and slope of ``prob`` with their recalibrations and Brier scores."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        large = stats.recalibrate(y, prob, method="intercept", level=level)
        logistic = stats.recalibrate(y, prob, method="logistic", level=level)
    out = {
        "intercept_only": large.to_dict(),
        "logistic": logistic.to_dict(),
        "brier": stats.brier_score(y, prob),
    }
    for name, fit in (("intercept_only", large), ("logistic", logistic)):
        out[name]["brier"] = stats.brier_score(y, fit.apply(prob)) if np.isfinite(fit.intercept) else None
    return out


def recalibration(ext: External) -> pd.DataFrame:
    """Per model: calibration-in-the-large (= the recalibration-in-the-large intercept ``a``), the
    calibration slope ``b`` with the logistic recalibration's intercept, each with its Wald CI, and the
    Brier score before and after (``tables/recalibration_external.csv``; records
    ``external.recalibration.<Model>``)."""
    rows = {}
    for model in ext.models:
        fits = recalibration_fits(ext.y, ext.wide[model].to_numpy(), ext.level)
        record(ext.run, f"external.recalibration.{model}", fits)
        large, logistic = fits["intercept_only"], fits["logistic"]
        rows[model] = {
            "Calibration-in-the-large a (CI)": fmt_ci(large, "intercept"),
            "Calibration slope b (CI)": fmt_ci(logistic, "slope"),
            "Logistic recalibration intercept (CI)": fmt_ci(logistic, "intercept"),
            "Brier": fmt(fits["brier"]),
            "Brier, recalibrated in the large": fmt(large["brier"]),
            "Brier, logistic recalibration": fmt(logistic["brier"]),
        }
    table = pd.DataFrame(rows).T.rename_axis("Model")
    write_table(ext.run, "recalibration_external", table)
    return table


def decision_curves(ext: External) -> None:
    """Net benefit of every model and the reference strategies on the external cohort
    (``tables/decision_curves_external.csv``, ``figures/dca_external.html``)."""
    scores = {m: ext.wide[m].to_numpy() for m in ext.models}
    curves = stats.decision_curves(ext.y, scores, ev.dca_thresholds(ext.settings))
    write_table(ext.run, "decision_curves_external", curves, index=False)
    show(figures.decision_curve_figure(curves, "Decision curves, external cohort"), ext.run, "dca_external")


def _training(ext: External) -> tuple[pd.DataFrame, pd.DataFrame]:
    table, variables = read_run_cohort(ext.run)
    return table[table["cohort"] == "train"], variables


def clinical_as_in_run(table: pd.DataFrame, types: dict[str, str]) -> pd.DataFrame:
    """The clinical variables of ``table`` spelt as the run's ``cohort.csv`` holds them (levels as text,
    ``1`` rather than ``1.0``), so the two cohorts' levels compare equal."""
    columns = [v for v in types if v in table.columns]
    out = table[columns].copy()
    for column in columns:
        if types[column] != "numeric":
            out[column] = out[column].map(lambda v: v if pd.isna(v) else ev_text(v)).astype(object)
    return out


def table1(ext: External) -> tuple[pd.DataFrame, str]:
    """Table 1 of the training and external cohorts side by side (``tables/table1_external.csv``;
    records ``external.comparability``) and a sentence on how many variables differ."""
    train, variables = _training(ext)
    types, levels = dictionary_spec(variables)
    external = pd.concat([ext.table[["label", "cohort"]], clinical_as_in_run(ext.table, types)], axis=1)
    columns = list(external.columns[2:])
    both = pd.concat([train[["label", "cohort", *columns]], external])
    positive = str(ext.settings.data.get("positive_label", "malignant")).lower()
    negative = "benign" if positive == "malignant" else "negative"
    t1 = table_one(both, {c: types[c] for c in columns}, positive=positive, negative=negative, levels=levels)
    write_table(ext.run, "table1_external", t1.table)
    comp = comparability(t1.tests)
    record(ext.run, "external.comparability", {v: float(p) for v, p in comp["p"].items()})
    n = int(comp["differs"].sum())
    text = f"{n} of {len(comp)} variables differ between the training and external cohorts at p < 0.05" + (
        f" ({', '.join(comp.index[comp['differs']])})." if n else "."
    )
    return t1.table, text


def ev_text(value: Any) -> str:
    """A level as ``cohort.csv`` spells it (``1`` rather than ``1.0``)."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def membership(ext: External) -> pd.DataFrame:
    """Membership models (external vs training; Debray et al. 2015) on the clinical variables and on the
    model inputs (radiomics, DTL and clinical predictors): cross-validated AUC with DeLong CI
    (``tables/membership_external.csv``; records ``external.membership.*``)."""
    train, variables = _training(ext)
    types, _ = dictionary_spec(variables)
    clinical = [v for v in types if v in ext.table.columns and v in train.columns]
    external = clinical_as_in_run(ext.table, types)
    run = ext.run
    parts = [pd.read_parquet(p) for p in (run.rad_candidates, run.dtl_candidates) if p.exists()]
    inputs = pd.concat([*parts, train.drop(columns=["label", "cohort"])], axis=1, join="inner")
    inputs = inputs[[c for c in ext.features.columns if c in inputs.columns]]
    features = ext.features.copy()
    features[external.columns.intersection(features.columns)] = external[
        external.columns.intersection(features.columns)
    ]
    folds = int(ext.settings.external.get("membership_folds", 5))
    sets = {
        "clinical": (train[clinical], external[clinical]),
        "model_inputs": (inputs.loc[inputs.index.intersection(train.index)], features[inputs.columns]),
    }
    rows = {}
    for name, (dev, new) in sets.items():
        result = membership_model(
            dev, new, types, folds=folds, level=ext.level, random_state=int(ext.settings.seed)
        )
        record(run, f"external.membership.{name}", result.to_dict())
        rows[name.replace("_", " ").capitalize()] = {
            "Variables": int(result.coefficients.size),
            "Membership AUC (CI)": fmt_ci(result.to_dict(), "auc", "auc_low", "auc_high"),
            "Largest coefficients": ", ".join(result.to_dict()["largest_coefficients"]),
        }
    table = pd.DataFrame(rows).T.rename_axis("Membership model on")
    write_table(run, "membership_external", table)
    return table


def summary(ext: External) -> Markdown:
    """The chapter's answer: the CDLR's external AUC, operating point, calibration and the case mix."""
    from splkit.run.report import load_results, lookup

    results = load_results(ext.run)
    model = FUSION if FUSION in ext.models else model_order(ext.models)[-1]
    row = lookup(results, f"external.models.{model}") or {}
    recal = lookup(results, f"external.recalibration.{model}") or {}
    dev = lookup(results, f"models.{model}.validation") or {}
    member = lookup(results, "external.membership") or {}
    lines = [
        f"- On {ext.table.shape[0]} external patients (prevalence {fmt(lookup(results, 'external.prevalence'))}) the "
        f"{model} reached an AUC of {fmt_ci(row, 'auc', 'auc_delong_low', 'auc_delong_high')} (DeLong), against "
        f"{fmt_ci(dev, 'auc', 'auc_delong_low', 'auc_delong_high')} on the internal validation cohort.",
        f"- At the training threshold ({fmt(row.get('threshold'))}): sensitivity {fmt_ci(row, 'sensitivity')}, "
        f"specificity {fmt_ci(row, 'specificity')}, PPV {fmt_ci(row, 'ppv')}, NPV {fmt_ci(row, 'npv')} (Wilson).",
        f"- Calibration-in-the-large {fmt_ci(recal.get('intercept_only'), 'intercept')}, calibration slope "
        f"{fmt_ci(recal.get('logistic'), 'slope')}; a user at this centre would apply logit(p') = a + b logit(p).",
    ]
    for name, label in (("clinical", "clinical variables"), ("model_inputs", "model inputs")):
        if name in member:
            lines.append(
                f"- Membership model on the {label}: AUC "
                f"{fmt_ci(member[name], 'auc', 'auc_low', 'auc_high')} (0.5: same case mix; 1: entirely different)."
            )
    pairs = lookup(results, "external.delong_holm") or {}
    if pairs:
        lines.append(f"- Smallest Holm-adjusted DeLong p between models: {fmt_p(min(pairs.values()))}.")
    return Markdown("\n".join(lines))
