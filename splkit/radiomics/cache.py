"""The per-image radiomics cache: one JSON file per content key, written atomically.

Files live in ``<cache_dir>/<key[:2]>/<key>.json``; a write goes to a temporary file in the same folder,
is flushed to disk and then renamed with ``os.replace``, so a reader sees either no entry or a whole one,
even when the writing process is killed.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any


class CacheError(RuntimeError):
    """A cache file that cannot be read (it should never exist: writes are atomic)."""


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_file(cache_dir: Path, key: str) -> Path:
    return Path(cache_dir) / key[:2] / f"{key}.json"


def read_cache(path: Path) -> dict[str, Any] | None:
    """A cached record, or ``None`` when absent (a corrupt file is an error: it should never exist)."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise CacheError(f"corrupt radiomics cache file {path}: {err}; delete it") from err


def write_cache(path: Path, record: Mapping[str, Any]) -> None:
    """Write ``record`` as JSON atomically (temporary file in the same folder, then ``os.replace``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem[:12]}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(record, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
