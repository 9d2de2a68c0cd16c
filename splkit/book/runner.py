"""Run the numbered notebooks headless with papermill, in order, into the run directory.

Each notebook's ``parameters`` cell holds ``profile`` and ``run_dir``; papermill replaces them, and
the notebook loads every other setting from the profile.  Executed copies go to
``<run_dir>/notebooks/``; the committed sources in ``notebooks/`` stay without outputs.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import yaml

from splkit.config import PROJECT_ROOT, Settings, load_profile
from splkit.run.report import atomic_write_text
from splkit.run.rundir import RunDir

NOTEBOOK_DIR = PROJECT_ROOT / "notebooks"


def numbered_notebooks(directory: Path = NOTEBOOK_DIR) -> list[Path]:
    """The ``NN_name.ipynb`` notebooks of ``directory`` in run (= reading) order."""
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
        return run_dir
    from splkit.simulate.generate import is_current, simulate_cohort

    if not is_current(settings.data_path, n=data.simulate_n, seed=data.simulate_seed):
        # absent, generated for another n/seed, or by an older generator: (re)generate it
        print(
            f"simulating {data.simulate_n} patients (seed {data.simulate_seed}) into {settings.data_path}",
            flush=True,
        )
        simulate_cohort(n=data.simulate_n, seed=data.simulate_seed, out=settings.data_path)
    return run_dir


def run_notebooks(
    profile: str | Path = "default",
    run_dir: str | Path | None = None,
    only: Sequence[str] | None = None,
    kernel_name: str = "python3",
) -> list[tuple[str, float]]:
    """Execute every numbered notebook (or those whose name starts with one of ``only``) in order.

    Prints one progress line per notebook with the time it took and returns ``[(name, seconds)]``.
    Stops at the first failing notebook; papermill leaves the failing cell's traceback in the
    executed copy in ``<run_dir>/notebooks/``.
    """
    import papermill

    from splkit.run.progress import BATCH_ENV

    os.environ[BATCH_ENV] = "1"  # inherited by the kernels: no progress bars inside executed notebooks
    settings = load_profile(profile, run_dir=run_dir)
    run_path = prepare_run(settings)
    out_dir = RunDir(run_path).notebooks
    out_dir.mkdir(exist_ok=True)
    notebooks = numbered_notebooks()
    if only:
        notebooks = [nb for nb in notebooks if any(nb.name.startswith(prefix) for prefix in only)]
    timings: list[tuple[str, float]] = []
    total = time.perf_counter()
    for index, notebook in enumerate(notebooks, start=1):
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
        except Exception:
            print(
                f" FAILED after {time.perf_counter() - start:.1f} s (see {out_dir / notebook.name})",
                flush=True,
            )
            raise
        elapsed = time.perf_counter() - start
        timings.append((notebook.name, elapsed))
        print(f" done in {elapsed:.1f} s", flush=True)
    print(
        f"all {len(notebooks)} notebooks in {time.perf_counter() - total:.1f} s -> {run_path}",
        file=sys.stdout,
    )
    return timings
