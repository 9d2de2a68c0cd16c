"""Time `splkit run` notebook by notebook, and the book build, for one profile.

    python benchmarks/book.py --profile default            # warm caches (whatever .cache/ holds)
    python benchmarks/book.py --profile default --cold     # clear .cache/ and the simulated cohort first

Prints a table of seconds per step and the peak resident memory of the whole run (this process and
its children: papermill kernels, radiomics workers). Budget (issue #2): cold < 6 min, warm < 90 s,
peak memory < 4 GiB on a 2-core machine.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

from splkit.book import build_book
from splkit.book.runner import run_notebooks
from splkit.config import PROJECT_ROOT, load_profile


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--profile", default="default")
    parser.add_argument("--cold", action="store_true", help="delete caches and the simulated cohort first")
    args = parser.parse_args()

    settings = load_profile(args.profile)
    if args.cold:
        shutil.rmtree(PROJECT_ROOT / ".cache", ignore_errors=True)
        if settings.data.simulate:
            shutil.rmtree(settings.data_path, ignore_errors=True)
    rows: list[tuple[str, float]] = []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as run_dir:
        rows += run_notebooks(args.profile, run_dir=run_dir)
        book_start = time.perf_counter()
        build_book(args.profile, run_dir=run_dir, output=Path(run_dir) / "site")
        rows.append(("book build", time.perf_counter() - book_start))
    total = time.perf_counter() - start
    peak_kib = max(
        resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )

    print(f"\nprofile {args.profile} ({'cold' if args.cold else 'warm'} caches)")
    print(f"{'step':<32}{'seconds':>10}")
    for name, seconds in rows:
        print(f"{name:<32}{seconds:>10.1f}")
    print(f"{'total (incl. simulation)':<32}{total:>10.1f}")
    print(f"peak resident memory of one process: {peak_kib / 1024**2:.2f} GiB")


if __name__ == "__main__":
    main()
