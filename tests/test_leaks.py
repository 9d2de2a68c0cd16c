"""No original patient id reaches anything under the run directory or the built book (issue 18).

The simulated cohorts carry distinctive ids (``SIM-2020-11234``); every byte a run and its site hold is
searched for them: in a run that succeeds (the smoke book) and in one that fails.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from splkit.config import PROJECT_ROOT

ID_PATTERN = re.compile(rb"SIM-\d{4}-\d{5}")


def leaks(folder: Path, ids: set[str]) -> list[tuple[str, str]]:
    """``(file, id)`` for every original id found in any file under ``folder`` (raw bytes)."""
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        found += [(str(path.relative_to(folder)), m.decode()) for m in set(ID_PATTERN.findall(data))]
        found += [(str(path.relative_to(folder)), i) for i in ids if i.encode() in data]
    return sorted(set(found))


def original_ids(cohort_folder: Path) -> set[str]:
    return set(pd.read_csv(cohort_folder / "clinical.csv", dtype=str)["patient_id"])


@pytest.mark.slow
def test_a_complete_run_and_its_book_hold_no_original_id(smoke_run):
    run_dir, html = smoke_run
    ids = original_ids(PROJECT_ROOT / "data" / "simulated-smoke")
    assert ids and all(ID_PATTERN.fullmatch(i.encode()) for i in ids)
    assert leaks(run_dir, ids) == []
    assert leaks(html, ids) == []


def test_a_failed_run_holds_no_original_id(tmp_path):
    """A cohort with a broken image stops at the door: the terminal names the patient and the file,
    the run directory holds nothing that does."""
    from splkit.simulate import simulate_cohort

    cohort = tmp_path / "cohort"
    simulate_cohort(n=12, seed=3, out=cohort)
    ids = original_ids(cohort)
    broken = sorted(ids)[0]
    (cohort / "images" / f"{broken}.png").write_bytes(b"")
    profile = tmp_path / "leaky.yaml"
    profile.write_text(f"extends: smoke\nname: leaky\ndata:\n  path: {cohort}\n  simulate: false\n")
    run_dir = tmp_path / "run"
    completed = subprocess.run(
        [sys.executable, "-m", "splkit", "run", "--profile", str(profile), "--run-dir", str(run_dir)],
        cwd=PROJECT_ROOT,
        text=True,
        capture_output=True,
    )
    assert completed.returncode == 1
    assert broken in completed.stderr and "0 bytes" in completed.stderr  # the user is told which and why
    assert "Traceback" not in completed.stderr
    assert leaks(run_dir, ids) == []
    book = subprocess.run(
        [sys.executable, "-m", "splkit", "book", "--profile", str(profile), "--run-dir", str(run_dir)],
        cwd=PROJECT_ROOT,
        text=True,
        capture_output=True,
    )
    assert book.returncode != 0 and "Traceback" not in book.stderr
    assert leaks(run_dir, ids) == []
