"""pyradiomics settings presets: versioned YAML files in ``splkit/radiomics/presets/``.

A preset is a pyradiomics parameter file (``featureClass``, ``imageType``, ``setting``) plus a
top-level ``splkit:`` block that pyradiomics never sees: a description, the input geometry (``2d``:
a true 2-D image; ``slice3d``: the image as a one-slice 3-D volume), the feature count expected per
image type, and the reasons for the settings.  :func:`validate_preset` checks the pyradiomics part
against pyradiomics' own parameter schema (``radiomics/schemas/paramSchema.yaml``, with pykwalify,
as ``RadiomicsFeatureExtractor`` does) and checks the known traps of 2-D ultrasound radiomics.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PRESET_DIR = Path(__file__).resolve().parent / "presets"
INPUT_KINDS = ("2d", "slice3d")


class PresetError(ValueError):
    """A preset that pyradiomics would reject or that falls into a known trap."""


@dataclass(frozen=True)
class Preset:
    """A loaded preset.

    Attributes
    ----------
    name
        The file stem (``ultrasound2d``) or the file name of a custom preset.
    text
        The YAML text as read (part of the cache key).
    params
        The pyradiomics parameters (``featureClass``, ``imageType``, ``setting``).
    meta
        The ``splkit:`` block.
    """

    name: str
    text: str = field(repr=False)
    params: Mapping[str, Any] = field(repr=False)
    meta: Mapping[str, Any] = field(repr=False)

    @property
    def input(self) -> str:
        return self.meta["input"]

    @property
    def expected_counts(self) -> dict[str, int]:
        return {str(k): int(v) for k, v in self.meta["expected_counts"].items()}

    @property
    def total(self) -> int:
        return int(self.meta["total"])

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    def pyradiomics_params(self) -> dict[str, Any]:
        """A fresh copy of the parameters to hand to ``RadiomicsFeatureExtractor``."""
        return copy.deepcopy(dict(self.params))


def available_presets() -> list[str]:
    """Names of the presets shipped with splkit."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def load_preset(preset: str | Path) -> Preset:
    """Load a shipped preset by name (``"ultrasound2d"``) or any preset YAML by path, and validate it."""
    candidate = Path(preset)
    path = candidate if candidate.suffix in {".yaml", ".yml"} else PRESET_DIR / f"{preset}.yaml"
    if not path.is_file():
        raise FileNotFoundError(
            f"radiomics preset {str(preset)!r} not found at {path} (shipped: {', '.join(available_presets())})"
        )
    text = path.read_text()
    raw = yaml.safe_load(text)
    if not isinstance(raw, Mapping) or not isinstance(raw.get("splkit"), Mapping):
        raise PresetError(f"preset {path} must be a YAML mapping with a 'splkit:' metadata block")
    raw = dict(raw)
    meta = dict(raw.pop("splkit"))
    name = path.stem if path.parent == PRESET_DIR else path.name
    result = Preset(name=name, text=text, params=raw, meta=meta)
    validate_preset(result)
    return result


def schema_validate(params: Mapping[str, Any]) -> dict[str, Any]:
    """Validate pyradiomics parameters against pyradiomics' own schema (pykwalify), as pyradiomics does.

    Returns the validated parameters; raises :class:`PresetError` with pykwalify's message otherwise.
    """
    import pykwalify.core
    from pykwalify.errors import PyKwalifyException
    from radiomics import getParameterValidationFiles

    schema_file, schema_funcs = getParameterValidationFiles()
    core = pykwalify.core.Core(
        source_data=copy.deepcopy(dict(params)), schema_files=[schema_file], extensions=[schema_funcs]
    )
    try:
        return core.validate(raise_exception=True)
    except (PyKwalifyException, ValueError, TypeError) as err:
        raise PresetError(f"pyradiomics rejects the parameters: {err}") from err


