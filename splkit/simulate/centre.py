"""Where a simulated cohort was acquired: the development centre (the default) or an external one.

An external validation cohort differs from the development cohort in ways a real second hospital would
(Debray et al., J Clin Epidemiol 2015;68:279-289; Van Calster et al., BMC Med 2019;17:230): another
scanner set-up (a higher receive gain and a coarser display pixel spacing), another case mix (older
patients) and another prevalence of malignancy.  The disease model itself -- how the label acts on the
images and the clinical variables -- is the same, so a model that learnt the disease should transport,
and what changes is what a validation study is meant to detect: calibration-in-the-large (prevalence),
calibration slope and discrimination (scanner, case mix).

The development centre's values are the generator's defaults: passing :data:`DEVELOPMENT` changes
nothing in the output (``GENERATOR_VERSION`` rules: the default cohort is byte-identical).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from splkit.simulate.clinical import MALIGNANT_SHARE


@dataclass(frozen=True)
class Centre:
    """The acquisition site of a simulated cohort.

    Attributes
    ----------
    name
        ``development`` (the default cohort) or e.g. ``external``.
    malignant_share
        Prevalence of malignancy (label 1).
    gain_db
        Receive gain added to every image (dB; the operator's random gain varies around it).
    pixel_mm
        Display pixel spacing (mm; isotropic).
    age_shift_years
        Added to the mean age of the clinical model (case mix).
    id_prefix
        Prefix of the input-style patient ids (``SIM-2021-12345``), so centres never share an id.
    """

    name: str = "development"
    malignant_share: float = MALIGNANT_SHARE
    gain_db: float = 0.0
    pixel_mm: float = 0.25
    age_shift_years: float = 0.0
    id_prefix: str = "SIM"

    @property
    def is_development(self) -> bool:
        return self == DEVELOPMENT

    def describe(self) -> dict:
        """The centre's parameters (for ``simulation.yaml``)."""
        return asdict(self)


#: The development centre: the generator's defaults.
DEVELOPMENT = Centre()
#: A second hospital: another scanner set-up (+4 dB gain, 0.30 mm pixels), older patients, fewer malignancies.
EXTERNAL = Centre(
    name="external", malignant_share=0.45, gain_db=4.0, pixel_mm=0.30, age_shift_years=4.0, id_prefix="EXT"
)
#: The centres by name (``external.centre`` in a profile).
CENTRES = {c.name: c for c in (DEVELOPMENT, EXTERNAL)}


def centre_named(name: str | Centre) -> Centre:
    """The centre called ``name`` (a :class:`Centre` is returned as is)."""
    if isinstance(name, Centre):
        return name
    try:
        return CENTRES[name]
    except KeyError:
        raise ValueError(f"unknown simulated centre {name!r}; known: {', '.join(CENTRES)}") from None
