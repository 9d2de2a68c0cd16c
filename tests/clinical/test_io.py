"""Tests of splkit.clinical.io: the displayed odds-ratio table, its results.json record, the term coding."""

import numpy as np
import pandas as pd

from splkit.clinical import make_clinical_pipeline
from splkit.clinical.io import describe_terms, format_or_table, odds_ratio_record

TABLE = pd.DataFrame(
    {
        "variable": ["age", "sex"],
        "or": [1.5, 0.4],
        "low": [1.1, 0.2],
        "high": [2.0, 0.8],
        "p": [0.0004, 0.03],
        "p_variable": [0.0004, 0.03],
        "vif": [1.2, 1.2],
    },
    index=pd.Index(["age", "sex[male]"], name="term"),
)


def test_format_or_table():
    out = format_or_table(TABLE)
    assert out.loc["age", "OR (95 % CI)"] == "1.50 (1.10–2.00)"
    assert out["p"].tolist() == ["<0.001", "0.030"] and "p (variable)" not in out
    assert out["VIF"].tolist() == ["1.20", "1.20"] and out.index.name == "Term"


def test_odds_ratio_record():
    record = odds_ratio_record(TABLE)
    assert record["sex[male]"] == {"or": 0.4, "low": 0.2, "high": 0.8, "p": 0.03}


def test_describe_terms():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"age": rng.normal(60, 9, 40), "sex": rng.choice(["female", "male"], 40)})
    pipeline = make_clinical_pipeline({"age": "numeric", "sex": "binary"}).fit(X, rng.integers(0, 2, 40))
    coding = describe_terms(pipeline["encode"], {"age": "years"})
    assert coding == {"age": "age: per 1 years", "sex[male]": "sex: male vs female (reference)"}
