"""Pseudonyms for patient ids: ``P0001``, ``P0002``, ... in the order of a salted SHA-256 hash.

The pseudonym of a patient depends only on the set of input ids and the salt, so it is stable from run
to run; without the salt the order (and so the pseudonym) reveals nothing about the input id.  The
salt lives with the data, in the file ``.splkit_salt`` of the cohort folder (created once, 32 random
hex characters from :mod:`secrets`), a place the data owner controls.  The id -> pseudonym key is
kept in memory only (:meth:`splkit.cohort.Cohort.pseudonym_key`); splkit never writes it.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

SALT_FILE = ".splkit_salt"


def read_or_create_salt(folder: str | Path) -> str:
    """The salt stored in ``folder/.splkit_salt``; created (atomically, once) when absent.

    Raises
    ------
    OSError
        When the file cannot be created (read-only folder): pass ``salt=`` instead.
    ValueError
        When the file exists but is empty.
    """
    path = Path(folder) / SALT_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        salt = path.read_text().strip()
        if not salt:
            raise ValueError(f"{path} is empty; delete it to create a new salt") from None
        return salt
    salt = secrets.token_hex(16)
    with os.fdopen(fd, "w") as handle:
        handle.write(salt + "\n")
    return salt


def _digest(patient_id: str, salt: str) -> str:
    return hashlib.sha256(f"{salt}\x00{patient_id}".encode()).hexdigest()


def assign_pseudonyms(ids: Iterable[str], salt: str) -> dict[str, str]:
    """Map each distinct input id to ``P0001``... numbered in the order of ``sha256(salt, id)``.

    The width is at least four digits (more for cohorts of 10 000 patients or more).
    """
    unique = sorted(set(ids), key=lambda i: _digest(i, salt))
    width = max(4, len(str(len(unique))))
    return {patient_id: f"P{rank:0{width}d}" for rank, patient_id in enumerate(unique, start=1)}
