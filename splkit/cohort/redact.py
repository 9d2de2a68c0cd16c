"""Keep patient identifiers out of texts that are written down: file paths and names carry them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path


def redact_paths(text: str, paths: Mapping[str, str | Path] | Iterable[tuple[str, str | Path]]) -> str:
    """``text`` with every given path — absolute, as given, or its file name — replaced by its label.

    ``paths`` maps a label (``"<image>"``) to a path.  Longer spellings are replaced first, so a full
    path becomes one label rather than a folder plus a label.
    """
    items = paths.items() if isinstance(paths, Mapping) else paths
    spellings = []
    for label, path in items:
        path = Path(path)
        spellings += [
            (spelling, label) for spelling in {str(path), str(path.resolve()), path.name} if spelling
        ]
    for spelling, label in sorted(spellings, key=lambda item: len(item[0]), reverse=True):
        text = text.replace(spelling, label)
    return text
