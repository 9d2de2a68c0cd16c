"""The TRIPOD+AI reporting checklist (Collins et al. 2024): where the book answers each item.

TRIPOD+AI (Collins GS, Moons KGM, Dhiman P, et al. TRIPOD+AI statement: updated guidance for reporting
clinical prediction models that use regression or machine learning methods. BMJ 2024;385:e078378,
doi:10.1136/bmj-2023-078378) has 27 main items, 52 with their sub-items, in eight sections (title,
abstract, introduction, methods, open science, patient and public involvement, results, discussion).
The item texts below are short paraphrases of the published checklist, in its numbering.  Each item has
a *kind*:

``book``   answered by the book for any cohort;
``sim``    a fact about real patients that simulated data cannot answer (with your own cohort: report it);
``own``    answered for the simulated cohort, but with your own cohort you must report it;
``study``  a statement of the study report (funding, registration, ...), not of an analysis.

The CLEAR checklist of radiomics is :mod:`splkit.book.checklist`; the model card
(:mod:`splkit.study.card`) names the TRIPOD+AI items it fills.
"""

from __future__ import annotations

from splkit.book.checklist import C1, C2, C3, C4, C5, C6, DATA, INTRO, METHODS, OWN
from splkit.book.checklist import STATUS as CLEAR_STATUS

CARD = "[Model card](model_card.md)"
CLEAR = "[CLEAR checklist](checklist.md)"
C7_LINK = "[7 External validation](notebooks/07_external_validation.ipynb)"
C7_ABSENT = "chapter 7 (not in this run: it needs an external cohort, `external.path`)"
KINDS = ("book", "sim", "own", "study")

