"""Analysis profiles: YAML files in ``config/`` merged into one frozen settings object.

A profile names ``extends: <other profile>`` and overrides only what differs; nested mappings are
merged key by key, everything else (lists included) is replaced.  Relative paths in a profile are
resolved against the project root, so notebooks can run from any working directory.

The merged profile is checked against ``splkit/profile_schema.yaml`` (every setting, its type, and the
allowed values of enumerated settings): an unknown key, a wrong type or a value not allowed raises one
:class:`ProfileError` listing every problem, each naming its file, the dotted key and what is valid.
"""

from __future__ import annotations

import copy
import difflib
import functools
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = PROJECT_ROOT / "config"
SCHEMA_PATH = Path(__file__).resolve().parent / "profile_schema.yaml"
REQUIRED = ("name", "seed", "run_dir", "data")


class ProfileError(ValueError):
    """A profile with unknown settings, wrong types or values not allowed; one line per problem."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


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

    @property
    def external_path(self) -> Path | None:
        """The external validation cohort folder as an absolute path; ``None`` when the profile names none."""
        path = (self._data.get("external") or {}).get("path")
        return resolve_path(path) if path else None


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


def _load_layers(profile: str | Path, _seen: tuple[Path, ...] = ()) -> list[tuple[Path, dict[str, Any]]]:
    """``(file, raw mapping)`` of a profile and of the profiles it extends, the most basic first."""
    path = profile_path(profile)
    if path in _seen:
        raise ValueError(f"profile {path} extends itself (chain: {' -> '.join(map(str, _seen))})")
    with path.open() as handle:
        raw = yaml.safe_load(handle) or {}
    if not isinstance(raw, Mapping):
        raise ValueError(f"profile {path} must be a YAML mapping, got {type(raw).__name__}")
    parent = raw.pop("extends", None)
    if parent is None:
        return [(path, raw)]
    parent_ref = parent if Path(parent).suffix not in {".yaml", ".yml"} else str(path.parent / parent)
    return [*_load_layers(parent_ref, (*_seen, path)), (path, raw)]


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

    Returns
    -------
    Settings
        The merged, checked profile.

    Raises
    ------
    ProfileError
        When the merged profile lacks a required setting or does not match the schema
        (``splkit/profile_schema.yaml``); the message has one line per problem, each naming the file
        (or the overrides) that set the key.
    """
    files = _load_layers(profile)
    layers = [(f"profile {_shown_path(path)!r}", raw) for path, raw in files]
    if overrides:
        layers.append((f"overrides of profile {_shown_path(files[-1][0])!r}", overrides))
    if run_dir is not None:
        layers.append(("run_dir argument", {"run_dir": str(run_dir)}))
    raw: dict[str, Any] = {}
    for _, layer in layers:
        raw = deep_merge(raw, layer)
    problems = [f"{layers[-1][0]}: lacks the required setting {key!r}" for key in REQUIRED if key not in raw]
    problems += [f"{_source(layers, key)}: {message}" for key, message in profile_problems(raw)]
    if problems:
        raise ProfileError(problems)
    return Settings(raw)


# --- the schema ------------------------------------------------------------------------------------

_TYPE_NAMES = {"int": "an integer", "float": "a number", "bool": "true or false", "str": "text"}
_YAML_TEXT_NUMBER = re.compile(r"[-+]?[0-9]+[eE][-+]?[0-9]+")  # PyYAML (YAML 1.1) reads 1e-4 as text
_PLURALS = {"int": "integers", "float": "numbers", "bool": "booleans", "str": "strings"}


@functools.cache
def profile_schema() -> dict[str, Any]:
    """The schema of a profile (``splkit/profile_schema.yaml``): key -> type, allowed values or section.

    Returns
    -------
    dict
        Nested like a profile; a leaf is a type string (``"int"``, ``"float?"``, ``"list[str|float]"``)
        or a list of the allowed values.
    """
    with SCHEMA_PATH.open() as handle:
        return yaml.safe_load(handle)


def profile_problems(
    data: Mapping[str, Any], schema: Mapping[str, Any] | None = None, prefix: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], str]]:
    """Every way ``data`` (a merged profile, or a section of one) departs from the schema.

    Parameters
    ----------
    data
        The merged profile (plain mappings and lists), without ``extends``.
    schema
        The schema of ``data``; default: :func:`profile_schema`.
    prefix
        The keys leading to ``data`` (for the messages of a section).

    Returns
    -------
    list of (key path, message)
        In the order of ``data``; empty when the profile is valid. Missing keys are not problems.
    """
    schema = profile_schema() if schema is None else schema
    problems: list[tuple[tuple[str, ...], str]] = []
    for key, value in data.items():
        path = (*prefix, str(key))
        dotted = ".".join(path)
        if key not in schema:
            problems.append((path, _unknown(path, schema)))
        elif isinstance(schema[key], Mapping):
            if isinstance(value, Mapping):
                problems += profile_problems(value, schema[key], path)
            else:
                problems.append((path, f"{dotted}: expected a section of settings, got {_shown(value)}"))
        elif isinstance(schema[key], list):
            if not any(type(value) is type(choice) and value == choice for choice in schema[key]):
                choices = ", ".join(map(str, schema[key]))
                hint = _did_you_mean(str(value), [str(c) for c in schema[key]])
                problems.append((path, f"{dotted}: {value!r} is not one of {choices}{hint}"))
        else:
            problems += [
                (path, f"{where}: {message}") for where, message in _type_problems(dotted, value, schema[key])
            ]
    return problems


