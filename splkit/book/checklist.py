"""The CLEAR reporting checklist for radiomics (Kocak et al. 2023): where the book answers each item.

CLEAR (CheckList for EvaluAtion of Radiomics research, Insights into Imaging 2023;14:75,
doi:10.1186/s13244-023-01415-8, CC BY 4.0) has 58 items; their short titles below follow the published
checklist.  Each item has a *kind*:

``book``  answered by the book for any cohort;
``sim``   a fact about real patients that simulated data cannot answer (with your own cohort: report it);
``own``   answered for the simulated cohort, but with your own cohort you must report it;
``na``    not applicable to a book.
"""

from __future__ import annotations

C1 = "[1 Cohort](notebooks/01_cohort.ipynb)"
C2 = "[2 Clinical model](notebooks/02_clinical_model.ipynb)"
C3 = "[3 Radiomics](notebooks/03_radiomics.ipynb)"
C4 = "[4 Deep features](notebooks/04_deep_features.ipynb)"
C5 = "[5 Models](notebooks/05_models.ipynb)"
C6 = "[6 Interpretability](notebooks/06_interpretability.ipynb)"
INTRO = "[Introduction](intro.md)"
METHODS = "[Methods](methods.md)"
DATA = "[Data](data.md)"
OWN = "[Use your own data](own_data.md)"

#: CLEAR item 31 (segmentation reliability) by the reproducibility method chapter 3 used (``results.json``
#: ``radiomics.robustness.method``, :mod:`splkit.radiomics.robustness`); ``None``: not known here.
RELIABILITY = {
    "readers": f"{C3} (ICC between two readers' masks; simulated readers with simulated data).",
    "perturbation": f"{C3} (perturbation robustness: ICC over perturbed copies of the reader-1 mask, as there "
    "were too few second-reader masks or the profile asked for it; inter-reader agreement was not assessed).",
    "none": f"{C3}: not assessed (`radiomics.robustness: none`, no ICC filter).",
    None: f"{C3} (ICC between two readers' masks, or over perturbed copies of the reader-1 mask when there are "
    "too few second-reader masks; the chapter states which).",
}
#: CLEAR item 33 (dimension reduction), likewise.
REDUCTION = {
    method: f"{C3} ({step}Mann–Whitney U, Spearman, LASSO), {C4} (PCA fitted on training)."
    for method, step in (
        ("readers", "inter-reader ICC, "),
        ("perturbation", "perturbation-robustness ICC, "),
        ("none", "no ICC filter; "),
        (None, "ICC, "),
    )
}

