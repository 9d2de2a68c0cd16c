"""Benchmark: radiomics CPU-seconds per image, splkit's fast engine vs plain pyradiomics, and throughput.

Usage: ``PYTHONPATH=. python benchmarks/radiomics.py [--n 20] [--jobs 2] [--cohort 60] [--slice3d 2] [--data DIR]``

On the same simulated images (the default or smoke profile's cohort if it exists, else a fresh simulated cohort
in a temporary folder), in one process and one run:

- **CPU-seconds per image** (user + system, all threads) on ``--n`` images already in memory, the engines
  taking turns image by image so that a change of load on the machine hits both alike:

  - *splkit fast*: :func:`splkit.radiomics.extract_image` with ``radiomics_engine="fast"`` (1 process,
    splkit's provenance columns included);
  - *plain pyradiomics*: ``RadiomicsFeatureExtractor.execute`` with the same preset on the same 2-D
    ``float32`` image, unpatched, with SimpleITK's default threads and with one thread (the lower is the
    reference of the ratio);
  - *splkit pyradiomics*: ``extract_image`` with ``radiomics_engine="pyradiomics"``;

  and checks that the fast engine's values equal plain pyradiomics' (bit for bit and to 1e-10);
- **throughput** (``--cohort`` images, 0 to skip): :func:`splkit.radiomics.extract_cohort` with ``--jobs``
  processes, no cache, files read, process start-up included, per engine;
- **one-slice 3-D usage** (``--slice3d`` images, 0 to skip): the image as a one-slice volume with the 3-D shape
  class, for context.

The load average is printed at start and end: other work on the machine slows every number, and the ratio
measured in one run is the figure to compare.
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
from splkit.radiomics import extract_cohort, extract_image, feature_columns, load_preset
from splkit.radiomics.workflow import image_tasks


def _cpu_seconds() -> float:
    """User + system CPU time of this process (all its threads) and its finished children (pool workers)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _cohort(n: int, tmp: Path, data: str | None):
    settings = load_profile("default")
    for path in (Path(data) if data else None, settings.data_path, load_profile("smoke").data_path):
        if path is not None and path.exists():
            return load_cohort(path, progress=False), str(path)
    from splkit.simulate import simulate_cohort

    path = simulate_cohort(n=n, seed=0, out=tmp / "cohort", progress=False)
    return load_cohort(path), f"fresh simulated cohort of {n} in {path}"


