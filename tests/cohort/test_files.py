"""Tests of splkit.cohort.files: matching files to ids (NFC), sub-folders, hidden paths."""

from __future__ import annotations

import unicodedata

from splkit.cohort.files import FilePaths, discover_files, match_files


def test_discover_normalises_names_and_reports_sub_folders(tmp_path):
    folder = tmp_path / "images"
    (folder / "old").mkdir(parents=True)
    (folder / ".cache").mkdir()
    (folder / "old" / "a.png").write_bytes(b"x")
    (folder / ".DS_Store").write_bytes(b"x")
    (folder / unicodedata.normalize("NFD", "Zoë.png")).write_bytes(b"x")
    (folder / "notes.txt").write_text("x")
    files = discover_files(folder, "image")
    assert list(files.found) == [unicodedata.normalize("NFC", "Zoë")] and files.n_normalised == 1
    assert [p.file for p in files.warnings] == ["images/old/"]
    assert [p.file for p in files.problems] == ["images/notes.txt"]


def test_match_files_and_file_paths_repr(tmp_path):
    found = {
        "A": [tmp_path / "A.png"],
        "B": [tmp_path / "B.png", tmp_path / "B.jpg"],
        "C": [tmp_path / "C.png"],
    }
    matched, problems = match_files(["A", "B", "D"], found, "images", "image", True)
    assert list(matched) == ["A"]
    assert {(p.patient, p.message.split(" (")[0]) for p in problems} == {
        ("B", "several image files"),
        ("D", "image file is missing"),
        ("C", "image file has no row in clinical.csv"),
    }
    assert "A.png" not in repr(FilePaths(matched))
