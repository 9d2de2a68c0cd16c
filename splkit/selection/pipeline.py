"""The selection chain from a profile, fitted on the training rows, and its funnel of survivors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import pandas as pd
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from splkit.selection.filters import ICCFilter, MannWhitneyFilter, SpearmanFilter, ZScore
from splkit.selection.lasso import LassoSelector


def build_selection_pipeline(
    settings: Mapping[str, Any],
    section: str = "selection",
    reader2: pd.DataFrame | None = None,
    random_state: int | None = None,
    n_jobs: int | None = None,
) -> Pipeline:
    """The selection chain from a profile: [ICC filter] -> z-score -> Mann-Whitney U -> Spearman -> LASSO.

    Parameters
    ----------
    settings
        The profile (:class:`splkit.config.Settings`); options come from ``settings[section]``
        (``univariate_p``, ``correlation_threshold``, ``lasso_cv_folds``, ``lasso_rule``,
        ``lasso_n_alphas``) and, for the ICC step, ``settings.radiomics`` (``icc_type``,
        ``icc_threshold``).
    reader2
        The second reader's features: adds an :class:`ICCFilter` first.  ``None``: no ICC step (the
        radiomics notebook applies it before writing ``rad_candidates.parquet``).
    random_state
        Seed of the LASSO folds (default: the profile's ``seed``).
    n_jobs
        Processes for the LASSO's CV folds (default: the profile's ``n_jobs``; pass 1 inside an
        already parallel loop).
    """
    options = settings[section]
    steps: list[tuple[str, Any]] = []
    if reader2 is not None:
        rad = settings["radiomics"]
        steps.append(("icc", ICCFilter(reader2, icc_type=rad["icc_type"], threshold=rad["icc_threshold"])))
    steps += [
        ("zscore", ZScore()),
        ("mannwhitney", MannWhitneyFilter(p_threshold=options["univariate_p"])),
        ("spearman", SpearmanFilter(threshold=options["correlation_threshold"])),
        (
            "lasso",
            LassoSelector(
                cv=options["lasso_cv_folds"],
                rule=options["lasso_rule"],
                n_alphas=options["lasso_n_alphas"],
                random_state=settings["seed"] if random_state is None else random_state,
                n_jobs=int(settings.get("n_jobs", 1)) if n_jobs is None else n_jobs,
            ),
        ),
    ]
    return Pipeline(steps)


def fit_selection(pipeline: Pipeline, features: pd.DataFrame, table: pd.DataFrame) -> Pipeline:
    """Fit a clone of ``pipeline`` on the training rows only (``table.cohort == "train"``).

    ``features`` and ``table`` are indexed by patient; ``table`` has ``cohort`` and ``label``.
    """
    train = table.index[table["cohort"] == "train"]
    missing = train.difference(features.index)
    if len(missing):
        raise ValueError(f"{len(missing)} training patients have no features, e.g. {list(missing[:3])}")
    fitted = clone(pipeline)
    fitted.fit(features.loc[train], table.loc[train, "label"].astype(int))
    return fitted


def selection_funnel(pipeline: Pipeline) -> pd.DataFrame:
    """Features entering and surviving each fitted step: columns ``step``, ``n_features``."""
    steps = list(pipeline.named_steps.items())
    check_is_fitted(steps[0][1], "feature_names_in_")
    rows = [("input", int(steps[0][1].n_features_in_))]
    rows += [(name, len(step.get_feature_names_out())) for name, step in steps]
    return pd.DataFrame(rows, columns=["step", "n_features"])


class Selection(NamedTuple):
    """What :func:`select_features` returns (unpacks as ``pipeline, funnel, coefficients``)."""

    pipeline: Pipeline
    funnel: pd.DataFrame
    coefficients: pd.Series


def select_features(
    settings: Mapping[str, Any], candidates: pd.DataFrame, table: pd.DataFrame, section: str = "selection"
) -> Selection:
    """The whole selection step of a chapter: build the profile's chain, fit it on the training rows.

    One function for the radiomics (chapter 3) and the deep-feature (chapter 4) selection, so both use
    the same chain with the same settings.  Returns the fitted pipeline, its :func:`selection_funnel`
    (steps ``input``, ``zscore``, ``mannwhitney``, ``spearman``, ``lasso``) and the LASSO coefficients
    of the selected features (z-scored scale, named ``coefficient``, in the order the chain keeps them).
    """
    pipeline = fit_selection(build_selection_pipeline(settings, section), candidates, table)
    return Selection(pipeline, selection_funnel(pipeline), pipeline.named_steps["lasso"].coef_)
