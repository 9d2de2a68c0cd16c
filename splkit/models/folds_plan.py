"""How many folds each cross-validation of the models really uses on a (small) training cohort.

Every split of the models goes through :class:`splkit.stats.folds.StratifiedCopiesKFold`, which uses
fewer folds than the profile asks when the rows it splits hold fewer patients of a class than folds
(:func:`splkit.stats.folds.usable_folds`).  :func:`fold_plan` works out, from the training labels, the
folds of each level of the procedure in its worst case (the smallest class of the smallest training part),
so chapter 5 can say by how much a small cohort reduced them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

#: The SVM's Platt-scaling folds (:class:`splkit.models.svm.TunedPlattSVM` default).
PLATT_FOLDS = 5


def _level(name: str, asked: int, smallest: int) -> tuple[dict[str, Any], int]:
    """One row of the plan and the smallest class left in the training part of that level's folds."""
    used = max(min(asked, smallest), 0)
    left = smallest - math.ceil(smallest / used) if used >= 2 else 0
    return {
        "cross-validation": name,
        "folds asked": asked,
        "folds used": used,
        "smallest class": smallest,
    }, left


def fold_plan(settings: Mapping[str, Any], y_train: Any) -> pd.DataFrame:
    """Folds asked and used per level (worst case), from the training labels and the profile."""
    models, selection = settings["models"], settings["selection"]
    k, lasso = int(models["cv_folds"]), int(selection["lasso_cv_folds"])
    _, counts = np.unique(np.asarray(y_train), return_counts=True)
    smallest = int(counts.min()) if len(counts) > 1 else 0
    outer, part = _level("out-of-fold scores (outer folds)", k, smallest)
    rows = [outer]
    rows.append(_level("SVM grid search, in an outer fold", k, part)[0])
    rows.append(_level("Platt scaling, in an outer fold", PLATT_FOLDS, part)[0])
    rows.append(_level("LASSO path, in an outer fold", lasso, part)[0])
    stack, stack_part = _level("CDLR stack's DLR scores, in an outer fold", k, part)
    rows.append(stack)
    rows.append(_level("SVM grid search, in a fold of the stack", k, stack_part)[0])
    rows.append(_level("LASSO path, on all training patients", lasso, smallest)[0])
    return pd.DataFrame(rows).set_index("cross-validation")


def fold_note(plan: pd.DataFrame) -> str:
    """A sentence on the reduced folds, or empty when every level uses the folds asked."""
    reduced = plan[plan["folds used"] < plan["folds asked"]]
    if reduced.empty:
        return ""
    parts = "; ".join(
        f"{name}: {row['folds used']} instead of {row['folds asked']}" for name, row in reduced.iterrows()
    )
    return (
        "The training cohort is small: where a class has fewer patients than folds, the folds shrink to its size "
        f"(worst case, from the {plan['smallest class'].iloc[0]} patients of the smaller class in training): {parts}. "
        "Fewer folds mean noisier hyper-parameter choices and wider intervals."
    )
