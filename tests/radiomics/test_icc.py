"""ICC(3,1) and ICC(2,1) against pingouin and the worked example of Shrout & Fleiss (1979)."""

import numpy as np
import pandas as pd
import pingouin
import pytest

from splkit.radiomics.icc import icc, icc_array

# Shrout & Fleiss, Psychol Bull 1979;86:420-428, Table 2: 6 targets rated by 4 judges.
# Published (Table 4): ICC(2,1) = 0.29, ICC(3,1) = 0.71.
SHROUT_FLEISS = np.array(
    [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
)


def test_shrout_fleiss_published_values():
    ratings = SHROUT_FLEISS[:, :, None].astype(float)
    assert icc_array(ratings, "ICC2")[0] == pytest.approx(0.29, abs=0.005)
    assert icc_array(ratings, "ICC3")[0] == pytest.approx(0.71, abs=0.005)


def _pingouin(r1, r2, kind):
    n = len(r1)
    long = pd.DataFrame(
        {"target": np.tile(np.arange(n), 2), "rater": np.repeat([1, 2], n), "score": np.r_[r1, r2]}
    )
    table = pingouin.intraclass_corr(long, targets="target", raters="rater", ratings="score")
    return float(table.set_index("Type").loc[kind, "ICC"])


def test_matches_pingouin_on_two_readers():
    rng = np.random.default_rng(7)
    n, p = 40, 6
    truth = rng.normal(size=(n, p)) * [1, 2, 5, 0.1, 1, 3]
    reader1 = pd.DataFrame(truth + rng.normal(scale=0.3, size=(n, p)), columns=list("abcdef"))
    reader2 = pd.DataFrame(
        truth + 0.2 + rng.normal(scale=[0.1, 1, 3, 0.5, 0.05, 2], size=(n, p)), columns=list("abcdef")
    )
    reader2 = reader2.iloc[::-1]  # order must not matter: rows are matched by patient index
    # pingouin 0.7 names them in McGraw & Wong's notation: ICC(C,1) = ICC(3,1), ICC(A,1) = ICC(2,1)
    for kind, name in (("ICC3", "ICC(C,1)"), ("ICC2", "ICC(A,1)")):
        ours = icc([reader1, reader2], icc_type=kind)
        for column in reader1.columns:
            assert ours[column] == pytest.approx(
                _pingouin(reader1[column].to_numpy(), reader2.loc[reader1.index, column].to_numpy(), name),
                abs=1e-10,
            )
        assert ours.attrs["n_patients"] == n


def test_matches_pingouin_on_five_segmentations():
    """k tables (the reader-1 mask and four perturbed copies: splkit.radiomics.robustness) -> ICC over k."""
    rng = np.random.default_rng(11)
    n, k = 30, 5
    truth = rng.normal(size=n) * 3
    tables = [
        pd.DataFrame({"f": truth + shift + rng.normal(scale=0.8, size=n)}, index=[f"P{i}" for i in range(n)])
        for shift in (0.0, -0.5, -0.2, 0.2, 0.5)
    ]
    long = pd.DataFrame(
        {
            "target": np.tile(np.arange(n), k),
            "rater": np.repeat(np.arange(k), n),
            "score": np.concatenate([t["f"].to_numpy() for t in tables]),
        }
    )
    reference = pingouin.intraclass_corr(long, targets="target", raters="rater", ratings="score")
    reference = reference.set_index("Type")["ICC"]
    for kind, name in (("ICC3", "ICC(C,1)"), ("ICC2", "ICC(A,1)")):
        assert icc(tables, icc_type=kind)["f"] == pytest.approx(float(reference[name]), abs=1e-10)
    identical = icc([tables[0]] * k)  # five identical segmentations: ICC 1
    assert identical["f"] == pytest.approx(1.0, abs=1e-12)


def test_only_common_patients_and_constant_features():
    r1 = pd.DataFrame({"x": [1.0, 2, 3, 4], "c": 5.0}, index=["P1", "P2", "P3", "P4"])
    r2 = pd.DataFrame({"x": [1.1, 2.1, 2.9], "c": 5.0}, index=["P1", "P2", "P3"])
    result = icc([r1, r2])
    assert result.attrs["n_patients"] == 3
    assert np.isnan(result["c"])
    assert 0.9 < result["x"] <= 1


def test_bad_input():
    with pytest.raises(ValueError, match="ICC2"):
        icc_array(np.zeros((3, 2, 1)), "ICC1")
    with pytest.raises(ValueError, match="NaN"):
        icc_array(np.full((3, 2, 1), np.nan))
