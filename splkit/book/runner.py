"""Run the numbered notebooks headless with papermill, in order, into the run directory.

Each notebook's ``parameters`` cell holds ``profile`` and ``run_dir``; papermill replaces them, and
the notebook loads every other setting from the profile.  Executed copies go to
``<run_dir>/notebooks/``; the committed sources in ``notebooks/`` stay without outputs.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from splkit.book import freshness
from splkit.config import PROJECT_ROOT, Settings, has_external, load_profile
from splkit.run.report import atomic_write_text
from splkit.run.rundir import RunDir

NOTEBOOK_DIR = PROJECT_ROOT / "notebooks"

#: Notebooks run (and shown in the book) only when the profile asks for them: name prefix -> condition.
CONDITIONAL = {"07_": has_external}


def applies(notebook: str | Path, settings: Mapping[str, Any] | None) -> bool:
    """Whether ``notebook`` belongs to a run with ``settings`` (chapter 7 only with an external cohort).

    Without settings every notebook applies.
    """
    name = Path(notebook).name
    if settings is None:
        return True
    return all(condition(settings) for prefix, condition in CONDITIONAL.items() if name.startswith(prefix))


def run_settings_of(run_dir: Path) -> dict[str, Any] | None:
    """The resolved settings a run wrote (``settings.yaml``), or ``None`` when it has none."""
    path = RunDir(run_dir).settings_yaml
    return yaml.safe_load(path.read_text()) if path.is_file() else None


#: What a failed notebook shows in the run directory instead of its error (which may name patients).
REDACTED_ERROR = (
    "This notebook failed. Its error message is not kept in the run directory because it may name "
    "patients or their files; it was shown on the terminal, and the full traceback is in a copy outside "
    "the run directory."
)


class RunFailed(RuntimeError):
    """A notebook failed: the error message first, then where the full traceback is."""

    def __init__(self, notebook: str, error: BaseException, traceback_copy: Path | None):
        message = f"{getattr(error, 'ename', type(error).__name__)}: {getattr(error, 'evalue', error)}"
        where = f"full traceback: {traceback_copy}" if traceback_copy else "no executed copy was written"
        super().__init__(
            f"{notebook} failed — {message}\n{where} (outside the run directory: it may name patients)"
        )
        self.notebook, self.message, self.traceback_copy = notebook, message, traceback_copy


def quarantine_failed_notebook(executed: Path) -> Path | None:
    """Move a failed executed notebook's error out of the run directory.

    The whole executed copy (with the traceback) goes to a private temporary folder; the copy left in
    the run directory keeps its cells and outputs but every error output is replaced by
    :data:`REDACTED_ERROR`, and papermill's ``exception`` flag stays set so ``splkit book`` refuses it.
    """
    import json
    import shutil
    import tempfile

    if not executed.exists():
        return None
    private = Path(tempfile.mkdtemp(prefix="splkit-failed-")) / executed.name
    shutil.copy2(executed, private)
    notebook = json.loads(executed.read_text())
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output.update(ename="NotebookFailed", evalue=REDACTED_ERROR, traceback=[REDACTED_ERROR])
            elif output.get("name") == "stderr":
                output["text"] = [REDACTED_ERROR]
    notebook.setdefault("metadata", {}).setdefault("papermill", {})["exception"] = True
    atomic_write_text(executed, json.dumps(notebook, indent=1))
    return private


def failed_notebooks(executed_dir: Path, settings: Mapping[str, Any] | None = None) -> list[str]:
    """Executed notebooks of a run that failed (papermill's ``exception`` flag) or are missing.

    A notebook that does not apply to the run (:func:`applies`, with ``settings`` or else the run's
    ``settings.yaml``) is not expected.
    """
    import json

    if settings is None:
        settings = run_settings_of(Path(executed_dir).parent)
    problems = []
    for source in numbered_notebooks():
        if not applies(source, settings):
            continue
        executed = executed_dir / source.name
        if not executed.exists():
            problems.append(f"{source.name} (not run)")
        elif json.loads(executed.read_text()).get("metadata", {}).get("papermill", {}).get("exception"):
            problems.append(f"{source.name} (failed)")
    return problems


def numbered_notebooks(directory: Path | None = None) -> list[Path]:
    """The ``NN_name.ipynb`` notebooks of ``directory`` (default: ``notebooks/``) in run (= reading) order."""
    directory = NOTEBOOK_DIR if directory is None else directory
    notebooks = sorted(p for p in directory.glob("[0-9][0-9]_*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"no numbered notebooks (NN_name.ipynb) in {directory}")
    return notebooks


def prepare_run(settings: Settings) -> Path:
    """Create the run directory, write the resolved settings and make sure the cohort exists."""
    run_dir = settings.run_path
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(RunDir(run_dir).settings_yaml, yaml.safe_dump(settings.to_dict(), sort_keys=False))
    data = settings.data
    if not data.get("simulate", False):
        if not settings.data_path.exists():
            raise FileNotFoundError(
                f"cohort folder {settings.data_path} does not exist (profile {settings.name!r}, data.path); "
                "point data.path at your cohort (see data/README.md) or set data.simulate: true"
            )
    else:
        _simulate_if_needed(settings)
    if has_external(settings):
        if (settings.get("external") or {}).get("simulate", False):
            _simulate_external_if_needed(settings)
        elif not settings.external_path.exists():
            raise FileNotFoundError(
                f"external cohort folder {settings.external_path} does not exist (profile {settings.name!r}, "
                "external.path); point it at the external cohort or set external.simulate: true"
            )
    return run_dir


def check_cohort(settings: Settings) -> None:
    """Validate the cohort fully — every image decoded, lesions against the radiomics preset — before
    any long step; a :class:`splkit.cohort.CohortError` lists every problem at once."""
    from splkit.cohort import load_cohort_for

    load_cohort_for(settings, full=True)


def _simulate_if_needed(settings: Settings) -> None:
    data = settings.data
    from splkit.simulate.generate import is_current, simulate_cohort

    if not is_current(settings.data_path, n=data.simulate_n, seed=data.simulate_seed):
        # absent, generated for another n/seed, or by an older generator: (re)generate it
        print(
            f"simulating {data.simulate_n} patients (seed {data.simulate_seed}) into {settings.data_path}",
            flush=True,
        )
        simulate_cohort(n=data.simulate_n, seed=data.simulate_seed, out=settings.data_path)


def _simulate_external_if_needed(settings: Settings) -> None:
    """Simulate the external centre into ``external.path`` when absent or stale."""
    from splkit.simulate.generate import is_current, simulate_cohort

    ext = settings.external
    centre = ext.get("centre", "external")
    n, seed = int(ext.get("simulate_n", 60)), int(ext.get("simulate_seed", 1))
    if not is_current(settings.external_path, n=n, seed=seed, centre=centre):
        print(
            f"simulating {n} external patients ({centre} centre, seed {seed}) into {settings.external_path}",
            flush=True,
        )
        simulate_cohort(n=n, seed=seed, out=settings.external_path, centre=centre)


def run_notebooks(
    profile: str | Path = "default",
    run_dir: str | Path | None = None,
    only: Sequence[str] | None = None,
    kernel_name: str = "python3",
    force: bool = False,
) -> list[tuple[str, float]]:
    """Execute every numbered notebook (or those whose name starts with one of ``only``) in order.

    Prints one progress line per notebook with the time it took and returns ``[(name, seconds)]``.
    Notebooks whose inputs did not change since the last complete run in this run directory are not
    executed again (:mod:`splkit.book.freshness`; ``force``: execute every one; ``only``: execute those).
    Stops at the first failing notebook with :class:`RunFailed` (the error message first, then where
    the full traceback is: a copy outside the run directory, see :func:`quarantine_failed_notebook`).
    """
    import papermill

    from splkit.run.progress import BATCH_ENV

    os.environ[BATCH_ENV] = "1"  # inherited by the kernels: no progress bars inside executed notebooks
    settings = load_profile(profile, run_dir=run_dir)
    run_path = prepare_run(settings)
    out_dir = RunDir(run_path).notebooks
    out_dir.mkdir(exist_ok=True)
    notebooks = [nb for nb in numbered_notebooks() if applies(nb, settings)]
    cohorts = [settings.data_path] + ([settings.external_path] if has_external(settings) else [])
    keys = freshness.notebook_keys(notebooks, freshness.inputs_digest(settings.to_dict(), cohorts))
    fresh = set() if (force or only) else freshness.up_to_date(run_path, keys)
    if only:
        notebooks = [nb for nb in notebooks if any(nb.name.startswith(prefix) for prefix in only)]
    if len(fresh) < len(notebooks):
        check_cohort(settings)  # validated at the door before any long step (skipped when nothing runs)
        freshness.forget(run_path)
    timings: list[tuple[str, float]] = []
    total = time.perf_counter()
    for index, notebook in enumerate(notebooks, start=1):
        if notebook.name in fresh:
            print(f"[{index}/{len(notebooks)}] {notebook.name} ... up to date", flush=True)
            timings.append((notebook.name, 0.0))
            continue
        start = time.perf_counter()
        print(f"[{index}/{len(notebooks)}] {notebook.name} ...", end="", flush=True)
        try:
            papermill.execute_notebook(
                str(notebook),
                str(out_dir / notebook.name),
                parameters={"profile": str(profile), "run_dir": str(run_path)},
                kernel_name=kernel_name,
                cwd=str(NOTEBOOK_DIR),
                progress_bar=False,
                log_output=False,
                # the kernel talks to papermill over loopback; its TCP-encryption notice is noise here
                extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
            )
        except Exception as error:
            print(f" FAILED after {time.perf_counter() - start:.1f} s", flush=True)
            raise RunFailed(
                notebook.name, error, quarantine_failed_notebook(out_dir / notebook.name)
            ) from None
        elapsed = time.perf_counter() - start
        timings.append((notebook.name, elapsed))
        print(f" done in {elapsed:.1f} s", flush=True)
    if not only and len(fresh) < len(notebooks):
        freshness.remember(run_path, keys)
    print(
        f"all {len(notebooks)} notebooks in {time.perf_counter() - total:.1f} s -> {run_path}",
        file=sys.stdout,
    )
    return timings
