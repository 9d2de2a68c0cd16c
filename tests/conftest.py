"""Shared fixtures: the smoke run of the whole book, and a small fake run for fast book tests."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from splkit.config import PROJECT_ROOT, load_profile

MODELS = ("Clinical", "Rad", "DTL", "DLR", "CDLR")


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """Run every notebook on the smoke profile and build the book: ``(run_dir, html_dir)``."""
    run_dir = tmp_path_factory.mktemp("smoke-run")
    site = tmp_path_factory.mktemp("smoke-site")
    for command in (
        ["run", "--profile", "smoke", "--run-dir", str(run_dir)],
        ["book", "--profile", "smoke", "--run-dir", str(run_dir), "--output", str(site)],
    ):
        completed = subprocess.run(
            [sys.executable, "-m", "splkit", *command], cwd=PROJECT_ROOT, text=True, capture_output=True
        )
        assert completed.returncode == 0, (
            f"splkit {' '.join(command)} failed:\n{completed.stdout}\n{completed.stderr}"
        )
    return run_dir, site / "_build" / "html"


def synthetic_results(seed: int = 0) -> dict:
    """A complete ``results.json`` with made-up, distinct numbers (every key the book's pages read)."""
    import numpy as np

    rng = np.random.default_rng(seed)

    def value() -> float:
        return float(rng.uniform(0.5, 0.99))

    models = {}
    for model in MODELS:
        models[model] = {}
        for cohort in ("train", "validation"):
            row = {"n": 97, "n_positive": 56, "level": 0.95, "threshold": value()}
            for metric in ("auc", "accuracy", "sensitivity", "specificity", "ppv", "npv", "f1"):
                estimate = value()
                low, high = estimate - 0.05 - 0.01 * rng.random(), min(estimate + 0.04, 0.999)
                row[metric] = estimate
                if metric == "auc":
                    row.update(
                        auc_delong_low=low,
                        auc_delong_high=high,
                        auc_boot_low=low - 0.01,
                        auc_boot_high=high - 0.002,
                    )
                else:
                    row.update({f"{metric}_low": low, f"{metric}_high": high})
            row.update(brier=value() / 5, hl_p=value())
            models[model][cohort] = row
    delong = {
        cohort: {f"CDLR_vs_{other}": value() / 20 for other in MODELS[:-1]}
        for cohort in ("train", "validation")
    }
    return {
        "cohort": {
            "n_patients": 487,
            "n_train": 389,
            "n_validation": 98,
            "malignant_share": 0.5831,
            "spacing_source": "spacing_mm column",
            "data_sha256": "ab" * 32,
        },
        "clinical": {
            "predictors": ["age", "cea"],
            "odds_ratios": {
                "age": {"or": 1.0412, "low": 1.0101, "high": 1.0733, "p": 0.0091},
                "cea": {"or": 2.4567, "low": 1.3456, "high": 4.4844, "p": 0.00031},
            },
        },
        "radiomics": {
            "preset": "ultrasound2d",
            "counts": {
                "extracted": 1234,
                "after_icc": 812,
                "after_mannwhitney": 301,
                "after_spearman": 57,
                "after_lasso": 9,
            },
            "selected": ["original_firstorder_Mean", "wavelet-LH_glcm_Idm"],
        },
        "deep": {
            "backbone_requested": "resnet50",
            "backbone": "efficientnet_lite0",
            "weights": "imagenet",
            "weights_file": "efficientnet_lite0.pth",
            "weights_sha256": "cd" * 32,
            "fallback": True,
        },
        "models": models,
        "delong": delong,
    }


FIGURE_CELL = """\
import plotly.graph_objects as go
from splkit.book.plots import show, styled
fig = styled(go.Figure(go.Scatter(x=[0, 0.2, 1], y=[0, 0.8, 1], name="CDLR")), "ROC curve",
             "1 - specificity (fraction)", "Sensitivity (fraction)")
show(fig, {run_dir!r}, "roc_test")
"""


def make_fake_run(run_dir: Path, results: dict | None = None) -> Path:
    """A run directory with the smoke settings, ``results.json`` and one executed notebook per chapter.

    The first chapter is executed for real (nbclient) and shows a plotly figure through
    :func:`splkit.book.plots.show`, plus a line of math; the others hold markdown only.
    """
    import nbformat
    from nbclient import NotebookClient

    run_dir = Path(run_dir)
    (run_dir / "notebooks").mkdir(parents=True, exist_ok=True)
    settings = load_profile("smoke", run_dir=run_dir)
    (run_dir / "settings.yaml").write_text(yaml.safe_dump(settings.to_dict(), sort_keys=False))
    (run_dir / "results.json").write_text(json.dumps(results if results is not None else synthetic_results()))
    toc = yaml.safe_load((PROJECT_ROOT / "book" / "_toc.yml").read_text())
    chapters = [
        c["file"] for part in toc["parts"] for c in part["chapters"] if c["file"].startswith("notebooks/")
    ]
    for index, chapter in enumerate(chapters):
        notebook = nbformat.v4.new_notebook()
        notebook.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        notebook.cells = [
            nbformat.v4.new_markdown_cell(
                f"# Chapter {index + 1}\n\nA test chapter; the AUC is $P(S_1 > S_0)$ for scores $S$."
            )
        ]
        if index == 0:
            notebook.cells.append(nbformat.v4.new_code_cell(FIGURE_CELL.format(run_dir=str(run_dir))))
            NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
        nbformat.write(notebook, run_dir / "notebooks" / f"{Path(chapter).name}.ipynb")
    return run_dir


@pytest.fixture(scope="session")
def fake_book(tmp_path_factory):
    """The book built from :func:`make_fake_run`: ``(run_dir, html_dir)`` (about 20 s)."""
    from splkit.book import build_book

    run_dir = make_fake_run(tmp_path_factory.mktemp("fake-run"))
    site = tmp_path_factory.mktemp("fake-site")
    index = build_book("smoke", run_dir=run_dir, output=site)
    return run_dir, index.parent
