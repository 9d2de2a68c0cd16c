"""The ``splkit`` command: simulate, validate, run the notebooks, build the book, score new patients."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _cohort_problems(where: str, error, note: str = "") -> int:
    """Print a :class:`splkit.cohort.CohortError` (every problem, then the warnings) to stderr; return 1.

    The terminal may name the user's patient ids and files: they need them to fix the folder.
    """
    from splkit.cohort.validation import format_problems

    n = len(error.problems)
    print(
        f"{where}: {n} problem{'s' * (n != 1)} with the data contract (data/README.md{note}):",
        file=sys.stderr,
    )
    print(error, file=sys.stderr)
    if error.warnings:
        print("warnings:\n" + "\n".join(format_problems(error.warnings)), file=sys.stderr)
    return 1


def _run(args: argparse.Namespace) -> int:
    from splkit.book.runner import RunFailed, run_notebooks
    from splkit.cohort import CohortError

    try:
        run_notebooks(args.profile, run_dir=args.run_dir, only=args.only, force=args.force)
    except RunFailed as failure:
        print(f"error: {failure}", file=sys.stderr)
        return 1
    except CohortError as error:  # found before any notebook ran
        return _cohort_problems("error: the cohort", error)
    return 0


def _book(args: argparse.Namespace) -> int:
    from splkit.book import build_book
    from splkit.book.build import IncompleteRun

    try:
        build_book(args.profile, run_dir=args.run_dir, output=args.output)
    except IncompleteRun as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from splkit.simulate import simulate_cohort

    simulate_cohort(n=args.n, seed=args.seed, out=args.out, dicom=args.dicom)
    print(f"simulated cohort of {args.n} patients (seed {args.seed}) in {args.out}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from splkit.cohort import CohortError, timed_validation

    try:
        cohort, seconds = timed_validation(
            args.path,
            positive_label=args.positive_label,
            default_spacing_mm=args.spacing_mm,
            full=args.full,
            preset=args.preset,
        )
    except CohortError as error:
        return _cohort_problems(str(args.path), error)
    print(cohort.summary())
    print(cohort.validation_report())
    print(f"{args.path}: valid ({seconds:.1f} s)")
    return 0


def _predict(args: argparse.Namespace) -> int:
    import os

    from splkit.cohort import CohortError
    from splkit.radiomics.extract import ExtractionError
    from splkit.study.predict import ReportUnavailable, predict_cohort

    try:
        scores, _ = predict_cohort(
            args.study,
            args.cohort,
            args.out,
            key=args.key,
            report=args.report,
            n_jobs=args.n_jobs,
            log=sys.stderr,
        )
    except CohortError as error:
        return _cohort_problems(str(args.cohort), error, note="; label optional")
    except (ValueError, FileNotFoundError, ExtractionError, ReportUnavailable) as error:
        if os.environ.get("SPLKIT_DEBUG"):
            raise
        print(f"error: {error}", file=sys.stderr)
        return 1
    flagged = int(scores["ood"].sum())
    print(f"{len(scores)} patients scored into {args.out}; {flagged} flagged out of distribution (ood)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="splkit", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="execute the numbered notebooks with papermill into the run directory")
    run.add_argument("--profile", default="default", help="profile name in config/ or a YAML path")
    run.add_argument("--run-dir", default=None, help="override the profile's run directory")
    run.add_argument("--only", nargs="*", help="run only notebooks whose name starts with these prefixes")
    run.add_argument(
        "--force",
        action="store_true",
        help="execute every notebook, also those up to date since the last run",
    )
    run.set_defaults(func=_run)

    book = sub.add_parser("book", help="build the Jupyter Book from a run's executed notebooks")
    book.add_argument("--profile", default="default")
    book.add_argument("--run-dir", default=None)
    book.add_argument(
        "--output",
        default=None,
        help="folder that receives _build/html (default: book/ for the default run, <run_dir>/book/ otherwise)",
    )
    book.set_defaults(func=_book)

    simulate = sub.add_parser("simulate", help="generate the simulated SPL cohort")
    simulate.add_argument("--n", type=int, default=609)
    simulate.add_argument("--seed", type=int, default=0)
    simulate.add_argument("--out", default="data/simulated")
    simulate.add_argument("--dicom", action="store_true", help="write ultrasound DICOM instead of PNG")
    simulate.set_defaults(func=_simulate)

    validate = sub.add_parser("validate", help="check a cohort folder against the data contract")
    validate.add_argument("path")
    validate.add_argument("--positive-label", default="malignant", help="malignant (default) or benign")
    validate.add_argument(
        "--spacing-mm",
        type=float,
        default=None,
        help="pixel spacing for images without spacing_mm or a header",
    )
    validate.add_argument("--full", action="store_true", help="decode every image too (slower)")
    validate.add_argument(
        "--preset",
        default="ultrasound2d",
        help="radiomics preset whose constraints (minimum lesion size, LoG) the lesions must meet",
    )
    validate.set_defaults(func=_validate)

    predict = sub.add_parser(
        "predict",
        help="score new patients with a saved study (data contract; label optional)",
        description="Validate a cohort folder, score it with a saved study's fitted stages and write "
        "one row per patient (pseudonyms): each model's probability and class at its training "
        "threshold, and out-of-distribution flags.",
    )
    predict.add_argument("--study", required=True, help="a saved study folder, e.g. runs/default/study")
    predict.add_argument("--cohort", required=True, help="the cohort folder of the patients to score")
    predict.add_argument("--out", required=True, help="the scores CSV to write")
    predict.add_argument(
        "--key", default=None, help="also write the pseudonym key (pseudonym, patient_id) to this CSV"
    )
    predict.add_argument("--report", default=None, help="write per-patient reports into this folder")
    predict.add_argument("--n-jobs", type=int, default=None, help="worker processes (default: the study's)")
    predict.set_defaults(func=_predict)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from splkit.config import ProfileError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ProfileError, FileNotFoundError) as error:  # a user's mistake: the message, not a traceback
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
