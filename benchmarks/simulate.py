"""Benchmark: generate the default simulated cohort and print patients per second.

Usage: ``PYTHONPATH=. python benchmarks/simulate.py [--n 609] [--jobs 2]``.  Timings depend on the
machine's load; on a shared machine they are pessimistic.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

from splkit.simulate import simulate_cohort


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=609)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        out = simulate_cohort(
            n=args.n, seed=args.seed, out=Path(tmp) / "cohort", n_jobs=args.jobs, progress=False
        )
        seconds = time.perf_counter() - start
        table = pd.read_csv(out / "clinical.csv")
    share = (table["label"] == "malignant").mean()
    print(
        f"{args.n} patients in {seconds:.1f} s: {args.n / seconds:.1f} patients/s (malignant share {share:.3f})"
    )


if __name__ == "__main__":
    main()