#: (number, section, item, kind, where it is answered)
ITEMS: tuple[tuple[int, str, str, str, str], ...] = (
    (
        1,
        "Title",
        "Relevant title, specifying the radiomic methodology",
        "book",
        "The book's title: ultrasound deep learning radiomics.",
    ),
    (
        2,
        "Abstract",
        "Structured summary with relevant information",
        "book",
        f"{INTRO}: cohort, models, headline table generated from the run.",
    ),
    (3, "Keywords", "Relevant keywords for radiomics", "na", "A book, not a journal article."),
    (
        4,
        "Introduction",
        "Scientific or clinical background",
        "book",
        f"{INTRO} (SPLs, radiomics, the reference study).",
    ),
    (5, "Introduction", "Rationale for using a radiomic approach", "book", INTRO),
    (6, "Introduction", "Study objective(s)", "book", INTRO),
    (7, "Study design", "Adherence to guidelines or checklists", "book", "This page."),
    (
        8,
        "Study design",
        "Ethical details (approval, consent, data protection)",
        "sim",
        f"No patients in simulated data. Data protection: input ids are replaced by pseudonyms ({C1}).",
    ),
    (
        9,
        "Study design",
        "Sample size calculation",
        "sim",
        f"The simulated cohort mirrors the paper's size; no power calculation ({DATA}).",
    ),
    (10, "Study design", "Study nature (retrospective, prospective)", "sim", f"Simulated ({DATA})."),
    (11, "Study design", "Eligibility criteria", "sim", "Not defined for simulated patients."),
    (12, "Study design", "Flowchart for technical pipeline", "book", METHODS),
    (13, "Data", "Data source", "own", f"{DATA}; {METHODS} (folder and SHA-256)."),
    (14, "Data", "Data overlap with previous studies", "sim", "None: the data are generated for this run."),
    (
        15,
        "Data",
        "Data split methodology",
        "book",
        f"{C1} (stratified split, `split.*` settings in {METHODS}).",
    ),
    (
        16,
        "Data",
        "Imaging protocol (acquisition and processing)",
        "sim",
        f"The simulated B-mode physics is described in {DATA}; no scanner protocol exists.",
    ),
    (
        17,
        "Data",
        "Definition of non-radiomic predictor variables",
        "book",
        f"{C1} (data dictionary `variables.csv`), {C2}, {OWN}.",
    ),
    (
        18,
        "Data",
        "Definition of the reference standard (outcome)",
        "sim",
        f"The simulated label; a real study names its reference standard (e.g. biopsy) ({DATA}).",
    ),
    (
        19,
        "Segmentation",
        "Segmentation strategy (2D/3D, manual/automatic, software)",
        "own",
        f"2-D masks of simulated readers ({DATA}); masks are inputs ({OWN}).",
    ),
    (20, "Segmentation", "Details of operators performing segmentation", "sim", "Simulated readers."),
    (
        21,
        "Pre-processing",
        "Image pre-processing details",
        "book",
        f"{C3}, {C4} (ROI crop, resizing, normalisation).",
    ),
    (22, "Pre-processing", "Resampling method and its parameters", "book", f"{C3} (preset)."),
    (23, "Pre-processing", "Discretization method and its parameters", "book", f"{C3} (preset)."),
    (24, "Pre-processing", "Image types (original, filtered, transformed)", "book", f"{C3} (preset)."),
    (
        25,
        "Feature extraction",
        "Feature extraction method (software and version)",
        "book",
        f"{C3}; versions in {METHODS}.",
    ),
    (26, "Feature extraction", "Feature classes", "book", C3),
    (27, "Feature extraction", "Number of features", "book", f"{C3}; {INTRO}."),
    (
        28,
        "Feature extraction",
        "Default configuration statement for remaining parameters",
        "book",
        f"{C3}: the preset file states every setting.",
    ),
    (
        29,
        "Data preparation",
        "Handling of missing data",
        "book",
        f"{C1}, {C2} (imputation fitted on training).",
    ),
    (30, "Data preparation", "Details of class imbalance", "book", f"{C1} (malignant share), {C5}."),
    (
        31,
        "Data preparation",
        "Segmentation reliability analysis",
        "book",
        RELIABILITY[None],
    ),
    (32, "Data preparation", "Feature scaling details", "book", f"{C3}, {C5} (z-score fitted on training)."),
    (
        33,
        "Data preparation",
        "Dimension reduction details",
        "book",
        REDUCTION[None],
    ),
    (34, "Modeling", "Algorithm details", "book", f"{C2} (logistic regression), {C5} (SVMs, stacking)."),
    (35, "Modeling", "Training and tuning details", "book", f"{C5}; grids in {METHODS}."),
    (
        36,
        "Modeling",
        "Handling of confounders",
        "sim",
        "The simulator has no confounders beyond the modelled latents; a real cohort must discuss them.",
    ),
    (37, "Modeling", "Model selection strategy", "book", f"{C5} (cross-validated on training only)."),
    (
        38,
        "Evaluation",
        "Testing technique (internal, external)",
        "book",
        f"{C1}, {C5}: internal hold-out validation; no external cohort.",
    ),
    (39, "Evaluation", "Performance metrics and rationale", "book", f"{C5}; {INTRO}."),
    (
        40,
        "Evaluation",
        "Uncertainty evaluation and measures",
        "book",
        f"{C5}: DeLong and bootstrap intervals for AUC, intervals for every threshold metric.",
    ),
    (41, "Evaluation", "Statistical performance comparison", "book", f"{C5} (DeLong tests)."),
    (
        42,
        "Evaluation",
        "Comparison with non-radiomic and combined methods",
        "book",
        f"{C5} (Clinical vs CDLR).",
    ),
    (43, "Evaluation", "Interpretability and explainability methods", "book", f"{C6} (SHAP, Grad-CAM)."),
    (44, "Results", "Baseline demographic and clinical characteristics", "book", f"{C1} (table by cohort)."),
    (45, "Results", "Flowchart for eligibility criteria", "sim", "No recruitment for simulated patients."),
    (46, "Results", "Feature statistics (reproducibility, selection)", "book", C3),
    (47, "Results", "Model performance evaluation", "book", f"{INTRO}, {C5}."),
    (48, "Results", "Comparison with non-radiomic and combined approaches", "book", C5),
    (49, "Discussion", "Overview of important findings", "book", f"Summaries of each chapter; {INTRO}."),
    (
        50,
        "Discussion",
        "Previous works with differences from the current study",
        "book",
        f"{INTRO} (comparison with Wei et al. 2026).",
    ),
    (51, "Discussion", "Practical implications", "sim", "Clinical implications need real patients."),
    (
        52,
        "Discussion",
        "Strengths and limitations",
        "sim",
        f"Limitations of the method are stated in each chapter; those of the evidence need real data ({INTRO}).",
    ),
    (
        53,
        "Open science",
        "Sharing images along with segmentation data [n/e]",
        "own",
        f"Simulated images and masks are regenerated from the seed ({METHODS}).",
    ),
    (
        54,
        "Open science",
        "Sharing radiomic feature data",
        "book",
        "`features/*.parquet` in the run directory.",
    ),
    (
        55,
        "Open science",
        "Sharing pre-processing scripts or settings",
        "book",
        f"splkit's source and the radiomics preset ({C3}, {METHODS}).",
    ),
    (56, "Open science", "Sharing source code for modeling", "book", "splkit's source (`splkit/models`)."),
    (
        57,
        "Open science",
        "Sharing final model files",
        "book",
        "`study/` in the run directory (model card page).",
    ),
    (
        58,
        "Open science",
        "Sharing a ready-to-use system [n/e]",
        "book",
        f"`splkit run` / `splkit book` on any cohort ({OWN}); a research tool, not a clinical device.",
    ),
)

