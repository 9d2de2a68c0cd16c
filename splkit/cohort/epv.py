"""Events per candidate parameter (EPV) and the small-cohort rule of chapter 1.

EPV is the number of patients in the *smaller* outcome class of the training cohort (the "events" of
Peduzzi et al. 1996, whichever class that is) divided by the candidate predictor parameters of a model
(:func:`splkit.cohort.chapter.candidate_parameters`).  Riley et al. (BMJ 2020;368:m441) show that no
single EPV suffices -- chapter 1's sample-size table applies their criteria -- but EPV remains the
number readers check first, and a very low one means unstable selection and wide intervals.

The rule (:func:`assess`), decided here once:

* **warning** (a small cohort): the Clinical model has fewer than :data:`RELAXED_EPV` (5) events per
  candidate parameter, below which Vittinghoff & McCulloch (2007) found bias and poor confidence
  interval coverage common; or the training cohort is smaller than Riley et al.'s criterion 3, i.e. even
  the overall risk cannot be estimated within ± 0.05.  The chapter then says every model will overfit
  and that intervals will be wide, with the interval a sensitivity of 0.80 would have on the
  validation cohort's positives (Wilson 1927) as an example;
* **caution**: the Clinical model's EPV lies between 5 and :data:`PEDUZZI_EPV` (10; Peduzzi et al.
  1996);
* otherwise nothing is flagged.

Rad, DTL and the fused models are not flagged by EPV: their hundreds of candidates are searched by
penalised (LASSO) or margin-based (SVM) fitting, for which EPV is no guide; their EPV is still shown.

References: Peduzzi P, Concato J, Kemper E, Holford TR, Feinstein AR. J Clin Epidemiol
1996;49:1373-1379. Vittinghoff E, McCulloch CE. Am J Epidemiol 2007;165:710-718. Riley RD et al. BMJ
2020;368:m441.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

from splkit.book.format import fmt
from splkit.stats.thresholds import wilson_interval

#: Peduzzi et al. (1996): at least 10 events per candidate parameter.
PEDUZZI_EPV = 10.0
#: Vittinghoff & McCulloch (2007): 5-9 often acceptable; below 5, bias and poor coverage are common.
RELAXED_EPV = 5.0
#: The sensitivity whose validation interval illustrates how wide intervals will be.
EXAMPLE_SENSITIVITY = 0.8
#: The levels of :attr:`SmallCohort.level`.
NONE, CAUTION, WARNING = "none", "caution", "warning"

REFERENCES = (
    "Peduzzi et al., J Clin Epidemiol 1996;49:1373-1379; Vittinghoff & McCulloch, Am J Epidemiol "
    "2007;165:710-718; Riley et al., BMJ 2020;368:m441"
)


@dataclass
class SmallCohort:
    """What :func:`assess` decided: the level, why, and the numbers behind it."""

    level: str
    reasons: list[str]
    epv: dict[str, float]
    minority: int
    minority_class: str
    n_train: int
    n_overall_risk: int
    validation_positives: int
    example_interval: tuple[float, float] | None = field(default=None)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["example_interval"] = list(self.example_interval) if self.example_interval else None
        return out


def assess(
    n_train: int,
    events: int,
    parameters: Mapping[str, int],
    n_overall_risk: int,
    validation_positives: int,
    positive: str = "positive",
    negative: str = "negative",
) -> SmallCohort:
    """Apply the rule of the module docstring.

    ``events``: training patients with label 1; ``parameters``: candidate parameters per model (a
    ``Clinical`` entry only when the cohort has clinical variables); ``n_overall_risk``: Riley et al.'s
    criterion-3 minimum; ``validation_positives``: validation patients with label 1."""
    minority = min(events, n_train - events)
    minority_class = positive if events <= n_train - events else negative
    epv = {m: minority / p for m, p in parameters.items() if p > 0}
    reasons, level = [], NONE
    clinical = epv.get("Clinical")
    if clinical is not None and clinical < RELAXED_EPV:
        level = WARNING
        reasons.append(f"Clinical EPV {clinical:.1f} < {RELAXED_EPV:g}")
    elif clinical is not None and clinical < PEDUZZI_EPV:
        level = CAUTION
        reasons.append(f"Clinical EPV {clinical:.1f} < {PEDUZZI_EPV:g}")
    if n_train < n_overall_risk:
        level = WARNING
        reasons.append(f"n_train {n_train} < {n_overall_risk} (Riley criterion 3)")
    interval = None
    if level == WARNING and validation_positives > 0:
        interval = wilson_interval(example_detected(validation_positives), validation_positives)
    return SmallCohort(
        level,
        reasons,
        epv,
        minority,
        minority_class,
        n_train,
        n_overall_risk,
        validation_positives,
        interval,
    )


def example_detected(positives: int) -> int:
    """The positives a model of sensitivity :data:`EXAMPLE_SENSITIVITY` detects (rounded half up)."""
    return int(EXAMPLE_SENSITIVITY * positives + 0.5)


def _epv(value: float) -> str:
    return f"{value:.1f}" if value >= 1 else f"{value:.2g}"


def _epv_list(epv: Mapping[str, float], parameters: Mapping[str, int]) -> str:
    return ", ".join(f"{m} {_epv(epv[m])} ({parameters[m]} parameters)" for m in epv)


def markdown(result: SmallCohort, parameters: Mapping[str, int]) -> str:
    """The chapter's sentence(s): empty when nothing is flagged."""
    if result.level == NONE:
        return ""
    counted = (
        f"{result.minority} {result.minority_class} patients, the smaller outcome class of the "
        f"{result.n_train} training patients"
    )
    if result.level == CAUTION:
        return (
            f"**Events per candidate parameter (EPV).** The training cohort has {counted}: "
            f"{_epv_list(result.epv, parameters)}. The Clinical model's EPV is below the 10 of Peduzzi et al. "
            "(1996) but above the 5 below which Vittinghoff & McCulloch (2007) found bias and poor interval "
            "coverage common: expect some overfitting of its coefficients (chapter 5's optimism correction "
            "estimates how much). Rad, DTL and the fused models search hundreds of candidates by penalised "
            "selection, for which EPV is no guide; the table above is the better measure for them."
        )
    clinical = result.epv.get("Clinical")
    why = []
    if clinical is not None and clinical < RELAXED_EPV:
        why.append(
            f"{clinical:.1f} events per candidate parameter for the Clinical model, below the 10 of Peduzzi "
            "et al. (1996) and even the 5 of Vittinghoff & McCulloch (2007)"
        )
    if result.n_train < result.n_overall_risk:
        why.append(
            f"{result.n_train} training patients, fewer than the {result.n_overall_risk} Riley et al.'s "
            "criterion 3 needs to estimate even the overall risk within ± 0.05"
        )
    text = (
        f"> **Warning: a small cohort.** The training cohort has {counted}; EPV {_epv_list(result.epv, parameters)}. "
        f"That is {'; and '.join(why)}. Every model will overfit, the selected predictors and features will be "
        "unstable from one resample to the next, and **confidence intervals will be wide**"
    )
    if result.example_interval:
        low, high = result.example_interval
        n = result.validation_positives
        k = example_detected(n)
        text += (
            f": a model that detects {k} of the {n} positive validation patients (sensitivity "
            f"{fmt(k / n)}) has a 95 % Wilson interval of {fmt(low)}–{fmt(high)} for its sensitivity"
        )
    return text + ". Read the results as a demonstration of the analysis, not as estimates to act on."
