"""Compare models from the predictions table only: performance tables, DeLong tests, NRI/IDI.

Every function here reads scores from ``predictions.csv`` (via :mod:`splkit.run.predictions`), never from
a fitted model, so the Clinical logistic regression of notebook 02 and the SVMs of notebook 05 are
evaluated the same way.  The statistics themselves live in :mod:`splkit.stats`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests

from splkit import stats
from splkit.run.names import COHORT_LABELS, IN_SAMPLE, model_order
from splkit.run.report import record


def cohort_scores(table: pd.DataFrame, cohort: str, models: Sequence[str] | None = None) -> pd.DataFrame:
    """Wide scores of one cohort: index patient, columns ``label`` and one column per model.

    Raises if a model lacks a score for a patient that other models scored (paired comparisons need
    the same patients).
    """
    rows = table[table["cohort"] == cohort]
    if rows.empty:
        raise ValueError(f"predictions.csv has no rows for cohort {cohort!r}")
    wide = rows.pivot(index="patient", columns="model", values="score")
    labels = rows.drop_duplicates("patient").set_index("patient")["label"].astype(int)
    models = model_order(list(wide.columns)) if models is None else list(models)
    missing = [m for m in models if m not in wide.columns]
    if missing:
        raise ValueError(f"predictions.csv has no {cohort!r} scores for models {missing}")
    gaps = wide[models].isna()
    if gaps.any().any():
        model = gaps.any().idxmax()
        patient = gaps[model].idxmax()
        raise ValueError(f"predictions.csv: model {model!r} has no score for patient {patient} ({cohort})")
    out = wide[models].copy()
    out.insert(0, "label", labels.loc[out.index])
    return out


def youden_thresholds(table: pd.DataFrame, cohort: str = "train") -> dict[str, float]:
    """Each model's Youden threshold chosen on ``cohort`` (the training cohort, to apply unchanged)."""
    wide = cohort_scores(table, cohort)
    return {m: stats.youden_threshold(wide["label"], wide[m]) for m in wide.columns[1:]}


def evaluate_all(
    table: pd.DataFrame,
    settings: Mapping[str, Any],
    threshold_cohort: str | None = "train",
    cohorts: Sequence[str] = ("train", "validation"),
) -> pd.DataFrame:
    """:func:`splkit.stats.evaluate` for every model and cohort, one row each.

    Parameters
    ----------
    table
        The predictions table.
    settings
        The profile (``seed`` and ``stats``: ``ci_level``, ``n_bootstrap``, ``calibration_bins``).
    threshold_cohort
        Cohort whose Youden threshold is applied to every cohort (``"train"``: the honest choice);
        ``None`` re-estimates the threshold on each cohort itself (the optimistic variant many papers
        report).
    """
    cfg = settings["stats"]
    fixed = youden_thresholds(table, threshold_cohort) if threshold_cohort else None
    rows = []
    for cohort in cohorts:
        wide = cohort_scores(table, cohort)
        own = None if fixed else youden_thresholds(table, cohort)
        for model in wide.columns[1:]:
            threshold = (fixed or own)[model]
            result = stats.evaluate(
                wide["label"].to_numpy(),
                wide[model].to_numpy(),
                threshold,
                level=float(cfg["ci_level"]),
                n_boot=int(cfg["n_bootstrap"]),
                random_state=int(settings["seed"]),
                n_bins=int(cfg["calibration_bins"]),
            )
            rows.append({"model": model, "cohort": cohort, **result})
    return pd.DataFrame(rows)


def format_ci(estimate: float, low: float, high: float, digits: int = 3) -> str:
    """``"0.826 (0.722–0.930)"`` (:func:`splkit.stats.summary.format_ci`)."""
    return stats.summary.format_ci(estimate, low, high, digits)


def performance_table(metrics: pd.DataFrame, cohort: str) -> pd.DataFrame:
    """The paper-style table of one cohort: AUC with the DeLong and the bootstrap CI, then the
    threshold metrics with CIs (:func:`splkit.stats.summary.performance_table`)."""
    rows = metrics[metrics["cohort"] == cohort].set_index("model")
    results = {m: rows.loc[m].to_dict() for m in model_order(list(rows.index))}
    table = stats.summary.performance_table(results, auc_ci="delong")
    boot = stats.summary.performance_table(results, auc_ci="boot")
    auc = table.columns[0]
    table = table.rename(columns={auc: auc.replace("CI)", "CI, DeLong)")})
    table.insert(1, auc.replace("CI)", "CI, bootstrap)"), boot[auc])
    return table


