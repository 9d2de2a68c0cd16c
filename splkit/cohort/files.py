"""Match the files of ``images/``, ``masks/`` and ``masks_reader2/`` to the rows of ``clinical.csv``.

A file belongs to the patient whose ``patient_id`` equals the file name without its suffix.  Both
are compared in Unicode normal form NFC: macOS writes file names decomposed (NFD: ``é`` as ``e`` +
combining accent) while a spreadsheet writes the id composed, and the two must still match.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from splkit.cohort import imaging
from splkit.cohort.validation import Problem


class FilePaths(Mapping):
    """Read-only files by pseudonym whose repr hides the paths (they contain input ids)."""

    def __init__(self, paths: Mapping[str, Path]):
        self._paths = dict(sorted(paths.items()))

    def __getitem__(self, patient: str) -> Path:
        return self._paths[patient]

    def __iter__(self):
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)

    def __repr__(self) -> str:
        return f"<{len(self._paths)} files by pseudonym; paths not shown (they contain patient ids)>"


def nfc(text: str) -> str:
    """``text`` in Unicode normal form NFC (how ids and file names are compared)."""
    return unicodedata.normalize("NFC", text)


@dataclass
class FolderFiles:
    """The files of one folder by patient id (NFC), and what was found on the way.

    Attributes
    ----------
    found
        Files by id (file name stem, NFC).
    problems
        Unsupported file types (errors).
    warnings
        Sub-folders, which are not read.
    n_normalised
        File names whose stem changed under NFC (decomposed names, typically from macOS).
    """

    found: dict[str, list[Path]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    n_normalised: int = 0


def discover_files(folder: Path, kind: str) -> FolderFiles:
    """Files of ``folder`` by patient id (file name without suffix, NFC).

    Hidden files and folders (names starting with ``.``) are ignored; other sub-folders are reported
    as warnings (splkit reads only the files directly in the folder); unsupported files are problems.
    """
    result = FolderFiles()
    if not folder.is_dir():
        return result
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        if path.is_dir():
            n = sum(1 for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
            result.warnings.append(
                Problem(
                    None,
                    f"{folder.name}/{path.name}/",
                    f"sub-folder with {n} file{'s' * (n != 1)} is not read: splkit reads only the files "
                    f"directly in {folder.name}/; move the folder out of the cohort folder",
                )
            )
            continue
        stem, suffix = imaging.split_suffix(path.name)
        if suffix is None:
            result.problems.append(
                Problem(
                    None,
                    f"{folder.name}/{path.name}",
                    f"unsupported {kind} file type (supported: {', '.join(imaging.SUFFIXES)})",
                )
            )
            continue
        key = nfc(stem)
        result.n_normalised += key != stem
        result.found.setdefault(key, []).append(path)
    return result


def match_files(
    ids: list[str], found: dict[str, list[Path]], folder: str, kind: str, required: bool
) -> tuple[dict[str, Path], list[Problem]]:
    """One file per table id (ids and ``found`` keys in NFC); problems for missing, doubled and orphan files."""
    matched: dict[str, Path] = {}
    problems: list[Problem] = []
    by_lower: dict[str, list[str]] = {}
    for stem in found:
        by_lower.setdefault(stem.lower(), []).append(stem)
    table_ids = set(ids)
    for patient in ids:
        files = found.get(patient)
        if files is None:
            if required:
                near = [s for s in by_lower.get(patient.lower(), []) if s not in table_ids]
                hint = (
                    f"; found {folder}/{found[near[0]][0].name}: file names must match patient_id exactly"
                    if near
                    else ""
                )
                problems.append(
                    Problem(patient, f"{folder}/{patient}.<ext>", f"{kind} file is missing{hint}")
                )
            continue
        if len(files) > 1:
            names = ", ".join(f.name for f in files)
            problems.append(Problem(patient, f"{folder}/", f"several {kind} files ({names}); keep one"))
            continue
        matched[patient] = files[0]
    for stem, files in found.items():
        if stem not in table_ids:
            for path in files:
                problems.append(
                    Problem(stem, f"{folder}/{path.name}", f"{kind} file has no row in clinical.csv")
                )
    return matched, problems
