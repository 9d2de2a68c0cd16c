"""Feature robustness when a cohort has too few second-reader masks: ICC over perturbed reader-1 masks.

The reproducibility step of chapter 3 keeps the features whose ICC reaches ``radiomics.icc_threshold``.
``radiomics.robustness`` says over what the ICC is computed:

``readers`` (default)
    between the reader-1 and reader-2 masks (inter-reader agreement).  With fewer than
    :data:`MIN_PATIENTS` patients in the ICC scope (``radiomics.icc_patients``, training by default)
    having both masks, it falls back to ``perturbation`` and says so (:func:`choose_method`).
``perturbation``
    between the reader-1 mask and :data:`N_PERTURBATIONS` perturbed copies of it (perturbation
    robustness, Zwanenburg et al. 2019), on the same patients, with the same ICC type and threshold.
    This is *not* inter-reader agreement: it measures how much a feature moves when the outline moves
    by about as much as a second reader's would, not whether two people draw the same lesion.
``none``
    no filter: every numeric feature is a candidate, and the chapter says that reproducibility was
    not assessed.

The perturbations (:data:`PERTURBATIONS`) follow the ROI *volume adaptation* and the *translation* of
Zwanenburg et al., restricted to the mask (the image is left as it is) and to 2-D: each perturbed mask
grows or shrinks the reader-1 mask by a fraction of its area, then shifts it by a small whole-pixel
offset.

- **Area adaptation** (Zwanenburg's volume adaptation by a fraction ``tau`` of the ROI, here of its
  area; ``tau`` = -0.20, -0.10, +0.10, +0.20): the pixels are ranked by their signed Euclidean distance
  to the mask's edge and the distance threshold whose area is closest to ``(1 + tau)`` times the
  original is taken, so the outline moves inwards or outwards evenly, by about ``tau / 2`` of the
  equivalent radius (1 to 10 pixels on the simulated lesions, whose equivalent radius is 18 to 98
  pixels).  With the shift below, the perturbed masks have a Dice coefficient of 0.85 to 0.96 with
  the reader-1 mask on the simulated smoke cohort, the range of its second reader (0.83 to 0.98,
  median 0.95), and scale with the lesion, whatever its size.  On a very small lesion (equivalent
  radius under about 12 pixels) the distance levels are coarse and the 10 % and 20 % changes can give
  the same area.
- **Translation** (whole pixels instead of Zwanenburg's sub-voxel shifts of the image grid: only the
  mask moves, so a whole pixel already changes which pixels are inside): ``(dy, dx)`` drawn from
  ``{-2, ..., 2}^2`` without ``(0, 0)``, i.e. 1 to 2.8 pixels, like a reader placing the same outline
  slightly off.  Pixels shifted out of the image are dropped; nothing wraps round.

Four perturbed masks (one per ``tau``, each with its own shift) plus the reader-1 mask give five
segmentations per patient; every perturbed mask costs one more extraction per patient in the ICC scope,
so the set is kept small.  The shifts are drawn from a generator seeded by the profile's ``seed`` and the
mask file's SHA-256, so the same mask always gets the same perturbations, whatever the patient's
pseudonym or the order of the cohort.  The perturbed masks are written as PNG files {0, 255} into a
content-hashed folder of the radiomics cache (``<radiomics.cache_dir>/perturbed_masks``, atomic writes),
and extracted like any mask by :func:`splkit.radiomics.extract.extract_cohort` (per-image cache included).

Reference: Zwanenburg A, Leger S, Agolli L, et al. Assessing robustness of radiomic features by image
perturbation. Sci Rep. 2019;9:614. doi:10.1038/s41598-018-36938-4.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage

METHODS = ("readers", "perturbation", "none")
#: Fewest patients (in the ICC scope) with both readers' masks for the ``readers`` method.
MIN_PATIENTS = 3
#: Area change of each perturbed mask (fraction of the reader-1 area); one translation each.
PERTURBATIONS: tuple[float, ...] = (-0.20, -0.10, +0.10, +0.20)
N_PERTURBATIONS = len(PERTURBATIONS)
#: Largest translation per axis (pixels).
MAX_SHIFT_PX = 2
#: Bump when the perturbed masks change for the same inputs (it is part of each file's key).
PERTURBATION_VERSION = 1
MASK_FOLDER = "perturbed_masks"
REFERENCE = "Zwanenburg et al., Sci Rep 2019;9:614"

#: What the book calls each method (text, tables and figure titles).
LABELS = {
    "readers": "inter-reader agreement",
    "perturbation": "perturbation robustness",
    "none": "reproducibility not assessed",
}


@dataclass(frozen=True)
class Robustness:
    """The reproducibility method a run used, the one the profile asked for, and why they differ."""

    method: str
    requested: str
    reason: str

    @property
    def label(self) -> str:
        """``"inter-reader agreement"``, ``"perturbation robustness"`` or ``"reproducibility not assessed"``."""
        return LABELS[self.method]

    @property
    def fallback(self) -> bool:
        return self.method != self.requested

    def describe(self) -> dict[str, Any]:
        """The ``radiomics.robustness`` entry of ``results.json`` (and of the study's manifest)."""
        entry: dict[str, Any] = {
            "method": self.method,
            "requested": self.requested,
            "label": self.label,
            "reason": self.reason,
        }
        if self.method == "perturbation":
            entry["perturbations"] = describe_perturbations()
        return entry


def describe_perturbations() -> dict[str, Any]:
    """The perturbation set, for ``results.json``: area changes, shift range, version and reference."""
    return {
        "n": N_PERTURBATIONS,
        "area_change": list(PERTURBATIONS),
        "max_shift_px": MAX_SHIFT_PX,
        "version": PERTURBATION_VERSION,
        "reference": REFERENCE,
    }


def requested_method(settings: Mapping[str, Any]) -> str:
    """``radiomics.robustness`` (default ``readers``), checked."""
    method = str(settings["radiomics"].get("robustness") or "readers")
    if method not in METHODS:
        raise ValueError(f"radiomics.robustness must be one of {', '.join(METHODS)}, got {method!r}")
    return method


def choose_method(settings: Mapping[str, Any], n_both: int) -> Robustness:
    """The method used, from ``radiomics.robustness`` and ``n_both``, the number of patients in the ICC
    scope with both readers' features: ``readers`` with fewer than :data:`MIN_PATIENTS` falls back to
    ``perturbation``."""
    requested = requested_method(settings)
    scope = (
        "training patients" if settings["radiomics"].get("icc_patients", "train") == "train" else "patients"
    )
    if requested == "none":
        return Robustness(
            "none", requested, "radiomics.robustness is none: no ICC filter, every feature is a candidate"
        )
    if requested == "perturbation":
        return Robustness("perturbation", requested, "radiomics.robustness is perturbation")
    if n_both >= MIN_PATIENTS:
        return Robustness("readers", requested, f"{n_both} {scope} have a second reader's mask")
    return Robustness(
        "perturbation",
        requested,
        f"only {n_both} {scope} have a second reader's mask (at least {MIN_PATIENTS} are needed for "
        "an inter-reader ICC), so the reader-1 masks were perturbed instead",
    )


# --------------------------------------------------------------------------------------- perturbing


def adapt_area(mask: np.ndarray, fraction: float) -> np.ndarray:
    """``mask`` grown (``fraction`` > 0) or shrunk (< 0) by about ``fraction`` of its area, evenly.

    Pixels are ranked by their signed Euclidean distance to the edge (negative inside); the distance
    threshold whose area is closest to ``(1 + fraction)`` times the original is used (ties at the same
    distance are kept together, so the shape stays symmetric).  At least one pixel stays inside and one
    outside.
    """
    mask = np.asarray(mask) > 0
    area = int(mask.sum())
    if area == 0 or fraction == 0:
        return mask.astype(np.uint8)
    target = min(max(round((1 + fraction) * area), 1), mask.size - 1)
    if fraction > 0:
        distance = ndimage.distance_transform_edt(~mask)  # outside: distance to the nearest ROI pixel
        levels, counts = np.unique(distance[~mask], return_counts=True)
        areas = area + np.cumsum(counts)
        level = levels[np.argmin(np.abs(areas - target))]
        grown = mask | (distance <= level)
        return grown.astype(np.uint8) if not grown.all() else mask.astype(np.uint8)
    depth = ndimage.distance_transform_edt(mask)  # inside: distance to the nearest background pixel
    levels, counts = np.unique(depth[mask], return_counts=True)
    remaining = area - np.cumsum(counts)  # area left after removing every pixel at depth <= level
    candidates = np.r_[area, remaining]
    thresholds = np.r_[0.0, levels]
    usable = candidates >= 1
    best = np.argmin(np.where(usable, np.abs(candidates - target), np.inf))
    return (depth > thresholds[best]).astype(np.uint8)


def translate(mask: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """``mask`` shifted by ``(dy, dx)`` whole pixels; pixels leaving the image are dropped (no wrap)."""
    mask = np.asarray(mask)
    out = np.zeros_like(mask)
    rows, cols = mask.shape
    src_r = slice(max(-dy, 0), rows - max(dy, 0))
    dst_r = slice(max(dy, 0), rows - max(-dy, 0))
    src_c = slice(max(-dx, 0), cols - max(dx, 0))
    dst_c = slice(max(dx, 0), cols - max(-dx, 0))
    out[dst_r, dst_c] = mask[src_r, src_c]
    return out


def shifts(seed: int, mask_sha256: str) -> list[tuple[int, int]]:
    """The ``(dy, dx)`` of each perturbation, from ``seed`` and the mask file's SHA-256 (deterministic)."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), int(mask_sha256[:16], 16)]))
    offsets = [
        (dy, dx)
        for dy in range(-MAX_SHIFT_PX, MAX_SHIFT_PX + 1)
        for dx in range(-MAX_SHIFT_PX, MAX_SHIFT_PX + 1)
    ]
    offsets = [o for o in offsets if o != (0, 0)]
    return [offsets[i] for i in rng.integers(0, len(offsets), size=N_PERTURBATIONS)]


def perturb(mask: np.ndarray, seed: int, mask_sha256: str) -> list[np.ndarray]:
    """The :data:`N_PERTURBATIONS` perturbed masks of ``mask`` (uint8 {0, 1}, same shape): area change, then
    shift; a shift that would empty the mask is not applied."""
    perturbed = []
    for fraction, (dy, dx) in zip(PERTURBATIONS, shifts(seed, mask_sha256), strict=True):
        adapted = adapt_area(mask, fraction)
        moved = translate(adapted, dy, dx)
        perturbed.append(moved if moved.any() else adapted)
    return perturbed


# ------------------------------------------------------------------------------------ files and tasks


def mask_key(mask_sha256: str, seed: int, index: int) -> str:
    """Content key of one perturbed mask file: the reader-1 mask's bytes, the seed, the set's version."""
    parts = {"mask": mask_sha256, "seed": int(seed), "index": index, "version": PERTURBATION_VERSION}
    parts["set"] = [PERTURBATIONS, MAX_SHIFT_PX]
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _write_png(array: np.ndarray, path: str) -> None:
    from PIL import Image

    Image.fromarray(np.ascontiguousarray(array, dtype=np.uint8) * 255).save(path, format="PNG")


def perturbed_mask_files(task: Any, seed: int, folder: str | Path) -> list[Path]:
    """The perturbed mask files of one :class:`splkit.radiomics.extract.ImageTask` (written when absent)."""
    from splkit.cohort import imaging
    from splkit.run.cache import atomic_write, file_sha256

    folder = Path(folder)
    sha = file_sha256(task.mask)
    paths = [
        folder / key[:2] / f"{key}.png" for key in (mask_key(sha, seed, i) for i in range(N_PERTURBATIONS))
    ]
    if all(p.exists() for p in paths):
        return paths
    import SimpleITK as sitk

    mask = sitk.GetArrayFromImage(imaging.read_mask(task.mask, spacing_mm=task.spacing))
    for path, array in zip(paths, perturb(mask, seed, sha), strict=True):
        if not path.exists():
            atomic_write(path, lambda tmp, a=array: _write_png(a, tmp))
    return paths


def perturbed_tasks(tasks: Sequence[Any], seed: int, folder: str | Path) -> list[list[Any]]:
    """One list of tasks per perturbation: the same patients, images and spacings, the perturbed masks."""
    from splkit.radiomics.extract import ImageTask

    files = [perturbed_mask_files(task, seed, folder) for task in tasks]
    return [
        [
            ImageTask(t.patient, t.image, f[i], t.spacing, t.resample_mm)
            for t, f in zip(tasks, files, strict=True)
        ]
        for i in range(N_PERTURBATIONS)
    ]


# ------------------------------------------------------------------------------------------ the book


def funnel_step(method: str) -> str:
    """The selection funnel's first step after extraction, by method."""
    return {
        "readers": "ICC filter",
        "perturbation": "ICC filter (perturbation robustness)",
        "none": "all features (no ICC filter)",
    }[method]


def icc_column(method: str) -> str:
    """The ICC column of the selected features' table: ``icc`` between readers, ``icc_perturbation``."""
    return "icc_perturbation" if method == "perturbation" else "icc"


def method_sentence(
    robustness: Robustness, icc_type: str, threshold: float, n_patients: int, who: str = "training patients"
) -> str:
    """Markdown: which reproducibility method chapter 3 used, and why (the fallback stated)."""
    if robustness.method == "none":
        return (
            "**Reproducibility was not assessed** (`radiomics.robustness: none`): there is no ICC filter, "
            "and every extracted feature is a candidate for the selection below."
        )
    fallback = (
        f"The profile asks for inter-reader agreement (`radiomics.robustness: readers`), but "
        f"{robustness.reason}. "
        if robustness.fallback
        else ""
    )
    if robustness.method == "readers":
        return "Method: **inter-reader agreement** (the ICC of each feature between the two readers' masks)."
    shrink = ", ".join(f"{100 * f:+.0f} %" for f in PERTURBATIONS)
    return fallback + (
        f"Method: **perturbation robustness**, not inter-reader agreement: the {icc_type} of each feature over "
        f"the reader-1 mask and {N_PERTURBATIONS} perturbed copies of it (area changed by {shrink}, each "
        f"then shifted by up to {MAX_SHIFT_PX} whole pixels per axis; {REFERENCE}), on {n_patients} {who}, with "
        f"the same threshold ({threshold:g}). A feature that passes is stable when the outline moves by about "
        "as much as a second reader's would; whether two people outline the same lesion was not measured."
    )


def cost_sentence(cost: Mapping[str, Any]) -> str:
    """Markdown: what the perturbed masks cost (extractions, seconds, seconds per patient)."""
    if not cost:
        return ""
    text = (
        f"The perturbed masks added {cost['images']} extractions ({cost['images_extracted_now']} computed "
        f"now, the others from the cache) in {cost['seconds']:.0f} s"
    )
    per_patient = cost.get("seconds_per_patient")
    text += f", {per_patient:.2f} s per patient." if per_patient is not None else "."
    excluded = cost.get("excluded") or []
    if excluded:
        patients = sorted({e["patient"] for e in excluded})
        who = f"{len(patients)} patient{'s' if len(patients) != 1 else ''} ({', '.join(patients)})"
        text += (
            f" Perturbed masks not extracted: {len(excluded)} (pyradiomics refused them, e.g. a "
            f"lesion too small once shrunk), so {who} {'is' if len(patients) == 1 else 'are'} left out of the ICC."
        )
    return text


def summary_phrase(
    method: str, kept: int, icc_type: str, threshold: float, n_patients: int, who: str = "training patients"
) -> str:
    """The summary's clause on the reproducibility step (``kept`` features passed it)."""
    if method == "readers":
        return (
            f"{kept} were reproducible between readers ({icc_type} ≥ {threshold}, {n_patients} training "
            "patients)"
        )
    if method == "perturbation":
        return (
            f"{kept} were robust to perturbations of the reader-1 mask (perturbation robustness, not "
            f"inter-reader agreement; {icc_type} ≥ {threshold}, {n_patients} {who})"
        )
    return f"reproducibility was not assessed (`radiomics.robustness: none`), so all {kept} were candidates"


def reproducibility_text(
    robustness: Robustness,
    icc_type: str,
    threshold: float,
    n_patients: int,
    kept: tuple[int, int],
    who: str = "training patients",
    cost: Mapping[str, Any] | None = None,
) -> str:
    """Markdown of chapter 3's reproducibility step: the method (and why), ``kept = (passed, features)``
    at the threshold on ``n_patients``, the perturbations' cost and the histogram's caption."""
    lines = [method_sentence(robustness, icc_type, threshold, n_patients, who)]
    if robustness.method == "none":
        return lines[0]
    counts = f"{kept[0]} of {kept[1]} features have {icc_type} ≥ {threshold}."
    if robustness.method == "readers":
        lines.append(f"ICC on {n_patients} training patients with two readers: {counts}")
    else:
        lines.append(f"Perturbation robustness on {n_patients} {who}: {counts}")
        lines += [cost_sentence(cost)] if cost else []
    what = {"readers": "inter-reader ICC", "perturbation": "perturbation-robustness ICC"}[robustness.method]
    caption = (
        f"*Figure: distribution of the {what} over all features; the dashed line is the threshold. Features "
        "that are constant across patients have no ICC and are dropped.*"
    )
    return "\n\n".join(lines + [caption])


def titled(fig: Any, method: str, values: Any, threshold: float) -> Any:
    """The ICC histogram (:func:`splkit.radiomics.figures.icc_histogram`) titled by ``method``: perturbation
    robustness is not inter-reader agreement."""
    if method != "perturbation":
        return fig
    kept = int((values >= threshold).sum())
    fig.update_layout(
        title_text=f"Perturbation robustness: ICC of {len(values)} features ({kept} at or above {threshold:g})"
    )
    fig.update_xaxes(
        title_text=f"{values.name or 'ICC'} (reader-1 mask and {N_PERTURBATIONS} perturbed masks, unitless)"
    )
    return fig