STATUS = {
    ("book", True): "✓ answered",
    ("book", False): "✓ answered",
    ("sim", True): "✗ not with simulated data",
    ("sim", False): "report it for your cohort",
    ("own", True): "✓ answered (simulated data)",
    ("own", False): "report it for your cohort",
    ("na", True): "not applicable",
    ("na", False): "not applicable",
}


#: Items about the clinical arm, and what an imaging-only cohort's book says there instead.
WITHOUT_CLINICAL = {
    42: f"{C5} (Rad and DTL against the DLR).",
    44: f"{C1} (patient counts by cohort and outcome).",
    48: f"{C5} (Rad and DTL against the DLR).",
}


def checklist_markdown(simulated: bool, absence: str = "", robustness: str | None = None) -> str:
    """The CLEAR table for this run; items simulated data cannot answer are marked as such.  ``absence``
    (:func:`splkit.models.available.absence_note`, "" with a clinical arm) is the sentence saying why
    the clinical-arm items point elsewhere; ``robustness`` (``radiomics.robustness.method`` of
    ``results.json``) names the reproducibility method of items 31 and 33."""
    lines = ["| No. | Section | Item | Status | Where in this book |", "|---|---|---|---|---|"]
    by_method = {
        31: RELIABILITY.get(robustness, RELIABILITY[None]),
        33: REDUCTION.get(robustness, REDUCTION[None]),
    }
    for number, section, item, kind, where in ITEMS:
        where = by_method.get(number, where)
        if absence and number in WITHOUT_CLINICAL:
            where = f"{WITHOUT_CLINICAL[number]} {absence}"
        lines.append(f"| {number} | {section} | {item} | {STATUS[(kind, simulated)]} | {where} |")
    n_sim = sum(kind == "sim" for *_, kind, _ in ITEMS)
    n_book = sum(kind == "book" for *_, kind, _ in ITEMS)
    summary = f"{n_book} of {len(ITEMS)} items are answered by the book for any cohort; " + (
        f"{n_sim} concern real patients and cannot be answered with simulated data."
        if simulated
        else f"{n_sim + sum(k == 'own' for *_, k, _ in ITEMS)} must be reported for your cohort."
    )
    return summary + ("\n\n" + absence if absence else "") + "\n\n" + "\n".join(lines) + "\n"
