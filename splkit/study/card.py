"""The model card of a fitted study: what it is for, what it was trained on, how well it did, and its limits.

:func:`model_card` writes Markdown (``model_card.md``, written by :meth:`splkit.study.Study.save` beside
the manifest) in the spirit of Mitchell et al., *Model Cards for Model Reporting* (FAT* 2019), and says
which items of the TRIPOD+AI statement it fills (Collins et al., BMJ 2024;385:e078378).  Numbers come
from the run's ``results.json`` (``cohort.*``, ``deep.*``, ``models.<Model>.<cohort>.*``) and the study's
manifest; they are formatted by :mod:`splkit.book.format`, model names follow :mod:`splkit.run.names`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from splkit.book.format import NOT_RECORDED, absent, fmt, fmt_ci, fmt_p, markdown_table, with_undefined_note
from splkit.run.names import CLINICAL_SVM, COHORT_LABELS, IN_SAMPLE, model_order

#: The TRIPOD+AI statement (Collins et al. 2024), cited by the card.
TRIPOD_AI = (
    "Collins GS, Moons KGM, Dhiman P, et al. TRIPOD+AI statement: updated guidance for reporting clinical "
    "prediction models that use regression or machine learning methods. BMJ 2024;385:e078378. "
    "doi:10.1136/bmj-2023-078378"
)
#: The card's sections, in order (a test checks them).
SECTIONS = (
    "Intended use",
    "Training data",
    "Models and their inputs",
    "Validation performance",
    "Calibration",
    "Known limitations",
    "Versions and hashes",
    "TRIPOD+AI items this card fills",
)
#: TRIPOD+AI items (number, topic) and the section of the card that reports them (fully or in part).
TRIPOD_ITEMS = (
    ("3b", "target population, intended purpose and users", "Intended use"),
    ("5a", "sources of data, development and evaluation", "Training data"),
    ("6a", "setting, number and location of centres", "Training data"),
    ("8a", "outcome", "Intended use"),
    ("9a", "predictors", "Models and their inputs"),
    ("12c", "type of model, model-building steps, hyperparameters", "Models and their inputs"),
    ("12e", "performance measures", "Validation performance, Calibration"),
    ("15", "model output and classification thresholds", "Models and their inputs"),
    ("18f", "availability of the analytical code (versions, hashes)", "Versions and hashes"),
    ("21", "participants and outcome events in each analysis", "Training data, Validation performance"),
    ("22", "full model specification (the saved study)", "Models and their inputs, Versions and hashes"),
    ("23a", "performance with confidence intervals", "Validation performance, Calibration"),
    ("26", "limitations", "Known limitations"),
    ("27a", "handling poor-quality or unavailable input data", "Known limitations"),
)
#: The metrics of the performance table: (results key, interval keys or None, heading).
METRICS = (
    ("auc", ("auc_delong_low", "auc_delong_high"), "AUC (95 % CI, DeLong)"),
    ("sensitivity", None, "sensitivity"),
    ("specificity", None, "specificity"),
    ("ppv", None, "PPV"),
    ("npv", None, "NPV"),
    ("accuracy", None, "accuracy"),
)


def _get(mapping: Any, dotted: str, default: Any = None) -> Any:
    for key in dotted.split("."):
        if not isinstance(mapping, Mapping) or key not in mapping:
            return default
        mapping = mapping[key]
    return mapping


def _kind(name: str) -> str:
    if name == "Clinical":
        return "logistic regression (chapter 2)"
    if name == CLINICAL_SVM:
        return "SVM on the clinical predictors"
    if name in ("CDLR", IN_SAMPLE):
        return "stacked SVM: DLR score + clinical predictors"
    return "SVM (Platt probabilities)"


def _inputs(study: Any, name: str) -> list[str]:
    if name == "Clinical":
        return list(study.clinical.predictors_) if study.clinical is not None else []
    return list(study.models.inputs_.get(name, []))


def _performance(results: Mapping[str, Any], names: list[str], cohort: str) -> tuple[str, str] | None:
    """The discrimination and calibration tables of one cohort (``None`` when nothing was recorded)."""
    rows = {m: _get(results, f"models.{m}.{cohort}") for m in names}
    rows = {m: r for m, r in rows.items() if isinstance(r, Mapping)}
    if not rows:
        return None
    header = ["model", "patients (positive)", *(heading for _, _, heading in METRICS)]
    table = [
        [
            m,
            f"{fmt(r.get('n'))} ({fmt(r.get('n_positive'))})",
            *(fmt_ci(r, key, *(bounds or (None, None))) for key, bounds, _ in METRICS),
        ]
        for m, r in rows.items()
    ]
    calibration = [
        [
            m,
            *(fmt(r.get(k), missing=absent(r, k)) for k in ("cal_intercept", "cal_slope", "brier")),
            fmt_p(r.get("hl_p"), missing=absent(r, "hl_p")),
        ]
        for m, r in rows.items()
    ]
    tables = [
        markdown_table(header, table),
        markdown_table(
            ["model", "calibration intercept", "calibration slope", "Brier score", "Hosmer–Lemeshow p"],
            calibration,
        ),
    ]
    return tuple(with_undefined_note(t) for t in tables)


def model_card(study: Any, results: Mapping[str, Any] | None = None) -> str:
    """The study's model card (Markdown).

    Parameters
    ----------
    study
        A fitted (or loaded) :class:`~splkit.study.Study`; its manifest gives the versions and hashes
        (after :meth:`~splkit.study.Study.save`).
    results
        The run's ``results.json`` content (default: the sections the study keeps, ``study.results``).

    Returns
    -------
    str
        Markdown with the sections of :data:`SECTIONS`.
    """
    results = study.results if results is None else results
    settings, manifest = study.settings, study.manifest
    names = model_order(study.model_names)
    positive = study.training.get("positive_label") or _get(settings, "data.positive_label", "malignant")
    simulated = bool(_get(settings, "data.simulate", False))
    lines = [
        "# Model card",
        "",
        f"Fitted study `{settings.get('name', '')}` (splkit {fmt(_get(manifest, 'versions.splkit'))}, "
        f"saved {manifest.get('created') or NOT_RECORDED}).",
        "",
    ]
    lines += _intended_use(positive, simulated, names, clinical_arm=study.clinical is not None)
    lines += _training_data(study, results, simulated)
    lines += _models(study, names)
    lines += _validation(results, names)
    lines += _limitations(study, results, simulated)
    lines += _versions(manifest)
    lines += ["## TRIPOD+AI items this card fills", ""]
    lines.append(
        markdown_table(["item", "topic", "section of this card"], [list(item) for item in TRIPOD_ITEMS])
    )
    lines += [
        "The other items (title, abstract, ethics, participant flow, subgroup and fairness analyses, patient "
        "and public involvement, …) belong to the study report, not to the model.",
        "",
        f"Reference: {TRIPOD_AI}",
        "",
    ]
    return "\n".join(lines)


def _intended_use(positive: str, simulated: bool, names: list[str], clinical_arm: bool = True) -> list[str]:
    inputs = (
        "the B-mode image, the lesion mask drawn by a reader and the clinical predictors listed below"
        if clinical_arm
        else "the B-mode image and the lesion mask drawn by a reader (the cohort has no clinical variables)"
    )
    use = [
        "## Intended use",
        "",
        f"The models estimate the probability that a subpleural pulmonary lesion (SPL) seen on ultrasound is "
        f"**{positive}** (label 1; the outcome is the reference standard of the training data, e.g. biopsy), "
        f"from {inputs}. "
        "Intended users: researchers and students reproducing or extending the deep-learning radiomics "
        "workflow of this book. The output is a probability and a 0/1 call at the training cohort's Youden "
        "threshold, for each of: " + ", ".join(names) + ".",
        "",
        "**Not for clinical use.** The models have not been validated prospectively, nor in other centres, "
        "and must not guide the care of any patient.",
        "",
    ]
    if simulated:
        use += [
            "**These models were trained on simulated images and clinical data**: they describe no real "
            "patient population.",
            "",
        ]
    return use


def _training_data(study: Any, results: Mapping[str, Any], simulated: bool) -> list[str]:
    cohort = results.get("cohort", {}) if isinstance(results, Mapping) else {}
    n_train = cohort.get("n_train", study.training.get("n_train"))
    train = next(
        (_get(results, f"models.{m}.train") for m in study.model_names if _get(results, f"models.{m}.train")),
        {},
    )
    prevalence = (
        f"{fmt(train['n_positive'])} of {fmt(train['n'])} ({100 * train['n_positive'] / train['n']:.1f} %)"
        if train.get("n")
        else NOT_RECORDED
    )
    overall = cohort.get("malignant_share")
    rows = [
        ["training patients", fmt(n_train)],
        ["validation patients (held out, same source)", fmt(cohort.get("n_validation"))],
        ["external patients", fmt(cohort.get("n_external"), missing="none")],
        ["positive in the training cohort", prevalence],
        ["positive overall", f"{100 * overall:.1f} %" if isinstance(overall, float) else NOT_RECORDED],
        ["centres", "one data folder; the data contract records no centre, so a single centre is assumed"],
        ["simulated data", fmt(simulated)],
        ["pixel spacing", fmt(cohort.get("spacing_source", study.training.get("spacing_source")))],
        ["clinical rows with missing values", fmt(cohort.get("rows_with_missing"))],
        ["training data sha256", f"`{study.training.get('data_sha256') or NOT_RECORDED}`"],
    ]
    return ["## Training data", "", markdown_table(["", "value"], rows)]


def _models(study: Any, names: list[str]) -> list[str]:
    thresholds, params = study.thresholds, study.models.best_params_
    rows = []
    for name in names:
        inputs = _inputs(study, name)
        shown = ", ".join(f"`{c}`" for c in inputs) if inputs else NOT_RECORDED
        tuned = ", ".join(f"{k} = {fmt(v)}" for k, v in params.get(name, {}).items()) or "—"
        rows.append([name, _kind(name), f"{len(inputs)}: {shown}", fmt(thresholds.get(name)), tuned])
    deep = study.deep.describe()
    absent = getattr(study, "absent", None) or {}
    missing = (
        ["Absent models: " + "; ".join(f"{m} ({why})" for m, why in absent.items()) + ".", ""]
        if absent
        else []
    )
    return [
        "## Models and their inputs",
        "",
        markdown_table(["model", "kind", "inputs", "training threshold (Youden)", "hyperparameters"], rows),
        *missing,
        f"Radiomics candidates: preset `{study.radiomics.describe().get('preset')}`; DTL features: "
        f"{deep['backbone']} ({deep['weights']} weights), {deep['compression']}, {fmt(deep['n_features'])} "
        "features. A patient is called positive when its probability is at or above the threshold.",
        "",
    ]


def _validation(results: Mapping[str, Any], names: list[str]) -> list[str]:
    performance, calibration = ["## Validation performance", ""], ["## Calibration", ""]
    for cohort in ("validation", "external"):
        tables = _performance(results, names, cohort)
        if tables is None:
            continue
        label = COHORT_LABELS[cohort]
        performance += [
            f"{label} cohort (95 % confidence intervals; thresholds fixed on training):",
            "",
            tables[0],
        ]
        calibration += [f"{label} cohort (intercept 0 and slope 1 are ideal):", "", tables[1]]
    if len(performance) == 2:
        performance += [f"Validation performance: {NOT_RECORDED}.", ""]
        calibration += [f"Calibration: {NOT_RECORDED}.", ""]
    return performance + calibration


def _limitations(study: Any, results: Mapping[str, Any], simulated: bool) -> list[str]:
    deep = results.get("deep", {}) if isinstance(results, Mapping) else {}
    n_valid, n_external = _get(results, "cohort.n_validation"), _get(results, "cohort.n_external")
    items = []
    if simulated:
        items.append(
            "**Simulated data**: images and clinical values come from the book's generator; the "
            "performance says nothing about real patients."
        )
    deep = {**study.deep.describe(), **deep}  # the run's record first, else the fitted stage's
    if deep.get("fallback"):
        items.append(
            f"**Fallback backbone**: {deep.get('backbone_requested')} was requested but "
            f"{deep.get('backbone')} was used ({deep.get('fallback_reason') or 'weights unavailable'})."
        )
    if deep.get("weights") == "random":
        items.append("**Random backbone weights**: the DTL features are not ImageNet features.")
    if deep.get("finetune"):
        items.append(
            "**Fine-tuned network**: training-cohort scores are optimistic (features learnt on labels)."
        )
    if isinstance(n_external, int | float) and n_external > 0:  # the cohort column's other centre
        held = f"{fmt(n_valid)} validation and {fmt(n_external)} external patients"
        items.append(
            "**Centres**: the external patients come from another source than the training patients; "
            "performance in further centres, scanners and populations is unknown."
        )
    else:
        held = f"{fmt(n_valid)} validation patients"
        items.append(
            "**Single centre**: validation patients come from the same source as the training patients "
            "(internal validation); performance in other centres, scanners and populations is unknown."
        )
    items += [
        f"**Sample size**: {held}; the confidence intervals are wide and the "
        "selection of features on a small training cohort is unstable.",
        "**Input data**: a missing clinical predictor, a missing or different backbone weights file or an "
        "image outside the radiomics preset's constraints is an error, never a silent guess; missing values "
        "within a predictor are imputed with training medians / modes. Check new patients against the "
        "training ranges before trusting a probability (out-of-distribution flags).",
        "**Explanations** (SHAP, Grad-CAM) explain the models, not the disease.",
    ]
    return ["## Known limitations", "", *(f"- {item}" for item in items), ""]


def _versions(manifest: Mapping[str, Any]) -> list[str]:
    versions = manifest.get("versions", {})
    rows = [[name, fmt(version, missing="not installed")] for name, version in versions.items()]
    radiomics, deep, training = (
        manifest.get("radiomics", {}),
        manifest.get("deep", {}),
        manifest.get("training", {}),
    )
    hashes = [
        ["radiomics preset", f"{radiomics.get('preset')}", f"`{radiomics.get('preset_sha256')}`"],
        ["backbone weights", f"{deep.get('weights_file')}", f"`{deep.get('weights_sha256')}`"],
        ["training data", "cohort folder", f"`{training.get('data_sha256')}`"],
    ]
    hashes += [["study file", name, f"`{digest}`"] for name, digest in manifest.get("files", {}).items()]
    if not manifest:
        return ["## Versions and hashes", "", "The study has not been saved yet: no manifest.", ""]
    return [
        "## Versions and hashes",
        "",
        markdown_table(["library", "version"], rows),
        markdown_table(["what", "name", "sha256"], hashes),
    ]
