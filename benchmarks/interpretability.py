"""Seconds of chapter 6's work (SHAP and Grad-CAM), cold and warm, on a copy of a finished run.

    python benchmarks/interpretability.py                        # runs/default (chapters 1-5 done)
    python benchmarks/interpretability.py --profile smoke --run runs/smoke --cprofile /tmp/ch6.prof
    PYTHONPATH=/tmp/old python benchmarks/interpretability.py   # another checkout's splkit and notebook

The code cells of ``notebooks/06_interpretability.ipynb`` run as the notebook runs them, on a copy of
the run's inputs in a temporary folder (the run itself is only read), with the SHAP cache (and any other
cache of chapter 6) in its own temporary folder: the first pass is cold, the second warm.  Matplotlib
figures are rendered to PNG, as the notebook's inline backend does.  The load average is printed before
and after, because numbers taken while other work shares the CPU are pessimistic.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

# benchmarks/radiomics.py would shadow the radiomics package that the cohort's checks import
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from splkit.config import PROJECT_ROOT as ROOT  # noqa: E402 - the checkout whose splkit is imported

NOTEBOOK = ROOT / "notebooks" / "06_interpretability.ipynb"
#: What chapter 6 reads from a run directory (copied; the rest is not needed).
INPUTS = (
    "settings.yaml",
    "results.json",
    "cohort.csv",
    "variables.csv",
    "split.csv",
    "predictions.csv",
    "features",
    "models",
)


def load_average() -> str:
    return "load average " + ", ".join(f"{value:.2f}" for value in os.getloadavg())


def copy_run(source: Path, target: Path) -> Path:
    """The inputs of chapter 6 from the run ``source``, copied to ``target``."""
    target.mkdir(parents=True)
    for name in INPUTS:
        path = source / name
        if path.is_dir():
            shutil.copytree(path, target / name)
        elif path.exists():
            shutil.copy2(path, target / name)
    return target


def redirect_caches(folder: Path) -> None:
    """Point chapter 6's caches (module attributes ``CACHE_DIR``) into ``folder``."""
    import importlib

    for module in ("splkit.explain.shapley", "splkit.deep.gradcam", "splkit.deep.gradcam_batch"):
        try:
            loaded = importlib.import_module(module)
        except ImportError:
            continue
        if hasattr(loaded, "CACHE_DIR"):
            loaded.CACHE_DIR = folder / Path(loaded.CACHE_DIR).name


def code_cells(profile: str, run_dir: Path) -> list[str]:
    """The notebook's code cells, the parameters cell replaced by ``profile`` and ``run_dir``."""
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    sources = []
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        if "parameters" in cell.get("metadata", {}).get("tags", []) or source.startswith("profile ="):
            source = f"profile = {profile!r}\nrun_dir = {str(run_dir)!r}"
        sources.append(source)
    return sources


def run_chapter(profile: str, run_dir: Path) -> float:
    """Seconds to run the notebook's code cells once."""
    import IPython.display as display
    import matplotlib.pyplot as plt

    def show_inline() -> None:  # what the inline backend does: a PNG per open figure
        for number in plt.get_fignums():
            plt.figure(number).savefig(io.BytesIO(), format="png", bbox_inches="tight")
        plt.close("all")

    plt.show = show_inline
    display.display = lambda *objects, **kwargs: None  # the notebook shows; here nothing is shown
    namespace: dict = {}
    start = time.perf_counter()
    cwd = os.getcwd()
    os.chdir(NOTEBOOK.parent)  # papermill runs the notebooks from notebooks/
    try:
        for source in code_cells(profile, run_dir):
            exec(compile(source, "<chapter 6>", "exec"), namespace)
            show_inline()
    finally:
        os.chdir(cwd)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--profile", default="default")
    parser.add_argument("--run", default=None, help="the finished run (default: runs/<profile>)")
    parser.add_argument("--warm", type=int, default=1, help="warm passes after the cold one")
    parser.add_argument(
        "--cprofile", default=None, help="cProfile stats of the cold pass here (the warm pass: .warm)"
    )
    args = parser.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    source = (ROOT / (args.run or f"runs/{args.profile}")).resolve()
    with tempfile.TemporaryDirectory(prefix="splkit-ch6-") as tmp:
        run_dir = copy_run(source, Path(tmp) / "run")
        redirect_caches(Path(tmp) / "cache")
        print(f"chapter 6 on a copy of {source} ({os.cpu_count()} CPUs); {load_average()}")
        cold = timed(run_chapter, args.profile, run_dir, args.cprofile)
        print(f"cold: {cold:7.1f} s; {load_average()}")
        for _ in range(args.warm):
            warm = timed(run_chapter, args.profile, run_dir, args.cprofile and f"{args.cprofile}.warm")
            print(f"warm: {warm:7.1f} s; {load_average()}")


def timed(run, profile: str, run_dir: Path, stats: str | None) -> float:
    """``run(profile, run_dir)``, under cProfile (stats written to ``stats``) when ``stats`` is given."""
    if not stats:
        return run(profile, run_dir)
    import cProfile

    profiler = cProfile.Profile()
    seconds = profiler.runcall(run, profile, run_dir)
    profiler.dump_stats(stats)
    return seconds


if __name__ == "__main__":
    main()
