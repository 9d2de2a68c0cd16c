"""A run directory whose clinical columns are pure noise (importable as ``clinical._noise``).

The clinical table of the simulated cohort (:func:`splkit.simulate.generate.simulate_clinical_table`,
every variable and data-dictionary entry of the default cohort) with the labels randomly permuted:
no clinical variable carries any information on the outcome.  Fixed, deterministic draws of the
permutation give each branch of chapter 2's fallback rule: with ``seed=3`` no variable reaches
univariate p < 0.05 in the 150 training patients (:data:`NONE_UNIVARIATE_SEED`); with ``seed=1`` age,
smoking and pack-years pass the screen by chance and none stays significant in the multivariable model
(:data:`NONE_MULTIVARIABLE_SEED`).
"""

import numpy as np
import pandas as pd

from splkit.cohort.run_tables import LEVEL_SEPARATOR
from splkit.run.rundir import RunDir
from splkit.simulate.clinical import VARIABLES
from splkit.simulate.generate import simulate_clinical_table

N_TRAIN = 150
NONE_UNIVARIATE_SEED, NONE_MULTIVARIABLE_SEED = 3, 1


def noise_run(root, n: int = 200, seed: int = NONE_UNIVARIATE_SEED) -> RunDir:
    """``cohort.csv`` and ``variables.csv`` of a noise-only clinical cohort: ``N_TRAIN`` training patients,
    the rest validation."""
    table = simulate_clinical_table(n=n, seed=0)
    rng = np.random.default_rng(seed)
    label = rng.permutation((table["label"] == "malignant").astype(int).to_numpy())
    cohort = ["train"] * N_TRAIN + ["validation"] * (n - N_TRAIN)
    out = table[list(VARIABLES)].assign(label=label, cohort=cohort)
    out.insert(0, "patient", [f"P{i + 1:04d}" for i in range(n)])
    run = RunDir(root)
    run.root.mkdir(parents=True, exist_ok=True)
    out[["patient", "cohort", "label", *VARIABLES]].to_csv(run.cohort_csv, index=False)
    variables = pd.DataFrame(
        {
            "variable": list(VARIABLES),
            "type": [spec["type"] for spec in VARIABLES.values()],
            "unit": [spec["unit"] or "" for spec in VARIABLES.values()],
            "levels": [LEVEL_SEPARATOR.join(map(str, spec["allowed"] or [])) for spec in VARIABLES.values()],
            "included": True,
        }
    )
    variables.to_csv(run.variables_csv, index=False)
    return run
