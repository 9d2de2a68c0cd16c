"""A tiny synthetic cohort (PNG images + masks on disk) for the splkit.deep tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from splkit.config import Settings, load_profile


class SyntheticCohort:
    """Mimics the parts of ``splkit.cohort.Cohort`` that ``splkit.deep`` uses."""

    positive_label = "malignant"

    def __init__(self, folder: Path, n: int = 12, shape: tuple[int, int] = (96, 128), seed: int = 0):
        rng = np.random.default_rng(seed)
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.images: dict[str, Path] = {}
        self.masks: dict[str, Path] = {}
        rows = []
        yy, xx = np.mgrid[: shape[0], : shape[1]]
        for i in range(n):
            patient = f"P{i + 1:04d}"
            label = i % 2
            cy, cx = rng.uniform(0.3, 0.7) * shape[0], rng.uniform(0.3, 0.7) * shape[1]
            ry, rx = rng.uniform(8, 20), rng.uniform(10, 30)
            mask = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
            image = 60 + 20 * rng.standard_normal(shape)
            texture = 40 * np.sin(xx / (2 + 3 * label)) * np.cos(yy / 3)  # class-dependent texture
            image[mask] = 120 + texture[mask] + 60 * label
            image = np.clip(image, 0, 255).astype(np.uint8)
            self.images[patient] = folder / f"{patient}_image.png"
            self.masks[patient] = folder / f"{patient}_mask.png"
            Image.fromarray(image).save(self.images[patient])
            Image.fromarray(mask.astype(np.uint8)).save(self.masks[patient])
            rows.append(
                {"patient": patient, "label": label, "cohort": "train" if i < n * 2 // 3 else "validation"}
            )
        self.table = pd.DataFrame(rows).set_index("patient")

    def read_image(self, patient: str) -> np.ndarray:
        return np.asarray(Image.open(self.images[patient]), dtype=np.float32)

    def read_mask(self, patient: str) -> np.ndarray:
        return np.asarray(Image.open(self.masks[patient]), dtype=np.uint8)


DEEP = {
    "backbone": "efficientnet_lite0",
    "weights": "imagenet",
    "weights_path": None,
    "allow_fallback": False,
    "crop_margin": 0.1,
    "image_size": 64,
    "batch_size": 8,
    "n_components": 4,
    "finetune": False,
}


def chapter_settings(run_dir: Path, **deep) -> Settings:
    """The smoke profile on ``run_dir`` with the tiny :data:`DEEP` network settings (and ``deep`` overrides)."""
    profile = load_profile("smoke").to_dict()
    profile["deep"] = {**profile["deep"], **DEEP, "finetune_epochs": 2, **deep}
    profile["selection"] = {**profile["selection"], "lasso_cv_folds": 3}
    return Settings({**profile, "run_dir": str(run_dir), "n_jobs": 1})
