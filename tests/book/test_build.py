"""Where ``splkit book`` writes the site: one folder per run, so no profile overwrites another's book."""

import subprocess
from pathlib import Path

import pytest

from splkit.book import build
from splkit.config import CONFIG_DIR, PROJECT_ROOT, load_profile


def test_default_run_goes_to_book_build():
    default_run = load_profile("default").run_path
    assert build.site_output("default", default_run) == build.BOOK_SOURCES
    assert build.site_output(CONFIG_DIR / "default.yaml", default_run) == build.BOOK_SOURCES
    assert build.BOOK_SOURCES == PROJECT_ROOT / "book"


def test_other_profile_goes_to_its_run_dir():
    smoke_run = load_profile("smoke").run_path
    assert build.site_output("smoke", smoke_run) == smoke_run / "book"
    assert build.site_output("smoke", smoke_run) != build.BOOK_SOURCES


def test_default_profile_with_another_run_dir_keeps_its_own_site(tmp_path):
    assert build.site_output("default", tmp_path / "run") == tmp_path / "run" / "book"


def test_output_overrides(tmp_path):
    for profile, run in (("default", load_profile("default").run_path), ("smoke", tmp_path)):
        assert build.site_output(profile, run, tmp_path / "site") == tmp_path / "site"
        assert build.site_output(profile, run, str(tmp_path / "site")) == tmp_path / "site"


@pytest.fixture
def fake_jupyter_book(monkeypatch, tmp_path):
    """``build_book`` without staging or Jupyter Book: the 'build' writes an index.html where it is told."""
    calls = []

    def run(command, check=False):
        output = Path(command[command.index("--path-output") + 1])
        html = output / "_build" / "html"
        html.mkdir(parents=True)
        (html / "index.html").write_text(str(command))
        calls.append(output)
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(build, "stage_book", lambda run_path: tmp_path / "stage")
    monkeypatch.setattr(build, "check_site", lambda html: None)
    monkeypatch.setattr(build.subprocess, "run", run)
    return calls


def test_two_runs_build_two_sites(fake_jupyter_book, tmp_path):
    first = build.build_book("smoke", run_dir=tmp_path / "a")
    second = build.build_book("smoke", run_dir=tmp_path / "b")
    assert first == tmp_path / "a" / "book" / "_build" / "html" / "index.html"
    assert second == tmp_path / "b" / "book" / "_build" / "html" / "index.html"
    assert first.exists() and second.exists()
    assert not any(p == build.BOOK_SOURCES for p in fake_jupyter_book)
