"""What every shape test does: write a profile for a cohort folder, run the book, build it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from splkit.config import PROJECT_ROOT


def shape_profile(tmp_path: Path, name: str, cohort: Path, **sections: dict[str, Any]) -> Path:
    """A profile (``extends: smoke``) analysing ``cohort``; ``sections`` override profile sections."""
    profile = tmp_path / f"{name}.yaml"
    content = {"extends": "smoke", "name": name, "data": {"path": str(cohort), "simulate": False}} | sections
    profile.write_text(yaml.safe_dump(content))
    return profile


def run_and_build(profile: Path, tmp_path: Path) -> tuple[Path, Path]:
    """``splkit run`` then ``splkit book`` into ``tmp_path``; returns ``(run_dir, site)``; a failure
    shows the commands' output."""
    run_dir, site = tmp_path / "run", tmp_path / "site"
    start = time.perf_counter()
    for command in (
        ["run", "--profile", str(profile), "--run-dir", str(run_dir)],
        ["book", "--profile", str(profile), "--run-dir", str(run_dir), "--output", str(site)],
    ):
        completed = subprocess.run(
            [sys.executable, "-m", "splkit", *command], cwd=PROJECT_ROOT, text=True, capture_output=True
        )
        assert completed.returncode == 0, (
            f"splkit {command[0]} failed:\n{completed.stdout}\n{completed.stderr}"
        )
    print(f"{profile.stem}: run + book in {time.perf_counter() - start:.0f} s")
    return run_dir, site
