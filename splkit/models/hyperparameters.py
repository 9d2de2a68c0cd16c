"""Chapter 5's table of the SVMs' chosen hyper-parameters and final search grids."""

from __future__ import annotations

import pandas as pd
from IPython.display import Markdown

from splkit.models.estimators import search_grid
from splkit.models.folds_plan import fold_note, fold_plan
from splkit.run.report import record, write_table


def hyperparameters(settings, fitted) -> tuple[pd.DataFrame, Markdown]:
    """The chosen C and gamma per model with the final grid of its search
    (``tables/model_hyperparameters.csv``; records ``models.settings`` and ``models.fold_plan``), and a note
    on grids that grew (``models.svm_grid_extensions``), optima still at an edge, and folds a small cohort
    reduced (:func:`splkit.models.folds_plan.fold_plan`) — empty when there is nothing to say."""
    grid = settings.models
    best = pd.DataFrame(fitted.best_params).T.rename_axis("Model")
    final = {m: search_grid(fitted.estimators[m]) for m in best.index if m in fitted.estimators}
    final = {m: g for m, g in final.items() if g}
    if final:
        best["final C grid"] = pd.Series({m: ", ".join(f"{c:g}" for c in g["C"]) for m, g in final.items()})
        best["final gamma grid"] = pd.Series(
            {
                m: ", ".join(str(v) if isinstance(v, str) else f"{v:g}" for v in g["gamma"])
                for m, g in final.items()
            }
        )
    extensions = int(grid.get("svm_grid_extensions", 0) or 0)
    record(
        settings.run_path,
        "models.settings",
        {
            "cv_folds": grid.cv_folds,
            "svm_C": list(grid.svm_C),
            "svm_gamma": list(grid.svm_gamma),
            "svm_grid_extensions": extensions,
            "final_grids": {
                m: {"C": g["C"], "gamma": g["gamma"], "at_edge": g["at_edge"]} for m, g in final.items()
            },
            "nested_selection": grid.nested_selection,
            "paper_compatible": grid.paper_compatible,
        },
    )
    write_table(settings.run_path, "model_hyperparameters", best)
    given = (len(grid.svm_C), len(grid.svm_gamma))
    grew = [m for m, g in final.items() if (len(g["C"]), len(g["gamma"])) != given]
    edge = [m for m, g in final.items() if g["at_edge"]]
    parts = []
    if grew:
        parts.append(
            f"The search of {', '.join(grew)} found its best point at the edge of the profile's grid and grew the "
            f"grid one step beyond it, at most {extensions} times per side (`models.svm_grid_extensions`); the "
            "table shows each final grid, in which the chosen point is an interior optimum unless noted below."
        )
    if edge:
        parts.append(
            f"For {', '.join(edge)} the best point still lies at the edge of the final grid: the search might "
            "prefer a value beyond it. Raise `models.svm_grid_extensions` or widen `models.svm_C` / `svm_gamma`."
        )
    training = fitted.predictions[fitted.predictions["cohort"] == "train"].drop_duplicates("patient")
    plan = fold_plan(settings, training["label"])
    record(settings.run_path, "models.fold_plan", plan.reset_index().to_dict(orient="records"))
    if note := fold_note(plan):
        parts.append(note)
    return best, Markdown(" ".join(parts))
