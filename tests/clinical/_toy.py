"""A toy clinical cohort for the clinical tests (importable as ``clinical._toy``)."""

import numpy as np
import pandas as pd


def toy_cohort(n: int = 160, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Age, CEA (every 9th missing) and sex predict the outcome; ``noise`` does not."""
    rng = np.random.default_rng(seed)
    age = rng.normal(60, 10, n)
    cea = rng.lognormal(1, 0.8, n)
    noise = rng.normal(0, 1, n)
    sex = rng.choice(["female", "male"], n)
    lp = -0.5 + 0.08 * (age - 60) + 0.6 * np.log(cea) + 0.8 * (sex == "male")
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-lp))).astype(int)
    X = pd.DataFrame(
        {"age": age, "cea": cea, "noise": noise, "sex": sex}, index=[f"P{i:04d}" for i in range(n)]
    )
    X.loc[X.index[::9], "cea"] = np.nan
    return X, pd.Series(y, index=X.index)
