"""Whether an executed notebook in the run directory is still what running it again would give.

A rerun of ``splkit run`` whose inputs did not change should not execute the notebooks again (the way
``make`` skips up-to-date targets, or jupyter-cache skips unchanged notebooks when Jupyter Book builds).
Notebook ``i`` is up to date when its **key** equals the key recorded after the last complete run and
the run directory still holds exactly the files that run left (same sha256).  The key chains:

    key_i = sha256(key_{i-1}, notebook bytes, inputs digest)

where the inputs digest covers everything a notebook reads besides the run directory: the splkit
package's source and data files, the resolved settings (without the run directory's path), the cohort
folders' files (names relative to their folder, and contents), and the versions of the libraries that
compute.  Any change upstream therefore reruns that notebook and every later one.  The state is written
only after every notebook succeeded, and removed before any notebook executes, so a partial or failed run
never looks complete.  ``splkit run --force`` ignores it.  The state holds digests and run-directory file
names (pseudonymised), never a cohort file name.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from splkit.book.methods import LIBRARIES
from splkit.run.cache import file_sha256
from splkit.run.report import atomic_write_text

#: The state file, in the run directory's ``notebooks/`` folder.
STATE_FILE = ".freshness.json"
#: Suffixes of the splkit package files that enter the digest (code, presets, schema).
PACKAGE_SUFFIXES = (".py", ".yaml", ".yml", ".json")


def _folder_digest(digest: Any, folder: Path) -> None:
    """Feed every file of ``folder`` (relative name and content sha256, sorted) into ``digest``."""
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(f"{path.relative_to(folder).as_posix()}\0{file_sha256(path)}\n".encode())


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


def inputs_digest(settings: Mapping[str, Any], cohorts: Iterable[Path]) -> str:
    """sha256 of the package files, the settings without the run directory, the cohorts' files, versions."""
    import splkit

    digest = hashlib.sha256()
    package = Path(splkit.__file__).parent
    for path in sorted(p for p in package.rglob("*") if p.suffix in PACKAGE_SUFFIXES):
        if "__pycache__" not in path.parts:
            digest.update(f"{path.relative_to(package).as_posix()}\0{file_sha256(path)}\n".encode())
    shown = {k: v for k, v in settings.items() if k != "run_dir"}
    digest.update(json.dumps(shown, sort_keys=True, default=str).encode())
    for folder in cohorts:
        digest.update(b"cohort\n")
        if Path(folder).is_dir():
            _folder_digest(digest, Path(folder))
    # the libraries the methods page lists (a new version may compute other numbers)
    digest.update(json.dumps({name: _version(name) for name in LIBRARIES}).encode())
    return digest.hexdigest()


def notebook_keys(notebooks: Iterable[Path], digest: str) -> dict[str, str]:
    """The chained key of each notebook (in order), from :func:`inputs_digest`."""
    keys, previous = {}, digest
    for notebook in notebooks:
        previous = hashlib.sha256(f"{previous}\0{file_sha256(notebook)}".encode()).hexdigest()
        keys[notebook.name] = previous
    return keys


#: Top-level folders of the run directory that no notebook reads: the book build's staging and site
#: (``splkit book`` writes them after the notebooks; rebuilding the book must not make them stale).
BOOK_FOLDERS = ("book",)


def run_files(run_dir: Path) -> dict[str, str]:
    """sha256 of every file under the run directory (names relative to it), the state file and the book
    build's folders (:data:`BOOK_FOLDERS`) excluded."""
    return {
        path.relative_to(run_dir).as_posix(): file_sha256(path)
        for path in sorted(run_dir.rglob("*"))
        if path.is_file()
        and path.name != STATE_FILE
        and path.relative_to(run_dir).parts[0] not in BOOK_FOLDERS
    }


def up_to_date(run_dir: Path, keys: Mapping[str, str]) -> set[str]:
    """The notebooks that need not run: a leading run of notebooks whose keys match the recorded state,
    provided the run directory is exactly as the recorded run left it (else none)."""
    state_path = run_dir / "notebooks" / STATE_FILE
    if not state_path.is_file():
        return set()
    try:
        state = json.loads(state_path.read_text())
    except (OSError, ValueError):
        return set()
    if state.get("files") != run_files(run_dir):
        return set()
    fresh: set[str] = set()
    for name, key in keys.items():
        if state.get("keys", {}).get(name) != key:
            break
        fresh.add(name)
    return fresh


def forget(run_dir: Path) -> None:
    """Remove the state (before any notebook executes: a partial run must not look complete)."""
    (run_dir / "notebooks" / STATE_FILE).unlink(missing_ok=True)


def remember(run_dir: Path, keys: Mapping[str, str]) -> Path:
    """Record the keys and the run directory's files after a complete run."""
    path = run_dir / "notebooks" / STATE_FILE
    content = {"keys": dict(keys), "files": run_files(run_dir)}
    atomic_write_text(path, json.dumps(content, indent=1, sort_keys=True))
    return path
