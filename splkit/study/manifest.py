"""The manifest of a saved study: what produced it, with which libraries, and what its files hold.

``manifest.json`` is plain JSON so a person (or another program) can read what a study is without
unpickling anything: the splkit, Python and library versions, the radiomics preset and its sha256, the
backbone and its weights file and sha256, the resolved settings, the training cohort's data hash, the
models and their training-fixed thresholds, the creation time and the sha256 of every file of the
folder.  :func:`check_versions` warns, naming each library, when the running versions differ from the
manifest's (a pickled scikit-learn or torch object may then behave differently).
"""

from __future__ import annotations

import importlib
import json
import platform
import warnings
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from splkit.run.cache import atomic_write_text, file_sha256

#: What ``manifest.json`` says it is, and the version of its layout.
FORMAT = "splkit-study"
FORMAT_VERSION = 1
MANIFEST_FILE = "manifest.json"

#: Libraries whose versions a study records: name in the manifest -> (module, version attribute).
LIBRARIES = {
    "numpy": ("numpy", "__version__"),
    "scipy": ("scipy", "__version__"),
    "pandas": ("pandas", "__version__"),
    "scikit-learn": ("sklearn", "__version__"),
    "statsmodels": ("statsmodels", "__version__"),
    "joblib": ("joblib", "__version__"),
    "pyradiomics": ("radiomics", "__version__"),
    "torch": ("torch", "__version__"),
    "torchvision": ("torchvision", "__version__"),
    "SimpleITK": ("SimpleITK", "__version__"),
}


class StudyFormatError(ValueError):
    """A folder that is not a saved study, or whose files changed after it was saved."""


class StudyVersionWarning(UserWarning):
    """The running library versions differ from those that saved the study."""


def library_versions() -> dict[str, str | None]:
    """splkit, Python and every library of :data:`LIBRARIES` (``None`` when not installed)."""
    import splkit

    versions: dict[str, str | None] = {"splkit": splkit.__version__, "python": platform.python_version()}
    for name, (module, attribute) in LIBRARIES.items():
        try:
            versions[name] = str(getattr(importlib.import_module(module), attribute))
        except ImportError:
            versions[name] = None
    return versions


def check_versions(recorded: Mapping[str, str | None], stacklevel: int = 3) -> list[str]:
    """Warn (:class:`StudyVersionWarning`, a ``UserWarning``) for each library whose version differs.

    Returns the names of the differing libraries.
    """
    running = library_versions()
    differing = []
    for name, version in recorded.items():
        here = running.get(name) if name in running else _version_of(name)
        if here != version:
            differing.append(name)
            warnings.warn(
                f"this study was saved with {name} {version or '(not installed)'}, but {name} "
                f"{here or '(not installed)'} is running here: fitted objects may behave differently; "
                f"install {name}=={version} to reproduce the study's scores exactly",
                StudyVersionWarning,
                stacklevel=stacklevel,
            )
    return differing


def _version_of(name: str) -> str | None:
    """The installed version of a distribution not in :data:`LIBRARIES` (a manifest from elsewhere)."""
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def write_manifest(folder: Path, manifest: Mapping[str, Any], files: list[str]) -> Path:
    """Write ``manifest.json`` (with the sha256 of each of ``files`` in ``folder``), atomically and last."""
    content = dict(manifest)
    content["files"] = file_hashes(folder, files)
    text = json.dumps(content, indent=2, sort_keys=False, default=_plain) + "\n"
    return atomic_write_text(folder / MANIFEST_FILE, text)


def file_hashes(folder: Path, files: list[str]) -> dict[str, str]:
    """The sha256 of each of ``files`` in ``folder``."""
    return {name: file_sha256(Path(folder) / name) for name in files}


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of a study folder, checked: the format, and each file's sha256.

    Raises
    ------
    StudyFormatError
        No manifest, another format, a missing file or a file whose content changed.
    """
    path = Path(folder) / MANIFEST_FILE
    if not path.is_file():
        raise StudyFormatError(f"{folder} is not a saved study: it has no {MANIFEST_FILE}")
    manifest = json.loads(path.read_text())
    if manifest.get("format") != FORMAT:
        raise StudyFormatError(f"{path} is not a splkit study manifest (format {manifest.get('format')!r})")
    if int(manifest.get("format_version", 0)) > FORMAT_VERSION:
        raise StudyFormatError(
            f"{path} has layout version {manifest['format_version']}; this splkit reads up to {FORMAT_VERSION}"
        )
    for name, digest in manifest.get("files", {}).items():
        file = Path(folder) / name
        if not file.is_file():
            raise StudyFormatError(f"study file {file} listed in {MANIFEST_FILE} is missing")
        if file_sha256(file) != digest:
            raise StudyFormatError(
                f"study file {file} changed after the study was saved (sha256 differs from {MANIFEST_FILE})"
            )
    return manifest


def _plain(value: Any) -> Any:
    """JSON for numpy scalars, paths and tuples inside settings."""
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"cannot write {type(value).__name__} to the manifest")
