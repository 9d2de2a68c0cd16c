"""Chapter 3 (``03_radiomics.ipynb``) as steps: each records its ``radiomics.*`` keys in ``results.json``,
writes its files, tables and figures, and returns what the chapter shows.

The notebook narrates; every number it shows is computed here (or in :mod:`splkit.radiomics.workflow`,
:mod:`splkit.radiomics.figures` and :mod:`splkit.selection`)::

    preset = load_preset(settings.radiomics.preset)
    extraction = chapter.extract(settings, preset)        # features/radiomics*.parquet
    icc = chapter.reproducibility(settings, extraction)   # features/rad_candidates.parquet (radiomics.robustness)
    chapter.harmonisation(settings, icc)                  # radiomics.harmonise: combat only
    selection = chapter.select(settings, extraction, icc)
    coefficients = chapter.rad_features(settings, selection, icc)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sklearn.pipeline import Pipeline

from splkit.book.plots import show
from splkit.radiomics import figures, resample, workflow
from splkit.radiomics import robustness as robust
from splkit.radiomics.extract import ExtractionResult, count_by_image_type, pyradiomics_version
from splkit.radiomics.harmonise import COMBAT_MODEL, ComBat, fit_on_training, harmonise_method
from splkit.radiomics.presets import Preset
from splkit.run.cache import atomic_dump, atomic_parquet
from splkit.run.engine import Engine
from splkit.run.report import load_results, record, write_table
from splkit.run.rundir import RunDir
from splkit.selection import select_features

#: The selection steps as the book names them (``selection_funnel`` step -> funnel label).
FUNNEL_LABELS = {
    "input": "ICC filter",
    "zscore": "z-score",
    "mannwhitney": "Mann-Whitney U",
    "spearman": "Spearman redundancy",
    "lasso": "LASSO",
}


# --- extraction -----------------------------------------------------------------------------------


def describe_preset(preset: Preset) -> str:
    """Markdown: the preset's name, version and description, and the pyradiomics version."""
    return (
        f"Preset `{preset.name}` (version {preset.meta['version']}), pyradiomics {pyradiomics_version()}. "
        f"{preset.meta['description']}"
    )


def preset_rationale(preset: Preset) -> pd.DataFrame:
    """The reasons recorded in the preset, one row per choice."""
    return pd.DataFrame({"reason": preset.meta.get("rationale", {})}).rename_axis("choice")


@dataclass
class Extraction:
    """Both readers' features for the chapter's cohort, with how long the extraction took."""

    cohort: Any  # splkit.cohort.Cohort
    reader1: ExtractionResult
    reader2: ExtractionResult
    seconds: float
    n_jobs: int

    @property
    def n_computed(self) -> int:
        """Images extracted in this run (the others came from the cache)."""
        return self.reader1.n_computed + self.reader2.n_computed

    @property
    def excluded(self) -> list[dict[str, Any]]:
        """Images that failed extraction, with their reader."""
        return [dict(e, reader=1) for e in self.reader1.excluded] + [
            dict(e, reader=2) for e in self.reader2.excluded
        ]

    @property
    def per_image_type(self) -> dict[str, int]:
        """Features per image type (reader 1)."""
        return count_by_image_type(self.reader1.features.columns)

    def images_per_second(self, digits: int) -> float | None:
        return round(self.n_computed / self.seconds, digits) if self.n_computed else None


def extract(settings, preset: Preset) -> Extraction:
    """Extract both readers' masks through the cache; write ``features/radiomics[_reader2].parquet``.

    Records ``radiomics.preset``, ``preset_sha256``, ``pyradiomics_version``, ``extraction_seconds``,
    ``images_per_second``, ``images_extracted_now`` and ``excluded``.
    """
    from splkit.cohort import load_cohort_for

    run = RunDir(settings.run_path)
    cohort = load_cohort_for(settings)
    start = time.perf_counter()
    with Engine.from_settings(settings) as engine:  # one pool or cluster for both readers
        reader1 = workflow.extract_for(settings, cohort, reader=1, preset=preset, engine=engine)
        reader2 = workflow.extract_for(settings, cohort, reader=2, preset=preset, engine=engine)
    result = Extraction(cohort, reader1, reader2, time.perf_counter() - start, int(settings.n_jobs))
    run.radiomics.parent.mkdir(parents=True, exist_ok=True)
    atomic_parquet(reader1.features, run.radiomics)
    atomic_parquet(reader2.features, run.radiomics_reader2)
    record(run, "radiomics.preset", preset.name)
    record(run, "radiomics.preset_sha256", preset.sha256)
    record(run, "radiomics.pyradiomics_version", pyradiomics_version())
    record(run, "radiomics.extraction_seconds", round(result.seconds, 2))
    record(run, "radiomics.images_per_second", result.images_per_second(3))
    record(run, "radiomics.images_extracted_now", result.n_computed)
    record(run, "radiomics.excluded", result.excluded)
    target = workflow.resample_target(settings, cohort)
    rule = settings.radiomics.get("resample_mm", "auto")
    record(run, "radiomics.resampling", resample.summary(rule, target, cohort.spacing.values()))
    return result


