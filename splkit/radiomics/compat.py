"""Compatibility shims for pyradiomics under current SciPy, applied only while splkit extracts.

pyradiomics 3.1 ``imageoperations.getLBP3DImage`` (the ``LBP3D`` image type of the ``paper1561``
preset) runs ``from scipy.special import sph_harm`` inside the function.  SciPy 1.17 removed
``sph_harm``; its replacement ``scipy.special.sph_harm_y`` takes the arguments in another order and
swaps the meaning of the two angles:

- old: ``sph_harm(m, n, theta, phi)`` with ``theta`` the azimuthal and ``phi`` the polar angle;
- new: ``sph_harm_y(n, m, theta, phi)`` with ``theta`` the polar and ``phi`` the azimuthal angle.

:func:`legacy_sph_harm` is the old function written with the new one (same values, same convention,
Condon-Shortley phase included), so pyradiomics computes exactly what it computed under SciPy < 1.15.
:func:`scipy_sph_harm` puts it at ``scipy.special.sph_harm`` for the duration of a ``with`` block and
removes it afterwards (reference-counted, so overlapping extractions in threads are safe); where SciPy
still has ``sph_harm`` it changes nothing.  :func:`splkit.radiomics.extract.extract_image` wraps every
extraction in it.  ``tests/radiomics/test_compat.py`` checks the shim against the closed forms of
``Y_0^0``, ``Y_1^0`` and ``Y_1^{+-1}``.

LBP3D also needs the ``trimesh`` package (its icosphere); :func:`missing_lbp3d_dependencies` names
what is absent.
"""

from __future__ import annotations

import contextlib
import importlib.util
import threading
from collections.abc import Iterator

import numpy as np

_LOCK = threading.Lock()
_ACTIVE = 0  # number of open scipy_sph_harm() blocks that rely on the shim


def legacy_sph_harm(m, n, theta, phi):
    """SciPy's removed ``sph_harm(m, n, theta, phi)``: order ``m``, degree ``n``, ``theta`` azimuthal,
    ``phi`` polar; evaluated as ``sph_harm_y(n, m, phi, theta)``."""
    from scipy.special import sph_harm_y

    return sph_harm_y(np.asarray(n), np.asarray(m), np.asarray(phi), np.asarray(theta))


legacy_sph_harm.splkit_shim = True


def _native_sph_harm() -> bool:
    """Whether ``scipy.special`` has its own ``sph_harm`` (not splkit's shim)."""
    import scipy.special

    existing = getattr(scipy.special, "sph_harm", None)
    return existing is not None and not getattr(existing, "splkit_shim", False)


@contextlib.contextmanager
def scipy_sph_harm() -> Iterator[None]:
    """Make ``from scipy.special import sph_harm`` work inside the block (SciPy >= 1.17: the shim)."""
    global _ACTIVE
    import scipy.special

    if _native_sph_harm():
        yield
        return
    with _LOCK:
        _ACTIVE += 1
        scipy.special.sph_harm = legacy_sph_harm
    try:
        yield
    finally:
        with _LOCK:
            _ACTIVE -= 1
            if _ACTIVE == 0 and getattr(scipy.special, "sph_harm", None) is legacy_sph_harm:
                del scipy.special.sph_harm


def missing_lbp3d_dependencies() -> list[str]:
    """What pyradiomics' LBP3D filter lacks here, even with :func:`scipy_sph_harm` (empty: it runs)."""
    import scipy
    import scipy.special

    missing = []
    if not (_native_sph_harm() or hasattr(scipy.special, "sph_harm_y")):
        missing.append(f"scipy.special.sph_harm or sph_harm_y (installed SciPy {scipy.__version__})")
    if importlib.util.find_spec("scipy.ndimage.interpolation") is None:
        missing.append(f"scipy.ndimage.interpolation (installed SciPy {scipy.__version__})")
    if importlib.util.find_spec("trimesh") is None:
        missing.append("the trimesh package")
    return missing
