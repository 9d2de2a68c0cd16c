"""The SciPy ``sph_harm`` shim for pyradiomics' LBP3D: values, convention and scope."""

import numpy as np
import pytest
import scipy.special

from splkit.radiomics import compat

# old convention: sph_harm(m, n, theta, phi) with theta azimuthal and phi polar
AZIMUTH = np.linspace(0.0, 2 * np.pi, 13)
POLAR = np.linspace(0.0, np.pi, 13)


@pytest.mark.parametrize(
    ("m", "n", "closed_form"),
    [
        (0, 0, lambda az, po: np.full_like(po, 1 / (2 * np.sqrt(np.pi)), dtype=complex)),
        (0, 1, lambda az, po: np.sqrt(3 / (4 * np.pi)) * np.cos(po)),
        (1, 1, lambda az, po: -np.sqrt(3 / (8 * np.pi)) * np.sin(po) * np.exp(1j * az)),
        (-1, 1, lambda az, po: np.sqrt(3 / (8 * np.pi)) * np.sin(po) * np.exp(-1j * az)),
        (2, 2, lambda az, po: np.sqrt(15 / (32 * np.pi)) * np.sin(po) ** 2 * np.exp(2j * az)),
    ],
)
def test_legacy_sph_harm_equals_closed_forms(m, n, closed_form):
    az, po = np.meshgrid(AZIMUTH, POLAR)
    np.testing.assert_allclose(compat.legacy_sph_harm(m, n, az, po), closed_form(az, po), atol=1e-12)


def test_legacy_sph_harm_broadcasts_like_pyradiomics_calls_it():
    """pyradiomics passes scalar m, n and one angle per icosphere vertex."""
    theta, phi = np.array([0.1, 1.0, 2.0]), np.array([0.3, 1.2, 2.9])
    values = compat.legacy_sph_harm(0, 0, theta, phi)
    assert values.shape == (3,) and np.iscomplexobj(values)


def test_equals_scipy_sph_harm_where_scipy_still_has_it():
    native = getattr(scipy.special, "sph_harm", None)
    if native is None or getattr(native, "splkit_shim", False):
        pytest.skip("this SciPy has no sph_harm of its own")
    az, po = np.meshgrid(AZIMUTH, POLAR)
    for n in range(3):
        for m in range(-n, n + 1):
            np.testing.assert_allclose(compat.legacy_sph_harm(m, n, az, po), native(m, n, az, po), atol=1e-12)


def test_shim_is_scoped_to_the_block():
    had = hasattr(scipy.special, "sph_harm")
    before = getattr(scipy.special, "sph_harm", None)
    with compat.scipy_sph_harm():
        from scipy.special import sph_harm

        assert sph_harm(0, 1, 0.0, 0.0) == pytest.approx(np.sqrt(3 / (4 * np.pi)))
        with compat.scipy_sph_harm():  # nested / concurrent extractions
            pass
        assert hasattr(scipy.special, "sph_harm")
    assert hasattr(scipy.special, "sph_harm") == had
    assert getattr(scipy.special, "sph_harm", None) is before


def test_native_sph_harm_is_left_alone(monkeypatch):
    def native(m, n, theta, phi):
        return "native"

    monkeypatch.setattr(scipy.special, "sph_harm", native, raising=False)
    with compat.scipy_sph_harm():
        assert scipy.special.sph_harm is native
    assert scipy.special.sph_harm is native


def test_shim_removed_after_an_error():
    before = getattr(scipy.special, "sph_harm", None)
    with pytest.raises(ZeroDivisionError), compat.scipy_sph_harm():
        1 / 0  # noqa: B018
    assert getattr(scipy.special, "sph_harm", None) is before


def test_missing_lbp3d_dependencies_names_trimesh(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "trimesh" else real(name, *a)
    )
    assert "the trimesh package" in compat.missing_lbp3d_dependencies()
