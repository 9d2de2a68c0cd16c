"""Reclassification: net reclassification improvement (NRI) and integrated discrimination
improvement (IDI) of a new model over an old one [pencina2008].

Both take predicted probabilities of the two models for the same patients.  Confidence intervals
are asymptotic normal (no bootstrap), with the standard errors named below.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from splkit.stats._checks import check_labels, check_level, check_scores


def _moves(y: np.ndarray, new: np.ndarray, old: np.ndarray) -> dict[str, float]:
    up, down = new > old, new < old
    ev, ne = y == 1, y == 0
    return {
        "n_events": int(ev.sum()),
        "n_nonevents": int(ne.sum()),
        "p_up_events": float(up[ev].mean()),
        "p_down_events": float(down[ev].mean()),
        "p_up_nonevents": float(up[ne].mean()),
        "p_down_nonevents": float(down[ne].mean()),
    }


def nri(
    y: ArrayLike,
    p_new: ArrayLike,
    p_old: ArrayLike,
    cutoffs: Sequence[float] | None = None,
    level: float = 0.95,
) -> dict:
    """Net reclassification improvement of ``p_new`` over ``p_old``.

    ``NRI = [P(up | event) - P(down | event)] + [P(down | non-event) - P(up | non-event)]``.

    * ``cutoffs=None``: category-free (continuous) NRI, "up" meaning ``p_new > p_old`` (ties are
      neither up nor down); ranges from -2 to 2.
    * ``cutoffs=[c1, c2, ...]``: categorical NRI on the risk categories ``[0, c1), [c1, c2), …,
      [ck, 1]`` (a risk equal to a cut-off belongs to the higher category); "up" means a move to a
      higher category.

    Standard error (Pencina et al. 2008, with the unrestricted multinomial variance of each component):
    ``se² = (p_up_e + p_down_e - (p_up_e - p_down_e)²)/n_e + (p_up_ne + p_down_ne - (p_up_ne - p_down_ne)²)/n_ne``;
    ``z = NRI / se`` and the normal CI use it, as Harrell's ``Hmisc::improveProb`` does.  (Pencina's
    McNemar-type test instead uses the variance under the null, without the squared terms.)

    Returns
    -------
    dict
        ``nri``, ``nri_events``, ``nri_nonevents``, ``se``, ``low``, ``high``, ``z``, ``p``,
        the four move proportions, ``n_events``, ``n_nonevents``, ``type`` ("continuous" or
        "categorical"), ``cutoffs``, ``ci_method``, ``level``.
    """
    y = check_labels(y)
    level = check_level(level)
    new = check_scores(p_new, y.size, "p_new", probability=True)
    old = check_scores(p_old, y.size, "p_old", probability=True)
    if cutoffs is not None:
        cuts = np.asarray(cutoffs, dtype=float)
        if (
            cuts.ndim != 1
            or cuts.size == 0
            or not np.all(np.diff(cuts) > 0)
            or cuts.min() <= 0
            or cuts.max() >= 1
        ):
            raise ValueError(
                f"cutoffs must be increasing probabilities strictly inside (0, 1), got {cutoffs}"
            )
        new = np.searchsorted(cuts, new, side="right").astype(float)
        old = np.searchsorted(cuts, old, side="right").astype(float)
    m = _moves(y, new, old)
    ne_, nn_ = m["n_events"], m["n_nonevents"]
    ue, de, un, dn = m["p_up_events"], m["p_down_events"], m["p_up_nonevents"], m["p_down_nonevents"]
    nri_e, nri_n = ue - de, dn - un
    value = nri_e + nri_n
    se = float(np.sqrt((ue + de - (ue - de) ** 2) / ne_ + (un + dn - (un - dn) ** 2) / nn_))
    z = value / se if se > 0 else 0.0
    half = float(stats.norm.ppf(0.5 + level / 2)) * se
    return {
        "nri": value,
        "nri_events": nri_e,
        "nri_nonevents": nri_n,
        "se": se,
        "low": value - half,
        "high": value + half,
        "z": z,
        "p": float(2 * stats.norm.sf(abs(z))) if se > 0 else 1.0,
        **m,
        "type": "continuous" if cutoffs is None else "categorical",
        "cutoffs": None if cutoffs is None else [float(c) for c in cutoffs],
        "ci_method": "Pencina 2008 asymptotic normal (unrestricted multinomial SE)",
        "level": level,
    }


def idi(y: ArrayLike, p_new: ArrayLike, p_old: ArrayLike, level: float = 0.95) -> dict:
    """Integrated discrimination improvement of ``p_new`` over ``p_old``.

    ``IDI = [mean(p_new - p_old | event)] - [mean(p_new - p_old | non-event)]``, the gain in the
    discrimination slope (mean risk in events minus mean risk in non-events).  Standard error
    (Pencina et al. 2008): ``se² = s_e² / n_e + s_ne² / n_ne`` with ``s_e``, ``s_ne`` the sample
    standard deviations (ddof = 1) of the paired differences ``p_new - p_old`` in events and
    non-events; ``z = IDI / se``; normal CI.

    Returns
    -------
    dict
        ``idi``, ``idi_events`` (mean rise of the risk in events), ``idi_nonevents`` (mean fall
        of the risk in non-events; ``idi = idi_events + idi_nonevents``),
        ``se``, ``low``, ``high``, ``z``, ``p``, ``slope_new``, ``slope_old``, ``ci_method``, ``level``.
    """
    y = check_labels(y)
    level = check_level(level)
    new = check_scores(p_new, y.size, "p_new", probability=True)
    old = check_scores(p_old, y.size, "p_old", probability=True)
    ev, ne = y == 1, y == 0
    if ev.sum() < 2 or ne.sum() < 2:
        raise ValueError("the IDI standard error needs at least 2 events and 2 non-events")
    d = new - old
    idi_e, idi_n = float(d[ev].mean()), float(d[ne].mean())
    value = idi_e - idi_n
    se = float(np.sqrt(d[ev].var(ddof=1) / ev.sum() + d[ne].var(ddof=1) / ne.sum()))
    z = value / se if se > 0 else 0.0
    half = float(stats.norm.ppf(0.5 + level / 2)) * se
    return {
        "idi": value,
        "idi_events": idi_e,
        "idi_nonevents": -idi_n,
        "se": se,
        "low": value - half,
        "high": value + half,
        "z": z,
        "p": float(2 * stats.norm.sf(abs(z))) if se > 0 else 1.0,
        "slope_new": float(new[ev].mean() - new[ne].mean()),
        "slope_old": float(old[ev].mean() - old[ne].mean()),
        "ci_method": "Pencina 2008 asymptotic (SE from paired differences in events and non-events)",
        "level": level,
    }
