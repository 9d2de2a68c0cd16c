"""splkit.simulate.shapes: a two-centre cohort with mixed formats, sizes, spacings and RGB captures."""

import numpy as np
import pandas as pd
import yaml
from PIL import Image

from splkit.cohort import load_cohort
from splkit.simulate.shapes import CENTRE_NAMES, simulate_mixed_cohort


def test_mixed_cohort_has_every_shape_and_loads(tmp_path):
    out = simulate_mixed_cohort(tmp_path / "mixed", n=(8, 6), n_nrrd=2, n_rgb=2, n_reader2=(3, 2), seed=1)
    table = pd.read_csv(out / "clinical.csv", dtype={"patient_id": str})
    assert list(table["centre"].value_counts().reindex(CENTRE_NAMES)) == [8, 6]
    suffixes = sorted(p.suffix for p in (out / "images").iterdir())
    assert suffixes.count(".dcm") == 6 and suffixes.count(".nrrd") == 2 and suffixes.count(".png") == 6
    first = table["patient_id"].tolist()
    rgb = [np.asarray(Image.open(out / "images" / f"{p}.png")).ndim for p in first[2:4]]
    gray = np.asarray(Image.open(out / "images" / f"{first[4]}.png")).ndim
    assert rgb == [3, 3] and gray == 2
    assert table["spacing_mm"].isna().sum() == 6 + 2  # DICOM and NRRD carry their own spacing
    provenance = yaml.safe_load((out / "simulation.yaml").read_text())
    assert (
        provenance["formats"] == {"png": 6, "nrrd": 2, "dicom": 6} and provenance["rgb_screen_captures"] == 2
    )

    cohort = load_cohort(out, progress=False)
    assert len(cohort.table) == 14 and len(cohort.masks_reader2) == 5
    spacings = sorted({round(float(np.mean(s)), 4) for s in cohort.spacing.values()})
    assert spacings == [0.25, 0.3]
    sizes = {cohort.read_image(p).GetSize() for p in cohort.table.index}
    assert len(sizes) == 2  # the two scanners' image sizes


def test_scrambled_clinical_keeps_values_and_loses_the_label(tmp_path):
    from splkit.simulate import simulate_cohort
    from splkit.simulate.shapes import scramble_clinical

    out = simulate_cohort(n=40, seed=0, out=tmp_path / "c", n_reader2=0, progress=False)
    before = pd.read_csv(out / "clinical.csv", dtype={"patient_id": str})
    scramble_clinical(out, seed=1)
    after = pd.read_csv(out / "clinical.csv", dtype={"patient_id": str})
    assert after[["patient_id", "label", "spacing_mm"]].equals(before[["patient_id", "label", "spacing_mm"]])
    for column in ("age", "cea", "location"):
        assert sorted(after[column].dropna().astype(str)) == sorted(before[column].dropna().astype(str))
    assert not after["lesion_size_mm"].equals(before["lesion_size_mm"])
    assert yaml.safe_load((out / "simulation.yaml").read_text())["clinical_scrambled"] == {"seed": 1}