def calibration_table(metrics: pd.DataFrame, cohort: str) -> pd.DataFrame:
    """Brier score, calibration intercept and slope, and Hosmer–Lemeshow per model."""
    rows = metrics[metrics["cohort"] == cohort].set_index("model")
    rows = rows.loc[model_order(list(rows.index))]
    out = pd.DataFrame(
        {
            "Brier score": rows["brier"].round(3),
            "Calibration intercept": rows["cal_intercept"].round(2),
            "Calibration slope": rows["cal_slope"].round(2),
            "Hosmer–Lemeshow χ²": rows["hl_statistic"].round(2),
            "HL df": rows["hl_df"],
            "HL p": rows["hl_p"].map(lambda p: "—" if not np.isfinite(p) else f"{p:.3f}"),
        }
    )
    out.index.name = "Model"
    return out


def delong_comparisons(table: pd.DataFrame, cohort: str, models: Sequence[str] | None = None) -> pd.DataFrame:
    """Every pair of models on one cohort: AUCs, difference, DeLong z and p, Holm-adjusted p.

    Holm's step-down method (Holm 1979) controls the family-wise error over the k(k−1)/2 pairs.
    """
    wide = cohort_scores(table, cohort, models)
    names = list(wide.columns[1:])
    y = wide["label"].to_numpy()
    rows = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            test = stats.delong_test(y, wide[a].to_numpy(), wide[b].to_numpy())
            rows.append(
                {
                    "model_a": a,
                    "model_b": b,
                    "auc_a": test.auc_a,
                    "auc_b": test.auc_b,
                    "difference": test.difference,
                    "z": test.z,
                    "p": test.p,
                }
            )
    out = pd.DataFrame(rows)
    if len(out):
        out["p_holm"] = multipletests(out["p"].to_numpy(), method="holm")[1]
    return out


