"""Time `splkit run` notebook by notebook and the book build, against the naive extraction time.

    python benchmarks/book.py --profile default            # warm caches (whatever .cache/ holds)
    python benchmarks/book.py --profile default --cold     # clear .cache/ and the simulated cohort first
    python benchmarks/book.py --cold --warm                # a cold run, then a warm rerun (same run directory)

Prints seconds per step, the peak resident memory of the run (this process and its children: papermill
kernels, radiomics workers), and the ratios of issue 19: the whole book over the **naive extraction time**
— the common pyradiomics usage (the image as a one-slice 3-D volume with the 3-D shape class, the
preset's other settings, one process), measured here on ``--naive`` of the run's images (sampled over lesion
size: :func:`naive_seconds_per_image`) and scaled to all the images the book extracts (reader 1 and reader 2).  Goals: cold <= 0.15, warm <= 0.04, memory < 4 GiB.
The load average is printed at start and end: on a shared machine every number is pessimistic.
"""

from __future__ import annotations

import sys
from pathlib import Path

# benchmarks/radiomics.py is named like the pyradiomics package: keep this folder off the import path
# ruff: noqa: E402
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import logging
import os
import resource
import shutil
import tempfile
import time
import warnings

from splkit.book import build_book
from splkit.book.runner import run_notebooks
from splkit.config import PROJECT_ROOT, load_profile


def naive_seconds_per_image(settings, n_images: int) -> tuple[float, float, int]:
    """Seconds per image of the one-slice 3-D pyradiomics usage (one process), its standard error, and the
    number of images the book extracts (reader 1 + reader 2).

    The cost per image is heavy-tailed (on the default cohort: median 0.64 s, 90th percentile 4.0 s, maximum
    30 s; the 3-D shape class grows steeply with the lesion's size), so the first few images of a cohort are
    no sample: ``n_images`` are drawn systematically over the ROIs sorted by size (every k-th), after one
    untimed extraction (imports, first-call set-up).
    """
    import radiomics
    import SimpleITK as sitk
    from radiomics.featureextractor import RadiomicsFeatureExtractor

    from splkit.cohort import load_cohort
    from splkit.radiomics import load_preset
    from splkit.radiomics.workflow import image_tasks

    radiomics.setVerbosity(logging.ERROR)
    warnings.filterwarnings("ignore", message="Applying `local_binary_pattern`")
    cohort = load_cohort(settings.data_path, progress=False)
    params = load_preset(settings.radiomics.preset).pyradiomics_params()
    classes = params["featureClass"]
    classes.pop("shape2D", None)
    classes["shape"] = None
    params["imageType"].pop("LBP2D", None)
    extractor = RadiomicsFeatureExtractor(params)
    tasks = image_tasks(cohort)
    sizes = [int(sitk.GetArrayViewFromImage(cohort.read_mask(t.patient)).astype(bool).sum()) for t in tasks]
    by_size = sorted(range(len(tasks)), key=sizes.__getitem__)
    step = len(by_size) / n_images
    sample = [tasks[by_size[int((i + 0.5) * step)]] for i in range(n_images)]

    def volume(task):
        image = sitk.JoinSeries(sitk.Cast(cohort.read_image(task.patient), sitk.sitkFloat32))
        return image, sitk.JoinSeries(cohort.read_mask(task.patient))

    extractor.execute(*volume(tasks[0]))  # warm-up, not timed
    seconds = []
    for task in sample:
        image, mask = volume(task)
        start = time.perf_counter()
        extractor.execute(image, mask)
        seconds.append(time.perf_counter() - start)
    mean = sum(seconds) / len(seconds)
    se = (sum((s - mean) ** 2 for s in seconds) / (len(seconds) - 1) / len(seconds)) ** 0.5
    return mean, se, len(cohort.table) + len(cohort.masks_reader2)


def run_once(profile: str, run_dir: str) -> tuple[list[tuple[str, float]], float]:
    """Run every notebook and build the book in ``run_dir``: steps and total seconds."""
    rows: list[tuple[str, float]] = []
    start = time.perf_counter()
    rows += run_notebooks(profile, run_dir=run_dir)
    book_start = time.perf_counter()
    build_book(profile, run_dir=run_dir, output=Path(run_dir).with_name(Path(run_dir).name + "-site"))
    rows.append(("book build", time.perf_counter() - book_start))
    return rows, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--profile", default="default")
    parser.add_argument("--cold", action="store_true", help="delete caches and the simulated cohort first")
    parser.add_argument("--warm", action="store_true", help="also time a rerun in the same run directory")
    parser.add_argument(
        "--naive", type=int, default=40, help="images timed for the naive extraction (0: skip)"
    )
    args = parser.parse_args()

    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    settings = load_profile(args.profile)
    if args.cold:
        shutil.rmtree(PROJECT_ROOT / ".cache", ignore_errors=True)
        if settings.data.simulate:
            shutil.rmtree(settings.data_path, ignore_errors=True)
    with tempfile.TemporaryDirectory() as folder:
        run_dir = str(Path(folder) / "run")  # the site goes next to it, as `make book` puts it outside
        first = "cold" if args.cold else "warm caches, new run directory"
        runs = [(first, *run_once(args.profile, run_dir))]
        if args.warm:  # `make book` again: the same run directory, nothing changed
            runs.append(("warm", *run_once(args.profile, run_dir)))
    peak_kib = max(
        resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    naive = None
    if args.naive:
        per_image, se, n_images = naive_seconds_per_image(settings, args.naive)
        naive = per_image * n_images
        print(
            f"\nnaive extraction: {per_image:.2f} s per image (SE {se:.2f}; one-slice 3-D volume with 3-D shape, "
            f"one process, {args.naive} images sampled over lesion size) x {n_images} images = {naive:.0f} s"
        )
    for kind, rows, total in runs:
        print(f"\nprofile {args.profile} ({kind} caches)")
        print(f"{'step':<32}{'seconds':>10}")
        for name, seconds in rows:
            print(f"{name:<32}{seconds:>10.1f}")
        print(f"{'total (incl. simulation)':<32}{total:>10.1f}")
        if naive:
            goal = {"cold": " (goal <= 0.15)", "warm": " (goal <= 0.04)"}.get(kind, "")
            print(f"{kind} book / naive extraction: {total / naive:.3f}{goal}")
    print(f"peak resident memory of one process: {peak_kib / 1024**2:.2f} GiB")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
