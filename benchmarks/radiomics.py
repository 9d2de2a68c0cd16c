"""Benchmark: radiomics extraction, splkit (parallel, true 2-D, numpy bin edges) vs plain pyradiomics.

Usage: ``PYTHONPATH=. python benchmarks/radiomics.py [--n 60] [--jobs 2] [--plain 10] [--slice3d 2] [--data DIR]``

On the same simulated images (the default or smoke profile's cohort if it exists, else a fresh simulated cohort of
``--n`` patients in a temporary folder) it measures, in one run:

- **splkit**: :func:`splkit.radiomics.extract_cohort` with ``--jobs`` processes and no cache, reading the
  files included (process start-up included);
- **plain**: pyradiomics' ``RadiomicsFeatureExtractor`` with the same preset, single process, unpatched, on
  the same 2-D float32 images already in memory (``--plain`` images);
- **one-slice** (``--slice3d`` images, 0 to skip): the common usage, the image as a one-slice 3-D volume with
  the 3-D shape class, for context;

and checks that splkit's values equal plain pyradiomics' on the images both extracted.  Prints images per
second and the ratio.  The machine's load average is printed: on a shared machine the timings are
pessimistic.
"""

from __future__ import annotations

import sys
from pathlib import Path

# this file is named like the pyradiomics package: keep its folder off the import path
# ruff: noqa: E402
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import logging
import os
import resource
import tempfile
import time
import warnings

import numpy as np
import SimpleITK as sitk

from splkit.cohort import load_cohort
from splkit.config import load_profile
from splkit.radiomics import extract_cohort, feature_columns, load_preset
from splkit.radiomics.workflow import image_tasks


def _cpu_seconds() -> float:
    """User + system CPU time of this process and its finished children (the pool's workers)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _cohort(n: int, tmp: Path, data: str | None):
    settings = load_profile("default")
    for path in (Path(data) if data else None, settings.data_path, load_profile("smoke").data_path):
        if path is not None and path.exists():
            return load_cohort(path, progress=False), f"{path} (first {n})"
    from splkit.simulate import simulate_cohort

    path = simulate_cohort(n=n, seed=0, out=tmp / "cohort", progress=False)
    return load_cohort(path), f"fresh simulated cohort of {n} in {path}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=60, help="images for the splkit measurement")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--plain", type=int, default=10, help="images for plain pyradiomics")
    parser.add_argument("--slice3d", type=int, default=2, help="images for the one-slice 3-D usage (0: skip)")
    parser.add_argument("--preset", default="ultrasound2d")
    parser.add_argument(
        "--data", default=None, help="cohort folder (default: the default or smoke profile's)"
    )
    args = parser.parse_args()

    import radiomics
    from radiomics.featureextractor import RadiomicsFeatureExtractor

    radiomics.setVerbosity(logging.ERROR)
    warnings.filterwarnings("ignore", message="Applying `local_binary_pattern`")
    preset = load_preset(args.preset)
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        cohort, source = _cohort(args.n, Path(tmp), args.data)
        tasks = image_tasks(cohort)[: args.n]
        size = cohort.read_image(tasks[0].patient).GetSize()
        print(
            f"images: {source}; first image {size[0]} x {size[1]} px; preset {preset.name} ({preset.total} features)"
        )

        cpu0 = _cpu_seconds()
        start = time.perf_counter()
        ours = extract_cohort(tasks, preset, cache_dir=None, n_jobs=args.jobs, progress=False)
        ours_s = time.perf_counter() - start
        ours_cpu = (_cpu_seconds() - cpu0) / len(tasks)
        ours_rate = len(tasks) / ours_s

        plain = RadiomicsFeatureExtractor(preset.pyradiomics_params())
        subset = tasks[: args.plain]
        images = [
            (sitk.Cast(cohort.read_image(t.patient), sitk.sitkFloat32), cohort.read_mask(t.patient))
            for t in subset
        ]
        cpu0 = _cpu_seconds()
        start = time.perf_counter()
        plain_rows = [plain.execute(im, ma) for im, ma in images]
        plain_rate = len(subset) / (time.perf_counter() - start)
        plain_cpu = (_cpu_seconds() - cpu0) / len(subset)

        names = feature_columns(ours.features.columns)
        same = all(
            np.array_equal(
                ours.features.loc[t.patient, names].to_numpy(float), [float(row[k]) for k in names]
            )
            for t, row in zip(subset, plain_rows, strict=True)
        )

        print(
            f"splkit ({args.jobs} processes, {len(tasks)} images, incl. reading and start-up): "
            f"{ours_rate:.2f} images/s ({ours_s:.1f} s)"
        )
        print(f"plain pyradiomics (1 process, {len(subset)} images in memory): {plain_rate:.2f} images/s")
        print(f"ratio splkit / plain: {ours_rate / plain_rate:.2f}x; values identical: {same}")
        print(
            f"CPU seconds per image: splkit {ours_cpu:.3f} (all processes), plain {plain_cpu:.3f}; on "
            f"{args.jobs} otherwise idle cores splkit would reach about {args.jobs / ours_cpu:.1f} images/s"
        )
        if args.slice3d:
            params = preset.pyradiomics_params()
            classes = params["featureClass"]
            classes.pop("shape2D", None)
            classes["shape"] = None
            params["imageType"].pop("LBP2D", None)
            one_slice = RadiomicsFeatureExtractor(params)
            start = time.perf_counter()
            for im, ma in images[: args.slice3d]:
                one_slice.execute(sitk.JoinSeries(im), sitk.JoinSeries(ma))
            rate = args.slice3d / (time.perf_counter() - start)
            print(
                f"one-slice 3-D volume with 3-D shape (common usage, 1 process, {args.slice3d} images): "
                f"{rate:.2f} images/s"
            )
    print(f"load average at end: {os.getloadavg()[0]:.2f} (other work on the machine slows every number)")


if __name__ == "__main__":
    main()
