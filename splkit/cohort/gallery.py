"""A gallery of ultrasound images with their lesion mask contours, benign next to malignant."""

from __future__ import annotations

import numpy as np
import pandas as pd

from splkit.book.plots import CLASS_COLORS


def pick_gallery_patients(
    table: pd.DataFrame, n_per_class: int = 3, random_state: int | None = None
) -> pd.DataFrame:
    """``n_per_class`` patients of each outcome (``label`` 0 and 1), drawn reproducibly.

    Returns a table indexed like ``table`` with columns ``benign`` and ``malignant`` side by side,
    one row per gallery row (pseudonymous patient ids).
    """
    rng = np.random.default_rng(random_state)
    picks = {}
    for label, name in ((0, "benign"), (1, "malignant")):
        ids = table.index[table["label"] == label].to_numpy()
        picks[name] = sorted(rng.choice(ids, size=min(n_per_class, len(ids)), replace=False).tolist())
    n = min(len(v) for v in picks.values())
    return pd.DataFrame({name: ids[:n] for name, ids in picks.items()})


def gallery_figure(cohort, pairs: pd.DataFrame, title: str = "Ultrasound images with lesion masks"):
    """A matplotlib figure: one row per pair, benign (left) and malignant (right), mask contour drawn.

    ``cohort`` provides ``read_image(patient)`` and ``read_mask(patient)`` (2-D SimpleITK images) and a
    ``table`` with ``cohort``; captions name only the pseudonymous id, the cohort and the outcome.
    """
    import matplotlib.pyplot as plt
    import SimpleITK as sitk

    fig, axes = plt.subplots(len(pairs), 2, figsize=(9, 3.6 * len(pairs)), squeeze=False)
    for row, (_, pair) in enumerate(pairs.iterrows()):
        for col, outcome in enumerate(("benign", "malignant")):
            patient = pair[outcome]
            image = sitk.GetArrayFromImage(cohort.read_image(patient)).astype(float)
            mask = sitk.GetArrayFromImage(cohort.read_mask(patient)) > 0
            if image.ndim == 3:  # a single-slice 3-D or multi-channel image: show the first plane
                image, mask = image.reshape(-1, *image.shape[-2:])[0], mask.reshape(-1, *mask.shape[-2:])[0]
            spacing = cohort.read_image(patient).GetSpacing()
            height, width = image.shape
            extent = (0, width * spacing[0], height * spacing[1], 0)
            ax = axes[row, col]
            ax.imshow(image, cmap="gray", extent=extent, interpolation="nearest")
            ax.contour(
                np.linspace(0, extent[1], width),
                np.linspace(0, extent[2], height),
                mask.astype(float),
                levels=[0.5],
                colors=[CLASS_COLORS[outcome]],
                linewidths=1.5,
            )
            group = cohort.table.loc[patient, "cohort"] if "cohort" in cohort.table.columns else ""
            ax.set_title(f"{patient} · {outcome} · {group}", fontsize=10, color=CLASS_COLORS[outcome])
            ax.set_xlabel("lateral (mm)")
            ax.set_ylabel("depth (mm)")
    fig.suptitle(title)
    fig.tight_layout()
    return fig
