"""The one cache of splkit: content-hashed entries under ``.cache/<stage>/``, written atomically.

Every expensive step (radiomics per image, deep embeddings per image, model fits, SHAP blocks) stores
its result under a key made from the *content* of its inputs (file bytes, settings, library and code
versions) — never from a path — so a renamed folder still hits and a changed input never does.
Writes go to a temporary file in the target folder and are renamed into place (``os.replace``), so a
reader sees no entry or a whole one, even when the writer is killed.  Deleting ``.cache/`` only costs
time.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from splkit.config import PROJECT_ROOT

#: Root of every stage's cache (``.cache/radiomics``, ``.cache/deep``, ``.cache/models``, ``.cache/shap``).
CACHE_ROOT = PROJECT_ROOT / ".cache"


class CacheError(RuntimeError):
    """A cache entry that cannot be read (it should never exist: writes are atomic)."""


def atomic_write(path: str | Path, write: Callable[[str], Any]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it to ``path``.

    Readers see either the old file or the whole new one, never half a file; a failed write leaves
    nothing behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:24]}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _write_synced(tmp: str, text: str) -> None:
    with open(tmp, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (:func:`atomic_write`), flushed to disk before the rename."""
    return atomic_write(path, lambda tmp: _write_synced(tmp, text))


def atomic_dump(value: Any, path: str | Path) -> Path:
    """``joblib.dump`` ``value`` to ``path`` atomically (:func:`atomic_write`)."""
    import joblib

    return atomic_write(path, lambda tmp: joblib.dump(value, tmp))


def atomic_parquet(table: Any, path: str | Path) -> Path:
    """``table.to_parquet(path)`` atomically (:func:`atomic_write`): a killed run leaves no half table."""
    return atomic_write(path, lambda tmp: table.to_parquet(tmp))


def atomic_savefig(fig: Any, path: str | Path, **kwargs: Any) -> Path:
    """``fig.savefig(path)`` (matplotlib) atomically, in the format of ``path``'s suffix."""
    fmt = Path(path).suffix.lstrip(".") or "png"
    return atomic_write(path, lambda tmp: fig.savefig(tmp, format=fmt, **kwargs))


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def content_key(*parts: Any) -> str:
    """A stable hash of ``parts`` (arrays, frames, settings, strings) via ``joblib.hash``."""
    import joblib

    return joblib.hash(parts, hash_name="sha1")


class ContentCache:
    """Entries of one stage, ``<root>/<key[:2]>/<key>.<format>``; ``format`` is ``json`` or ``joblib``.

    Parameters
    ----------
    stage
        The stage's folder name under :data:`CACHE_ROOT` (``"radiomics"``, ``"deep"``, …), or an
        explicit folder.
    format
        ``"json"`` (plain records, readable by anything) or ``"joblib"`` (arrays, fitted objects).
    """

    def __init__(self, stage: str | Path, format: str = "joblib"):
        if format not in ("json", "joblib"):
            raise ValueError(f"cache format must be 'json' or 'joblib', not {format!r}")
        stage = Path(stage)
        self.root = stage if stage.is_absolute() else CACHE_ROOT / stage
        self.format = format

    def path(self, key: str) -> Path:
        """Where the entry of ``key`` lives (whether or not it exists)."""
        return self.root / key[:2] / f"{key}.{self.format}"

    def get(self, key: str) -> Any | None:
        """The cached value, or ``None`` when absent; an unreadable entry is a :class:`CacheError`."""
        path = self.path(key)
        if not path.exists():
            return None
        try:
            if self.format == "json":
                return json.loads(path.read_text())
            import joblib

            return joblib.load(path)
        except FileNotFoundError:
            return None
        except Exception as err:  # noqa: BLE001 - any decoding failure means a corrupt entry
            raise CacheError(f"corrupt cache entry {path}: {err}; delete it") from err

    def put(self, key: str, value: Any) -> Path:
        """Store ``value`` under ``key`` atomically."""
        path = self.path(key)
        if self.format == "json":
            return atomic_write_text(path, json.dumps(value))
        return atomic_dump(value, path)

    def get_or_compute(self, key: str, compute: Callable[[], Any]) -> Any:
        """The cached value of ``key``, computing and storing it when absent."""
        value = self.get(key)
        if value is None:
            value = compute()
            self.put(key, value)
        return value
