"""Benchmark: radiomics extraction on the local pool and on a Dask LocalCluster of 1 and 2 workers.

Usage: ``PYTHONPATH=. python benchmarks/scaling.py [--n 40] [--jobs 2] [--data DIR]``

On the first ``--n`` images of the smoke profile's simulated cohort (or ``--data``), each engine
(:mod:`splkit.run.engine`) extracts the default preset with an empty temporary cache, one task per image:

- **local**: the spawn-started pool of ``--jobs`` processes (``compute.engine: local``, the default);
- **dask-1**, **dask-2**: a ``LocalCluster`` of 1 and 2 worker processes, one thread each
  (``compute.engine: dask``).  The cluster's start-up is timed apart; its workers start cold (they import
  pyradiomics on their first task, as in a real run).

It prints images per second, the cluster start-up, and the dispatch overhead per task (the time per
task of a trivial function over many tasks), checks that every engine's features equal the local
pool's, and prints the load average (on a shared machine the timings are pessimistic).
"""

from __future__ import annotations

import sys
from pathlib import Path

# keep this folder off the import path (benchmarks/radiomics.py is named like the pyradiomics package)
# ruff: noqa: E402
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import logging
import os
import tempfile
import time

from splkit.cohort import load_cohort
from splkit.config import load_profile
from splkit.radiomics import extract_cohort, load_preset
from splkit.radiomics.workflow import image_tasks
from splkit.run.engine import Engine


def _overhead(engine: Engine, n: int = 400) -> float:
    """Seconds per task of a trivial task (``pow``): the engine's dispatch cost (pool start included)."""
    start = time.perf_counter()
    for _ in engine.map(pow, list(range(n)), 1):
        pass
    return (time.perf_counter() - start) / n


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40, help="images")
    parser.add_argument("--jobs", type=int, default=2, help="processes of the local pool")
    parser.add_argument("--data", default=None, help="a cohort folder (default: the smoke profile's)")
    args = parser.parse_args(argv)
    logging.getLogger("distributed").setLevel(logging.ERROR)
    path = Path(args.data) if args.data else load_profile("smoke").data_path
    tasks = image_tasks(load_cohort(path, progress=False))[: args.n]
    preset = load_preset("ultrasound2d")
    print(f"{len(tasks)} images of {path}, preset {preset.name}; {os.cpu_count()} CPUs")
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    rows, reference = [], None
    for name, engine in (
        (f"local ({args.jobs} processes)", Engine("local", workers=args.jobs)),
        ("dask LocalCluster, 1 worker", Engine("dask", workers=1)),
        ("dask LocalCluster, 2 workers", Engine("dask", workers=2)),
    ):
        with engine, tempfile.TemporaryDirectory() as cache:
            start = time.perf_counter()
            engine.start()
            startup = time.perf_counter() - start
            result = extract_cohort(tasks, preset, cache_dir=cache, engine=engine, progress=False)
            overhead = _overhead(engine)
        if reference is None:
            reference = result.features
        same = result.features.equals(reference)
        rows.append((name, result.images_per_second, result.seconds, startup, overhead * 1e3, same))
        print(
            f"{name:30s} {result.images_per_second:6.2f} images/s ({result.seconds:5.1f} s; cluster start "
            f"{startup:4.1f} s); overhead {overhead * 1e3:6.2f} ms/task; same features: {same}",
            flush=True,
        )
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    if not all(row[-1] for row in rows):
        raise SystemExit("an engine's features differ from the local pool's")


if __name__ == "__main__":
    main()