class _Clock:
    """CPU-seconds and images per engine, the engines timed in turns."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = {}
        self.count: dict[str, int] = {}

    def run(self, name: str, fn, *args):
        start = _cpu_seconds()
        out = fn(*args)
        self.cpu[name] = self.cpu.get(name, 0.0) + _cpu_seconds() - start
        self.count[name] = self.count.get(name, 0) + 1
        return out

    def per_image(self, name: str) -> float:
        return self.cpu[name] / self.count[name]


def cpu_per_image(images, preset) -> tuple[_Clock, bool, float]:
    """The engines in turns on every image; whether fast equals plain pyradiomics (exactly, max rel. diff)."""
    from radiomics.featureextractor import RadiomicsFeatureExtractor

    plain = RadiomicsFeatureExtractor(preset.pyradiomics_params())
    threads = sitk.ProcessObject_GetGlobalDefaultNumberOfThreads()
    clock, exact, worst = _Clock(), True, 0.0
    for image, mask in images:  # warm-up: numba's cached kernel, first-call imports
        extract_image(image, mask, preset, radiomics_engine="fast")
        plain.execute(image, mask)
        break
    for image, mask in images:
        fast = clock.run("splkit fast", extract_image, image, mask, preset, "fast")
        reference = clock.run(f"plain pyradiomics ({threads} SimpleITK threads)", plain.execute, image, mask)
        sitk.ProcessObject_SetGlobalDefaultNumberOfThreads(1)
        clock.run("plain pyradiomics (1 SimpleITK thread)", plain.execute, image, mask)
        sitk.ProcessObject_SetGlobalDefaultNumberOfThreads(threads)
        clock.run("splkit pyradiomics", extract_image, image, mask, preset, "pyradiomics")
        names = feature_columns(reference)
        want = np.array([float(reference[k]) for k in names])
        have = np.array([fast[k] for k in names])
        exact &= feature_columns(fast) == names and np.array_equal(have, want, equal_nan=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            rel = np.abs(have - want) / np.maximum(np.abs(have), np.abs(want))
        worst = max(worst, float(np.nanmax(np.where(have == want, 0.0, rel))))
    return clock, exact, worst


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=20, help="images for the CPU-seconds comparison")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--cohort", type=int, default=60, help="images for the throughput of extract_cohort")
    parser.add_argument("--slice3d", type=int, default=2, help="images for the one-slice 3-D usage (0: skip)")
    parser.add_argument("--preset", default="ultrasound2d")
    parser.add_argument(
        "--data", default=None, help="cohort folder (default: the default or smoke profile's)"
    )
    args = parser.parse_args()

    import radiomics

    radiomics.setVerbosity(logging.ERROR)
    warnings.filterwarnings("ignore", message="Applying `local_binary_pattern`")
    preset = load_preset(args.preset)
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        cohort, source = _cohort(max(args.n, args.cohort), Path(tmp), args.data)
        tasks = image_tasks(cohort)
        images = [
            (sitk.Cast(cohort.read_image(t.patient), sitk.sitkFloat32), cohort.read_mask(t.patient))
            for t in tasks[: args.n]
        ]
        size = images[0][0].GetSize()
        print(f"images: {source}; {size[0]} x {size[1]} px; preset {preset.name} ({preset.total} features)")

        clock, exact, worst = cpu_per_image(images, preset)
        print(f"CPU-seconds per image ({len(images)} images in memory, 1 process, engines in turns):")
        for name in clock.cpu:
            print(f"  {name:<42} {clock.per_image(name):.4f}")
        fast = clock.per_image("splkit fast")
        plain = min(v / clock.count[k] for k, v in clock.cpu.items() if k.startswith("plain"))
        print(f"ratio plain pyradiomics (lower of the two) / splkit fast: {plain / fast:.2f}x per CPU-second")
        print(
            f"fast engine equals plain pyradiomics: bit for bit {exact}; max relative difference {worst:.3g}"
        )

        for engine in ("fast", "pyradiomics") if args.cohort else ():
            subset = tasks[: args.cohort]
            cpu0, start = _cpu_seconds(), time.perf_counter()
            extract_cohort(subset, preset, n_jobs=args.jobs, progress=False, radiomics_engine=engine)
            seconds, cpu = time.perf_counter() - start, _cpu_seconds() - cpu0
            print(
                f"extract_cohort, {engine} engine, {args.jobs} processes, {len(subset)} images (files read, "
                f"start-up included): {len(subset) / seconds:.2f} images/s, {cpu / len(subset):.3f} CPU-s per image"
            )
        if args.slice3d:
            from radiomics.featureextractor import RadiomicsFeatureExtractor

            params = preset.pyradiomics_params()
            params["featureClass"].pop("shape2D", None)
            params["featureClass"]["shape"] = None
            params["imageType"].pop("LBP2D", None)
            one_slice = RadiomicsFeatureExtractor(params)
            cpu0 = _cpu_seconds()
            for image, mask in images[: args.slice3d]:
                one_slice.execute(sitk.JoinSeries(image), sitk.JoinSeries(mask))
            cpu = (_cpu_seconds() - cpu0) / args.slice3d
            print(
                f"one-slice 3-D volume with 3-D shape (common usage, plain pyradiomics): {cpu:.3f} CPU-s per image"
            )
    print(f"load average at end: {os.getloadavg()[0]:.2f} (other work on the machine slows every number)")


if __name__ == "__main__":
    main()