def speed_table(extraction: Extraction) -> pd.DataFrame:
    """Images, how many were extracted now or read from the cache, wall time and throughput."""
    r1, r2 = extraction.reader1, extraction.reader2
    speed = pd.Series(
        {
            "images (reader 1 + reader 2)": len(r1.features)
            + len(r2.features)
            + len(r1.excluded)
            + len(r2.excluded),
            "extracted now": extraction.n_computed,
            "from cache": r1.n_cached + r2.n_cached,
            "wall time (s)": round(extraction.seconds, 1),
            "worker processes": extraction.n_jobs,
            "images per second (extracted now)": extraction.images_per_second(2),
        }
    )
    return speed.to_frame("value")


def image_types(settings, preset: Preset, extraction: Extraction) -> str:
    """Show (and save) the features-per-image-type figure; Markdown: features and patients per reader."""
    per_type = extraction.per_image_type
    show(figures.features_per_image_type(per_type), settings.run_path, "radiomics_features_per_image_type")
    return (
        f"{sum(per_type.values())} features per image ({preset.total} declared by the preset); "
        f"{len(extraction.reader1.features)} patients (reader 1), "
        f"{len(extraction.reader2.features)} patients (reader 2). "
        + resample.sentence(load_results(settings.run_path).get("radiomics", {}).get("resampling"))
    )


def roi_quality(extraction: Extraction) -> pd.DataFrame:
    """Summary statistics of the reader-1 outlines from pyradiomics' ``diagnostics_*`` columns."""
    diag = extraction.reader1.features
    return (
        pd.DataFrame(
            {
                "ROI size (pixels)": diag["diagnostics_Mask-original_VoxelNum"],
                "ROI pieces (n)": diag["diagnostics_Mask-original_VolumeNum"],
                "ROI mean grey level (0-255)": diag["diagnostics_Mask-original_Mean"],
                "ROI maximum grey level (0-255)": diag["diagnostics_Mask-original_Maximum"],
            }
        )
        .describe()
        .T.round(1)
    )


def exclusions(extraction: Extraction) -> pd.DataFrame:
    """The images that failed extraction (normally none)."""
    return pd.DataFrame(extraction.excluded, columns=["patient", "reader", "reason"])


# --- reproducibility ------------------------------------------------------------------------------


@dataclass
class Reproducibility:
    """The ICC per feature, the features passing it (all patients) and the ICC sample size.

    ``robustness`` says over what the ICC was computed (:mod:`splkit.radiomics.robustness`: between
    readers, over perturbed reader-1 masks, or not at all) and ``cost`` what the perturbed masks cost.
    With ``radiomics.harmonise: combat``, ``candidates`` are harmonised (ComBat fitted on the training
    patients), ``unharmonised`` keeps them as extracted, and ``combat`` is the fitted transformer.
    """

    values: pd.Series
    candidates: pd.DataFrame
    n_patients: int
    unharmonised: pd.DataFrame | None = None
    combat: ComBat | None = None
    table: pd.DataFrame | None = None
    robustness: robust.Robustness | None = None
    cost: dict[str, Any] | None = None

    @property
    def method(self) -> str:
        return self.robustness.method if self.robustness is not None else "readers"


def _who(settings) -> str:
    return "training patients" if settings.radiomics.get("icc_patients", "train") == "train" else "patients"


