"""Analysis profiles: YAML files in ``config/`` merged into one frozen settings object.

A profile names ``extends: <other profile>`` and overrides only what differs; nested mappings are
merged key by key, everything else (lists included) is replaced.  Relative paths in a profile are
resolved against the project root, so notebooks can run from any working directory.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = PROJECT_ROOT / "config"


class Settings(Mapping):
    """A read-only, nested mapping with attribute access (``settings.deep.backbone``)."""

    def __init__(self, data: Mapping[str, Any]):
        object.__setattr__(self, "_data", {k: _freeze(v) for k, v in data.items()})

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __getattr__(self, key: str) -> Any:
        try:
            return self._data[key]
        except KeyError:
            raise AttributeError(f"profile has no setting {key!r}") from None

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("Settings are read-only; change the profile YAML or pass overrides")

    def __iter__(self):
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"Settings({self.to_dict()!r})"

    def to_dict(self) -> dict[str, Any]:
        """A plain, mutable deep copy (for YAML/JSON output)."""
        return {k: v.to_dict() if isinstance(v, Settings) else _thaw(v) for k, v in self._data.items()}

    @property
    def run_path(self) -> Path:
        """The run directory as an absolute path."""
        return resolve_path(self._data["run_dir"])

    @property
    def data_path(self) -> Path:
        """The cohort folder as an absolute path."""
        return resolve_path(self._data["data"]["path"])


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping) and not isinstance(value, Settings):
        return Settings(value)
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def _thaw(value: Any) -> Any:
    if isinstance(value, Settings):
        return value.to_dict()
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    return value


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``override`` into a copy of ``base``: mappings recursively, everything else replaced."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def profile_path(profile: str | Path) -> Path:
    """The YAML file of a profile given by name (``smoke``) or by path (``my/cohort.yaml``)."""
    candidate = Path(profile)
    if candidate.suffix in {".yaml", ".yml"}:
        path = candidate if candidate.is_absolute() else Path.cwd() / candidate
    else:
        path = CONFIG_DIR / f"{profile}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in CONFIG_DIR.glob("*.yaml")))
        raise FileNotFoundError(f"profile {str(profile)!r} not found at {path} (known profiles: {known})")
    return path


def _load_raw(profile: str | Path, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    path = profile_path(profile)
    if path in _seen:
        raise ValueError(f"profile {path} extends itself (chain: {' -> '.join(map(str, _seen))})")
    with path.open() as handle:
        raw = yaml.safe_load(handle) or {}
    if not isinstance(raw, Mapping):
        raise ValueError(f"profile {path} must be a YAML mapping, got {type(raw).__name__}")
    parent = raw.pop("extends", None)
    if parent is None:
        return raw
    parent_ref = parent if Path(parent).suffix not in {".yaml", ".yml"} else str(path.parent / parent)
    return deep_merge(_load_raw(parent_ref, (*_seen, path)), raw)


def load_profile(
    profile: str | Path = "default",
    overrides: Mapping[str, Any] | None = None,
    run_dir: str | Path | None = None,
) -> Settings:
    """Load a profile, apply ``overrides`` (a nested mapping) and an explicit ``run_dir``.

    Parameters
    ----------
    profile
        A profile name in ``config/`` or a path to a YAML file.
    overrides
        Nested settings that win over the profile (e.g. ``{"stats": {"n_bootstrap": 100}}``).
    run_dir
        Where this run writes; defaults to the profile's ``run_dir``.
    """
    raw = _load_raw(profile)
    if overrides:
        raw = deep_merge(raw, overrides)
    if run_dir is not None:
        raw["run_dir"] = str(run_dir)
    for key in ("name", "seed", "run_dir", "data"):
        if key not in raw:
            raise ValueError(f"profile {profile!r} lacks the required setting {key!r}")
    return Settings(raw)


def resolve_path(path: str | Path) -> Path:
    """An absolute path; relative ones are taken from the project root."""
    path = Path(path).expanduser()
    return path if path.is_absolute() else PROJECT_ROOT / path