# One item a line: number | topic | item (paraphrased) | kind | where in this book.  "# " starts a section.
_TABLE = """
# Title
1 | Title | Identify the study as developing or evaluating a multivariable prediction model, the target population and the outcome | book | The book's title and {INTRO}: benign vs malignant subpleural pulmonary lesions, from ultrasound and clinical data.
# Abstract
2 | Abstract | A structured summary (see TRIPOD+AI for Abstracts) | book | {INTRO}: cohort, models and headline results generated from the run.
# Introduction
3a | Background | Healthcare context (diagnostic or prognostic), rationale for the model, existing models | book | {INTRO} (SPLs, radiomics, the reference study of Wei et al. 2026).
3b | Background | Target population, intended purpose in the care pathway, intended users | book | {INTRO}; {CARD} (intended use: a research tool, not a clinical device).
3c | Background | Known health inequalities between sociodemographic groups | sim | Not known for simulated patients; a real study reports them from the literature.
4 | Objectives | Study objectives: development, evaluation, or both | book | {INTRO}: development with internal validation ({C5}); external evaluation in {C7}.
# Methods
5a | Data | Sources of data, separately for development and evaluation; rationale; representativeness | sim | Simulated ({DATA}); one cohort split into development and validation ({C1}); {CARD}. No simulated cohort represents real patients.
5b | Data | Dates of participant accrual and, if applicable, end of follow-up | sim | Simulated patients have no dates.
6a | Participants | Study setting; number and location of centres | sim | One simulated centre ({DATA}; {CARD}); a simulated second centre only in {C7}.
6b | Participants | Eligibility criteria | sim | Not defined for simulated patients.
6c | Participants | Treatments received and how they were handled | sim | Not applicable to simulated patients; a diagnostic model at the time of the ultrasound, before treatment.
7 | Data preparation | Data pre-processing and quality checking, and whether similar across sociodemographic groups | book | {C1} (every image and value checked against the data contract), {C3}, {C4} (ROI crop, resizing, normalisation); not examined by sociodemographic group.
8a | Outcome | Definition of the outcome, how and when assessed, rationale, consistency across groups | sim | The simulated label ({DATA}; {CARD}); a real study names its reference standard (e.g. pathology, follow-up).
8b | Outcome | Qualifications and demographics of outcome assessors (subjective assessment) | sim | No assessors for a simulated label.
8c | Outcome | Blinding of outcome assessment | sim | No assessors for a simulated label.
9a | Predictors | Choice of initial predictors and any pre-selection before model building | book | {C1} (data dictionary; variables with more than 30 % missing excluded), {C2} (univariate screening), {C3} (preset features, {ICC_FILTER}), {C4}; {CARD}.
9b | Predictors | Definition of all predictors, how and when measured, blinding of their assessment | own | {C1} (`variables.csv`), {C3} (the preset states every setting), {C4} (backbone and weights); when and how the real values were measured: report it for your cohort.
9c | Predictors | Qualifications and demographics of predictor assessors (subjective measurement) | sim | The lesion masks are drawn by simulated readers ({DATA}); a real study says who segmented.
10 | Sample size | How the study size was arrived at, for development and evaluation, with any calculation | book | {C1}, "Is the training cohort large enough?" (Riley et al.'s criteria for each model's candidate parameters); the simulated size mirrors the paper ({DATA}); the validation size is not justified by a calculation.
11 | Missing data | How missing data were handled; reasons for omitting data | book | {C1}, {C2} (kept as missing, imputed inside each pipeline fitted on training).
12a | Analytical methods | How the data were used (development, evaluation), partitioning, sample size | book | {C1} (stratified split), {C5} (out-of-fold scores, nested cross-validation on training).
12b | Analytical methods | Handling of predictors: functional form, rescaling, transformation, standardisation | book | {C2} (linear terms, dummy coding), {C3} (z-scores fitted on training), {C4} (PCA fitted on training), {C5}.
12c | Analytical methods | Type of model, rationale, all model-building steps, hyperparameter tuning, internal validation | book | {C2} (logistic regression), {C3}, {C4} (selection), {C5} (SVMs, stacking, grid search); grids in {METHODS}; {CARD}.
12d | Analytical methods | Heterogeneity of model parameters and performance across clusters | sim | One simulated centre, no clusters; the case mix of another centre in {C7}.
12e | Analytical methods | All measures and plots of performance (discrimination, calibration, clinical utility) and model comparisons | book | {C5} (AUC, DeLong tests, thresholds, calibration, decision curves, NRI/IDI); {CARD}.
12f | Analytical methods | Model updating (e.g. recalibration) arising from the evaluation | book | No updating in development; recalibration on another centre in {C7}.
12g | Analytical methods | How the model predictions were calculated for the evaluation (formula, code, object, API) | book | {C5} (the saved study rescored from its folder), {OWN} (`splkit predict`).
13 | Class imbalance | Class imbalance methods, why and how, and any recalibration | book | None used: the models are fitted at the observed prevalence ({C1}).
14 | Fairness | Approaches to address model fairness and their rationale | sim | No fairness analysis: simulated patients have no real sociodemographic groups; with your cohort report performance by group.
15 | Model output | The model's output (probabilities, classes); rationale for classification and its thresholds | book | {C5} (probabilities; Youden thresholds chosen on the training cohort); {CARD}.
16 | Training versus evaluation | Differences between development and evaluation data (setting, eligibility, outcome, predictors) | book | {C1} (training vs validation comparison); {C7} (case mix of another centre).
17 | Ethical approval | Ethics committee approval and informed consent or its waiver | sim | No patients in simulated data; input ids are replaced by pseudonyms ({C1}).
# Open science
18a | Funding | Sources of funding and the role of the funders | study | A statement of the study report, not of the analysis.
18b | Conflicts of interest | Conflicts of interest and financial disclosures of all authors | study | A statement of the study report, not of the analysis.
18c | Protocol | Where the study protocol can be accessed, or that none was prepared | study | A statement of the study report; the analysis plan is the profile ({METHODS}).
18d | Registration | Registration of the study (register and number), or that it was not registered | study | A statement of the study report.
18e | Data sharing | Availability of the study data | own | The simulated cohort regenerates from its seed ({DATA}, {METHODS}); `cohort.csv` and `features/*.parquet` in the run directory; with your data: state its availability.
18f | Code sharing | Availability of the analytical code | book | splkit's source; versions, settings and hashes in {METHODS} and the {CARD}.
# Patient and public involvement
19 | Patient and public involvement | Patient and public involvement in design, conduct, reporting, interpretation or dissemination, or none | study | None for a simulated cohort; a real study states it.
# Results
20a | Participants | Flow of participants, with and without the outcome; a diagram may help | own | {C1} (counts by cohort and outcome); no recruitment flow for simulated patients.
20b | Participants | Characteristics overall and per data source: dates, predictors, treatments, sample size, events, missing data | book | {C1} (Table 1 by cohort and outcome, missing values).
20c | Participants | For evaluation: distribution of important predictors compared with the development data | book | {C1} (training vs validation tests); {C7} (Table 1 and membership model).
21 | Model development | Participants and outcome events in each analysis (development, tuning, evaluation) | book | {C1} (split and outcome counts), {C5} (cross-validation folds); {CARD}.
22 | Model specification | The full model (formula, code, object, API) for predictions in new individuals, with access restrictions | book | {C2} (coefficients, nomogram), {C5} (the saved study), {CARD}, {OWN} (`splkit predict`).
23a | Model performance | Performance estimates with confidence intervals, including key subgroups; plots | book | {C5} (every metric with its interval; ROC, calibration and decision curves); {CARD}; no subgroup analysis.
23b | Model performance | Heterogeneity of performance across clusters | sim | One simulated centre; performance on another centre in {C7}.
24 | Model updating | Results of any model updating: the updated model and its performance | book | No updating in development; recalibrated performance on another centre in {C7}.
# Discussion
25 | Interpretation | Overall interpretation of the main results, including fairness, in the light of objectives and previous studies | sim | Each chapter's summary and {INTRO} interpret the method; an interpretation for patients needs real data.
26 | Limitations | Limitations (non-representative sample, sample size, overfitting, missing data) and their effect on bias, uncertainty, generalisability | sim | Limitations of the method in each chapter, of the sample size in {C1}, in the {CARD}; those of the evidence need real data.
27a | Usability | How poor-quality or unavailable input data should be assessed and handled in use | book | {OWN} (the data contract: every problem reported before a run), {C1} (imputation rule), out-of-distribution flags of `splkit predict`; {CARD}.
27b | Usability | Whether users interact with the input data or the model, and the expertise required | book | {OWN}: a reader draws the lesion mask; `splkit run` and `splkit predict` need no programming; {CARD}.
27c | Usability | Next steps for future research: applicability and generalisability | sim | External validation on real patients from other centres ({C7}); see also the {CLEAR}.
"""

