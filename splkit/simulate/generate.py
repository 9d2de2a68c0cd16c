"""Generate a simulated cohort folder in the data-contract layout (see ``data/README.md``).

Every patient has its own random streams, spawned from ``numpy.random.SeedSequence(seed)`` with the
patient's index as spawn key, so a patient is the same whatever ``n`` is and patients can be generated
in parallel.  The folder is built in a temporary directory next to ``out`` and renamed into place.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from PIL import Image
from threadpoolctl import threadpool_limits

from splkit.cohort.pseudonym import SALT_FILE
from splkit.run.progress import progress_bar
from splkit.simulate import anatomy, bmode, clinical, lesion
from splkit.simulate.centre import DEVELOPMENT, Centre, centre_named

GENERATOR_VERSION = "2"  # bump whenever the generator's output changes (stale folders regenerate)
MARKER = "simulation.yaml"  # provenance file; its presence marks a folder as safe to regenerate

#: Reader variability, in display pixels.  Reader 1 clicks densely and hugs the boundary; reader 2
#: clicks less densely, smooths more and draws systematically a little in- or outside.
READER1 = {"click_px": 8.0, "offset_sd_px": 0.6, "jitter_px": 0.3, "smooth": 1.0}
READER2 = {"click_px": 11.0, "offset_sd_px": 2.0, "jitter_px": 0.6, "smooth": 1.6}
PROBE = bmode.Probe()
_PROBES = {PROBE.pixel_mm: PROBE}


def probe_for(centre: Centre) -> bmode.Probe:
    """The probe of a centre (the default :data:`PROBE` but for its pixel spacing); one per spacing."""
    if centre.pixel_mm not in _PROBES:
        _PROBES[centre.pixel_mm] = bmode.Probe(pixel_mm=centre.pixel_mm)
    return _PROBES[centre.pixel_mm]


@dataclass
class Patient:
    patient_id: str
    latents: clinical.Latents
    phenotype: lesion.Phenotype
    row: dict


def _streams(seed: int, index: int, count: int = 6) -> list[np.random.Generator]:
    """Independent generators of patient ``index``: ids, phenotype, scene, clinical, reader 1, reader 2."""
    children = np.random.SeedSequence(seed, spawn_key=(index,)).spawn(count)
    return [np.random.default_rng(child) for child in children]


def patient_id(seed: int, index: int, rng: np.random.Generator, prefix: str = "SIM") -> str:
    """An input-style id (``SIM-<year>-<serial>``), unique within a cohort, unlike the P0001 pseudonyms;
    ``prefix`` is the centre's (``EXT`` for the external one)."""
    serial = (index * 7919 + seed * 104729 + 1234) % 90000 + 10000
    return f"{prefix}-{2020 + int(rng.integers(0, 5))}-{serial:05d}"


def sample_patient(seed: int, index: int, centre: Centre = DEVELOPMENT) -> Patient:
    """Latents, phenotype and clinical row of one patient -- everything but the image (cheap)."""
    ids, ph_rng, _, clin_rng, _, _ = _streams(seed, index)
    pid = patient_id(seed, index, ids, centre.id_prefix)
    latents = clinical.sample_latents(ids, centre.malignant_share)
    ph = lesion.sample_phenotype(latents.t_img, ph_rng)
    row = clinical.sample_clinical(
        latents.t_clin, clin_rng, ph.size_mm, ph.air_bronchogram, ph.effusion, centre.age_shift_years
    )
    row = {"patient_id": pid, "label": "malignant" if latents.label else "benign", **row}
    return Patient(pid, latents, ph, row)


def simulate_clinical_table(n: int = 609, seed: int = 0, centre: Centre | str = DEVELOPMENT) -> pd.DataFrame:
    """The ``clinical.csv`` table of a cohort without rendering images (identical values, fast)."""
    centre = centre_named(centre)
    rows = [sample_patient(seed, i, centre).row for i in range(n)]
    table = pd.DataFrame(rows)
    table.insert(2, "spacing_mm", centre.pixel_mm)
    return table


