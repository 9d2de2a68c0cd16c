"""Equality check: splkit's fast radiomics engine against plain pyradiomics on every image of a cohort.

Usage: ``PYTHONPATH=. python benchmarks/radiomics_equality.py [--data DIR] [--preset ultrasound2d] [--jobs 1]
[--limit N]``

For every image of the cohort (default: the default profile's, ``data/simulated``: 609 reader-1 masks and
the reader-2 masks) it extracts the preset with plain, unpatched pyradiomics (``RadiomicsFeatureExtractor``
on splkit's 2-D ``float32`` image and ``uint8`` mask) and with :class:`splkit.radiomics.fast.FastExtractor`,
checks that the feature names come back in the same order, and prints per feature class (and per image
type) the largest relative difference ``|fast - pyradiomics| / max(|fast|, |pyradiomics|)`` (0 where equal,
NaN matching NaN), the share of values equal bit for bit, and the worst feature.  Exit status 1 when a
name differs or a relative difference exceeds 1e-10.
"""

from __future__ import annotations

import sys
from pathlib import Path

# this folder holds radiomics.py, named like the pyradiomics package: keep it off the import path
# ruff: noqa: E402
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import logging
import multiprocessing
import os
import time
import warnings
from collections import defaultdict

import numpy as np

from splkit.radiomics.workflow import image_tasks

TOLERANCE = 1e-10
_STATE: dict = {}


def _init(preset_name: str) -> None:
    import radiomics
    from radiomics.featureextractor import RadiomicsFeatureExtractor

    from splkit.radiomics.fast import FastExtractor
    from splkit.radiomics.presets import load_preset

    radiomics.setVerbosity(logging.ERROR)
    warnings.filterwarnings("ignore")
    preset = load_preset(preset_name)
    _STATE.update(
        preset=preset,
        plain=RadiomicsFeatureExtractor(preset.pyradiomics_params()),
        fast=FastExtractor(preset.pyradiomics_params(), preset.input),
    )


def _compare(task) -> tuple[str, list[str], np.ndarray, np.ndarray] | tuple[str, str]:
    """One image: feature names and both engines' values (or the error both raised)."""
    from splkit.cohort import imaging
    from splkit.radiomics.extract import prepare_inputs

    image = imaging.read_image(task.image, spacing_mm=task.spacing)
    mask = imaging.read_mask(task.mask, spacing_mm=task.spacing)
    image, mask = prepare_inputs(image, mask, _STATE["preset"])
    try:
        expected = _STATE["plain"].execute(image, mask)
    except ValueError as err:  # an ROI pyradiomics refuses: the fast engine must refuse it too
        try:
            _STATE["fast"].execute(image, mask)
        except ValueError:
            return task.patient, f"both refused: {err}"
        return task.patient, f"MISMATCH: only pyradiomics refused: {err}"
    got = _STATE["fast"].execute(image, mask)
    names = [k for k in expected if not k.startswith("diagnostics_")]
    if list(got) != names:
        return task.patient, "MISMATCH: feature names or order differ"
    return (
        task.patient,
        names,
        np.array([float(expected[k]) for k in names]),
        np.array([got[k] for k in names]),
    )


def relative_difference(want: np.ndarray, have: np.ndarray) -> np.ndarray:
    """``|have - want| / max(|have|, |want|)``; 0 where equal (NaN matching NaN), inf for a lone NaN."""
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.abs(have - want) / np.maximum(np.abs(have), np.abs(want))
    same = (have == want) | (np.isnan(have) & np.isnan(want))
    rel[same] = 0.0
    rel[~same & (np.isnan(have) | np.isnan(want))] = np.inf
    return rel


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", default=None, help="cohort folder (default: the default profile's data.path)"
    )
    parser.add_argument("--preset", default="ultrasound2d")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--limit", type=int, default=None, help="first N images only")
    args = parser.parse_args()

    from splkit.cohort import load_cohort
    from splkit.config import load_profile

    path = Path(args.data) if args.data else load_profile("default").data_path
    cohort = load_cohort(path, progress=False)
    tasks = image_tasks(cohort, reader=1) + image_tasks(cohort, reader=2)
    readers = f"{len(cohort.masks)} reader-1 and {len(cohort.masks_reader2)} reader-2 masks"
    tasks = tasks[: args.limit] if args.limit else tasks
    print(f"cohort {path}: {readers}; checking {len(tasks)} extractions of preset {args.preset}")
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    start = time.perf_counter()
    if args.jobs > 1:
        with multiprocessing.get_context("spawn").Pool(args.jobs, _init, (args.preset,)) as pool:
            results = pool.map(_compare, tasks, chunksize=4)
    else:
        _init(args.preset)
        results = [_compare(t) for t in tasks]

    worst: dict[str, tuple[float, str]] = defaultdict(lambda: (0.0, ""))
    exact: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_type: dict[str, float] = defaultdict(float)
    problems = [r for r in results if len(r) == 2 and r[1].startswith("MISMATCH")]
    refused = [r for r in results if len(r) == 2 and not r[1].startswith("MISMATCH")]
    for result in results:
        if len(result) == 2:
            continue
        patient, names, want, have = result
        rel = relative_difference(want, have)
        for name, r in zip(names, rel, strict=True):
            image_type, feature_class, _ = name.split("_", 2)
            worst[feature_class] = max(worst[feature_class], (float(r), f"{name} ({patient})"))
            exact[feature_class][0] += int(r == 0)
            exact[feature_class][1] += 1
            by_type[image_type] = max(by_type[image_type], float(r))
    print(f"compared in {time.perf_counter() - start:.0f} s; {len(refused)} images refused by both engines")
    print(f"{'feature class':<12} {'max rel. difference':>20} {'bit-equal':>14}  worst feature")
    for feature_class, (rel, where) in worst.items():
        equal, total = exact[feature_class]
        print(f"{feature_class:<12} {rel:>20.3g} {equal:>7}/{total:<6}  {where if rel else '-'}")
    print("max relative difference per image type: " + ", ".join(f"{t} {r:.3g}" for t, r in by_type.items()))
    overall = max((rel for rel, _ in worst.values()), default=0.0)
    print(f"overall max relative difference: {overall:.3g} (tolerance {TOLERANCE:g})")
    for patient, message in problems:
        print(f"{patient}: {message}")
    return int(bool(problems) or overall > TOLERANCE)


if __name__ == "__main__":
    sys.exit(main())
