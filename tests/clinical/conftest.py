"""Fixtures of the clinical tests: the Hosmer & Lemeshow low birth weight data, and a toy cohort."""

from pathlib import Path

import pandas as pd
import pytest
from clinical._toy import toy_cohort

BIRTHWT = Path(__file__).parents[1] / "data" / "birthwt.csv"


@pytest.fixture(scope="module")
def birthwt():
    """``(X, y)`` of MASS::birthwt (see tests/clinical/test_model.py for how the file was written)."""
    data = pd.read_csv(BIRTHWT)
    return data.drop(columns="low"), data["low"]


@pytest.fixture
def birthwt_types():
    return {"race": "categorical", "smoke": "binary", "ht": "binary", "ui": "binary", "ptl": "numeric"}


@pytest.fixture
def toy():
    return toy_cohort()