def reproducibility(settings, extraction: Extraction) -> Reproducibility:
    """The ICC filter by ``radiomics.robustness`` (:func:`splkit.radiomics.workflow.reproducibility_filter`):
    write ``features/rad_candidates.parquet`` and ``tables/radiomics_icc.csv``, record
    ``radiomics.robustness`` and ``radiomics.icc``, show the ICC histogram (none of the three with
    ``none``).

    With ``radiomics.harmonise: combat`` the candidates written are harmonised by ComBat estimated on the
    training patients only (:func:`splkit.radiomics.harmonise.fit_on_training`); the fitted ComBat is
    saved as ``models/radiomics_combat.joblib`` and ``radiomics.harmonisation`` is recorded.
    """
    run, rad = RunDir(settings.run_path), settings.radiomics
    table = extraction.cohort.table
    reader1, reader2 = extraction.reader1.features, extraction.reader2.features
    filtered = workflow.reproducibility_filter(settings, extraction.cohort, reader1, reader2)
    values, candidates = filtered.values, filtered.candidates
    extra = dict(robustness=filtered.robustness, cost=filtered.cost)
    result = Reproducibility(values, candidates, filtered.n_patients, **extra)
    if harmonise_method(settings) == "combat":
        combat, candidates = fit_on_training(candidates, table)
        result = Reproducibility(
            values, candidates, result.n_patients, result.candidates, combat, table, **extra
        )
        run.model(COMBAT_MODEL).parent.mkdir(parents=True, exist_ok=True)
        atomic_dump(combat, run.model(COMBAT_MODEL))
        record(run, "radiomics.harmonisation", combat.describe())
    run.rad_candidates.parent.mkdir(parents=True, exist_ok=True)
    atomic_parquet(candidates, run.rad_candidates)
    record(
        run,
        "radiomics.robustness",
        filtered.robustness.describe() | ({"cost": filtered.cost} if filtered.cost else {}),
    )
    if result.method == "none":
        return result
    write_table(run, "radiomics_icc", values.to_frame())
    record(
        run,
        "radiomics.icc",
        {
            "type": rad.icc_type,
            "threshold": rad.icc_threshold,
            "patients": result.n_patients,
            "scope": rad.get("icc_patients", "train"),
            "median": float(values.median()),
            "kept": candidates.shape[1],
        },
    )
    figure = figures.icc_histogram(values, rad.icc_threshold)
    show(robust.titled(figure, result.method, values, rad.icc_threshold), run, "radiomics_icc")
    return result


def harmonisation(settings, icc: Reproducibility) -> str:
    """Markdown on the multi-centre harmonisation; with ComBat, show (and save) the per-centre figure of the
    candidates' first principal component before and after, and record ``radiomics.harmonisation``'s
    between-centre shares."""
    if icc.combat is None:
        return "The radiomics features are not harmonised across centres (`radiomics.harmonise: none`)."
    centres = icc.table["centre"].reindex(icc.candidates.index)
    train = icc.candidates.index.intersection(icc.table.index[icc.table["cohort"] == "train"])
    component = figures.first_component(icc.unharmonised, icc.candidates, train)
    show(figures.harmonisation_figure(component, centres), settings.run_path, "radiomics_harmonisation")
    share = {stage: figures.centre_share(component[stage], centres) for stage in ("before", "after")}
    record(settings.run_path, "radiomics.harmonisation.centre_share_pc1", share)
    counts = ", ".join(f"{c}: {n}" for c, n in icc.combat.n_per_centre_.items())
    return (
        f"ComBat (parametric empirical Bayes, no covariates; Johnson et al. 2007, Fortin et al. 2018) was "
        f"estimated on the {sum(icc.combat.n_per_centre_.values())} training patients of "
        f"{len(icc.combat.centres_)} centres ({counts}) and applied unchanged to the other patients; the "
        f"radiomics candidates selected below and used in chapter 5 are the harmonised features. The "
        f"centres explain {100 * share['before']:.1f} % of the variance of the candidates' first principal "
        f"component before and {100 * share['after']:.1f} % after harmonisation."
    )


def icc_sentence(settings, icc: Reproducibility) -> str:
    """Markdown: the method used (and why), how many features passed the ICC threshold, on how many
    patients, and the figure's caption (:func:`splkit.radiomics.robustness.reproducibility_text`)."""
    rad = settings.radiomics
    method = icc.robustness or robust.Robustness("readers", "readers", "")
    kept = (icc.candidates.shape[1], len(icc.values))
    args = (rad.icc_type, rad.icc_threshold, icc.n_patients, kept, _who(settings))
    return robust.reproducibility_text(method, *args, cost=icc.cost)


# --- selection ------------------------------------------------------------------------------------


@dataclass
class RadSelection:
    """The fitted selection chain, the book's funnel (extracted → … → LASSO) and ``radiomics.counts``."""

    pipeline: Pipeline
    funnel: pd.DataFrame
    counts: dict[str, Any]

    @property
    def lasso(self):
        return self.pipeline.named_steps["lasso"]


