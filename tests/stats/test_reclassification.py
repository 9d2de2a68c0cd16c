"""NRI and IDI: a tiny hand-computed example, and values pinned against ``Hmisc::improveProb``.

The Hmisc values were computed once with R 4.2.2 and Hmisc 4.8.0 (Debian ``r-cran-hmisc``) on the
60-patient vectors ``Y``, ``A``, ``B``, ``C`` of ``test_stats_roc.py``::

    library(Hmisc)
    for (pr in list(list(a, c), list(b, c), list(b, a))) {
      r <- improveProb(x1 = pr[[1]], x2 = pr[[2]], y = y)   # x1 = old model, x2 = new model
      cat(r$nri, r$se.nri, r$z.nri, r$nri.ev, r$nri.ne, r$idi, r$se.idi, r$z.idi, "\n")
    }
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from stats.test_roc import A, B, C
from stats.test_roc import Y as Y60

from splkit.stats import idi, nri

# Hmisc 4.8.0 improveProb(x1 = old, x2 = new, y): nri, se.nri, z.nri, nri.ev, nri.ne, idi, se.idi, z.idi
HMISC = {
    ("a", "c"): (-0.25589225589225595, 0.25267583473784783, -1.0127294371372917, -0.07407407407407407,
                 -0.18181818181818188, -0.038417508417508406, 0.035739096941875305, -1.0749434570210088),
    ("b", "c"): (0.30639730639730633, 0.254374602747934, 1.204512176480617, 0.18518518518518517,
                 0.12121212121212116, 0.14131313131313133, 0.069736644915502327, 2.0263827071743408),
    ("b", "a"): (0.47138047138047146, 0.25196649023424178, 1.8708061970552134, 0.2592592592592593,
                 0.21212121212121215, 0.17973063973063974, 0.079211748722227374, 2.2689896717329519),
}  # fmt: skip
SCORES = {"a": A, "b": B, "c": C}

# 4 events, 6 non-events
Y = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
OLD = np.array([0.6, 0.4, 0.3, 0.7, 0.2, 0.5, 0.4, 0.3, 0.6, 0.1])
NEW = np.array([0.8, 0.5, 0.2, 0.7, 0.1, 0.3, 0.5, 0.2, 0.4, 0.1])
# new - old:  events +.2 +.1 -.1 0   -> up 2/4, down 1/4
#             non-events -.1 -.2 +.1 -.1 -.2 0 -> up 1/6, down 4/6


def test_continuous_nri_by_hand():
    res = nri(Y, NEW, OLD)
    assert res["type"] == "continuous"
    assert (res["p_up_events"], res["p_down_events"]) == pytest.approx((2 / 4, 1 / 4))
    assert (res["p_up_nonevents"], res["p_down_nonevents"]) == pytest.approx((1 / 6, 4 / 6))
    assert res["nri_events"] == pytest.approx(1 / 4)
    assert res["nri_nonevents"] == pytest.approx(1 / 2)
    assert res["nri"] == pytest.approx(3 / 4)
    se = np.sqrt((3 / 4 - (1 / 4) ** 2) / 4 + (5 / 6 - (1 / 2) ** 2) / 6)
    assert res["se"] == pytest.approx(se)
    assert (res["low"], res["high"]) == pytest.approx(
        (0.75 - 1.959963984540054 * se, 0.75 + 1.959963984540054 * se)
    )
    assert res["p"] == pytest.approx(2 * stats.norm.sf(0.75 / se))
    assert (res["n_events"], res["n_nonevents"]) == (4, 6)


def test_categorical_nri_by_hand():
    # categories [0, .3), [.3, .6), [.6, 1]; a risk on a cut-off goes up (0.3 -> middle, 0.6 -> high)
    # events: 2->2, 1->1, 1->0 (down), 2->2           -> NRI_e = -1/4
    # non-events: 0->0, 1->1, 1->1, 1->0 (down), 2->1 (down), 0->0 -> NRI_ne = 2/6
    res = nri(Y, NEW, OLD, cutoffs=[0.3, 0.6])
    assert res["type"] == "categorical" and res["cutoffs"] == [0.3, 0.6]
    assert res["nri_events"] == pytest.approx(-1 / 4)
    assert res["nri_nonevents"] == pytest.approx(1 / 3)
    assert res["nri"] == pytest.approx(1 / 12)


def test_nri_is_antisymmetric_and_zero_for_identical():
    assert nri(Y, OLD, NEW)["nri"] == pytest.approx(-nri(Y, NEW, OLD)["nri"])
    same = nri(Y, OLD, OLD)
    assert same["nri"] == 0 and same["p"] == 1.0


def test_idi_by_hand():
    res = idi(Y, NEW, OLD)
    d_e = np.array([0.2, 0.1, -0.1, 0.0])
    d_ne = np.array([-0.1, -0.2, 0.1, -0.1, -0.2, 0.0])
    assert res["idi_events"] == pytest.approx(0.05)
    assert res["idi_nonevents"] == pytest.approx(0.5 / 6)
    assert res["idi"] == pytest.approx(0.05 + 0.5 / 6)
    se = np.sqrt(d_e.var(ddof=1) / 4 + d_ne.var(ddof=1) / 6)  # = sqrt(0.05/3/4 + 0.0683333/5/6)
    assert se == pytest.approx(np.sqrt(0.05 / 12 + 0.41 / 6 / 30))
    assert res["se"] == pytest.approx(se)
    assert res["p"] == pytest.approx(2 * stats.norm.sf(res["idi"] / se))
    # IDI = change in the discrimination slope
    assert res["slope_new"] - res["slope_old"] == pytest.approx(res["idi"])


def test_bad_cutoffs_rejected():
    with pytest.raises(ValueError, match="cutoffs"):
        nri(Y, NEW, OLD, cutoffs=[0.6, 0.3])
    with pytest.raises(ValueError, match="p_old has 3 values"):
        nri(Y, NEW, OLD[:3])


@pytest.mark.parametrize(("old", "new"), list(HMISC))
def test_nri_idi_match_hmisc(old, new):
    ref_nri, ref_se, ref_z, ref_ev, ref_ne, ref_idi, ref_se_idi, ref_z_idi = HMISC[(old, new)]
    got = nri(Y60, SCORES[new], SCORES[old])
    assert (got["nri"], got["se"], got["z"]) == pytest.approx((ref_nri, ref_se, ref_z), rel=1e-12)
    assert (got["nri_events"], got["nri_nonevents"]) == pytest.approx((ref_ev, ref_ne), rel=1e-12)
    got = idi(Y60, SCORES[new], SCORES[old])
    assert (got["idi"], got["se"], got["z"]) == pytest.approx((ref_idi, ref_se_idi, ref_z_idi), rel=1e-12)
