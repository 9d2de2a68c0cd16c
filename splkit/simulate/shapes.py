"""Cohorts in the shapes real data comes in, derived from the simulated SPL cohort (issue 14).

:func:`simulate_cohort` writes one shape: one centre, PNG images with a ``spacing_mm`` column, clinical
variables, a second reader for some patients.  :func:`simulate_mixed_cohort` writes what a multi-centre
study collects instead, in one cohort folder:

- **two centres** (a ``centre`` column): centre A is the development scanner, centre B the external
  one of :data:`splkit.simulate.centre.EXTERNAL` (+4 dB receive gain, 0.30 mm pixels, so other image
  sizes, older patients);
- **mixed formats**: centre B's images are ultrasound DICOM (spacing from the calibrated region, an empty
  ``spacing_mm`` cell), some of centre A's are NRRD (spacing in the header), the rest PNG;
- **RGB screen captures**: some of centre A's PNG images are saved as 3-channel RGB (gray on all three
  channels, as an exported screenshot), which splkit converts back to gray;
- optionally a **small cohort** (e.g. 40 patients, 12 malignant) through each centre's prevalence.

:func:`scramble_clinical` gives clinical columns that carry no signal (none significant, the fallback
rule of chapter 2), and :func:`simulate_cohort`'s options the remaining shapes: ``clinical_variables=False``
(imaging only) and ``n_reader2=0`` (no second reader).
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import SimpleITK as sitk
import yaml
from PIL import Image

from splkit.cohort.pseudonym import SALT_FILE
from splkit.simulate.centre import DEVELOPMENT, EXTERNAL
from splkit.simulate.generate import GENERATOR_VERSION, MARKER, simulate_cohort

#: Columns of ``clinical.csv`` that are not clinical variables (never scrambled).
NOT_VARIABLES = ("patient_id", "label", "spacing_mm", "centre", "cohort")

#: The centre names written to ``clinical.csv`` (free text, as a study would name its sites).
CENTRE_NAMES = ("Centre A", "Centre B")


def _to_nrrd(png: Path, spacing_mm: float) -> Path:
    """Rewrite a gray PNG as NRRD with ``spacing_mm`` in its header; the PNG goes."""
    image = sitk.GetImageFromArray(np.asarray(Image.open(png)))
    image.SetSpacing((spacing_mm, spacing_mm))
    target = png.with_suffix(".nrrd")
    sitk.WriteImage(image, str(target), useCompression=True)
    png.unlink()
    return target


def _to_rgb(png: Path) -> None:
    """Save a gray PNG as a 3-channel RGB screen capture (same gray on every channel)."""
    gray = np.asarray(Image.open(png))
    Image.fromarray(np.repeat(gray[:, :, None], 3, axis=2), mode="RGB").save(png)


def simulate_mixed_cohort(
    out: str | Path,
    n: tuple[int, int] = (36, 24),
    seed: int = 0,
    n_nrrd: int = 4,
    n_rgb: int = 4,
    n_reader2: tuple[int, int] = (12, 8),
    malignant_share: float | None = None,
    progress: bool = False,
) -> Path:
    """A two-centre cohort with mixed formats, sizes and spacings and some RGB captures (module doc).

    Parameters
    ----------
    out
        Cohort folder to create (replaced if it is a simulated cohort, as :func:`simulate_cohort` does).
    n
        Patients of centre A and centre B.
    n_nrrd, n_rgb
        Centre A patients whose image (and masks) become NRRD, and whose PNG image becomes RGB.
    n_reader2
        Patients of each centre with a second reader's mask.
    malignant_share
        Prevalence of malignancy in both centres (``None``: each centre's own).

    Returns
    -------
    The absolute path of the cohort folder.
    """
    out = Path(out).absolute()
    if out.exists() and not (out / MARKER).is_file():
        raise FileExistsError(
            f"{out} exists and is not a simulated cohort (no {MARKER}); refusing to replace it"
        )
    if n_nrrd + n_rgb > n[0]:
        raise ValueError(f"n_nrrd + n_rgb ({n_nrrd + n_rgb}) exceeds centre A's {n[0]} patients")
    centres = (DEVELOPMENT, EXTERNAL)
    if malignant_share is not None:
        centres = tuple(dataclasses.replace(c, malignant_share=malignant_share) for c in centres)
    with tempfile.TemporaryDirectory(
        prefix=".mixed-", dir=out.parent if out.parent.exists() else None
    ) as tmp:
        parts = [
            simulate_cohort(
                n=count,
                seed=seed + i,
                out=Path(tmp) / f"centre{i}",
                dicom=(i == 1),
                n_reader2=n_reader2[i],
                progress=progress,
                centre=centre,
            )
            for i, (count, centre) in enumerate(zip(n, centres, strict=True))
        ]
        folder = Path(tmp) / "mixed"
        for sub in ("images", "masks", "masks_reader2"):
            (folder / sub).mkdir(parents=True)
            for part in parts:
                for file in sorted((part / sub).iterdir()):
                    shutil.copy2(file, folder / sub / file.name)
        tables = []
        for part, name in zip(parts, CENTRE_NAMES, strict=True):
            table = pd.read_csv(part / "clinical.csv", dtype={"patient_id": str})
            table.insert(2, "centre", name)
            tables.append(table)
        table = pd.concat(tables, ignore_index=True)
        if "spacing_mm" not in table.columns:
            table["spacing_mm"] = np.nan
        first = tables[0]["patient_id"].tolist()
        for pid in first[:n_nrrd]:
            spacing = float(centres[0].pixel_mm)
            for sub in ("images", "masks", "masks_reader2"):
                if (png := folder / sub / f"{pid}.png").exists():
                    _to_nrrd(png, spacing)
            table.loc[table["patient_id"] == pid, "spacing_mm"] = np.nan  # from the NRRD header
        for pid in first[n_nrrd : n_nrrd + n_rgb]:
            _to_rgb(folder / "images" / f"{pid}.png")
        table.to_csv(folder / "clinical.csv", index=False, lineterminator="\n")
        shutil.copy2(parts[0] / "variables.yaml", folder / "variables.yaml")
        shutil.copy2(parts[0] / SALT_FILE, folder / SALT_FILE)
        provenance = {
            "generator": "splkit.simulate.shapes.simulate_mixed_cohort",
            "version": GENERATOR_VERSION,
            "simulated": True,
            "n": list(n),
            "seed": seed,
            "centres": {name: c.describe() for name, c in zip(CENTRE_NAMES, centres, strict=True)},
            "formats": {"png": n[0] - n_nrrd, "nrrd": n_nrrd, "dicom": n[1]},
            "rgb_screen_captures": n_rgb,
            "positive_label": "malignant",
        }
        (folder / MARKER).write_text(yaml.safe_dump(provenance, sort_keys=False))
        if out.exists():
            shutil.rmtree(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(folder), out)
    return out


def scramble_clinical(folder: str | Path, seed: int = 0) -> Path:
    """Permute every clinical variable of a simulated cohort independently across its patients.

    Each variable keeps its values (distribution, missingness) but loses its link to the label and to the
    other variables, while images and masks keep theirs: a cohort whose clinical variables are pure noise
    next to informative images.  ``simulation.yaml`` records ``clinical_scrambled``.
    """
    folder = Path(folder)
    if not (folder / MARKER).is_file():
        raise ValueError(f"{folder} is not a simulated cohort (no {MARKER}): refusing to scramble it")
    table = pd.read_csv(folder / "clinical.csv", dtype={"patient_id": str})
    rng = np.random.default_rng(seed)
    for column in table.columns:
        if column not in NOT_VARIABLES:
            table[column] = table[column].to_numpy()[rng.permutation(len(table))]
    table.to_csv(folder / "clinical.csv", index=False, lineterminator="\n")
    provenance = yaml.safe_load((folder / MARKER).read_text())
    provenance["clinical_scrambled"] = {"seed": seed}
    (folder / MARKER).write_text(yaml.safe_dump(provenance, sort_keys=False))
    return folder