def _type_problems(dotted: str, value: Any, spec: str) -> list[tuple[str, str]]:
    """``(where, message)`` for a ``value`` that does not match the type ``spec``."""
    nullable, spec = spec.endswith("?"), spec.rstrip("?")
    if value is None and nullable:
        return []
    or_null = " or null" if nullable else ""
    if spec == "list" or spec.startswith("list["):
        if not isinstance(value, (list, tuple)):
            items = f" of {' or '.join(_PLURALS[t] for t in spec[5:-1].split('|'))}" if spec != "list" else ""
            return [(dotted, f"expected a list{items}{or_null}, got {_shown(value)}")]
        if spec == "list":
            return []
        return [p for i, item in enumerate(value) for p in _type_problems(f"{dotted}[{i}]", item, spec[5:-1])]
    names = spec.split("|")
    if any(_is(value, name) for name in names):
        return []
    message = f"expected {' or '.join(_TYPE_NAMES[n] for n in names)}{or_null}, got {_shown(value)}"
    if "float" in names and isinstance(value, str) and _YAML_TEXT_NUMBER.fullmatch(value.strip()):
        message += " (YAML reads a number like 1e-4 as text: write 1.0e-4)"
    return [(dotted, message)]


def _is(value: Any, name: str) -> bool:
    """Whether ``value`` is of the schema type ``name`` (bools are not numbers; ints are floats)."""
    if name not in _TYPE_NAMES:
        raise ValueError(f"{SCHEMA_PATH}: unknown type {name!r} (known: {', '.join(_TYPE_NAMES)})")
    if name == "bool" or isinstance(value, bool):
        return name == "bool" and isinstance(value, bool)
    return isinstance(value, {"int": int, "float": (int, float), "str": str}[name])


def _unknown(path: tuple[str, ...], schema: Mapping[str, Any]) -> str:
    """The message for an unknown key: the closest valid keys, else the same key in another section."""
    *parents, key = path
    prefix = "".join(f"{p}." for p in parents)
    near = [f"{prefix}{k}" for k in _close(key, list(schema))]
    if not near:
        near = [dotted for dotted in _leaf_paths(profile_schema()) if dotted.rsplit(".", 1)[-1] == key]
    hint = f" — did you mean {' or '.join(repr(n) for n in near)}?" if near else ""
    where = f" in {'.'.join(parents)}" if parents else ""
    return f"unknown setting {'.'.join(path)!r}{hint} (valid{where}: {', '.join(schema)})"


def _leaf_paths(schema: Mapping[str, Any], prefix: str = "") -> list[str]:
    paths = []
    for key, spec in schema.items():
        paths.append(f"{prefix}{key}")
        if isinstance(spec, Mapping):
            paths += _leaf_paths(spec, f"{prefix}{key}.")
    return paths


def _close(word: str, candidates: list[str]) -> list[str]:
    """Up to two ``candidates`` close to ``word`` (difflib, ignoring case)."""
    lowered = {c.lower(): c for c in candidates}
    return [lowered[m] for m in difflib.get_close_matches(word.lower(), list(lowered), n=2, cutoff=0.6)]


def _did_you_mean(word: str, candidates: list[str]) -> str:
    near = _close(word, candidates)
    return f" — did you mean {' or '.join(repr(n) for n in near)}?" if near else ""


def _shown(value: Any) -> str:
    """A value for a message, with its YAML kind: ``text '1e-4'``, ``null``, ``a section``."""
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "a section"
    kinds = [(bool, "boolean"), (int, "integer"), (float, "number"), (str, "text"), ((list, tuple), "list")]
    kind = next((name for types, name in kinds if isinstance(value, types)), type(value).__name__)
    text = repr(list(value) if isinstance(value, tuple) else value)
    return f"{kind} {text if len(text) <= 60 else text[:57] + '...'}"


def _source(layers: list[tuple[str, Mapping[str, Any]]], path: tuple[str, ...]) -> str:
    """The label of the last layer (file, overrides) that sets the key ``path``."""
    for label, layer in reversed(layers):
        node: Any = layer
        for key in path:
            if not isinstance(node, Mapping) or key not in node:
                break
            node = node[key]
        else:
            return label
    return layers[-1][0]


def _shown_path(path: Path) -> str:
    """``path`` relative to the project root (or the working directory) when inside it."""
    for base in (PROJECT_ROOT, Path.cwd()):
        if path.is_relative_to(base):
            return path.relative_to(base).as_posix()
    return str(path)


def has_external(settings: Mapping[str, Any]) -> bool:
    """Whether a profile (or a run's settings) names an external validation cohort (``external.path``)."""
    external = settings.get("external") or {}
    return bool(external.get("path"))


def resolve_path(path: str | Path) -> Path:
    """An absolute path; relative ones are taken from the project root."""
    path = Path(path).expanduser()
    return path if path.is_absolute() else PROJECT_ROOT / path
