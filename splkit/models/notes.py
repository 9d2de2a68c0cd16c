"""Longer texts of chapter 5 (``splkit.models.chapter`` re-exports them)."""

from __future__ import annotations

import pandas as pd
from IPython.display import Markdown


def optimism_note(table: pd.DataFrame, n_boot: int) -> Markdown:
    """What the optimism table says: the AUC optimism, the corrected and .632+ AUCs, the shrinkage."""
    auc, slope = table["AUC"], table["calibration slope"]
    both = ", ".join(f"{m} {r['corrected']:.3f} / {r['.632+']:.3f}" for m, r in auc.iterrows())
    shrink = ", ".join(f"{m} {v:.2f}" for m, v in slope["corrected"].items() if pd.notna(v))
    bad = [m for m, v in slope["corrected"].items() if not v > 0]
    unstable = (
        f" For {', '.join(bad)} no shrinkage factor follows: in some resamples the in-sample predictions nearly "
        "separate the classes, their apparent slopes are huge, and the mean slope optimism exceeds the apparent slope."
        if bad
        else ""
    )
    return Markdown(
        f"With B = {n_boot} resamples, the apparent training AUC (the final model scored on the patients it was "
        f"fitted on) overstates discrimination by {auc['optimism'].min():.3f} to {auc['optimism'].max():.3f}. "
        f"Corrected / .632+ AUCs: {both}; like the out-of-fold AUCs, they estimate what each whole procedure "
        "would reach on new patients from the same population. Harrell's correction is known to under-correct "
        "models that can memorise their training patients, as SVMs can (Efron & Tibshirani 1997); the .632+ "
        "estimate, from the patients each resample left out, is the safer of the two. The corrected calibration "
        f"slope is the shrinkage factor ({shrink}): below 1, the probabilities are too extreme for new patients, "
        "and multiplying each prediction's logit by it would temper them (Van Houwelingen & le Cessie 1990). "
        "MC SE is the Monte Carlo error of the finite B; the profile `optimism200` runs Harrell's usual 200."
        + unstable
    )