def delong_matrices(
    table: pd.DataFrame, cohort: str, models: Sequence[str] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Raw and Holm-adjusted DeLong p-value matrices (symmetric, NaN diagonal)."""
    wide = cohort_scores(table, cohort, models)
    y = wide["label"].to_numpy()
    scores = {m: wide[m].to_numpy() for m in wide.columns[1:]}
    return stats.delong_matrix(y, scores), stats.delong_matrix(y, scores, adjust="holm")


def reclassification(
    table: pd.DataFrame,
    cohort: str,
    new: str = "CDLR",
    level: float = 0.95,
    others: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Continuous NRI and IDI of ``new`` against each other model on one cohort (Pencina et al. 2008)."""
    wide = cohort_scores(table, cohort)
    if new not in wide.columns:
        raise ValueError(f"predictions.csv has no model {new!r} for cohort {cohort!r}")
    others = [m for m in wide.columns[1:] if m not in (new, IN_SAMPLE)] if others is None else list(others)
    y = wide["label"].to_numpy()
    rows = []
    for old in others:
        n = stats.nri(y, wide[new].to_numpy(), wide[old].to_numpy(), level=level)
        i = stats.idi(y, wide[new].to_numpy(), wide[old].to_numpy(), level=level)
        rows.append(
            {
                "cohort": cohort,
                "new": new,
                "old": old,
                "nri": n["nri"],
                "nri_low": n["low"],
                "nri_high": n["high"],
                "nri_p": n["p"],
                "nri_events": n["nri_events"],
                "nri_nonevents": n["nri_nonevents"],
                "idi": i["idi"],
                "idi_low": i["low"],
                "idi_high": i["high"],
                "idi_p": i["p"],
            }
        )
    return pd.DataFrame(rows)


def biopsies_table(table: pd.DataFrame, cohort: str, thresholds: Sequence[float]) -> pd.DataFrame:
    """Unnecessary biopsies avoided per 100 patients (net of missed cancers) per model and threshold."""
    wide = cohort_scores(table, cohort)
    parts = []
    for model in wide.columns[1:]:
        part = stats.biopsies_avoided(wide["label"].to_numpy(), wide[model].to_numpy(), list(thresholds))
        parts.append(part.assign(model=model))
    long = pd.concat(parts, ignore_index=True)
    out = long.pivot(index="model", columns="threshold", values="biopsies_avoided_per_100")
    out = out.loc[model_order(list(out.index))]
    out.columns = [f"at {t:.0%}" for t in out.columns]
    out.index.name = "Model"
    return out.round(1)


def dca_thresholds(settings: Mapping[str, Any]) -> np.ndarray:
    """The threshold grid ``stats.dca_thresholds = [start, stop, step]`` (stop included)."""
    start, stop, step = (float(v) for v in settings["stats"]["dca_thresholds"])
    grid = np.arange(start, stop + step / 2, step)
    return np.round(grid[(grid > 0) & (grid < 1)], 10)


def record_evaluation(
    run_path: str | Path,
    metrics: pd.DataFrame,
    delong: Mapping[str, pd.DataFrame] | None = None,
    nri_idi: pd.DataFrame | None = None,
    best_params: Mapping[str, Mapping[str, Any]] | None = None,
) -> None:
    """Write the chapter's numbers to ``results.json``.

    Keys: ``models.<Model>.<cohort>.*`` (every number of :func:`splkit.stats.evaluate`),
    ``models.<Model>.best_params``, ``delong.<cohort>.<A>_vs_<B>`` (raw p) and
    ``delong_holm.<cohort>.<A>_vs_<B>``, ``models.nri_idi`` (records).
    """
    for row in metrics.to_dict("records"):
        model, cohort = row.pop("model"), row.pop("cohort")
        record(run_path, f"models.{model}.{cohort}", row)
    for model, params in (best_params or {}).items():
        record(run_path, f"models.{model}.best_params", dict(params))
    for cohort, pairs in (delong or {}).items():
        record(run_path, f"delong.{cohort}", {f"{r.model_a}_vs_{r.model_b}": r.p for r in pairs.itertuples()})
        record(
            run_path,
            f"delong_holm.{cohort}",
            {f"{r.model_a}_vs_{r.model_b}": r.p_holm for r in pairs.itertuples()},
        )
    if nri_idi is not None:
        record(run_path, "models.nri_idi", nri_idi)


def family_comparisons(
    pairs: pd.DataFrame, model: str = "CDLR", exclude: Sequence[str] = (IN_SAMPLE,)
) -> pd.DataFrame:
    """The pre-specified family: ``model`` against every other model, Holm-adjusted within that family.

    ``pairs`` is :func:`delong_comparisons` output; differences are ``AUC(model) − AUC(other)``.  Models
    in ``exclude`` (by default the in-sample stacking variant, which is not a competitor) are left out.
    """
    pairs = pairs[~pairs["model_a"].isin(exclude) & ~pairs["model_b"].isin(exclude)]
    pairs = pairs[(pairs["model_a"] == model) | (pairs["model_b"] == model)]
    if pairs.empty:
        raise ValueError(f"no DeLong comparisons involve {model!r}")
    first = (pairs["model_a"] == model).to_numpy()
    other = np.where(first, pairs["model_b"], pairs["model_a"])
    difference = np.where(first, pairs["difference"], -pairs["difference"])
    out = pd.DataFrame(
        {f"AUC {model} − model": difference.round(3), "p (DeLong)": pairs["p"].round(4).to_numpy()},
        index=pd.Index(other, name="Model"),
    )
    out[f"p (Holm, {model} family)"] = multipletests(pairs["p"].to_numpy(), method="holm")[1].round(4)
    return out


def reclassification_table(nri_idi: pd.DataFrame) -> pd.DataFrame:
    """:func:`reclassification` rows for display: NRI and IDI with CIs and p-values."""
    fmt = [
        (format_ci(n, nl, nh), format_ci(i, il, ih))
        for n, nl, nh, i, il, ih in zip(
            nri_idi["nri"],
            nri_idi["nri_low"],
            nri_idi["nri_high"],
            nri_idi["idi"],
            nri_idi["idi_low"],
            nri_idi["idi_high"],
            strict=True,
        )
    ]
    out = pd.DataFrame(
        {
            "Cohort": nri_idi["cohort"].map(COHORT_LABELS).to_numpy(),
            f"{nri_idi['new'].iloc[0]} versus": nri_idi["old"].to_numpy(),
            "NRI (95% CI)": [f[0] for f in fmt],
            "NRI p": nri_idi["nri_p"].round(4).to_numpy(),
            "IDI (95% CI)": [f[1] for f in fmt],
            "IDI p": nri_idi["idi_p"].round(4).to_numpy(),
        }
    )
    return out.set_index(list(out.columns[:2]))


def auc_summary(metrics: pd.DataFrame, cohort: str) -> str:
    """``"Clinical 0.812 (0.731–0.893); Rad …"``: each model's AUC with its DeLong CI, in reading order."""
    rows = metrics[metrics["cohort"] == cohort].set_index("model")
    return "; ".join(
        f"{m} {format_ci(rows.loc[m, 'auc'], rows.loc[m, 'auc_delong_low'], rows.loc[m, 'auc_delong_high'])}"
        for m in model_order(list(rows.index))
    )