def simulate_patient(
    seed: int, index: int, reader2: bool = False, centre: Centre | str = DEVELOPMENT
) -> tuple[dict, np.ndarray, np.ndarray, np.ndarray | None]:
    """One patient: clinical row, 8-bit B-mode image, reader-1 mask and (optionally) reader-2 mask."""
    centre = centre_named(centre)
    probe = probe_for(centre)
    streams = _streams(seed, index)
    patient = sample_patient(seed, index, centre)
    scene = anatomy.render(patient.phenotype, streams[2], probe, centre.gain_db)
    fan = probe.scan_map[1]
    r1 = streams[4]
    mask1 = lesion.reader_outline(scene.lesion, r1, offset_mean_px=r1.normal(0.3, 0.4), **READER1) & fan
    mask2 = None
    if reader2:
        r2 = streams[5]
        mask2 = lesion.reader_outline(scene.lesion, r2, offset_mean_px=r2.normal(0.0, 1.6), **READER2) & fan
    return patient.row, scene.image, mask1, mask2


def _write_png(path: Path, array: np.ndarray, compress_level: int = 6) -> None:
    Image.fromarray(np.ascontiguousarray(array, dtype=np.uint8)).save(
        path, format="PNG", compress_level=compress_level
    )


def _work(task: tuple[int, int, bool, str, bool, Centre]) -> dict:
    seed, index, reader2, folder, dicom, centre = task
    row, image, mask1, mask2 = simulate_patient(seed, index, reader2, centre)
    folder = Path(folder)
    pid = row["patient_id"]
    if dicom:
        from splkit.simulate.dicom import write_us_dicom

        write_us_dicom(folder / "images" / f"{pid}.dcm", image, centre.pixel_mm, pid, seed, index)
    else:
        _write_png(folder / "images" / f"{pid}.png", image, compress_level=1)  # speckle barely compresses
    _write_png(folder / "masks" / f"{pid}.png", mask1.astype(np.uint8) * 255)
    if mask2 is not None:
        _write_png(folder / "masks_reader2" / f"{pid}.png", mask2.astype(np.uint8) * 255)
    return row


def _single_threaded() -> None:
    """Pool initializer: the BLAS products here are tiny, so threads would only add contention."""
    threadpool_limits(1)


def _replace_dir(tmp: Path, out: Path) -> None:
    """Move the finished ``tmp`` folder to ``out``, replacing a previous simulated cohort there."""
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.replace(out, old / out.name)
        os.replace(tmp, out)
        shutil.rmtree(old)
    else:
        os.replace(tmp, out)


def is_current(
    out: str | Path,
    n: int,
    seed: int,
    dicom: bool = False,
    centre: Centre | str = DEVELOPMENT,
    clinical_variables: bool = True,
) -> bool:
    """Whether ``out`` holds the cohort this generator would write for ``(n, seed, dicom, centre)``.

    Compares the provenance file with the request and :data:`GENERATOR_VERSION`, so a changed profile
    or a newer generator regenerates the folder instead of silently analysing stale data.
    """
    marker = Path(out) / MARKER
    if not marker.is_file():
        return False
    recorded = yaml.safe_load(marker.read_text()) or {}
    wanted = {"version": GENERATOR_VERSION, "n": n, "seed": seed, "dicom": dicom}
    centre = centre_named(centre)
    if recorded.get("centre", DEVELOPMENT.describe()) != centre.describe():
        return False
    if recorded.get("clinical_variables", True) != clinical_variables:
        return False
    return all(recorded.get(key) == value for key, value in wanted.items())