SECTIONS = (
    "Title",
    "Abstract",
    "Introduction",
    "Methods",
    "Open science",
    "Patient and public involvement",
    "Results",
    "Discussion",
)

#: The CLEAR page's statuses (book / sim / own), and items only the study report can answer.
STATUS = {key: text for key, text in CLEAR_STATUS.items() if key[0] != "na"} | {
    ("study", True): "state it in the study report",
    ("study", False): "state it in the study report",
}


def _parse(table: str) -> tuple[tuple[str, str, str, str, str, str], ...]:
    items, section = [], ""
    for line in table.strip().splitlines():
        if line.startswith("# "):
            section = line[2:].strip()
            continue
        number, topic, item, kind, where = (part.strip() for part in line.split(" | "))
        items.append((number, section, topic, item, kind, where))
    return tuple(items)


#: (number, section, topic, item, kind, where it is answered) -- ``where`` still holds the link placeholders.
ITEMS = _parse(_TABLE)


def links(external: bool) -> dict[str, str]:
    """The placeholders of ``where``: chapter and page links (chapter 7 only when the run has it)."""
    return {
        "C1": C1,
        "C2": C2,
        "C3": C3,
        "C4": C4,
        "C5": C5,
        "C6": C6,
        "C7": C7_LINK if external else C7_ABSENT,
        "INTRO": INTRO,
        "METHODS": METHODS,
        "DATA": DATA,
        "OWN": OWN,
        "CARD": CARD,
        "CLEAR": CLEAR,
    }


#: Item 9a's name for chapter 3's reproducibility filter, by ``radiomics.robustness.method`` (``None``: not known).
ICC_FILTER = {
    "readers": "inter-reader ICC filter",
    "perturbation": "perturbation-robustness ICC filter, not inter-reader agreement",
    "none": "no ICC filter: reproducibility not assessed",
    None: "ICC filter",
}


def tripod_markdown(simulated: bool, external: bool = False, robustness: str | None = None) -> str:
    """The TRIPOD+AI table for this run, one section heading row per section.

    Parameters
    ----------
    simulated
        Whether the run analysed the simulated cohort: items about real patients are marked as such.
    external
        Whether the run has chapter 7 (an external cohort); otherwise chapter 7 is named, not linked.
    robustness
        The reproducibility method chapter 3 used (``results.json`` ``radiomics.robustness.method``).
    """
    where_links = links(external) | {"ICC_FILTER": ICC_FILTER.get(robustness, ICC_FILTER[None])}
    lines = ["| No. | Topic | Item | Status | Where in this book |", "|---|---|---|---|---|"]
    section = None
    for number, sec, topic, item, kind, where in ITEMS:
        if sec != section:
            section = sec
            lines.append(f"| | **{sec}** | | | |")
        status = STATUS[(kind, simulated)]
        lines.append(f"| {number} | {topic} | {item} | {status} | {where.format(**where_links)} |")
    counts = {kind: sum(k == kind for *_, k, _ in ITEMS) for kind in KINDS}
    summary = (
        f"{counts['book']} of {len(ITEMS)} items are answered by the book for any cohort; "
        + (
            f"{counts['own']} are answered for the simulated cohort but must be reported for a real one; "
            f"{counts['sim']} concern real patients and cannot be answered with simulated data; "
            if simulated
            else f"{counts['sim'] + counts['own']} must be reported for your cohort; "
        )
        + f"{counts['study']} are statements of the study report (funding, interests, protocol, "
        "registration, patient and public involvement)."
    )
    return summary + "\n\n" + "\n".join(lines) + "\n"