def select(settings, extraction: Extraction, icc: Reproducibility) -> RadSelection:
    """Fit the selection chain on the training cohort (:func:`splkit.selection.select_features`); show the
    funnel figure and record ``radiomics.counts``."""
    pipeline, funnel, _ = select_features(settings, icc.candidates, extraction.cohort.table)
    funnel["step"] = funnel["step"].replace(FUNNEL_LABELS | {"input": robust.funnel_step(icc.method)})
    extracted = sum(extraction.per_image_type.values())
    funnel = pd.concat([pd.DataFrame({"step": ["extracted"], "n_features": [extracted]}), funnel])
    funnel = funnel[funnel["step"] != FUNNEL_LABELS["zscore"]].reset_index(drop=True)
    show(figures.selection_funnel_figure(funnel), settings.run_path, "radiomics_selection_funnel")
    counts = workflow.selection_counts(extraction.reader1.features, icc.values, pipeline)
    record(settings.run_path, "radiomics.counts", counts)
    return RadSelection(pipeline, funnel, counts)


def lasso_figures(settings, selection: RadSelection) -> str:
    """Show the LASSO coefficient paths and CV curve; Markdown: the rule and the three lambdas."""
    lasso = selection.lasso
    show(figures.lasso_path_figure(lasso), settings.run_path, "radiomics_lasso_path")
    show(figures.lasso_cv_figure(lasso), settings.run_path, "radiomics_lasso_cv")
    text = (
        f"Rule: {settings.selection.lasso_rule}; lambda.min = {lasso.lambda_min_:.4g}, "
        f"lambda.1se = {lasso.lambda_1se_:.4g}, used lambda = {lasso.lambda_:.4g}."
    )
    return text + (f"\n\nNote: {lasso.note_}" if lasso.note_ else "")


def rad_features(settings, selection: RadSelection, icc: Reproducibility) -> pd.DataFrame:
    """The selected Rad features with coefficient, Mann-Whitney p and ICC: write
    ``tables/radiomics_selected.csv``, record ``radiomics.selected``, ``coefficients`` and ``lasso``, show
    the coefficient figure."""
    run, lasso = RunDir(settings.run_path), selection.lasso
    values = icc.values if icc.method != "none" else None
    coefficients = workflow.coefficient_table(selection.pipeline, values, robust.icc_column(icc.method))
    write_table(run, "radiomics_selected", coefficients)
    record(run, "radiomics.selected", list(coefficients.index))
    record(run, "radiomics.coefficients", coefficients["coefficient"].to_dict())
    record(
        run,
        "radiomics.lasso",
        {
            "rule": settings.selection.lasso_rule,
            "lambda": lasso.lambda_,
            "lambda_min": lasso.lambda_min_,
            "lambda_1se": lasso.lambda_1se_,
            "cv_folds": lasso.cv,
            "intercept": lasso.intercept_,
            "note": lasso.note_,
        },
    )
    show(figures.coefficient_figure(coefficients), run, "radiomics_coefficients")
    return coefficients


def summary(
    settings,
    preset: Preset,
    extraction: Extraction,
    icc: Reproducibility,
    selection: RadSelection,
    coefficients: pd.DataFrame,
) -> str:
    """Markdown: the chapter in a few sentences, ending with the selected features' coefficients."""
    counts, rad, sel = selection.counts, settings.radiomics, settings.selection
    lines = [
        f"Extracted {counts['extracted']} features per image with preset `{preset.name}` "
        f"(pyradiomics {pyradiomics_version()}) in {extraction.seconds:.0f} s "
        f"({extraction.n_computed} images extracted now). "
        + robust.summary_phrase(
            icc.method, counts["after_icc"], rad.icc_type, rad.icc_threshold, icc.n_patients, _who(settings)
        )
        + f", {counts['after_mannwhitney']} differed between benign and "
        f"malignant lesions (Mann-Whitney p < {sel.univariate_p}), {counts['after_spearman']} remained after "
        f"removing redundant ones, and the LASSO ({sel.lasso_rule} rule) kept {counts['after_lasso']}:",
        "",
    ]
    lines += [f"- `{name}`: {value:+.3f}" for name, value in coefficients["coefficient"].items()]
    lines += ["", f"Excluded images: {len(extraction.excluded)}."]
    return "\n".join(lines)
