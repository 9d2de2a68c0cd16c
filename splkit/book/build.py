"""Build the Jupyter Book from a run: book sources + the run's executed notebooks, execution off.

The sources in ``book/`` are copied into ``<run_dir>/book/`` together with the executed notebooks of
``<run_dir>/notebooks/`` and the plotly library (``_static/plotly.min.js``, so figures work offline);
pages generated from the run (the introduction's headline numbers, the methods page) are written there
too.  Jupyter Book 1 then builds that folder with warnings as errors, so a failing notebook or a broken
reference fails the build.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from splkit.book.plots import plotly_js_path
from splkit.book.site import check_site, copy_mathjax
from splkit.config import PROJECT_ROOT, load_profile, profile_path
from splkit.run.rundir import RunDir

BOOK_SOURCES = PROJECT_ROOT / "book"


#: Output mime types the book does not render; figures also carry an HTML version (``splkit.book.plots.show``).
JUPYTERLAB_ONLY_MIME_TYPES = ("application/vnd.plotly.v1+json",)


class IncompleteRun(RuntimeError):
    """A book was asked of a run whose notebooks did not all succeed."""


def _stage_notebook(source: Path, target: Path) -> None:
    """Copy an executed notebook for the book: hide the overridden default parameters, and drop
    JupyterLab-only mime types whose HTML version the book shows.

    myst-nb warns about every mime type it cannot render even when it then picks ``text/html``
    from the same bundle, and the book builds with warnings as errors.
    """
    notebook = json.loads(source.read_text())
    for cell in notebook["cells"]:
        tags = cell.get("metadata", {}).get("tags", [])
        if "parameters" in tags and "remove-cell" not in tags:
            # the defaults papermill overrode; the injected-parameters cell below shows what was used
            cell["metadata"]["tags"] = [*tags, "remove-cell"]
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "text/html" in data:
                for mime_type in JUPYTERLAB_ONLY_MIME_TYPES:
                    data.pop(mime_type, None)
    target.write_text(json.dumps(notebook, indent=1))


def write_toc(stage: Path, settings: dict | None) -> None:
    """The staged ``_toc.yml`` without the chapters that do not apply to the run (chapter 7 without an
    external cohort, see :func:`splkit.book.runner.applies`)."""
    import yaml

    from splkit.book.runner import applies

    path = stage / "_toc.yml"
    toc = yaml.safe_load(path.read_text())
    for part in toc.get("parts", []):
        part["chapters"] = [
            c
            for c in part["chapters"]
            if not c["file"].startswith("notebooks/") or applies(c["file"], settings)
        ]
    path.write_text(yaml.safe_dump(toc, sort_keys=False))


def stage_book(run_dir: Path) -> Path:
    """Assemble the book's source folder for one run and return it."""
    executed = RunDir(run_dir).notebooks
    if not executed.is_dir() or not any(executed.glob("*.ipynb")):
        raise FileNotFoundError(f"no executed notebooks in {executed}: run `splkit run` first")
    from splkit.book.runner import applies, failed_notebooks, run_settings_of

    settings = run_settings_of(Path(run_dir))
    problems = failed_notebooks(executed, settings)
    if problems:
        raise IncompleteRun(
            f"refusing to build a book from an incomplete or failed run ({executed}): {', '.join(problems)}; "
            "rerun `splkit run` until every notebook succeeds"
        )
    stage = RunDir(run_dir).book
    if stage.exists():
        shutil.rmtree(stage)
    shutil.copytree(BOOK_SOURCES, stage, ignore=shutil.ignore_patterns("_build", "__pycache__"))
    (stage / "notebooks").mkdir()
    for notebook in sorted(executed.glob("*.ipynb")):
        if applies(notebook, settings):
            _stage_notebook(notebook, stage / "notebooks" / notebook.name)
    write_toc(stage, settings)
    (stage / "_static").mkdir(exist_ok=True)
    shutil.copy2(plotly_js_path(), stage / "_static" / "plotly.min.js")
    copy_mathjax(stage)
    from splkit.book.pages import write_generated_pages

    write_generated_pages(stage, run_dir)
    return stage


def site_output(profile: str | Path, run_path: str | Path, output: str | Path | None = None) -> Path:
    """The folder that receives the site's ``_build/html``: one per run, so no build overwrites another.

    ``output`` when given; ``book/`` for the default run (the default profile with its own run
    directory: the site at ``book/_build/html/index.html``, as the README says); otherwise the run's
    staged book, ``<run_dir>/book/`` (the site at ``<run_dir>/book/_build/html/index.html``).
    """
    if output is not None:
        return Path(output)
    default = load_profile("default")
    is_default_profile = profile_path(profile).resolve() == profile_path("default").resolve()
    if is_default_profile and Path(run_path).resolve() == default.run_path.resolve():
        return BOOK_SOURCES
    return RunDir(run_path).book


def build_book(
    profile: str | Path = "default", run_dir: str | Path | None = None, output: str | Path | None = None
) -> Path:
    """Build the book of a run; returns the path of the site's ``index.html``.

    ``output`` is the folder that receives ``_build/html`` (default: :func:`site_output`: ``book/`` for
    the default run, ``<run_dir>/book/`` for any other).
    """
    settings = load_profile(profile, run_dir=run_dir)
    stage = stage_book(settings.run_path)
    output = site_output(profile, settings.run_path, output)
    html = output / "_build" / "html"
    if html.exists():
        shutil.rmtree(html)
    command = [
        sys.executable,
        "-m",
        "jupyter_book",
        "build",
        str(stage),
        "--path-output",
        str(output),
        "--warningiserror",
        "--keep-going",
    ]
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    if jupyter_book.exists():
        command = [str(jupyter_book), *command[3:]]
    print("building the book:", " ".join(command), flush=True)
    completed = subprocess.run(command, check=False)
    index = html / "index.html"
    if completed.returncode != 0 or not index.exists():
        raise RuntimeError(f"the Jupyter Book build failed (exit {completed.returncode}); see the log above")
    check_site(html)
    print(f"book: {index}", flush=True)
    return index
