"""Decision curve analysis: net benefit and interventions avoided.

At threshold probability ``pt`` a patient is treated (here: biopsied) when ``score >= pt``, and

    net benefit = TP / N - FP / N * pt / (1 - pt)

[vickers2006].  "Treat all" has net benefit ``prevalence - (1 - prevalence) * pt / (1 - pt)``,
"treat none" zero.  The net reduction in interventions per 100 patients is
``100 * (NB_model - NB_all) / (pt / (1 - pt))`` (Vickers et al. 2008) — the same quantity as
``dcurves``' ``net_intervention_avoided`` with ``nper=100``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from splkit.stats._checks import check_labels, check_scores

TREAT_ALL = "Treat all"
TREAT_NONE = "Treat none"


def _check_thresholds(thresholds: ArrayLike) -> np.ndarray:
    t = np.atleast_1d(np.asarray(thresholds, dtype=float))
    if t.ndim != 1 or t.size == 0:
        raise ValueError("thresholds must be a non-empty one-dimensional sequence")
    if not ((t > 0) & (t < 1)).all():
        raise ValueError(
            f"threshold probabilities must lie strictly between 0 and 1, got {t[(t <= 0) | (t >= 1)]}"
        )
    return t


def net_benefit(y: ArrayLike, score: ArrayLike, thresholds: ArrayLike) -> np.ndarray:
    """Net benefit of treating patients with ``score >= pt`` at each threshold ``pt``.

    Parameters
    ----------
    y : array of 0/1
        Outcome, 1 = disease (malignant).
    score : array of float
        Predicted probabilities.
    thresholds : array of float
        Threshold probabilities, each strictly between 0 and 1.

    Returns
    -------
    ndarray
        Net benefit at each threshold (same order).

    References
    ----------
    Vickers & Elkin (2006).
    """
    y = check_labels(y, need_both=False)
    score = check_scores(score, y.size, probability=True)
    t = _check_thresholds(thresholds)
    pos = np.sort(score[y == 1])
    neg = np.sort(score[y == 0])
    tp = pos.size - np.searchsorted(pos, t, side="left")
    fp = neg.size - np.searchsorted(neg, t, side="left")
    return tp / y.size - fp / y.size * t / (1 - t)


def treat_all_net_benefit(y: ArrayLike, thresholds: ArrayLike) -> np.ndarray:
    """Net benefit of treating everybody: ``prevalence - (1 - prevalence) * pt / (1 - pt)``."""
    y = check_labels(y, need_both=False)
    t = _check_thresholds(thresholds)
    prev = y.mean()
    return prev - (1 - prev) * t / (1 - t)


def decision_curves(y: ArrayLike, scores: Mapping[str, ArrayLike], thresholds: ArrayLike) -> pd.DataFrame:
    """Net benefit of every model plus "Treat all" and "Treat none", in long format.

    Returns
    -------
    DataFrame
        Columns ``model``, ``threshold``, ``net_benefit``; models in the order given, then
        ``"Treat all"`` and ``"Treat none"``.
    """
    y = check_labels(y, need_both=False)
    t = _check_thresholds(thresholds)
    parts = [
        pd.DataFrame({"model": name, "threshold": t, "net_benefit": net_benefit(y, s, t)})
        for name, s in scores.items()
    ]
    parts.append(
        pd.DataFrame({"model": TREAT_ALL, "threshold": t, "net_benefit": treat_all_net_benefit(y, t)})
    )
    parts.append(pd.DataFrame({"model": TREAT_NONE, "threshold": t, "net_benefit": np.zeros(t.size)}))
    return pd.concat(parts, ignore_index=True)


def biopsies_avoided(y: ArrayLike, score: ArrayLike, thresholds: ArrayLike) -> pd.DataFrame:
    """Net reduction in interventions (biopsies) per 100 patients compared with treating all.

    ``100 * (NB_model - NB_all) / (pt / (1 - pt))``: the number of biopsies per 100 patients that
    the model saves without missing more cancers, net of the harm of misses valued at ``pt``.

    Returns
    -------
    DataFrame
        Columns ``threshold``, ``net_benefit``, ``net_benefit_all``, ``biopsies_avoided_per_100``.

    References
    ----------
    Vickers, Cronin, Elkin & Gonen (2008), BMC Med Inform Decis Mak 8:53; ``dcurves``
    ``net_intervention_avoided``.
    """
    y = check_labels(y, need_both=False)
    t = _check_thresholds(thresholds)
    nb = net_benefit(y, score, t)
    nb_all = treat_all_net_benefit(y, t)
    return pd.DataFrame(
        {
            "threshold": t,
            "net_benefit": nb,
            "net_benefit_all": nb_all,
            "biopsies_avoided_per_100": 100.0 * (nb - nb_all) / (t / (1 - t)),
        }
    )