def _image_type_settings(params: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Effective settings per enabled image type (global ``setting`` updated by the type's own)."""
    base = dict(params.get("setting") or {})
    return {name: {**base, **dict(custom or {})} for name, custom in (params.get("imageType") or {}).items()}


def validate_preset(preset: Preset) -> None:
    """Check a preset: pyradiomics' schema, splkit's metadata and the known 2-D ultrasound traps.

    Traps (each raises :class:`PresetError`):

    - ``force2D: true`` on true 2-D input (pyradiomics then treats the image as slices along one axis);
    - the 3-D ``shape`` class on 2-D input (use ``shape2D``), or ``shape2D`` on a one-slice volume
      without ``force2D``;
    - LBP2D without its own bin width of 1 (``binCount`` unset), so its integer codes are not pooled into
      one bin, or without scikit-image installed (pyradiomics would skip it with a log message).
    """
    meta, params = preset.meta, preset.params
    where = f"preset {preset.name!r}"
    for key in ("version", "input", "expected_counts", "total"):
        if key not in meta:
            raise PresetError(f"{where}: the splkit block lacks {key!r}")
    if meta["input"] not in INPUT_KINDS:
        raise PresetError(f"{where}: splkit.input must be one of {INPUT_KINDS}, got {meta['input']!r}")
    counts = preset.expected_counts
    if sum(counts.values()) != preset.total:
        raise PresetError(
            f"{where}: expected_counts sum to {sum(counts.values())}, but total says {preset.total}"
        )
    schema_validate(params)

    classes = params.get("featureClass") or {}
    per_type = _image_type_settings(params)
    if meta["input"] == "2d":
        forced = [t for t, s in per_type.items() if s.get("force2D")] or (
            ["setting"] if (params.get("setting") or {}).get("force2D") else []
        )
        if forced:
            raise PresetError(
                f"{where}: force2D is true ({', '.join(forced)}) on a true 2-D image; pyradiomics would then "
                "compute texture along one axis only. Set force2D: false."
            )
        if "shape" in classes:
            raise PresetError(f"{where}: the 3-D 'shape' class on 2-D input; use 'shape2D'")
    elif "shape2D" in classes and not (params.get("setting") or {}).get("force2D"):
        raise PresetError(
            f"{where}: shape2D on a one-slice volume needs force2D: true (pyradiomics skips it)"
        )
    if "LBP2D" in per_type:
        lbp = per_type["LBP2D"]
        if lbp.get("binCount") is not None or float(lbp.get("binWidth", 25)) != 1.0:
            raise PresetError(
                f"{where}: LBP2D needs its own binWidth: 1 and binCount: null (its values are integer codes; "
                f"got binWidth={lbp.get('binWidth', 25)}, binCount={lbp.get('binCount')})"
            )
        if importlib.util.find_spec("skimage") is None:
            raise PresetError(f"{where}: LBP2D needs scikit-image, which is not installed")


def check_runtime(preset: Preset) -> None:
    """Fail clearly when the installed libraries cannot compute every image type of ``preset``.

    pyradiomics' LBP3D imports ``scipy.special.sph_harm`` (removed in SciPy 1.17; splkit supplies it
    from ``sph_harm_y`` while extracting, :mod:`splkit.radiomics.compat`) and ``trimesh``; when either
    is missing it logs a warning and yields nothing, so ``paper1561`` would silently lose 273 features.
    This raises :class:`RuntimeError` instead.
    """
    if "LBP3D" not in (preset.params.get("imageType") or {}):
        return
    from splkit.radiomics.compat import missing_lbp3d_dependencies

    missing = missing_lbp3d_dependencies()
    if missing:
        raise RuntimeError(
            f"radiomics preset {preset.name!r} needs pyradiomics' LBP3D filter, which cannot run here: missing "
            + "; ".join(missing)
            + ". pyradiomics would silently drop the LBP3D features and return "
            f"{preset.total - sum(v for k, v in preset.expected_counts.items() if k.startswith('lbp-3D'))} "
            f"instead of {preset.total}. Install trimesh for this preset (pip install trimesh), or use "
            "'ultrasound2d'."
        )