def simulate_cohort(
    n: int = 609,
    seed: int = 0,
    out: str | Path = "data/simulated",
    dicom: bool = False,
    n_reader2: int = 50,
    n_jobs: int | None = None,
    progress: bool = True,
    centre: Centre | str = DEVELOPMENT,
    clinical_variables: bool = True,
) -> Path:
    """Generate the simulated SPL cohort into ``out`` (see :mod:`splkit.simulate` for the model).

    Parameters
    ----------
    n : number of patients.
    seed : master seed; the same seed gives a byte-identical folder.
    out : cohort folder to create.  An existing folder is replaced only if it is itself a simulated
        cohort (it holds ``simulation.yaml``); anything else raises ``FileExistsError``.
    dicom : write ``images/<id>.dcm`` (ultrasound DICOM with a calibrated ultrasound region) instead
        of PNG; ``clinical.csv`` then has no ``spacing_mm`` column.
    n_reader2 : how many patients (chosen at random) also get a second reader's mask.
    n_jobs : worker processes (default: up to 2, fewer for small cohorts).
    progress : show a progress bar (:func:`splkit.run.progress.progress_bar`: none in batch runs).
    centre : where the cohort is acquired (:mod:`splkit.simulate.centre`; a name or a :class:`Centre`):
        the default development centre, or ``"external"`` (another scanner set-up, case mix and
        prevalence) for an external validation cohort.  Recorded in ``simulation.yaml`` (the
        development centre is not, so its folder is unchanged).
    clinical_variables : ``False`` writes an imaging-only cohort: ``clinical.csv`` keeps only
        ``patient_id``, ``label`` (and ``spacing_mm``), ``variables.yaml`` is empty, and
        ``simulation.yaml`` records ``clinical_variables: false``.  Images and masks are unchanged.

    Returns
    -------
    The absolute path of the cohort folder.
    """
    if n < 1:
        raise ValueError(f"n must be positive, got {n}")
    centre = centre_named(centre)
    out = Path(out).absolute()
    if out.exists() and not (out / MARKER).is_file():
        raise FileExistsError(
            f"{out} exists and is not a simulated cohort (no {MARKER}); refusing to replace it"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    chooser = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2**31,)))
    reader2 = np.zeros(n, bool)
    reader2[chooser.choice(n, size=min(max(n_reader2, 0), n), replace=False)] = True
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        for sub in ("images", "masks", "masks_reader2"):
            (tmp / sub).mkdir()
        tasks = [(seed, i, bool(reader2[i]), str(tmp), dicom, centre) for i in range(n)]
        n_jobs = n_jobs if n_jobs is not None else min(2, os.cpu_count() or 1, max(n // 20, 1))
        bar = dict(total=n, desc="simulating patients", unit="patient")
        if not progress:
            bar["disable"] = True
        if n_jobs > 1:
            method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
            with multiprocessing.get_context(method).Pool(n_jobs, initializer=_single_threaded) as pool:
                rows = list(progress_bar(pool.imap(_work, tasks, chunksize=4), **bar))
        else:
            with threadpool_limits(1):
                rows = [_work(task) for task in progress_bar(tasks, **bar)]
        table = pd.DataFrame(rows)
        if not dicom:
            table.insert(2, "spacing_mm", centre.pixel_mm)
        if not clinical_variables:
            table = table[[c for c in ("patient_id", "label", "spacing_mm") if c in table.columns]]
        table.to_csv(tmp / "clinical.csv", index=False, lineterminator="\n")
        variables = {name: dict(spec) for name, spec in clinical.VARIABLES.items() if clinical_variables}
        (tmp / "variables.yaml").write_text(yaml.safe_dump(variables, sort_keys=False, allow_unicode=True))
        provenance = {
            "generator": "splkit.simulate",
            "version": GENERATOR_VERSION,
            "simulated": True,
            "n": n,
            "seed": seed,
            "dicom": dicom,
            "n_reader2": int(reader2.sum()),
            "pixel_spacing_mm": centre.pixel_mm,
            "image_shape": list(probe_for(centre).image_shape),
            "positive_label": "malignant",
        }
        if not centre.is_development:
            provenance["centre"] = centre.describe()
        if not clinical_variables:
            provenance["clinical_variables"] = False
        (tmp / MARKER).write_text(yaml.safe_dump(provenance, sort_keys=False))
        # Synthetic data has nothing to hide: a salt derived from the seed makes the pseudonyms (and
        # so the split) the same on every machine that generates this cohort.
        where = "" if centre.is_development else f"{centre.name}-"
        salt = hashlib.sha256(f"splkit-simulate-salt-{where}{seed}".encode()).hexdigest()[:32]
        (tmp / SALT_FILE).write_text(salt + "\n")
        tmp.chmod(0o755)
        _replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
